"""Read the scalars rsl_rl's tensorboard writer logs for one run."""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

RETURN_TAG = "Train/mean_reward"
"""Mean return of the last 100 finished training episodes, logged per iteration once an episode has finished."""
EPISODE_LENGTH_TAG = "Train/mean_episode_length"
"""Mean length [env steps] of the same episodes, logged with the return."""
COLLECTION_TIME_TAG = "Perf/collection_time"
LEARNING_TIME_TAG = "Perf/learning_time"
ACTION_STD_TAG = "Policy/mean_std"
"""The policy's env-action spread per iteration (a Gaussian's std; for GenPO estimated from flow samples)."""
NOISE_STD_TAG = "Loss/noise_std"
"""GenPO's mean latent noise scale sigma per iteration."""
ENTROPY_COEF_TAG = "Loss/entropy_coef"
"""GenPO's entropy coefficient per iteration (learned with an entropy target)."""


@dataclasses.dataclass
class RunLog:
    """Per-iteration series of one training run."""

    iterations: np.ndarray
    """Iterations that logged timings (0-based, consecutive)."""
    collection_time: np.ndarray
    """Seconds spent stepping the envs (rollout) per iteration."""
    learning_time: np.ndarray
    """Seconds spent in the update per iteration."""
    return_iterations: np.ndarray
    """Iterations that logged a mean return (the first ones have no finished episode yet)."""
    returns: np.ndarray
    """Mean training return at ``return_iterations``."""
    episode_lengths: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    """Mean training episode length [env steps] at the iterations that logged one (empty for a log without it)."""

    @property
    def iteration_time(self) -> np.ndarray:
        """Seconds per iteration (rollout + update), as rsl_rl measures it."""
        return self.collection_time + self.learning_time

    @property
    def cumulative_time(self) -> np.ndarray:
        """Training wall time at the end of each iteration (excludes startup)."""
        return np.cumsum(self.iteration_time)


def _series(accumulator: EventAccumulator, tag: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (steps, values) of a scalar tag; the last value wins if a step was logged twice (resumed run)."""
    if tag not in accumulator.Tags()["scalars"]:
        return np.zeros(0, dtype=int), np.zeros(0)
    by_step = {event.step: event.value for event in accumulator.Scalars(tag)}
    steps = np.array(sorted(by_step), dtype=int)
    return steps, np.array([by_step[step] for step in steps], dtype=float)


def read_run_log(run_dir: str | pathlib.Path) -> RunLog:
    """Load a run's per-iteration timings and returns from the tensorboard event files in ``run_dir``.

    Raises:
        FileNotFoundError: If ``run_dir`` holds no event file with timings.
    """
    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    accumulator.Reload()
    iterations, collection_time = _series(accumulator, COLLECTION_TIME_TAG)
    learning_iterations, learning_time = _series(accumulator, LEARNING_TIME_TAG)
    if len(iterations) == 0 or not np.array_equal(iterations, learning_iterations):
        raise FileNotFoundError(f"No rsl_rl timing scalars in the event files of {run_dir}.")
    return_iterations, returns = _series(accumulator, RETURN_TAG)
    _, episode_lengths = _series(accumulator, EPISODE_LENGTH_TAG)
    return RunLog(iterations, collection_time, learning_time, return_iterations, returns, episode_lengths)


def read_final_scalars(run_dir: str | pathlib.Path, tags: tuple[str, ...]) -> dict[str, float]:
    """Return the value each tag logged at its last iteration in ``run_dir``'s event files (NaN for a tag never
    logged, e.g. GenPO's noise scale in a PPO run)."""
    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    accumulator.Reload()
    finals = {}
    for tag in tags:
        _, values = _series(accumulator, tag)
        finals[tag] = float(values[-1]) if len(values) else float("nan")
    return finals


def scalar_tags(run_dir: str | pathlib.Path) -> list[str]:
    """Return the tags of every scalar in ``run_dir``'s event files."""
    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    accumulator.Reload()
    return sorted(accumulator.Tags()["scalars"])
