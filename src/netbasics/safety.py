"""Destination safety: is an address safe to connect to on behalf of someone else?

This guards outbound requests (webhooks, URL fetchers, proxies, link previews) against
server-side request forgery (SSRF). The default answer is *unsafe* for anything that is
not plainly a globally reachable unicast address:

* every address whose most specific IANA special-purpose registry row says it is not
  globally reachable (loopback, private, shared, link-local, documentation, "this
  network", benchmarking, ...), and IPv6 outside global unicast 2000::/3;
* multicast, the limited broadcast address, the deprecated site-local block fec0::/10,
  and any address that carries a zone (``fe80::1%eth0``);
* every IPv6 address that *embeds* an unsafe IPv4 address, because a translator, tunnel
  or the host's own stack may deliver traffic to the embedded address: IPv4-mapped
  ``::ffff:0:0/96`` and IPv4-compatible ``::/96`` (RFC 4291 section 2.5.5), NAT64
  ``64:ff9b::/96`` (RFC 6052) and ``64:ff9b:1::/48`` (RFC 8215), 6to4 ``2002::/16``
  (RFC 3056), Teredo ``2001::/32`` server and obfuscated client (RFC 4380 section 4),
  and ISATAP interface identifiers (RFC 5214 section 6.1).

Checks run on addresses, never on names: :func:`resolve_safe` resolves a name once and
checks every answer, so that ``2130706433``, ``0x7f.1`` or ``127.1`` (which system
resolvers turn into 127.0.0.1) and DNS rebinding are caught; ``netbasics.connect_tcp(...,
policy=...)`` then connects only to the addresses that were checked.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Union

from ._classify import registry_entry
from ._core import V4_MAX
from ._data.registry import AddressCategory
from .addresses import Address, IPv4Address, IPv6Address, parse_address
from .endpoints import Endpoint, HostPort
from .errors import UnsafeDestination
from .ports import validate_port
from .resolver import resolve
from .sets import AddressSet

__all__ = [
    "DestinationPolicy",
    "check_destination",
    "destination_verdict",
    "is_safe_destination",
    "resolve_safe",
]

_M32: Final = V4_MAX
_v4 = IPv4Address._from_int  # the shared constructor (no checks): every value is masked to 32 bits
_NAT64_WKP: Final = 0x0064FF9B << 64  # 64:ff9b::/96, bits above the low 32
_NAT64_LOCAL: Final = 0x0064FF9B0001  # 64:ff9b:1::/48, the top 48 bits
_TEREDO: Final = 0x20010000  # 2001::/32, the top 32 bits
_6TO4: Final = 0x2002  # 2002::/16, the top 16 bits
_C = AddressCategory

_SetInput = Union["AddressSet", Iterable[object], None]


def _as_set(value: object) -> AddressSet:
    if isinstance(value, AddressSet):
        return value
    if value is None:
        return AddressSet()
    if isinstance(value, str):
        return AddressSet([value])
    return AddressSet(value)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class DestinationPolicy:
    """Which destinations are acceptable: immutable, so one policy can be shared by threads.

    * ``deny``: addresses and networks always refused (checked first).
    * ``allow``: addresses and networks always accepted, e.g. one internal service
      (``deny`` still wins). Both take an :class:`AddressSet` or anything it is built from.
    * ``allow_loopback``, ``allow_private``, ``allow_link_local``: switches for development
      and tests; off by default.
    * ``allowed_ports``: when set, only these ports are acceptable (e.g. ``{80, 443}``);
      ``denied_ports``: always refused (e.g. admin ports). Port rules apply only when the
      destination has a port (an :class:`Endpoint`, or :func:`resolve_safe`).

    >>> policy = DestinationPolicy(allow_loopback=True, allowed_ports={80, 443})
    >>> is_safe_destination("127.0.0.1", policy=policy)
    True
    >>> is_safe_destination(Endpoint("127.0.0.1", 22), policy=policy)
    False
    """

    allow: AddressSet = field(default_factory=AddressSet)
    deny: AddressSet = field(default_factory=AddressSet)
    allow_loopback: bool = False
    allow_private: bool = False
    allow_link_local: bool = False
    allowed_ports: frozenset[int] | None = None
    denied_ports: frozenset[int] = frozenset()

    def __init__(
        self,
        *,
        allow: _SetInput = None,
        deny: _SetInput = None,
        allow_loopback: bool = False,
        allow_private: bool = False,
        allow_link_local: bool = False,
        allowed_ports: Iterable[int] | None = None,
        denied_ports: Iterable[int] = (),
    ) -> None:
        set_ = object.__setattr__
        set_(self, "allow", _as_set(allow))
        set_(self, "deny", _as_set(deny))
        set_(self, "allow_loopback", bool(allow_loopback))
        set_(self, "allow_private", bool(allow_private))
        set_(self, "allow_link_local", bool(allow_link_local))
        set_(
            self,
            "allowed_ports",
            None if allowed_ports is None else frozenset(validate_port(p) for p in allowed_ports),
        )
        set_(self, "denied_ports", frozenset(validate_port(p) for p in denied_ports))


#: The default: only globally reachable unicast destinations, any port.
DEFAULT_POLICY: Final = DestinationPolicy()


def _embedded(addr: IPv6Address) -> list[tuple[str, IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, each with what carries it."""
    ip = int(addr)
    found: list[tuple[str, IPv4Address]] = []
    high96 = ip >> 32
    if high96 == 0xFFFF:
        found.append(("IPv4-mapped address (RFC 4291 section 2.5.5.2)", _v4(ip & _M32)))
    elif high96 == 0 and ip > 1:
        found.append(("deprecated IPv4-compatible address (RFC 4291 section 2.5.5.1)", _v4(ip & _M32)))
    elif high96 == _NAT64_WKP:
        found.append(("NAT64 address (RFC 6052)", _v4(ip & _M32)))
    elif ip >> 80 == _NAT64_LOCAL:
        found.append(("local-use NAT64 address (RFC 8215)", _v4(ip & _M32)))
    elif ip >> 112 == _6TO4:
        found.append(("6to4 address (RFC 3056)", _v4((ip >> 80) & _M32)))
    elif ip >> 96 == _TEREDO:
        found.append(("Teredo address (RFC 4380) with server", _v4((ip >> 64) & _M32)))
        found.append(("Teredo address (RFC 4380) with client", _v4((ip & _M32) ^ _M32)))
    # RFC 5214 section 6.1: an ISATAP interface identifier is 0000:5efe or 0200:5efe
    # (the u/l bit may be set) followed by the IPv4 address, under any prefix.
    if (ip >> 32) & 0xFDFFFFFF == 0x5EFE and high96 not in (0, 0xFFFF):
        found.append(("ISATAP interface identifier (RFC 5214)", _v4(ip & _M32)))
    return found


def _why(addr: Address) -> tuple[str, str]:
    """``(short, long)`` reasons an address is not globally reachable, from its registry row."""
    entry = registry_entry(addr)
    if entry is None:
        # Only IPv6 outside 2000::/3 and outside every row gets here.
        return "outside global unicast 2000::/3", "outside global unicast 2000::/3, not globally reachable"
    reach = {True: "globally reachable", False: "not globally reachable", None: "globally reachable: N/A"}
    name = entry.name.lower()
    return f"{name}, {entry.rfc}", f"{name} ({entry.rfc}), {reach[entry.globally_reachable]}"


def _strip_zone(addr: Address) -> Address:
    return addr.without_zone() if isinstance(addr, IPv6Address) else addr


def _address_verdict(addr: Address, policy: DestinationPolicy) -> tuple[str, str] | None:
    """``None`` if ``addr`` is safe under ``policy``, else ``(short, long)`` reasons."""
    bare = _strip_zone(addr)
    if policy.deny and bare in policy.deny:
        return "denied by policy", "denied by policy"
    if policy.allow and bare in policy.allow:
        return None
    if isinstance(addr, IPv6Address):
        if addr.zone is not None:
            why = f"scoped address with zone %{addr.zone}, local to one link"
            return why, why
        for what, inner in _embedded(addr):
            inner_why = _address_verdict(inner, policy)
            if inner_why is not None:
                why = f"{what} embeds {inner} ({inner_why[0]})"
                return why, why
    category = addr.category
    if (
        (category is _C.LOOPBACK and policy.allow_loopback)
        or (category is _C.PRIVATE and policy.allow_private)
        or (category is _C.LINK_LOCAL and policy.allow_link_local)
    ):
        return None
    if category is _C.SITE_LOCAL:
        why = "deprecated site-local address, RFC 3879"
        return why, why + ", not globally reachable"
    if category in (_C.MULTICAST, _C.BROADCAST) or not addr.is_global:
        return _why(addr)
    return None


def _port_verdict(endpoint: Endpoint, policy: DestinationPolicy) -> str | None:
    port = endpoint.port
    if port in policy.denied_ports:
        return f"{endpoint}: port {port} is denied by policy"
    if policy.allowed_ports is not None and port not in policy.allowed_ports:
        allowed = ", ".join(str(p) for p in sorted(policy.allowed_ports)) or "none"
        return f"{endpoint}: port {port} is not allowed by policy (allowed: {allowed})"
    return None


_Destination = Union[Address, Endpoint, str, int, bytes, ipaddress.IPv4Address, ipaddress.IPv6Address]


def destination_verdict(destination: _Destination, *, policy: DestinationPolicy | None = None) -> str | None:
    """``None`` when ``destination`` is safe, else the one-line reason it is not.

    ``destination`` is an address (anything :func:`parse_address` takes) or an
    :class:`Endpoint` (then the policy's port rules apply too).
    """
    pol = DEFAULT_POLICY if policy is None else policy
    if isinstance(destination, Endpoint):
        why = _address_verdict(destination.address, pol)
        if why is not None:
            return f"{destination}: {why[1]}"
        return _port_verdict(destination, pol)
    addr = parse_address(destination)
    why = _address_verdict(addr, pol)
    return None if why is None else f"{addr}: {why[1]}"


def is_safe_destination(destination: _Destination, *, policy: DestinationPolicy | None = None) -> bool:
    """True if it is safe to connect to ``destination`` under ``policy`` (default: strict).

    Raises :class:`AddressError` for text that is not an address (resolve names with
    :func:`resolve_safe`).

    >>> is_safe_destination("8.8.8.8"), is_safe_destination("169.254.169.254")
    (True, False)
    >>> is_safe_destination("64:ff9b::a00:1")  # NAT64 wrapping 10.0.0.1
    False
    """
    return destination_verdict(destination, policy=policy) is None


def check_destination(destination: _Destination, *, policy: DestinationPolicy | None = None) -> None:
    """Raise :class:`UnsafeDestination` with the reason unless ``destination`` is safe.

    >>> check_destination("2002:a00:1::1")
    Traceback (most recent call last):
    ...
    netbasics.UnsafeDestination: 2002:a00:1::1: 6to4 address (RFC 3056) embeds 10.0.0.1 (private-use, RFC 1918)
    """
    reason = destination_verdict(destination, policy=policy)
    if reason is not None:
        raise UnsafeDestination(reason)


def resolve_safe(
    host: str | HostPort, port: int | None = None, *, policy: DestinationPolicy | None = None
) -> list[Endpoint]:
    """Resolve ``host`` once and return its endpoints only if *every* one is safe.

    One unsafe answer refuses the whole name (a name that can point at an internal
    address is not safe, whichever answer a client would pick). Connect only to the
    returned endpoints, never to the name again: that closes the DNS-rebinding window.
    Raises :class:`UnsafeDestination` naming the host and the reason, or
    :class:`ResolveError`.

    >>> resolve_safe("localhost", 80)
    Traceback (most recent call last):
    ...
    netbasics.UnsafeDestination: localhost resolves to an unsafe address: 127.0.0.1: loopback (RFC 1122 ...
    """
    pol = DEFAULT_POLICY if policy is None else policy
    endpoints = resolve(host, port)
    name = host.host if isinstance(host, HostPort) else host
    for endpoint in endpoints:
        why = _address_verdict(endpoint.address, pol)
        if why is not None:
            raise UnsafeDestination(f"{name} resolves to an unsafe address: {endpoint.address}: {why[1]}")
        reason = _port_verdict(endpoint, pol)
        if reason is not None:
            raise UnsafeDestination(f"{name}: {reason}")
    return endpoints
