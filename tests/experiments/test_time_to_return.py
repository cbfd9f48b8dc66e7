"""Time to a return on synthetic curves: the threshold, reached and never reached, and the median over runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genpo_ext.experiments.logs import RunLog
from genpo_ext.experiments.time_to_return import (
    THRESHOLD_FRACTION,
    first_reach,
    median_over_runs,
    return_threshold,
    time_to_return,
)


def synthetic_log(returns: list[float], first_return_iteration: int = 2, seconds: float = 2.0) -> RunLog:
    """A run whose iterations each take ``seconds`` and whose returns start at ``first_return_iteration``."""
    iterations = np.arange(first_return_iteration + len(returns))
    return RunLog(
        iterations=iterations,
        collection_time=np.full(len(iterations), seconds / 2),
        learning_time=np.full(len(iterations), seconds / 2),
        return_iterations=iterations[first_return_iteration:],
        returns=np.asarray(returns, dtype=float),
    )


def test_threshold_is_a_fraction_of_the_baseline_mean():
    assert return_threshold([100.0, 300.0]) == pytest.approx(THRESHOLD_FRACTION * 200.0)
    assert math.isnan(return_threshold([-100.0, 50.0])), "a fraction of a negative mean lies above it"
    assert math.isnan(return_threshold([]))


def test_a_curve_that_reaches_the_threshold():
    """The first iteration at or above the threshold counts, in env steps and in training seconds."""
    log = synthetic_log([10.0, 50.0, 90.0, 80.0, 100.0])
    steps, seconds = time_to_return(log, steps_per_iteration=1000, threshold=90.0)
    assert steps == 5 * 1000  # the return of iteration 4 (0-based) is the first >= 90
    assert seconds == pytest.approx(5 * 2.0)


def test_a_curve_that_never_reaches_the_threshold():
    log = synthetic_log([10.0, 50.0, 89.9])
    assert time_to_return(log, steps_per_iteration=1000, threshold=90.0) == (math.inf, math.inf)
    assert math.isnan(first_reach(np.arange(3), np.zeros(3), float("nan")))


def test_median_over_runs_counts_unreached_runs_as_late():
    """Two of three runs reached it: the median is the later of the two; one of three: not reached."""
    assert median_over_runs([100.0, math.inf, 300.0]) == 300.0
    assert median_over_runs([100.0, math.inf, math.inf]) == math.inf
    assert math.isnan(median_over_runs([]))
