"""Name resolution: turn a host name and port into endpoints with ``getaddrinfo``.

IP literals are never sent to the resolver, and ``localhost`` (and names under
``.localhost``) resolve to loopback without asking DNS, as RFC 6761 section 6.3 asks.
With a destination policy, every answer is checked before any is returned: this is the
I/O half of the SSRF guard, whose policy (``safety``) stays pure.

Every function that looks a name up takes ``resolver=``: any callable with the shape of
``socket.getaddrinfo`` (a :class:`Resolver`), ``None`` for the system resolver. Tests
inject answers through it, and applications route lookups through their own resolver
(a cache, DNS over HTTPS, a fixed table) without patching the socket module.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any, Final, Protocol

from ._io.sockets import family_number, translate_os_error
from .addresses import Address, IPv4Address, IPv6Address
from .endpoints import Endpoint, HostPort
from .errors import ResolveError
from .safety import DestinationPolicy, UnsafeDestination, check_destination, destination_host

__all__ = ["Resolver", "resolve"]

_LOOPBACK_V4: Final = IPv4Address(0x7F000001)
_LOOPBACK_V6: Final = IPv6Address(1)
_IP_FAMILIES: Final = frozenset({int(socket.AF_INET), int(socket.AF_INET6)})


class Resolver(Protocol):
    """A name resolver with the shape of :func:`socket.getaddrinfo`, which is one.

    Called as ``resolver(host, port, family, type)`` with ``family`` one of
    ``AF_UNSPEC``/``AF_INET``/``AF_INET6`` and ``type`` ``SOCK_STREAM``; it returns
    ``(family, type, proto, canonname, sockaddr)`` tuples, in preference order, and raises
    :class:`OSError` (``socket.gaierror``) when the name does not resolve. Answers that are
    not IPv4 or IPv6 are ignored. Pass one as ``resolver=`` to :func:`resolve`,
    :func:`connect_tcp`, :func:`port_open`, :func:`udp_request`, :func:`open_udp` and the
    HTTP guard; ``None`` means the system resolver.

    >>> import socket
    >>> def table(host, port, family=0, type=0, proto=0, flags=0):
    ...     return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.7", port))]
    >>> resolve("api.example", 443, resolver=table)
    [Endpoint('192.0.2.7:443')]
    """

    def __call__(
        self, host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> Sequence[tuple[int, int, int, str, tuple[Any, ...]]]: ...


def _want(version: int, family: int | None) -> bool:
    return family is None or family == version


def resolve(
    host: str | HostPort,
    port: int | None = None,
    *,
    family: int | None = None,
    policy: DestinationPolicy | None = None,
    resolver: Resolver | None = None,
) -> list[Endpoint]:
    """Resolve ``host`` to a list of endpoints, in the resolver's order, without duplicates.

    ``host`` is a name, an IP literal, or a :class:`HostPort` (then ``port`` may be
    omitted). ``family`` limits the answers to IPv4 or IPv6 (``4``/``6`` or
    ``socket.AF_INET``/``AF_INET6``). Raises :class:`ResolveError` when the name does not
    resolve or leaves no address of the wanted family.

    With a ``policy`` (:class:`DestinationPolicy`), every answer is checked and one
    unsafe answer refuses the whole name with :class:`UnsafeDestination` (its ``host``
    names the name): a name that can point at an internal address is not safe, whichever
    answer a client would pick. Connect only to the returned endpoints, never to the name
    again; that closes the DNS-rebinding window. With a policy, text that is no host is
    refused the same way: legacy numeric forms (``127.1``, ``2130706433``) with reason
    ``LEGACY_NUMERIC``, junk with ``INVALID``.

    ``resolver`` (a :class:`Resolver`) answers for names; ``None`` asks the system
    resolver. IP literals and ``localhost`` never reach it.

    >>> resolve("localhost", 8080, family=4)
    [Endpoint('127.0.0.1:8080')]
    >>> from netbasics import DestinationPolicy
    >>> resolve("localhost", 8080, policy=DestinationPolicy())
    Traceback (most recent call last):
    ...
    netbasics.UnsafeDestination: localhost resolves to an unsafe address: 127.0.0.1: loopback (RFC 1122 ...
    """
    if policy is not None and (isinstance(host, str) or host.address is None):
        # Text a lenient parser would read as an address (127.1) or that is no host at all
        # is refused as a destination, not reported as bad input: one exception to catch.
        text = host if isinstance(host, str) else host.host
        found = destination_host(text)
        if isinstance(found, UnsafeDestination):
            shown = host.port if isinstance(host, HostPort) and port is None else port
            raise UnsafeDestination(
                found.address, found.reason, found.detail, embedded=found.embedded, port=shown, host=found.host
            )
        if isinstance(host, str):
            host = found if isinstance(found, str) else str(found)
    return resolve_checked(host, port, family=family, policy=policy, resolver=resolver)


def resolve_checked(
    host: str | HostPort,
    port: int | None = None,
    *,
    family: int | None = None,
    policy: DestinationPolicy | None = None,
    resolver: Resolver | None = None,
) -> list[Endpoint]:
    """:func:`resolve` for a host whose text was already read by ``destination_host``.

    Package-internal: the HTTP guard reads the host once and calls this, so the text is
    not checked twice on every new connection.
    """
    endpoints, name = _resolve(host, port, family, resolver)
    if policy is not None:
        for endpoint in endpoints:
            _check(endpoint, policy, name)
    return endpoints


def _check(endpoint: Endpoint, policy: DestinationPolicy, name: str | None) -> None:
    try:
        check_destination(endpoint, policy=policy)
    except UnsafeDestination as exc:
        if name is None:
            raise
        raise UnsafeDestination(
            exc.address, exc.reason, exc.detail, embedded=exc.embedded, port=exc.port, host=name
        ) from None


def _resolve(
    host: str | HostPort, port: int | None, family: int | None, resolver: Resolver | None = None
) -> tuple[list[Endpoint], str | None]:
    """The endpoints, and the name they came from (``None`` for an IP literal)."""
    want = family_number(family)
    hp = host if isinstance(host, HostPort) else HostPort(host, 0 if port is None else port)
    if isinstance(host, HostPort) and port is not None:
        hp = HostPort(hp.host, port)
    literal = hp.address
    if literal is not None:
        if not _want(literal.version, want):
            raise ResolveError(f"{hp.host} is an IPv{literal.version} address, not IPv{want}")
        return [Endpoint(literal, hp.port)], None
    if hp.is_localhost:
        candidates: list[Address] = [_LOOPBACK_V4]
        if socket.has_ipv6:
            candidates.append(_LOOPBACK_V6)
        found = [Endpoint(a, hp.port) for a in candidates if _want(a.version, want)]
        if not found:
            raise ResolveError(f"{hp.host} has no IPv{want} loopback address here")
        return found, hp.host
    af = {None: socket.AF_UNSPEC, 4: socket.AF_INET, 6: socket.AF_INET6}[want]
    try:
        # socket.getaddrinfo is looked up at each call, so the default follows the module.
        lookup = socket.getaddrinfo if resolver is None else resolver
        infos = lookup(hp.host, hp.port, af, socket.SOCK_STREAM)
    except OSError as exc:
        err = translate_os_error(exc, "resolve", hp.host)
        if not isinstance(err, ResolveError):
            err = ResolveError(f"resolve {hp.host}: {exc}")
        raise err from exc
    result: list[Endpoint] = []
    seen: set[Endpoint] = set()
    for info_family, _type, _proto, _name, sockaddr in infos:
        if int(info_family) not in _IP_FAMILIES:
            continue
        ep = Endpoint.from_sockaddr(tuple(sockaddr))
        if ep not in seen and _want(ep.version, want):
            seen.add(ep)
            result.append(ep)
    if not result:
        raise ResolveError(f"resolve {hp.host}: no {'IP' if want is None else f'IPv{want}'} address")
    return result, hp.host
