"""Interfaces: an address together with the network it sits on, as configured on a host.

``192.168.1.10/24`` says two things at once: the host's address (``192.168.1.10``) and
its on-link network (``192.168.1.0/24``). A network drops the host part and an address
drops the prefix, so this is its own value type, named after stdlib ``ipaddress``'s
``IPv4Interface``/``IPv6Interface``. Unlike the stdlib's, an interface here is not a
subclass of an address: it is never equal to one and does not sort among them, and the
address is one attribute away (``.ip`` or ``.address``).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, ClassVar, Generic, Literal, TypeVar, Union

from ._data.registry import AddressCategory
from ._parse import exact_str
from .addresses import Address, IPv4Address, IPv6Address, parse_address
from .errors import AddressError, CIDRError, reason_of
from .networks import IPv4Network, IPv6Network

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["IPv4Interface", "IPv6Interface", "Interface", "parse_interface"]

_A = TypeVar("_A", IPv4Address, IPv6Address)
_N = TypeVar("_N", IPv4Network, IPv6Network)

_StdAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
_StdInterface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]
_Length = Union[int, str]


def _split_text(text: str) -> tuple[Address, _Length | None]:
    """The address (zone kept) and the text after '/' (None without one) of interface text."""
    address_text, sep, length = text.partition("/")
    try:
        address = parse_address(address_text)
    except AddressError as exc:
        if not text:
            raise CIDRError(text, "empty string is not an interface") from None
        raise CIDRError(text, f"bad address in interface: {reason_of(exc)}", at=exc.at) from None
    return address, length if sep else None


def _parts(value: object, int_version: int) -> tuple[Address, _Length | None]:
    """``(address, prefix length or mask text, or None for a single address)`` of any input form.

    ``int_version`` is the family of an address given as a bare int, as for networks.
    """
    if isinstance(value, str):
        return _split_text(exact_str(value))
    if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        # A stdlib interface is an address subclass: int() is its address, scope_id its zone.
        if isinstance(value, ipaddress.IPv6Interface):
            return IPv6Address(int(value), value.scope_id), value.network.prefixlen
        return IPv4Address(int(value)), value.network.prefixlen
    if isinstance(value, tuple) and len(value) == 2:
        address, length = value
        if isinstance(address, str):
            address = exact_str(address)
            address = _split_text(address)[0] if "/" not in address else _bad_tuple(value)
        else:
            address = _address(address, int_version)
        if isinstance(length, bool) or not isinstance(length, (int, str)):
            raise TypeError(f"a prefix length must be an int or mask text, got {type(length).__name__}")
        return address, length
    return _address(value, int_version), None


def _bad_tuple(value: object) -> Address:
    raise CIDRError(value, "the address must be an address, not an interface or network")


_ADDRESS_TYPES = (
    int,
    bytes,
    bytearray,
    memoryview,
    IPv4Address,
    IPv6Address,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
)


def _address(value: object, int_version: int) -> Address:
    if isinstance(value, bool) or not isinstance(value, _ADDRESS_TYPES):
        raise TypeError(f"cannot build an interface from {type(value).__name__}")
    try:
        if isinstance(value, int):  # the family is the caller's, not a guess from the size
            return IPv4Address(value) if int_version == 4 else IPv6Address(value)
        return parse_address(value)
    except AddressError as exc:
        raise CIDRError(value, f"bad address for an interface: {reason_of(exc)}") from None


def _network(address: Address, length: _Length | None) -> IPv4Network | IPv6Network:
    """The network of ``address`` at ``length`` (a /32 or /128 when None); the length is checked.

    A bad length raises the network's :class:`CIDRError`, which quotes the text and says why.
    """
    if address.version == 4:
        return IPv4Network((address, 32 if length is None else length), strict=False)
    bare = address.without_zone()  # a prefix is not tied to one link
    return IPv6Network((bare, 128 if length is None else length), strict=False)


class _BaseInterface(Generic[_A, _N]):
    """Behaviour shared by both interface families; not part of the public API."""

    __slots__ = ("_address", "_network")
    _address: _A
    _network: _N
    _VERSION: ClassVar[int]

    def _init(self, value: object) -> None:
        if hasattr(self, "_network"):
            raise AttributeError(f"{type(self).__name__} is immutable")
        address, length = _parts(value, self._VERSION)
        if address.version != self._VERSION:
            raise CIDRError(str(value), f"not IPv{self._VERSION}: this is an IPv{address.version} interface")
        object.__setattr__(self, "_address", address)
        object.__setattr__(self, "_network", _network(address, length))

    @property
    def ip(self) -> _A:
        """The address, under stdlib ``ipaddress``'s name; same as :attr:`address`."""
        return self._address

    @property
    def address(self) -> _A:
        """The host's address, e.g. ``192.168.1.10`` in ``192.168.1.10/24`` (zone kept)."""
        return self._address

    @property
    def network(self) -> _N:
        """The on-link network, e.g. ``192.168.1.0/24`` for ``192.168.1.10/24`` (never a zone)."""
        return self._network

    @property
    def prefixlen(self) -> int:
        """The prefix length of the network."""
        return self._network.prefixlen

    @property
    def max_prefixlen(self) -> int:
        """32 for IPv4, 128 for IPv6."""
        return self._network.max_prefixlen

    @property
    def netmask(self) -> _A:
        """The network's netmask as an address, e.g. ``255.255.255.0`` for a /24."""
        return self._network.netmask  # type: ignore[return-value]  # the same family as the address

    @property
    def hostmask(self) -> _A:
        """The network's hostmask as an address, e.g. ``0.0.0.255`` for a /24."""
        return self._network.hostmask  # type: ignore[return-value]

    @property
    def with_prefixlen(self) -> str:
        """``address/prefixlen``, e.g. ``192.168.1.10/24``; same as ``str()``."""
        return f"{self._address}/{self._network.prefixlen}"

    @property
    def with_netmask(self) -> str:
        """``address/netmask``, e.g. ``192.168.1.10/255.255.255.0``."""
        return f"{self._address}/{self._network.netmask}"

    @property
    def with_hostmask(self) -> str:
        """``address/hostmask``, e.g. ``192.168.1.10/0.0.0.255``."""
        return f"{self._address}/{self._network.hostmask}"

    @property
    def compressed(self) -> str:
        """The short text form; same as ``str()``."""
        return self.with_prefixlen

    @property
    def exploded(self) -> str:
        """The address written in full, then ``/prefixlen``."""
        return f"{self._address.exploded}/{self._network.prefixlen}"

    # Classification is the address's: the interface answers for the host, not the network.
    @property
    def category(self) -> AddressCategory:
        """The :class:`AddressCategory` of the address."""
        return self._address.category

    @property
    def is_global(self) -> bool:
        """``is_global`` of the address (the IANA registry's "Globally Reachable")."""
        return self._address.is_global

    @property
    def is_private(self) -> bool:
        """``is_private`` of the address: RFC 1918 or RFC 4193 private-use only."""
        return self._address.is_private

    @property
    def is_loopback(self) -> bool:
        """``is_loopback`` of the address."""
        return self._address.is_loopback

    @property
    def is_link_local(self) -> bool:
        """``is_link_local`` of the address."""
        return self._address.is_link_local

    @property
    def is_multicast(self) -> bool:
        """``is_multicast`` of the address."""
        return self._address.is_multicast

    @property
    def is_unspecified(self) -> bool:
        """``is_unspecified`` of the address."""
        return self._address.is_unspecified

    @property
    def is_reserved(self) -> bool:
        """``is_reserved`` of the address."""
        return self._address.is_reserved

    def _key(self) -> tuple[int, int, int, str]:
        # As stdlib: by network (address, then prefix length), then by address; then zone.
        address = self._address
        network = self._network
        return (int(network.network_address), network.prefixlen, int(address), address.zone or "")

    def __hash__(self) -> int:
        return hash((self._VERSION, self._key()))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._key() == other._key()
        if isinstance(other, _BaseInterface):
            return False
        return NotImplemented

    # Ordered as stdlib orders interfaces, except that families compare (IPv4 first)
    # instead of raising TypeError.
    def __lt__(self, other: object) -> bool:
        if isinstance(other, _BaseInterface):
            return (self._VERSION, self._key()) < (other._VERSION, other._key())
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, _BaseInterface):
            return (self._VERSION, self._key()) <= (other._VERSION, other._key())
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, _BaseInterface):
            return (self._VERSION, self._key()) > (other._VERSION, other._key())
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, _BaseInterface):
            return (self._VERSION, self._key()) >= (other._VERSION, other._key())
        return NotImplemented

    def __str__(self) -> str:
        return self.with_prefixlen

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self}')"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce__(self) -> tuple[type[Self], tuple[str]]:
        return (type(self), (str(self),))

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: object) -> Self:
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")


class IPv4Interface(_BaseInterface[IPv4Address, IPv4Network]):
    """An IPv4 address with its network, e.g. ``192.168.1.10/24``: immutable, hashable, ordered.

    Build one with :func:`parse_interface` or the constructor, from text
    (``"192.168.1.10/24"``, the netmask form ``"192.168.1.10/255.255.255.0"`` or the
    hostmask form; a bare address is a /32), an ``(address, prefixlen)`` tuple, an
    address, or a stdlib interface. Host bits are the point, so they are never an error.
    Classification (``is_private``, ``category``, ...) is the address's.

    >>> i = IPv4Interface("192.168.1.10/255.255.255.0")
    >>> i, i.ip, i.network
    (IPv4Interface('192.168.1.10/24'), IPv4Address('192.168.1.10'), IPv4Network('192.168.1.0/24'))
    >>> i.with_netmask, i.is_private
    ('192.168.1.10/255.255.255.0', True)
    """

    __slots__ = ()
    _VERSION = 4

    def __init__(
        self,
        value: str
        | tuple[int | str | IPv4Address | ipaddress.IPv4Address, int | str]
        | int
        | IPv4Address
        | ipaddress.IPv4Interface
        | ipaddress.IPv4Address,
    ) -> None:
        self._init(value)

    @property
    def version(self) -> Literal[4]:
        """Always 4."""
        return 4

    def to_stdlib(self) -> ipaddress.IPv4Interface:
        """The equivalent :class:`ipaddress.IPv4Interface`."""
        return ipaddress.IPv4Interface((int(self._address), self._network.prefixlen))


class IPv6Interface(_BaseInterface[IPv6Address, IPv6Network]):
    """An IPv6 address with its network, e.g. ``2001:db8::10/64``, optionally with a zone.

    As :class:`IPv4Interface`; the zone of a link-local address is kept on the address
    (``fe80::1%eth0/64``) and never on the network. IPv6 takes a prefix length only, no
    netmask text.

    >>> i = parse_interface("fe80::1%eth0/64")
    >>> i.ip, i.network, i.zone
    (IPv6Address('fe80::1%eth0'), IPv6Network('fe80::/64'), 'eth0')
    """

    __slots__ = ()
    _VERSION = 6

    def __init__(
        self,
        value: str
        | tuple[int | str | IPv6Address | ipaddress.IPv6Address, int | str]
        | int
        | IPv6Address
        | ipaddress.IPv6Interface
        | ipaddress.IPv6Address,
    ) -> None:
        self._init(value)

    @property
    def version(self) -> Literal[6]:
        """Always 6."""
        return 6

    @property
    def zone(self) -> str | None:
        """The address's scope zone (``"eth0"`` in ``fe80::1%eth0/64``), or ``None``."""
        return self._address.zone

    @property
    def scope_id(self) -> str | None:
        """The zone, under stdlib ``ipaddress``'s name; same as :attr:`zone`."""
        return self._address.zone

    @property
    def is_site_local(self) -> bool:
        """``is_site_local`` of the address (deprecated fec0::/10, RFC 3879)."""
        return self._address.is_site_local

    def to_stdlib(self) -> ipaddress.IPv6Interface:
        """The equivalent :class:`ipaddress.IPv6Interface` (zone kept)."""
        if self._address.zone is None:
            return ipaddress.IPv6Interface((int(self._address), self._network.prefixlen))
        return ipaddress.IPv6Interface(self.with_prefixlen)


#: Either interface family.
Interface = Union[IPv4Interface, IPv6Interface]


def parse_interface(
    value: str
    | Interface
    | Address
    | _StdInterface
    | _StdAddress
    | tuple[int | str | Address | _StdAddress, int | str],
) -> Interface:
    """Build an :class:`IPv4Interface` or :class:`IPv6Interface`: an address with its network.

    Text forms: ``a.b.c.d/n``, ``a.b.c.d/netmask``, ``a.b.c.d/hostmask``, ``v6/n`` and
    ``v6%zone/n``; a bare address is a /32 or /128. Address and prefix length are read
    as strictly as by :func:`parse_address` and :func:`parse_network`; host bits are
    kept (they are the host's address). Also takes an ``(address, prefixlen)`` tuple,
    an address, or a stdlib ``ipaddress`` interface or address; interfaces are returned
    as they are. Raises :class:`CIDRError` for malformed input.

    >>> i = parse_interface("192.168.1.10/24")
    >>> i.ip, i.network, i.prefixlen, i.netmask
    (IPv4Address('192.168.1.10'), IPv4Network('192.168.1.0/24'), 24, IPv4Address('255.255.255.0'))
    >>> parse_interface("10.0.0.1/33")
    Traceback (most recent call last):
    ...
    netbasics.CIDRError: prefix length '33' is out of range (0 to 32) in '10.0.0.1/33'
    """
    cls = value.__class__
    if cls is IPv4Interface or cls is IPv6Interface:
        return value  # type: ignore[return-value]
    if isinstance(value, int):
        raise TypeError("parse_interface does not take an int: the family would be a guess")
    address, length = _parts(value, 4)
    network = _network(address, length)
    out: Interface = (
        IPv4Interface.__new__(IPv4Interface) if address.version == 4 else IPv6Interface.__new__(IPv6Interface)
    )
    object.__setattr__(out, "_address", address)
    object.__setattr__(out, "_network", network)
    return out
