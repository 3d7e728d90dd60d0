"""What a command-line token is: one recogniser for every command that takes addresses or endpoints.

Users paste whatever they have at hand: an address, a CIDR prefix, ``host:port``, a URL
or a Unix socket. :func:`recognise` sorts a token into a :class:`Kind` once, by one
ordered set of rules, and the :class:`Token` it returns answers for each command: the
connect target of ``probe``/``send``, the destination of ``check``, the bind endpoint of
``serve --bind``, or why ``classify`` refuses it. The rules and every message about a
token of the wrong kind live here, so the commands cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple
from urllib.parse import urlsplit

from .._urls import read_url
from ..addresses import Address, IPv6Address, is_valid_address, parse_address
from ..endpoints import Endpoint, HostPort, coerce_target
from ..errors import AddressError, CIDRError, EndpointError, NetbasicsError, quote
from ..networks import Network, parse_network
from ..ports import parse_port
from ..unix_addresses import UnixAddress, is_unix_target, parse_unix_address

__all__ = ["PROG", "Kind", "Token", "recognise"]

PROG = "netbasics"

# Schemes whose default port is not in the IANA service table under the scheme's name.
_SCHEME_PORTS = {"ws": 80, "wss": 443}


class Kind(Enum):
    """The kinds of token, in the order :func:`recognise` tries them (the first that fits wins)."""

    UNIX = "unix"  # unix:PATH or unix:@NAME, valid or not: the prefix decides
    ADDRESS = "address"  # 192.0.2.1, 2001:db8::1, fe80::1%eth0
    BRACKETED = "bracketed"  # an address in brackets without a port: [::1]
    URL = "url"  # anything with '://'
    NETWORK = "network"  # a CIDR prefix (host bits allowed): 10.0.0.0/8
    ENDPOINT = "endpoint"  # an IP literal and a port: 192.0.2.1:80, [2001:db8::1]:443, 192.0.2.1:https
    HOST_PORT = "host-port"  # a host name and a port: example.com:443, example.com:https
    NAME = "name"  # no ':' and none of the above: a host name to resolve, or junk
    OTHER = "other"  # has a ':' but is no endpoint; ``error`` says why


class _Url(NamedTuple):
    """A URL's host and port (the scheme's default when it gives none), or why there is none."""

    host: str | None
    port: int | None
    scheme: str
    problem: str | None  # urlsplit's complaint (bad port, bad brackets)


def _scheme_port(scheme: str) -> int | None:
    scheme = scheme.lower()
    if scheme in _SCHEME_PORTS:
        return _SCHEME_PORTS[scheme]
    try:
        return parse_port(scheme)
    except NetbasicsError:
        return None


def _split_url(text: str) -> _Url:
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        return _Url(None, None, "", str(exc))
    if port is None:
        port = _scheme_port(parts.scheme)
    if host and ":" in host:
        # RFC 6874: in a URL the zone delimiter '%' is itself percent-encoded, as '%25'.
        host = host.replace("%25", "%", 1)
    return _Url(host or None, port, parts.scheme, None)


def _is_host_name(text: str) -> bool:
    try:
        HostPort(text, 0)
    except NetbasicsError:
        return False
    return True


def _service_target(text: str) -> Endpoint | HostPort | NetbasicsError | None:
    """``HOST:https``: a service name for the port, as nc takes one (the TCP table's port).

    None when the port is not a name (or the address in brackets is bad: the caller
    reports the text as it is); an error when the name is no service's, or the host is bad.
    """
    host, _, port = text.rpartition(":")
    if not port or port.isdigit() or port[0] in "+-" or (":" in host and not host.startswith("[")):
        return None  # no port, digits or a sign: the endpoint parser's message says what is wrong
    try:
        number = parse_port(port)
    except NetbasicsError as exc:
        return EndpointError(f"bad port in {quote(text)}: {exc}")
    try:
        return coerce_target(f"{host}:{number}")
    except NetbasicsError:
        pass
    if host.startswith("["):
        return None  # the bracketed address is what the text's own error is about
    try:
        HostPort(host, 0)  # raises: the port is fine, so say what is wrong with the host
    except NetbasicsError as exc:
        return EndpointError(f"bad host in {quote(text)}: {exc}")
    return None  # pragma: no cover - a good host with a good port parses


def _why_not_endpoint(text: str, exc: NetbasicsError) -> NetbasicsError:
    """The error for text with a ':' that is no endpoint.

    Unbracketed text with several colons is an IPv6 address, with or without a port. When
    what comes before the last colon is no address either, the hint to bracket it (as in
    ``'[fe80:]:1%'``) would mislead: what the address parser says is the real fault.
    """
    host = text.rpartition(":")[0]
    if text.startswith("[") or ":" not in host or is_valid_address(host):
        return exc
    try:
        parse_address(text)
    except AddressError as bad:
        return EndpointError(str(bad))
    return exc  # pragma: no cover - a valid address is recognised before this is reached


def _named_host(text: str) -> str | None:
    """The host of ``host:port`` text when it is a name (not an IP literal), else None."""
    host = text.rpartition(":")[0]
    if ":" in host or host.startswith("[") or is_valid_address(host) or not _is_host_name(host):
        return None
    return host


def _with_port(address: Address) -> str:
    """``ADDRESS:PORT`` as a hint: the address bracketed when it is IPv6."""
    return f"[{address}]:PORT" if isinstance(address, IPv6Address) else f"{address}:PORT"


def _bracketed_address(text: str) -> Address | None:
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        return parse_address(text[1:-1])
    except AddressError:
        return None


def _cidr(text: str) -> Network | None:
    try:
        return parse_network(text, strict=False)
    except NetbasicsError:
        return None


@dataclass(frozen=True, slots=True)
class Token:
    """One command-line token and its :class:`Kind`, with what was parsed on the way.

    Only the fields of its kind are set: ``address`` (ADDRESS, BRACKETED), ``network``,
    ``endpoint`` (ENDPOINT, HOST_PORT), ``unix`` (UNIX when valid), ``url`` (URL), and
    ``error`` (UNIX when invalid, OTHER).
    """

    text: str
    kind: Kind
    address: Address | None = None
    network: Network | None = None
    endpoint: Endpoint | HostPort | None = None
    unix: UnixAddress | None = None
    url: _Url | None = None
    error: NetbasicsError | None = None

    # --- probe, send ----------------------------------------------------------------------

    def connect_target(self) -> Endpoint | HostPort | UnixAddress:
        """Where ``probe``/``send`` connect: ``host:port``, ``[v6]:port`` or ``unix:...``.

        Raises :class:`EndpointError` (a row error) for anything else.
        """
        if self.unix is not None:
            return self.unix
        if self.endpoint is not None:
            return self.endpoint
        q = quote(self.text)
        if self.url is not None:
            raise EndpointError(f"{q} is a URL; give HOST:PORT (for example {self._url_hint()})")
        if self.address is not None:
            raise EndpointError(f"{q} has no port: give ADDRESS:PORT (for example {_with_port(self.address)})")
        if self.network is not None:
            raise EndpointError(f"{q} is a network (CIDR prefix), not HOST:PORT")
        if self.error is not None:
            raise self.error
        return coerce_target(self.text)  # a bare name: raises, saying the port is missing

    # --- check ----------------------------------------------------------------------------

    def destination(self) -> Address | Endpoint | HostPort | str:
        """What ``check`` checks: an address, an endpoint, a name and port, or a bare name (a str)."""
        if self.address is not None:
            return self.address
        if self.url is not None:
            return self._url_target()
        q = quote(self.text)
        if self.network is not None:
            raise CIDRError(f"{q} is a network, not a destination: check one address, e.g. {self.network.first}")
        if self.kind is Kind.UNIX:
            raise EndpointError(
                f"{q} is a Unix socket, not a network destination: check takes ADDRESS, HOST[:PORT] or URL"
            )
        if self.kind is Kind.NAME:
            return self.text  # resolved without a port
        if self.endpoint is not None:
            return self.endpoint
        assert self.error is not None  # OTHER is the only kind left
        raise self.error

    # --- serve --bind ---------------------------------------------------------------------

    def bind_endpoint(self) -> Endpoint | UnixAddress:
        """What ``serve --bind`` binds: an endpoint, an address (port 0, a free one), or ``unix:...``."""
        try:
            return self._bind_endpoint()
        except NetbasicsError as exc:
            raise EndpointError(f"{exc} (give ADDRESS, ADDRESS:PORT or unix:PATH)") from None

    def _bind_endpoint(self) -> Endpoint | UnixAddress:
        if self.unix is not None:
            return self.unix
        if self.address is not None:
            return Endpoint(self.address, 0)
        if isinstance(self.endpoint, Endpoint):
            return self.endpoint
        q = quote(self.text)
        if self.kind in (Kind.HOST_PORT, Kind.OTHER) and (host := _named_host(self.text)) is not None:
            raise EndpointError(f"{quote(host)} in {q} is a host name; bind to an IP address")
        if self.url is not None:
            raise EndpointError(f"{q} is a URL, not an endpoint")
        if self.network is not None:
            raise EndpointError(f"{q} is a network (CIDR prefix), not an endpoint")
        if self.kind is Kind.NAME:
            # No port, so it was meant as an address: say what is wrong with it as one.
            if _is_host_name(self.text):
                raise EndpointError(f"{q} is a host name; bind to an IP address")
            parse_address(self.text)  # raises
        assert self.error is not None  # UNIX or OTHER: the error found when it was recognised
        raise self.error

    # --- classify -------------------------------------------------------------------------

    def not_an_address(self, exc: NetbasicsError) -> str:
        """Why this is not an address (``exc`` is what the address parser said), naming the command it suits."""
        q = quote(self.text)
        if self.url is not None:
            host = self.url.host
            more = ""
            if host is not None and self.url.problem is None and is_valid_address(host):
                more = f"; classify its host: {PROG} classify {host}"
            return f"{q} is a URL, not an address: {PROG} check takes URLs{more}"
        if self.network is not None:
            return f"{q} is a network (CIDR prefix), not an address: use {PROG} net {self.network}"
        if isinstance(self.endpoint, Endpoint):
            return (
                f"{q} is an endpoint (address:port), not an address: classify its address "
                f"({PROG} classify {self.endpoint.address}), or check it ({PROG} check {self.text})"
            )
        if isinstance(self.endpoint, HostPort):
            return f"{q} is a host name and port, not an address: check it ({PROG} check {self.text})"
        if self.kind is Kind.BRACKETED:
            return f"{q} is an address in brackets: classify it without them ({PROG} classify {self.address})"
        if self.kind is Kind.UNIX:
            return f"{q} is a Unix socket address, not an IP address"
        return str(exc)

    # --- URLs -----------------------------------------------------------------------------

    def _url_hint(self) -> str:
        """``host:port`` for a URL, for messages; ``HOST:PORT`` where it has no usable host."""
        url = self.url
        if url is None or url.host is None:
            return "HOST:PORT"
        shown = f"[{url.host}]" if ":" in url.host else url.host
        return f"{shown}:{url.port}" if url.port is not None else f"{shown}:PORT"

    def _url_target(self) -> Endpoint | HostPort:
        """A URL's host and port (the scheme's default port when it gives none)."""
        url = self.url
        assert url is not None  # only called for URLs
        q = quote(self.text)
        if url.problem is not None:
            raise EndpointError(f"bad URL {q}: {url.problem}")
        if url.host is None:
            raise EndpointError(f"URL {q} has no host")
        if url.port is None:
            raise EndpointError(f"URL {q} has no port and {quote(url.scheme)} has no default port")
        # A URL whose host another parser reads differently (a backslash, a second '@',
        # whitespace, a percent-encoded host) is refused as such: UnsafeDestination.
        read_url(self.text)
        if is_valid_address(url.host):
            return Endpoint(parse_address(url.host), url.port)
        return HostPort(url.host, url.port)


def recognise(text: str) -> Token:
    """Sort ``text`` into its :class:`Kind`, parsing it once; never raises.

    >>> recognise("10.0.0.0/8").kind, recognise("[::1]:443").kind, recognise("unix:@bus").kind
    (<Kind.NETWORK: 'network'>, <Kind.ENDPOINT: 'endpoint'>, <Kind.UNIX: 'unix'>)
    """
    if is_unix_target(text):
        try:
            return Token(text, Kind.UNIX, unix=parse_unix_address(text))
        except NetbasicsError as exc:
            return Token(text, Kind.UNIX, error=exc)
    try:
        return Token(text, Kind.ADDRESS, address=parse_address(text))
    except AddressError:
        pass
    if "://" in text:
        return Token(text, Kind.URL, url=_split_url(text))
    if "/" in text and (network := _cidr(text)) is not None:
        return Token(text, Kind.NETWORK, network=network)
    if (address := _bracketed_address(text)) is not None:
        return Token(text, Kind.BRACKETED, address=address)
    if ":" not in text:
        return Token(text, Kind.NAME)
    try:
        target = coerce_target(text)
    except NetbasicsError as exc:
        named = _service_target(text)
        if not isinstance(named, (Endpoint, HostPort)):
            return Token(text, Kind.OTHER, error=named or _why_not_endpoint(text, exc))
        target = named
    return Token(text, Kind.ENDPOINT if isinstance(target, Endpoint) else Kind.HOST_PORT, endpoint=target)
