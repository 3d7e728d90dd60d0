"""Networks (CIDR prefixes), address ranges, and the integer algorithms behind them.

A network is an int-backed value like an address: the network's first address as an
int, plus a prefix length; the class gives the family. All the work (containment,
summarising a range into CIDR blocks, collapsing a list of prefixes) is integer
arithmetic, and objects are only built for what the caller gets back.

The integer algorithms shared with :mod:`netbasics.sets` (summarising a range into CIDR
blocks, merging prefixes into intervals, combining interval lists) are described in
``_core``, which holds them.
"""

from __future__ import annotations

import ipaddress
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, ClassVar, Final, Generic, Literal, SupportsIndex, TypeVar, Union

from ._core import MAPPED_LAST, MAPPED_PREFIX, V4_MAX, merge_keys
from ._core import parse_network_text as _parse_parts
from ._data.registry import IPV4_TABLE, IPV6_TABLE, AddressCategory, RegistryEntry
from ._parse import exact_str, format_ipv4, format_ipv6
from .addresses import (
    Address,
    IPv4Address,
    IPv6Address,
    ipv4_each,
    ipv4_from_int,
    ipv6_each,
    ipv6_from_int,
    parse_address,
)
from .errors import AddressError, CIDRError, quote, reason_of

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "AddressRange",
    "IPv4Network",
    "IPv6Network",
    "Network",
    "collapse",
    "exclude",
    "parse_network",
    "parse_range",
    "summarize_range",
]

# The addresses' shared constructors (no checks), under the short names used below.
_v4 = ipv4_from_int
_v6 = ipv6_from_int
_v4_each = ipv4_each
_v6_each = ipv6_each

# How many addresses a network of each prefix length holds (indexing reads these).
_SIZE4: Final = [1 << (32 - p) for p in range(33)]
_SIZE6: Final = [1 << (128 - p) for p in range(129)]

_new = object.__new__
_set = object.__setattr__

_StdAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
_StdNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


# --- text to ints ----------------------------------------------------------------------


def _address_int(value: object, what: str) -> tuple[int, int]:
    """``(version, int)`` of an address given as text or an address object; zones are refused."""
    if isinstance(value, (IPv4Address, IPv6Address)):
        addr: Address = value
    elif isinstance(value, (str, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        try:
            addr = parse_address(value)
        except AddressError as exc:
            raise CIDRError(exc.input, f"bad {what} address: {exc.reason}", at=exc.at) from None
    else:
        raise TypeError(f"{what} must be an address or address text, got {type(value).__name__} {quote(value)}")
    if addr.zone is not None:
        raise CIDRError(f"zones are not allowed in ranges: {quote(str(addr))}")
    return addr.version, int(addr)


def _range_ints(first: object, last: object) -> tuple[int, int, int]:
    """``(version, first, last)`` of a range, checked: one family, ``first <= last``."""
    v1, lo = _address_int(first, "first")
    v2, hi = _address_int(last, "last")
    if v1 != v2:
        raise CIDRError(f"range ends are different families: {quote(str(first))} and {quote(str(last))}")
    if hi < lo:
        raise CIDRError(f"range end {quote(str(last))} is before its start {quote(str(first))}")
    return v1, lo, hi


# --- registry lookups for whole networks ------------------------------------------------


def _registry_facts(
    version: int, first: int, last: int, plen: int
) -> tuple[RegistryEntry | None, AddressCategory | None]:
    """The most specific row covering ``[first, last]`` and the category all its addresses share.

    Read from the registry's interval tables, as the addresses' classification is.
    """
    mapped = version == 6 and first >= MAPPED_PREFIX and last <= MAPPED_LAST and plen > 96
    # A shorter IPv6 network that reaches ::ffff:0:0/96 holds all of it, and so addresses
    # of every IPv4 category: no single category.
    mixed = version == 6 and not mapped and first <= MAPPED_LAST and last >= MAPPED_PREFIX
    if version == 4 or mapped:
        # Inside ::ffff:0:0/96 the IPv4 registry applies, as it does for each address.
        table = IPV4_TABLE
        first &= V4_MAX
        last &= V4_MAX
    else:
        table = IPV6_TABLE
    i = table.index(first)
    j = table.index(last)
    if i == j:
        # One interval: its row is the most specific row of every address, so it covers the
        # whole network, and any other row that does contains it.
        return table.entries[i], None if mixed else table.categories[i]
    category: AddressCategory | None = table.categories[i]
    if mixed or any(c is not category for c in table.categories[i + 1 : j + 1]):
        category = None
    return table.covering(i, j), category


# --- networks ---------------------------------------------------------------------------

_A = TypeVar("_A", IPv4Address, IPv6Address)


def _offset(container: object, index: object, first: int, size: int) -> int:
    """The int address at sequence position ``index`` of ``size`` addresses from ``first``."""
    if index.__class__ is not int:
        if isinstance(index, slice):
            raise TypeError(f"{type(container).__name__} takes an int index, not a slice: iterate it instead")
        if isinstance(index, bool) or not isinstance(index, SupportsIndex):
            raise TypeError(f"{type(container).__name__} index must be an int, not {type(index).__name__}")
        index = operator.index(index)  # int subclasses and integer types such as numpy's
    position = index if index >= 0 else index + size
    if not 0 <= position < size:
        shown = str(index) if index.bit_length() <= 160 else f"(a {index.bit_length()}-bit int)"
        raise IndexError(f"index {shown} out of range for {container} ({size} addresses)")
    return first + position


class _BaseNetwork(Generic[_A]):
    """Behaviour shared by both network families; not part of the public API."""

    __slots__ = ("_ip", "_plen")
    _ip: int
    _plen: int
    _BITS: ClassVar[int]
    _VERSION: ClassVar[int]
    _ADDRESS: ClassVar[type[IPv4Address] | type[IPv6Address]]

    def _addr(self, ip: int) -> _A:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def _fast(cls, ip: int, plen: int) -> Self:
        obj = _new(cls)
        _SET_IP(obj, ip)
        _SET_PLEN(obj, plen)
        return obj

    def _init(self, value: object, strict: bool) -> None:
        if hasattr(self, "_plen"):
            raise AttributeError(f"{type(self).__name__} is immutable")
        version, ip, plen = _network_parts(value, strict, self._VERSION)
        if version != self._VERSION:
            shown = exact_str(value) if isinstance(value, str) else str(value)
            raise CIDRError(shown, f"not IPv{self._VERSION}: this is an IPv{version} network")
        _set(self, "_ip", ip)
        _set(self, "_plen", plen)

    @property
    def prefixlen(self) -> int:
        """The prefix length: how many leading bits are the network part."""
        return self._plen

    @property
    def max_prefixlen(self) -> int:
        """32 for IPv4, 128 for IPv6."""
        return self._BITS

    @property
    def network_address(self) -> _A:
        """The first address of the network (all host bits zero)."""
        return self._addr(self._ip)

    @property
    def first(self) -> _A:
        """The first address of the network; same as :attr:`network_address`."""
        return self._addr(self._ip)

    @property
    def last(self) -> _A:
        """The last address of the network (all host bits one)."""
        return self._addr(self._ip | ((1 << (self._BITS - self._plen)) - 1))

    @property
    def netmask(self) -> _A:
        """The netmask as an address, e.g. ``255.255.255.0`` for a /24."""
        host = self._BITS - self._plen
        return self._addr(((1 << self._plen) - 1) << host)

    @property
    def hostmask(self) -> _A:
        """The hostmask (inverse netmask) as an address, e.g. ``0.0.0.255`` for a /24."""
        return self._addr((1 << (self._BITS - self._plen)) - 1)

    @property
    def num_addresses(self) -> int:
        """How many addresses the network holds: ``2 ** (max_prefixlen - prefixlen)``."""
        return 1 << (self._BITS - self._plen)

    @property
    def with_prefixlen(self) -> str:
        """``address/prefixlen``; same as ``str()``."""
        return str(self)

    @property
    def with_netmask(self) -> str:
        """``address/netmask``, e.g. ``10.0.0.0/255.0.0.0``."""
        return f"{self.network_address}/{self.netmask}"

    @property
    def with_hostmask(self) -> str:
        """``address/hostmask``, e.g. ``10.0.0.0/0.255.255.255``."""
        return f"{self.network_address}/{self.hostmask}"

    @property
    def entry(self) -> RegistryEntry | None:
        """The most specific special-purpose registry row whose block covers the whole network, or None.

        ``None`` when no single row covers it: ordinary public space, or a network wider
        than any row (``0.0.0.0/0``). Inside ``::ffff:0:0/96`` and longer than /96, the
        IPv4 rows apply, as they do to IPv4-mapped addresses.
        """
        return _registry_facts(self._VERSION, self._ip, int(self.last), self._plen)[0]

    @property
    def category(self) -> AddressCategory | None:
        """The :class:`AddressCategory` every address in the network has, or None if they differ.

        Agrees with ``address.category`` for each address: ``8.0.0.0/8`` is public (no row
        covers it), ``192.0.0.0/24`` is a protocol assignment (all its rows are), and
        ``0.0.0.0/0`` mixes categories, so it has none.
        """
        return _registry_facts(self._VERSION, self._ip, int(self.last), self._plen)[1]

    # Classification of the whole network, stdlib's names: each is true when every
    # address of the network has that category (``category`` says which one, if any).
    @property
    def is_private(self) -> bool:
        """True if every address is private-use (RFC 1918, RFC 4193); see :attr:`category`."""
        return self.category is AddressCategory.PRIVATE

    @property
    def is_loopback(self) -> bool:
        """True if every address is loopback (inside 127.0.0.0/8 or ``::1/128``)."""
        return self.category is AddressCategory.LOOPBACK

    @property
    def is_link_local(self) -> bool:
        """True if every address is link-local (inside 169.254.0.0/16 or fe80::/10)."""
        return self.category is AddressCategory.LINK_LOCAL

    @property
    def is_multicast(self) -> bool:
        """True if every address is multicast (inside 224.0.0.0/4 or ff00::/8)."""
        return self.category is AddressCategory.MULTICAST

    @property
    def is_unspecified(self) -> bool:
        """True only for ``0.0.0.0/32`` and ``::/128``."""
        return self.category is AddressCategory.UNSPECIFIED

    @property
    def is_reserved(self) -> bool:
        """True if every address is reserved (as ``address.is_reserved``)."""
        return self.category is AddressCategory.RESERVED

    @property
    def compressed(self) -> str:
        """``address/prefixlen`` in short form; same as ``str()``."""
        return str(self)

    @property
    def exploded(self) -> str:
        """``address/prefixlen`` with the address in full, e.g. ``2001:0db8:0000:...:0000/32``."""
        return f"{self.network_address.exploded}/{self._plen}"

    # A network is a lazy sequence of its addresses: iteration and indexing build only
    # the addresses asked for, so even ``::/0`` iterates in constant memory. There is no
    # len(): it cannot exceed sys.maxsize, and an IPv6 /64 holds 2**64 addresses; use
    # num_addresses.
    def _each(self, ints: range) -> Iterator[_A]:  # pragma: no cover - overridden
        raise NotImplementedError

    def __iter__(self) -> Iterator[_A]:
        """Every address of the network, in order, lazily."""
        return self._each(range(self._ip, (self._ip | ((1 << (self._BITS - self._plen)) - 1)) + 1))

    def __reversed__(self) -> Iterator[_A]:
        """Every address of the network, last first, lazily."""
        return self._each(range(self._ip | ((1 << (self._BITS - self._plen)) - 1), self._ip - 1, -1))

    # __getitem__ is defined by each family: it is the hot one.

    def __contains__(self, item: object) -> bool:
        """``address in network``: an address object, address text, or stdlib address.

        An address of the other family is never in the network; zones are ignored. To
        ask about a whole network use :meth:`subnet_of`.
        """
        if not isinstance(item, (IPv4Address, IPv6Address)):
            if isinstance(item, (_BaseNetwork, ipaddress.IPv4Network, ipaddress.IPv6Network)):
                raise TypeError("'in <network>' takes an address; use subnet_of() for a network")
            if not isinstance(item, (str, ipaddress.IPv4Address, ipaddress.IPv6Address)):
                raise TypeError(f"'in <network>' takes an address, not {type(item).__name__} {quote(item)}")
            item = parse_address(item)
        if item.__class__ is not self._ADDRESS:
            return False
        host = self._BITS - self._plen
        return int(item) >> host == self._ip >> host

    def overlaps(self, other: Network | str | _StdNetwork) -> bool:
        """True if the two networks share any address (never across families)."""
        o = parse_network(other)
        if o._VERSION != self._VERSION:
            return False
        return self._ip <= int(o.last) and o._ip <= int(self.last)

    def subnet_of(self, other: Network | str | _StdNetwork) -> bool:
        """True if every address of this network is in ``other`` (False across families)."""
        o = parse_network(other)
        if o._VERSION != self._VERSION or o._plen > self._plen:
            return False
        host = self._BITS - o._plen
        return self._ip >> host == o._ip >> host

    def supernet_of(self, other: Network | str | _StdNetwork) -> bool:
        """True if every address of ``other`` is in this network (False across families)."""
        o = parse_network(other)
        if o._VERSION != self._VERSION or o._plen < self._plen:
            return False
        host = self._BITS - self._plen
        return self._ip >> host == o._ip >> host

    def _new_length(self, prefixlen_diff: int, new_prefix: int | None, sign: int) -> int:
        # Arguments, not data: a bad one is the caller's bug, so plain ValueError/TypeError.
        if new_prefix is not None:
            if prefixlen_diff != 1:
                raise ValueError("give prefixlen_diff or new_prefix, not both")
            return _check_length_argument("new_prefix", new_prefix, self._BITS)
        _check_length_argument("prefixlen_diff", prefixlen_diff, self._BITS)
        return self._plen + sign * prefixlen_diff

    def subnets(self, prefixlen_diff: int = 1, new_prefix: int | None = None) -> Iterator[Self]:
        """The subnets of this network, lazily, in order: one level down or at ``new_prefix``.

        Raises :class:`ValueError` at once (not on first use) if the new prefix length
        is shorter than this one's or longer than the family allows.

        >>> [str(n) for n in IPv4Network("10.0.0.0/24").subnets(new_prefix=26)]
        ['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26']
        """
        new = self._new_length(prefixlen_diff, new_prefix, 1)
        if new < self._plen:
            raise ValueError(f"new prefix /{new} is shorter than {self}")
        if new > self._BITS:
            raise ValueError(f"new prefix /{new} is longer than /{self._BITS} for {self}")
        step = 1 << (self._BITS - new)
        fast = self._fast
        return (fast(ip, new) for ip in range(self._ip, int(self.last) + 1, step))

    def supernet(self, prefixlen_diff: int = 1, new_prefix: int | None = None) -> Self:
        """The network containing this one, one level up or at ``new_prefix``.

        As in stdlib ``ipaddress``, a /0 network is its own supernet.

        >>> IPv4Network("10.1.2.0/24").supernet(new_prefix=8)
        IPv4Network('10.0.0.0/8')
        """
        if self._plen == 0:
            return self
        new = self._new_length(prefixlen_diff, new_prefix, -1)
        if new > self._plen:
            raise ValueError(f"new prefix /{new} is longer than {self}")
        if new < 0:
            raise ValueError(f"prefix length would be negative: {self} less {prefixlen_diff} bits")
        host = self._BITS - new
        return self._fast(self._ip >> host << host, new)

    def _host_bounds(self) -> tuple[int, int]:  # pragma: no cover - overridden
        raise NotImplementedError

    def hosts(self) -> Iterator[_A]:
        """The usable host addresses, lazily.

        IPv4: all but the network and broadcast addresses; a /31 yields both its
        addresses (RFC 3021, point-to-point links) and a /32 its one address. IPv6: all
        but the Subnet-Router anycast address (the first one, RFC 4291 section 2.6.1); a
        /127 yields both addresses (RFC 6164) and a /128 its one address. Same as stdlib.
        """
        lo, hi = self._host_bounds()
        return self._each(range(lo, hi + 1))

    def __hash__(self) -> int:
        return hash((self._VERSION, self._ip, self._plen))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._ip == other._ip and self._plen == other._plen
        if isinstance(other, _BaseNetwork):
            return False
        return NotImplemented

    def _key(self) -> tuple[int, int, int]:
        return (self._VERSION, self._ip, self._plen)

    # Ordered by family (IPv4 first), then network address, then prefix length, as in
    # stdlib (which orders by netmask) except that families compare instead of raising.
    def __lt__(self, other: object) -> bool:
        if isinstance(other, _BaseNetwork):
            return self._key() < other._key()
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, _BaseNetwork):
            return self._key() <= other._key()
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, _BaseNetwork):
            return self._key() > other._key()
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, _BaseNetwork):
            return self._key() >= other._key()
        return NotImplemented

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self}')"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce__(self) -> tuple[type[Self], tuple[tuple[int, int]]]:
        return (type(self), ((self._ip, self._plen),))

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: object) -> Self:
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")


class IPv4Network(_BaseNetwork[IPv4Address]):
    """An IPv4 network (CIDR prefix): an immutable, hashable, ordered value.

    Build one from text (``"10.0.0.0/8"``, ``"10.0.0.0/255.0.0.0"`` or the hostmask
    ``"10.0.0.0/0.255.255.255"``; a bare address is a /32), from an ``(address,
    prefixlen)`` tuple, from an :class:`IPv4Address`, or from a stdlib network. With
    ``strict=True`` (the default) host bits set raise :class:`CIDRError`; with
    ``strict=False`` they are masked off.

    >>> net = IPv4Network("192.168.0.0/255.255.255.0")
    >>> net, net.num_addresses, net.broadcast_address
    (IPv4Network('192.168.0.0/24'), 256, IPv4Address('192.168.0.255'))
    >>> "192.168.0.77" in net, net.category
    (True, <AddressCategory.PRIVATE: 'private'>)
    """

    __slots__ = ()
    _BITS = 32
    _VERSION = 4
    _ADDRESS = IPv4Address

    def __init__(
        self,
        value: str
        | tuple[int | str | IPv4Address, int | str]
        | int
        | IPv4Address
        | ipaddress.IPv4Network
        | ipaddress.IPv4Address,
        strict: bool = True,
    ) -> None:
        self._init(value, strict)

    def _addr(self, ip: int) -> IPv4Address:
        return _v4(ip)

    def _each(self, ints: range) -> Iterator[IPv4Address]:
        return _v4_each(ints)

    def __getitem__(self, index: int) -> IPv4Address:
        """The address at ``index``: ``net[0]`` is the first, ``net[-1]`` the last.

        Raises :class:`IndexError` outside ``-num_addresses`` to ``num_addresses - 1``.
        """
        # The common case inline (an int in range); _offset checks and explains the rest.
        if type(index) is int:
            size = _SIZE4[self._plen]  # a list subscript: no shift, no new int
            if 0 <= index < size:
                return _v4(self._ip + index)
            if -size <= index < 0:
                return _v4(self._ip + size + index)
        return _v4(_offset(self, index, self._ip, _SIZE4[self._plen]))

    @property
    def version(self) -> Literal[4]:
        """Always 4."""
        return 4

    @property
    def broadcast_address(self) -> IPv4Address:
        """The last address of the network (IPv4 only: IPv6 has no broadcast, use :attr:`last`)."""
        return _v4(self._ip | ((1 << (32 - self._plen)) - 1))

    def _host_bounds(self) -> tuple[int, int]:
        last = self._ip | ((1 << (32 - self._plen)) - 1)
        if self._plen >= 31:  # RFC 3021: a /31 has no network or broadcast address
            return self._ip, last
        return self._ip + 1, last - 1

    def to_stdlib(self) -> ipaddress.IPv4Network:
        """The equivalent :class:`ipaddress.IPv4Network`."""
        return ipaddress.IPv4Network((self._ip, self._plen))

    def __str__(self) -> str:
        return f"{format_ipv4(self._ip)}/{self._plen}"


class IPv6Network(_BaseNetwork[IPv6Address]):
    """An IPv6 network (CIDR prefix): an immutable, hashable, ordered value.

    Build one from text (``"2001:db8::/32"``; a bare address is a /128), from an
    ``(address, prefixlen)`` tuple, an :class:`IPv6Address` or a stdlib network. Zones
    are refused: a prefix is not tied to one link. ``str()`` uses RFC 5952 text.

    >>> net = IPv6Network("2001:DB8::/32")
    >>> net, net.last
    (IPv6Network('2001:db8::/32'), IPv6Address('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'))
    >>> print(net.entry)
    2001:db8::/32 Documentation (RFC 3849)
    """

    __slots__ = ()
    _BITS = 128
    _VERSION = 6
    _ADDRESS = IPv6Address

    def __init__(
        self,
        value: str
        | tuple[int | str | IPv6Address, int | str]
        | int
        | IPv6Address
        | ipaddress.IPv6Network
        | ipaddress.IPv6Address,
        strict: bool = True,
    ) -> None:
        self._init(value, strict)

    def _addr(self, ip: int) -> IPv6Address:
        return _v6(ip, None)

    def _each(self, ints: range) -> Iterator[IPv6Address]:
        return _v6_each(ints)

    def __getitem__(self, index: int) -> IPv6Address:
        """The address at ``index``: ``net[0]`` is the first, ``net[-1]`` the last.

        Raises :class:`IndexError` outside ``-num_addresses`` to ``num_addresses - 1``.
        """
        if type(index) is int:
            size = _SIZE6[self._plen]
            if 0 <= index < size:
                return _v6(self._ip + index, None)
            if -size <= index < 0:
                return _v6(self._ip + size + index, None)
        return _v6(_offset(self, index, self._ip, _SIZE6[self._plen]), None)

    @property
    def is_site_local(self) -> bool:
        """True if every address is in the deprecated site-local block fec0::/10 (RFC 3879)."""
        return self.category is AddressCategory.SITE_LOCAL

    @property
    def version(self) -> Literal[6]:
        """Always 6."""
        return 6

    def _host_bounds(self) -> tuple[int, int]:
        last = self._ip | ((1 << (128 - self._plen)) - 1)
        if self._plen >= 127:  # RFC 6164 (/127 point-to-point links) and the single /128
            return self._ip, last
        return self._ip + 1, last  # skip the Subnet-Router anycast address, RFC 4291 section 2.6.1

    def to_stdlib(self) -> ipaddress.IPv6Network:
        """The equivalent :class:`ipaddress.IPv6Network`."""
        return ipaddress.IPv6Network((self._ip, self._plen))

    def __str__(self) -> str:
        return f"{format_ipv6(self._ip)}/{self._plen}"


#: Either network family.
Network = Union[IPv4Network, IPv6Network]

_NetworkLike = Union[str, Network, Address, _StdNetwork, _StdAddress]


# Writing the slots through their descriptors skips the name lookup of object.__setattr__
# (and our own __setattr__, which refuses): about a quarter faster per object.
_SET_IP: Callable[[object, int], None] = vars(_BaseNetwork)["_ip"].__set__
_SET_PLEN: Callable[[object, int], None] = vars(_BaseNetwork)["_plen"].__set__


def _net4(ip: int, plen: int) -> IPv4Network:
    """Build an IPv4Network from trusted ints, skipping validation (hot path)."""
    obj = _new(IPv4Network)
    _SET_IP(obj, ip)
    _SET_PLEN(obj, plen)
    return obj


def _net6(ip: int, plen: int) -> IPv6Network:
    """Build an IPv6Network from trusted ints, skipping validation (hot path)."""
    obj = _new(IPv6Network)
    _SET_IP(obj, ip)
    _SET_PLEN(obj, plen)
    return obj


def _check_length(value: object, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a prefix length must be an int, got {type(value).__name__} {quote(value)}")
    if not 0 <= value <= maximum:
        raise CIDRError(f"prefix length {quote(value)} is out of range (0 to {maximum})")
    return value


def _check_length_argument(name: str, value: object, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {quote(value)}")
    if not 0 <= value <= maximum:
        raise ValueError(f"{name} must be 0 to {maximum}, got {quote(value)}")
    return value


def _network_parts(value: object, strict: bool, int_version: int) -> tuple[int, int, int]:
    """``(version, network int, prefixlen)`` of anything a network can be built from.

    ``int_version`` says which family a bare int (or an int in a tuple) belongs to.
    """
    if isinstance(value, str):
        return _parse_parts(exact_str(value), strict)
    if isinstance(value, _BaseNetwork):
        return value._VERSION, value._ip, value._plen
    if isinstance(value, (IPv4Address, IPv6Address)):
        if value.zone is not None:
            raise CIDRError(f"zones are not allowed in networks: {quote(str(value))}")
        return value.version, int(value), value.max_prefixlen
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return value.version, int(value.network_address), value.prefixlen
    if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        # An address subclass in the stdlib, but it carries a prefix: read it as its text,
        # so host bits follow ``strict`` as they would for "192.0.2.1/24".
        return _parse_parts(str(value), strict)
    if isinstance(value, ipaddress.IPv6Address) and value.scope_id is not None:
        raise CIDRError(f"zones are not allowed in networks: {quote(str(value))}")
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value.version, int(value), value.max_prefixlen
    if isinstance(value, int) and not isinstance(value, bool):
        bits = 32 if int_version == 4 else 128
        if not 0 <= value < 1 << bits:
            raise CIDRError(f"{quote(value)} is out of range for an IPv{int_version} address")
        return int_version, value, bits
    if isinstance(value, tuple) and len(value) == 2:
        addr, length = value
        if isinstance(length, str):
            if isinstance(addr, int) and not isinstance(addr, bool):
                version, ip, _ = _network_parts(addr, True, int_version)
                addr = format_ipv4(ip) if version == 4 else format_ipv6(ip)
            return _parse_parts(f"{addr}/{length}", strict)
        version, ip, bits = _network_parts(addr, True, int_version)
        if bits != (32 if version == 4 else 128):
            raise CIDRError(f"the address in {quote(value)} must be an address, not a network")
        plen = _check_length(length, bits)
        host = bits - plen
        if ip & ((1 << host) - 1):
            masked = ip >> host << host
            if strict:
                fixed = f"{format_ipv4(masked) if version == 4 else format_ipv6(masked)}/{plen}"
                raise CIDRError(f"{quote(value)} has host bits set; did you mean {quote(fixed)}?")
            ip = masked
        return version, ip, plen
    raise TypeError(f"cannot build a network from {type(value).__name__} {quote(value)}")


def parse_network(value: _NetworkLike, *, strict: bool = True) -> Network:
    """Build an :class:`IPv4Network` or :class:`IPv6Network` from text or an object.

    Text forms: ``a.b.c.d/n``, ``a.b.c.d/netmask``, ``a.b.c.d/hostmask`` (a mask that
    is both, like ``0.0.0.0``, is read as a netmask), ``v6/n``, and a bare address as a
    /32 or /128. The prefix length is plain ASCII decimal with no sign, spaces or
    leading zero (``/08`` is refused, as ``010`` is in an address). Zones are refused.
    Networks are returned as they are; addresses become single-address networks;
    stdlib ``ipaddress`` networks and addresses are converted.

    With ``strict=True``, host bits set raise :class:`CIDRError` showing the fix;
    ``strict=False`` masks them off.

    >>> parse_network("10.1.2.3/8")
    Traceback (most recent call last):
    ...
    netbasics.CIDRError: '10.1.2.3/8' has host bits set; did you mean '10.0.0.0/8'?
    >>> parse_network("10.1.2.3/8", strict=False), parse_network("2001:db8::1")
    (IPv4Network('10.0.0.0/8'), IPv6Network('2001:db8::1/128'))
    """
    cls = value.__class__
    if cls is IPv4Network or cls is IPv6Network:
        return value  # type: ignore[return-value]
    if cls is str:
        version, ip, plen = _parse_parts(value, strict)  # type: ignore[arg-type]
    elif isinstance(value, int):
        raise TypeError("parse_network does not take an int: the family would be a guess")
    else:
        version, ip, plen = _network_parts(value, strict, 4)
    return _net4(ip, plen) if version == 4 else _net6(ip, plen)


def summarize_range(
    first: Address | str | _StdAddress,
    last: Address | str | _StdAddress,
) -> list[Network]:
    """The fewest networks that together cover exactly the addresses ``first`` to ``last``.

    Both ends are included and must be the same family, with ``first <= last``; raises
    :class:`CIDRError` otherwise. Same result as stdlib ``summarize_address_range``.

    >>> [str(n) for n in summarize_range("192.0.2.5", "192.0.2.20")]
    ['192.0.2.5/32', '192.0.2.6/31', '192.0.2.8/29', '192.0.2.16/30', '192.0.2.20/32']
    """
    version, lo, hi = _range_ints(first, last)
    return _bounds_networks([lo, hi + 1], version)


def _collect_keys(items: Iterable[object], keys4: list[int], keys6: list[int]) -> None:
    """Append the prefix key ``start << 8 | host_bits`` of each network-like item."""
    add4 = keys4.append
    add6 = keys6.append
    for item in items:
        cls = item.__class__
        if cls is IPv4Network:
            add4(item._ip << 8 | (32 - item._plen))  # type: ignore[attr-defined]
        elif cls is IPv6Network:
            add6(item._ip << 8 | (128 - item._plen))  # type: ignore[attr-defined]
        else:
            net = parse_network(item)  # type: ignore[arg-type]
            if net._VERSION == 4:
                add4(net._ip << 8 | (32 - net._plen))
            else:
                add6(net._ip << 8 | (128 - net._plen))


# --- shared with sets -----------------------------------------------------------------------
#
# sets builds and reads networks and ranges through these four functions, never through
# their private slots: only this module knows how they are laid out (package-internal:
# not in __all__, not exported).


def prefix_key(network: Network) -> int:
    """The sortable key ``start << 8 | host_bits`` of ``network`` that ``_core.merge_keys`` merges."""
    return network._ip << 8 | (network._BITS - network._plen)


def range_from_ints(version: int, first: int, last: int) -> AddressRange:
    """The AddressRange ``first``-``last`` of ints the caller knows are one family's, ``first <= last`` (no checks)."""
    obj = _new(AddressRange)
    _set(obj, "_version", version)
    _set(obj, "_first", first)
    _set(obj, "_last", last)
    return obj


def range_span(r: AddressRange) -> tuple[int, int, int]:
    """``(version, first, end)``: the range ``r`` as a half-open interval of ints."""
    return r._version, r._first, r._last + 1


def networks_from_bounds(bounds: list[int], version: int) -> list[Network]:
    """The fewest networks of ``version`` covering the flat half-open ``bounds`` (see ``_core``)."""
    return _bounds_networks(bounds, version)


def _bounds_networks(bounds: list[int], version: int) -> list[Network]:
    """The fewest networks covering each half-open interval ``[bounds[k], bounds[k + 1])``, k even.

    The summarising loop of the module docstring, building each network in place.
    """
    cls: type[Network] = IPv4Network if version == 4 else IPv6Network
    bits = 32 if version == 4 else 128
    out: list[Network] = []
    append = out.append
    new, set_ip, set_plen = _new, _SET_IP, _SET_PLEN
    for k in range(0, len(bounds), 2):
        first = bounds[k]
        end = bounds[k + 1]
        while first < end:
            host = (first & -first).bit_length() - 1 if first else bits
            fit = (end - first).bit_length() - 1
            if fit < host:
                host = fit
            obj = new(cls)
            set_ip(obj, first)
            set_plen(obj, bits - host)
            append(obj)
            first += 1 << host
    return out


def collapse(networks: Iterable[_NetworkLike]) -> list[Network]:
    """Merge overlapping and adjacent networks into the fewest networks covering the same addresses.

    Takes networks, addresses (as single-address networks), network text and stdlib
    objects, in any order and of both families; returns a sorted list, IPv4 first. Same
    result as stdlib ``collapse_addresses`` for one family (which refuses a mix).

    >>> [str(n) for n in collapse(["10.0.0.0/25", "10.0.0.128/25", "10.0.1.0/24", "10.0.0.7"])]
    ['10.0.0.0/23']
    """
    if isinstance(networks, _BaseNetwork):
        # A network is an iterable of its addresses, and collapsing them gives it back:
        # answer at once rather than walk (maybe 2**128) addresses.
        return [networks]  # type: ignore[list-item]
    if isinstance(networks, AddressRange):
        return networks.to_networks()
    keys4: list[int] = []
    keys6: list[int] = []
    _collect_keys(networks, keys4, keys6)
    result = _bounds_networks(merge_keys(keys4), 4)
    if keys6:
        result += _bounds_networks(merge_keys(keys6), 6)
    return result


def exclude(network: _NetworkLike, subnet: _NetworkLike) -> list[Network]:
    """The networks covering ``network`` except the addresses of ``subnet``, sorted.

    ``subnet`` must lie inside ``network`` (equal is fine: the result is empty); raises
    :class:`CIDRError` otherwise. Like stdlib ``address_exclude``, but sorted.

    >>> [str(n) for n in exclude("10.0.0.0/24", "10.0.0.64/26")]
    ['10.0.0.0/26', '10.0.0.128/25']
    """
    outer = parse_network(network)
    inner = parse_network(subnet)
    if not inner.subnet_of(outer):
        raise CIDRError(f"{inner} is not inside {outer}")
    # Two ranges, either possibly empty: before the subnet and after it.
    return _bounds_networks([outer._ip, inner._ip, int(inner.last) + 1, int(outer.last) + 1], outer._VERSION)


class AddressRange:
    """An inclusive range of addresses of one family, ``first`` to ``last``.

    ``addr in r`` tests membership. Like a network, a range is a lazy sequence of its
    addresses: iterate it, index it (``r[-1]`` is the last address); its size is
    :attr:`num_addresses` (there is no ``len()``: an IPv6 range can hold more addresses
    than ``len()`` can return). :meth:`to_networks` gives the fewest CIDR networks
    covering it. :func:`parse_range` reads ``first-last``.

    >>> r = AddressRange("10.0.0.1", "10.0.0.9")
    >>> r.num_addresses, "10.0.0.5" in r, r[0], r[-1]
    (9, True, IPv4Address('10.0.0.1'), IPv4Address('10.0.0.9'))
    >>> [str(n) for n in r.to_networks()]
    ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/30', '10.0.0.8/31']
    """

    __slots__ = ("_first", "_last", "_version")
    _first: int
    _last: int
    _version: int

    def __init__(self, first: Address | str | _StdAddress, last: Address | str | _StdAddress) -> None:
        version, lo, hi = _range_ints(first, last)
        _set(self, "_version", version)
        _set(self, "_first", lo)
        _set(self, "_last", hi)

    @property
    def version(self) -> int:
        """4 or 6."""
        return self._version

    def _addr(self, ip: int) -> Address:
        return _v4(ip) if self._version == 4 else _v6(ip, None)

    @property
    def first(self) -> Address:
        """The first address of the range."""
        return self._addr(self._first)

    @property
    def last(self) -> Address:
        """The last address of the range (included)."""
        return self._addr(self._last)

    @property
    def num_addresses(self) -> int:
        """How many addresses the range holds, ``last - first + 1``."""
        return self._last - self._first + 1

    def to_networks(self) -> list[Network]:
        """The fewest networks covering the range, in order (see :func:`summarize_range`)."""
        return _bounds_networks([self._first, self._last + 1], self._version)

    def __iter__(self) -> Iterator[Address]:
        """Every address of the range, in order, lazily (as for a network)."""
        ints = range(self._first, self._last + 1)
        return _v4_each(ints) if self._version == 4 else _v6_each(ints)

    def __reversed__(self) -> Iterator[Address]:
        """Every address of the range, last first, lazily."""
        ints = range(self._last, self._first - 1, -1)
        return _v4_each(ints) if self._version == 4 else _v6_each(ints)

    def __getitem__(self, index: int) -> Address:
        """The address at ``index``: ``r[0]`` is :attr:`first`, ``r[-1]`` is :attr:`last`.

        Raises :class:`IndexError` outside ``-num_addresses`` to ``num_addresses - 1``.
        """
        return self._addr(_offset(self, index, self._first, self._last - self._first + 1))

    def __contains__(self, item: object) -> bool:
        """``address in range``; an address of the other family is never in it, zones are ignored."""
        if not isinstance(item, (IPv4Address, IPv6Address)):
            if not isinstance(item, (str, ipaddress.IPv4Address, ipaddress.IPv6Address)):
                raise TypeError(f"'in <range>' takes an address, not {type(item).__name__} {quote(item)}")
            item = parse_address(item)
        return item.version == self._version and self._first <= int(item) <= self._last

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AddressRange):
            return (self._version, self._first, self._last) == (other._version, other._first, other._last)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((AddressRange, self._version, self._first, self._last))

    def __repr__(self) -> str:
        return f"AddressRange('{self.first}', '{self.last}')"

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"

    def __reduce__(self) -> tuple[type[AddressRange], tuple[str, str]]:
        return (AddressRange, (str(self.first), str(self.last)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("AddressRange is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("AddressRange is immutable")


def parse_range(text: str) -> AddressRange:
    """Parse ``first-last`` text, e.g. ``"10.0.0.1-10.0.0.9"`` (no spaces), into an :class:`AddressRange`.

    Both ends are addresses of one family with ``first <= last``. Raises
    :class:`CIDRError` naming the input, and :class:`TypeError` for a non-``str``.

    >>> parse_range("2001:db8::1-2001:db8::ff")
    AddressRange('2001:db8::1', '2001:db8::ff')
    >>> str(parse_range("10.0.0.9-10.0.0.1"))
    Traceback (most recent call last):
    ...
    netbasics.CIDRError: bad range '10.0.0.9-10.0.0.1': range end '10.0.0.1' is before its start '10.0.0.9'
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_range needs str, got {type(text).__name__} {quote(text)}")
    text = exact_str(text)
    first, sep, last = text.partition("-")
    if not sep:
        raise CIDRError(f"a range needs 'first-last', got {quote(text)}")
    try:
        return AddressRange(first, last)
    except CIDRError as exc:
        raise CIDRError(f"bad range {quote(text)}: {reason_of(exc)}") from None
