"""Helpers for integration tests against real peers (socat, nc): find the binary or skip."""

from __future__ import annotations

import shutil

import pytest


def need(binary: str) -> str:
    """The path of ``binary``, or skip the test when it is not installed."""
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} is not installed (.ci/run installs it with apt-get)")
    return path
