"""The other side of a socket, as the servers name it: one place for each kind of socket address.

A server gets its peers' addresses from ``accept``/``recvfrom`` in the socket module's
form (a tuple for IP, text or bytes for ``AF_UNIX``). :class:`PeerKind` is what differs
between the two kinds: how such an address becomes the value a handler sees
(:class:`~netbasics.Endpoint` or :class:`~netbasics.UnixAddress`) and how a log record
names the peer. :data:`INET_PEERS` is the IP kind; the Unix kind lives in
``_io.unix_sockets``, beside the rest of the Unix plumbing. The engines take a kind and
never look at an address themselves.
"""

from __future__ import annotations

import socket
from typing import Any, Final, Protocol, TypeVar

from ..endpoints import Endpoint
from ..errors import EndpointError, NetbasicsError, quote

__all__ = ["INET_PEERS", "InetPeers", "PeerKind", "inet_peer"]

P_co = TypeVar("P_co", covariant=True)


class PeerKind(Protocol[P_co]):
    """How one kind of socket address becomes a peer value and a log text."""

    @property
    def unnamed_senders(self) -> bool:
        """True where a datagram may come with no sender address at all (an unbound Unix socket)."""

    def peer(self, sockaddr: Any) -> P_co:
        """The value handlers see for ``sockaddr``; :class:`EndpointError` for a malformed one."""

    def describe(self, sockaddr: Any, sock: socket.socket | None = None) -> str:
        """The peer at ``sockaddr`` for a log record (``sock``: its connected socket, if any); never raises."""


def inet_peer(sockaddr: Any) -> Endpoint:
    """The :class:`Endpoint` of an IP socket address from the kernel (``EndpointError`` if malformed)."""
    try:
        return Endpoint.from_sockaddr(sockaddr)
    except NetbasicsError as exc:  # pragma: no cover - the kernel gives well-formed addresses
        raise EndpointError(f"unexpected peer address {quote(sockaddr)}: {exc}") from None


class InetPeers:
    """The IP kind of :class:`PeerKind`: peers are :class:`Endpoint` values."""

    __slots__ = ()

    unnamed_senders = False

    def peer(self, sockaddr: Any) -> Endpoint:
        """See :meth:`PeerKind.peer`."""
        return inet_peer(sockaddr)

    def describe(self, sockaddr: Any, sock: socket.socket | None = None) -> str:
        """See :meth:`PeerKind.describe`."""
        try:
            return str(Endpoint.from_sockaddr(sockaddr))
        except Exception:
            return repr(sockaddr)


#: The one instance of :class:`InetPeers`.
INET_PEERS: Final = InetPeers()
