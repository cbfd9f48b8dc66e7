"""Time to a return: the env steps and the training wall time a run needs until its mean training return first
reaches a fixed threshold, set per task from the baseline's final return."""

from __future__ import annotations

import numpy as np

from genpo_ext.experiments.logs import RunLog

THRESHOLD_FRACTION = 0.9
"""The threshold is this fraction of the baseline's mean final training return on the task."""


def return_threshold(baseline_final_returns: list[float]) -> float:
    """Return :data:`THRESHOLD_FRACTION` of the baseline's mean final return; NaN when that mean is not positive (a
    fraction of a negative return would lie above it) or there is no baseline run."""
    if not baseline_final_returns:
        return float("nan")
    baseline_mean = float(np.mean(baseline_final_returns))
    return THRESHOLD_FRACTION * baseline_mean if baseline_mean > 0 else float("nan")


def first_reach(x: np.ndarray, returns: np.ndarray, threshold: float) -> float:
    """Return the first ``x`` at which ``returns`` reaches ``threshold``: infinity if it never does, NaN for a NaN
    threshold.

    Args:
        x: Increasing positions of the returns (env steps or seconds).
        returns: Returns at ``x``.
        threshold: Return to reach.
    """
    if np.isnan(threshold):
        return float("nan")
    reached = np.flatnonzero(np.asarray(returns) >= threshold)
    return float(np.asarray(x)[reached[0]]) if len(reached) else float("inf")


def time_to_return(log: RunLog, steps_per_iteration: int, threshold: float) -> tuple[float, float]:
    """Return the env steps and the training wall time [s] until a run's mean training return first reaches
    ``threshold`` (infinity when it never does).

    Env steps count whole iterations up to and including the one that logged the return; wall time is rsl_rl's
    rollout + update time summed over the same iterations.
    """
    steps = (log.return_iterations + 1) * steps_per_iteration
    seconds = log.cumulative_time[log.return_iterations]
    return first_reach(steps, log.returns, threshold), first_reach(seconds, log.returns, threshold)


def median_over_runs(values: list[float]) -> float:
    """Median over runs, a run that never reached the threshold counting as infinity (so the median is finite when
    more than half the runs reached it); NaN for no runs."""
    return float(np.median(values)) if values else float("nan")
