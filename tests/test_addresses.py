"""The address value types: construction, conversion, ordering, hashing, immutability."""

from __future__ import annotations

import copy
import ipaddress
import pickle
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import netbasics
from netbasics import Address, AddressError, IPv4Address, IPv6Address, parse_address, parse_ipv4, parse_ipv6

V4_MAX = 2**32 - 1
V6_MAX = 2**128 - 1

v4_ints = st.integers(0, V4_MAX)
v6_ints = st.one_of(
    st.integers(0, V6_MAX),
    st.integers(0, 2**40),  # small ones, near the IPv4 range
    v4_ints.map(lambda v: (0xFFFF << 32) | v),  # IPv4-mapped
    st.integers(0, 0xFFFF).map(lambda g: (0xFE80 << 112) | g),
)
zones = st.one_of(st.none(), st.sampled_from(["eth0", "eth1", "1", "lo"]))


@st.composite
def addresses(draw: st.DrawFn) -> Address:
    if draw(st.booleans()):
        return IPv4Address(draw(v4_ints))
    return IPv6Address(draw(v6_ints), draw(zones))


# --------------------------------------------------------------------------- construction


def test_construct_from_int_and_text() -> None:
    assert IPv4Address(3232235777) == IPv4Address("192.168.1.1") == parse_ipv4("192.168.1.1")
    assert IPv6Address(1) == IPv6Address("::1") == parse_ipv6("::1")
    assert IPv4Address(0) == parse_address("0.0.0.0")
    assert IPv4Address(V4_MAX) == parse_address("255.255.255.255")
    assert IPv6Address(V6_MAX) == parse_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")


@pytest.mark.parametrize(
    ("cls", "bad"), [(IPv4Address, -1), (IPv4Address, 2**32), (IPv6Address, -1), (IPv6Address, 2**128)]
)
def test_int_out_of_range(cls: type[Address], bad: int) -> None:
    with pytest.raises(AddressError, match="out of range"):
        cls(bad)


@pytest.mark.parametrize("bad", [True, 1.0, None, b"\x01\x02\x03\x04", [1]])
def test_constructor_types(bad: object) -> None:
    for cls in (IPv4Address, IPv6Address):
        with pytest.raises(TypeError):
            cls(bad)  # type: ignore[arg-type]


def test_parse_address_dispatch() -> None:
    assert parse_address(0) == IPv4Address(0)
    assert parse_address(V4_MAX) == IPv4Address(V4_MAX)
    assert parse_address(V4_MAX + 1) == IPv6Address(V4_MAX + 1)
    assert parse_address(b"\xc0\x00\x02\x01") == IPv4Address("192.0.2.1")
    assert parse_address(bytearray(16)) == IPv6Address(0)
    assert parse_address(memoryview(b"\x7f\x00\x00\x01")) == IPv4Address("127.0.0.1")
    a = IPv4Address(1)
    assert parse_address(a) is a
    with pytest.raises(AddressError, match="out of range"):
        parse_address(2**128)
    with pytest.raises(AddressError, match="out of range"):
        parse_address(-1)
    with pytest.raises(AddressError, match="must be 4 or 16 bytes, got 5"):
        parse_address(b"12345")
    with pytest.raises(TypeError, match="bool"):
        parse_address(True)
    with pytest.raises(TypeError):
        parse_address(1.5)  # type: ignore[arg-type]


def test_parse_address_str_subclass() -> None:
    class Text(str):
        pass

    assert parse_address(Text("10.0.0.1")) == IPv4Address("10.0.0.1")
    assert parse_address(Text("::1")) == IPv6Address(1)


def test_memoryview_counts_bytes_not_items() -> None:
    """A memoryview of 4-byte items has len() 4 but holds 16 bytes: it is an IPv6 address."""
    view = memoryview(bytes(range(16))).cast("I")
    assert len(view) == 4
    assert parse_address(view) == IPv6Address.from_bytes(bytes(range(16)))
    assert IPv6Address.from_bytes(view) == IPv6Address.from_bytes(bytes(range(16)))
    with pytest.raises(AddressError):
        IPv4Address.from_bytes(view)


@given(v4_ints)
def test_ipv4_packed_and_from_bytes(value: int) -> None:
    addr = IPv4Address(value)
    assert addr.packed == ipaddress.IPv4Address(value).packed
    assert IPv4Address.from_bytes(addr.packed) == addr
    assert parse_address(addr.packed) == addr
    assert len(addr.packed) == 4


@given(v6_ints, zones)
def test_ipv6_packed_and_from_bytes(value: int, zone: str | None) -> None:
    addr = IPv6Address(value, zone)
    assert addr.packed == ipaddress.IPv6Address(value).packed
    assert IPv6Address.from_bytes(addr.packed, zone) == addr
    assert IPv6Address.from_bytes(addr.packed) == addr.without_zone()


def test_from_bytes_errors() -> None:
    with pytest.raises(AddressError, match="exactly 4 bytes, got 3"):
        IPv4Address.from_bytes(b"abc")
    with pytest.raises(AddressError, match="exactly 16 bytes, got 4"):
        IPv6Address.from_bytes(b"abcd")
    with pytest.raises(TypeError):
        IPv4Address.from_bytes("abcd")  # type: ignore[arg-type]
    with pytest.raises(AddressError):
        IPv6Address.from_bytes(bytes(16), "bad zone")


# --------------------------------------------------------------------------- stdlib conversion


def _stdlib_twin(addr: Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The stdlib address of the same family and value, without zone."""
    return ipaddress.IPv4Address(int(addr)) if addr.version == 4 else ipaddress.IPv6Address(int(addr))


@given(addresses())
def test_to_stdlib_round_trip(addr: Address) -> None:
    std = addr.to_stdlib()
    assert int(std) == int(addr)
    assert std.version == addr.version
    assert parse_address(std) == addr
    assert std == _stdlib_twin(addr) or addr.zone is not None
    if addr.version == 6:
        assert isinstance(std, ipaddress.IPv6Address)
        assert std.scope_id == addr.zone


@given(st.integers(0, V6_MAX))
def test_from_stdlib(value: int) -> None:
    std = ipaddress.ip_address(value)
    assert int(parse_address(std)) == value
    assert parse_address(std).version == std.version


def test_from_stdlib_zone_follows_our_rules() -> None:
    assert parse_address(ipaddress.IPv6Address("fe80::1%eth0")).zone == "eth0"
    with pytest.raises(AddressError, match="forbidden character"):
        parse_address(ipaddress.IPv6Address("fe80::1%a b"))


def test_stdlib_subclass_is_accepted() -> None:
    class MyV4(ipaddress.IPv4Address):
        pass

    assert parse_address(MyV4("10.0.0.1")) == IPv4Address("10.0.0.1")


# --------------------------------------------------------------------------- attributes


@given(addresses())
def test_attributes_match_stdlib(addr: Address) -> None:
    std = _stdlib_twin(addr)
    assert addr.version == std.version
    assert addr.max_prefixlen == std.max_prefixlen
    assert int(addr) == int(std)
    assert addr.reverse_pointer == std.reverse_pointer
    if addr.version == 4:
        assert str(addr) == addr.exploded == addr.compressed == str(std)
        assert addr.zone is None
        assert addr.ipv4_mapped is None
    else:
        assert std.version == 6
        assert isinstance(std, ipaddress.IPv6Address)
        mapped = std.ipv4_mapped
        assert (addr.ipv4_mapped is None) == (mapped is None)
        if mapped is not None:
            assert addr.ipv4_mapped == IPv4Address(int(mapped))
        hex_digits = "%032x" % int(addr)
        expected = ":".join(hex_digits[k : k + 4] for k in range(0, 32, 4))
        assert addr.exploded == expected + ("" if addr.zone is None else f"%{addr.zone}")


def test_reverse_pointer() -> None:
    assert IPv4Address("192.0.2.5").reverse_pointer == "5.2.0.192.in-addr.arpa"
    assert parse_ipv6("2001:db8::567:89ab").reverse_pointer == (
        "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
    )


def test_ipv4_mapped_conversion() -> None:
    v4 = IPv4Address("192.0.2.1")
    mapped = v4.to_ipv6_mapped()
    assert str(mapped) == "::ffff:192.0.2.1"
    assert mapped.ipv4_mapped == v4
    assert mapped != v4
    assert parse_ipv6("::ffff:c000:201") == mapped
    assert parse_ipv6("::192.0.2.1").ipv4_mapped is None  # IPv4-compatible, deprecated, is not mapped


def test_int_index_format() -> None:
    a = IPv4Address("10.0.0.1")
    assert int(a) == 0x0A000001
    assert hex(a) == "0xa000001"
    assert f"{a:>12}" == "    10.0.0.1"
    assert f"{IPv6Address(1):<5}|" == "::1  |"
    assert repr(IPv6Address("fe80::1%eth0")) == "IPv6Address('fe80::1%eth0')"


# --------------------------------------------------------------------------- equality, ordering, hashing


def _key(a: Address) -> tuple[int, int, str]:
    return (a.version, int(a), a.zone or "")


@given(addresses(), addresses())
def test_ordering_and_equality_consistent(a: Address, b: Address) -> None:
    assert (a == b) == (_key(a) == _key(b))
    assert (a != b) == (_key(a) != _key(b))
    assert (a < b) == (_key(a) < _key(b))
    assert (a <= b) == (_key(a) <= _key(b))
    assert (a > b) == (_key(a) > _key(b))
    assert (a >= b) == (_key(a) >= _key(b))
    if a == b:
        assert hash(a) == hash(b)


@given(st.lists(addresses(), max_size=30))
def test_sort_agrees_with_version_int_zone(items: list[Address]) -> None:
    assert [_key(a) for a in sorted(items)] == sorted(_key(a) for a in items)
    assert len(set(items)) == len({_key(a) for a in items})


@given(v4_ints, v6_ints)
def test_every_ipv4_sorts_before_every_ipv6(v4: int, v6: int) -> None:
    a, b = IPv4Address(v4), IPv6Address(v6)
    assert a < b
    assert a <= b
    assert b > a
    assert b >= a
    assert a != b
    assert not (a == b)  # noqa: SIM201 - __eq__ itself is under test


def test_zone_matters_for_equality() -> None:
    assert parse_ipv6("fe80::1%eth0") != parse_ipv6("fe80::1")
    assert parse_ipv6("fe80::1%eth0") != parse_ipv6("fe80::1%eth1")
    assert parse_ipv6("fe80::1") < parse_ipv6("fe80::1%eth0") < parse_ipv6("fe80::1%eth1") < parse_ipv6("fe80::2")
    assert len({parse_ipv6("fe80::1%eth0"), parse_ipv6("FE80::1%eth0"), parse_ipv6("fe80::1")}) == 2


def test_comparison_with_other_types() -> None:
    a = IPv4Address(1)
    assert a != 1
    assert a != "0.0.0.1"
    assert a != ipaddress.IPv4Address(1)
    assert IPv6Address(1) != ipaddress.IPv6Address(1)
    with pytest.raises(TypeError):
        a < 1  # noqa: B015
    with pytest.raises(TypeError):
        IPv6Address(1) >= "::1"  # noqa: B015


# --------------------------------------------------------------------------- immutability, pickling, memory


PUBLIC_ATTRIBUTES = [
    name for name in dir(IPv6Address) if not name.startswith("_") and isinstance(getattr(IPv6Address, name), property)
] + [name for name in dir(IPv4Address) if not name.startswith("_") and isinstance(getattr(IPv4Address, name), property)]


@pytest.mark.parametrize("addr", [IPv4Address(1), IPv6Address(1), IPv6Address(1, "eth0")])
def test_immutable(addr: Address) -> None:
    # Immutable as stdlib ipaddress and packaging's Tag are: nothing public can be
    # assigned or deleted, nothing can be added, and __init__ cannot run again. (The
    # private slots have no guard; see _BaseAddress for why.)
    for name in PUBLIC_ATTRIBUTES:
        if hasattr(type(addr), name):
            with pytest.raises(AttributeError):
                setattr(addr, name, 5)
            with pytest.raises(AttributeError):
                delattr(addr, name)
    with pytest.raises(AttributeError):
        addr.anything = 1  # type: ignore[union-attr]
    with pytest.raises(AttributeError, match="immutable"):
        addr.__init__(7)  # type: ignore[misc]
    assert not hasattr(addr, "__dict__")
    assert int(addr) == 1
    assert {"zone", "is_global", "packed"} <= set(PUBLIC_ATTRIBUTES)


@given(addresses())
def test_pickle_and_copy(addr: Address) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(addr, protocol))
        assert again == addr
        assert type(again) is type(addr)
        assert again.zone == addr.zone
    assert copy.copy(addr) is addr
    assert copy.deepcopy(addr) is addr
    assert copy.deepcopy([addr])[0] is addr


def test_pickle_names_public_module() -> None:
    assert b"netbasics" in pickle.dumps(IPv4Address(1), 0)
    assert b"netbasics.addresses" not in pickle.dumps(IPv4Address(1), 0)


def test_memory_no_larger_than_stdlib() -> None:
    assert sys.getsizeof(IPv4Address(V4_MAX)) <= sys.getsizeof(ipaddress.IPv4Address(V4_MAX))
    assert sys.getsizeof(IPv6Address(V6_MAX)) <= sys.getsizeof(ipaddress.IPv6Address(V6_MAX))
    assert IPv4Address.__slots__ == ("_ip",)


def test_address_alias_and_type_checks() -> None:
    assert isinstance(IPv4Address(1), (IPv4Address, IPv6Address))
    assert parse_address("::1").version == 6
    assert netbasics.Address is not None


# --------------------------------------------------------------------------- arithmetic


@given(addresses(), st.integers(-(2**130), 2**130))
def test_arithmetic_agrees_with_int_and_stdlib(addr: Address, offset: int) -> None:
    maximum = V4_MAX if addr.version == 4 else V6_MAX
    std = _stdlib_twin(addr)
    for result, op in ((int(addr) + offset, "+"), (int(addr) - offset, "-")):
        if 0 <= result <= maximum:
            ours = addr + offset if op == "+" else addr - offset
            assert type(ours) is type(addr)
            assert int(ours) == result
            assert ours.zone == addr.zone  # the neighbour of a link-local address is on its link
            assert int(ours) == int(std + offset if op == "+" else std - offset)
            if op == "+":
                assert offset + addr == ours
                assert ours - addr == offset  # type: ignore[operator]  # the distance; one family, mypy cannot tell
        else:
            with pytest.raises(AddressError, match="out of range"):
                _ = addr + offset if op == "+" else addr - offset


@given(addresses(), addresses())
def test_distance_is_the_int_difference(a: Address, b: Address) -> None:
    if a.version == b.version:
        distance = a - b  # type: ignore[operator]  # same family, checked above
        assert distance == int(a) - int(b)
        assert int(b + distance) == int(a)  # b's zone is kept, so compare the values
    else:
        with pytest.raises(TypeError):
            _ = a - b  # type: ignore[operator]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            lambda: parse_address("255.255.255.255") + 1,
            "address + 1 = 4294967296 is out of range for IPv4 (0 to 4294967295) in '255.255.255.255'",
        ),
        (
            lambda: parse_address("0.0.0.0") - 1,
            "address - 1 = -1 is out of range for IPv4 (0 to 4294967295) in '0.0.0.0'",
        ),
        (
            lambda: 1 + parse_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            f"+ 1 = {2**128} is out of range for IPv6",
        ),
        (lambda: parse_address("::") - 10**5000, "address - (a 16610-bit int) = -(a 16610-bit int) is out of range"),
    ],
)
def test_arithmetic_out_of_range_names_the_result(expression: object, message: str) -> None:
    with pytest.raises(AddressError) as info:
        expression()  # type: ignore[operator]
    assert message in str(info.value)
    assert len(str(info.value)) < 300


def test_arithmetic_examples_and_types() -> None:
    a = parse_address("192.0.2.1")
    assert a + 1 == parse_address("192.0.2.2")
    assert 1 + a == a + 1
    assert a - 1 == parse_address("192.0.2.0")
    assert parse_ipv4("192.0.2.255") - parse_ipv4("192.0.2.1") == 254
    assert parse_address("fe80::1%eth0") + 1 == parse_address("fe80::2%eth0")
    assert parse_ipv6("fe80::9%eth0") - parse_ipv6("fe80::1") == 8  # zones do not matter to a distance

    class Offset(int):
        pass

    assert a + Offset(2) == parse_address("192.0.2.3")
    for bad in (True, 1.0, "1", None, ipaddress.IPv4Address(1)):
        with pytest.raises(TypeError):
            _ = a + bad  # type: ignore[operator]
        with pytest.raises(TypeError):
            _ = a - bad  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = 1 - a  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = a + a  # type: ignore[operator]


# --------------------------------------------------------------------------- embedded IPv4 (stdlib names)


@given(v6_ints, zones)
def test_sixtofour_teredo_scope_id_agree_with_stdlib(value: int, zone: str | None) -> None:
    ours = IPv6Address(value, zone)
    std = ours.to_stdlib()
    assert ours.scope_id == std.scope_id == zone
    assert (ours.sixtofour and ours.sixtofour.to_stdlib()) == std.sixtofour
    teredo = ours.teredo
    assert (teredo and (teredo[0].to_stdlib(), teredo[1].to_stdlib())) == std.teredo


@given(st.integers(0, 2**80 - 1), v4_ints, st.integers(0, 2**64 - 1), v4_ints)
def test_sixtofour_and_teredo_found(low: int, v4: int, teredo_low: int, server: int) -> None:
    """Random values almost never land in 2002::/16 or 2001::/32: build ones that do."""
    six = IPv6Address(0x2002 << 112 | v4 << 80 | low)
    assert six.sixtofour == IPv4Address(v4)
    assert six.sixtofour.to_stdlib() == six.to_stdlib().sixtofour
    ter = IPv6Address(0x20010000 << 96 | server << 64 | teredo_low)
    assert ter.teredo is not None
    assert ter.teredo[0] == IPv4Address(server)
    assert (ter.teredo[0].to_stdlib(), ter.teredo[1].to_stdlib()) == ter.to_stdlib().teredo


def test_sixtofour_teredo_rfc_examples() -> None:
    # RFC 3056 section 2: 2002:V4ADDR::/48. RFC 4380 section 4: the client's address is inverted.
    assert parse_ipv6("2002:c000:204::1").sixtofour == IPv4Address("192.0.2.4")
    assert parse_ipv6("2001:0:4136:e378:8000:63bf:3fff:fdd2").teredo == (
        IPv4Address("65.54.227.120"),
        IPv4Address("192.0.2.45"),
    )
    assert parse_ipv6("2001:db8::1").sixtofour is None
    assert parse_ipv6("2001:db8::1").teredo is None
