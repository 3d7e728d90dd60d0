"""Endpoints: an address and a port (``1.2.3.4:80``, ``[2001:db8::1]:443``) and host names.

Pure values and parsing; nothing here touches a socket. Two parsers, one per value type:
:func:`parse_endpoint` reads ``address:port`` text into an :class:`Endpoint` (an IP
literal is required), :func:`parse_host_port` reads ``host:port`` text, where the host
may also be a name, into a :class:`HostPort`. Resolution of names lives in ``resolver``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final, Union

from ._parse import exact_str, parse_ipv4_int, parse_ipv6_int
from .addresses import Address, IPv4Address, IPv6Address, ipv4_from_int, ipv6_from_int, parse_address
from .errors import AddressError, EndpointError, PortError, quote, reason_of
from .ports import validate_port

# The addresses' shared constructors (no checks), under the short names used below.
_v4 = ipv4_from_int
_v6 = ipv6_from_int

__all__ = ["Endpoint", "EndpointLike", "HostPort", "parse_endpoint", "parse_host_port"]

# RFC 1123 section 2.1 host names: labels of letters, digits and hyphens, 1-63 characters,
# not starting or ending with a hyphen; underscores are accepted because real service
# names (``_sip._tcp``) and many internal hosts use them. At most 253 characters.
_LABEL: Final = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")
_MAX_HOST: Final = 253
_MAX_SCOPE_ID: Final = 2**32 - 1
# One part of a legacy inet_aton() address: decimal, octal (leading 0) or hex (0x...).
_ATON_PART: Final = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")


def _port(value: object, text: object) -> int:
    try:
        return validate_port(value)
    except PortError as exc:
        raise EndpointError(f"bad port in {quote(text)}: {reason_of(exc)}") from None


def _split_host_port(text: str) -> tuple[str, str, bool]:
    """Split ``host:port`` / ``[v6]:port`` into (host, port text, bracketed)."""
    if text.startswith("unix:"):
        # Not a host named "unix": say where such an address goes instead of "bad port".
        raise EndpointError(
            f"{quote(text)} is a Unix socket address, not host:port: "
            "use connect_unix(), UnixServer or open_unix_datagram()/UnixDatagramServer"
        )
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise EndpointError(text, "missing ']'")
        host, rest = text[1:close], text[close + 1 :]
        if not rest.startswith(":") or len(rest) < 2:
            raise EndpointError(text, "expected ':PORT' after ']'")
        return host, rest[1:], True
    host, sep, port = text.rpartition(":")
    if not sep:
        raise EndpointError(text, "missing ':PORT'")
    if ":" in host:
        # RFC 3986 section 3.2.2: an IPv6 literal with a port must be bracketed; without
        # brackets '2001:db8::1:80' is ambiguous (is 80 the port or the last group?).
        # The hint quotes the fix, cut like any input: the host may be a megabyte long.
        raise EndpointError(f"ambiguous IPv6 endpoint {quote(text)}: write it as {quote(f'[{host}]:{port}')}")
    if not host:
        raise EndpointError(text, "missing host before ':'")
    return host, port, False


class Endpoint:
    """An IP address and a port: the target of a connection or a bound socket.

    Immutable, hashable and ordered (by address, then port). The IPv6 scope zone is part
    of the address (``fe80::1%eth0``). ``str()`` gives ``1.2.3.4:80`` or ``[v6]:port``
    and round trips through :func:`parse_endpoint`, the way to read endpoint text.
    ``Endpoint("1.2.3.4:80")``, one string and no port, delegates to it, so that
    ``repr()`` evaluates back.

    >>> ep = parse_endpoint("[2001:DB8::1]:443")
    >>> ep
    Endpoint('[2001:db8::1]:443')
    >>> ep.address, ep.port, ep.sockaddr
    (IPv6Address('2001:db8::1'), 443, ('2001:db8::1', 443, 0, 0))
    >>> Endpoint("127.0.0.1", 8080) == Endpoint("127.0.0.1:8080")
    True
    """

    __slots__ = ("_address", "_port")
    _address: Address
    _port: int

    def __init__(
        self, address: Address | str | ipaddress.IPv4Address | ipaddress.IPv6Address, port: int | None = None
    ) -> None:
        if port is None:
            # Endpoint("1.2.3.4:80"): the text form, so that repr() evaluates back.
            if not isinstance(address, str):
                raise TypeError(f"Endpoint() needs a port, or one 'address:port' string, got {quote(address)}")
            parsed = parse_endpoint(address)
            object.__setattr__(self, "_address", parsed._address)
            object.__setattr__(self, "_port", parsed._port)
            return
        try:
            addr = parse_address(address)
        except AddressError as exc:
            raise EndpointError(exc.input, f"bad address in endpoint: {exc.reason}", at=exc.at) from None
        object.__setattr__(self, "_address", addr)
        object.__setattr__(self, "_port", _port(port, port))

    @classmethod
    def from_sockaddr(cls, sockaddr: tuple[object, ...]) -> Endpoint:
        """Build from a socket-module address tuple: ``(host, port)`` or ``(host, port, flow, scope_id)``.

        A non-zero ``scope_id`` without a zone in the host text becomes a numeric zone.
        Raises :class:`EndpointError` for a bad address or port, :class:`TypeError` for a
        value that is no socket-module address at all.
        """
        if not isinstance(sockaddr, tuple):
            raise TypeError(f"a socket address is a tuple, got {type(sockaddr).__name__} {quote(sockaddr)}")
        if len(sockaddr) not in (2, 4):
            raise EndpointError(f"not an IP socket address: {quote(sockaddr)}")
        host, port = sockaddr[0], sockaddr[1]
        if not isinstance(host, str):
            raise TypeError(f"the host of a socket address is a str, got {type(host).__name__} {quote(host)}")
        try:
            addr = parse_address(host)
        except AddressError as exc:
            raise EndpointError(f"bad address in socket address {quote(sockaddr)}: {reason_of(exc)}") from None
        if len(sockaddr) == 4 and isinstance(addr, IPv6Address) and addr.zone is None:
            scope = sockaddr[3]
            if isinstance(scope, int) and scope:
                # A scope id is an unsigned 32-bit interface index (RFC 3493 section 3.3).
                if not 0 < scope <= _MAX_SCOPE_ID:
                    raise EndpointError(f"scope id {quote(scope)} out of range in socket address {quote(sockaddr)}")
                addr = _v6(int(addr), str(int(scope)))
        return _endpoint(addr, _port(port, sockaddr))

    @property
    def address(self) -> Address:
        """The IP address (with its zone, for scoped IPv6)."""
        return self._address

    @property
    def port(self) -> int:
        """The port, 0-65535."""
        return self._port

    @property
    def version(self) -> int:
        """4 or 6."""
        return self._address.version

    @property
    def sockaddr(self) -> tuple[str, int] | tuple[str, int, int, int]:
        """The tuple the socket module takes: ``(host, port)`` or ``(host, port, 0, 0)``.

        A zone stays in the host text (``'fe80::1%eth0'``), which the socket module
        resolves to the interface's scope id.
        """
        if self._address.version == 4:
            return (str(self._address), self._port)
        return (str(self._address), self._port, 0, 0)

    def with_port(self, port: int) -> Endpoint:
        """The same address with another port."""
        return Endpoint(self._address, port)

    def __str__(self) -> str:
        if self._address.version == 4:
            return f"{self._address}:{self._port}"
        return f"[{self._address}]:{self._port}"

    def __repr__(self) -> str:
        return f"Endpoint('{self}')"

    def _key(self) -> tuple[Address, int]:
        return (self._address, self._port)

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Endpoint):
            return self._key() == other._key()
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        if isinstance(other, Endpoint):
            return self._key() < other._key()
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, Endpoint):
            return self._key() <= other._key()
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, Endpoint):
            return self._key() > other._key()
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, Endpoint):
            return self._key() >= other._key()
        return NotImplemented

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Endpoint is immutable")

    def __reduce__(self) -> tuple[type[Endpoint], tuple[Address, int]]:
        return (Endpoint, (self._address, self._port))


def parse_endpoint(text: str) -> Endpoint:
    """Parse ``a.b.c.d:port``, ``[v6]:port`` or ``[v6%zone]:port`` into an :class:`Endpoint`.

    The address must be an IP literal (for ``host:port`` with a name, use
    :func:`parse_host_port`) and the port plain decimal (:func:`validate_port`). Raises
    :class:`EndpointError` naming the input, and :class:`TypeError` for a non-``str``.
    An unbracketed IPv6 address with a port is refused as ambiguous (RFC 3986 section
    3.2.2), with the bracketed spelling suggested.

    >>> parse_endpoint("192.0.2.1:80"), parse_endpoint("[fe80::1%eth0]:443")
    (Endpoint('192.0.2.1:80'), Endpoint('[fe80::1%eth0]:443'))
    >>> parse_endpoint("2001:db8::1:80")
    Traceback (most recent call last):
    ...
    netbasics.EndpointError: ambiguous IPv6 endpoint '2001:db8::1:80': write it as '[2001:db8::1]:80'
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_endpoint needs str, got {type(text).__name__} {quote(text)}")
    text = exact_str(text)
    host, port_text, bracketed = _split_host_port(text)
    try:
        if bracketed:
            ip, zone = parse_ipv6_int(host)
            addr: Address = _v6(ip, zone)
        else:
            addr = _v4(parse_ipv4_int(host))
    except AddressError as exc:
        if not bracketed and _is_host_name(host):
            raise EndpointError(
                f"{quote(host)} in {quote(text)} is a host name, not an IP address (parse_host_port() takes names)"
            ) from None
        raise EndpointError(f"bad address in endpoint {quote(text)}: {reason_of(exc)}") from None
    return _endpoint(addr, _port(port_text, text))


def _is_host_name(host: str) -> bool:
    try:
        _check_host(host, host)
    except EndpointError:
        return False
    return True


def _endpoint(address: Address, port: int) -> Endpoint:
    obj = object.__new__(Endpoint)
    object.__setattr__(obj, "_address", address)
    object.__setattr__(obj, "_port", port)
    return obj


def _check_host(host: str, text: object) -> str:
    """Validate a host name (not an IP literal); returns it lower-cased."""
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > _MAX_HOST:
        raise EndpointError(text, f"host name must be 1 to {_MAX_HOST} characters")
    if not name.isascii():
        raise EndpointError(text, "host name is not ASCII (encode IDNs as xn-- first)")
    labels = name.split(".")
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise EndpointError(text, f"bad host name label {quote(label)}")
    # '127.1', '2130706433', '010.0.0.1' and '0x7f.1' are not names: the system resolver
    # reads them as legacy inet_aton() addresses (127.1 is 127.0.0.1, 010 is octal), the
    # ambiguity the strict parser exists to refuse (CVE-2021-29921). RFC 1123 section 2.1
    # and RFC 3696 section 2: the last label of a host name is never all-numeric.
    if labels[-1].isdigit() or (len(labels) <= 4 and all(_ATON_PART.fullmatch(label) for label in labels)):
        try:
            parse_ipv4_int(name)
        except AddressError as exc:
            raise EndpointError(
                f"{quote(text)} is neither a host name nor a valid IPv4 address: {reason_of(exc)}"
            ) from None
    return host.lower()


class HostPort:
    """A host (name or IP literal) and a port, before name resolution.

    :func:`parse_host_port` reads the text form: ``"example.com:443"``,
    ``"localhost:8080"``, ``"[::1]:80"`` and ``"10.0.0.1:22"`` all work;
    :attr:`address` is set when the host is an IP literal. ``HostPort("example.com:443")``,
    one string and no port, delegates to it, so that ``repr()`` evaluates back. Use
    :func:`netbasics.resolve` to turn a name into endpoints.

    >>> hp = parse_host_port("Example.COM:443")
    >>> hp.host, hp.port, hp.address
    ('example.com', 443, None)
    >>> parse_host_port("[::1]:80").address
    IPv6Address('::1')
    """

    __slots__ = ("_address", "_host", "_port")
    _host: str
    _port: int
    _address: Address | None

    def __init__(self, host: str, port: int | None = None) -> None:
        if not isinstance(host, str):
            raise TypeError(f"host must be str, got {type(host).__name__} {quote(host)}")
        host = exact_str(host)
        if port is None:
            # HostPort("example.com:443"): the text form, so that repr() evaluates back.
            parsed = parse_host_port(host)
            object.__setattr__(self, "_host", parsed._host)
            object.__setattr__(self, "_port", parsed._port)
            object.__setattr__(self, "_address", parsed._address)
            return
        address: Address | None = None
        bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        try:
            address = parse_address(bare)
        except AddressError:
            if ":" in bare or host != bare:
                raise EndpointError(f"bad IPv6 literal {quote(host)}") from None
        name = str(address) if address is not None else _check_host(host, host)
        object.__setattr__(self, "_host", name)
        object.__setattr__(self, "_port", _port(port, port))
        object.__setattr__(self, "_address", address)

    @property
    def host(self) -> str:
        """The host name (lower case) or the canonical text of the IP literal."""
        return self._host

    @property
    def port(self) -> int:
        """The port, 0-65535."""
        return self._port

    @property
    def address(self) -> Address | None:
        """The address when the host is an IP literal, else ``None``."""
        return self._address

    @property
    def is_localhost(self) -> bool:
        """True for ``localhost`` and names under ``.localhost`` (RFC 6761 section 6.3)."""
        name = self._host.rstrip(".")
        return name == "localhost" or name.endswith(".localhost")

    def to_endpoint(self) -> Endpoint:
        """The :class:`Endpoint` for an IP literal; raises :class:`EndpointError` for names."""
        if self._address is None:
            raise EndpointError(f"{quote(self._host)} is a name; resolve it first")
        return _endpoint(self._address, self._port)

    def __str__(self) -> str:
        if ":" in self._host:
            return f"[{self._host}]:{self._port}"
        return f"{self._host}:{self._port}"

    def __repr__(self) -> str:
        return f"HostPort('{self}')"

    def __hash__(self) -> int:
        return hash((self._host, self._port))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HostPort):
            return (self._host, self._port) == (other._host, other._port)
        return NotImplemented

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("HostPort is immutable")

    def __reduce__(self) -> tuple[type[HostPort], tuple[str, int]]:
        return (HostPort, (self._host, self._port))


#: What connect/bind functions accept as a target: an Endpoint, a HostPort,
#: a ``(host, port)`` tuple (host as text or an address object), an IPv6 socket-module
#: address ``(host, port, flowinfo, scope_id)``, or ``"host:port"`` text.
EndpointLike = Union[
    Endpoint, HostPort, tuple[Union[str, IPv4Address, IPv6Address], int], tuple[str, int, int, int], str
]


def parse_host_port(text: str) -> HostPort:
    """Parse ``host:port`` or ``[v6]:port`` into a :class:`HostPort`; the host may be a name.

    The host is a name (RFC 1123 labels, lower-cased; legacy numeric forms such as
    ``127.1`` are refused) or an IP literal, IPv6 in brackets. The port is plain decimal
    (:func:`validate_port`). Raises :class:`EndpointError` naming the input, and
    :class:`TypeError` for a non-``str``. Nothing is resolved.

    >>> parse_host_port("localhost:8080"), parse_host_port("[2001:DB8::1]:443")
    (HostPort('localhost:8080'), HostPort('[2001:db8::1]:443'))
    >>> parse_host_port("10.0.0.1:22").to_endpoint()
    Endpoint('10.0.0.1:22')
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_host_port needs str, got {type(text).__name__} {quote(text)}")
    text = exact_str(text)
    host, port_text, bracketed = _split_host_port(text)
    if bracketed:
        try:
            ip, zone = parse_ipv6_int(host)
        except AddressError as exc:
            raise EndpointError(f"bad address in {quote(text)}: {reason_of(exc)}") from None
        return HostPort(str(_v6(ip, zone)), _port(port_text, text))
    return HostPort(host, _port(port_text, text))


def coerce_target(target: EndpointLike) -> Endpoint | HostPort:
    """Normalise any :data:`EndpointLike` to an :class:`Endpoint` (IP literal) or a :class:`HostPort` (name).

    What the connect and bind functions do with their target; package-internal (not
    exported), since users hold one of the two value types or parse text into one.
    A 4-tuple is taken as an IPv6 socket address ``(host, port, flowinfo, scope_id)``.
    Raises :class:`EndpointError` for bad text and :class:`TypeError` for other types.

    >>> coerce_target(("localhost", 80))
    HostPort('localhost:80')
    >>> coerce_target("10.0.0.1:22")
    Endpoint('10.0.0.1:22')
    """
    if isinstance(target, (Endpoint, HostPort)):
        hp = target
    elif isinstance(target, str):
        hp = parse_host_port(target)
    elif isinstance(target, tuple) and len(target) == 2:
        host, port = target
        if isinstance(host, (IPv4Address, IPv6Address)):
            return Endpoint(host, port)
        hp = HostPort(host, port)
    elif isinstance(target, tuple) and len(target) == 4:
        # A socket-module IPv6 address, as getsockname()/getpeername() return it.
        return Endpoint.from_sockaddr(target)
    else:
        raise TypeError(f"expected an Endpoint, HostPort, (host, port) or 'host:port', got {quote(target)}")
    if isinstance(hp, HostPort) and hp.address is not None:
        return hp.to_endpoint()
    return hp
