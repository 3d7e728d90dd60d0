"""Batched datagram I/O on Linux: ``recvmmsg(2)`` and ``sendmmsg(2)`` through ``ctypes``.

The socket module has no binding for these calls, so they are reached through libc
with the stdlib ``ctypes`` (no dependency added). One ``recvmmsg`` fills up to
``count`` preallocated buffers; one ``sendmmsg`` sends up to ``count`` queued
datagrams. :class:`UDPServer <netbasics.UDPServer>` uses them to pay one system call
(and one trip through Python's socket layer) per batch instead of per datagram.

Layout: the ``struct mmsghdr`` array lives in a ``bytearray`` viewed through ctypes
Structures (so field offsets and padding follow the platform's C ABI, 32- or 64-bit),
and is read and written in the hot loop through ``memoryview`` casts at offsets taken
from those Structures. Payloads and socket addresses live in anonymous ``mmap`` areas:
the kernel writes into them directly, slicing one gives ``bytes``, and pages never
touched (the tail of a 64 KiB slot that only ever holds small datagrams) cost no memory.

:func:`available` says whether the calls can be used: Linux, ``ctypes`` importable,
both symbols present in the C library, and ``NETBASICS_NO_MMSG`` not set to a non-empty
value other than ``0`` (the switch that forces the portable one-datagram-per-call loop).
ctypes calls through ``CDLL`` release the GIL, so other threads run while a worker
blocks in ``recvmmsg``.
"""

from __future__ import annotations

import errno
import mmap
import os
import socket
import sys
from collections.abc import Callable
from typing import Final

try:
    import ctypes
except ImportError:  # pragma: no cover - Python built without ctypes
    ctypes = None  # type: ignore[assignment]  # an optional module or None: typing has no form for that

__all__ = ["ENV_SWITCH", "Receiver", "Sender", "available", "decode_sockaddr"]

#: Set to a non-empty value other than ``0`` to disable batched I/O.
ENV_SWITCH: Final = "NETBASICS_NO_MMSG"

# From <linux/socket.h>; the same value on every Linux architecture. The socket module
# does not export it. recvmmsg blocks for the first datagram only, then takes what is queued.
MSG_WAITFORONE: Final = 0x10000

# Room for any socket address the server can see: sockaddr_in6 is 28 bytes.
NAME_SIZE: Final = 32

_SyscallFn = Callable[..., int]
# Called with (payload, raw socket address, error) for each datagram the kernel refused.
_Failed = Callable[[bytes, bytes, OSError], None]
_calls: tuple[_SyscallFn, _SyscallFn] | None = None
_loaded = False


def _load() -> tuple[_SyscallFn, _SyscallFn] | None:
    """The libc ``recvmmsg`` and ``sendmmsg`` functions, or ``None`` where they cannot be used."""
    global _calls, _loaded
    if _loaded:
        return _calls
    _loaded = True
    if not sys.platform.startswith("linux") or ctypes is None:  # pragma: no cover - Linux with ctypes
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter runs on
        recvmmsg = libc.recvmmsg
        sendmmsg = libc.sendmmsg
    except (OSError, AttributeError):  # pragma: no cover - a libc without the calls
        return None
    recvmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_void_p]
    recvmmsg.restype = ctypes.c_int
    sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
    sendmmsg.restype = ctypes.c_int
    _calls = (recvmmsg, sendmmsg)
    return _calls


def available() -> bool:
    """True if batched I/O can be used here and has not been switched off with ``NETBASICS_NO_MMSG``."""
    switch = os.environ.get(ENV_SWITCH, "")
    if switch not in ("", "0"):
        return False
    return _load() is not None


if ctypes is not None:

    class _IOVec(ctypes.Structure):
        _fields_ = (("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t))

    # struct msghdr as the kernel defines it (struct user_msghdr): the lengths are
    # size_t-sized. glibc declares them size_t; musl declares int plus padding placed so
    # that the layout is the same, so writing a size_t is right for both.
    class _MsgHdr(ctypes.Structure):
        _fields_ = (
            ("msg_name", ctypes.c_void_p),
            ("msg_namelen", ctypes.c_uint32),  # socklen_t
            ("msg_iov", ctypes.c_void_p),
            ("msg_iovlen", ctypes.c_size_t),
            ("msg_control", ctypes.c_void_p),
            ("msg_controllen", ctypes.c_size_t),
            ("msg_flags", ctypes.c_int),
        )

    class _MMsgHdr(ctypes.Structure):
        _fields_ = (("msg_hdr", _MsgHdr), ("msg_len", ctypes.c_uint))


def decode_sockaddr(raw: bytes) -> tuple[str, int] | tuple[str, int, int, int]:
    """The socket module's tuple for a raw ``sockaddr_in`` or ``sockaddr_in6``, as ``recvfrom`` returns it.

    ``(host, port)`` for IPv4; ``(host, port, flowinfo, scope_id)`` for IPv6, the host
    carrying a ``%zone`` when the scope id is set (as ``getnameinfo`` writes it).
    Raises ``ValueError`` for anything else.
    """
    family = int.from_bytes(raw[:2], sys.byteorder)  # sa_family_t, host byte order
    port = int.from_bytes(raw[2:4], "big")
    if family == socket.AF_INET and len(raw) >= 8:
        return socket.inet_ntop(socket.AF_INET, raw[4:8]), port
    if family == socket.AF_INET6 and len(raw) >= 28:
        flowinfo = int.from_bytes(raw[4:8], "big")
        host = socket.inet_ntop(socket.AF_INET6, raw[8:24])
        scope_id = int.from_bytes(raw[24:28], sys.byteorder)
        if scope_id:
            try:
                host = socket.getnameinfo((host, port, flowinfo, scope_id), socket.NI_NUMERICHOST)[0]
            except OSError:  # pragma: no cover - getnameinfo cannot fail for a numeric address
                host = f"{host}%{scope_id}"
        return host, port, flowinfo, scope_id
    raise ValueError(f"not an IPv4 or IPv6 socket address: {raw.hex()}")


def _u32_index(offset: int) -> int:
    if offset % 4:  # pragma: no cover - every ABI aligns these 4-byte fields
        raise RuntimeError("unexpected struct mmsghdr layout")
    return offset // 4


def _oserror(err: int) -> OSError:
    # OSError(errno, text) becomes the matching subclass (ConnectionRefusedError, ...).
    return OSError(err, os.strerror(err))


class _Headers:
    """``count`` struct mmsghdr, one iovec each, and a socket-address slot each."""

    __slots__ = ("_keep", "address", "count", "iov_words", "len_index", "mem", "namelen_index", "names", "u32")

    def __init__(self, count: int) -> None:
        assert ctypes is not None
        size = ctypes.sizeof(_MMsgHdr)
        hdr_off = _MMsgHdr.msg_hdr.offset
        self.count = count
        self.mem = bytearray(size * count)
        headers = (_MMsgHdr * count).from_buffer(self.mem)
        iovs = (_IOVec * count)()
        self.names = mmap.mmap(-1, max(NAME_SIZE * count, mmap.PAGESIZE))
        names_address = ctypes.addressof(ctypes.c_char.from_buffer(self.names))
        for i in range(count):
            hdr = headers[i].msg_hdr
            hdr.msg_name = names_address + i * NAME_SIZE
            hdr.msg_namelen = NAME_SIZE
            hdr.msg_iov = ctypes.addressof(iovs[i])
            hdr.msg_iovlen = 1
        self.address = ctypes.addressof(headers)
        self.u32 = memoryview(self.mem).cast("I")
        self.len_index = [_u32_index(i * size + _MMsgHdr.msg_len.offset) for i in range(count)]
        self.namelen_index = [_u32_index(i * size + hdr_off + _MsgHdr.msg_namelen.offset) for i in range(count)]
        # iovec is two pointer-sized words (void *, size_t) on every Linux ABI.
        if ctypes.sizeof(_IOVec) != 2 * ctypes.sizeof(ctypes.c_void_p):  # pragma: no cover
            raise RuntimeError("unexpected struct iovec layout")
        self.iov_words = memoryview(iovs).cast("B").cast("P")
        self._keep = (headers, iovs)


class Receiver:
    """``count`` receive buffers of ``slot`` bytes each, filled by one ``recvmmsg`` call.

    After :meth:`receive` returns ``n``, for each ``i < n`` the datagram's length is
    ``u32[len_index[i]]``, its bytes are ``data[offsets[i] : offsets[i] + length]`` and
    its sender's raw socket address is ``names[name_offsets[i] : name_offsets[i] +
    u32[namelen_index[i]]]`` (see :func:`decode_sockaddr`). ``MSG_TRUNC`` is always
    passed, so a length above ``slot`` is the real size of a datagram that was cut.
    """

    __slots__ = (
        "_flags",
        "_headers",
        "_recvmmsg",
        "_template",
        "data",
        "len_index",
        "name_offsets",
        "namelen_index",
        "names",
        "offsets",
        "u32",
    )

    def __init__(self, count: int, slot: int) -> None:
        calls = _load()
        if calls is None or ctypes is None:  # pragma: no cover - callers check available()
            raise RuntimeError("recvmmsg is not available")
        self._recvmmsg = calls[0]
        # MSG_TRUNC: Linux reports a datagram's real length even when the buffer was smaller.
        self._flags = MSG_WAITFORONE | socket.MSG_TRUNC
        headers = self._headers = _Headers(count)
        # Round slots up to whole pages so each starts page-aligned; untouched pages stay unallocated.
        stride = -(-slot // mmap.PAGESIZE) * mmap.PAGESIZE
        self.data = mmap.mmap(-1, stride * count)
        base = ctypes.addressof(ctypes.c_char.from_buffer(self.data))
        words = headers.iov_words
        for i in range(count):
            words[2 * i] = base + i * stride
            words[2 * i + 1] = slot
        self._template = bytes(headers.mem)  # msg_namelen reset before each call (value-result)
        self.offsets = [i * stride for i in range(count)]
        self.name_offsets = [i * NAME_SIZE for i in range(count)]
        self.len_index = headers.len_index
        self.namelen_index = headers.namelen_index
        self.u32 = headers.u32
        self.names = headers.names

    def receive(self, fd: int) -> int:
        """Block until at least one datagram is queued on ``fd``; return how many were received.

        Raises ``OSError`` (as its errno subclass) when the first receive fails;
        ``EINTR`` is retried. Once the socket is shut down, the first message has no
        sender (address length 0) and no data.
        """
        headers = self._headers
        headers.mem[:] = self._template
        while True:
            got = self._recvmmsg(fd, headers.address, headers.count, self._flags, None)
            if got >= 0:
                return got
            err = ctypes.get_errno()
            if err != errno.EINTR:  # a signal: try again
                raise _oserror(err)


class Sender:
    """Queue datagrams into one send area and send them with as few ``sendmmsg`` calls as possible."""

    __slots__ = (
        "_base",
        "_capacity",
        "_data",
        "_headers",
        "_iov_words",
        "_namelen_index",
        "_names",
        "_sendmmsg",
        "_u32",
    )

    def __init__(self, count: int, capacity: int) -> None:
        calls = _load()
        if calls is None or ctypes is None:  # pragma: no cover - callers check available()
            raise RuntimeError("sendmmsg is not available")
        self._sendmmsg = calls[1]
        self._headers = _Headers(count)
        self._capacity = capacity
        self._data = mmap.mmap(-1, capacity)
        self._base = ctypes.addressof(ctypes.c_char.from_buffer(self._data))
        self._names = self._headers.names
        self._u32 = self._headers.u32
        self._namelen_index = self._headers.namelen_index
        self._iov_words = self._headers.iov_words

    def send(self, fd: int, items: list[tuple[bytes, bytes]], failed: _Failed) -> None:
        """Send each ``(payload, raw socket address)`` in ``items``, in order.

        A datagram the kernel refuses is passed to ``failed`` with the error and skipped;
        the rest are still sent. ``EINTR`` is retried. Every payload must
        fit in the send area (``capacity`` bytes).
        """
        count = self._headers.count
        capacity = self._capacity
        data = self._data
        names = self._names
        u32 = self._u32
        namelen_index = self._namelen_index
        words = self._iov_words
        base = self._base
        start = 0  # first item of the current batch
        k = 0
        used = 0
        for payload, name in items:
            size = len(payload)
            if k == count or used + size > capacity:
                self._flush(fd, items, start, k, failed)
                start += k
                k = 0
                used = 0
            data[used : used + size] = payload
            at = k * NAME_SIZE
            names[at : at + len(name)] = name
            u32[namelen_index[k]] = len(name)
            words[2 * k] = base + used
            words[2 * k + 1] = size
            used += size
            k += 1
        if k:
            self._flush(fd, items, start, k, failed)

    def _flush(
        self,
        fd: int,
        items: list[tuple[bytes, bytes]],
        start: int,
        k: int,
        failed: _Failed,
    ) -> None:
        headers = self._headers
        address = headers.address
        size = ctypes.sizeof(_MMsgHdr)
        done = 0
        retried = -1
        while done < k:
            sent = self._sendmmsg(fd, address + done * size, k - done, 0)
            if sent > 0:
                done += sent
                continue
            err = ctypes.get_errno() if sent < 0 else 0
            if err == errno.EINTR:  # a signal: try again
                continue
            if err == errno.ECONNREFUSED and retried != done:
                # ECONNREFUSED: a socket error left by an ICMP port unreachable for an
                # earlier datagram (IP_RECVERR), reported, and so cleared, by this send,
                # which did not go out. Once more; the datagram itself is not refused.
                retried = done
                continue
            payload, name = items[start + done]
            failed(payload, name, _oserror(err))
            done += 1  # the kernel reports the first failure with -1: skip that datagram
