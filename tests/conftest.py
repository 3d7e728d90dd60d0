"""Shared test configuration: hypothesis profiles that keep CI within its time budget."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# "ci" is the default: enough examples to find real bugs, bounded so the suite stays fast.
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
