"""The exceptions netbasics raises.

Every error derives from :class:`NetbasicsError`, and each specific error also derives
from the builtin exception a caller already catches: bad input is a :class:`ValueError`,
a timeout is a :class:`TimeoutError`, a failed or broken connection is a
:class:`ConnectionError`. So ``except ValueError`` keeps working for code written against
the standard library, and ``except NetbasicsError`` catches everything from here.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .addresses import Address, IPv4Address

__all__ = [
    "AddressError",
    "BindError",
    "CIDRError",
    "ConnectError",
    "ConnectionClosed",
    "DatagramTooLarge",
    "EndpointError",
    "FrameTooLarge",
    "NetTimeoutError",
    "NetbasicsError",
    "PortError",
    "ResolveError",
    "UnsafeDestination",
    "UnsafeReason",
]

# Inputs are quoted in messages; a megabyte of garbage should not become a megabyte of
# exception text, so quotes are cut to this many characters.
_QUOTE_LIMIT = 60


def quote(value: object) -> str:
    """Return ``repr(value)`` cut to a readable length, for use in error messages."""
    text = repr(value)
    if len(text) > _QUOTE_LIMIT:
        text = text[: _QUOTE_LIMIT - 5] + "...'" + f" ({len(str(value))} chars)"
    return text


class NetbasicsError(Exception):
    """Base class of every exception raised by netbasics."""


class AddressError(NetbasicsError, ValueError):
    """An IP address could not be parsed or built: the message quotes the input and says why.

    Example::

        >>> import netbasics
        >>> netbasics.parse_address("1.2.3.256")
        Traceback (most recent call last):
        ...
        netbasics.AddressError: octet 256 out of range in '1.2.3.256'
    """


class CIDRError(NetbasicsError, ValueError):
    """A network (CIDR prefix), range or address-list entry is malformed."""


class PortError(NetbasicsError, ValueError):
    """A port number is not a plain integer in 0-65535, or a service name is unknown."""


class EndpointError(NetbasicsError, ValueError):
    """Text is not a valid ``address:port`` or ``host:port`` endpoint."""


class FrameTooLarge(NetbasicsError, ValueError):
    """A message exceeds the framer's ``max_size``; raised before the data is buffered."""


class DatagramTooLarge(NetbasicsError, ValueError):
    """A datagram is larger than UDP can carry, or larger than the receive buffer."""


class UnsafeReason(enum.Enum):
    """The rule that made a destination unsafe: :attr:`UnsafeDestination.reason`.

    Address rules name the kind of block the address (or the IPv4 address it embeds)
    belongs to; the policy rules are ``DENIED`` (the deny list), ``PORT_DENIED`` and
    ``PORT_NOT_ALLOWED``; ``ZONE`` is an IPv6 address with a zone; ``METADATA`` is a
    well-known cloud metadata service address, which the policy's convenience switches
    never open. ``NOT_GLOBAL`` covers the remaining rows the registries mark not
    globally reachable.

    >>> UnsafeReason.LINK_LOCAL.value
    'link-local'
    """

    LOOPBACK = "loopback"
    PRIVATE = "private"
    SHARED = "shared"
    LINK_LOCAL = "link-local"
    SITE_LOCAL = "site-local"
    METADATA = "metadata"
    MULTICAST = "multicast"
    BROADCAST = "broadcast"
    UNSPECIFIED = "unspecified"
    THIS_NETWORK = "this-network"
    DOCUMENTATION = "documentation"
    BENCHMARKING = "benchmarking"
    PROTOCOL_ASSIGNMENT = "protocol-assignment"
    TRANSLATION = "translation"
    TUNNEL = "tunnel"
    DISCARD = "discard"
    RESERVED = "reserved"
    NOT_GLOBAL = "not-global"
    ZONE = "zone"
    DENIED = "denied-by-policy"
    PORT_DENIED = "port-denied"
    PORT_NOT_ALLOWED = "port-not-allowed"

    def __str__(self) -> str:
        return self.value


_PORT_REASONS = frozenset({UnsafeReason.PORT_DENIED, UnsafeReason.PORT_NOT_ALLOWED})


class UnsafeDestination(NetbasicsError, ValueError):
    """A destination is not safe to connect to under the destination policy.

    The verdict is structured, so code never has to parse the message:

    * ``address``: the address checked (``None`` only when the raiser had none);
    * ``embedded``: the IPv4 address found inside an IPv6 wrapper (IPv4-mapped, NAT64,
      6to4, Teredo, ISATAP, ...) when that inner address is what made it unsafe, else ``None``;
    * ``reason``: the rule, an :class:`UnsafeReason`;
    * ``detail``: the rule in words (registry row and RFC), without the address;
    * ``port``: the port when one was checked, else ``None``;
    * ``host``: the name that resolved to ``address``, else ``None``.

    The message is built from these fields; ``message`` replaces it when the raiser has
    more context to give.

    >>> import netbasics
    >>> try:
    ...     netbasics.check_destination("::ffff:10.0.0.1")
    ... except netbasics.UnsafeDestination as exc:
    ...     print(exc.reason, exc.address, exc.embedded)
    private ::ffff:10.0.0.1 10.0.0.1
    """

    def __init__(
        self,
        address: Address | None,
        reason: UnsafeReason,
        detail: str,
        *,
        embedded: IPv4Address | None = None,
        port: int | None = None,
        host: str | None = None,
        message: str | None = None,
    ) -> None:
        self.address = address
        self.reason = reason
        self.detail = detail
        self.embedded = embedded
        self.port = port
        self.host = host
        super().__init__(self._build() if message is None else message)

    def _build(self) -> str:
        subject = "" if self.address is None else str(self.address)
        show_port = self.port is not None and (self.host is None or self.reason in _PORT_REASONS)
        if show_port:
            bare = subject if self.address is None or self.address.version == 4 else f"[{subject}]"
            subject = f"{bare}:{self.port}"
        text = f"{subject}: {self.detail}" if subject else self.detail
        if self.host is None:
            return text
        if self.reason in _PORT_REASONS:
            return f"{_quote_host(self.host)}: {text}"
        return f"{_quote_host(self.host)} resolves to an unsafe address: {text}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields: pickle (multiprocessing, logging handlers) must rebuild them.
        return (
            _rebuild_unsafe,
            (self.address, self.reason, self.detail, self.embedded, self.port, self.host, str(self)),
        )


def _rebuild_unsafe(
    address: Address | None,
    reason: UnsafeReason,
    detail: str,
    embedded: IPv4Address | None,
    port: int | None,
    host: str | None,
    message: str,
) -> UnsafeDestination:
    return UnsafeDestination(address, reason, detail, embedded=embedded, port=port, host=host, message=message)


def _quote_host(host: str) -> str:
    """A host name as shown in messages: as is when short, else cut like :func:`quote`."""
    return host if len(host) <= _QUOTE_LIMIT else quote(host)


class ResolveError(NetbasicsError, OSError):
    """A host name could not be resolved to any address."""


class BindError(NetbasicsError, OSError):
    """A socket could not be bound: the address is in use, not local, or not permitted."""


class ConnectError(NetbasicsError, ConnectionError):
    """A connection could not be established; the message names every address tried."""


class ConnectionClosed(NetbasicsError, ConnectionError):
    """The peer closed the connection before a complete message arrived.

    ``partial`` holds the bytes received so far, so nothing accepted is lost.
    """

    def __init__(self, message: str, partial: bytes = b"") -> None:
        super().__init__(message)
        self.partial = partial


class NetTimeoutError(NetbasicsError, TimeoutError):
    """A network operation did not complete within its timeout."""
