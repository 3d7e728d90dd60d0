"""Interfaces (an address with its network): parsing, attributes, values, and stdlib agreement."""

from __future__ import annotations

import copy
import ipaddress
import pickle
from typing import Union

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netbasics import (
    AddressCategory,
    CIDRError,
    Interface,
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
    parse_address,
    parse_interface,
)

StdInterface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]

zones = st.one_of(st.none(), st.sampled_from(["eth0", "en1", "7", "lo"]))


@st.composite
def interfaces(draw: st.DrawFn) -> tuple[int, int, int, str | None]:
    """(version, address int, prefixlen, zone): any address, any prefix, zones on IPv6."""
    if draw(st.booleans()):
        return 4, draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 32)), None
    value = draw(st.one_of(st.integers(0, 2**128 - 1), st.integers(0, 2**32 - 1).map(lambda v: 0xFFFF << 32 | v)))
    return 6, value, draw(st.integers(0, 128)), draw(zones)


def _mapped(version: int, ip: int) -> bool:
    """IPv4-mapped: stdlib before 3.13 writes ::ffff:102:304, netbasics ::ffff:1.2.3.4."""
    return version == 6 and ip >> 32 == 0xFFFF


def _text(version: int, ip: int, plen: int, zone: str | None) -> str:
    address = str(ipaddress.IPv4Address(ip) if version == 4 else ipaddress.IPv6Address(ip))
    return f"{address}{'%' + zone if zone else ''}/{plen}"


# --- agreement with stdlib --------------------------------------------------------------


@given(interfaces())
def test_round_trip_and_agree_with_stdlib(case: tuple[int, int, int, str | None]) -> None:
    version, ip, plen, zone = case
    text = _text(version, ip, plen, zone)
    ours = parse_interface(text)
    std: StdInterface = ipaddress.ip_interface(text)
    assert ours.version == std.version == version
    if not _mapped(version, ip):
        assert str(ours) == std.compressed  # stdlib's compressed keeps the zone
    assert parse_interface(str(ours)) == ours
    assert ours.to_stdlib() == std
    assert parse_interface(std) == ours
    assert type(ours)(text) == ours  # the constructor of the same family
    assert int(ours.ip) == int(std.ip)
    assert ours.ip.zone == zone
    # stdlib keeps the zone on the network when the address has no host bits; compare values.
    assert int(ours.network.first) == int(std.network.network_address)
    assert ours.network.prefixlen == std.network.prefixlen
    assert ours.prefixlen == std.network.prefixlen
    assert ours.max_prefixlen == std.max_prefixlen
    assert ours.netmask.to_stdlib() == std.netmask
    assert ours.hostmask.to_stdlib() == std.hostmask
    if zone is None:  # stdlib drops the zone from these, netbasics keeps it
        if not _mapped(version, ip):  # (3.13.0 also drops the prefix from exploded here)
            assert ours.exploded == std.exploded
            assert ours.with_prefixlen == std.with_prefixlen
        # Compared as values: a mask can look IPv4-mapped (::ffff:ffff:ffff), which stdlib
        # before 3.13 writes in hex and netbasics in dotted form (docs/differences.md).
        for mine, theirs in ((ours.with_netmask, std.with_netmask), (ours.with_hostmask, std.with_hostmask)):
            assert [ipaddress.ip_address(part) for part in mine.split("/")] == [
                ipaddress.ip_address(part) for part in theirs.split("/")
            ]
    assert ours.address is ours.ip


@given(interfaces(), interfaces())
def test_order_and_equality_agree_with_stdlib(
    a: tuple[int, int, int, str | None], b: tuple[int, int, int, str | None]
) -> None:
    # Zones are left out: stdlib's ordering ignores them (see docs/differences.md).
    ours_a, ours_b = parse_interface(_text(*a[:3], None)), parse_interface(_text(*b[:3], None))
    std_a, std_b = ours_a.to_stdlib(), ours_b.to_stdlib()
    assert (ours_a == ours_b) == (std_a == std_b)
    assert (hash(ours_a) == hash(ours_b)) or ours_a != ours_b
    if a[0] == b[0]:
        assert (ours_a < ours_b) == (std_a < std_b)  # type: ignore[operator]
        assert (ours_a <= ours_b) == (std_a <= std_b)  # type: ignore[operator]
        assert (ours_a > ours_b) == (std_a > std_b)  # type: ignore[operator]
        assert (ours_a >= ours_b) == (std_a >= std_b)  # type: ignore[operator]
    else:  # IPv4 first, where stdlib raises TypeError
        assert (ours_a < ours_b) == (a[0] == 4)


@given(interfaces())
def test_classification_is_the_address(case: tuple[int, int, int, str | None]) -> None:
    iface = parse_interface(_text(*case))
    address = iface.ip
    assert iface.category is address.category
    for name in ("is_global", "is_private", "is_loopback", "is_link_local", "is_multicast", "is_unspecified"):
        assert getattr(iface, name) == getattr(address, name), name
    assert iface.is_reserved == address.is_reserved
    if isinstance(iface, IPv6Interface):
        assert iface.is_site_local == iface.ip.is_site_local


# --- forms and errors -----------------------------------------------------------------------


def test_forms() -> None:
    i = parse_interface("192.168.1.10/24")
    assert isinstance(i, IPv4Interface)
    assert i.ip == IPv4Address("192.168.1.10")
    assert i.network == IPv4Network("192.168.1.0/24")
    assert (i.prefixlen, str(i.netmask), str(i.hostmask)) == (24, "255.255.255.0", "0.0.0.255")
    assert (i.with_prefixlen, i.with_netmask, i.with_hostmask) == (
        "192.168.1.10/24",
        "192.168.1.10/255.255.255.0",
        "192.168.1.10/0.0.0.255",
    )
    assert i.compressed == str(i) == "192.168.1.10/24"
    assert repr(i) == "IPv4Interface('192.168.1.10/24')"
    assert parse_interface("192.168.1.10/255.255.255.0") == i
    assert parse_interface("192.168.1.10/0.0.0.255") == i
    assert IPv4Interface("192.168.1.10/24") == i
    assert IPv4Interface(("192.168.1.10", 24)) == i
    assert IPv4Interface((IPv4Address("192.168.1.10"), "255.255.255.0")) == i
    assert IPv4Interface(ipaddress.IPv4Interface("192.168.1.10/24")) == i
    assert parse_interface(("192.168.1.10", 24)) == i
    assert parse_interface(i) is i
    assert parse_interface("10.0.0.1") == IPv4Interface("10.0.0.1/32")
    assert parse_interface(IPv4Address("10.0.0.1")) == IPv4Interface(IPv4Address("10.0.0.1"))
    assert IPv4Interface(167772161) == parse_interface("10.0.0.1/32")
    # A bare int belongs to the constructor's family, as for networks (and stdlib).
    assert IPv6Interface(5) == parse_interface("::5/128")
    assert IPv6Interface((1, 64)) == parse_interface("::1/64")
    assert IPv6Interface(5).to_stdlib() == ipaddress.IPv6Interface(5)
    assert parse_interface((167772161, 8)) == parse_interface("10.0.0.1/8")
    with pytest.raises(CIDRError, match="out of range"):
        IPv4Interface(2**32)
    assert parse_interface(ipaddress.ip_address("10.0.0.1")) == parse_interface("10.0.0.1/32")

    z = parse_interface("FE80::1%eth0/64")
    assert isinstance(z, IPv6Interface)
    assert z.ip == IPv6Address("fe80::1", "eth0")
    assert z.zone == z.scope_id == "eth0"
    assert z.network == IPv6Network("fe80::/64")  # a prefix is not tied to one link
    assert str(z) == z.with_prefixlen == "fe80::1%eth0/64"
    assert z.with_netmask == "fe80::1%eth0/ffff:ffff:ffff:ffff::"
    assert z.to_stdlib() == ipaddress.IPv6Interface("fe80::1%eth0/64")
    assert z.to_stdlib().scope_id == "eth0"
    assert IPv6Interface(("fe80::1%eth0", 64)) == z
    assert IPv6Interface((IPv6Address("fe80::1", "eth0"), 64)) == z
    assert parse_interface("2001:db8::1").prefixlen == 128
    assert parse_interface("2001:db8::1/64").category is AddressCategory.DOCUMENTATION


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty string is not an interface"),
        ("1.2.3/24", "bad address in interface: expected 4 octets separated by '.', got 3 in '1.2.3/24'"),
        ("010.0.0.1/8", "leading zero"),
        ("10.0.0.1/33", "prefix length '33' is out of range (0 to 32)"),
        ("10.0.0.1/08", "leading zero"),
        ("10.0.0.1/", "missing prefix length"),
        ("10.0.0.1/255.0.255.0", "neither a contiguous netmask nor a hostmask"),
        ("2001:db8::1/ffff::", "take a prefix length, not a netmask"),
        ("2001:db8::1/129", "out of range (0 to 128)"),
        ("fe80::1%/64", "zone"),
        ("fe80::1/64%eth0", "not plain ASCII decimal"),
        ("10.0.0.1/24/8", "not plain ASCII decimal"),
        (("10.0.0.1/24", 24), "must be an address, not an interface"),
        (("10.0.0.1", 40), "out of range"),
    ],
)
def test_errors(value: object, message: str) -> None:
    with pytest.raises(CIDRError) as info:
        parse_interface(value)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_error_types_and_family() -> None:
    with pytest.raises(CIDRError, match="not IPv4: this is an IPv6 interface"):
        IPv4Interface("::1/64")
    with pytest.raises(CIDRError, match="not IPv6: this is an IPv4 interface"):
        IPv6Interface("10.0.0.1/8")
    for bad in (5, True, 1.5, None, ("10.0.0.1", 2.0), ("10.0.0.1", True), [1, 2]):
        with pytest.raises(TypeError):
            parse_interface(bad)  # type: ignore[arg-type]
    with pytest.raises(CIDRError) as info:
        parse_interface("1" * 100_000 + "/8")
    assert len(str(info.value)) < 300


def test_value_semantics() -> None:
    i = parse_interface("192.0.2.10/24")
    assert pickle.loads(pickle.dumps(i)) == i
    z = parse_interface("fe80::1%eth0/64")
    assert pickle.loads(pickle.dumps(z)) == z
    assert copy.copy(i) is i
    assert copy.deepcopy(z) is z
    assert {i, parse_interface("192.0.2.10/24"), z} == {i, z}
    with pytest.raises(AttributeError, match="immutable"):
        i._network = None  # type: ignore[assignment]
    with pytest.raises(AttributeError, match="immutable"):
        del i._address
    with pytest.raises(AttributeError, match="immutable"):
        i.__init__("10.0.0.1/8")  # type: ignore[misc]
    with pytest.raises(AttributeError):
        i.extra = 1
    # Not an address: never equal to one, unlike stdlib's subclass.
    assert i != parse_address("192.0.2.10")
    assert i != parse_interface("192.0.2.10/25")
    assert parse_interface("fe80::1%eth0/64") != parse_interface("fe80::1/64")
    assert f"{i:>16}" == "   192.0.2.10/24"
    with pytest.raises(TypeError):
        _ = i < parse_address("192.0.2.10")
    ordered: list[Interface] = sorted(
        [
            parse_interface(t)
            for t in ["::1/64", "10.0.0.9/8", "10.0.0.1/24", "10.0.0.0/24", "fe80::1%b/64", "fe80::1/64"]
        ]
    )
    assert [str(x) for x in ordered] == [
        "10.0.0.9/8",
        "10.0.0.0/24",
        "10.0.0.1/24",
        "::1/64",
        "fe80::1/64",
        "fe80::1%b/64",
    ]
