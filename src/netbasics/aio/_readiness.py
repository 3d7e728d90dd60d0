"""Waiting on the running loop for a non-blocking socket to become readable or writable.

The datagram sockets of :mod:`netbasics.aio` call the synchronous socket's own method
on a non-blocking socket first (so its checks, sizes and error translation apply), and
only when it would block (``BlockingIOError``) wait here for the file descriptor, with a
deadline. A loop watches one callback per descriptor and direction, so one
:class:`FdWaiter` serves every task waiting on it: all are woken, and each retries.
Works on any loop with ``add_reader``/``add_writer`` (the selector loops, uvloop).
"""

from __future__ import annotations

import asyncio

__all__ = ["FdWaiter"]


def _expire(fut: asyncio.Future[bool]) -> None:
    if not fut.done():
        fut.set_result(False)


class FdWaiter:
    """The tasks waiting for one descriptor to become readable (``write=False``) or writable."""

    __slots__ = ("_fd", "_loop", "_waiters", "_write")

    def __init__(self, fd: int, *, write: bool) -> None:
        self._fd = fd
        self._write = write
        self._waiters: list[asyncio.Future[bool]] = []
        self._loop: asyncio.AbstractEventLoop | None = None  # set while a callback is registered

    def _register(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._write:
            loop.add_writer(self._fd, self._wake)
        else:
            loop.add_reader(self._fd, self._wake)
        self._loop = loop

    def _unregister(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None or loop.is_closed():
            return
        if self._write:
            loop.remove_writer(self._fd)
        else:
            loop.remove_reader(self._fd)

    def _wake(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(True)

    async def wait(self, timeout: float | None) -> bool:
        """Wait until the descriptor is ready (True) or ``timeout`` seconds passed (False; ``None``: no limit)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        if self._loop is None:
            self._register(loop)
        self._waiters.append(fut)
        timer = None if timeout is None else loop.call_later(timeout, _expire, fut)
        try:
            return await fut
        finally:
            if timer is not None:
                timer.cancel()
            self._waiters.remove(fut)
            if not self._waiters:
                self._unregister()

    def close(self) -> None:
        """Stop watching (before the descriptor is closed) and wake every waiter, which then retries and fails."""
        self._unregister()
        self._wake()
