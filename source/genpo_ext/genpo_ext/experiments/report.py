"""Summaries, tables and learning-curve plots of a finished (or partly finished) sweep."""

from __future__ import annotations

import csv
import dataclasses
import pathlib

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from genpo_ext.experiments.logs import RunLog, read_run_log  # noqa: E402
from genpo_ext.experiments.spec import CompareSpec  # noqa: E402
from genpo_ext.experiments.sweep import read_status  # noqa: E402

SECONDS_PER_MINUTE = 60.0


@dataclasses.dataclass
class VariantSummary:
    """Per-seed figures of one variant; the seed statistics are the mean and the sample std (ddof=1).

    Times are medians over a run's iterations: robust to one-off stalls (the first iteration's kernel compilation, a
    paused process, a burst of load on a shared machine) that a mean would spread over the whole run.
    """

    label: str
    seeds: list[int]
    """Seeds whose logs were read."""
    final_returns: list[float]
    """Last logged mean training return of each seed."""
    steps_per_second: list[float]
    """Env steps per second at the median iteration time (rollout + update) of each seed."""
    iteration_times: list[float]
    """Median seconds per iteration (rollout + update) of each seed."""
    collection_times: list[float]
    """Median seconds of rollout per iteration of each seed."""
    learning_times: list[float]
    """Median seconds of update per iteration of each seed."""


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value; NaN for none)."""
    if not values:
        return float("nan"), float("nan")
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def read_logs(spec: CompareSpec) -> dict[str, dict[int, RunLog]]:
    """Read the logs of every finished run: ``{variant label: {seed: RunLog}}``; variants without a finished run
    and unreadable runs are left out."""
    logs: dict[str, dict[int, RunLog]] = {}
    for variant in spec.variants:
        for seed in spec.seeds:
            run_dir = spec.run_dir(variant, seed)
            if read_status(run_dir) is None:
                continue
            try:
                logs.setdefault(variant.label, {})[seed] = read_run_log(run_dir)
            except FileNotFoundError as error:
                print(f"[compare] {variant.label} seed {seed}: {error}; left out of the report")
    return logs


def summarize(spec: CompareSpec, logs: dict[str, dict[int, RunLog]]) -> list[VariantSummary]:
    """Reduce each run to its final return and its speed."""
    summaries = []
    for label, runs in logs.items():
        seeds = [seed for seed, log in runs.items() if len(log.returns)]
        summaries.append(
            VariantSummary(
                label=label,
                seeds=seeds,
                final_returns=[float(runs[seed].returns[-1]) for seed in seeds],
                steps_per_second=[
                    spec.env_steps_per_iteration / float(np.median(log.iteration_time)) for log in runs.values()
                ],
                iteration_times=[float(np.median(log.iteration_time)) for log in runs.values()],
                collection_times=[float(np.median(log.collection_time)) for log in runs.values()],
                learning_times=[float(np.median(log.learning_time)) for log in runs.values()],
            )
        )
    return summaries


def _ratio(numerator: list[float], denominator: list[float]) -> float:
    """Ratio of seed means (NaN when either side is missing)."""
    top, bottom = mean_std(numerator)[0], mean_std(denominator)[0]
    return top / bottom if bottom else float("nan")


def table_rows(spec: CompareSpec, summaries: list[VariantSummary]) -> list[dict[str, float | str | int]]:
    """One row per variant with raw numbers; ratios divide by the baseline variant's seed means."""
    baseline = next((s for s in summaries if s.label == spec.baseline), None)
    rows = []
    for summary in summaries:
        final_mean, final_std = mean_std(summary.final_returns)
        row = {
            "task": spec.task,
            "algorithm": summary.label,
            "seeds": len(summary.seeds),
            "env_steps": spec.iterations * spec.env_steps_per_iteration,
            "env_steps_per_iteration": spec.env_steps_per_iteration,
            "final_return_mean": final_mean,
            "final_return_std": final_std,
            "env_steps_per_s": mean_std(summary.steps_per_second)[0],
            "s_per_iteration": mean_std(summary.iteration_times)[0],
            "collection_s_per_iteration": mean_std(summary.collection_times)[0],
            "learning_s_per_iteration": mean_std(summary.learning_times)[0],
            "return_ratio": float("nan"),
            "time_per_iteration_ratio": float("nan"),
        }
        if baseline is not None:
            row["return_ratio"] = _ratio(summary.final_returns, baseline.final_returns)
            row["time_per_iteration_ratio"] = _ratio(summary.iteration_times, baseline.iteration_times)
        rows.append(row)
    return rows


def write_csv(rows: list[dict], path: pathlib.Path) -> None:
    """Write the rows as CSV."""
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def markdown_table(rows: list[dict], baseline: str) -> str:
    """Format the rows as a markdown table."""
    header = (
        f"| task | algorithm | seeds | env steps | final return (mean ± std) | env steps/s | median s / iteration "
        f"(rollout + update) | return / {baseline} | time per iteration / {baseline} |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['task']} | {r['algorithm']} | {r['seeds']} | {r['env_steps']:,} | "
        f"{r['final_return_mean']:.1f} ± {r['final_return_std']:.1f} | {r['env_steps_per_s']:,.0f} | "
        f"{r['s_per_iteration']:.3f} ({r['collection_s_per_iteration']:.3f} + {r['learning_s_per_iteration']:.3f}) | "
        f"{r['return_ratio']:.2f} | {r['time_per_iteration_ratio']:.2f} |\n"
        for r in rows
    ]
    return header + "".join(lines)


def _curves(runs: dict[int, RunLog], steps_per_iteration: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean and std over seeds of the return, on the iterations every seed logged a return.

    Returns:
        Env steps, mean wall time over seeds [min], mean return and std of the return at those iterations.
    """
    common = sorted(set.intersection(*(set(log.return_iterations.tolist()) for log in runs.values())))
    returns = np.stack([log.returns[np.searchsorted(log.return_iterations, common)] for log in runs.values()])
    wall = np.stack([log.cumulative_time[common] for log in runs.values()]) / SECONDS_PER_MINUTE
    env_steps = (np.asarray(common) + 1) * steps_per_iteration
    return env_steps, wall.mean(axis=0), returns.mean(axis=0), returns.std(axis=0)


def plot_learning_curves(spec: CompareSpec, logs: dict[str, dict[int, RunLog]], path: pathlib.Path) -> None:
    """Plot mean ± std (over seeds) of the training return against env steps and against wall time."""
    figure, (steps_axis, time_axis) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for label, runs in logs.items():
        runs = {seed: log for seed, log in runs.items() if len(log.returns)}
        if not runs:
            continue
        env_steps, wall, mean, std = _curves(runs, spec.env_steps_per_iteration)
        name = f"{label} (n={len(runs)} seeds)"
        for axis, x in ((steps_axis, env_steps), (time_axis, wall)):
            (line,) = axis.plot(x, mean, label=name)
            axis.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    steps_axis.set_xlabel("env steps")
    steps_axis.set_ylabel("mean training return")
    time_axis.set_xlabel("training wall time [min]")
    for axis in (steps_axis, time_axis):
        axis.grid(alpha=0.3)
    steps_axis.legend()
    figure.suptitle(f"{spec.name}: mean ± std over seeds")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_report(spec: CompareSpec) -> tuple[list[dict], list[VariantSummary]]:
    """Write ``learning_curves.png``, ``summary.md`` and ``summary.csv`` into the spec's output folder.

    Returns:
        The table rows and the per-seed summaries behind them (both empty if no run has finished).
    """
    logs = read_logs(spec)
    if not any(logs.values()):
        print(f"[compare] {spec.name}: no finished runs to report")
        return [], []
    spec.output_dir.mkdir(parents=True, exist_ok=True)
    summaries = summarize(spec, logs)
    rows = table_rows(spec, summaries)
    write_csv(rows, spec.output_dir / "summary.csv")
    (spec.output_dir / "summary.md").write_text(markdown_table(rows, spec.baseline))
    plot_learning_curves(spec, logs, spec.output_dir / "learning_curves.png")
    print(f"[compare] {spec.name}: wrote {spec.output_dir}/learning_curves.png, summary.md, summary.csv")
    return rows, summaries
