"""Learning-curve plot of an rsl_rl run, read from the tensorboard event files the runner writes."""

from __future__ import annotations

from pathlib import Path

LEARNING_CURVE_FILE = "learning_curve.png"
"""File name of the plot inside the run folder."""

CURVE_TAGS = {"Train/mean_reward": "mean episode return", "Train/mean_episode_length": "mean episode length [steps]"}
"""Tensorboard scalars of rsl_rl's logger that the plot shows, with their axis labels."""


def read_scalars(log_dir: str | Path, tag: str) -> tuple[list[int], list[float]]:
    """Return the (iteration, value) series of one scalar from the event files of a run folder.

    Args:
        log_dir: Run folder that holds the tensorboard event files.
        tag: Scalar tag, e.g. ``"Train/mean_reward"``.
    """
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    accumulator.Reload()
    if tag not in accumulator.Tags()["scalars"]:
        return [], []
    events = accumulator.Scalars(tag)
    return [event.step for event in events], [event.value for event in events]


def save_learning_curve(log_dir: str | Path, title: str) -> Path | None:
    """Plot the mean return and episode length over the iterations of a run into ``<log_dir>/learning_curve.png``.

    Args:
        log_dir: Run folder that holds the tensorboard event files.
        title: Plot title, e.g. the task and algorithm.

    Returns:
        The path of the plot, or None when the run logged no finished episode yet.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = {tag: read_scalars(log_dir, tag) for tag in CURVE_TAGS}
    if not any(steps for steps, _ in series.values()):
        return None
    figure, axes = plt.subplots(len(CURVE_TAGS), 1, sharex=True, figsize=(6, 6))
    for axis, (tag, label) in zip(axes, CURVE_TAGS.items()):
        steps, values = series[tag]
        axis.plot(steps, values)
        axis.set_ylabel(label)
        axis.grid(True, alpha=0.3)
    axes[-1].set_xlabel("learning iteration")
    axes[0].set_title(title)
    figure.tight_layout()
    path = Path(log_dir, LEARNING_CURVE_FILE)
    figure.savefig(path)
    plt.close(figure)
    return path


def final_values(log_dir: str | Path) -> dict[str, float]:
    """Return the last logged value of each plotted scalar of a run, keyed by its axis label."""
    finals = {}
    for tag, label in CURVE_TAGS.items():
        _, values = read_scalars(log_dir, tag)
        if values:
            finals[label] = values[-1]
    return finals
