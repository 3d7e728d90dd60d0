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

Checks run on addresses, never on names, and this module does no I/O: the resolver's
``resolve(host, port, policy=...)`` resolves a name once and checks every answer, so that
``2130706433``, ``0x7f.1`` or ``127.1`` (which system resolvers turn into 127.0.0.1) and
DNS rebinding are caught; ``netbasics.connect_tcp(..., policy=...)`` then connects only to
the addresses that were checked.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, NamedTuple, Union

from ._core import V4_MAX
from ._data.registry import AddressCategory
from ._parse import exact_str
from .addresses import Address, IPv4Address, IPv6Address, ipv4_from_int, parse_address
from .endpoints import Endpoint, HostPort
from .errors import AddressError, NetbasicsError, quote
from .ports import validate_port
from .sets import AddressSet

__all__ = [
    "DestinationPolicy",
    "UnsafeDestination",
    "UnsafeReason",
    "check_destination",
    "is_safe_destination",
]

_v4 = ipv4_from_int  # the shared constructor (no checks): every value is masked to 32 bits
_NAT64_WKP: Final = 0x0064FF9B << 64  # 64:ff9b::/96, bits above the low 32
_NAT64_LOCAL: Final = 0x0064FF9B0001  # 64:ff9b:1::/48, the top 48 bits
_C = AddressCategory

# Host names up to this long are shown as they are in messages; longer ones are cut.
_HOST_SHOWN: Final = 60


class UnsafeReason(enum.Enum):
    """The rule that made a destination unsafe: :attr:`UnsafeDestination.reason`.

    Address rules name the kind of block the address (or the IPv4 address it embeds)
    belongs to; the policy rules are ``DENIED`` (the deny list), ``PORT_DENIED`` and
    ``PORT_NOT_ALLOWED``; ``ZONE`` is an IPv6 address with a zone; ``METADATA`` is a
    well-known cloud metadata service address, which the policy's convenience switches
    never open. ``NOT_GLOBAL`` covers the remaining rows the registries mark not
    globally reachable. Text that is no destination at all has its own two:
    ``LEGACY_NUMERIC`` is a numeric host in a form only lenient parsers read (``127.1``,
    ``2130706433``, ``0x7f.1``, ``0177.0.0.1``: ``address`` holds what they read),
    ``INVALID`` is text that is neither a valid address nor a valid host name. For URLs,
    ``AMBIGUOUS_URL`` is a URL whose host differs between parsers (``urllib`` and a
    browser-style WHATWG parser), and ``SCHEME`` a scheme the fetcher does not allow
    (the HTTP guard allows ``http`` and ``https``).

    >>> UnsafeReason.LINK_LOCAL.value
    'link-local'
    """

    LOOPBACK = "loopback"
    PRIVATE = "private"
    SHARED = "shared"
    LINK_LOCAL = "link-local"
    SITE_LOCAL = "site-local"
    METADATA = "metadata"
    MULTICAST = "multicast"
    BROADCAST = "broadcast"
    UNSPECIFIED = "unspecified"
    THIS_NETWORK = "this-network"
    DOCUMENTATION = "documentation"
    BENCHMARKING = "benchmarking"
    PROTOCOL_ASSIGNMENT = "protocol-assignment"
    TRANSLATION = "translation"
    TUNNEL = "tunnel"
    DISCARD = "discard"
    RESERVED = "reserved"
    NOT_GLOBAL = "not-global"
    ZONE = "zone"
    LEGACY_NUMERIC = "legacy-numeric-form"
    INVALID = "not-a-valid-address"
    AMBIGUOUS_URL = "ambiguous-url"
    SCHEME = "scheme-not-allowed"
    DENIED = "denied-by-policy"
    PORT_DENIED = "port-denied"
    PORT_NOT_ALLOWED = "port-not-allowed"

    def __str__(self) -> str:
        return self.value


_PORT_REASONS = frozenset({UnsafeReason.PORT_DENIED, UnsafeReason.PORT_NOT_ALLOWED})
# Verdicts about the text itself, not about where it points: the message quotes the text.
_TEXT_REASONS = frozenset(
    {UnsafeReason.LEGACY_NUMERIC, UnsafeReason.INVALID, UnsafeReason.AMBIGUOUS_URL, UnsafeReason.SCHEME}
)


class UnsafeDestination(NetbasicsError, ValueError):
    """A destination is not safe to connect to under the destination policy.

    The verdict is structured, so code never has to parse the message:

    * ``address``: the address checked (``None`` only when the raiser had none);
    * ``embedded``: the IPv4 address found inside an IPv6 wrapper (IPv4-mapped, NAT64,
      6to4, Teredo, ISATAP, ...) when that inner address is what made it unsafe, else ``None``;
    * ``reason``: the rule, an :class:`UnsafeReason`;
    * ``detail``: the rule in words (registry row and RFC), without the address;
    * ``port``: the port when one was checked, else ``None``;
    * ``host``: the name that resolved to ``address``, or for the ``LEGACY_NUMERIC``,
      ``INVALID``, ``AMBIGUOUS_URL`` and ``SCHEME`` reasons the text (host or URL) that
      was refused, cut to 255 characters; else ``None``.

    The message is built from these fields; ``message`` replaces it when the raiser has
    more context to give.

    >>> import netbasics
    >>> try:
    ...     netbasics.check_destination("::ffff:10.0.0.1")
    ... except netbasics.UnsafeDestination as exc:
    ...     print(exc.reason, exc.address, exc.embedded)
    private ::ffff:10.0.0.1 10.0.0.1
    """

    def __init__(
        self,
        address: Address | None,
        reason: UnsafeReason,
        detail: str,
        *,
        embedded: IPv4Address | None = None,
        port: int | None = None,
        host: str | None = None,
        message: str | None = None,
    ) -> None:
        self.address = address
        self.reason = reason
        self.detail = detail
        self.embedded = embedded
        self.port = port
        self.host = host
        super().__init__(self._build() if message is None else message)

    def _build(self) -> str:
        subject = "" if self.address is None else str(self.address)
        show_port = self.port is not None and (self.host is None or self.reason in _PORT_REASONS)
        if show_port:
            bare = subject if self.address is None or self.address.version == 4 else f"[{subject}]"
            subject = f"{bare}:{self.port}"
        text = f"{subject}: {self.detail}" if subject else self.detail
        if self.host is None:
            return text
        if self.reason in _TEXT_REASONS:
            return f"{quote(self.host)}: {self.detail}"
        if self.reason in _PORT_REASONS:
            return f"{_quote_host(self.host)}: {text}"
        return f"{_quote_host(self.host)} resolves to an unsafe address: {text}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields: pickle (multiprocessing, logging handlers) must rebuild them.
        return (
            _rebuild_unsafe,
            (self.address, self.reason, self.detail, self.embedded, self.port, self.host, str(self)),
        )


def _rebuild_unsafe(
    address: Address | None,
    reason: UnsafeReason,
    detail: str,
    embedded: IPv4Address | None,
    port: int | None,
    host: str | None,
    message: str,
) -> UnsafeDestination:
    return UnsafeDestination(address, reason, detail, embedded=embedded, port=port, host=host, message=message)


def _quote_host(host: str) -> str:
    """A host name as shown in messages: as is when short, else cut like :func:`quote`."""
    return host if len(host) <= _HOST_SHOWN else quote(host)


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
      destination has a port (an :class:`Endpoint`, or ``resolve(..., policy=...)``).

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
    # Each wrapper's property is read only in its own branch: most addresses wrap nothing.
    if (mapped := addr.ipv4_mapped) is not None:
        found.append(("IPv4-mapped address (RFC 4291 section 2.5.5.2)", mapped))
    elif high96 == 0 and ip > 1:
        found.append(("deprecated IPv4-compatible address (RFC 4291 section 2.5.5.1)", _v4(ip & V4_MAX)))
    elif high96 == _NAT64_WKP:
        found.append(("NAT64 address (RFC 6052)", _v4(ip & V4_MAX)))
    elif ip >> 80 == _NAT64_LOCAL:
        found.append(("local-use NAT64 address (RFC 8215)", _v4(ip & V4_MAX)))
    elif (sixtofour := addr.sixtofour) is not None:
        found.append(("6to4 address (RFC 3056)", sixtofour))
    elif (teredo := addr.teredo) is not None:
        found.append(("Teredo address (RFC 4380) with server", teredo[0]))
        found.append(("Teredo address (RFC 4380) with client", teredo[1]))
    # RFC 5214 section 6.1: an ISATAP interface identifier is 0000:5efe or 0200:5efe
    # (the u/l bit may be set) followed by the IPv4 address, under any prefix.
    if (ip >> 32) & 0xFDFFFFFF == 0x5EFE and high96 not in (0, 0xFFFF):
        found.append(("ISATAP interface identifier (RFC 5214)", _v4(ip & V4_MAX)))
    return found


# Cloud metadata services hand out credentials to whoever asks from inside the instance,
# so they are the prize of most SSRF attacks: the convenience switches (allow_link_local,
# allow_private) never open them; only an explicit allow-list entry does.
_METADATA: Final = frozenset(
    parse_address(text)
    for text in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)

_CATEGORY_REASON: Final = {
    _C.LOOPBACK: UnsafeReason.LOOPBACK,
    _C.PRIVATE: UnsafeReason.PRIVATE,
    _C.SHARED: UnsafeReason.SHARED,
    _C.LINK_LOCAL: UnsafeReason.LINK_LOCAL,
    _C.SITE_LOCAL: UnsafeReason.SITE_LOCAL,
    _C.MULTICAST: UnsafeReason.MULTICAST,
    _C.BROADCAST: UnsafeReason.BROADCAST,
    _C.UNSPECIFIED: UnsafeReason.UNSPECIFIED,
    _C.THIS_NETWORK: UnsafeReason.THIS_NETWORK,
    _C.DOCUMENTATION: UnsafeReason.DOCUMENTATION,
    _C.BENCHMARKING: UnsafeReason.BENCHMARKING,
    _C.PROTOCOL_ASSIGNMENT: UnsafeReason.PROTOCOL_ASSIGNMENT,
    _C.TRANSLATION: UnsafeReason.TRANSLATION,
    _C.TUNNEL: UnsafeReason.TUNNEL,
    _C.DISCARD: UnsafeReason.DISCARD,
    _C.RESERVED: UnsafeReason.RESERVED,
}


class _Verdict(NamedTuple):
    """Why an address is unsafe: the rule, a short and a long wording, and the embedded IPv4."""

    reason: UnsafeReason
    short: str
    long: str
    embedded: IPv4Address | None = None


def _registry_verdict(addr: Address) -> _Verdict:
    """The verdict for an address that is not globally reachable, from its registry row."""
    reason = _CATEGORY_REASON.get(addr.category, UnsafeReason.NOT_GLOBAL)
    entry = addr.entry
    if entry is None:
        # Only IPv6 outside 2000::/3 and outside every row gets here.
        why = "outside global unicast 2000::/3"
        return _Verdict(reason, why, why + ", not globally reachable")
    reach = {True: "globally reachable", False: "not globally reachable", None: "globally reachable: N/A"}
    name = entry.name.lower()
    return _Verdict(reason, f"{name}, {entry.rfc}", f"{name} ({entry.rfc}), {reach[entry.globally_reachable]}")


def _strip_zone(addr: Address) -> Address:
    return addr.without_zone() if isinstance(addr, IPv6Address) else addr


def _address_verdict(addr: Address, policy: DestinationPolicy, use_allow: bool = True) -> _Verdict | None:
    """``None`` if ``addr`` is safe under ``policy``, else why not.

    ``use_allow=False`` ignores the allow list: for an IPv4 address found inside an IPv6
    wrapper other than IPv4-mapped. An allow entry for 127.0.0.1 does not allow
    ``64:ff9b::7f00:1``, which a NAT64 translator or a tunnel delivers somewhere else.
    """
    bare = _strip_zone(addr)
    if policy.deny and bare in policy.deny:
        return _Verdict(UnsafeReason.DENIED, "denied by policy", "denied by policy")
    if use_allow and policy.allow and bare in policy.allow:
        return None
    if isinstance(addr, IPv6Address):
        if addr.zone is not None:
            why = f"scoped address with zone %{addr.zone}, local to one link"
            return _Verdict(UnsafeReason.ZONE, why, why)
        mapped = addr.ipv4_mapped is not None
        for what, inner in _embedded(addr):
            inner_why = _address_verdict(inner, policy, use_allow and mapped)
            if inner_why is not None:
                why = f"{what} embeds {inner} ({inner_why.short})"
                return _Verdict(inner_why.reason, why, why, inner)
    if bare in _METADATA:
        row = _registry_verdict(bare)
        return _Verdict(
            UnsafeReason.METADATA, "cloud metadata service; " + row.short, "cloud metadata service; " + row.long
        )
    category = addr.category
    if (
        (category is _C.LOOPBACK and policy.allow_loopback)
        or (category is _C.PRIVATE and policy.allow_private)
        or (category is _C.LINK_LOCAL and policy.allow_link_local)
    ):
        return None
    if category is _C.SITE_LOCAL:
        why = "deprecated site-local address, RFC 3879"
        return _Verdict(UnsafeReason.SITE_LOCAL, why, why + ", not globally reachable")
    if category in (_C.MULTICAST, _C.BROADCAST) or not addr.is_global:
        return _registry_verdict(addr)
    return None


def _port_problem(endpoint: Endpoint, policy: DestinationPolicy) -> UnsafeDestination | None:
    port = endpoint.port
    if port in policy.denied_ports:
        return UnsafeDestination(
            endpoint.address, UnsafeReason.PORT_DENIED, f"port {port} is denied by policy", port=port
        )
    if policy.allowed_ports is not None and port not in policy.allowed_ports:
        allowed = ", ".join(str(p) for p in sorted(policy.allowed_ports)) or "none"
        return UnsafeDestination(
            endpoint.address,
            UnsafeReason.PORT_NOT_ALLOWED,
            f"port {port} is not allowed by policy (allowed: {allowed})",
            port=port,
        )
    return None


_Destination = Union[Address, Endpoint, str, int, bytes, ipaddress.IPv4Address, ipaddress.IPv6Address]


def _problem(destination: _Destination, policy: DestinationPolicy | None) -> UnsafeDestination | None:
    """The exception to raise for ``destination``, or ``None`` when it is safe."""
    pol = DEFAULT_POLICY if policy is None else policy
    if isinstance(destination, str):
        destination = exact_str(destination)  # a str subclass is read by its value
    if isinstance(destination, Endpoint):
        verdict = _address_verdict(destination.address, pol)
        if verdict is None:
            return _port_problem(destination, pol)
        addr: Address = destination.address
        port: int | None = destination.port
    else:
        try:
            addr = parse_address(destination)
        except AddressError:
            if isinstance(destination, str):
                return _text_problem(destination)
            raise
        verdict = _address_verdict(addr, pol)
        if verdict is None:
            return None
        port = None
    return UnsafeDestination(addr, verdict.reason, verdict.long, embedded=verdict.embedded, port=port)


# --- host text: what a client would connect to --------------------------------------------------

_HOST_KEPT: Final = 255  # UnsafeDestination.host keeps at most this much of refused text
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")


def _ends_in_number(labels: list[str]) -> bool:
    """WHATWG URL "ends in a number": the last label is decimal digits or 0x-hex."""
    last = labels[-1]
    if last and last.isascii() and last.isdigit():
        return True
    return last[:2] in ("0x", "0X") and all(c in _HEX_DIGITS for c in last[2:])


def _legacy_part(part: str) -> int | None:
    """One part of an inet_aton()/WHATWG IPv4 host: 0x hex, 0-led octal or decimal."""
    if part[:2] in ("0x", "0X"):
        digits, base = part[2:], 16
        if not digits:
            return 0
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits or not digits.isascii() or len(digits) > 40:
        return None
    try:
        return int(digits, base) if digits.isalnum() else None
    except ValueError:
        return None


def _legacy_ipv4(labels: list[str]) -> IPv4Address | None:
    """The address inet_aton() (and the WHATWG IPv4 parser) read from these labels, if any.

    One to four parts; every part but the last is one byte, the last fills the rest
    (``127.1`` is 127.0.0.1, ``2130706433`` is one 32-bit number).
    """
    if not 1 <= len(labels) <= 4:
        return None
    values = [_legacy_part(label) for label in labels]
    if any(v is None for v in values):
        return None
    head, last = values[:-1], values[-1]
    assert last is not None
    if any(v is not None and v > 255 for v in head) or last >= 256 ** (5 - len(labels)):
        return None
    number = 0
    for i, v in enumerate(head):
        assert v is not None
        number |= v << (24 - 8 * i)
    return _v4(number | last)


def destination_host(host: str) -> Address | str | UnsafeDestination:
    """What a client would connect to for ``host``: an address, a name to resolve, or a refusal.

    ``host`` is a URL's or a request's host, bracketed IPv6 or not. IP literals in the
    strict form give the :class:`Address`; a valid host name gives the name (IDNA-encoded
    and lower case, for the resolver); numeric text in a legacy form (``127.1``,
    ``2130706433``, ``0x7f.1``, ``1.2.3.04``, ``127.0.0.1.``) gives an
    :class:`UnsafeDestination` with reason ``LEGACY_NUMERIC`` and the address lenient
    parsers read from it; anything else (``[example.com]``, ``[]``, empty, percent
    signs, spaces) one with reason ``INVALID``. Non-ASCII text is IDNA-encoded first,
    as clients do, so fullwidth digits are read as the digits they normalise to.
    Package-internal: the HTTP guard and ``resolve(policy=...)`` share it.
    """
    if not isinstance(host, str):
        raise TypeError(f"host must be str, got {type(host).__name__} {quote(host)}")
    host = exact_str(host)
    kept = host[:_HOST_KEPT]
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    # Only digits and dots, or a colon, can be a strict literal: names skip the parser
    # (and the cost of its error message).
    if ":" in bare or bare.replace(".", "").isdigit():
        try:
            literal = parse_address(bare)
        except AddressError:
            pass
        else:
            if bare is not host and literal.version == 4:
                # RFC 3986 section 3.2.2: brackets hold IPv6 (and IPvFuture) literals only.
                return UnsafeDestination(None, UnsafeReason.INVALID, "brackets around an IPv4 address", host=kept)
            return literal
    if bare is not host or ":" in bare:
        why = "bracketed text that is no IPv6 address" if bare is not host else "not a valid IPv6 address"
        return UnsafeDestination(None, UnsafeReason.INVALID, why, host=kept)
    name = bare
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            return UnsafeDestination(None, UnsafeReason.INVALID, "host name that IDNA cannot encode", host=kept)
        if name != bare:
            # Normalised text (fullwidth digits and dots) is judged as what it became.
            found = destination_host(name)
            if isinstance(found, UnsafeDestination):
                return UnsafeDestination(found.address, found.reason, found.detail, host=kept)
            return found
    labels = name.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()  # a trailing dot (the DNS root) changes nothing
    if _ends_in_number(labels):
        read = _legacy_ipv4(labels)
        if read is None:
            why = "numeric host that is no valid IPv4 address in any form"
            return UnsafeDestination(None, UnsafeReason.INVALID, why, host=kept)
        why = f"legacy numeric form of {read}, which parsers read differently; write {read}"
        return UnsafeDestination(read, UnsafeReason.LEGACY_NUMERIC, why, host=kept)
    if not _is_host_name(name):
        return UnsafeDestination(None, UnsafeReason.INVALID, "neither an IP address nor a valid host name", host=kept)
    return name.lower()


def _is_host_name(name: str) -> bool:
    try:
        HostPort(name, 0)
    except NetbasicsError:
        return False
    return True


def refuse_target(target: object, error: Exception) -> UnsafeDestination:
    """The refusal for a connect target (``"host:port"`` or ``(host, port)``) that did not parse.

    Package-internal: with a policy, ``connect_tcp`` and friends raise this instead of the
    parse error, so callers catch one exception for every refused destination.
    """
    host: object = target
    if isinstance(target, tuple) and len(target) == 2:
        host = target[0]
    elif isinstance(target, str):
        if target.startswith("[") and "]" in target:
            host = target[: target.index("]") + 1]
        elif target.count(":") == 1:
            host = target.rpartition(":")[0]
    if isinstance(host, str):
        found = destination_host(host)
        if isinstance(found, UnsafeDestination):
            return found
    text = target if isinstance(target, str) else quote(target)
    return UnsafeDestination(
        None, UnsafeReason.INVALID, f"not a valid destination: {error}"[:200], host=text[:_HOST_KEPT]
    )


def _text_problem(text: str) -> UnsafeDestination:
    """Why ``text``, which is no address, is refused as a destination."""
    found = destination_host(text)
    if isinstance(found, UnsafeDestination):
        return found
    why = "a host name, not an address: resolve it with resolve(host, port, policy=...)"
    return UnsafeDestination(None, UnsafeReason.INVALID, why, host=text[:_HOST_KEPT])


def is_safe_destination(destination: _Destination, *, policy: DestinationPolicy | None = None) -> bool:
    """True if it is safe to connect to ``destination`` under ``policy`` (default: strict).

    ``destination`` is an address (anything :func:`parse_address` takes) or an
    :class:`Endpoint` (then the policy's port rules apply too). Text that is not an
    address in the strict form is not safe: legacy numeric forms (``127.1``), host names
    and junk all give ``False`` (resolve names with ``resolve(host, port, policy=...)``,
    which checks every answer). A wrong type raises :class:`TypeError`, and a number or
    bytes that is no address :class:`AddressError`.

    >>> is_safe_destination("8.8.8.8"), is_safe_destination("169.254.169.254")
    (True, False)
    >>> is_safe_destination("64:ff9b::a00:1")  # NAT64 wrapping 10.0.0.1
    False
    """
    pol = DEFAULT_POLICY if policy is None else policy
    if isinstance(destination, Endpoint):
        # The bool answer needs no exception object: that keeps bulk checks cheap.
        return _address_verdict(destination.address, pol) is None and _port_problem(destination, pol) is None
    try:
        addr = parse_address(destination)
    except AddressError:
        if isinstance(destination, str):
            return False
        raise
    return _address_verdict(addr, pol) is None


def check_destination(destination: _Destination, *, policy: DestinationPolicy | None = None) -> None:
    """Raise :class:`UnsafeDestination` unless ``destination`` is safe under ``policy``.

    The exception carries the verdict as fields (``reason``, ``address``, ``embedded``,
    ``port``, ``detail``); its message is built from them. Text that is no address in the
    strict form is refused too, with reason ``LEGACY_NUMERIC`` (``127.1``, ``2130706433``)
    or ``INVALID`` (host names and junk).

    >>> check_destination("2002:a00:1::1")
    Traceback (most recent call last):
    ...
    netbasics.UnsafeDestination: 2002:a00:1::1: 6to4 address (RFC 3056) embeds 10.0.0.1 (private-use, RFC 1918)
    """
    problem = _problem(destination, policy)
    if problem is not None:
        raise problem
