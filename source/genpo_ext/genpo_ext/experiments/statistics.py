"""Few-seed statistics of RL scores with ``rliable`` (Agarwal et al., NeurIPS 2021): the interquartile mean and the
mean with stratified-bootstrap confidence intervals, and the probability of improvement.

Scores are arrays of shape ``(runs, tasks)``: on one task a column of seeds; across tasks, each task's runs
normalized by the baseline's mean on that task. The bootstrap resamples runs within each task.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Callable, Iterator

import numpy as np
from rliable import library, metrics

CONFIDENCE = 0.95
"""Coverage of the confidence intervals."""

BOOTSTRAP_REPS = 2000
"""Bootstrap resamples per interval: the interval bounds of three-seed tables then move by well under their width
between reruns."""

IMPROVEMENT_BOOTSTRAP_REPS = 500
"""Bootstrap resamples of the probability of improvement, whose statistic (a Mann-Whitney U per task) costs about
fifty times the others per resample; with three runs a side it moves in steps of 1/9 per task anyway."""

BOOTSTRAP_SEED = 0
"""Seed of the bootstrap, so that a table written twice from the same runs is the same table (rliable resamples with
numpy's global generator, which :func:`_interval` seeds for the call and then restores)."""


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval."""

    point: float
    low: float
    high: float

    def format(self, digits: int = 2, thousands: bool = False) -> str:
        """``point [low, high]``; ``n/a`` when the estimate is undefined."""
        if not np.isfinite(self.point):
            return "n/a"
        spec = f",.{digits}f" if thousands else f".{digits}f"
        return f"{self.point:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"


UNDEFINED = Estimate(float("nan"), float("nan"), float("nan"))
"""The estimate of no scores."""


@contextlib.contextmanager
def _seeded_global_rng(seed: int) -> Iterator[None]:
    """Seed numpy's global generator for the block and restore its state afterwards.

    rliable's stratified bootstraps draw their resampling indices from ``np.random`` rather than from the
    ``random_state`` they are given, so only the global generator makes an interval reproducible.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _interval(arrays: tuple[np.ndarray, ...], statistic: Callable[..., float], reps: int) -> Estimate:
    """Point estimate and stratified-bootstrap interval (``reps`` resamples) of ``statistic`` over one or two score
    arrays."""
    with warnings.catch_warnings(), _seeded_global_rng(BOOTSTRAP_SEED):
        # rliable hands its RandomState to arch under a keyword that arch has deprecated; the results are the same
        warnings.simplefilter("ignore", FutureWarning)
        point, interval = library.get_interval_estimates(
            {"scores": arrays if len(arrays) > 1 else arrays[0]},
            lambda *scores: np.array([statistic(*scores)]),
            reps=reps,
            confidence_interval_size=CONFIDENCE,
            random_state=np.random.RandomState(BOOTSTRAP_SEED),
        )
    return Estimate(float(point["scores"][0]), float(interval["scores"][0, 0]), float(interval["scores"][1, 0]))


def as_score_matrix(scores: np.ndarray | list) -> np.ndarray:
    """Return scores as a ``(runs, tasks)`` float array; a flat list is one task's runs."""
    array = np.asarray(scores, dtype=float)
    return array[:, None] if array.ndim == 1 else array


def iqm(scores: np.ndarray | list) -> Estimate:
    """Interquartile mean over all runs and tasks, with its confidence interval (undefined for no scores)."""
    matrix = as_score_matrix(scores)
    return _interval((matrix,), metrics.aggregate_iqm, BOOTSTRAP_REPS) if matrix.size else UNDEFINED


def mean(scores: np.ndarray | list) -> Estimate:
    """Mean over tasks of the per-task mean, with its confidence interval (undefined for no scores)."""
    matrix = as_score_matrix(scores)
    return _interval((matrix,), metrics.aggregate_mean, BOOTSTRAP_REPS) if matrix.size else UNDEFINED


def probability_of_improvement(scores_x: np.ndarray | list, scores_y: np.ndarray | list) -> Estimate:
    """P(X > Y): the chance that a run of X scores above a run of Y on the same task (ties count half), averaged
    over tasks, with its confidence interval (undefined for no scores)."""
    x, y = as_score_matrix(scores_x), as_score_matrix(scores_y)
    if not x.size or not y.size:
        return UNDEFINED
    return _interval((x, y), metrics.probability_of_improvement, IMPROVEMENT_BOOTSTRAP_REPS)
