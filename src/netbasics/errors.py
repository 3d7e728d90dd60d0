"""The exceptions netbasics raises, and the rule for which one.

Bad data (text or values that are no valid address, network, range, port or endpoint)
and network failures raise a :class:`NetbasicsError` subclass that also derives from
the builtin a caller already catches: bad input is a :class:`ValueError`, a timeout a
:class:`TimeoutError`, a failed or broken connection a :class:`ConnectionError`, other
socket failures an :class:`OSError`. So ``except ValueError`` keeps working for code
written against the standard library, and ``except NetbasicsError`` catches every
rejected input and network failure.

A bad call is not bad data: an argument of the wrong type raises a plain
:class:`TypeError`, a setting with a wrong value (``timeout=0``,
``LineFramer(delimiter=b"")``) a plain :class:`ValueError`. Neither is a
:class:`NetbasicsError`: they point at a bug in the calling code.

Every message names the bad value through :func:`quote`, which cuts it short, so no
message grows with its input.
"""

from __future__ import annotations

import reprlib

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
]

# Inputs are quoted in messages; a megabyte of garbage should not become a megabyte of
# exception text, so quotes are cut to about this many characters.
_QUOTE_LIMIT = 60
# An int wider than this many bits is shown by its size: its decimal text would be longer
# than the limit, and past 4300 digits str() raises instead (sys.int_max_str_digits).
_INT_BITS_SHOWN = 190


def quote(value: object) -> str:
    """Return ``repr(value)`` cut to a readable length, for use in error messages; never raises.

    Text and bytes longer than the limit keep their start and say their length; an int
    too wide to print is shown as its bit length; an object whose ``repr()`` raises is
    shown by its type. So a message quoting any input stays a few hundred characters.

    >>> quote("x" * 1000)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' (1000 chars)"
    >>> quote(10**5000)
    '<16610-bit int>'
    """
    if isinstance(value, int) and value.bit_length() > _INT_BITS_SHOWN:
        return f"<{'-' if value < 0 else ''}{value.bit_length()}-bit {type(value).__name__}>"
    if isinstance(value, bytearray):
        value = bytes(value)
    if isinstance(value, (str, bytes)):
        # Quote only the head: repr() of a huge input would copy all of it first.
        text = repr(value[:_QUOTE_LIMIT])
        if len(value) > _QUOTE_LIMIT or len(text) > _QUOTE_LIMIT:
            unit = "chars" if isinstance(value, str) else "bytes"
            return f"{text[: _QUOTE_LIMIT - 4]}...{text[-1]} ({len(value)} {unit})"
        return text
    try:
        text = _REPR.repr(value)
    except Exception:  # a repr that raises (a list holding a huge int) must not mask the error
        return f"<{type(value).__name__} object>"
    if len(text) > _QUOTE_LIMIT:
        text = f"{text[: _QUOTE_LIMIT - 3]}..."
    return text


# An error that wraps another (a bad address inside a network) quotes its own input and
# then gives the inner reason, cut to this length: nesting cannot add up past a few
# hundred characters.
_REASON_LIMIT = 160


def reason_of(exc: BaseException) -> str:
    """Return the message of ``exc`` cut to a bounded length, for wrapping in another error.

    >>> reason_of(ValueError("x" * 500))[-10:]
    'xxxxxx ...'
    """
    text = str(exc)
    return text if len(text) <= _REASON_LIMIT else f"{text[: _REASON_LIMIT - 4]} ..."


class _Repr(reprlib.Repr):
    """reprlib's bounded repr of containers, with ints and strings quoted as above."""

    def repr_int(self, x: int, level: int) -> str:
        return quote(x) if x.bit_length() > _INT_BITS_SHOWN else int.__repr__(x)

    def repr_str(self, x: str, level: int) -> str:
        return quote(x)


_REPR = _Repr()
_REPR.maxother = _QUOTE_LIMIT


class NetbasicsError(Exception):
    """Base class of the errors about data and I/O that netbasics raises.

    Bad calls (a wrong argument type or setting) raise plain ``TypeError`` and
    ``ValueError`` instead, which this does not catch.
    """


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


# UnsafeDestination is defined with the policy it reports on (safety), so its fields can be
# typed as addresses without this module importing the address core (an import cycle).


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
