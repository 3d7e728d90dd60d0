"""Classification against the IANA registries, compared with a brute-force reference.

The reference scans every registry row (IPV4_ENTRIES / IPV6_ENTRIES) with stdlib
``ipaddress`` networks and keeps the most specific match: slow and obviously right,
unlike the merged interval tables and top-byte shortcuts the library uses.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

import netbasics
from netbasics import Address, AddressCategory, AddressInfo, IPv4Address, IPv6Address, RegistryEntry, classify
from netbasics._data.registry import IPV4_ENTRIES, IPV4_TABLE, IPV6_ENTRIES, IPV6_MAPPED_TABLE

C = AddressCategory
V4_MAX = 2**32 - 1
V6_MAX = 2**128 - 1

_NETS = {
    4: [(ipaddress.ip_network(e.prefix), e) for e in IPV4_ENTRIES],
    6: [(ipaddress.ip_network(e.prefix), e) for e in IPV6_ENTRIES],
}


def reference(addr: Address) -> tuple[AddressCategory, bool, RegistryEntry | None]:
    """(category, globally reachable, entry) by scanning every row for the most specific match."""
    version, value = addr.version, int(addr)
    if version == 6 and value >> 32 == 0xFFFF:  # RFC 4291 section 2.5.5.2: IPv4-mapped
        version, value = 4, value & V4_MAX
    std = ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)
    best: tuple[int, RegistryEntry] | None = None
    for net, entry in _NETS[version]:
        if std in net and (best is None or net.prefixlen > best[0]):
            best = (net.prefixlen, entry)
    if best is None:
        # Outside every row: IPv4 unicast is public; IPv6 outside 2000::/3 is unassigned.
        return (C.PUBLIC, True, None) if version == 4 else (C.RESERVED, False, None)
    entry = best[1]
    return entry.category, entry.globally_reachable is True, entry


# Addresses at and around the edges of every row, where off-by-one errors live.
_EDGES: list[tuple[int, int]] = []
for _version, _pairs in _NETS.items():
    for _net, _ in _pairs:
        _first, _last = int(_net.network_address), int(_net.broadcast_address)
        _top = V4_MAX if _version == 4 else V6_MAX
        _EDGES.extend(
            (_version, v) for v in (_first - 1, _first, _first + 1, _last - 1, _last, _last + 1) if 0 <= v <= _top
        )


@st.composite
def addresses(draw: st.DrawFn) -> Address:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return IPv4Address(draw(st.integers(0, V4_MAX)))
    if kind == 1:
        return IPv6Address(draw(st.integers(0, V6_MAX)))
    if kind == 2:  # inside the special-purpose IPv6 space, which uniform ints rarely hit
        return IPv6Address(
            (
                draw(
                    st.sampled_from(
                        [0, 0x64, 0x100, 0x2001, 0x2002, 0x2620, 0x3FFF, 0x5F00, 0xFC00, 0xFE80, 0xFEC0, 0xFF02]
                    )
                )
                << 112
            )
            | draw(st.integers(0, 2**112 - 1))
        )
    version, value = draw(st.sampled_from(_EDGES))
    if version == 4:
        if kind == 3:
            return IPv6Address((0xFFFF << 32) | value)  # the same edge, IPv4-mapped
        return IPv4Address(value)
    return IPv6Address(value)


def _hot_answers(addr: Address) -> tuple[AddressCategory, bool, bool]:
    return addr.category, addr.is_global, addr.is_private


def _expected(addr: Address) -> tuple[AddressCategory, bool, bool]:
    category, reachable, _ = reference(addr)
    return category, reachable, category is C.PRIVATE


def test_every_row_edge_matches_the_reference() -> None:
    # All of them, not a sample: the merged IPv6 table moves every IPv4 edge into
    # ::ffff:0:0/96, and a cut in the wrong place shows up only at an edge.
    for version, value in _EDGES:
        for addr in (
            (IPv4Address(value), IPv6Address((0xFFFF << 32) | value)) if version == 4 else (IPv6Address(value),)
        ):
            assert _hot_answers(addr) == _expected(addr), addr


def test_every_top_byte_shortcut_matches_the_reference() -> None:
    # The hot properties answer from the top byte alone when its whole block shares one
    # answer; the first and last address of every block check that shortcut.
    for top in range(256):
        for addr in (
            IPv4Address(top << 24),
            IPv4Address((top << 24) | 0xFFFFFF),
            IPv6Address(top << 120),
            IPv6Address((top << 120) | (2**120 - 1)),
        ):
            assert _hot_answers(addr) == _expected(addr), addr


def test_every_reader_of_the_tables_agrees_at_every_cut() -> None:
    # One source of classification: the hot properties, classify().entry and a network's
    # .entry all read the registry's interval tables. The first address of every interval
    # (where the answer changes) must get the reference's answer from all three.
    starts = [(4, s) for s in IPV4_TABLE.starts] + [(6, s) for s in IPV6_MAPPED_TABLE.starts]
    for version, start in starts:
        addr: Address = IPv4Address(start) if version == 4 else IPv6Address(start)
        category, reachable, entry = reference(addr)
        assert _hot_answers(addr) == (category, reachable, category is C.PRIVATE), addr
        assert classify(addr).entry is entry, addr
        assert addr.entry is entry, addr
        network = netbasics.parse_network(f"{addr}/{addr.max_prefixlen}")
        assert network.entry is entry, addr
        assert network.category is category, addr


@given(addresses())
def test_classification_matches_brute_force_reference(addr: Address) -> None:
    category, reachable, entry = reference(addr)
    info = classify(addr)
    assert info.address == addr
    assert info.category is category
    assert info.is_global is reachable
    assert info.entry is entry
    assert addr.entry is entry
    assert addr.category is category
    assert addr.is_global is reachable
    assert addr.is_private is (category is C.PRIVATE)
    assert addr.is_loopback is (category is C.LOOPBACK)
    assert addr.is_link_local is (category is C.LINK_LOCAL)
    assert addr.is_multicast is (category is C.MULTICAST)
    assert addr.is_unspecified is (category is C.UNSPECIFIED)
    assert addr.is_documentation is (category is C.DOCUMENTATION)
    assert addr.is_shared is (category is C.SHARED)
    assert addr.is_benchmarking is (category is C.BENCHMARKING)
    assert addr.is_reserved is (category is C.RESERVED)
    assert addr.is_broadcast is (category is C.BROADCAST)
    if isinstance(addr, IPv6Address):
        assert addr.is_site_local is (category is C.SITE_LOCAL)
    # Every input form classifies the same.
    assert classify(str(addr)) == info
    assert classify(addr.to_stdlib()) == info
    if addr.zone is None:
        assert classify(addr.packed).category is category


@pytest.mark.parametrize("entry", IPV4_ENTRIES + IPV6_ENTRIES, ids=lambda e: e.prefix)
def test_first_and_last_address_of_every_row(entry: RegistryEntry) -> None:
    net = ipaddress.ip_network(entry.prefix)
    for std in (net.network_address, net.broadcast_address):
        info = classify(std)
        if entry.prefix == "::ffff:0:0/96":
            # Mapped addresses classify as the IPv4 address they carry.
            assert info.entry is not None
            assert info.entry.version == 4
            continue
        assert info.entry is not None
        if info.entry is not entry:
            # Only a more specific child row may take over.
            child = ipaddress.ip_network(info.entry.prefix)
            assert child.subnet_of(net), (std, info.entry)  # type: ignore[arg-type]
            assert child.prefixlen > net.prefixlen, (std, info.entry)
        else:
            assert info.category is entry.category
            assert info.is_global is (entry.globally_reachable is True)


@pytest.mark.parametrize(
    ("text", "category", "reachable", "prefix"),
    [
        # Rows added to the registries since 2024, which older libraries miss.
        ("2001:1::3", C.PROTOCOL_ASSIGNMENT, True, "2001:1::3/128"),
        ("2001:1::4", C.PROTOCOL_ASSIGNMENT, False, "2001::/23"),
        ("5f00::1", C.PROTOCOL_ASSIGNMENT, False, "5f00::/16"),
        ("5f01::1", C.RESERVED, False, None),  # 5f00::/16 lies outside 2000::/3
        ("3fff::1", C.DOCUMENTATION, False, "3fff::/20"),
        ("3fff:fff:ffff::", C.DOCUMENTATION, False, "3fff::/20"),
        ("3fff:1000::", C.PUBLIC, True, "2000::/3"),
        ("100:0:0:1::1", C.PROTOCOL_ASSIGNMENT, False, "100:0:0:1::/64"),
        ("100::1", C.DISCARD, False, "100::/64"),
        ("100:0:0:2::", C.RESERVED, False, None),
        # Terminated rows: not global, reserved; their live child keeps its own facts.
        ("192.88.99.1", C.RESERVED, False, "192.88.99.0/24"),
        ("192.88.99.2", C.TUNNEL, False, "192.88.99.2/32"),
        ("2001:10::1", C.RESERVED, False, "2001:10::/28"),
        ("2001:20::1", C.PROTOCOL_ASSIGNMENT, True, "2001:20::/28"),
        # Most specific match wins.
        ("192.0.0.9", C.PROTOCOL_ASSIGNMENT, True, "192.0.0.9/32"),
        ("192.0.0.11", C.PROTOCOL_ASSIGNMENT, False, "192.0.0.0/24"),
        ("0.0.0.0", C.UNSPECIFIED, False, "0.0.0.0/32"),
        ("0.1.2.3", C.THIS_NETWORK, False, "0.0.0.0/8"),
        ("64:ff9b::808:808", C.TRANSLATION, True, "64:ff9b::/96"),
        ("64:ff9b:1::1", C.TRANSLATION, False, "64:ff9b:1::/48"),
        # N/A counts as not globally reachable.
        ("2001::1", C.TUNNEL, False, "2001::/32"),
        ("2002:c000:201::1", C.TUNNEL, False, "2002::/16"),
        # Everyday addresses.
        ("8.8.8.8", C.PUBLIC, True, None),
        ("10.1.2.3", C.PRIVATE, False, "10.0.0.0/8"),
        ("172.31.255.255", C.PRIVATE, False, "172.16.0.0/12"),
        ("172.32.0.0", C.PUBLIC, True, None),
        ("192.168.1.1", C.PRIVATE, False, "192.168.0.0/16"),
        ("100.64.0.1", C.SHARED, False, "100.64.0.0/10"),
        ("127.0.0.1", C.LOOPBACK, False, "127.0.0.0/8"),
        ("169.254.1.1", C.LINK_LOCAL, False, "169.254.0.0/16"),
        ("224.0.0.1", C.MULTICAST, False, "224.0.0.0/4"),
        ("239.255.255.255", C.MULTICAST, False, "224.0.0.0/4"),
        ("240.0.0.1", C.RESERVED, False, "240.0.0.0/4"),
        ("255.255.255.255", C.BROADCAST, False, "255.255.255.255/32"),
        ("198.18.0.1", C.BENCHMARKING, False, "198.18.0.0/15"),
        ("203.0.113.7", C.DOCUMENTATION, False, "203.0.113.0/24"),
        ("::", C.UNSPECIFIED, False, "::/128"),
        ("::1", C.LOOPBACK, False, "::1/128"),
        ("::2", C.RESERVED, False, None),
        ("2606:4700::1111", C.PUBLIC, True, "2000::/3"),
        ("2001:db8::1", C.DOCUMENTATION, False, "2001:db8::/32"),
        ("2001:2::1", C.BENCHMARKING, False, "2001:2::/48"),
        ("fd00::1", C.PRIVATE, False, "fc00::/7"),
        ("fe80::1%eth0", C.LINK_LOCAL, False, "fe80::/10"),
        ("fec0::1", C.SITE_LOCAL, False, "fec0::/10"),
        ("ff02::1", C.MULTICAST, False, "ff00::/8"),
        ("ff0e::1", C.MULTICAST, False, "ff00::/8"),
        ("4000::1", C.RESERVED, False, None),
        # IPv4-mapped addresses classify as the IPv4 address they carry.
        ("::ffff:192.168.0.1", C.PRIVATE, False, "192.168.0.0/16"),
        ("::ffff:8.8.8.8", C.PUBLIC, True, None),
        ("::ffff:127.0.0.1", C.LOOPBACK, False, "127.0.0.0/8"),
        ("::ffff:0.0.0.0", C.UNSPECIFIED, False, "0.0.0.0/32"),
        ("::ffff:255.255.255.255", C.BROADCAST, False, "255.255.255.255/32"),
        # ... but IPv4-compatible (deprecated) and NAT64 addresses do not.
        ("::127.0.0.1", C.RESERVED, False, None),
    ],
)
def test_classification_table(text: str, category: AddressCategory, reachable: bool, prefix: str | None) -> None:
    info = classify(text)
    assert info.category is category
    assert info.is_global is reachable
    assert (None if info.entry is None else info.entry.prefix) == prefix
    assert netbasics.parse_address(text).is_global is reachable


def test_ipv4_mapped_entry_is_the_ipv4_row() -> None:
    info = classify("::ffff:192.168.0.1")
    assert info.entry is classify("192.168.0.1").entry
    assert info.address == IPv6Address("::ffff:192.168.0.1")
    assert info.address.is_private


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("100.64.1.1", "100.64.1.1: shared (Shared Address Space, RFC 6598), not globally reachable"),
        ("8.8.8.8", "8.8.8.8: public, globally reachable"),
        (
            "2001:1::3",
            "2001:1::3: protocol-assignment (DNS-SD Service Registration Protocol Anycast, RFC 9665), "
            "globally reachable",
        ),
        (
            "::ffff:192.168.0.1",
            "::ffff:192.168.0.1 as IPv4-mapped 192.168.0.1: private (Private-Use, RFC 1918), not globally reachable",
        ),
        ("fe80::1%eth0", "fe80::1%eth0: link-local (Link-Local Unicast, RFC 4291), not globally reachable"),
    ],
)
def test_info_str(text: str, line: str) -> None:
    assert str(classify(text)) == line


def test_address_info_is_a_frozen_value() -> None:
    info = classify("10.0.0.1")
    assert isinstance(info, AddressInfo)
    assert info == classify(10 << 24 | 1)
    assert hash(info) == hash(classify("10.0.0.1"))
    with pytest.raises(AttributeError):
        info.category = C.PUBLIC  # type: ignore[misc]


def test_classify_errors() -> None:
    with pytest.raises(netbasics.AddressError, match="leading zero"):
        classify("010.0.0.1")
    with pytest.raises(TypeError):
        classify(None)  # type: ignore[arg-type]


def test_category_enum() -> None:
    for name in ["PUBLIC", "PRIVATE", "LOOPBACK", "LINK_LOCAL", "MULTICAST", "UNSPECIFIED", "DOCUMENTATION"]:
        assert AddressCategory[name].name == name
    for name in ["SHARED", "BENCHMARKING", "BROADCAST", "RESERVED"]:
        assert str(AddressCategory[name]) == AddressCategory[name].value
    assert str(C.LINK_LOCAL) == "link-local"


@pytest.mark.parametrize(
    ("text", "colon"),
    [("1.2.3.4:80", 7), ("[::1]:80", 5), ("[fe80::1%eth0]:53", 14), ("192.0.2.1:0", 9), ("[2001:db8::]:65535", 12)],
)
def test_an_endpoint_is_named_as_one(text: str, colon: int) -> None:
    """Issue 23: classify("1.2.3.4:80") named a "bad IPv4 tail"; it says endpoint and names parse_endpoint."""
    for parse in (classify, netbasics.parse_address):
        with pytest.raises(netbasics.AddressError) as info:
            parse(text)
        err = info.value
        assert err.input == text
        assert "endpoint" in err.reason
        assert "parse_endpoint" in err.reason
        assert "IPv4 tail" not in str(err)
        assert err.at == colon
        assert len(str(err)) <= 300
    assert netbasics.parse_endpoint(text).port == int(text.rpartition(":")[2])  # the hint is right


@pytest.mark.parametrize("text", ["1.2.3.4:http", "localhost:80", "1.2.3:80", "[::1]:", "::1:80x", "1.2.3.4:123456"])
def test_what_is_not_an_endpoint_keeps_its_own_reason(text: str) -> None:
    with pytest.raises(netbasics.AddressError) as info:
        classify(text)
    assert "parse_endpoint" not in str(info.value)


@given(st.ip_addresses(), st.integers(0, 65535))
def test_any_address_and_port_is_named_an_endpoint(
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int
) -> None:
    text = f"{addr}:{port}" if addr.version == 4 else f"[{addr}]:{port}"
    with pytest.raises(netbasics.AddressError, match="parse_endpoint"):
        netbasics.parse_address(text)
