"""Running the asyncio tests on every event loop we support: asyncio's own, and uvloop when installed.

``loop_kind`` is a fixture (``"asyncio"``, ``"uvloop"``); ``run(kind, coro)`` runs a
coroutine to completion on a fresh loop of that kind and tears it down as
``asyncio.run`` does (remaining tasks cancelled, async generators and the default
executor shut down), so a test leaves no thread or descriptor behind.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

LOOP_KINDS = ["asyncio", "uvloop"]

# Keywords the asyncio API has before the synchronous twin gets them (CONTRACTS section 3:
# resolver= on udp_request/open_udp; the destination policy on every request). Once the
# synchronous function has one, it is compared like every other keyword.
ASYNC_ONLY = {"policy", "resolver"}


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    """A new event loop of ``kind``; the uvloop test is skipped, with the reason, when uvloop is missing."""
    if kind == "uvloop":
        try:
            uvloop: Any = importlib.import_module("uvloop")
        except ImportError:
            pytest.skip("uvloop is not installed (pip install -e '.[test]' installs it on CPython/POSIX)")
        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.new_event_loop()


def run(kind: str, main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on a new loop of ``kind`` and close the loop as ``asyncio.run`` does."""
    try:
        loop = new_loop(kind)
    except BaseException:
        main.close()  # never awaited: close it, or Python warns
        raise
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()


@pytest.fixture(params=LOOP_KINDS)
def loop_kind(request: pytest.FixtureRequest) -> str:
    """Which event loop the test runs on: ``"asyncio"`` or ``"uvloop"`` (skipped when not installed)."""
    kind: str = request.param
    if kind == "uvloop":
        new_loop(kind).close()  # skips with the reason when uvloop is missing
    return kind


async def until(predicate: Callable[[], object], tries: int) -> None:
    """Wait until ``predicate()`` is true, 10 ms at a time, at most ``tries`` times; the caller asserts."""
    for _ in range(tries):
        if predicate():
            break
        await asyncio.sleep(0.01)


def same_signature(async_fn: Callable[..., Any], sync_fn: Callable[..., Any]) -> None:
    """Assert the parameters agree in name, kind, order and default (annotations may differ: awaitables)."""
    a = inspect.signature(async_fn).parameters
    s = inspect.signature(sync_fn).parameters
    shared = [name for name in a if name not in ASYNC_ONLY or name in s]
    assert shared == list(s), f"{async_fn.__qualname__}: {list(a)} != {list(s)}"
    for name in s:
        assert (a[name].kind, a[name].default) == (s[name].kind, s[name].default), name
    for name in set(a) - set(s):
        assert a[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert a[name].default is None, name
