"""Running the asyncio tests on every event loop we support: asyncio's own, and uvloop when installed.

``loop_kind`` is a fixture (``"asyncio"``, ``"uvloop"``); ``run(kind, coro)`` runs a
coroutine to completion on a fresh loop of that kind and tears it down as
``asyncio.run`` does (remaining tasks cancelled, async generators and the default
executor shut down), so a test leaves no thread or descriptor behind.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

LOOP_KINDS = ["asyncio", "uvloop"]


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
