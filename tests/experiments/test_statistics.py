"""The few-seed statistics agree with rliable's own metrics and bound their point estimates."""

from __future__ import annotations

import numpy as np
import pytest
from rliable import metrics

from genpo_ext.experiments import statistics

SCORES = np.array([[1.0, 10.0, 0.2], [2.0, 30.0, 0.4], [3.0, 20.0, 0.9], [8.0, 25.0, 0.1]])
"""Four runs on three tasks."""


@pytest.mark.parametrize(
    "estimate, reference",
    [(statistics.iqm, metrics.aggregate_iqm), (statistics.mean, metrics.aggregate_mean)],
)
def test_aggregates_equal_rliable_and_their_interval_contains_them(estimate, reference):
    """Point estimates are rliable's; the 95% interval is ordered and contains the point."""
    result = estimate(SCORES)
    assert result.point == pytest.approx(reference(SCORES))
    assert result.low <= result.point <= result.high
    assert result.low < result.high, "four different runs per task leave the bootstrap something to vary"


def test_interquartile_mean_of_one_task_drops_the_outer_quarters():
    """A flat list is one task's runs: with eight runs the IQM is the mean of the middle four."""
    runs = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 100.0]
    assert statistics.iqm(runs).point == pytest.approx(np.mean([2.0, 3.0, 4.0, 5.0]))


def test_probability_of_improvement():
    """P(X > X) is one half; P(X > Y) is one when every run of X beats every run of Y, and rliable's in between."""
    assert statistics.probability_of_improvement(SCORES, SCORES).point == pytest.approx(0.5)
    better = statistics.probability_of_improvement(SCORES + 100.0, SCORES)
    assert (better.point, better.low, better.high) == pytest.approx((1.0, 1.0, 1.0))
    shifted = SCORES + np.array([1.5, 0.0, 0.0])
    result = statistics.probability_of_improvement(shifted, SCORES)
    assert result.point == pytest.approx(metrics.probability_of_improvement(shifted, SCORES))
    assert result.low <= result.point <= result.high


def test_no_scores_give_an_undefined_estimate():
    """An algorithm with no evaluated run has no estimate, and prints as n/a."""
    assert np.isnan(statistics.iqm([]).point)
    assert statistics.iqm([]).format() == "n/a"
    assert statistics.iqm([2.0, 4.0]).format(1).startswith("3.0 [")


def test_intervals_are_reproducible_whatever_the_global_random_state():
    """The same scores give the same intervals on every call, however much of numpy's global generator was used in
    between, and the generator's state is left as it was."""
    x = [[1.0, 2.0], [2.0, 3.0], [5.0, 1.0]]
    y = [[1.5, 2.0], [2.0, 1.0], [3.0, 2.0]]
    first = (statistics.mean(x), statistics.iqm(x), statistics.probability_of_improvement(x, y))
    np.random.seed(123)
    np.random.random(1000)
    state = np.random.get_state()
    second = (statistics.mean(x), statistics.iqm(x), statistics.probability_of_improvement(x, y))
    assert second == first
    assert np.array_equal(np.random.get_state()[1], state[1])
