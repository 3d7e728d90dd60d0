"""asyncio counterparts of the netbasics clients and servers: the same names, keywords and defaults.

(This branch's copy holds only the datagram half; the stream half's ``__init__`` on branch
``aio`` has the same marked block at its end, into which the block below merges.)
"""

from __future__ import annotations

__all__: list[str] = []

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
