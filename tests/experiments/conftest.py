"""Fewer bootstrap resamples in the tests of the reports: the intervals' coverage is not what they test, and the
probability-of-improvement bootstrap alone takes tens of seconds at full size on a busy CPU."""

from __future__ import annotations

import pytest

from genpo_ext.experiments import statistics

TEST_BOOTSTRAP_REPS = 100
"""Resamples per interval in these tests."""


@pytest.fixture(autouse=True)
def few_bootstrap_resamples(monkeypatch):
    """Cut every bootstrap of the report code in this process to :data:`TEST_BOOTSTRAP_REPS` resamples."""
    monkeypatch.setattr(statistics, "BOOTSTRAP_REPS", TEST_BOOTSTRAP_REPS)
    monkeypatch.setattr(statistics, "IMPROVEMENT_BOOTSTRAP_REPS", TEST_BOOTSTRAP_REPS)
