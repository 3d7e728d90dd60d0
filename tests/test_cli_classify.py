"""The bulk classification path of `netbasics classify` says exactly what classify() says."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbasics import IPv4Address, IPv6Address, classify, parse_network
from netbasics._cli.classify import Classifier, info_json, info_line
from netbasics._data.registry import IPV4_ENTRIES, IPV6_ENTRIES


def _edges() -> list[str]:
    """Every registry row's first and last address and their neighbours, both families, and mapped."""
    out: list[str] = []
    for entry, bits, cls in [(e, 32, IPv4Address) for e in IPV4_ENTRIES] + [
        (e, 128, IPv6Address) for e in IPV6_ENTRIES
    ]:
        net = parse_network(entry.prefix)
        for ip in (int(net.first) - 1, int(net.first), int(net.last), int(net.last) + 1):
            if 0 <= ip < 1 << bits:
                out.append(str(cls(ip)))
                if bits == 32:
                    out.append(f"::ffff:{cls(ip)}")
    return out


EDGES = _edges()


def _slow(text: str, mode: str) -> str:
    info = classify(text)
    return info_line(info) if mode == "line" else info_json(text, info)


def _no_errors(index: int, text: str, pending: list[str]) -> str | None:
    raise AssertionError(f"row {index} refused: {text!r}")


def test_every_registry_edge_matches_classify() -> None:
    for mode in ("line", "json"):
        assert Classifier(mode, _no_errors).run(EDGES) == [_slow(t, mode) for t in EDGES]


_ADDRESS = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda v: str(IPv4Address(v))),
    st.integers(0, 2**128 - 1).map(lambda v: str(IPv6Address(v))),
    st.integers(0, 2**32 - 1).map(lambda v: f"::ffff:{IPv4Address(v)}"),
    st.tuples(st.integers(0, 2**128 - 1), st.sampled_from(["eth0", "1"])).map(lambda t: f"{IPv6Address(t[0])}%{t[1]}"),
    st.sampled_from(EDGES),
)


@settings(max_examples=300)
@given(st.lists(_ADDRESS, max_size=20), st.sampled_from(["line", "json"]))
def test_fast_path_matches_classify(texts: list[str], mode: str) -> None:
    rows = [f"  {t}\n" for t in texts]  # as read from a file: padding and newline are stripped
    assert Classifier(mode, _no_errors).run(rows) == [_slow(t, mode) for t in texts]


@given(st.lists(_ADDRESS, max_size=20))
def test_summary_counts_categories(texts: list[str]) -> None:
    classifier = Classifier("summary", _no_errors)
    assert classifier.run(texts) == []
    expected: dict[str, int] = {}
    for text in texts:
        name = classify(text).category.value
        expected[name] = expected.get(name, 0) + 1
    assert classifier.counts == expected


def test_bad_rows_go_to_the_callback_in_order() -> None:
    seen: list[tuple[int, str]] = []

    def bad(index: int, text: str, pending: list[str]) -> str | None:
        seen.append((index, text))
        return json.dumps({"input": text, "error": "bad"}) if text else None

    out = Classifier("json", bad).run(["10.0.0.1\n", "010.0.0.1\n", "\n", "::g\n", "::1\n"], first=7)
    assert seen == [(8, "010.0.0.1"), (9, ""), (10, "::g")]
    assert [json.loads(line)["input"] for line in out] == ["10.0.0.1", "010.0.0.1", "::g", "::1"]


def test_bad_rows_see_the_output_before_them() -> None:
    """The callback gets the batch's output so far: the CLI writes it before the error line."""
    flushed: list[str] = []

    def bad(index: int, text: str, pending: list[str]) -> str | None:
        flushed.extend(pending)
        pending.clear()
        return None

    rest = Classifier("line", bad).run(["10.0.0.1", "bogus", "fe80::1%eth0", "fe80::1%", "::1"])
    assert [line.split()[0] for line in flushed] == ["10.0.0.1", "fe80::1%eth0"]
    assert [line.split()[0] for line in rest] == ["::1"]


def test_general_path_gives_the_same_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where inet_pton cannot be trusted, every row goes through parse_address, with the same output."""
    from netbasics._cli import classify as _cli_classify

    rows = [*EDGES[:200], "fe80::1%eth0", "::1.2.3.4", "010.0.0.1", ""]
    seen: list[list[str]] = []
    for fast in (True, False):
        monkeypatch.setattr(_cli_classify, "_fast", lambda fast=fast: fast)
        for mode in ("line", "json", "summary"):
            classifier = Classifier(mode, lambda i, t, p: json.dumps({"input": t, "error": "bad"}))
            seen.append([*classifier.run(rows), json.dumps(classifier.counts, sort_keys=True)])
    assert seen[:3] == seen[3:]
