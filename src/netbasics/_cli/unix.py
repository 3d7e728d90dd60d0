"""Unix-domain endpoints for the command line: ``serve``, ``send`` and ``probe`` with ``unix:PATH`` / ``unix:@NAME``.

The commands keep their protocol word: ``tcp`` asks for a stream socket and ``udp`` for a
datagram socket, and an endpoint written ``unix:...`` makes it the Unix-domain socket of
that kind, as ``nc -U`` and ``nc -uU`` do. Kept apart from ``cli``: the token recogniser
(``targets``) returns a :class:`UnixAddress` for ``unix:`` text, and each command calls
one function here for those.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from ..errors import NetTimeoutError
from ..stream import StreamConnection
from ..udp import Datagram, Reply
from ..unix_addresses import UnixAddressLike
from ..unix_datagram import UnixDatagramHandler, UnixDatagramServer, open_unix_datagram
from ..unix_stream import UnixServer, connect_unix

__all__ = ["connect_stream", "datagram_request", "datagram_server", "stream_server"]


def stream_server(
    bind: UnixAddressLike, handler: Callable[[StreamConnection], None], idle_timeout: float | None
) -> UnixServer:
    """``serve tcp --bind unix:...``: a Unix stream server."""
    return UnixServer(bind, handler, idle_timeout=idle_timeout)


def datagram_server(bind: UnixAddressLike, handler: Callable[[Datagram, Reply], None]) -> UnixDatagramServer:
    """``serve udp --bind unix:...``: a Unix datagram server running the UDP handler."""
    # The command's datagram handlers only read .data and call reply(), which a
    # UnixDatagram and its reply have too.
    return UnixDatagramServer(bind, cast(UnixDatagramHandler, handler))


def connect_stream(
    target: UnixAddressLike, *, connect_timeout: float | None, timeout: float | None = None
) -> StreamConnection:
    """``probe``/``send tcp`` to a ``unix:`` target."""
    return connect_unix(target, connect_timeout=connect_timeout, timeout=timeout)


def datagram_request(target: UnixAddressLike, payload: bytes, *, timeout: float, retries: int) -> bytes:
    """``send udp unix:...``: one datagram, the first reply; resent on silence, waiting twice as long each time.

    The socket gets an address of its own automatically, so the reply can come back.
    """
    wait = timeout
    with open_unix_datagram(connect=target) as sock:
        for attempt in range(retries + 1):
            sock.send(payload)
            sock.timeout = wait
            try:
                return sock.recv()
            except NetTimeoutError:
                if attempt == retries:
                    raise
            wait *= 2
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
