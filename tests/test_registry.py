"""The bundled IANA special-purpose registries, checked row by row and column by column.

The expected rows are IANA's own CSV files, kept in tests/data exactly as IANA publishes
them (iana-ipv4-special-registry-1.csv, iana-ipv6-special-registry-1.csv: the same
columns in the same order, footnote markers such as ``False [1]`` and ``192.0.0.0/24 [2]``,
reference cells such as ``"[RFC8880][RFC7050], Section 2.2"``), transcribed
independently of src/netbasics/_data/registry.py, so a typo in either shows up here.
To check a newer registry, replace the two files with IANA's and run this module.

Reading a CSV row into the package's form: "N/A" and empty cells are ``None``;
footnote markers are dropped; references ``[RFC791], Section 3.2`` become
``RFC 791 section 3.2``; the IPv4 record ``"192.0.0.170/32, 192.0.0.171/32"`` is one
IANA record and two rows in the package. The category column is ours, not IANA's, and is
checked against a rule on the row's name.
"""

from __future__ import annotations

import csv
import ipaddress
import itertools
import re
from pathlib import Path

import pytest

from netbasics import REGISTRY_DATE, AddressCategory, RegistryEntry
from netbasics._data.registry import IPV4_ENTRIES, IPV4_TABLE, IPV6_ENTRIES, IPV6_TABLE

C = AddressCategory
T, F, N = True, False, None

DATA = Path(__file__).resolve().parent / "data"
IANA_COLUMNS = [
    "Address Block",
    "Name",
    "RFC",
    "Allocation Date",
    "Termination Date",
    "Source",
    "Destination",
    "Forwardable",
    "Globally Reachable",
    "Reserved-by-Protocol",
]
FLAG_COLUMNS = IANA_COLUMNS[5:]
_FOOTNOTE = re.compile(r"\s*\[\d+\]$")


def read_iana_csv(path: Path) -> list[dict[str, str]]:
    """The records of an IANA registry CSV, each a dict by IANA's column names."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == IANA_COLUMNS, f"{path.name}: not IANA's column layout"
        return list(reader)


def _flag(cell: str) -> bool | None:
    """``True``/``False``, or ``None`` for N/A and the empty cells of terminated rows."""
    value = _FOOTNOTE.sub("", cell)
    return {"True": True, "False": False, "N/A": None, "": None}[value]


def _references(cell: str) -> str:
    """IANA's ``[RFC8880][RFC7050], Section 2.2`` as the package writes it: ``RFC 8880, RFC 7050 section 2.2``."""
    refs = re.findall(r"\[RFC ?([^\]]+)\]", cell)
    assert refs, cell
    text = ", ".join(f"RFC {ref}" for ref in refs)
    section = re.search(r"Section ([\d.]+)", cell)
    return f"{text} section {section[1]}" if section else text


def _category(name: str) -> AddressCategory:
    """Our category of an IANA row, by its name; everything not named here is a protocol assignment."""
    rules = [
        ("This network", C.THIS_NETWORK),
        ("This host on this network", C.UNSPECIFIED),
        ("Unspecified", C.UNSPECIFIED),
        ("Private-Use", C.PRIVATE),
        ("Unique-Local", C.PRIVATE),
        ("Shared Address Space", C.SHARED),
        ("Loopback", C.LOOPBACK),
        ("Link Local", C.LINK_LOCAL),
        ("Link-Local", C.LINK_LOCAL),
        ("Documentation", C.DOCUMENTATION),
        ("Benchmarking", C.BENCHMARKING),
        ("Deprecated", C.RESERVED),
        ("Reserved", C.RESERVED),
        ("Limited Broadcast", C.BROADCAST),
        ("IPv4-mapped", C.IPV4_MAPPED),
        ("IPv4-IPv6 Translat.", C.TRANSLATION),
        ("Discard-Only", C.DISCARD),
        ("TEREDO", C.TUNNEL),
        ("6to4", C.TUNNEL),
        ("6a44-relay", C.TUNNEL),
    ]
    for start, category in rules:
        if name.strip('"').startswith(start):
            return category
    return C.PROTOCOL_ASSIGNMENT


# (prefix, name, RFC, allocated, terminated, source, destination, forwardable,
#  globally reachable, reserved-by-protocol, category): IANA's columns, then ours.
Row = tuple[
    str, str, str, str, str | None, bool | None, bool | None, bool | None, bool | None, bool | None, AddressCategory
]


def expected_rows(path: Path) -> list[Row]:
    """The package's rows that an IANA CSV file calls for, in IANA's order."""
    rows: list[Row] = []
    for record in read_iana_csv(path):
        terminated = record["Termination Date"]
        source, destination, forwardable, reachable, reserved = (_flag(record[c]) for c in FLAG_COLUMNS)
        for block in _FOOTNOTE.sub("", record["Address Block"]).split(", "):
            rows.append(
                (
                    block,
                    record["Name"],
                    _references(record["RFC"]),
                    record["Allocation Date"],
                    None if terminated == "N/A" else terminated,
                    source,
                    destination,
                    forwardable,
                    reachable,
                    reserved,
                    _category(record["Name"]),
                )
            )
    return rows


IPV4_CSV = DATA / "iana-ipv4-special-registry-1.csv"
IPV6_CSV = DATA / "iana-ipv6-special-registry-1.csv"
IPV4_EXPECTED = expected_rows(IPV4_CSV)
IPV6_EXPECTED = expected_rows(IPV6_CSV)


def test_csv_reading_rules() -> None:
    # The conversions above, on IANA's awkward cells.
    assert _references("[RFC791], Section 3.2") == "RFC 791 section 3.2"
    assert _references("[RFC8880][RFC7050], Section 2.2") == "RFC 8880, RFC 7050 section 2.2"
    assert _references("[RFC8190]\n        [RFC919], Section 7") == "RFC 8190, RFC 919 section 7"
    assert _references("[RFC5180][RFC Errata 1752]") == "RFC 5180, RFC Errata 1752"
    assert [_flag(c) for c in ("True", "False [1]", "N/A [2]", "")] == [T, F, N, N]
    v4 = read_iana_csv(IPV4_CSV)
    assert v4[7]["Address Block"] == "192.0.0.0/24 [2]"
    assert v4[12]["Address Block"] == "192.0.0.170/32, 192.0.0.171/32"
    assert [r[0] for r in IPV4_EXPECTED[7:9]] == ["192.0.0.0/24", "192.0.0.0/29"]


def test_csv_files_hold_every_record() -> None:
    # 25 IANA records each (newest row 2025-04), the same count the registry states.
    assert len(read_iana_csv(IPV4_CSV)) == 25
    assert len(read_iana_csv(IPV6_CSV)) == 25
    dates = [r["Allocation Date"] for r in read_iana_csv(IPV4_CSV) + read_iana_csv(IPV6_CSV)]
    assert max(dates) == REGISTRY_DATE


# Rows from outside the two special-purpose registries: (prefix, category, registry, globally reachable).
EXTRA_EXPECTED = [
    ("224.0.0.0/4", C.MULTICAST, "multicast", F),
    ("2000::/3", C.PUBLIC, "global-unicast", T),
    ("fec0::/10", C.SITE_LOCAL, "site-local", F),
    ("ff00::/8", C.MULTICAST, "multicast", F),
]


def _iana_rows(entries: tuple[RegistryEntry, ...], registry: str) -> list[RegistryEntry]:
    return [e for e in entries if e.registry == registry]


def _as_row(e: RegistryEntry) -> Row:
    return (
        e.prefix,
        e.name,
        e.rfc,
        e.allocated,
        e.terminated,
        e.source,
        e.destination,
        e.forwardable,
        e.globally_reachable,
        e.reserved_by_protocol,
        e.category,
    )


@pytest.mark.parametrize(
    ("entries", "registry", "expected"),
    [(IPV4_ENTRIES, "iana-ipv4-special", IPV4_EXPECTED), (IPV6_ENTRIES, "iana-ipv6-special", IPV6_EXPECTED)],
    ids=["ipv4", "ipv6"],
)
def test_every_row_every_column(entries: tuple[RegistryEntry, ...], registry: str, expected: list[Row]) -> None:
    actual = [_as_row(e) for e in _iana_rows(entries, registry)]
    assert [r[0] for r in actual] == [r[0] for r in expected], "prefixes differ or are out of order"
    for got, want in zip(actual, expected, strict=True):
        assert got == want, f"row {want[0]}"


def test_record_counts() -> None:
    # 25 IANA records each; the IPv4 NAT64/DNS64 record holds two prefixes.
    v4 = _iana_rows(IPV4_ENTRIES, "iana-ipv4-special")
    assert len(v4) == 26
    assert [e.prefix for e in v4 if e.name == "NAT64/DNS64 Discovery"] == ["192.0.0.170/32", "192.0.0.171/32"]
    assert len(_iana_rows(IPV6_ENTRIES, "iana-ipv6-special")) == 25


@pytest.mark.parametrize(("prefix", "category", "registry", "reachable"), EXTRA_EXPECTED)
def test_extra_rows(prefix: str, category: AddressCategory, registry: str, reachable: bool) -> None:
    (entry,) = [e for e in IPV4_ENTRIES + IPV6_ENTRIES if e.prefix == prefix]
    assert entry.category is category
    assert entry.registry == registry
    assert entry.globally_reachable is reachable


def test_only_known_registries() -> None:
    names = {e.registry for e in IPV4_ENTRIES + IPV6_ENTRIES}
    assert names == {"iana-ipv4-special", "iana-ipv6-special", "multicast", "global-unicast", "site-local"}
    assert len(IPV4_ENTRIES + IPV6_ENTRIES) == 26 + 25 + len(EXTRA_EXPECTED)


@pytest.mark.parametrize("entry", IPV4_ENTRIES + IPV6_ENTRIES, ids=lambda e: e.prefix)
def test_prefixes_are_canonical_networks(entry: RegistryEntry) -> None:
    net = ipaddress.ip_network(entry.prefix)  # strict: no host bits set
    text, _, length = entry.prefix.partition("/")
    assert int(ipaddress.ip_address(text)) == int(net.network_address)
    assert length == str(net.prefixlen)
    if entry.prefix != "::ffff:0:0/96":  # IANA's spelling; Python 3.13 prints ::ffff:0.0.0.0/96
        assert str(net) == entry.prefix
    assert entry.version == net.version
    assert str(entry) == f"{entry.prefix} {entry.name} ({entry.rfc})"


def test_terminated_rows_have_empty_cells() -> None:
    terminated = [e for e in IPV4_ENTRIES + IPV6_ENTRIES if e.terminated and e.registry.startswith("iana")]
    assert [e.prefix for e in terminated] == ["192.88.99.0/24", "2001:10::/28"]
    for e in terminated:
        assert (e.source, e.destination, e.forwardable, e.globally_reachable, e.reserved_by_protocol) == (N,) * 5


def test_rows_added_since_2024() -> None:
    recent = sorted(e.prefix for e in IPV4_ENTRIES + IPV6_ENTRIES if e.allocated >= "2024")
    assert recent == ["100:0:0:1::/64", "2001:1::3/128", "3fff::/20", "5f00::/16"]
    assert max(e.allocated for e in IPV4_ENTRIES + IPV6_ENTRIES) == REGISTRY_DATE == "2025-04"


def test_registry_entry_is_frozen() -> None:
    entry = IPV4_ENTRIES[0]
    with pytest.raises(AttributeError):
        entry.name = "x"  # type: ignore[misc]
    assert hash(entry) == hash(IPV4_ENTRIES[0])


@pytest.mark.parametrize("table", [IPV4_TABLE, IPV6_TABLE], ids=["ipv4", "ipv6"])
def test_lookup_table_shape(table: object) -> None:
    starts: list[int] = table.starts  # type: ignore[attr-defined]
    entries: list[RegistryEntry | None] = table.entries  # type: ignore[attr-defined]
    assert starts[0] == 0
    assert starts == sorted(set(starts))
    assert len(starts) == len(entries)
    assert all(a is not b for a, b in itertools.pairwise(entries)), "neighbours with the same row are merged"
