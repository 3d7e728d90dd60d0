"""The one guarded connect every HTTP client goes through: resolve once, check, connect.

An HTTP client fetching a user-supplied URL must not connect anywhere the destination
policy refuses, and must not be talked past it by spelling (``127.1``, ``[::ffff:7f00:1]``,
``2130706433``) or by DNS rebinding (a name that answers "public" when checked and
"internal" when connected). The rule that closes both, here and in every adapter:

1. the host as the client will use it is read once by :func:`destination_host`: an IP
   literal in the strict form is checked as it is, a legacy numeric form or junk is
   refused, and a name is resolved **once** (through ``resolver=`` when given);
2. every answer is checked with the policy. A name with safe and unsafe answers is
   refused whole (the rule of ``resolve(policy=...)``): a name that can point inside is
   not a safe destination, whichever answer a client would pick;
3. only the checked addresses are connected to (Happy Eyeballs, RFC 8305, between them),
   never the name again, so a second answer can never be used.

Every refusal is an :class:`UnsafeDestination` with its fields; it goes to the caller's
``on_refusal`` hook and to the ``netbasics.http_guard`` logger (level WARNING) before it
is raised, so denials can be counted per reason.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Final

from .._io.happy_eyeballs import open_tcp_socket
from .._io.sockets import connect_failure, family_of
from ..endpoints import Endpoint
from ..resolver import Resolver, resolve_checked
from ..safety import DestinationPolicy, UnsafeDestination, check_destination, destination_host

__all__ = ["LOGGER", "RefusalHook", "checked_endpoints", "connect_guarded", "report_refusal"]

#: The logger every refusal is reported to, at WARNING, with the exception as
#: ``extra={"unsafe_destination": exc}``.
LOGGER: Final = logging.getLogger("netbasics.http_guard")
# A refusal is an expected outcome for code that fetches user-supplied URLs: without a
# logging setup of the application's own, Python's last-resort handler would print every
# one to stderr. With this, the records still reach any handler the application adds
# (here, on "netbasics" or on the root logger), and nothing is printed otherwise.
LOGGER.addHandler(logging.NullHandler())

#: Called with each :class:`UnsafeDestination` before it is raised.
RefusalHook = Callable[[UnsafeDestination], None]


def report_refusal(exc: UnsafeDestination, on_refusal: RefusalHook | None) -> None:
    """Log ``exc`` and hand it to ``on_refusal``; the caller raises it afterwards."""
    LOGGER.warning("refused destination: %s", exc, extra={"unsafe_destination": exc})
    if on_refusal is not None:
        on_refusal(exc)


def checked_endpoints(
    host: str, port: int, policy: DestinationPolicy, resolver: Resolver | None = None
) -> list[Endpoint]:
    """The endpoints ``host`` stands for, every one checked with ``policy``; one resolution at most.

    Raises :class:`UnsafeDestination` (the host text, an address or a port is refused) or
    :class:`ResolveError`. Nothing is reported here: see :func:`connect_guarded`.
    """
    found = destination_host(host)
    if isinstance(found, UnsafeDestination):
        raise UnsafeDestination(
            found.address, found.reason, found.detail, embedded=found.embedded, port=port, host=found.host
        )
    if isinstance(found, str):
        return resolve_checked(found, port, policy=policy, resolver=resolver)
    endpoint = Endpoint(found, port)
    check_destination(endpoint, policy=policy)
    return [endpoint]


def _source(source_address: tuple[str, int] | None) -> Endpoint | None:
    # http.client's convention: None, or (host, port) where "" means any address.
    if source_address is None:
        return None
    host, port = source_address
    if not host:
        if port:
            raise ValueError(f"source_address {source_address!r}: give an address with the port")
        return None
    return Endpoint(host, port)


def connect_guarded(
    host: str,
    port: int,
    *,
    policy: DestinationPolicy,
    timeout: float | None = None,
    source_address: tuple[str, int] | None = None,
    resolver: Resolver | None = None,
    on_refusal: RefusalHook | None = None,
) -> socket.socket:
    """A connected, blocking TCP socket to ``host:port``, only if ``policy`` allows where it goes.

    ``host`` is the host as an HTTP client holds it: a name, an IP literal (IPv6 with or
    without brackets). It is resolved once (``resolver``, a :class:`~netbasics.Resolver`,
    or the system resolver), every answer is checked, and only checked addresses are
    connected to, raced with Happy Eyeballs. A name with any unsafe answer is refused
    whole. Legacy numeric hosts (``127.1``, ``2130706433``, ``0x7f.1``) and hosts that
    are no valid host are refused as such, never handed to a resolver.

    ``timeout`` bounds the connect (the race) and is set on the returned socket;
    ``source_address`` binds the local side, as in :mod:`http.client`.

    A refusal raises :class:`~netbasics.UnsafeDestination` (its ``reason``, ``address``,
    ``port``, ``host`` fields say why) after it was logged to ``netbasics.http_guard``
    and passed to ``on_refusal``; no packet was sent. Connect failures raise
    :class:`~netbasics.ConnectError` or :class:`~netbasics.NetTimeoutError` (both
    :class:`OSError`), a name that does not resolve :class:`~netbasics.ResolveError`.

    >>> from netbasics import DestinationPolicy
    >>> connect_guarded("127.1", 80, policy=DestinationPolicy())
    Traceback (most recent call last):
    ...
    netbasics.UnsafeDestination: '127.1': legacy numeric form of 127.0.0.1, which parsers read differently; ...
    """
    if not isinstance(host, str):
        raise TypeError(f"host must be str, got {type(host).__name__}")
    try:
        endpoints = checked_endpoints(host, port, policy, resolver)
    except UnsafeDestination as exc:
        report_refusal(exc, on_refusal)
        raise
    shown = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
    source = _source(source_address)
    if len(endpoints) == 1 and source is None:
        return _connect_one(endpoints[0], shown, timeout)
    sock = open_tcp_socket(endpoints, target=shown, timeout=timeout, source=source)
    try:
        sock.settimeout(timeout)
    except BaseException:
        sock.close()
        raise
    return sock


def _connect_one(endpoint: Endpoint, shown: str, timeout: float | None) -> socket.socket:
    """One address: a blocking connect with the timeout; no race to run (and no selector to pay for)."""
    try:
        sock = socket.socket(family_of(endpoint), socket.SOCK_STREAM)
    except OSError as exc:
        raise connect_failure(shown, [(endpoint, exc)], timeout) from exc
    try:
        sock.settimeout(timeout)
        sock.connect(endpoint.sockaddr)
    except OSError as exc:
        sock.close()
        raise connect_failure(shown, [(endpoint, exc)], timeout) from exc
    except BaseException:
        sock.close()
        raise
    return sock
