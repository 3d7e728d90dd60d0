"""Deadlines for asyncio code on Python 3.10 (which has no ``asyncio.timeout``).

Two shapes, both on the event loop's clock:

* :func:`wait_until` waits for a future the caller owns (a connection's "data arrived"
  waiter) until a loop time; at the deadline the future is resolved with a marker, so
  nothing is cancelled and no task state changes. The connections use it for every
  read and drain: it costs one timer handle per wait, and none when data is already
  buffered.
* :class:`Alarm` is the same for a wait that repeats (every read of a connection): one
  timer per connection, re-armed lazily. Deadlines of successive reads mostly move
  later, so the timer set for the first one is kept, and when it fires early it sets
  itself again for the current deadline: one timer per timeout period instead of a timer
  handle created and cancelled for every read.
* :class:`deadline` bounds a block of awaits that are not ours (``loop.sock_connect``,
  ``loop.sendfile``): at the deadline it cancels the task, and on leaving the block it
  turns that one cancellation into :class:`TimeoutError` for the caller to translate.
  A cancellation from anyone else goes through untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final

__all__ = ["EXPIRED", "Alarm", "deadline", "deadline_at", "wait_until"]

#: What a waiter is resolved with when its deadline passes.
EXPIRED: Final = object()
_EXPIRED: Final = EXPIRED
# A timer may run up to the loop's clock resolution early (BaseEventLoop._run_once).
_EARLY: Final = 1e-3
_NEVER: Final = float("inf")


def deadline_at(loop: asyncio.AbstractEventLoop, timeout: float | None) -> float | None:
    """The loop time ``timeout`` seconds from now; ``None`` for no deadline."""
    return None if timeout is None else loop.time() + timeout


def _expire(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_result(_EXPIRED)


async def wait_until(loop: asyncio.AbstractEventLoop, fut: asyncio.Future[Any], at: float | None) -> bool:
    """Wait for ``fut`` until loop time ``at`` (``None``: no limit); False if the deadline came first."""
    if at is None:
        await fut
        return True
    if at <= loop.time():
        return fut.done()
    handle = loop.call_at(at, _expire, fut)
    try:
        return await fut is not _EXPIRED
    finally:
        handle.cancel()


class deadline:
    """``async with deadline(seconds):`` raises :class:`TimeoutError` if the block outlasts ``seconds``.

    ``None`` means no limit. Only the cancellation this object caused becomes the
    timeout: if the task is cancelled from outside as well, ``CancelledError`` propagates.
    """

    __slots__ = ("_expired", "_handle", "_task", "_timeout")

    def __init__(self, timeout: float | None) -> None:
        self._timeout = timeout
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._expired = False

    @property
    def expired(self) -> bool:
        """True once the deadline passed and cancelled the block."""
        return self._expired

    async def __aenter__(self) -> deadline:
        if self._timeout is not None:
            loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
            self._handle = loop.call_later(self._timeout, self._fire)
        return self

    def _fire(self) -> None:
        if self._task is not None and not self._task.done():
            self._expired = True
            self._task.cancel()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._expired and exc_type is asyncio.CancelledError:
            task = self._task
            uncancel = getattr(task, "uncancel", None)  # 3.11+: keep the task's cancel count true
            if uncancel is not None and uncancel() > 0:
                return  # cancelled from outside too: let it through
            raise TimeoutError from exc


class Alarm:
    """A lazily re-armed timer: :meth:`set` a deadline, ``fire()`` runs once it has passed.

    Setting a later deadline than the armed one costs nothing: when the timer fires it
    compares the clock with the current deadline and re-arms itself if that is still ahead.
    A caller on a hot path may skip the call: ``alarm.at = at`` then ``alarm.set(at)``
    only when ``at < alarm.due``.
    """

    __slots__ = ("_fire", "_handle", "_loop", "at", "due")

    def __init__(self, loop: asyncio.AbstractEventLoop, fire: Callable[[], object]) -> None:
        self._loop = loop
        self._fire = fire
        self._handle: asyncio.TimerHandle | None = None
        #: When the armed timer runs (loop time); infinity while none is armed.
        self.due = _NEVER
        #: The current deadline (loop time), or None while nothing waits.
        self.at: float | None = None

    def set(self, at: float | None) -> None:
        """Make ``at`` the deadline (``None``: disarm, lazily)."""
        self.at = at
        if at is not None and at < self.due:
            if self._handle is not None:
                self._handle.cancel()
            self.due = at
            self._handle = self._loop.call_at(at, self._check)

    def _check(self) -> None:
        self._handle = None
        self.due = _NEVER
        at = self.at
        if at is None:
            return  # nothing waits: stay unarmed until the next set()
        if self._loop.time() + _EARLY >= at:
            self.at = None
            self._fire()
        else:
            self.due = at
            self._handle = self._loop.call_at(at, self._check)

    def cancel(self) -> None:
        """Disarm now (the connection is gone)."""
        self.at = None
        self.due = _NEVER
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
