"""Helpers for tests that check nothing is left behind: threads and file descriptors."""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def fd_count() -> int:
    """How many file descriptors this process has open (Linux: /proc/self/fd)."""
    return len(os.listdir("/proc/self/fd"))


def settle(predicate: Callable[[], object], timeout: float = 3.0) -> bool:
    """Wait until ``predicate()`` is true (threads and sockets take a moment to close)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())
