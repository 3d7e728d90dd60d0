"""Run the netbasics command in-process for the CLI tests: one helper for every CLI test file."""

from __future__ import annotations

import io
import sys

from netbasics.cli import main


def run(argv: list[str], stdin: str = "", *, stdin_bytes: bytes | None = None) -> tuple[int, str, str]:
    """``(exit status, stdout, stderr)`` of ``netbasics *argv`` with ``stdin`` as its input.

    ``stdin_bytes`` feeds raw bytes instead, through a binary buffer as a real stdin has.
    """
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    given: io.TextIOBase = io.StringIO(stdin)
    if stdin_bytes is not None:
        given = io.TextIOWrapper(io.BufferedReader(io.BytesIO(stdin_bytes)), encoding="utf-8", errors="surrogateescape")
    sys.stdin, sys.stdout, sys.stderr = given, out, err
    try:
        code = main(argv)
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()
