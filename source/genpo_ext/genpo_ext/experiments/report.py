"""Summaries, tables and learning-curve plots of a finished (or partly finished) sweep."""

from __future__ import annotations

import csv
import dataclasses
import difflib
import pathlib
from collections.abc import Callable
from typing import TypeVar

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from genpo_ext.experiments import statistics  # noqa: E402
from genpo_ext.experiments.deployed import DeployedCurve, read_deployed, read_stochastic  # noqa: E402
from genpo_ext.experiments.logs import RunLog, read_final_scalars, read_run_log, scalar_tags  # noqa: E402
from genpo_ext.experiments.spec import CompareSpec  # noqa: E402
from genpo_ext.experiments.sweep import read_status  # noqa: E402
from genpo_ext.experiments.time_to_return import (  # noqa: E402
    THRESHOLD_FRACTION,
    median_over_runs,
    return_threshold,
    time_to_return,
)

SECONDS_PER_MINUTE = 60.0

T = TypeVar("T")

RunCurves = dict[str, dict[int, DeployedCurve]]
"""Deployed-return curves of the evaluated runs: ``{variant label: {seed: curve}}``."""

RunValues = dict[str, dict[int, float]]
"""One figure per evaluated run: ``{variant label: {seed: value}}``."""


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
    final_episode_lengths: list[float]
    """Last logged mean training episode length [env steps] of each seed (NaN for a log without it)."""
    steps_per_second: list[float]
    """Env steps per second at the median iteration time (rollout + update) of each seed."""
    iteration_times: list[float]
    """Median seconds per iteration (rollout + update) of each seed."""
    collection_times: list[float]
    """Median seconds of rollout per iteration of each seed."""
    learning_times: list[float]
    """Median seconds of update per iteration of each seed."""
    deployed_returns: list[float]
    """Deployed (deterministic-policy) return at the last checkpoint of each seed in ``seeds``; NaN if not evaluated."""
    deployed_episode_lengths: list[float]
    """Mean episode length [env steps] of the deployed evaluation at the last checkpoint of each seed in ``seeds``;
    NaN if not evaluated. On a locomotion task it says how long the robot stays up, which the return (a sum of
    rewards and penalties) can hide."""
    stochastic_returns: list[float]
    """Return of the sampled training policy over the same complete episodes at the last checkpoint of each seed in
    ``seeds``; NaN if not evaluated. It separates the policy mode from rsl_rl's training figure, which averages the
    last 100 *finished* training episodes and so over-weights short ones."""
    steps_to_threshold: list[float]
    """Env steps until the mean training return of each seed in ``seeds`` first reached the task's threshold
    (infinity: never; NaN: no threshold)."""
    seconds_to_threshold: list[float]
    """Training wall time [s] until the same."""
    final_metrics: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    """Value of each of the spec's ``metrics`` at the last iteration of each seed in ``seeds``, by tag (NaN for a run
    that never logged it)."""

    @property
    def evaluated_deployed_returns(self) -> list[float]:
        """The deployed returns of the evaluated seeds."""
        return [value for value in self.deployed_returns if np.isfinite(value)]

    @property
    def evaluated_deployed_episode_lengths(self) -> list[float]:
        """The deployed episode lengths of the evaluated seeds."""
        return [value for value in self.deployed_episode_lengths if np.isfinite(value)]

    @property
    def logged_final_episode_lengths(self) -> list[float]:
        """The final training episode lengths of the seeds whose log has them."""
        return [value for value in self.final_episode_lengths if np.isfinite(value)]

    @property
    def evaluated_stochastic_returns(self) -> list[float]:
        """The stochastic complete-episode returns of the evaluated seeds."""
        return [value for value in self.stochastic_returns if np.isfinite(value)]


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


def _read_per_run(
    spec: CompareSpec, logs: dict[str, dict[int, RunLog]], read: Callable[[CompareSpec, pathlib.Path], T | None]
) -> dict[str, dict[int, T]]:
    """Apply ``read`` to the folder of every finished run, keeping the runs it returns a value for."""
    values: dict[str, dict[int, T]] = {}
    for label, runs in logs.items():
        for seed in runs:
            value = read(spec, spec.run_dir(spec.variant(label), seed))
            if value is not None:
                values.setdefault(label, {})[seed] = value
    return values


def read_deployed_curves(spec: CompareSpec, logs: dict[str, dict[int, RunLog]]) -> RunCurves:
    """Read the deployed-return curves of the finished runs that have been evaluated."""
    return _read_per_run(spec, logs, read_deployed)


def read_stochastic_returns(spec: CompareSpec, logs: dict[str, dict[int, RunLog]]) -> RunValues:
    """Read the stochastic complete-episode return at the last checkpoint of the finished runs that have one."""
    return _read_per_run(spec, logs, read_stochastic)


def read_final_metrics(spec: CompareSpec, logs: dict[str, dict[int, RunLog]]) -> dict[str, dict[int, dict]]:
    """Read the spec's ``metrics`` at the last iteration of every finished run: ``{label: {seed: {tag: value}}}``.

    A tag that no run logged is named in a line with the tags the runs did log that resemble it (a misspelt tag).
    """
    if not spec.metrics:
        return {}
    finals = _read_per_run(spec, logs, lambda _, run_dir: read_final_scalars(run_dir, spec.metrics))
    for tag in spec.metrics:
        if all(np.isnan(values[tag]) for runs in finals.values() for values in runs.values()):
            label, seed = next((label, seed) for label, runs in logs.items() for seed in runs)
            close = difflib.get_close_matches(tag, scalar_tags(spec.run_dir(spec.variant(label), seed)), n=5)
            print(f"[compare] {spec.name}: no run logged the metric '{tag}'; close tags: {', '.join(close) or 'none'}")
    return finals


def task_threshold(spec: CompareSpec, logs: dict[str, dict[int, RunLog]]) -> float:
    """The task's return threshold for the time-to-return figures, from the baseline's final training returns."""
    baseline_runs = logs.get(spec.baseline, {}).values()
    return return_threshold([float(log.returns[-1]) for log in baseline_runs if len(log.returns)])


def _last(values: np.ndarray) -> float:
    """The last value of a series, NaN for an empty one."""
    return float(values[-1]) if len(values) else float("nan")


def summarize(
    spec: CompareSpec,
    logs: dict[str, dict[int, RunLog]],
    curves: RunCurves | None = None,
    stochastic: RunValues | None = None,
    metrics: dict[str, dict[int, dict]] | None = None,
) -> list[VariantSummary]:
    """Reduce each run to its final training, deployed and stochastic returns, the spec's metrics at its last
    iteration, its time to the task's threshold and its speed."""
    curves, stochastic, metrics = curves or {}, stochastic or {}, metrics or {}
    threshold = task_threshold(spec, logs)
    summaries = []
    for label, runs in logs.items():
        seeds = [seed for seed, log in runs.items() if len(log.returns)]
        deployed = curves.get(label, {})
        times = [time_to_return(runs[seed], spec.env_steps_per_iteration, threshold) for seed in seeds]
        summaries.append(
            VariantSummary(
                label=label,
                seeds=seeds,
                final_returns=[float(runs[seed].returns[-1]) for seed in seeds],
                final_episode_lengths=[_last(runs[seed].episode_lengths) for seed in seeds],
                steps_per_second=[
                    spec.env_steps_per_iteration / float(np.median(log.iteration_time)) for log in runs.values()
                ],
                iteration_times=[float(np.median(log.iteration_time)) for log in runs.values()],
                collection_times=[float(np.median(log.collection_time)) for log in runs.values()],
                learning_times=[float(np.median(log.learning_time)) for log in runs.values()],
                deployed_returns=[deployed[seed].final_return if seed in deployed else float("nan") for seed in seeds],
                deployed_episode_lengths=[
                    deployed[seed].final_length if seed in deployed else float("nan") for seed in seeds
                ],
                stochastic_returns=[stochastic.get(label, {}).get(seed, float("nan")) for seed in seeds],
                steps_to_threshold=[steps for steps, _ in times],
                seconds_to_threshold=[seconds for _, seconds in times],
                final_metrics={
                    tag: [metrics.get(label, {}).get(seed, {}).get(tag, float("nan")) for seed in seeds]
                    for tag in spec.metrics
                },
            )
        )
    return summaries


def _ratio(numerator: list[float], denominator: list[float]) -> float:
    """Ratio of seed means; NaN when either side is missing or the denominator's mean is not positive (a ratio to a
    negative return would invert the ranking)."""
    top, bottom = mean_std(numerator)[0], mean_std(denominator)[0]
    return top / bottom if bottom > 0 else float("nan")


def _mean_std_columns(prefix: str, values: list[float]) -> dict[str, float]:
    """``<prefix>_mean`` and ``<prefix>_std`` columns of per-seed values."""
    mean, std = mean_std(values)
    return {f"{prefix}_mean": mean, f"{prefix}_std": std}


def _mean_interval_columns(prefix: str, values: list[float]) -> dict[str, float]:
    """``<prefix>_mean``, ``<prefix>_mean_low``, ``<prefix>_mean_high`` (its 95% stratified-bootstrap interval) and
    ``<prefix>_std`` columns of per-seed values."""
    return {**_estimate_columns(f"{prefix}_mean", statistics.mean(values)), f"{prefix}_std": mean_std(values)[1]}


def _estimate_columns(prefix: str, estimate: statistics.Estimate) -> dict[str, float]:
    """``<prefix>``, ``<prefix>_low`` and ``<prefix>_high`` columns of an estimate with its confidence interval."""
    return {prefix: estimate.point, f"{prefix}_low": estimate.low, f"{prefix}_high": estimate.high}


def table_rows(spec: CompareSpec, summaries: list[VariantSummary]) -> list[dict[str, float | str | int]]:
    """One row per variant with raw numbers; ratios divide by the baseline variant's seed means.

    Returns come as the mean ± std over seeds and as the interquartile mean with its stratified-bootstrap
    confidence interval, for the training policy (rsl_rl's mean training return at the last iteration) and for the
    deployed one (the deterministic policy's mean return at the last checkpoint); the stochastic policy's return over
    the same complete episodes comes as mean ± std. Time to return is the median over seeds (a seed that never got
    there counts as infinitely late).
    """
    baseline = next((s for s in summaries if s.label == spec.baseline), None)
    threshold = return_threshold(baseline.final_returns) if baseline is not None else float("nan")
    rows = []
    for summary in summaries:
        final_mean, final_std = mean_std(summary.final_returns)
        deployed = summary.evaluated_deployed_returns
        deployed_mean, deployed_std = mean_std(deployed)
        stochastic_mean, stochastic_std = mean_std(summary.evaluated_stochastic_returns)
        reached = [steps for steps in summary.steps_to_threshold if np.isfinite(steps)]
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
            **_estimate_columns("final_return_iqm", statistics.iqm(summary.final_returns)),
            "deployed_seeds": len(deployed),
            "deployed_return_mean": deployed_mean,
            "deployed_return_std": deployed_std,
            **_estimate_columns("deployed_return_iqm", statistics.iqm(deployed)),
            "deployed_return_ratio": float("nan"),
            **_mean_interval_columns("final_episode_length", summary.logged_final_episode_lengths),
            **_mean_interval_columns("deployed_episode_length", summary.evaluated_deployed_episode_lengths),
            "stochastic_seeds": len(summary.evaluated_stochastic_returns),
            "stochastic_return_mean": stochastic_mean,
            "stochastic_return_std": stochastic_std,
            "return_threshold": threshold,
            "runs_reaching_threshold": len(reached),
            "env_steps_to_threshold": median_over_runs(summary.steps_to_threshold),
            "seconds_to_threshold": median_over_runs(summary.seconds_to_threshold),
        }
        for tag, values in summary.final_metrics.items():
            row.update(_mean_std_columns(tag, [value for value in values if np.isfinite(value)]))
        if baseline is not None:
            row["return_ratio"] = _ratio(summary.final_returns, baseline.final_returns)
            row["time_per_iteration_ratio"] = _ratio(summary.iteration_times, baseline.iteration_times)
            row["deployed_return_ratio"] = _ratio(deployed, baseline.evaluated_deployed_returns)
        rows.append(row)
    return rows


def write_csv(rows: list[dict], path: pathlib.Path) -> None:
    """Write the rows as CSV; the columns are every key of any row, in first-seen order (missing cells empty)."""
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
        writer.writeheader()
        writer.writerows(rows)


def _spread(mean: float, std: float, missing: str = "not evaluated") -> str:
    """``mean ± std``, or ``missing`` for a NaN mean."""
    return f"{mean:,.1f} ± {std:,.1f}" if np.isfinite(mean) else missing


def _ratio_cell(ratio: float) -> str:
    """A ratio to the baseline with two decimals, or ``n/a`` where it is undefined (no baseline runs, a baseline mean
    that is not positive)."""
    return f"{ratio:.2f}" if np.isfinite(ratio) else "n/a"


def _time_to(row: dict) -> tuple[str, str]:
    """Env steps and minutes to the threshold (median over seeds), with how many seeds reached it."""
    steps, seconds = row["env_steps_to_threshold"], row["seconds_to_threshold"]
    if not np.isfinite(row["return_threshold"]):
        return "n/a", "n/a"
    note = f" ({row['runs_reaching_threshold']}/{row['seeds']} seeds)"
    if not np.isfinite(steps):
        return f"not reached{note}", f"not reached{note}"
    return f"{steps:,.0f}{note}", f"{seconds / SECONDS_PER_MINUTE:,.1f}{note}"


def _row_estimate(row: dict, prefix: str) -> statistics.Estimate:
    """The estimate that ``_estimate_columns`` wrote into ``row`` under ``prefix``."""
    return statistics.Estimate(row[prefix], row[f"{prefix}_low"], row[f"{prefix}_high"])


def returns_markdown(rows: list[dict], baseline: str) -> str:
    """Markdown table of training and deployed returns: mean ± std and interquartile mean [95% CI] over seeds."""
    header = (
        f"| task | algorithm | seeds | deployed return (mean ± std) | deployed IQM [95% CI] | deployed / {baseline} "
        f"| training return (mean ± std) | training IQM [95% CI] | training / {baseline} "
        "| stochastic policy, complete episodes (mean ± std) |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        deployed_iqm = _row_estimate(r, "deployed_return_iqm")
        training_iqm = _row_estimate(r, "final_return_iqm")
        seeds = f"{r['seeds']}" if r["deployed_seeds"] == r["seeds"] else f"{r['seeds']} ({r['deployed_seeds']} evaluated)"
        lines.append(
            f"| {r['task']} | {r['algorithm']} | {seeds} | {_spread(r['deployed_return_mean'], r['deployed_return_std'])} "
            f"| {deployed_iqm.format(1, thousands=True)} | {_ratio_cell(r['deployed_return_ratio'])} "
            f"| {_spread(r['final_return_mean'], r['final_return_std'])} | {training_iqm.format(1, thousands=True)} "
            f"| {_ratio_cell(r['return_ratio'])} "
            f"| {_spread(r['stochastic_return_mean'], r['stochastic_return_std'])} |\n"
        )
    return header + "".join(lines)


def _mean_interval_cell(row: dict, prefix: str, missing: str) -> str:
    """``mean [low, high]`` of a ``_mean_interval_columns`` group, or ``missing`` where it has no values."""
    estimate = _row_estimate(row, f"{prefix}_mean")
    return estimate.format(1, thousands=True) if np.isfinite(estimate.point) else missing


def episode_length_markdown(rows: list[dict]) -> str:
    """Markdown table of the mean episode length of the deployed and of the training policy: mean ± std over seeds
    and the mean with its 95% stratified-bootstrap confidence interval."""
    header = (
        "| task | algorithm | deployed episode length (mean ± std) | deployed, mean [95% CI] "
        "| training episode length (mean ± std) | training, mean [95% CI] |\n"
        "|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['task']} | {r['algorithm']} "
        f"| {_spread(r['deployed_episode_length_mean'], r['deployed_episode_length_std'])} "
        f"| {_mean_interval_cell(r, 'deployed_episode_length', 'not evaluated')} "
        f"| {_spread(r['final_episode_length_mean'], r['final_episode_length_std'], 'not logged')} "
        f"| {_mean_interval_cell(r, 'final_episode_length', 'not logged')} |\n"
        for r in rows
    ]
    return header + "".join(lines)


def metrics_markdown(rows: list[dict], metrics: tuple[str, ...]) -> str:
    """Markdown table of the spec's metrics at the last iteration (mean ± std over seeds)."""
    header = f"| task | algorithm | {' | '.join(metrics)} |\n|---|---|{'---|' * len(metrics)}\n"
    lines = [
        f"| {r['task']} | {r['algorithm']} | "
        + " | ".join(_metric_spread(r[f"{tag}_mean"], r[f"{tag}_std"]) for tag in metrics)
        + " |\n"
        for r in rows
    ]
    return header + "".join(lines)


def _metric_spread(mean: float, std: float) -> str:
    """``mean ± std`` with four significant digits (metrics range from rewards near 0.01 to lengths near 1,000)."""
    return f"{mean:.4g} ± {std:.2g}" if np.isfinite(mean) else "not logged"


def cost_markdown(rows: list[dict], baseline: str) -> str:
    """Markdown table of the cost: time per iteration and time to the task's return threshold."""
    threshold = next((r["return_threshold"] for r in rows if np.isfinite(r["return_threshold"])), float("nan"))
    target = f"{threshold:,.1f}" if np.isfinite(threshold) else "n/a"
    header = (
        f"| task | algorithm | env steps/s | median s / iteration (rollout + update) | time per iteration / {baseline} "
        f"| env steps to return {target} | training minutes to return {target} |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        steps, minutes = _time_to(r)
        lines.append(
            f"| {r['task']} | {r['algorithm']} | {r['env_steps_per_s']:,.0f} | {r['s_per_iteration']:.3f} "
            f"({r['collection_s_per_iteration']:.3f} + {r['learning_s_per_iteration']:.3f}) "
            f"| {_ratio_cell(r['time_per_iteration_ratio'])} | {steps} | {minutes} |\n"
        )
    return header + "".join(lines)


def summary_markdown(rows: list[dict], baseline: str, metrics: tuple[str, ...] = ()) -> str:
    """The spec's ``summary.md``: the returns table, the episode lengths, the spec's metrics (if any), then the cost
    table, each with a line saying what it shows."""
    metrics_part = (
        "\nMetrics of the training logs at the last iteration (mean ± std over seeds):\n\n"
        + metrics_markdown(rows, metrics)
        if metrics
        else ""
    )
    # a table of some labels only (a sweep in parts) may lack the baseline's runs
    baseline_row = next((r for r in rows if r["algorithm"] == baseline), None)
    if baseline_row is None:
        no_ratios = f" No run of {baseline} is in this table: no ratios."
    elif any(baseline_row[column] <= 0 for column in ("deployed_return_mean", "final_return_mean")):
        no_ratios = (
            f" Return ratios to a non-positive mean return of {baseline} read n/a: they would invert the ranking."
        )
    else:
        no_ratios = ""
    return (
        "Returns: the deployed policy (deterministic, mean over the evaluation episodes of the last checkpoint) and the "
        "training policy (rsl_rl's mean return of the last 100 training episodes at the last iteration); mean ± std "
        "and interquartile mean with a 95% stratified-bootstrap confidence interval over seeds. The last column is the "
        "sampled training policy of the last checkpoint on the deployed policy's complete evaluation episodes."
        + no_ratios
        + "\n\n"
        + returns_markdown(rows, baseline)
        + "\nEpisode length [env steps]: the deployed policy's mean over the same evaluation episodes, and rsl_rl's "
        "mean over the last 100 training episodes at the last iteration (a fall or another termination ends an "
        "episode early); over seeds, mean ± std and the mean with its 95% stratified-bootstrap confidence interval.\n\n"
        + episode_length_markdown(rows)
        + metrics_part
        + f"\nCost: median time per iteration, and env steps / training wall time until the mean training return first "
        f"reaches {THRESHOLD_FRACTION:.0%} of {baseline}'s final mean (median over seeds).\n\n"
        + cost_markdown(rows, baseline)
    )


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


def _deployed_points(
    runs: dict[int, DeployedCurve], logs: dict[int, RunLog], steps_per_iteration: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The deployed return and episode length at the checkpoints every seed evaluated.

    Returns:
        Env steps, mean training wall time over seeds [min], and the per-seed deployed returns and mean episode
        lengths at those checkpoints, each of shape ``(seeds, checkpoints)``.
    """
    common = sorted(set.intersection(*(set(curve.iterations.tolist()) for curve in runs.values())))
    at_common = [np.searchsorted(curve.iterations, common) for curve in runs.values()]
    returns = np.stack([curve.returns[index] for curve, index in zip(runs.values(), at_common)])
    lengths = np.stack([curve.lengths[index] for curve, index in zip(runs.values(), at_common)])
    wall = np.stack([logs[seed].cumulative_time[common] for seed in runs]) / SECONDS_PER_MINUTE
    env_steps = (np.asarray(common) + 1) * steps_per_iteration
    return env_steps, wall.mean(axis=0), returns, lengths


def plot_deployed_curves(
    spec: CompareSpec, logs: dict[str, dict[int, RunLog]], curves: RunCurves, path: pathlib.Path
) -> None:
    """Plot mean ± std (over seeds) of the deployed return (top row) and of its mean episode length (bottom row; on
    tasks that end an episode on a fall, the signal that moves first) at the checkpoints, against env steps and
    against training wall time."""
    figure, axes = plt.subplots(2, 2, figsize=(11, 7), sharex="col", sharey="row")
    for label, runs in curves.items():
        env_steps, wall, returns, lengths = _deployed_points(runs, logs[label], spec.env_steps_per_iteration)
        name = f"{label} (n={len(runs)} seeds)"
        for row, values in zip(axes, (returns, lengths)):
            mean, std = values.mean(axis=0), values.std(axis=0)
            for axis, x in zip(row, (env_steps, wall)):
                (line,) = axis.plot(x, mean, marker="o", label=name)
                axis.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    axes[0, 0].set_ylabel(f"deployed return (deterministic, {spec.eval_episodes} episodes)")
    axes[1, 0].set_ylabel("deployed episode length [env steps]")
    axes[1, 0].set_xlabel("env steps")
    axes[1, 1].set_xlabel("training wall time [min]")
    for axis in axes.flat:
        axis.grid(alpha=0.3)
    axes[0, 0].legend()
    figure.suptitle(f"{spec.name}: deployed policy at the checkpoints, mean ± std over seeds")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def run_rows(spec: CompareSpec, summaries: list[VariantSummary]) -> list[dict[str, float | str | int]]:
    """One row per run: its final training, deployed and stochastic returns and its time to the threshold
    (``runs.csv``)."""
    rows = []
    for summary in summaries:
        for index, seed in enumerate(summary.seeds):
            rows.append({
                "task": spec.task,
                "algorithm": summary.label,
                "seed": seed,
                "final_return": summary.final_returns[index],
                "deployed_return": summary.deployed_returns[index],
                "stochastic_return": summary.stochastic_returns[index],
                "final_episode_length": summary.final_episode_lengths[index],
                "deployed_episode_length": summary.deployed_episode_lengths[index],
                "env_steps_to_threshold": summary.steps_to_threshold[index],
                "seconds_to_threshold": summary.seconds_to_threshold[index],
                **{tag: values[index] for tag, values in summary.final_metrics.items()},
            })
    return rows


def checkpoint_rows(
    spec: CompareSpec, logs: dict[str, dict[int, RunLog]], curves: RunCurves
) -> list[dict[str, float | str | int]]:
    """One row per evaluated checkpoint: env steps, training wall time, deployed return and its mean episode length
    (``deployed.csv``)."""
    rows = []
    for label, runs in curves.items():
        for seed, curve in runs.items():
            wall = logs[label][seed].cumulative_time
            for iteration, value, length in zip(
                curve.iterations.tolist(), curve.returns.tolist(), curve.lengths.tolist()
            ):
                rows.append({
                    "task": spec.task,
                    "algorithm": label,
                    "seed": seed,
                    "iteration": iteration,
                    "env_steps": (iteration + 1) * spec.env_steps_per_iteration,
                    "training_seconds": float(wall[min(iteration, len(wall) - 1)]),
                    "deployed_return": value,
                    "deployed_episode_length": length,
                })
    return rows


def write_report(spec: CompareSpec) -> tuple[list[dict], list[VariantSummary]]:
    """Write the spec's report into its output folder: ``summary.md`` and ``summary.csv`` (one row per variant),
    ``runs.csv`` (one row per run), ``deployed.csv`` (one row per evaluated checkpoint), ``learning_curves.png``
    (training return) and ``deployed_curves.png`` (deployed return, once a run is evaluated).

    Returns:
        The table rows and the per-seed summaries behind them (both empty if no run has finished).
    """
    logs = read_logs(spec)
    if not any(logs.values()):
        print(f"[compare] {spec.name}: no finished runs to report")
        return [], []
    spec.output_dir.mkdir(parents=True, exist_ok=True)
    curves = read_deployed_curves(spec, logs)
    metrics = read_final_metrics(spec, logs)
    summaries = summarize(spec, logs, curves, read_stochastic_returns(spec, logs), metrics)
    rows = table_rows(spec, summaries)
    write_csv(rows, spec.output_dir / "summary.csv")
    write_csv(run_rows(spec, summaries), spec.output_dir / "runs.csv")
    (spec.output_dir / "summary.md").write_text(summary_markdown(rows, spec.baseline, spec.metrics))
    plot_learning_curves(spec, logs, spec.output_dir / "learning_curves.png")
    written = ["summary.md", "summary.csv", "runs.csv", "learning_curves.png"]
    if curves:
        write_csv(checkpoint_rows(spec, logs, curves), spec.output_dir / "deployed.csv")
        plot_deployed_curves(spec, logs, curves, spec.output_dir / "deployed_curves.png")
        written += ["deployed.csv", "deployed_curves.png"]
    print(f"[compare] {spec.name}: wrote {', '.join(written)} into {spec.output_dir}")
    return rows, summaries
