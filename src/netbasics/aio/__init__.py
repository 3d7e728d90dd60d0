"""asyncio counterparts of the netbasics clients and servers: the same names, keywords and defaults.

Moving code between the two APIs is changing ``netbasics.`` to ``netbasics.aio.`` and
adding ``await``: :func:`connect_tcp`, :func:`connect_unix`, :func:`port_open` and
:func:`resolve` are coroutines; :class:`StreamConnection` has the synchronous
connection's reads and writes as coroutines (``async for`` iterates over lines or
messages); :class:`TCPServer` and :class:`UnixServer` run ``async def handler(conn)``
for each client (``async with`` binds, serves and stops). Every await on a connection
has a deadline, every server a connection limit, and the same :class:`~netbasics.Framer`
objects, errors and destination policy as the synchronous API apply.

Stdlib only (Python 3.10+); runs on uvloop too.
"""

from __future__ import annotations

from ._servers import TCPServer as TCPServer
from ._servers import UnixServer as UnixServer
from ._stream import DEFAULT_CONNECT_TIMEOUT as DEFAULT_CONNECT_TIMEOUT
from ._stream import StreamConnection as StreamConnection
from ._stream import connect_tcp as connect_tcp
from ._stream import connect_unix as connect_unix
from ._stream import port_open as port_open
from ._stream import resolve as resolve

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "StreamConnection",
    "TCPServer",
    "UnixServer",
    "connect_tcp",
    "connect_unix",
    "port_open",
    "resolve",
]

# --- datagrams (branch aiodgram) ---------------------------------------------------------
# The datagram half adds its imports below this line, and extends __all__ with
# `__all__ += [...]` (kept sorted when the lead merges); nothing of the stream half
# follows this block.
from ._datagram import UDPSocket as UDPSocket
from ._datagram import UnixDatagramSocket as UnixDatagramSocket
from ._datagram import open_udp as open_udp
from ._datagram import open_unix_datagram as open_unix_datagram
from ._datagram import udp_request as udp_request
from ._datagram_server import UDPServer as UDPServer
from ._datagram_server import UnixDatagramServer as UnixDatagramServer

__all__ += [
    "UDPServer",
    "UDPSocket",
    "UnixDatagramServer",
    "UnixDatagramSocket",
    "open_udp",
    "open_unix_datagram",
    "udp_request",
]
# --- end of datagrams ---------------------------------------------------------------------
