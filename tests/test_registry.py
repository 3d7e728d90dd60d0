"""The bundled IANA special-purpose registries, checked row by row and column by column.

The expected rows below are transcribed by hand from the IANA IPv4 and IPv6
Special-Purpose Address Registries (newest row 2025-04), independently of
src/netbasics/_registry.py, so a typo in either shows up here. Conventions of the
transcription: "N/A" and empty cells are ``None``; footnote markers are dropped; "§" is
written "section"; the IPv4 record "192.0.0.170/32, 192.0.0.171/32" is one IANA record
and two rows here. The category column is ours, not IANA's.
"""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from netbasics import REGISTRY_DATE, AddressCategory, RegistryEntry
from netbasics._data.registry import IPV4_ENTRIES, IPV4_TABLE, IPV6_ENTRIES, IPV6_TABLE

C = AddressCategory
T, F, N = True, False, None

# (prefix, name, RFC, allocated, terminated, source, destination, forwardable,
#  globally reachable, reserved-by-protocol, category)
Row = tuple[
    str, str, str, str, str | None, bool | None, bool | None, bool | None, bool | None, bool | None, AddressCategory
]

IPV4_EXPECTED: list[Row] = [
    ("0.0.0.0/8", '"This network"', "RFC 791 section 3.2", "1981-09", N, T, F, F, F, T, C.THIS_NETWORK),
    (
        "0.0.0.0/32",
        '"This host on this network"',
        "RFC 1122 section 3.2.1.3",
        "1981-09",
        N,
        T,
        F,
        F,
        F,
        T,
        C.UNSPECIFIED,
    ),
    ("10.0.0.0/8", "Private-Use", "RFC 1918", "1996-02", N, T, T, T, F, F, C.PRIVATE),
    ("100.64.0.0/10", "Shared Address Space", "RFC 6598", "2012-04", N, T, T, T, F, F, C.SHARED),
    ("127.0.0.0/8", "Loopback", "RFC 1122 section 3.2.1.3", "1981-09", N, F, F, F, F, T, C.LOOPBACK),
    ("169.254.0.0/16", "Link Local", "RFC 3927", "2005-05", N, T, T, F, F, T, C.LINK_LOCAL),
    ("172.16.0.0/12", "Private-Use", "RFC 1918", "1996-02", N, T, T, T, F, F, C.PRIVATE),
    (
        "192.0.0.0/24",
        "IETF Protocol Assignments",
        "RFC 6890 section 2.1",
        "2010-01",
        N,
        F,
        F,
        F,
        F,
        F,
        C.PROTOCOL_ASSIGNMENT,
    ),
    ("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", "2011-06", N, T, T, T, F, F, C.PROTOCOL_ASSIGNMENT),
    ("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", "2015-03", N, T, F, F, F, F, C.PROTOCOL_ASSIGNMENT),
    ("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", "2015-10", N, T, T, T, T, F, C.PROTOCOL_ASSIGNMENT),
    (
        "192.0.0.10/32",
        "Traversal Using Relays around NAT Anycast",
        "RFC 8155",
        "2017-02",
        N,
        T,
        T,
        T,
        T,
        F,
        C.PROTOCOL_ASSIGNMENT,
    ),
    (
        "192.0.0.170/32",
        "NAT64/DNS64 Discovery",
        "RFC 8880, RFC 7050 section 2.2",
        "2013-02",
        N,
        F,
        F,
        F,
        F,
        T,
        C.PROTOCOL_ASSIGNMENT,
    ),
    (
        "192.0.0.171/32",
        "NAT64/DNS64 Discovery",
        "RFC 8880, RFC 7050 section 2.2",
        "2013-02",
        N,
        F,
        F,
        F,
        F,
        T,
        C.PROTOCOL_ASSIGNMENT,
    ),
    ("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", "2010-01", N, F, F, F, F, F, C.DOCUMENTATION),
    ("192.31.196.0/24", "AS112-v4", "RFC 7535", "2014-12", N, T, T, T, T, F, C.PROTOCOL_ASSIGNMENT),
    ("192.52.193.0/24", "AMT", "RFC 7450", "2014-12", N, T, T, T, T, F, C.PROTOCOL_ASSIGNMENT),
    ("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", "2001-06", "2015-03", N, N, N, N, N, C.RESERVED),
    ("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", "2012-10", N, T, T, T, F, F, C.TUNNEL),
    ("192.168.0.0/16", "Private-Use", "RFC 1918", "1996-02", N, T, T, T, F, F, C.PRIVATE),
    (
        "192.175.48.0/24",
        "Direct Delegation AS112 Service",
        "RFC 7534",
        "1996-01",
        N,
        T,
        T,
        T,
        T,
        F,
        C.PROTOCOL_ASSIGNMENT,
    ),
    ("198.18.0.0/15", "Benchmarking", "RFC 2544", "1999-03", N, T, T, T, F, F, C.BENCHMARKING),
    ("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", "2010-01", N, F, F, F, F, F, C.DOCUMENTATION),
    ("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", "2010-01", N, F, F, F, F, F, C.DOCUMENTATION),
    ("240.0.0.0/4", "Reserved", "RFC 1112 section 4", "1989-08", N, F, F, F, F, T, C.RESERVED),
    (
        "255.255.255.255/32",
        "Limited Broadcast",
        "RFC 8190, RFC 919 section 7",
        "1984-10",
        N,
        F,
        T,
        F,
        F,
        T,
        C.BROADCAST,
    ),
]

IPV6_EXPECTED: list[Row] = [
    ("::1/128", "Loopback Address", "RFC 4291", "2006-02", N, F, F, F, F, T, C.LOOPBACK),
    ("::/128", "Unspecified Address", "RFC 4291", "2006-02", N, T, F, F, F, T, C.UNSPECIFIED),
    ("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", "2006-02", N, F, F, F, F, T, C.IPV4_MAPPED),
    ("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", "2010-10", N, T, T, T, T, F, C.TRANSLATION),
    ("64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", "2017-06", N, T, T, T, F, F, C.TRANSLATION),
    ("100::/64", "Discard-Only Address Block", "RFC 6666", "2012-06", N, T, T, T, F, F, C.DISCARD),
    ("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", "2025-04", N, T, F, F, F, F, C.PROTOCOL_ASSIGNMENT),
    ("2001::/23", "IETF Protocol Assignments", "RFC 2928", "2000-09", N, F, F, F, F, F, C.PROTOCOL_ASSIGNMENT),
    ("2001::/32", "TEREDO", "RFC 4380, RFC 8190", "2006-01", N, T, T, T, N, F, C.TUNNEL),
    ("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", "2015-10", N, T, T, T, T, F, C.PROTOCOL_ASSIGNMENT),
    (
        "2001:1::2/128",
        "Traversal Using Relays around NAT Anycast",
        "RFC 8155",
        "2017-02",
        N,
        T,
        T,
        T,
        T,
        F,
        C.PROTOCOL_ASSIGNMENT,
    ),
    (
        "2001:1::3/128",
        "DNS-SD Service Registration Protocol Anycast",
        "RFC 9665",
        "2024-04",
        N,
        T,
        T,
        T,
        T,
        F,
        C.PROTOCOL_ASSIGNMENT,
    ),
    ("2001:2::/48", "Benchmarking", "RFC 5180, RFC Errata 1752", "2008-04", N, T, T, T, F, F, C.BENCHMARKING),
    ("2001:3::/32", "AMT", "RFC 7450", "2014-12", N, T, T, T, T, F, C.PROTOCOL_ASSIGNMENT),
    ("2001:4:112::/48", "AS112-v6", "RFC 7535", "2014-12", N, T, T, T, T, F, C.PROTOCOL_ASSIGNMENT),
    ("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", "2007-03", "2014-03", N, N, N, N, N, C.RESERVED),
    ("2001:20::/28", "ORCHIDv2", "RFC 7343", "2014-07", N, T, T, T, T, F, C.PROTOCOL_ASSIGNMENT),
    (
        "2001:30::/28",
        "Drone Remote ID Protocol Entity Tags (DETs) Prefix",
        "RFC 9374",
        "2022-12",
        N,
        T,
        T,
        T,
        T,
        F,
        C.PROTOCOL_ASSIGNMENT,
    ),
    ("2001:db8::/32", "Documentation", "RFC 3849", "2004-07", N, F, F, F, F, F, C.DOCUMENTATION),
    ("2002::/16", "6to4", "RFC 3056", "2001-02", N, T, T, T, N, F, C.TUNNEL),
    (
        "2620:4f:8000::/48",
        "Direct Delegation AS112 Service",
        "RFC 7534",
        "2011-05",
        N,
        T,
        T,
        T,
        T,
        F,
        C.PROTOCOL_ASSIGNMENT,
    ),
    ("3fff::/20", "Documentation", "RFC 9637", "2024-07", N, F, F, F, F, F, C.DOCUMENTATION),
    ("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", "2024-04", N, T, T, T, F, F, C.PROTOCOL_ASSIGNMENT),
    ("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", "2005-10", N, T, T, T, F, F, C.PRIVATE),
    ("fe80::/10", "Link-Local Unicast", "RFC 4291", "2006-02", N, T, T, F, F, T, C.LINK_LOCAL),
]

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
