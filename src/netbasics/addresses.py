"""IPv4 and IPv6 address value types and the strict parsers that build them.

Addresses are small immutable values backed by one int (plus an optional zone for
IPv6), like Go's ``netip.Addr``: comparison, hashing and ordering are integer
operations, and classification is a ``bisect`` into tables built from the IANA
registries at import time (see ``_data.registry``).
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from operator import attrgetter

# The C parser, for the hot path only; _parse explains when it is trusted (PTON).
from socket import AF_INET, AF_INET6, inet_pton
from typing import TYPE_CHECKING, Final, Literal, Union, overload

from ._core import MAPPED_MASK, MAPPED_PREFIX, V4_MAX, V6_MAX
from ._data.registry import IPV4_TABLE, IPV6_MAPPED_TABLE, AddressCategory, RegistryEntry
from ._parse import (
    OCTET0,
    OCTET8,
    OCTET16,
    OCTET24,
    PTON,
    exact_str,
    format_ipv4,
    format_ipv6,
    hex_groups_int,
    ipv4_error,
    ipv6_error,
    parse_ipv4_int,
    parse_ipv6_int,
    pure_ipv6_int,
)
from .errors import AddressError, quote

_fb = int.from_bytes

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from typing_extensions import Self

__all__ = [
    "Address",
    "IPv4Address",
    "IPv6Address",
    "is_valid_address",
    "parse_address",
    "parse_ipv4",
    "parse_ipv6",
]

_6TO4_TOP: Final = 0x2002  # 2002::/16, RFC 3056: the top 16 bits
_TEREDO_TOP: Final = 0x20010000  # 2001::/32, RFC 4380: the top 32 bits

_C = AddressCategory

# Classification reads the registry's interval tables (see _data.registry): IPv6 through
# the table that holds the IPv4 intervals inside ::ffff:0:0/96, so an IPv4-mapped address
# lands on its IPv4 row with the same single bisect as any other. The hot properties
# first try the top-byte caches derived from those tables: one subscript answers for
# most addresses, and None sends the rest to the bisect (one C call on short lists).
_V4_STARTS = IPV4_TABLE.starts
_V4_GLOBAL = IPV4_TABLE.globals
_V4_CATEGORY = IPV4_TABLE.categories
_V4_PRIVATE = IPV4_TABLE.privates
_V6_STARTS = IPV6_MAPPED_TABLE.starts
_V6_GLOBAL = IPV6_MAPPED_TABLE.globals
_V6_CATEGORY = IPV6_MAPPED_TABLE.categories
_V6_PRIVATE = IPV6_MAPPED_TABLE.privates
_V4_GLOBAL_8 = IPV4_TABLE.by_top_byte(_V4_GLOBAL)
_V4_PRIVATE_8 = IPV4_TABLE.by_top_byte(_V4_PRIVATE)
_V4_CATEGORY_8 = IPV4_TABLE.by_top_byte(_V4_CATEGORY)
_V6_GLOBAL_8 = IPV6_MAPPED_TABLE.by_top_byte(_V6_GLOBAL)
_V6_PRIVATE_8 = IPV6_MAPPED_TABLE.by_top_byte(_V6_PRIVATE)
_V6_CATEGORY_8 = IPV6_MAPPED_TABLE.by_top_byte(_V6_CATEGORY)


def _check_int(value: object, maximum: int, kind: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{kind} needs an int, got {type(value).__name__} {quote(value)}")
    if not 0 <= value <= maximum:
        raise AddressError(value, f"out of range for {kind} (0 to {maximum})")
    return value


def _int_text(value: int) -> str:
    """An int for an error message: digits when short, its size when huge (never 4300+ digits)."""
    if value.bit_length() <= 160:
        return str(value)
    return f"{'-' if value < 0 else ''}(a {value.bit_length()}-bit int)"


def _out_of_range(addr: object, op: str, other: int, result: int, maximum: int, kind: str) -> AddressError:
    """The error for arithmetic that leaves the family's range: names the operation and its result."""
    return AddressError(
        str(addr), f"address {op} {_int_text(other)} = {_int_text(result)} is out of range for {kind} (0 to {maximum})"
    )


class _BaseAddress:
    """Behaviour shared by both address families; not part of the public API."""

    # Immutable the way packaging's Tag and stdlib ipaddress are: every public attribute
    # is a read-only property, __slots__ refuses new attributes, and __init__ refuses to
    # run twice. There is deliberately no __setattr__ guard on the private slots: any
    # override of __setattr__ or __delattr__ stops CPython from specialising slot
    # writes, and building an address then costs a Python-level call per slot: 8% (IPv4)
    # and 13% (IPv6) of the instructions of parse + classify in bench/addresses.py.
    __slots__ = ()
    _ip: int

    def _refuse_reinit(self) -> None:
        if hasattr(self, "_ip"):
            raise AttributeError(f"{type(self).__name__} is immutable")

    @property
    def version(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def __int__(self) -> int:
        return self._ip

    def __index__(self) -> int:
        return self._ip

    @property
    def category(self) -> AddressCategory:
        """The :class:`AddressCategory` of the most specific registry row."""
        raise NotImplementedError  # pragma: no cover - overridden

    @property
    def entry(self) -> RegistryEntry | None:
        """The most specific IANA registry row covering this address, or ``None``.

        The same row as ``classify(addr).entry`` and, for a network, ``Network.entry``;
        an IPv4-mapped address gives the row of the IPv4 address it carries. ``None``
        for ordinary public IPv4 addresses, which no special-purpose row covers.

        >>> parse_address("192.168.1.10").entry.name
        'Private-Use'
        >>> parse_address("8.8.8.8").entry is None
        True
        """
        raise NotImplementedError  # pragma: no cover - overridden

    # is_private and is_global are defined by each family: they are the hot ones.

    @property
    def is_loopback(self) -> bool:
        """True for 127.0.0.0/8 and ::1 (RFC 1122, RFC 4291)."""
        return self.category is _C.LOOPBACK

    @property
    def is_link_local(self) -> bool:
        """True for 169.254.0.0/16 (RFC 3927) and fe80::/10 (RFC 4291)."""
        return self.category is _C.LINK_LOCAL

    @property
    def is_multicast(self) -> bool:
        """True for 224.0.0.0/4 (RFC 5771) and ff00::/8 (RFC 4291 section 2.7)."""
        return self.category is _C.MULTICAST

    @property
    def is_unspecified(self) -> bool:
        """True for 0.0.0.0 and ::."""
        return self.category is _C.UNSPECIFIED

    @property
    def is_documentation(self) -> bool:
        """True for the RFC 5737, RFC 3849 and RFC 9637 documentation blocks."""
        return self.category is _C.DOCUMENTATION

    @property
    def is_shared(self) -> bool:
        """True for the shared address space 100.64.0.0/10 (RFC 6598, carrier-grade NAT)."""
        return self.category is _C.SHARED

    @property
    def is_benchmarking(self) -> bool:
        """True for 198.18.0.0/15 (RFC 2544) and 2001:2::/48 (RFC 5180)."""
        return self.category is _C.BENCHMARKING

    @property
    def is_reserved(self) -> bool:
        """True for reserved space: 240.0.0.0/4, terminated registry rows, and unassigned IPv6."""
        return self.category is _C.RESERVED

    @property
    def is_broadcast(self) -> bool:
        """True only for the limited broadcast address 255.255.255.255 (RFC 919)."""
        return self.category is _C.BROADCAST


class IPv4Address(_BaseAddress):
    """An IPv4 address: an immutable, hashable, ordered 32-bit value.

    Build one from an int or from text (``IPv4Address("192.0.2.1")``, strict: see
    :func:`parse_ipv4`), from 4 bytes with :meth:`from_bytes`, or let
    :func:`parse_address` pick the family. Every IPv4 address sorts before every IPv6
    address.

    >>> a = IPv4Address(3232235777)
    >>> a
    IPv4Address('192.168.1.1')
    >>> a.is_private, a.is_global
    (True, False)
    """

    __slots__ = ("_ip",)

    def __init__(self, value: int | str) -> None:
        self._refuse_reinit()
        if isinstance(value, str):
            self._ip = parse_ipv4_int(exact_str(value))
        else:
            self._ip = _check_int(value, V4_MAX, "IPv4Address")

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> IPv4Address:
        """Build from 4 bytes in network order (``packed``)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"from_bytes needs bytes, got {type(data).__name__} {quote(data)}")
        if isinstance(data, memoryview):
            data = data.tobytes()  # its len() counts items, not bytes
        if len(data) != 4:
            raise AddressError(bytes(data), f"IPv4 needs exactly 4 bytes, got {len(data)}")
        return _v4(int.from_bytes(data, "big"))

    @property
    def version(self) -> Literal[4]:
        """Always 4."""
        return 4

    @property
    def max_prefixlen(self) -> int:
        """32, the number of bits in an IPv4 address."""
        return 32

    @property
    def zone(self) -> None:
        """IPv4 addresses have no zone; always ``None``."""
        return None

    @property
    def packed(self) -> bytes:
        """The 4 bytes in network order."""
        return self._ip.to_bytes(4, "big")

    @property
    def exploded(self) -> str:
        """Same as ``str()`` for IPv4."""
        return format_ipv4(self._ip)

    @property
    def compressed(self) -> str:
        """Same as ``str()`` for IPv4."""
        return format_ipv4(self._ip)

    @property
    def reverse_pointer(self) -> str:
        """The PTR name in ``in-addr.arpa`` (RFC 1035 section 3.5)."""
        ip = self._ip
        return f"{ip & 255}.{(ip >> 8) & 255}.{(ip >> 16) & 255}.{ip >> 24}.in-addr.arpa"

    @property
    def ipv4_mapped(self) -> None:
        """Only IPv6 addresses embed an IPv4-mapped address; always ``None`` here."""
        return None

    def to_ipv6_mapped(self) -> IPv6Address:
        """This address as ``::ffff:a.b.c.d`` (RFC 4291 section 2.5.5.2)."""
        return _v6(MAPPED_PREFIX | self._ip, None)

    # category, is_global and is_private are the hot properties: each is one lookup.
    @property
    def category(self) -> AddressCategory:
        """The :class:`AddressCategory` of the most specific registry row."""
        value = _V4_CATEGORY_8[self._ip >> 24]
        return _V4_CATEGORY[bisect_right(_V4_STARTS, self._ip) - 1] if value is None else value

    @property
    def entry(self) -> RegistryEntry | None:
        """The most specific IANA registry row covering this address, or ``None``."""
        return IPV4_TABLE.entries[IPV4_TABLE.index(self._ip)]

    @property
    def is_global(self) -> bool:
        """The registry's "Globally Reachable" for the most specific row.

        Outside every row, IPv4 unicast is global. Multicast, N/A and terminated rows
        count as not global.
        """
        value = _V4_GLOBAL_8[self._ip >> 24]
        return _V4_GLOBAL[bisect_right(_V4_STARTS, self._ip) - 1] if value is None else value

    @property
    def is_private(self) -> bool:
        """True for the RFC 1918 blocks 10/8, 172.16/12 and 192.168/16 only.

        Unlike stdlib ``ipaddress``, this does not mean "not global": loopback, link-local,
        documentation and shared (CGNAT) addresses are not private. Use ``is_global``
        to ask whether an address is reachable from the Internet.
        """
        value = _V4_PRIVATE_8[self._ip >> 24]
        return _V4_PRIVATE[bisect_right(_V4_STARTS, self._ip) - 1] if value is None else value

    def to_stdlib(self) -> ipaddress.IPv4Address:
        """The equivalent :class:`ipaddress.IPv4Address`."""
        return ipaddress.IPv4Address(self._ip)

    def __str__(self) -> str:
        ip = self._ip
        return f"{ip >> 24}.{(ip >> 16) & 255}.{(ip >> 8) & 255}.{ip & 255}"

    def __repr__(self) -> str:
        return f"IPv4Address('{self}')"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __hash__(self) -> int:
        return hash(self._ip)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is IPv4Address:
            return self._ip == other._ip
        if isinstance(other, _BaseAddress):
            return False
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        if other.__class__ is IPv4Address:
            return self._ip < other._ip
        if other.__class__ is IPv6Address:
            return True
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if other.__class__ is IPv4Address:
            return self._ip <= other._ip
        if other.__class__ is IPv6Address:
            return True
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if other.__class__ is IPv4Address:
            return self._ip > other._ip
        if other.__class__ is IPv6Address:
            return False
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if other.__class__ is IPv4Address:
            return self._ip >= other._ip
        if other.__class__ is IPv6Address:
            return False
        return NotImplemented

    # Arithmetic: an int offset gives another address of the family (never wrapping);
    # address - address gives the signed distance as an int, as netaddr does.
    def __add__(self, other: int) -> IPv4Address:
        if other.__class__ is int:
            ip = self._ip + other
            if 0 <= ip <= V4_MAX:
                obj = _new(IPv4Address)
                obj._ip = ip
                return obj
            raise _out_of_range(self, "+", other, ip, V4_MAX, "IPv4")
        if isinstance(other, int) and not isinstance(other, bool):
            return self + int(other)
        return NotImplemented

    __radd__ = __add__

    @overload
    def __sub__(self, other: int) -> IPv4Address: ...
    @overload
    def __sub__(self, other: IPv4Address) -> int: ...
    def __sub__(self, other: int | IPv4Address) -> IPv4Address | int:
        cls = other.__class__
        if cls is int:
            ip = self._ip - other  # type: ignore[operator]  # the class test narrows
            if 0 <= ip <= V4_MAX:
                obj = _new(IPv4Address)
                obj._ip = ip
                return obj
            raise _out_of_range(self, "-", other, ip, V4_MAX, "IPv4")  # type: ignore[arg-type]
        if cls is IPv4Address:
            return self._ip - other._ip  # type: ignore[union-attr]
        if isinstance(other, int) and not isinstance(other, bool):
            return self - int(other)
        return NotImplemented

    def __reduce__(self) -> tuple[type[IPv4Address], tuple[int]]:
        return (IPv4Address, (self._ip,))

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: object) -> Self:
        return self


class IPv6Address(_BaseAddress):
    """An IPv6 address: an immutable, hashable, ordered 128-bit value with an optional zone.

    ``str()`` is the RFC 5952 canonical text (lower case, no leading zeros, ``::`` for
    the longest run of two or more zero groups, dotted tail only for IPv4-mapped
    addresses), followed by ``%zone`` when there is one. Addresses with different zones
    are different values (``fe80::1%eth0 != fe80::1``).

    >>> a = parse_ipv6("2001:DB8:0:0:0:0:0:1")
    >>> str(a), a.exploded
    ('2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001')
    >>> parse_ipv6("::ffff:10.0.0.1").ipv4_mapped
    IPv4Address('10.0.0.1')
    """

    __slots__ = ("_ip", "_zone")
    _zone: str | None

    def __init__(self, value: int | str, zone: str | None = None) -> None:
        self._refuse_reinit()
        if isinstance(value, str):
            value = exact_str(value)
            ip, text_zone = parse_ipv6_int(value)
            if zone is not None and text_zone is not None:
                raise AddressError(value, "zone given twice")
            zone = text_zone if zone is None else zone
        else:
            ip = _check_int(value, V6_MAX, "IPv6Address")
        if zone is not None:
            zone = _check_zone(zone)
        self._ip = ip
        self._zone = zone

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, zone: str | None = None) -> IPv6Address:
        """Build from 16 bytes in network order (``packed``), with an optional zone."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"from_bytes needs bytes, got {type(data).__name__} {quote(data)}")
        if isinstance(data, memoryview):
            data = data.tobytes()  # its len() counts items, not bytes
        if len(data) != 16:
            raise AddressError(bytes(data), f"IPv6 needs exactly 16 bytes, got {len(data)}")
        return _v6(int.from_bytes(data, "big"), None if zone is None else _check_zone(zone))

    @property
    def version(self) -> Literal[6]:
        """Always 6."""
        return 6

    @property
    def max_prefixlen(self) -> int:
        """128, the number of bits in an IPv6 address."""
        return 128

    @property
    def zone(self) -> str | None:
        """The scope zone (RFC 4007), e.g. ``"eth0"`` in ``fe80::1%eth0``, or ``None``."""
        return self._zone

    @property
    def scope_id(self) -> str | None:
        """The zone, under stdlib ``ipaddress``'s name; same as :attr:`zone`."""
        return self._zone

    @property
    def sixtofour(self) -> IPv4Address | None:
        """The IPv4 address inside a 6to4 address (``2002::/16``, RFC 3056), or ``None``.

        >>> parse_ipv6("2002:c000:204::1").sixtofour
        IPv4Address('192.0.2.4')
        """
        ip = self._ip
        if ip >> 112 == _6TO4_TOP:
            return _v4((ip >> 80) & V4_MAX)
        return None

    @property
    def teredo(self) -> tuple[IPv4Address, IPv4Address] | None:
        """``(server, client)`` of a Teredo address (``2001::/32``, RFC 4380), or ``None``.

        The server's IPv4 address is bits 32-63; the client's is the last 32 bits,
        inverted (RFC 4380 section 4), which is how it travels past NATs.

        >>> parse_ipv6("2001:0:4136:e378:8000:63bf:3fff:fdd2").teredo
        (IPv4Address('65.54.227.120'), IPv4Address('192.0.2.45'))
        """
        ip = self._ip
        if ip >> 96 == _TEREDO_TOP:
            return _v4((ip >> 64) & V4_MAX), _v4(~ip & V4_MAX)
        return None

    def without_zone(self) -> IPv6Address:
        """The same address with no zone."""
        return self if self._zone is None else _v6(self._ip, None)

    @property
    def packed(self) -> bytes:
        """The 16 bytes in network order (the zone is not included)."""
        return self._ip.to_bytes(16, "big")

    @property
    def exploded(self) -> str:
        """All eight groups, four hex digits each, e.g. ``2001:0db8:0000:...:0001``."""
        h = "%032x" % self._ip
        text = ":".join(h[i : i + 4] for i in range(0, 32, 4))
        return text if self._zone is None else f"{text}%{self._zone}"

    @property
    def compressed(self) -> str:
        """The RFC 5952 canonical text; same as ``str()``."""
        return str(self)

    @property
    def reverse_pointer(self) -> str:
        """The PTR name in ``ip6.arpa`` (RFC 3596 section 2.5)."""
        return ".".join(reversed("%032x" % self._ip)) + ".ip6.arpa"

    @property
    def ipv4_mapped(self) -> IPv4Address | None:
        """The IPv4 address inside ``::ffff:0:0/96`` (RFC 4291 section 2.5.5.2), or ``None``."""
        if self._ip & MAPPED_MASK == MAPPED_PREFIX:
            return _v4(self._ip & V4_MAX)
        return None

    @property
    def category(self) -> AddressCategory:
        """The :class:`AddressCategory`; an IPv4-mapped address takes its IPv4 address's."""
        value = _V6_CATEGORY_8[self._ip >> 120]
        return _V6_CATEGORY[bisect_right(_V6_STARTS, self._ip) - 1] if value is None else value

    @property
    def entry(self) -> RegistryEntry | None:
        """The most specific IANA registry row covering this address (IPv4-mapped unwrapped), or ``None``."""
        return IPV6_MAPPED_TABLE.entries[IPV6_MAPPED_TABLE.index(self._ip)]

    @property
    def is_global(self) -> bool:
        """The registry's "Globally Reachable" for the most specific row.

        Outside every row, IPv6 is global only inside 2000::/3 (global unicast). N/A
        (Teredo, 6to4), multicast and site-local count as not global. An IPv4-mapped
        address answers for its IPv4 address.
        """
        value = _V6_GLOBAL_8[self._ip >> 120]
        return _V6_GLOBAL[bisect_right(_V6_STARTS, self._ip) - 1] if value is None else value

    @property
    def is_private(self) -> bool:
        """True for RFC 4193 unique-local addresses (fc00::/7), or IPv4-mapped RFC 1918.

        Unlike stdlib ``ipaddress``, this does not mean "not global": loopback, link-local,
        documentation and others are not private. Use ``is_global`` to ask whether an
        address is reachable from the Internet.
        """
        value = _V6_PRIVATE_8[self._ip >> 120]
        return _V6_PRIVATE[bisect_right(_V6_STARTS, self._ip) - 1] if value is None else value

    @property
    def is_site_local(self) -> bool:
        """True for the deprecated site-local block fec0::/10 (RFC 3879)."""
        return self.category is _C.SITE_LOCAL

    def to_stdlib(self) -> ipaddress.IPv6Address:
        """The equivalent :class:`ipaddress.IPv6Address` (zone kept on Python 3.9+)."""
        text = format_ipv6(self._ip) if self._zone is None else f"{format_ipv6(self._ip)}%{self._zone}"
        return ipaddress.IPv6Address(text)

    def __str__(self) -> str:
        if self._zone is None:
            return format_ipv6(self._ip)
        return f"{format_ipv6(self._ip)}%{self._zone}"

    def __repr__(self) -> str:
        return f"IPv6Address('{self}')"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __hash__(self) -> int:
        return hash((self._ip, self._zone))

    def _key(self) -> tuple[int, str]:
        return (self._ip, self._zone or "")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is IPv6Address:
            return self._ip == other._ip and self._zone == other._zone
        if isinstance(other, _BaseAddress):
            return False
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        if isinstance(other, IPv6Address):
            return self._key() < other._key()
        if isinstance(other, IPv4Address):
            return False
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, IPv6Address):
            return self._key() <= other._key()
        if isinstance(other, IPv4Address):
            return False
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, IPv6Address):
            return self._key() > other._key()
        if isinstance(other, IPv4Address):
            return True
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, IPv6Address):
            return self._key() >= other._key()
        if isinstance(other, IPv4Address):
            return True
        return NotImplemented

    # As for IPv4; the zone is kept (the neighbour of a link-local address is on the same
    # link), and the distance between two addresses ignores their zones.
    def __add__(self, other: int) -> IPv6Address:
        if other.__class__ is int:
            ip = self._ip + other
            if 0 <= ip <= V6_MAX:
                obj = _new(IPv6Address)
                obj._ip = ip
                obj._zone = self._zone
                return obj
            raise _out_of_range(self, "+", other, ip, V6_MAX, "IPv6")
        if isinstance(other, int) and not isinstance(other, bool):
            return self + int(other)
        return NotImplemented

    __radd__ = __add__

    @overload
    def __sub__(self, other: int) -> IPv6Address: ...
    @overload
    def __sub__(self, other: IPv6Address) -> int: ...
    def __sub__(self, other: int | IPv6Address) -> IPv6Address | int:
        cls = other.__class__
        if cls is int:
            ip = self._ip - other  # type: ignore[operator]  # the class test narrows
            if 0 <= ip <= V6_MAX:
                obj = _new(IPv6Address)
                obj._ip = ip
                obj._zone = self._zone
                return obj
            raise _out_of_range(self, "-", other, ip, V6_MAX, "IPv6")  # type: ignore[arg-type]
        if cls is IPv6Address:
            return self._ip - other._ip  # type: ignore[union-attr]
        if isinstance(other, int) and not isinstance(other, bool):
            return self - int(other)
        return NotImplemented

    def __reduce__(self) -> tuple[type[IPv6Address], tuple[int, str | None]]:
        return (IPv6Address, (self._ip, self._zone))

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: object) -> Self:
        return self


#: Either address family.
Address = Union[IPv4Address, IPv6Address]

# Fast construction: allocate without running __init__, then fill the slots directly.
_new = object.__new__

# --- the shared constructors ---------------------------------------------------------------
#
# The other value modules (networks, endpoints, safety, sets) build addresses from ints
# they have already checked. They call these functions (package-internal: not in
# __all__, not exported) and never touch an address's private slots: only this module
# knows how an address is laid out. No checks are made: the caller guarantees ``ip`` is
# within the family's range and the zone is already checked.


def ipv4_from_int(ip: int) -> IPv4Address:
    """The IPv4Address of an int the caller knows is in 0 to 2**32 - 1 (no checks; shared constructor)."""
    obj = _new(IPv4Address)
    obj._ip = ip
    return obj


def ipv6_from_int(ip: int, zone: str | None = None) -> IPv6Address:
    """The IPv6Address of an int in range and an already checked zone (no checks; shared constructor)."""
    obj = _new(IPv6Address)
    obj._ip = ip
    obj._zone = zone
    return obj


#: The int value of an address, for hot paths in other modules (sets' membership test):
#: ``address_int(a) == int(a)``, in C and without a method call. Shared like the constructors.
address_int: Callable[[Address], int] = attrgetter("_ip")

# The short names this module's hot paths use.
_v4 = ipv4_from_int
_v6 = ipv6_from_int


def ipv4_each(ints: range) -> Iterator[IPv4Address]:
    """An IPv4Address for each int of ``ints``, lazily (the loop of network iteration; shared)."""
    new, cls = _new, IPv4Address
    for ip in ints:
        # _v4 written out: a call per address is a quarter of the time of iterating a /16.
        obj = new(cls)
        obj._ip = ip
        yield obj


def ipv6_each(ints: range) -> Iterator[IPv6Address]:
    """An IPv6Address (no zone) for each int of ``ints``, lazily (shared, like :func:`ipv4_each`)."""
    new, cls = _new, IPv6Address
    for ip in ints:
        obj = new(cls)
        obj._ip = ip
        obj._zone = None
        yield obj


def _check_zone(zone: object) -> str:
    if not isinstance(zone, str):
        raise TypeError(f"zone must be str, got {type(zone).__name__} {quote(zone)}")
    zone = exact_str(zone)  # its value: no override of a str subclass runs
    # Reuse the text parser's zone rules so both ways of giving a zone agree.
    return parse_ipv6_int("::%" + zone)[1] or ""


def parse_ipv4(text: str) -> IPv4Address:
    """Parse strict dotted-quad text: four ASCII decimal octets 0-255, no leading zeros.

    Rejects what lenient parsers accept: ``010.0.0.1`` (octal or decimal? CVE-2021-29921),
    ``1.2.3`` and other short forms, hex, signs, whitespace, a trailing dot, and
    non-ASCII digits. Raises :class:`AddressError` naming the input and the reason.

    >>> parse_ipv4("192.0.2.1")
    IPv4Address('192.0.2.1')
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_ipv4 needs str, got {type(text).__name__} {quote(text)}")
    return _v4(parse_ipv4_int(exact_str(text)))


def parse_ipv6(text: str) -> IPv6Address:
    """Parse IPv6 text in any RFC 4291 section 2.2 form, with an optional ``%zone``.

    Groups are 1-4 hex digits, at most one ``::``, an optional dotted IPv4 tail;
    case-insensitive. Raises :class:`AddressError` naming the input and the reason.

    >>> parse_ipv6("FE80::1%eth0")
    IPv6Address('fe80::1%eth0')
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_ipv6 needs str, got {type(text).__name__} {quote(text)}")
    ip, zone = parse_ipv6_int(exact_str(text))
    return _v6(ip, zone)


def parse_address(
    value: str | int | bytes | bytearray | memoryview | Address | ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> Address:
    """Build an address from text, an int, packed bytes, or an address object.

    * ``str``: IPv6 if it contains ``:``, otherwise strict IPv4.
    * ``int``: IPv4 below 2**32, IPv6 up to 2**128 - 1 (as stdlib ``ip_address``).
    * ``bytes``: 4 bytes are IPv4, 16 bytes IPv6 (packed, network order).
    * our own addresses are returned as they are; stdlib ``ipaddress`` ones converted.

    Raises :class:`AddressError` for bad values and :class:`TypeError` for other types.

    >>> parse_address("10.1.2.3"), parse_address("::1"), parse_address(2**32)
    (IPv4Address('10.1.2.3'), IPv6Address('::1'), IPv6Address('::1:0:0'))
    """
    cls = value.__class__
    if cls is str:
        # The hot path: parse_ipv4_int and _v4/_v6 written out, saving two calls.
        text: str = value  # type: ignore[assignment]  # the class test narrows, mypy cannot see it
        if ":" not in text:
            if PTON:
                try:
                    ip = _fb(inet_pton(AF_INET, text), "big")
                except (OSError, ValueError):
                    raise ipv4_error(text) from None
            else:
                try:
                    a, b, c, d = text.split(".")
                    ip = OCTET24[a] | OCTET16[b] | OCTET8[c] | OCTET0[d]
                except (ValueError, KeyError):
                    raise ipv4_error(text) from None
            v4 = _new(IPv4Address)
            v4._ip = ip
            return v4
        if PTON:
            zoned = False
            try:
                ip = _fb(inet_pton(AF_INET6, text), "big")
            except (OSError, ValueError):
                # inet_pton refuses zones (checked at import), so only a failure needs
                # the look for '%'; the general parser then checks the zone's characters
                # (outside this handler, so its errors do not chain to inet_pton's).
                if "%" not in text:
                    raise ipv6_error(text) from None
                zoned = True
            if zoned:
                ip, zone = pure_ipv6_int(text)
            else:
                zone = None
        elif "%" in text or "." in text:
            ip, zone = parse_ipv6_int(text)
        else:
            try:
                ip = hex_groups_int(text)
            except (ValueError, TypeError):
                raise ipv6_error(text) from None
            zone = None
        v6 = _new(IPv6Address)
        v6._ip = ip
        v6._zone = zone
        return v6
    if cls is IPv4Address or cls is IPv6Address:
        return value  # type: ignore[return-value]
    if isinstance(value, str):  # str subclasses
        return parse_address(exact_str(value))  # its value: no override of the subclass runs
    if isinstance(value, bool):
        raise TypeError("parse_address does not take bool")
    if isinstance(value, int):
        if 0 <= value <= V4_MAX:
            return _v4(value)
        if V4_MAX < value <= V6_MAX:
            return _v6(value, None)
        raise AddressError(value, "out of range for an IP address (0 to 2**128 - 1)")
    if isinstance(value, (bytes, bytearray, memoryview)):
        if isinstance(value, memoryview):
            value = value.tobytes()  # its len() counts items, not bytes
        if len(value) == 4:
            return _v4(int.from_bytes(value, "big"))
        if len(value) == 16:
            return _v6(int.from_bytes(value, "big"), None)
        raise AddressError(bytes(value), f"packed address must be 4 or 16 bytes, got {len(value)}")
    if isinstance(value, ipaddress.IPv4Address):
        return _v4(int(value))
    if isinstance(value, ipaddress.IPv6Address):
        zone = value.scope_id
        # stdlib allows any zone text but '%'; hold it to the rules our parser applies.
        return _v6(int(value), None if zone is None else _check_zone(zone))
    raise TypeError(f"cannot build an IP address from {type(value).__name__} {quote(value)}")


def is_valid_address(text: object) -> bool:
    """True if ``text`` is a str that :func:`parse_address` accepts; never raises.

    >>> is_valid_address("192.168.0.1"), is_valid_address("192.168.0.01")
    (True, False)
    """
    if not isinstance(text, str):
        return False
    try:
        parse_address(text)
    except AddressError:
        return False
    return True
