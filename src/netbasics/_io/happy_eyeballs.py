"""Happy Eyeballs: connect to whichever of a name's addresses answers first (RFC 8305).

A name often resolves to several addresses, IPv6 and IPv4. Trying them one after the
other makes a broken address cost a whole connect timeout (often over a minute) before
the next is tried; trying them all at once floods the network. RFC 8305 ("Happy
Eyeballs Version 2") is the middle way, and this module implements its connection part:

1. Order (section 4). Keep the resolver's order (``getaddrinfo`` already sorts by RFC 6724
   preference) but interleave the families: the first address, then the first address
   of the other family, then the second of the first family, and so on. A dead IPv6
   path therefore never hides every IPv4 address behind it.
2. Stagger (section 5). Start the first attempt. Start the next one when the previous
   attempt fails, or when the "Connection Attempt Delay" passes with no answer, whichever
   comes first; the RFC recommends 250 ms (section 8), and so do we.
3. Race. Attempts already running are not cancelled when a new one starts. The first
   to complete wins; every other socket is closed at once (section 5: "all other
   connection attempts ... SHOULD be canceled").
4. Give up when every address has failed, or when the overall connect timeout passes;
   the error names every address tried and how each one failed.

Resolution (section 3: asynchronous AAAA and A queries) is left to one ``getaddrinfo``
call, as trio and CPython's asyncio do; the connect timeout does not bound it. Each attempt
is a non-blocking ``connect()`` watched with one selector, so the whole race runs in
the calling thread without helper threads.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import time
from collections.abc import Sequence
from typing import Final, Union

from ..addresses import IPv4Address, IPv6Address
from ..endpoints import Endpoint, EndpointLike, HostPort, coerce_target
from ..errors import ConnectError, EndpointError, quote
from ..safety import DestinationPolicy, check_destination, refuse_target
from .sockets import bind_socket, connect_failure, family_of, refuse_port_zero

__all__ = ["ATTEMPT_DELAY", "SourceLike", "checked_target", "interleave", "open_tcp_socket", "source_endpoint"]

#: What a client's ``source=`` takes: an address, or an endpoint to fix the port too.
SourceLike = Union[EndpointLike, IPv4Address, IPv6Address]

#: RFC 8305 section 8: the recommended Connection Attempt Delay is 250 ms.
ATTEMPT_DELAY: Final = 0.25

_IN_PROGRESS: Final = frozenset({errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK, errno.EALREADY})


def checked_target(target: EndpointLike, policy: DestinationPolicy | None) -> Endpoint | HostPort:
    """A client's ``target`` parsed; with a ``policy``, bad text is refused and an endpoint checked.

    A name comes back unresolved: the caller resolves it (with the policy, once, so the
    connection race uses exactly the checked answers).
    """
    try:
        parsed = coerce_target(target)
        refuse_port_zero(parsed, target)  # with a policy, refused like any bad destination
    except EndpointError as exc:
        if policy is None:
            raise
        raise refuse_target(target, exc) from exc
    if isinstance(parsed, Endpoint) and policy is not None:
        check_destination(parsed, policy=policy)
    return parsed


def source_endpoint(source: SourceLike) -> Endpoint:
    """A client's ``source=``: an address (any port) or an endpoint; a name is refused (:class:`EndpointError`)."""
    if isinstance(source, (IPv4Address, IPv6Address)):
        return Endpoint(source, 0)
    if isinstance(source, str) and not source.startswith("[") and source.count(":") != 1:
        try:
            return Endpoint(source, 0)  # a bare address: any port
        except EndpointError:
            pass
    parsed = coerce_target(source)
    if isinstance(parsed, HostPort):
        raise EndpointError(f"source must be an IP address, not the name {quote(parsed.host)}")
    return parsed


def interleave(endpoints: Sequence[Endpoint]) -> list[Endpoint]:
    """RFC 8305 section 4: alternate families, starting with the family of the first address.

    The order within each family is kept.

    >>> from netbasics import parse_endpoint
    >>> interleave([parse_endpoint(t) for t in ["[::1]:1", "[::2]:1", "10.0.0.1:1", "10.0.0.2:1"]])
    [Endpoint('[::1]:1'), Endpoint('10.0.0.1:1'), Endpoint('[::2]:1'), Endpoint('10.0.0.2:1')]
    """
    if not endpoints:
        return []
    first_version = endpoints[0].version
    first = [ep for ep in endpoints if ep.version == first_version]
    other = [ep for ep in endpoints if ep.version != first_version]
    out: list[Endpoint] = []
    for i in range(max(len(first), len(other))):
        if i < len(first):
            out.append(first[i])
        if i < len(other):
            out.append(other[i])
    return out


def _start(endpoint: Endpoint, source: Endpoint | None) -> tuple[socket.socket | None, int]:
    """A non-blocking socket with its connect to ``endpoint`` begun, and connect's errno.

    The socket is ``None`` when none could be made (e.g. ``EAFNOSUPPORT`` for IPv6 on a
    host without it): that attempt failed, the others go on.
    """
    if source is not None:
        sock = bind_socket(source, socket.SOCK_STREAM, reuse_address=False)
    else:
        try:
            sock = socket.socket(family_of(endpoint), socket.SOCK_STREAM)
        except OSError as exc:
            return None, exc.errno or errno.EAFNOSUPPORT
    try:
        sock.setblocking(False)
        code = sock.connect_ex(endpoint.sockaddr)
    except OSError as exc:  # e.g. a zone naming no interface
        code = exc.errno or errno.EINVAL
    except BaseException:
        sock.close()
        raise
    return sock, code


def open_tcp_socket(
    endpoints: Sequence[Endpoint],
    *,
    target: object,
    timeout: float | None,
    source: Endpoint | None = None,
    delay: float = ATTEMPT_DELAY,
) -> socket.socket:
    """A connected, blocking TCP socket to the first of ``endpoints`` that answers.

    ``target`` is what the caller asked for (a name or an endpoint), for error messages.
    ``timeout`` bounds the whole race. With ``source``, only addresses of its family are
    tried, each from a socket bound to it. Raises :class:`ConnectError` or
    :class:`NetTimeoutError` naming every address tried.
    """
    order = interleave(endpoints)
    if source is not None:
        order = [ep for ep in order if ep.version == source.version]
    results: dict[Endpoint, OSError | None] = {}
    if not order:
        wanted = f"IPv{source.version} " if source is not None else ""
        raise ConnectError(f"connect to {target}", f"no {wanted}address to connect to (source {source})")
    now = time.monotonic()
    deadline = None if timeout is None else now + timeout
    next_start = now
    pending: dict[socket.socket, Endpoint] = {}
    sel = selectors.DefaultSelector()
    winner: socket.socket | None = None
    index = 0
    try:
        while winner is None:
            now = time.monotonic()
            if index < len(order) and (not pending or now >= next_start):
                endpoint = order[index]
                index += 1
                sock, code = _start(endpoint, source)
                results[endpoint] = None
                if sock is not None and code == 0:
                    winner = sock
                    break
                if sock is not None and code in _IN_PROGRESS:
                    pending[sock] = endpoint
                    sel.register(sock, selectors.EVENT_WRITE)
                    next_start = now + delay
                else:
                    if sock is not None:
                        sock.close()
                    results[endpoint] = OSError(code, os.strerror(code))
                    next_start = now  # a failed attempt starts the next one at once
                continue
            if not pending:
                break  # every address failed
            if deadline is not None and now >= deadline:
                break
            wake = next_start if index < len(order) else deadline
            if deadline is not None and wake is not None:
                wake = min(wake, deadline)
            for key, _ in sel.select(None if wake is None else max(0.0, wake - now)):
                # selectors types fileobj as any file-like; only sockets are registered here.
                ready: socket.socket = key.fileobj  # type: ignore[assignment]  # no typed form: see above
                endpoint = pending.pop(ready)
                sel.unregister(ready)
                code = ready.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code == 0 and winner is None:
                    winner = ready
                    continue
                ready.close()
                if code:
                    results[endpoint] = OSError(code, os.strerror(code))
                next_start = time.monotonic()
    finally:
        sel.close()
        for sock in pending:
            sock.close()
    if winner is None:
        last = next((exc for exc in reversed(results.values()) if exc is not None), None)
        raise connect_failure(target, list(results.items()), timeout) from last
    winner.setblocking(True)
    return winner
