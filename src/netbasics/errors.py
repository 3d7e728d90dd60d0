"""The exceptions netbasics raises, and the rule for which one.

Bad data (text or values that are no valid address, network, range, port or endpoint)
and network failures raise a :class:`NetbasicsError` subclass that also derives from
the builtin a caller already catches: bad input is a :class:`ValueError`, a timeout a
:class:`TimeoutError`, a failed or broken connection a :class:`ConnectionError`, other
socket failures an :class:`OSError`. So ``except ValueError`` keeps working for code
written against the standard library, and ``except NetbasicsError`` catches every
rejected input and network failure.

A bad call is not bad data: an argument of the wrong type raises a plain
:class:`TypeError`, a setting with a wrong value (``timeout=-1``,
``LineFramer(delimiter=b"")``) a plain :class:`ValueError`. Neither is a
:class:`NetbasicsError`: they point at a bug in the calling code.

Errors carry fields, and their messages are built from them, so code never needs to
parse a message:

* :class:`AddressError`, :class:`CIDRError`, :class:`PortError`, :class:`EndpointError`:
  ``.input`` (the rejected input, text cut to 60 characters), ``.reason`` and ``.at``
  (the index in the input where the fault is, when known);
* :class:`ConnectError`: ``.attempts``, each address tried with the error it failed with;
* :class:`FrameTooLarge`: ``.size``, ``.limit`` and ``.at_least``;
* :class:`NetTimeoutError`: ``.operation`` and ``.timeout``;
* :class:`ConnectionClosed`: ``.partial``, and which side closed by its subclass,
  :class:`PeerClosed` or :class:`ClosedLocally`.

Every message names the bad value through :func:`quote`, which cuts it short, and no
message is longer than 300 characters, however deeply errors wrap each other.

Timeouts follow one rule everywhere (``timeout=``, ``idle_timeout=``, ``stop(grace)``
and the like): ``None`` and ``float("inf")`` mean no deadline, and so does a finite value
too large for the clock (``1e308``, ``2**64``); ``nan`` and negative values raise a plain
:class:`ValueError` naming the parameter (zero too where a call cannot use it), and a
non-number or a ``bool`` a :class:`TypeError`.

Text arguments are read as exact ``str``: a ``str`` subclass is parsed by its string
value, and none of its overridden methods (``__str__``, ``split``, ``__getitem__``,
...) is called, so a subclass cannot change or break a parse.
"""

from __future__ import annotations

import reprlib
from typing import Any

__all__ = [
    "AddressError",
    "BindError",
    "CIDRError",
    "ClosedLocally",
    "ConnectError",
    "ConnectionClosed",
    "DatagramTooLarge",
    "EndpointError",
    "FrameTooLarge",
    "NetTimeoutError",
    "NetbasicsError",
    "PeerClosed",
    "PortError",
    "ResolveError",
]

# Inputs are quoted in messages; a megabyte of garbage should not become a megabyte of
# exception text, so quotes are cut to about this many characters.
_QUOTE_LIMIT = 60
# An int wider than this many bits is shown by its size: its decimal text would be longer
# than the limit, and past 4300 digits str() raises instead (sys.int_max_str_digits).
_INT_BITS_SHOWN = 190
# No message is longer than this, at any nesting (the last line of defence: each message
# is built from bounded parts and should never need the cut).
MESSAGE_LIMIT = 300


def quote(value: object) -> str:
    """Return ``repr(value)`` cut to a readable length, for use in error messages; never raises.

    Text and bytes longer than the limit keep their start and say their length; an int
    too wide to print is shown as its bit length; an object whose ``repr()`` raises is
    shown by its type. So a message quoting any input stays a few hundred characters.
    A ``str`` or ``bytes`` subclass is quoted by its value, without calling its methods.

    >>> quote("x" * 1000)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' (1000 chars)"
    >>> quote(10**5000)
    '<16610-bit int>'
    """
    if isinstance(value, int) and int.bit_length(value) > _INT_BITS_SHOWN:
        bits = int.bit_length(value)
        return f"<{'-' if int.__lt__(value, 0) else ''}{bits}-bit {type(value).__name__}>"
    if isinstance(value, (str, bytes, bytearray)):
        # Quote only the head: repr() of a huge input would copy all of it first. The
        # base class's methods, so that a subclass's overrides are never run.
        head: str | bytes
        if isinstance(value, str):
            length, head, unit = str.__len__(value), str.__getitem__(value, slice(0, _QUOTE_LIMIT)), "chars"
        else:
            length, head, unit = _bytes_len(value), _bytes_head(value), "bytes"
        text = repr(head)
        if length > _QUOTE_LIMIT or len(text) > _QUOTE_LIMIT:
            return f"{text[: _QUOTE_LIMIT - 4]}...{text[-1]} ({length} {unit})"
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
    """Return why ``exc`` was raised, cut to a bounded length, for wrapping in another error.

    The ``reason`` field of an input error (so that the wrapping error does not quote the
    same input twice), else the message.

    >>> reason_of(ValueError("x" * 500))[-10:]
    'xxxxxx ...'
    """
    text = exc.reason if isinstance(exc, _InputError) and exc._REASON_ALONE else str(exc)
    return _cut(text, _REASON_LIMIT)


def _bytes_len(value: bytes | bytearray) -> int:
    return bytes.__len__(value) if isinstance(value, bytes) else bytearray.__len__(value)


def _bytes_head(value: bytes | bytearray) -> bytes:
    """The first bytes of ``value`` as exact ``bytes``, through the base class (no subclass override runs)."""
    cut = slice(0, _QUOTE_LIMIT)
    return bytes(bytes.__getitem__(value, cut) if isinstance(value, bytes) else bytearray.__getitem__(value, cut))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 4]} ..."


def _bounded(value: object) -> object:
    """``value`` as an error keeps it: text and bytes cut to the quote limit, exact types."""
    if isinstance(value, str):
        return str.__getitem__(value, slice(0, _QUOTE_LIMIT))
    if isinstance(value, (bytes, bytearray)):
        return _bytes_head(value)
    if isinstance(value, memoryview):
        try:
            return value.tobytes()[:_QUOTE_LIMIT] if value.nbytes <= 4096 else b""
        except (ValueError, TypeError):
            return None
    return value


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
    ``ValueError`` instead, which this does not catch. A message is never longer than
    300 characters.
    """

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str) and len(args[0]) > MESSAGE_LIMIT:
            args = (_cut(args[0], MESSAGE_LIMIT), *args[1:])
        super().__init__(*args)


class _InputError(NetbasicsError, ValueError):
    """An input was rejected: ``.input`` (bounded), ``.reason`` and ``.at`` build the message.

    ``Error(input, reason, at=None)``; ``Error(message)`` with one argument is the older
    form, kept for callers' own code: ``.input`` is then ``None`` and ``.reason`` the message.
    The message is ``"<reason> in <quoted input>"`` for text, ``"<reason>: <quoted input>"``
    for other values, and the reason alone for empty text.
    """

    input: object
    reason: str
    at: int | None
    #: Whether ``reason`` reads as a sentence of its own (what :func:`reason_of` gives a
    #: wrapping error); ``PortError``'s reasons continue ``"port <input>"``.
    _REASON_ALONE = True

    def __init__(self, input: object, reason: str | None = None, *, at: int | None = None) -> None:
        if reason is None:
            self.input, self.reason, self.at = None, _cut(str(input), MESSAGE_LIMIT), at
            super().__init__(self.reason)
            return
        reason = _cut(reason, 220)
        self.input, self.reason, self.at = _bounded(input), reason, at
        super().__init__(self._message(input, reason))

    @staticmethod
    def _message(input: object, reason: str) -> str:
        if isinstance(input, str):
            return f"{reason} in {quote(input)}" if str.__len__(input) else reason
        return f"{reason}: {quote(input)}"


class AddressError(_InputError):
    """An IP address could not be parsed or built: the message quotes the input and says why.

    ``.input`` is the input (text cut to 60 characters), ``.reason`` why it was refused,
    and ``.at`` the index in the text of the fault where it is known.

    Example::

        >>> import netbasics
        >>> netbasics.parse_address("1.2.3.256")
        Traceback (most recent call last):
        ...
        netbasics.AddressError: octet 256 out of range in '1.2.3.256'
        >>> try:
        ...     netbasics.parse_address("1.2.3.256")
        ... except netbasics.AddressError as exc:
        ...     print(exc.input, exc.reason, exc.at, sep=" | ")
        1.2.3.256 | octet 256 out of range | 6
    """


class CIDRError(_InputError):
    """A network (CIDR prefix), range or address-list entry is malformed (``.input``, ``.reason``, ``.at``)."""


class PortError(_InputError):
    """A port number is not a plain integer in 0-65535, or a service name is unknown (``.input``, ``.reason``).

    The message reads ``"port <quoted input> <reason>"``:

    >>> str(PortError("080", "has a leading zero"))
    "port '080' has a leading zero"
    """

    _REASON_ALONE = False

    @staticmethod
    def _message(input: object, reason: str) -> str:
        return reason if input == "" else f"port {quote(input)} {reason}"


class EndpointError(_InputError):
    """Text is not a valid ``address:port`` or ``host:port`` endpoint (``.input``, ``.reason``, ``.at``)."""


class FrameTooLarge(NetbasicsError, ValueError):
    """A message exceeds the framer's ``max_size``; raised before the data is buffered.

    ``FrameTooLarge(size, limit, at_least=False, what="message")``: ``.size`` is the
    message's size in bytes, a lower bound when ``.at_least`` (a line still growing),
    and ``.limit`` the ``max_size`` it exceeds. A custom framer may still raise
    ``FrameTooLarge("message")`` with one text argument; ``.size`` and ``.limit`` are
    then ``None``.

    >>> str(FrameTooLarge(70_000, 65_536))
    'message of 70000 bytes is longer than max_size=65536'
    """

    size: int | None
    limit: int | None
    at_least: bool

    def __init__(
        self, size: int | str, limit: int | None = None, *, at_least: bool = False, what: str = "message"
    ) -> None:
        if isinstance(size, str):
            self.size, self.limit, self.at_least = None, limit, at_least
            super().__init__(size)
            return
        self.size, self.limit, self.at_least = size, limit, at_least
        super().__init__(f"{what} of {'at least ' if at_least else ''}{size} bytes is longer than max_size={limit}")


class DatagramTooLarge(NetbasicsError, ValueError):
    """A datagram is larger than UDP can carry, or larger than the receive buffer."""


# UnsafeDestination is defined with the policy it reports on (safety), so its fields can be
# typed as addresses without this module importing the address core (an import cycle).


class ResolveError(NetbasicsError, OSError):
    """A host name could not be resolved to any address."""


class BindError(NetbasicsError, OSError):
    """A socket could not be bound: the address is in use, not local, or not permitted."""


class ConnectError(NetbasicsError, ConnectionError):
    """A connection could not be established; the message names every address tried.

    ``ConnectError(operation, reason, attempts=())`` reads ``"<operation> failed:
    <reason>"``. ``.attempts`` pairs each address tried (an :class:`~netbasics.Endpoint`
    or :class:`~netbasics.UnixAddress`) with the exception it failed with (``None``
    while it was still pending at the deadline); empty where only one address was
    involved and the error itself says why.
    """

    operation: str
    reason: str
    attempts: tuple[tuple[object, BaseException | None], ...]

    def __init__(
        self, operation: str, reason: str | None = None, *, attempts: tuple[tuple[object, Any], ...] = ()
    ) -> None:
        self.attempts = tuple(attempts)
        if reason is None:  # the older one-message form
            self.operation, self.reason = "", operation
            super().__init__(operation)
            return
        self.operation, self.reason = operation, reason
        super().__init__(f"{operation} failed: {reason}")


class ConnectionClosed(NetbasicsError, ConnectionError):
    """The connection is closed: by the peer (:class:`PeerClosed`) or here (:class:`ClosedLocally`).

    ``partial`` holds the bytes received so far, so nothing accepted is lost. Catch this
    class for either case; the library raises only its two subclasses.
    """

    def __init__(self, message: str, partial: bytes = b"") -> None:
        super().__init__(message)
        self.partial = partial


class PeerClosed(ConnectionClosed):
    """The peer closed or reset the connection, e.g. in the middle of a message.

    ``partial`` holds the bytes of the incomplete read that did arrive.
    """


class ClosedLocally(ConnectionClosed):
    """This side closed the connection (or socket) and then used it.

    ``ClosedLocally(operation, what="the connection")``; ``.operation`` is what was
    attempted (may be empty), ``what`` names the closed object in the message.

    >>> str(ClosedLocally("recv"))
    'recv: the connection was closed on this side'
    """

    def __init__(self, operation: str = "", what: str = "the connection") -> None:
        self.operation = operation
        closed = f"{what} was closed on this side"
        super().__init__(f"{operation}: {closed}" if operation else closed)
        self._what = what

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.operation, self._what), self.__dict__)


class NetTimeoutError(NetbasicsError, TimeoutError):
    """A network operation did not complete within its timeout.

    ``NetTimeoutError(operation, timeout, detail=None)``: ``.operation`` says what timed
    out (``"recv from 127.0.0.1:80"``), ``.timeout`` the timeout in seconds (``None``
    where none was set, e.g. the OS gave up), ``.detail`` anything more (addresses tried).

    >>> str(NetTimeoutError("recv from 127.0.0.1:80", 2.5))
    'recv from 127.0.0.1:80: timed out after 2.5 s'
    """

    operation: str
    timeout: float | None
    detail: str | None

    def __init__(self, operation: str, timeout: float | None = None, *, detail: str | None = None) -> None:
        self.operation, self.timeout, self.detail = operation, timeout, detail
        after = f" after {timeout:g} s" if timeout is not None else ""
        more = f": {detail}" if detail else ""
        super().__init__(f"{operation}: timed out{after}{more}")

    def __reduce__(self) -> tuple[Any, ...]:
        # OSError pickles as cls(*args): give the fields back instead of the message.
        return (_rebuild_timeout, (type(self), self.operation, self.timeout, self.detail), self.__dict__)


def _rebuild_timeout(
    cls: type[NetTimeoutError], operation: str, timeout: float | None, detail: str | None
) -> NetTimeoutError:
    return cls(operation, timeout, detail=detail)
