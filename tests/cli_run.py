"""Run the netbasics command in-process for the CLI tests: one helper for every CLI test file."""

from __future__ import annotations

import io
import sys

from netbasics.cli import main


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    """``(exit status, stdout, stderr)`` of ``netbasics *argv`` with ``stdin`` as its input."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        code = main(argv)
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()
