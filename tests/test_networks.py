"""Tests for netbasics.networks: parsing, network values, ranges, summarise/collapse/exclude.

Behaviour shared with stdlib ``ipaddress`` is checked against it as the reference
(hypothesis properties); strictness beyond stdlib and the RFC rules are table tests.
"""

from __future__ import annotations

import copy
import ipaddress
import itertools
import pickle
from typing import Union

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from netbasics import (
    Address,
    AddressCategory,
    AddressError,
    AddressRange,
    CIDRError,
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    Network,
    collapse,
    exclude,
    parse_address,
    parse_network,
    parse_range,
    summarize_range,
)
from netbasics._data.registry import IPV4_ENTRIES, IPV6_ENTRIES, prefix_bounds

StdNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
C = AddressCategory


def _prefix(bits: int, min_len: int = 0) -> st.SearchStrategy[tuple[int, int]]:
    """(network int, prefixlen) with host bits clear."""
    return st.integers(min_len, bits).flatmap(
        lambda p: st.integers(0, (1 << bits) - 1).map(lambda ip: (ip >> (bits - p) << (bits - p), p))
    )


def _net(version: int, ip: int, plen: int) -> Network:
    return IPv4Network((ip, plen)) if version == 4 else IPv6Network((ip, plen))


def _std(version: int, ip: int, plen: int) -> StdNetwork:
    return ipaddress.IPv4Network((ip, plen)) if version == 4 else ipaddress.IPv6Network((ip, plen))


family = st.sampled_from([(4, 32), (6, 128)])
network_pairs = family.flatmap(lambda f: st.tuples(st.just(f[0]), _prefix(f[1])))


# --- parsing ------------------------------------------------------------------------------

VALID = [
    ("10.0.0.0/8", "10.0.0.0/8", 4, 8),
    ("0.0.0.0/0", "0.0.0.0/0", 4, 0),
    ("192.0.2.1", "192.0.2.1/32", 4, 32),
    ("192.0.2.1/32", "192.0.2.1/32", 4, 32),
    ("192.168.0.0/255.255.0.0", "192.168.0.0/16", 4, 16),
    ("192.168.0.0/0.0.255.255", "192.168.0.0/16", 4, 16),  # hostmask form
    ("10.0.0.0/255.0.0.0", "10.0.0.0/8", 4, 8),
    ("0.0.0.0/0.0.0.0", "0.0.0.0/0", 4, 0),  # both a netmask and a hostmask: netmask wins
    ("10.0.0.1/255.255.255.255", "10.0.0.1/32", 4, 32),
    ("2001:DB8::/32", "2001:db8::/32", 6, 32),
    ("::/0", "::/0", 6, 0),
    ("::1", "::1/128", 6, 128),
    ("2001:db8:0:0:0:0:0:0/48", "2001:db8::/48", 6, 48),
    ("::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104", 6, 104),
    ("fe80::/10", "fe80::/10", 6, 10),
]


@pytest.mark.parametrize(("text", "canonical", "version", "plen"), VALID)
def test_parse_valid(text: str, canonical: str, version: int, plen: int) -> None:
    net = parse_network(text)
    assert str(net) == canonical
    assert net.version == version
    assert net.prefixlen == plen
    assert parse_network(str(net)) == net
    cls = IPv4Network if version == 4 else IPv6Network
    assert cls(text) == net
    assert net == parse_network(net.to_stdlib())


INVALID = [
    ("", "empty string is not a network"),
    ("10.0.0.0/", "missing prefix length after '/' in '10.0.0.0/'"),
    ("10.0.0.0/33", "prefix length '33' is out of range (0 to 32) in '10.0.0.0/33'"),
    ("2001:db8::/129", "prefix length '129' is out of range (0 to 128)"),
    ("10.0.0.0/08", "prefix length '08' has a leading zero in '10.0.0.0/08'"),
    ("2001:db8::/032", "prefix length '032' has a leading zero"),
    ("10.0.0.0/+8", "prefix length '+8' is not plain ASCII decimal"),
    ("10.0.0.0/-1", "is not plain ASCII decimal"),
    ("10.0.0.0/ 8", "is not plain ASCII decimal"),
    ("10.0.0.0/8 ", "is not plain ASCII decimal"),
    ("10.0.0.0/\u0668", "is not plain ASCII decimal"),  # ARABIC-INDIC DIGIT EIGHT
    ("10.0.0.0/8/8", "is not plain ASCII decimal"),
    ("10.0.0.0/255.0.255.0", "mask '255.0.255.0' is neither a contiguous netmask nor a hostmask"),
    ("10.0.0.0/255.255.0.1", "neither a contiguous netmask nor a hostmask"),
    ("10.0.0.0/255.255.0.256", "bad netmask in '10.0.0.0/255.255.0.256'"),
    ("010.0.0.0/8", "bad address in network '010.0.0.0/8': octet '010' has a leading zero"),
    ("10.0.0/8", "bad address in network '10.0.0/8'"),
    (" 10.0.0.0/8", "bad address in network"),
    ("fe80::%eth0/64", "zones are not allowed in networks: 'fe80::%eth0/64'"),
    ("fe80::1%eth0", "zones are not allowed in networks"),
    ("2001:db8::/ffff:ffff::", "IPv6 networks take a prefix length, not a netmask"),
    ("2001:db8:::/32", "bad address in network"),
    ("10.1.2.3/8", "'10.1.2.3/8' has host bits set; did you mean '10.0.0.0/8'?"),
    ("10.1.2.3/255.0.0.0", "'10.1.2.3/255.0.0.0' has host bits set; did you mean '10.0.0.0/8'?"),
    ("2001:db8::1/32", "'2001:db8::1/32' has host bits set; did you mean '2001:db8::/32'?"),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_parse_invalid(text: str, message: str) -> None:
    with pytest.raises(CIDRError) as info:
        parse_network(text)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_parse_huge_input_is_quoted_short() -> None:
    with pytest.raises(CIDRError) as info:
        parse_network("10.0.0.0/" + "9" * 10_000)
    assert len(str(info.value)) < 300


def test_host_bits_exact_message() -> None:
    with pytest.raises(CIDRError, match=r"^'10\.1\.2\.3/8' has host bits set; did you mean '10\.0\.0\.0/8'\?$"):
        parse_network("10.1.2.3/8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10.1.2.3/8", "10.0.0.0/8"), ("192.0.2.77/255.255.255.0", "192.0.2.0/24"), ("2001:db8::1/32", "2001:db8::/32")],
)
def test_non_strict_masks_host_bits(text: str, expected: str) -> None:
    assert str(parse_network(text, strict=False)) == expected
    cls = IPv4Network if ":" not in text else IPv6Network
    assert str(cls(text, strict=False)) == expected


def test_constructor_forms() -> None:
    assert IPv4Network(("10.0.0.0", 8)) == IPv4Network("10.0.0.0/8")
    assert IPv4Network((167772160, 8)) == IPv4Network("10.0.0.0/8")
    assert IPv4Network((IPv4Address("10.0.0.0"), "255.0.0.0")) == IPv4Network("10.0.0.0/8")
    assert IPv4Network((167772160, "8")) == IPv4Network("10.0.0.0/8")
    assert IPv4Network(IPv4Address("10.0.0.1")) == IPv4Network("10.0.0.1/32")
    assert IPv4Network(167772161) == IPv4Network("10.0.0.1/32")
    assert IPv6Network(1) == IPv6Network("::1/128")
    assert IPv6Network(ipaddress.IPv6Network("2001:db8::/32")) == IPv6Network("2001:db8::/32")
    assert IPv4Network(("10.1.0.0", 8), strict=False) == IPv4Network("10.0.0.0/8")
    assert parse_network(IPv6Address("::1")) == IPv6Network("::1/128")
    assert parse_network(ipaddress.IPv4Address("10.0.0.1")) == IPv4Network("10.0.0.1/32")
    net = IPv4Network("10.0.0.0/8")
    assert parse_network(net) is net


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: IPv4Network("2001:db8::/32"), CIDRError, "not IPv4: this is an IPv6 network"),
        (lambda: IPv6Network("10.0.0.0/8"), CIDRError, "not IPv6: this is an IPv4 network"),
        (lambda: IPv4Network(("10.1.0.0", 8)), CIDRError, "has host bits set; did you mean '10.0.0.0/8'?"),
        (lambda: IPv4Network(("10.0.0.0", 33)), CIDRError, "prefix length 33 is out of range"),
        (lambda: IPv4Network(("10.0.0.0/8", 8)), CIDRError, "must be an address, not a network"),
        (lambda: IPv4Network(("10.0.0.0", True)), TypeError, "prefix length must be an int"),
        (lambda: IPv4Network(2**32), CIDRError, "out of range for an IPv4 address"),
        (lambda: IPv4Network(-1), CIDRError, "out of range"),
        (lambda: IPv4Network(1.5), TypeError, "cannot build a network from float"),  # type: ignore[arg-type]
        (lambda: IPv6Network(IPv6Address("fe80::1%eth0")), CIDRError, "zones are not allowed"),
        (lambda: IPv6Network(ipaddress.IPv6Address("fe80::1%eth0")), CIDRError, "zones are not allowed"),
        (lambda: parse_network(5), TypeError, "does not take an int"),  # type: ignore[arg-type]
        (lambda: parse_network(None), TypeError, "cannot build a network from NoneType"),  # type: ignore[arg-type]
        (lambda: parse_network(b"10.0.0.0/8"), TypeError, "cannot build a network from bytes"),  # type: ignore[arg-type]
    ],
)
def test_constructor_errors(call: object, exc: type[Exception], message: str) -> None:
    with pytest.raises(exc, match=None) as info:
        call()  # type: ignore[operator]
    assert message in str(info.value)


@given(network_pairs)
def test_parse_str_round_trip_and_stdlib_agree(pair: tuple[int, tuple[int, int]]) -> None:
    version, (ip, plen) = pair
    net = _net(version, ip, plen)
    std = _std(version, ip, plen)
    if not (version == 6 and ip >> 32 == 0xFFFF):  # stdlib before 3.13 writes ::ffff:0:1, not RFC 5952 text
        assert str(net) == str(std)
    assert parse_network(str(net)) == net
    assert net.to_stdlib() == std
    assert parse_network(std) == net
    assert pickle.loads(pickle.dumps(net)) == net
    if version == 4:
        assert parse_network(std.with_netmask) == net
        assert parse_network(net.with_netmask) == net
        assert net.with_hostmask == std.with_hostmask


# --- network values -----------------------------------------------------------------------


@given(network_pairs)
def test_attributes_agree_with_stdlib(pair: tuple[int, tuple[int, int]]) -> None:
    version, (ip, plen) = pair
    net = _net(version, ip, plen)
    std = _std(version, ip, plen)
    assert int(net.network_address) == int(std.network_address)
    assert int(net.first) == int(std.network_address)
    assert int(net.last) == int(std.broadcast_address)
    assert int(net.netmask) == int(std.netmask)
    assert int(net.hostmask) == int(std.hostmask)
    assert net.num_addresses == std.num_addresses
    assert net.max_prefixlen == std.max_prefixlen
    if not (version == 6 and ip >> 32 == 0xFFFF):  # stdlib before 3.13 writes ::ffff:0:1, not RFC 5952 text
        assert net.with_prefixlen == std.with_prefixlen
        assert net.with_netmask == std.with_netmask
    assert type(net.first) is (IPv4Address if version == 4 else IPv6Address)
    if isinstance(net, IPv4Network):
        assert int(net.broadcast_address) == int(std.broadcast_address)


@given(network_pairs, st.integers(0, 2**128 - 1))
def test_contains_agrees_with_stdlib(pair: tuple[int, tuple[int, int]], raw: int) -> None:
    version, (ip, plen) = pair
    net = _net(version, ip, plen)
    std = _std(version, ip, plen)
    bits = net.max_prefixlen
    for value in (raw >> (128 - bits), ip, int(net.last), ip ^ (raw >> (128 - bits) >> plen)):
        addr = parse_address(value) if version == 4 else IPv6Address(value)
        std_addr = ipaddress.ip_address(value) if version == 4 else ipaddress.IPv6Address(value)
        expected = std_addr in std
        assert (addr in net) == expected
        assert (str(addr) in net) == expected
        assert (std_addr in net) == expected


def test_contains_other_family_and_types() -> None:
    net4 = IPv4Network("0.0.0.0/0")
    net6 = IPv6Network("::/0")
    assert IPv6Address("::1") not in net4
    assert "::ffff:10.0.0.1" not in net4  # families are separate
    assert IPv4Address("10.0.0.1") not in net6
    assert IPv6Address("fe80::1%eth0") in IPv6Network("fe80::/10")  # the zone is ignored
    with pytest.raises(TypeError, match="use subnet_of"):
        IPv4Network("10.0.0.0/16") in net4  # noqa: B015
    with pytest.raises(TypeError, match="takes an address, not int"):
        5 in net4  # noqa: B015
    with pytest.raises(AddressError):
        "10.0.0.256" in net4  # noqa: B015


@given(network_pairs, network_pairs)
def test_relations_agree_with_stdlib(a: tuple[int, tuple[int, int]], b: tuple[int, tuple[int, int]]) -> None:
    (va, (ia, pa)), (vb, (ib, pb)) = a, b
    if va == vb:
        # Make overlaps likely: move b inside a's neighbourhood.
        bits = 32 if va == 4 else 128
        shift = bits - min(pa, pb)
        ib = (ia >> shift << shift) | (ib & ((1 << shift) - 1)) if shift < bits else ib
        ib = ib >> (bits - pb) << (bits - pb)
    na, nb = _net(va, ia, pa), _net(vb, ib, pb)
    if va != vb:
        assert not na.overlaps(nb)
        assert not na.subnet_of(nb)
        assert not na.supernet_of(nb)
        assert na < nb if va == 4 else na > nb
        return
    sa, sb = _std(va, ia, pa), _std(vb, ib, pb)
    assert na.overlaps(nb) == sa.overlaps(sb)
    assert na.subnet_of(nb) == sa.subnet_of(sb)  # type: ignore[arg-type]
    assert na.supernet_of(nb) == sa.supernet_of(sb)  # type: ignore[arg-type]
    assert na.overlaps(str(nb)) == sa.overlaps(sb)
    assert (na < nb) == (sa < sb)  # type: ignore[operator]
    assert (na <= nb) == (sa <= sb)  # type: ignore[operator]
    assert (na == nb) == (sa == sb)
    assert (hash(na) == hash(nb)) or na != nb


@given(network_pairs, st.integers(0, 4))
def test_subnets_and_supernet_agree_with_stdlib(pair: tuple[int, tuple[int, int]], diff: int) -> None:
    version, (ip, plen) = pair
    net, std = _net(version, ip, plen), _std(version, ip, plen)
    if plen + diff <= net.max_prefixlen:
        assert [n.to_stdlib() for n in net.subnets(new_prefix=plen + diff)] == list(std.subnets(new_prefix=plen + diff))
        if diff:
            assert [n.to_stdlib() for n in net.subnets(diff)] == list(std.subnets(diff))
    if plen - diff >= 0:
        assert net.supernet(new_prefix=plen - diff).to_stdlib() == std.supernet(new_prefix=plen - diff)
        if diff:
            assert net.supernet(diff).to_stdlib() == std.supernet(diff)
    assert net.supernet().to_stdlib() == std.supernet()


def test_subnets_errors_are_eager() -> None:
    net = IPv4Network("10.0.0.0/24")
    with pytest.raises(ValueError, match="shorter than"):
        net.subnets(new_prefix=23)
    with pytest.raises(ValueError, match="longer than /32"):
        net.subnets(9)
    with pytest.raises(ValueError, match="not both"):
        net.subnets(2, new_prefix=26)
    with pytest.raises(ValueError, match="longer than"):
        net.supernet(new_prefix=25)
    with pytest.raises(ValueError, match="negative"):
        net.supernet(25)
    assert IPv6Network("::/0").supernet() == IPv6Network("::/0")  # as stdlib
    whole = IPv6Network("::/0").subnets(new_prefix=128)  # lazy: no 2**128 list
    assert next(whole) == IPv6Network("::/128")


@given(family.flatmap(lambda f: st.tuples(st.just(f[0]), _prefix(f[1], f[1] - 7))))
def test_hosts_agree_with_stdlib(pair: tuple[int, tuple[int, int]]) -> None:
    version, (ip, plen) = pair
    assert [a.to_stdlib() for a in _net(version, ip, plen).hosts()] == list(_std(version, ip, plen).hosts())


HOSTS = [
    # RFC 3021: a /31 point-to-point link uses both addresses.
    ("192.0.2.0/31", ["192.0.2.0", "192.0.2.1"]),
    ("192.0.2.1/32", ["192.0.2.1"]),
    ("192.0.2.0/30", ["192.0.2.1", "192.0.2.2"]),
    ("192.0.2.0/29", ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6"]),
    # RFC 6164: a /127 inter-router link uses both addresses.
    ("2001:db8::/127", ["2001:db8::", "2001:db8::1"]),
    ("2001:db8::1/128", ["2001:db8::1"]),
    # RFC 4291 section 2.6.1: the Subnet-Router anycast address (the first) is skipped.
    ("2001:db8::/126", ["2001:db8::1", "2001:db8::2", "2001:db8::3"]),
]


@pytest.mark.parametrize(("text", "expected"), HOSTS)
def test_hosts_rfc_table(text: str, expected: list[str]) -> None:
    assert [str(a) for a in parse_network(text).hosts()] == expected


def test_hosts_is_lazy() -> None:
    hosts = IPv6Network("::/0").hosts()
    assert next(hosts) == IPv6Address("::1")
    assert next(IPv4Network("0.0.0.0/0").hosts()) == IPv4Address("0.0.0.1")


def test_value_semantics() -> None:
    net = IPv4Network("10.0.0.0/8")
    with pytest.raises(AttributeError, match="immutable"):
        net._ip = 5
    with pytest.raises(AttributeError, match="immutable"):
        del net._plen
    with pytest.raises(AttributeError):
        net.foo = 1
    assert copy.copy(net) is net
    assert copy.deepcopy(net) is net
    assert repr(net) == "IPv4Network('10.0.0.0/8')"
    assert repr(IPv6Network("2001:db8::/32")) == "IPv6Network('2001:db8::/32')"
    assert f"{net:>12}" == "  10.0.0.0/8"
    assert {net, IPv4Network("10.0.0.0/8")} == {net}
    assert net != IPv4Network("10.0.0.0/9")
    assert net != IPv6Network("::a00:0/104")
    assert net != "10.0.0.0/8"
    networks: list[Network] = [
        IPv6Network("::/0"),
        IPv4Network("10.0.0.0/16"),
        IPv4Network("10.0.0.0/8"),
        IPv4Network("9.0.0.0/8"),
    ]
    assert [str(n) for n in sorted(networks)] == ["9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "::/0"]
    with pytest.raises(TypeError):
        net < "10.0.0.0/8"  # noqa: B015


# --- registry facts for whole networks ----------------------------------------------------

CATEGORIES: list[tuple[str, AddressCategory | None, str | None]] = [
    ("10.0.0.0/8", C.PRIVATE, "10.0.0.0/8"),
    ("10.1.0.0/16", C.PRIVATE, "10.0.0.0/8"),
    ("8.0.0.0/8", C.PUBLIC, None),
    ("0.0.0.0/0", None, None),
    ("0.0.0.0/8", None, "0.0.0.0/8"),  # holds 0.0.0.0 (unspecified) and "this network"
    ("0.0.0.1/32", C.THIS_NETWORK, "0.0.0.0/8"),
    ("192.0.0.0/24", C.PROTOCOL_ASSIGNMENT, "192.0.0.0/24"),
    ("192.0.0.0/29", C.PROTOCOL_ASSIGNMENT, "192.0.0.0/29"),
    ("192.0.0.8/31", C.PROTOCOL_ASSIGNMENT, "192.0.0.0/24"),
    ("192.0.0.0/23", None, None),
    ("192.88.99.0/24", None, "192.88.99.0/24"),  # the live 6a44 /32 inside a terminated row
    ("224.0.0.0/4", C.MULTICAST, "224.0.0.0/4"),
    ("240.0.0.0/4", None, "240.0.0.0/4"),  # holds 255.255.255.255, the broadcast row
    ("255.255.255.255/32", C.BROADCAST, "255.255.255.255/32"),
    ("2001:db8::/48", C.DOCUMENTATION, "2001:db8::/32"),
    ("2001::/23", None, "2001::/23"),
    ("2000::/3", None, "2000::/3"),
    ("2600::/16", C.PUBLIC, "2000::/3"),
    ("fe80::/64", C.LINK_LOCAL, "fe80::/10"),
    ("::/0", None, None),
    ("::1/128", C.LOOPBACK, "::1/128"),
    ("::ffff:10.0.0.0/104", C.PRIVATE, "10.0.0.0/8"),  # IPv4-mapped: the IPv4 rows apply
    ("::ffff:8.8.8.0/120", C.PUBLIC, None),
    ("::ffff:0:0/96", None, "::ffff:0:0/96"),
    ("::/96", None, None),
    ("6000::/3", C.RESERVED, None),
    ("4000::/2", None, None),  # holds 5f00::/16 (SRv6)
]


@pytest.mark.parametrize(("text", "category", "prefix"), CATEGORIES)
def test_category_and_entry_table(text: str, category: AddressCategory | None, prefix: str | None) -> None:
    net = parse_network(text)
    assert net.category is category
    entry = net.entry
    assert (entry.prefix if entry is not None else None) == prefix


def _most_specific_row(version: int, first: int, last: int) -> str | None:
    if version == 6 and first >> 32 == 0xFFFF and last >> 32 == 0xFFFF and first != last - 2**32 + 1:
        # Inside ::ffff:0:0/96 (and smaller than it) the IPv4 rows apply, as for addresses.
        return _most_specific_row(4, first & 0xFFFFFFFF, last & 0xFFFFFFFF)
    best: tuple[int, str] | None = None
    for entry in IPV4_ENTRIES if version == 4 else IPV6_ENTRIES:
        lo, hi, plen = prefix_bounds(entry)
        if lo <= first and last <= hi and (best is None or plen > best[0]):
            best = (plen, entry.prefix)
    return None if best is None else best[1]


_special4 = st.sampled_from([prefix_bounds(e)[0] for e in IPV4_ENTRIES])
_special6 = st.sampled_from([prefix_bounds(e)[0] for e in IPV6_ENTRIES])


@given(
    st.one_of(
        st.tuples(st.just(4), st.one_of(_special4, st.integers(0, 2**32 - 1)), st.integers(24, 32)),
        st.tuples(st.just(6), st.one_of(_special6, st.integers(0, 2**128 - 1)), st.integers(122, 128)),
    )
)
def test_category_agrees_with_every_address(case: tuple[int, int, int]) -> None:
    # A slow, obviously correct reference: look at every address of a small network.
    version, ip, plen = case
    bits = 32 if version == 4 else 128
    ip = ip >> (bits - plen) << (bits - plen)
    net = _net(version, ip, plen)
    categories = {
        a.category for a in (parse_address(i) if version == 4 else IPv6Address(i) for i in range(ip, int(net.last) + 1))
    }
    assert net.category is (categories.pop() if len(categories) == 1 else None)
    assert (net.entry.prefix if net.entry else None) == _most_specific_row(version, ip, int(net.last))


# --- summarize_range, collapse, exclude -----------------------------------------------------


def _address_pair(bits: int) -> st.SearchStrategy[tuple[int, int]]:
    top = (1 << bits) - 1
    return st.tuples(st.integers(0, top), st.integers(0, top)).map(sorted).map(tuple)  # type: ignore[arg-type]


@given(st.one_of(st.tuples(st.just(4), _address_pair(32)), st.tuples(st.just(6), _address_pair(128))))
def test_summarize_range_is_exact_and_minimal(case: tuple[int, tuple[int, int]]) -> None:
    version, (lo, hi) = case
    first = parse_address(lo) if version == 4 else IPv6Address(lo)
    last = parse_address(hi) if version == 4 else IPv6Address(hi)
    nets = summarize_range(first, last)
    std = list(ipaddress.summarize_address_range(first.to_stdlib(), last.to_stdlib()))
    assert [n.to_stdlib() for n in nets] == std
    # Exactly [first, last]: contiguous, starting at first and ending at last.
    assert int(nets[0].first) == lo
    assert int(nets[-1].last) == hi
    for a, b in itertools.pairwise(nets):
        assert int(a.last) + 1 == int(b.first)
    assert summarize_range(str(first), str(last)) == nets
    assert AddressRange(first, last).to_networks() == nets
    assert AddressRange(first, last).to_networks() == nets


def test_summarize_range_errors() -> None:
    with pytest.raises(CIDRError, match="before its start"):
        summarize_range("10.0.0.2", "10.0.0.1")
    with pytest.raises(CIDRError, match="different families"):
        summarize_range("10.0.0.1", "::1")
    with pytest.raises(CIDRError, match="zones are not allowed"):
        summarize_range("fe80::1%eth0", "fe80::2")
    with pytest.raises(CIDRError, match="bad first address"):
        summarize_range("10.0.0.256", "10.0.0.1")
    with pytest.raises(TypeError, match="first must be an address"):
        summarize_range(1, 2)  # type: ignore[arg-type]
    assert summarize_range("0.0.0.0", "255.255.255.255") == [IPv4Network("0.0.0.0/0")]
    assert summarize_range("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == [IPv6Network("::/0")]


def _prefix_in(base: int, span_bits: int, bits: int) -> st.SearchStrategy[tuple[int, int]]:
    """Prefixes inside a small block so that collapsing has work to do."""
    return st.integers(bits - span_bits, bits).flatmap(
        lambda p: st.integers(0, (1 << span_bits) - 1).map(lambda x: (base | (x >> (bits - p) << (bits - p)), p))
    )


@given(st.lists(_prefix_in(0x0A000000, 10, 32), max_size=40))
def test_collapse_agrees_with_stdlib_ipv4(prefixes: list[tuple[int, int]]) -> None:
    nets = [IPv4Network(p) for p in prefixes]
    std = list(ipaddress.collapse_addresses(ipaddress.IPv4Network(p) for p in prefixes))
    assert [str(n) for n in collapse(nets)] == [str(n) for n in std]
    assert collapse(str(n) for n in nets) == collapse(nets)
    assert collapse(n.to_stdlib() for n in nets) == collapse(nets)


@given(st.lists(_prefix_in(0x20010DB8 << 96, 12, 128), max_size=40))
def test_collapse_agrees_with_stdlib_ipv6(prefixes: list[tuple[int, int]]) -> None:
    nets = [IPv6Network(p) for p in prefixes]
    std = list(ipaddress.collapse_addresses(ipaddress.IPv6Network(p) for p in prefixes))
    assert [str(n) for n in collapse(nets)] == [str(n) for n in std]


def test_collapse_mixed_and_addresses() -> None:
    got = collapse(["2001:db8::1", "10.0.0.1", IPv4Address("10.0.0.0"), IPv6Address("2001:db8::"), "10.0.0.2/31"])
    assert [str(n) for n in got] == ["10.0.0.0/30", "2001:db8::/127"]
    assert collapse([]) == []
    with pytest.raises(CIDRError, match="host bits"):
        collapse(["10.0.0.1/8"])
    with pytest.raises(TypeError):
        collapse([3.5])  # type: ignore[list-item]


@given(network_pairs, st.integers(0, 8), st.integers(0, 2**128 - 1))
def test_exclude_agrees_with_stdlib(pair: tuple[int, tuple[int, int]], extra: int, raw: int) -> None:
    version, (ip, plen) = pair
    bits = 32 if version == 4 else 128
    assume(plen + extra <= bits)
    new = plen + extra
    sub_ip = ip | ((raw >> (128 - bits)) & ((1 << (bits - plen)) - 1)) >> (bits - new) << (bits - new)
    outer, inner = _net(version, ip, plen), _net(version, sub_ip, new)
    got = exclude(outer, inner)
    expected = sorted(_std(version, ip, plen).address_exclude(_std(version, sub_ip, new)))  # type: ignore[arg-type]
    assert [n.to_stdlib() for n in got] == expected
    assert sum(n.num_addresses for n in got) + inner.num_addresses == outer.num_addresses


def test_exclude_errors() -> None:
    assert exclude("10.0.0.0/8", "10.0.0.0/8") == []
    with pytest.raises(CIDRError, match="is not inside"):
        exclude("10.0.0.0/8", "11.0.0.0/8")
    with pytest.raises(CIDRError, match="is not inside"):
        exclude("10.0.0.0/8", "::/0")
    with pytest.raises(CIDRError, match="is not inside"):
        exclude("10.0.0.0/16", "10.0.0.0/8")


# --- AddressRange --------------------------------------------------------------------------


def test_address_range() -> None:
    r = AddressRange("10.0.0.1", "10.0.0.9")
    assert r.version == 4
    assert r.first == IPv4Address("10.0.0.1")
    assert r.last == IPv4Address("10.0.0.9")
    assert r.num_addresses == 9
    assert "10.0.0.1" in r
    assert IPv4Address("10.0.0.9") in r
    assert ipaddress.IPv4Address("10.0.0.5") in r
    assert "10.0.0.10" not in r
    assert "::1" not in r
    assert [str(n) for n in r.to_networks()] == ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/31"]
    assert str(r) == "10.0.0.1-10.0.0.9"
    assert repr(r) == "AddressRange('10.0.0.1', '10.0.0.9')"
    assert parse_range(str(r)) == r
    assert hash(parse_range("10.0.0.1-10.0.0.9")) == hash(r)
    assert r != AddressRange("10.0.0.1", "10.0.0.8")
    assert r != "10.0.0.1-10.0.0.9"
    assert pickle.loads(pickle.dumps(r)) == r
    assert bool(AddressRange("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
    assert AddressRange("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").num_addresses == 2**128
    with pytest.raises(AttributeError, match="immutable"):
        r._first = 0
    with pytest.raises(TypeError):
        5 in r  # noqa: B015


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10.0.0.1", "a range needs 'first-last'"),
        ("10.0.0.9-10.0.0.1", "is before its start"),
        ("10.0.0.1-::1", "different families"),
        ("10.0.0.1 - 10.0.0.9", "bad range '10.0.0.1 - 10.0.0.9'"),
        ("10.0.0.1-", "bad range"),
        ("fe80::1%eth0-fe80::9", "zones are not allowed"),
    ],
)
def test_address_range_parse_errors(text: str, message: str) -> None:
    with pytest.raises(CIDRError) as info:
        parse_range(text)
    assert message in str(info.value)


def test_address_range_parse_type() -> None:
    with pytest.raises(TypeError):
        parse_range(5)  # type: ignore[arg-type]


# --- networks and ranges as sequences ------------------------------------------------------


@given(family.flatmap(lambda f: st.tuples(st.just(f[0]), _prefix(f[1], f[1] - 8))))
def test_iteration_agrees_with_stdlib_small(pair: tuple[int, tuple[int, int]]) -> None:
    """Small networks (up to 256 addresses): the whole sequence, both directions."""
    version, (ip, plen) = pair
    net, std = _net(version, ip, plen), _std(version, ip, plen)
    ours: list[Address] = list(net)
    assert [a.to_stdlib() for a in ours] == list(std)
    assert list(reversed(net)) == ours[::-1]
    assert len(ours) == net.num_addresses == std.num_addresses
    assert all(type(a) is net.network_address.__class__ for a in ours)


@given(network_pairs, st.data())
def test_indexing_agrees_with_stdlib(pair: tuple[int, tuple[int, int]], data: st.DataObject) -> None:
    """Any network, indexed at random positions from both ends."""
    version, (ip, plen) = pair
    net, std = _net(version, ip, plen), _std(version, ip, plen)
    size = net.num_addresses
    for _ in range(5):
        index = data.draw(st.integers(-size, size - 1))
        assert net[index].to_stdlib() == std[index]
        assert int(net[index]) == ip + (index % size)
    assert net[0] == net.first
    assert net[-1] == net.last
    for bad in (size, -size - 1, size + 2**200):
        with pytest.raises(IndexError, match="out of range"):
            net[bad]
    # The first addresses of a large network come out at once, in order.
    assert [int(a) for a in itertools.islice(net, 3)] == [int(a) for a in itertools.islice(std, 3)]


def test_indexing_errors() -> None:
    net = parse_network("192.0.2.0/30")
    assert net[1] == IPv4Address("192.0.2.1")
    assert net[-1] == IPv4Address("192.0.2.3")
    with pytest.raises(IndexError, match=r"index 4 out of range for 192.0.2.0/30 \(4 addresses\)"):
        net[4]
    with pytest.raises(IndexError, match=r"index -5 out of range"):
        net[-5]
    with pytest.raises(IndexError) as info:
        net[10**5000]
    assert len(str(info.value)) < 200
    for bad in ("1", 1.0, True, None):
        with pytest.raises(TypeError, match="index must be an int"):
            net[bad]  # type: ignore[index]
    with pytest.raises(TypeError, match="not a slice"):
        net[0:2]  # type: ignore[index]
    with pytest.raises(TypeError):  # no len(): a /64 holds more than sys.maxsize addresses
        len(net)  # type: ignore[arg-type]


def test_iterating_slash_zero_is_lazy_and_constant_memory() -> None:
    import tracemalloc

    for net in (parse_network("0.0.0.0/0"), parse_network("::/0")):
        it = iter(net)
        assert next(it) == net.first
        tracemalloc.start()
        try:
            for _ in itertools.islice(it, 50_000):
                pass
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 64_000, peak  # a few addresses alive at a time, not 50,000
        assert next(reversed(net)) == net.last
        assert next(it) == net.first + 50_001


def test_address_range_is_a_sequence_of_addresses() -> None:
    r = AddressRange("10.0.0.1", "10.0.0.9")
    assert list(r) == [IPv4Address("10.0.0.1") + i for i in range(9)]
    assert list(reversed(r)) == list(r)[::-1]
    assert r[0] == r.first
    assert r[-1] == r.last
    assert r[4] == IPv4Address("10.0.0.5")
    with pytest.raises(IndexError, match="out of range"):
        r[9]
    with pytest.raises(IndexError, match="out of range"):
        r[-10]
    six = AddressRange("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
    assert six[-1] == IPv6Address(2**128 - 1)
    assert list(itertools.islice(six, 2)) == [IPv6Address(0), IPv6Address(1)]
    assert int(six.last) - int(six.first) + 1 == six.num_addresses


@given(st.one_of(st.tuples(st.just(4), _address_pair(32)), st.tuples(st.just(6), _address_pair(128))), st.data())
def test_address_range_indexing_agrees_with_networks(case: tuple[int, tuple[int, int]], data: st.DataObject) -> None:
    version, (lo, hi) = case
    make = IPv4Address if version == 4 else IPv6Address
    r = AddressRange(make(lo), make(hi))
    index = data.draw(st.integers(-r.num_addresses, r.num_addresses - 1))
    assert int(r[index]) == lo + index % r.num_addresses
    # The range's addresses, in order, are those of its networks, in order.
    assert list(itertools.islice(r, 300)) == list(itertools.islice(itertools.chain.from_iterable(r.to_networks()), 300))


NETWORK_PREDICATES = [
    ("10.0.0.0/8", "is_private"),
    ("fd00::/8", "is_private"),
    ("127.0.0.0/8", "is_loopback"),
    ("::1/128", "is_loopback"),
    ("169.254.0.0/16", "is_link_local"),
    ("fe80::/10", "is_link_local"),
    ("224.0.0.0/4", "is_multicast"),
    ("ff00::/8", "is_multicast"),
    ("0.0.0.0/32", "is_unspecified"),
    ("::/128", "is_unspecified"),
    ("240.0.0.0/5", "is_reserved"),  # not /4: it holds 255.255.255.255, the broadcast address
    ("fec0::/10", "is_site_local"),
]


@pytest.mark.parametrize(("text", "predicate"), NETWORK_PREDICATES)
def test_network_predicates_follow_category(text: str, predicate: str) -> None:
    net = parse_network(text)
    assert getattr(net, predicate) is True
    # Every address of the network answers the same.
    assert getattr(net.first, predicate)
    assert getattr(net.last, predicate)
    # A network that mixes categories answers False for each.
    wider = net.supernet(new_prefix=0)
    assert getattr(wider, predicate) is False


@given(network_pairs)
def test_network_text_forms_agree_with_stdlib(pair: tuple[int, tuple[int, int]]) -> None:
    version, (ip, plen) = pair
    net, std = _net(version, ip, plen), _std(version, ip, plen)
    assert net.exploded == std.exploded
    if not (version == 6 and ip >> 32 == 0xFFFF):  # stdlib before 3.13 writes ::ffff:0:1, not RFC 5952 text
        assert net.compressed == std.compressed


def test_stdlib_interface_is_read_as_its_text() -> None:
    """A stdlib interface is an address subclass, but it has a prefix: not a silent /32."""
    assert parse_network(ipaddress.ip_interface("10.0.0.0/8")) == IPv4Network("10.0.0.0/8")
    assert parse_network(ipaddress.ip_interface("10.1.0.0/8"), strict=False) == IPv4Network("10.0.0.0/8")
    with pytest.raises(CIDRError, match="host bits set"):
        parse_network(ipaddress.ip_interface("10.1.0.0/8"))
    assert IPv6Network(ipaddress.IPv6Interface("2001:db8::/32")) == IPv6Network("2001:db8::/32")


def test_collapse_of_one_network_or_range_does_not_walk_its_addresses() -> None:
    # Iterables of their addresses now; collapsing them gives the cover at once, even for ::/0.
    assert collapse(IPv6Network("::/0")) == [IPv6Network("::/0")]
    small = IPv4Network("192.0.2.0/29")
    assert collapse(small) == collapse(list(small)) == [small]
    r = AddressRange("10.0.0.1", "10.0.0.4")
    assert collapse(r) == collapse(list(r)) == r.to_networks()


def test_indexing_takes_integer_types() -> None:
    import enum

    class Position(enum.IntEnum):
        THIRD = 2

    class Index:
        def __index__(self) -> int:
            return -1

    net = parse_network("192.0.2.0/30")
    assert net[Position.THIRD] == IPv4Address("192.0.2.2")
    assert net[Index()] == IPv4Address("192.0.2.3")  # type: ignore[index]
    assert AddressRange("10.0.0.1", "10.0.0.3")[Position.THIRD] == IPv4Address("10.0.0.3")
