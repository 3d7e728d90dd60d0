"""What UDP and Unix datagram sockets share: payload and reply types, the truncation check.

A datagram is received whole or not at all, whatever the socket family: every receive
here asks for one byte more than the caller's limit, so a datagram that fills that byte
was too large, and is reported instead of being cut (see :func:`oversized_received`).
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from typing import Final, Union

from ..errors import DatagramTooLarge

__all__ = ["TRUNC_FLAGS", "BytesLike", "Reply", "oversized_received"]

#: What a datagram's payload may be given as: the buffer types the socket module sends.
BytesLike = Union[bytes, bytearray, memoryview]

#: What a datagram server's handler gets to answer with: ``reply(data)`` sends ``data``
#: back to the datagram's sender from the server's socket.
Reply = Callable[[BytesLike], None]

# Linux (and Android) return a datagram's real length when MSG_TRUNC is passed to recv;
# other systems either ignore the flag or mean something else by it, so it is only used
# there. Everywhere, the extra byte in the receive buffer is what detects truncation.
TRUNC_FLAGS: Final = socket.MSG_TRUNC if sys.platform.startswith("linux") and hasattr(socket, "MSG_TRUNC") else 0


def oversized_received(size: int, max_bytes: int, sender: object) -> DatagramTooLarge:
    """The error for a received datagram of ``size`` bytes, more than the ``max_bytes`` asked for."""
    # Without MSG_TRUNC (not Linux) the kernel does not say how large it really was.
    how = f"{size} bytes" if size > max_bytes + 1 or TRUNC_FLAGS else f"more than {max_bytes} bytes"
    return DatagramTooLarge(
        f"datagram from {sender} was {how}, larger than the receive buffer of {max_bytes} bytes; "
        "it was discarded (raise max_bytes to receive it)"
    )
