"""A send that cannot block, made without letting go of the GIL: for crowded threaded servers.

CPython releases the GIL around every socket call, also around a ``send`` with
``MSG_DONTWAIT``, which cannot block. In a server with a thread per connection that
release is what costs: another thread, woken by its own ``recv``, takes the GIL at once,
and the sender must then wait for it again (a futex sleep and a wake-up, often on
another core) only to reach its next ``recv``, which lets the GIL go anyway. With dozens
of connections on two cores, most of the server's CPU time goes into these hand-offs.

:func:`load` returns the C library's ``send`` reached through ``ctypes.PyDLL``, whose
calls keep the GIL. The call itself costs more than the socket module's (about 0.5 µs
more in CPython 3.11), so it only pays while several connection threads compete on more
than one CPU: :class:`Crowd` is the flag a server keeps for that, and the stream
connection reads it before each small send. Where ``ctypes``, ``MSG_DONTWAIT`` or a C
library ``send`` is missing, on a free-threaded build (no GIL to keep), or when
``NETBASICS_RELEASE_GIL`` is set to a non-empty value other than ``0``, :func:`load`
returns ``None`` and every send goes through the socket module.

Where it is on by default, measured (``bench/unix_echo.py``, ``bench/tcp_echo.py``: the
default and the switched server side by side in one run, under two load generators):

* **Unix stream servers: on.** It won on every machine and client measured: 1.19-1.39x
  the released server at 50 connections, on two machines and days, with one epoll-loop
  client and with a thread per connection.
* **TCP servers: off**, unless ``NETBASICS_HOLD_GIL=1``. It won here (1.21-1.27x, both
  clients, two sessions on 2026-12-06) but lost 16% on another machine of the same kind
  with another client (47k against 56k round trips/s, 2026-12-05). Why TCP differs: a send on TCP
  loopback runs the receiving side's protocol work inside the sender's system call
  (about 4 µs for 1 KiB here, against about 2 µs on a Unix socket), so a held send keeps
  every other thread off the GIL twice as long, and whether that beats the hand-off it
  saves depends on the machine's kernel and CPUs. A default must not lose anywhere.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from collections.abc import Callable
from typing import Final

try:
    import ctypes
except ImportError:  # pragma: no cover - Python built without ctypes
    ctypes = None  # type: ignore[assignment]  # an optional module or None: typing has no form for that

__all__ = ["ENV_SWITCH", "TCP_SWITCH", "Crowd", "HeldSend", "held_send_failed", "load", "server_crowd", "several_cpus"]

#: Set to a non-empty value other than ``0`` to make every send release the GIL.
ENV_SWITCH: Final = "NETBASICS_RELEASE_GIL"

#: Set to a non-empty value other than ``0`` to give threaded TCP servers held sends too
#: (Unix stream servers have them by default; see the module docs for why TCP does not).
TCP_SWITCH: Final = "NETBASICS_HOLD_GIL"

#: ``send(fd, data, len(data), flags)``: bytes sent, or -1 (then call :func:`held_send_failed`).
HeldSend = Callable[[int, bytes, int, int], int]

_send: HeldSend | None = None
_loaded = False


def load() -> HeldSend | None:
    """The C library's ``send`` called with the GIL held, or ``None`` where it cannot or should not be used.

    ``NETBASICS_RELEASE_GIL`` is read at each call, so it applies to servers made after it is set.
    """
    if os.environ.get(ENV_SWITCH, "") not in ("", "0"):
        return None
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        return None  # pragma: no cover - a free-threaded build: no GIL to keep, only the call's cost
    return _load()


def _load() -> HeldSend | None:
    global _send, _loaded
    if _loaded:
        return _send
    _loaded = True
    if ctypes is None or not getattr(socket, "MSG_DONTWAIT", 0) or os.name != "posix":
        return None  # pragma: no cover - Linux and the BSDs have all three
    try:
        send = ctypes.PyDLL(None, use_errno=True).send  # the C library the interpreter runs on
    except (OSError, AttributeError):  # pragma: no cover - a C library without send
        return None
    send.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int)
    send.restype = ctypes.c_ssize_t
    _send = send
    return _send


def held_send_failed() -> int:
    """After a held send returned -1: 0 if the socket buffer was full or a signal came, else raise its error."""
    assert ctypes is not None
    code = ctypes.get_errno()  # what the last held send on this thread left
    if code in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR):
        return 0  # the caller's timed loop sends the rest
    raise OSError(code, os.strerror(code))


def several_cpus() -> bool:
    """True if this process may run on more than one CPU (its affinity, where the platform tells)."""
    try:
        return len(os.sched_getaffinity(0)) > 1
    except (AttributeError, OSError):  # pragma: no cover - no sched_getaffinity (macOS)
        return (os.cpu_count() or 1) > 1


class Crowd:
    """Whether several connection threads of one server compete for the GIL: a flag the server keeps.

    ``busy`` is read by each connection before a small send (one attribute load) and
    written by the server, under its own lock, whenever a connection starts or ends.
    ``send`` is the held send to use while it is up.
    """

    __slots__ = ("busy", "send")

    def __init__(self, send: HeldSend) -> None:
        self.busy = False
        self.send = send


def server_crowd(*, tcp: bool = False) -> Crowd | None:
    """A flag for a new threaded server, or ``None`` where held sends cannot help (one CPU) or work.

    ``tcp``: a TCP server, which has held sends only with ``NETBASICS_HOLD_GIL`` set.
    """
    if tcp and os.environ.get(TCP_SWITCH, "") in ("", "0"):
        return None
    send = load()
    if send is None or not several_cpus():
        return None
    return Crowd(send)
