"""Tests for netbasics.sets.AddressSet.

The reference model is a plain Python ``set`` of ints over a small universe (a /24 of
IPv4 and a /120 of IPv6), where every address can be listed; hypothesis builds sets
from random prefixes and ranges inside it and compares everything against the model.
"""

from __future__ import annotations

import copy
import ipaddress
import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netbasics import (
    AddressError,
    AddressRange,
    AddressSet,
    CIDRError,
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    collapse,
    parse_network,
    parse_range,
)
from netbasics._parse import format_ipv4, format_ipv6

BASE4 = 0xC0000200  # 192.0.2.0/24
BASE6 = 0x20010DB8 << 96  # 2001:db8::/120
V6_OFFSET = 1 << 200  # keeps IPv6 model ints apart from IPv4 ones


def _prefix(base: int, bits: int) -> st.SearchStrategy[str]:
    """Network text for a prefix inside the 256-address universe at ``base``."""
    fmt = format_ipv4 if bits == 32 else format_ipv6
    return st.integers(bits - 8, bits).flatmap(
        lambda p: st.integers(0, 255).map(lambda x: f"{fmt(base | (x >> (bits - p) << (bits - p)))}/{p}")
    )


def _range(base: int, bits: int) -> st.SearchStrategy[str]:
    fmt = format_ipv4 if bits == 32 else format_ipv6
    return st.tuples(st.integers(0, 255), st.integers(0, 255)).map(
        lambda t: f"{fmt(base | min(t))}-{fmt(base | max(t))}"
    )


entries = st.lists(
    st.one_of(_prefix(BASE4, 32), _prefix(BASE6, 128), _range(BASE4, 32), _range(BASE6, 128)), max_size=12
)


def _model(items: list[str]) -> set[int]:
    """The addresses of the entries, listed one by one (IPv6 shifted by V6_OFFSET)."""
    out: set[int] = set()
    for text in items:
        if "-" in text:
            r = parse_range(text)
            lo, hi, v = int(r.first), int(r.last), r.version
        else:
            std = ipaddress.ip_network(text)
            lo, hi, v = int(std.network_address), int(std.broadcast_address), std.version
        out.update(range(lo + (V6_OFFSET if v == 6 else 0), hi + 1 + (V6_OFFSET if v == 6 else 0)))
    return out


def _members(s: AddressSet) -> set[int]:
    """List a set's addresses through its public interface (its networks)."""
    out: set[int] = set()
    for net in s:
        offset = V6_OFFSET if net.version == 6 else 0
        out.update(range(int(net.first) + offset, int(net.last) + 1 + offset))
    return out


UNIVERSE = [IPv4Address(BASE4 + i) for i in range(-2, 258)] + [IPv6Address(BASE6 + i) for i in range(-2, 258)]


@given(entries)
def test_contents_agree_with_model(items: list[str]) -> None:
    s = AddressSet(items)
    model = _model(items)
    assert _members(s) == model
    assert s.num_addresses == len(model)
    assert bool(s) == bool(model)


@given(entries)
def test_membership_agrees_with_linear_scan(items: list[str]) -> None:
    s = AddressSet(items)
    networks = [
        n for text in items for n in (parse_range(text).to_networks() if "-" in text else [parse_network(text)])
    ]
    for addr in UNIVERSE:
        expected = any(addr in n for n in networks)
        assert (addr in s) is expected
        assert (str(addr) in s) is expected
        assert (addr.to_stdlib() in s) is expected


@given(entries, entries)
def test_set_algebra_agrees_with_python_sets(a_items: list[str], b_items: list[str]) -> None:
    a, b = AddressSet(a_items), AddressSet(b_items)
    ma, mb = _model(a_items), _model(b_items)
    assert _members(a | b) == ma | mb
    assert _members(a & b) == ma & mb
    assert _members(a - b) == ma - mb
    assert _members(a ^ b) == ma ^ mb
    assert _members(a.union(b_items)) == ma | mb
    assert _members(a.intersection(b_items)) == ma & mb
    assert _members(a.difference(b_items)) == ma - mb
    assert _members(a.symmetric_difference(b_items)) == ma ^ mb
    assert (a == b) == (ma == mb)
    assert (a <= b) == (ma <= mb) == a.issubset(b) == b.issuperset(a)
    assert (a < b) == (ma < mb)
    assert (a >= b) == (ma >= mb)
    assert (a > b) == (ma > mb)
    assert a.isdisjoint(b) == ma.isdisjoint(mb)
    if ma == mb:
        assert hash(a) == hash(b)


@given(entries, entries, entries)
def test_multi_argument_algebra(a_items: list[str], b_items: list[str], c_items: list[str]) -> None:
    a = AddressSet(a_items)
    ma, mb, mc = _model(a_items), _model(b_items), _model(c_items)
    assert _members(a.union(b_items, AddressSet(c_items))) == ma | mb | mc
    assert _members(a.intersection(b_items, c_items)) == ma & mb & mc
    assert _members(a.difference(b_items, c_items)) == ma - mb - mc


@given(entries)
def test_to_networks_round_trips_and_is_minimal(items: list[str]) -> None:
    s = AddressSet(items)
    nets = s.to_networks()
    assert AddressSet(nets) == s
    assert nets == list(s)
    assert nets == sorted(nets)
    # Minimal: the same as collapsing, for which stdlib is the reference.
    assert nets == collapse(nets)
    v4 = [n.to_stdlib() for n in nets if n.version == 4]
    assert [str(n) for n in ipaddress.collapse_addresses(v4)] == [str(n) for n in nets if n.version == 4]
    assert AddressSet(s.to_ranges()) == s
    assert AddressSet.from_lines(str(n) for n in nets) == s
    assert pickle.loads(pickle.dumps(s)) == s


def test_mixed_inputs() -> None:
    s = AddressSet(
        [
            "10.0.0.0/24",
            "10.0.1.0/255.255.255.0",
            IPv4Network("10.0.2.0/24"),
            IPv4Address("10.0.3.0"),
            ipaddress.IPv4Network("10.0.3.1/32"),
            ipaddress.IPv4Address("10.0.3.2"),
            AddressRange("10.0.3.3", "10.0.3.255"),
            "2001:db8::/33",
            IPv6Network("2001:db8:8000::/33"),
            AddressSet("192.0.2.1-192.0.2.2"),
        ]
    )
    assert [str(n) for n in s] == ["10.0.0.0/22", "192.0.2.1/32", "192.0.2.2/32", "2001:db8::/32"]
    assert s.num_addresses == 1024 + 2 + 2**96
    assert repr(s) == "AddressSet(['10.0.0.0/22', '192.0.2.1/32', '192.0.2.2/32', '2001:db8::/32'])"
    assert [str(r) for r in s.to_ranges()] == [
        "10.0.0.0-10.0.3.255",
        "192.0.2.1-192.0.2.2",
        "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
    ]


def test_single_entry_and_empty() -> None:
    assert AddressSet("10.0.0.0/8") == AddressSet(["10.0.0.0/8"])
    assert AddressSet(IPv4Network("10.0.0.0/8")) == AddressSet(["10.0.0.0/8"])
    assert AddressSet(ipaddress.IPv4Network("10.0.0.0/30")).num_addresses == 4  # not iterated address by address
    empty = AddressSet()
    assert not empty
    assert list(empty) == []
    assert empty.num_addresses == 0
    assert "10.0.0.1" not in empty
    assert empty <= AddressSet("10.0.0.0/8")
    assert repr(empty) == "AddressSet([])"
    whole = AddressSet(["0.0.0.0/0", "::/0"])
    assert whole.num_addresses == 2**32 + 2**128
    assert [str(n) for n in whole] == ["0.0.0.0/0", "::/0"]
    assert "255.255.255.255" in whole
    assert "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" in whole


def test_strict_and_errors() -> None:
    with pytest.raises(CIDRError, match=r"has host bits set; did you mean '10\.0\.0\.0/8'"):
        AddressSet(["10.1.0.0/8"])
    assert AddressSet(["10.1.0.0/8"], strict=False) == AddressSet(["10.0.0.0/8"])
    with pytest.raises(CIDRError, match="bad range"):
        AddressSet(["10.0.0.9-10.0.0.1"])
    with pytest.raises(TypeError, match=r"cannot add float 1\.5 to an AddressSet"):
        AddressSet([1.5])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        AddressSet([7])  # type: ignore[list-item]
    with pytest.raises(CIDRError, match="zones are not allowed"):
        AddressSet([IPv6Address("fe80::1%eth0")])


def test_membership_forms() -> None:
    s = AddressSet(["10.0.0.0/8", "2001:db8::/32"])
    assert "10.255.255.255" in s
    assert "11.0.0.0" not in s
    assert "2001:DB8::1" in s
    assert "fe80::1%eth0" not in s
    assert IPv6Address("2001:db8::1%eth0") in s  # zones are ignored
    assert "::ffff:10.0.0.1" not in s  # families are separate
    # Networks, ranges and sets are "in" when all of them is.
    assert "10.1.0.0/16" in s
    assert IPv4Network("10.0.0.0/7") not in s
    assert ipaddress.IPv6Network("2001:db8:1::/48") in s
    assert AddressRange("10.0.0.5", "10.0.0.9") in s
    assert "9.255.255.255-10.0.0.0" not in s
    assert AddressSet(["10.0.0.0/9", "2001:db8::/40"]) in s
    with pytest.raises(AddressError):
        "10.0.0.256" in s  # noqa: B015
    with pytest.raises(CIDRError):
        "10.0.0.1/33" in s  # noqa: B015
    with pytest.raises(TypeError, match="takes an address, network, range or set, not int"):
        167772161 in s  # noqa: B015


def test_operators_with_other_types() -> None:
    s = AddressSet("10.0.0.0/8")
    assert s.__or__(["10.0.0.0/8"]) is NotImplemented
    assert s.__and__(5) is NotImplemented
    assert s.__sub__(5) is NotImplemented
    assert s.__xor__(5) is NotImplemented
    assert s.__le__(5) is NotImplemented
    assert s.__lt__(5) is NotImplemented
    assert s.__ge__(5) is NotImplemented
    assert s.__gt__(5) is NotImplemented
    assert s != {"10.0.0.0/8"}
    with pytest.raises(TypeError):
        s | ["10.0.0.0/8"]


def test_value_semantics() -> None:
    s = AddressSet(["10.0.0.0/8"])
    with pytest.raises(AttributeError, match="immutable"):
        s._v4 = []
    with pytest.raises(AttributeError, match="immutable"):
        del s._v4
    assert copy.copy(s) is s
    assert copy.deepcopy(s) is s
    assert {s, AddressSet("10.0.0.0/8")} == {s}
    big = AddressSet(f"10.0.{i}.0/25" for i in range(20))
    assert repr(big) == "<AddressSet of 20 ranges, 2560 addresses>"


# --- list files ------------------------------------------------------------------------------

LIST_FILE = """\
# allow list
10.0.0.0/8          # office
  192.0.2.1
2001:db8::/32

198.51.100.10-198.51.100.20
192.168.0.0/255.255.0.0
"""


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "allow.txt"
    path.write_text(LIST_FILE, encoding="utf-8")
    s = AddressSet.from_file(path)
    assert s == AddressSet(
        ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "198.51.100.10-198.51.100.20", "192.168.0.0/16"]
    )
    assert AddressSet.from_file(str(path)) == s
    assert "198.51.100.15" in s
    assert "198.51.100.21" not in s


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("10.0.0.0/8\n\n10.0.0.256/8\n", r"line 3 of '.*bad.txt': bad address in network '10.0.0.256/8'"),
        ("# header\n10.1.0.0/8\n", r"line 2 of '.*bad.txt': '10.1.0.0/8' has host bits set; did you mean '10.0.0.0/8'"),
        ("10.0.0.1 10.0.0.2\n", r"line 1 of '.*bad.txt': bad address in network '10.0.0.1 10.0.0.2'"),
        ("10.0.0.9-10.0.0.1\n", r"line 1 of .*: bad range '10.0.0.9-10.0.0.1'"),
        ("::1\nfe80::/64%eth0\n", r"line 2 of .*: prefix length '64%eth0' is not plain ASCII decimal in"),
    ],
)
def test_from_file_bad_lines(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CIDRError, match=message):
        AddressSet.from_file(path)


def test_from_file_bad_bytes_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bytes.txt"
    path.write_bytes(b"10.0.0.0/8\n10.0.0.\xff/24\n")
    with pytest.raises(CIDRError, match=r"line 2 of .*bytes.txt'.*'10\.0\.0\.\\udcff/24'"):
        AddressSet.from_file(path)


def test_from_file_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        AddressSet.from_file(tmp_path / "absent.txt")


def test_from_lines_without_name() -> None:
    with pytest.raises(CIDRError, match=r"^line 1: bad address"):
        AddressSet.from_lines(["nonsense"])
    assert AddressSet.from_lines([]) == AddressSet()
    assert AddressSet.from_lines(["# only a comment", "   "]) == AddressSet()
