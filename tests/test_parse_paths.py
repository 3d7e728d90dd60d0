"""The two parsing paths agree: the C library's inet_pton fast path and the pure-Python rules.

netbasics uses inet_pton only when it agrees with the pure parsers on a table of tricky
cases at import (``_parse.PTON``). These properties check the agreement much more widely,
so a C library that differs in some corner is caught here rather than by a user.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from socket import AF_INET, AF_INET6

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbasics import _parse
from test_parse import any_texts, near_valid_texts, valid_texts


def _both(family: int, text: str) -> tuple[int | None, int | None]:
    return _parse._pton_value(family, text), _parse._pure_value(family, text)


@settings(max_examples=2000)
@given(st.one_of(near_valid_texts(), valid_texts(), any_texts))
def test_inet_pton_agrees_with_the_pure_parsers(text: str) -> None:
    for family in (AF_INET, AF_INET6):
        fast, pure = _both(family, text)
        if "%" in text:
            # The fast paths try inet_pton first and look for a zone only when it fails.
            assert fast is None, (family, text)
        else:
            assert fast == pure, (family, text)


def test_an_inet_pton_that_drops_zones_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.inet_pton

    def lenient(family: int, text: str) -> bytes:
        return real(family, text.partition("%")[0])

    monkeypatch.setattr(_parse, "inet_pton", lenient)
    assert not _parse._pton_agrees()


def test_fast_path_is_on_here_or_explained() -> None:
    # On glibc the C parser agrees with ours; elsewhere the pure parser runs, which is
    # correct but slower. Either way the flag reflects the agreement check.
    assert _parse._pton_agrees() == _parse.PTON


def test_pure_parser_can_be_forced() -> None:
    code = "import netbasics._parse as p, netbasics as n; print(p.PTON, n.parse_address('1.2.3.4'))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={"NETBASICS_PURE_PARSER": "1", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert proc.stdout.split() == ["False", "1.2.3.4"]


@given(any_texts)
def test_public_parsers_give_the_same_answers_on_both_paths(text: str) -> None:
    for parse, pure in ((_parse.parse_ipv4_int, _parse.pure_ipv4_int), (_parse.parse_ipv6_int, _parse.pure_ipv6_int)):
        try:
            expected: object = pure(text)
        except ValueError as exc:
            expected = type(exc)
        try:
            got: object = parse(text)
        except ValueError as exc:
            got = type(exc)
        assert got == expected, text
