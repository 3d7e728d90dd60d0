"""Shared test configuration: hypothesis profiles that keep CI within its time budget, the
``baseline`` fixture that fails a test which leaves threads or file descriptors behind, and
the ``family`` fixture (4 and 6) of the UDP tests."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from leaks import fd_count, settle
from netbasics import _udp_fixtures

# "ci" is the default: enough examples to find real bugs, bounded so the suite stays fast.
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=5000, deadline=None)
# For the extra Pythons in CI: the same properties with fewer examples each (the main run
# and the coverage run keep "ci"), so the four interpreters fit CI's time budget.
settings.register_profile(
    "quick",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def baseline() -> Iterator[None]:
    """Fail the test if it leaves threads or file descriptors behind."""
    threads, fds = threading.active_count(), fd_count()
    yield
    # At most as many as before: a thread or descriptor an earlier test left to wind down
    # (a daemon request thread of an HTTP test server, on a loaded machine) may end meanwhile.
    assert settle(lambda: threading.active_count() <= threads), [t.name for t in threading.enumerate()]
    assert settle(lambda: fd_count() <= fds), f"{fd_count() - fds} fds leaked"


@pytest.fixture(params=[4, 6], ids=["ipv4", "ipv6"])
def family(request: pytest.FixtureRequest) -> int:
    """4 or 6; IPv6 is skipped with the reason when ``::1`` cannot be bound."""
    fam: int = request.param
    if fam == 6:
        problem = _udp_fixtures.ipv6_loopback_problem()
        if problem is not None:
            pytest.skip(problem)
    return fam
