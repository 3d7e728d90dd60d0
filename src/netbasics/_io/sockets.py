"""Socket plumbing shared by TCP and UDP: safe defaults and OS-error translation.

This is one of the few modules that import ``socket``. Everything that creates, binds or
configures a socket goes through here, so defaults live in one place (trio's
``open_tcp_listeners`` is the model), and every ``OSError`` from the system is turned
into a netbasics error in exactly one function, :func:`translate_os_error`, chained with
``raise ... from``.
"""

from __future__ import annotations

import enum
import errno
import logging
import socket
import struct
from typing import Final, Union

from .._timeouts import check_timeout
from ..endpoints import Endpoint
from ..errors import (
    BindError,
    ConnectError,
    EndpointError,
    NetbasicsError,
    NetTimeoutError,
    PeerClosed,
    ResolveError,
    quote,
)

__all__ = [
    "DEFAULT_BACKLOG",
    "DEFAULT_TIMEOUT",
    "FOREVER",
    "MIN_WAIT",
    "READ_CHUNK",
    "SEND_FLAGS",
    "STREAM_READ",
    "AcceptBackoff",
    "DefaultTimeout",
    "Timeout",
    "bind_socket",
    "check_int",
    "check_number",
    "check_timeout",
    "connect_failure",
    "family_number",
    "family_of",
    "is_resource_exhaustion",
    "listen_socket",
    "local_endpoint",
    "refuse_port_zero",
    "remote_endpoint",
    "set_io_timeout",
    "set_keepalive",
    "translate_os_error",
]

# Errors that say "this address cannot be reached from here" rather than "refused".
_UNREACHABLE: Final = frozenset(
    {
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
        errno.EHOSTDOWN,
        errno.ENETDOWN,
        errno.EADDRNOTAVAIL,
        errno.EAFNOSUPPORT,
    }
)
_CLOSED: Final = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, errno.ENOTCONN, errno.ESHUTDOWN})
# Out of file descriptors or kernel memory: accept() keeps failing until something is freed.
_EXHAUSTED: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
# A blocking socket with SO_RCVTIMEO/SO_SNDTIMEO reports its timeout as EAGAIN.
_WOULD_BLOCK: Final = frozenset({errno.EAGAIN, errno.EWOULDBLOCK})
# Operations whose failures are all "could not set up the local socket".
_BIND_OPERATIONS: Final = frozenset({"bind", "listen"})

# The longest wait between accept attempts after running out of descriptors.
_MAX_ACCEPT_BACKOFF: Final = 1.0

#: Linux caps listen() backlogs at net.core.somaxconn (4096 on current kernels); asking
#: for more is harmless, and socketserver's default of 5 drops clients under load.
DEFAULT_BACKLOG: Final = 4096

# struct timeval for SO_RCVTIMEO/SO_SNDTIMEO: (time_t seconds, suseconds_t microseconds),
# two native longs on Linux and the BSDs (macOS pads a 32-bit tv_usec to the same size).
_TIMEVAL: Final = struct.Struct("@ll")

#: The shortest kernel timeout (1 µs); an SO_RCVTIMEO of 0 would mean "wait forever".
MIN_WAIT: Final = 1e-6
#: Bytes a stream transport asks of the kernel per read.
READ_CHUNK: Final = 65536
#: Bytes a StreamConnection asks for per read: 112 KiB, the most a Unix stream socket hands
#: over in one piece (half its default send buffer), and under glibc's 128 KiB mmap
#: threshold, so each read's bytes object still comes from the heap (above it, every read
#: would map and unmap memory). A bulk stream takes half the calls 64 KiB reads take
#: (measured: 1.15-1.2x the bulk echo), at about 4% of the small-message echo.
STREAM_READ: Final = 114688
# MSG_NOSIGNAL: a send to a reset peer fails with EPIPE instead of killing the process
# with SIGPIPE (Python ignores SIGPIPE, but an embedding application may not).
SEND_FLAGS: Final = getattr(socket, "MSG_NOSIGNAL", 0)
#: Timeouts above this (about 31 years) mean "no timeout" (a timeval cannot hold inf).
FOREVER: Final = 1e9


class DefaultTimeout(enum.Enum):
    """Marker for "use the connection's default timeout"."""

    TIMEOUT = "the connection's default timeout"


#: The default of every per-call ``timeout=`` of a connection: its own default timeout.
DEFAULT_TIMEOUT: Final = DefaultTimeout.TIMEOUT
#: A per-call timeout: seconds, ``None`` for no limit, or omitted for the connection's default.
Timeout = Union[float, None, DefaultTimeout]


def check_int(value: object, what: str, low: int, high: int | None = None) -> int:
    """``value`` if it is an int from ``low`` to ``high``; ``TypeError`` for another type, ``ValueError`` outside."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {quote(value)}")
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"from {low} to {high}"
        raise ValueError(f"{what} must be an int {bounds}, got {value!r}")
    return value


def check_number(value: object, what: str) -> float:
    """``value`` as a float if it is an int or float (not a bool); ``TypeError`` otherwise. NaN is a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, got {quote(value)}")
    if value != value:
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


def family_number(family: int | None) -> int | None:
    """4, 6 or None (either family) from ``family`` given as 4/6, ``AF_INET``/``AF_INET6``, ``AF_UNSPEC`` or None."""
    if family is not None and (isinstance(family, bool) or not isinstance(family, int)):
        raise TypeError(f"family must be None, 4, 6, AF_INET or AF_INET6, got {quote(family)}")
    if family is None or family == socket.AF_UNSPEC:
        return None
    if family in (4, socket.AF_INET):
        return 4
    if family in (6, socket.AF_INET6):
        return 6
    raise ValueError(f"family must be None, 4, 6, AF_INET or AF_INET6, got {family!r}")


def family_of(endpoint: Endpoint) -> socket.AddressFamily:
    """``AF_INET`` or ``AF_INET6`` for an endpoint."""
    return socket.AF_INET if endpoint.version == 4 else socket.AF_INET6


def refuse_port_zero(destination: object, target: object = None) -> None:
    """Raise :class:`EndpointError` if ``destination`` (an Endpoint or HostPort) has port 0.

    Port 0 means "any port" to ``bind`` but names no service as a destination: the
    kernel's answers to it (EINVAL from ``sendto``, ECONNREFUSED or a silent success from
    ``connect``) say nothing useful, so every client refuses it first. ``target`` is what
    the caller passed, quoted in the message (text as given; otherwise ``destination``).
    """
    if getattr(destination, "port", None) == 0:
        shown = target if isinstance(target, str) else str(destination)
        raise EndpointError(shown, "port 0 cannot be a destination")


def translate_os_error(
    exc: OSError, operation: str, target: object = None, timeout: float | None = None
) -> NetbasicsError | OSError:
    """The netbasics error for an ``OSError`` raised while doing ``operation`` on ``target``.

    Callers write ``except OSError as exc: raise translate_os_error(exc, "connect", ep) from exc``.
    ``timeout`` is the timeout that was in force (for the message; a positive one also
    makes ``EAGAIN`` from a blocking socket with ``SO_RCVTIMEO`` a timeout). Every
    ``bind``/``listen`` failure is a :class:`BindError`. The translated error keeps the
    original ``errno``. Errors with no better meaning are returned unchanged (still an
    ``OSError``).
    """
    if isinstance(exc, NetbasicsError):
        return exc
    err = _translate(exc, f"{operation} {target}" if target is not None else operation, operation, timeout)
    if err is not exc and exc.errno is not None:
        err.errno = exc.errno
    return err


def _translate(exc: OSError, where: str, operation: str, timeout: float | None) -> OSError:
    code = exc.errno
    if (
        isinstance(exc, TimeoutError)
        or code == errno.ETIMEDOUT
        or (code in _WOULD_BLOCK and timeout is not None and timeout > 0)
    ):
        return NetTimeoutError(where, timeout)
    if isinstance(exc, socket.gaierror):
        return ResolveError(f"{where}: {exc.strerror or exc}")
    if operation in _BIND_OPERATIONS:
        return BindError(f"{where}: {exc.strerror or exc}")
    if isinstance(exc, ConnectionRefusedError):
        return ConnectError(where, "connection refused")
    if code in _CLOSED or isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return PeerClosed(f"{where}: connection closed by peer ({exc.strerror or exc})")
    if code in _UNREACHABLE:
        return ConnectError(where, str(exc.strerror or exc))
    return exc


def _reason(exc: OSError | None) -> str:
    if exc is None:
        return "no answer"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError) or exc.errno == errno.ETIMEDOUT:
        return "timed out"
    return (exc.strerror or str(exc)).lower()


def connect_failure(
    target: object, attempts: list[tuple[Endpoint, OSError | None]], timeout: float | None
) -> ConnectError | NetTimeoutError:
    """The one error for a connect that tried every address in ``attempts`` and failed.

    ``attempts`` pairs each address with the error it failed with, or ``None`` when it was
    still pending when the deadline passed. The result is a :class:`NetTimeoutError` when
    the deadline passed or an attempt timed out, otherwise a :class:`ConnectError`; its
    message names every address tried and why it failed, e.g.
    ``connect to localhost:9: 127.0.0.1:9 connection refused; [::1]:9 connection refused``.
    """
    tried = "; ".join(f"{ep} {_reason(exc)}" for ep, exc in attempts) or "no address to try"
    timed_out = any(exc is None or _reason(exc) == "timed out" for _, exc in attempts)
    if timed_out:
        err: ConnectError | NetTimeoutError = NetTimeoutError(f"connect to {target}", timeout, detail=tried)
    else:
        err = ConnectError(f"connect to {target}", tried, attempts=tuple(attempts))
    codes = {exc.errno for _, exc in attempts if exc is not None and exc.errno is not None}
    if len(codes) == 1:
        err.errno = codes.pop()
    return err


def is_resource_exhaustion(exc: OSError) -> bool:
    """True when ``exc`` means the process or system ran out of descriptors or memory (EMFILE, ENFILE, ...)."""
    return exc.errno in _EXHAUSTED


def bind_socket(
    endpoint: Endpoint,
    kind: socket.SocketKind,
    *,
    reuse_address: bool = True,
    reuse_port: bool = False,
    dual_stack: bool = True,
) -> socket.socket:
    """A new socket of ``kind`` bound to ``endpoint`` with the library's safe defaults.

    * ``SO_REUSEADDR`` unless ``reuse_address=False`` (restart without waiting for
      TIME_WAIT); ``SO_REUSEPORT`` only when asked, since it lets another process share
      the port.
    * An IPv6 wildcard bind (``::``) accepts IPv4 too when ``dual_stack`` and the OS allows
      (``IPV6_V6ONLY`` off); other IPv6 binds are IPv6 only.
    * The socket is closed if anything fails, and the error is translated.
    """
    family = family_of(endpoint)
    try:
        sock = socket.socket(family, kind)
    except OSError as exc:
        raise translate_os_error(exc, "bind", endpoint) from exc
    try:
        if reuse_address:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            wildcard = int(endpoint.address) == 0
            v6only = 0 if (wildcard and dual_stack and socket.has_dualstack_ipv6()) else 1
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
        sock.bind(endpoint.sockaddr)
    except OSError as exc:
        sock.close()
        raise translate_os_error(exc, "bind", endpoint) from exc
    except BaseException:
        sock.close()
        raise
    return sock


def listen_socket(
    endpoint: Endpoint,
    *,
    backlog: int = DEFAULT_BACKLOG,
    reuse_address: bool = True,
    reuse_port: bool = False,
    dual_stack: bool = True,
) -> socket.socket:
    """A TCP socket bound to ``endpoint`` and listening, with :func:`bind_socket`'s defaults.

    ``backlog`` is clamped to at least 1; the kernel clamps it further to
    ``net.core.somaxconn``. The socket is closed and a :class:`BindError` raised if
    ``listen()`` fails.
    """
    sock = bind_socket(
        endpoint, socket.SOCK_STREAM, reuse_address=reuse_address, reuse_port=reuse_port, dual_stack=dual_stack
    )
    try:
        sock.listen(max(1, backlog))
    except OSError as exc:
        sock.close()
        raise translate_os_error(exc, "listen", endpoint) from exc
    except BaseException:
        sock.close()
        raise
    return sock


def set_io_timeout(sock: socket.socket, option: int, seconds: float) -> None:
    """Set ``SO_RCVTIMEO`` or ``SO_SNDTIMEO`` on a blocking socket; ``0`` means no timeout.

    The kernel then ends a blocked ``recv``/``send`` with ``EAGAIN`` after ``seconds``,
    which costs nothing per call, unlike a Python-level socket timeout (one extra
    ``poll()`` before every call). Values are rounded up to whole microseconds.
    """
    whole = int(seconds)
    micros = int((seconds - whole) * 1_000_000 + 0.999999)
    if micros >= 1_000_000:
        whole, micros = whole + 1, 0
    if whole == 0 and micros == 0 and seconds > 0:
        micros = 1
    sock.setsockopt(socket.SOL_SOCKET, option, _TIMEVAL.pack(whole, micros))


def set_keepalive(sock: socket.socket, idle: float = 60.0, interval: float = 10.0, count: int = 5) -> None:
    """Turn on TCP keepalive: probe after ``idle`` s of silence, every ``interval`` s, ``count`` times."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    # The per-socket knobs exist on Linux and recent macOS; elsewhere the OS defaults apply.
    if hasattr(socket, "TCP_KEEPIDLE"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, max(1, int(idle)))
    if hasattr(socket, "TCP_KEEPINTVL"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, int(interval)))
    if hasattr(socket, "TCP_KEEPCNT"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, max(1, count))


def local_endpoint(sock: socket.socket) -> Endpoint:
    """The endpoint a socket is bound to."""
    return Endpoint.from_sockaddr(sock.getsockname())


def remote_endpoint(sock: socket.socket) -> Endpoint:
    """The endpoint a connected socket talks to."""
    return Endpoint.from_sockaddr(sock.getpeername())


class AcceptBackoff:
    """What a server's accept loop does when ``accept()`` fails, shared by both TCP server modes.

    Out of descriptors (EMFILE/ENFILE) is logged once per server at error level (a server
    at its limit flaps, and each flap must not become another error record) and answered
    with a back-off that doubles up to one second, so the loop does not spin; other
    failures (ECONNABORTED, EPROTO: that client gave up) are debug records only.
    """

    __slots__ = ("_logged", "_logger", "_owner", "delay")

    def __init__(self, owner: object, logger: logging.Logger) -> None:
        self._owner = owner
        self._logger = logger
        self._logged = False
        #: Seconds to wait before the next accept; 0 while accepting normally.
        self.delay = 0.0

    def failed(self, exc: OSError) -> bool:
        """Record a failed ``accept``; True if it ran out of descriptors (then wait ``delay``)."""
        if not is_resource_exhaustion(exc):
            self._logger.debug("%s: accept failed: %s", self._owner, exc)
            return False
        if not self.delay:
            level = logging.DEBUG if self._logged else logging.ERROR
            self._logger.log(level, "%s: accept failed (%s); backing off until connections close", self._owner, exc)
        self._logged = True
        self.delay = min(_MAX_ACCEPT_BACKOFF, self.delay * 2 or 0.05)
        return True

    def succeeded(self) -> None:
        """Record a successful ``accept``: back to normal after a back-off."""
        if self.delay:
            self.delay = 0.0
            self._logger.debug("%s: accepting connections again", self._owner)
