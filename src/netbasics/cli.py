"""The ``netbasics`` command line (also ``python -m netbasics``).

Exit codes: 0 everything fine, 1 some input was bad (or a target unreachable/unsafe),
2 usage error. Errors go to stderr as one line each; data goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from .classify import AddressInfo, classify
from .errors import NetbasicsError

__all__ = ["main"]

PROG = "netbasics"


def _inputs(values: list[str], stdin: TextIO) -> Iterator[tuple[str, str]]:
    """Yield ``(where, text)`` for each argument, reading stdin lazily for ``-``."""
    for value in values:
        if value == "-":
            for lineno, line in enumerate(stdin, 1):
                text = line.strip()
                if text and not text.startswith("#"):
                    yield f"stdin line {lineno}", text
        else:
            yield "argument", value


def _info_json(text: str, info: AddressInfo) -> str:
    entry = info.entry
    return json.dumps(
        {
            "input": text,
            "address": str(info.address),
            "version": info.address.version,
            "category": info.category.value,
            "globally_reachable": info.globally_reachable,
            "entry": None
            if entry is None
            else {"prefix": entry.prefix, "name": entry.name, "rfc": entry.rfc, "registry": entry.registry},
        }
    )


def _info_line(info: AddressInfo) -> str:
    entry = info.entry
    reach = "global" if info.globally_reachable else "not-global"
    where = f"{entry.prefix} {entry.name} ({entry.rfc})" if entry is not None else "-"
    return f"{info.address!s:<25} IPv{info.address.version}  {info.category.value:<19} {reach:<10}  {where}"


def _cmd_classify(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    status = 0
    counts: dict[str, int] = {}
    write = out.write
    for where, text in _inputs(args.addresses, stdin):
        try:
            info = classify(text)
        except NetbasicsError as exc:
            err.write(f"{PROG} classify: {where}: {exc}\n")
            status = 1
            continue
        if args.summary:
            counts[info.category.value] = counts.get(info.category.value, 0) + 1
            continue
        write((_info_json(text, info) if args.json else _info_line(info)) + "\n")
    if args.summary:
        if args.json:
            write(json.dumps(counts, sort_keys=True) + "\n")
        else:
            for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                write(f"{count:>10}  {name}\n")
    return status


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Everyday network checks: classify addresses, ports, networks, probe and serve.",
        epilog="Exit status: 0 ok, 1 some inputs bad or unreachable, 2 usage error.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "classify",
        help="classify IP addresses by the IANA special-purpose registries",
        description="Classify IPv4/IPv6 addresses. Use - to read one address per line from stdin.",
    )
    p.add_argument("addresses", nargs="+", metavar="ADDRESS", help="an address, or - for stdin")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")
    p.add_argument("--summary", action="store_true", help="print counts per category instead of one line each")
    p.set_defaults(func=_cmd_classify)
    return parser


def main(argv: Iterable[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(None if argv is None else list(argv))
    try:
        status: int = args.func(args, sys.stdout, sys.stderr, sys.stdin)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as Unix tools do. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130
    return status
