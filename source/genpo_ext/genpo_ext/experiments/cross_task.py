"""Cross-task ranking of algorithm configurations over several specs, for the deployed and the training policy.

On every task, each run's final return is divided by the baseline's seed mean on that task. A configuration is
ranked by the mean over tasks of its return / baseline and, as a check robust to one outlying seed, by the
interquartile mean of the per-run ratios over all its runs; both come with 95% stratified-bootstrap confidence
intervals, next to the probability that a run of the configuration beats a run of the baseline on the same task
(``rliable``, :mod:`genpo_ext.experiments.statistics`). Only a configuration with finished runs on every task gets
the cross-task figures.
"""

from __future__ import annotations

import pathlib

import numpy as np

from genpo_ext.experiments import statistics
from genpo_ext.experiments.report import VariantSummary, mean_std, write_csv
from genpo_ext.experiments.spec import CompareSpec

FinalReturns = dict[str, dict[str, dict[int, float]]]
"""``{task: {variant label: {seed: final return}}}``."""

SpecSummaries = list[tuple[CompareSpec, list[VariantSummary]]]
"""Each spec with the summaries of its finished runs, as :func:`genpo_ext.experiments.report.write_report` returns
them."""

POLICIES = {
    "deployed": "deployed policy (deterministic, last checkpoint)",
    "training": "training policy (rsl_rl's mean training return, last iteration)",
}
"""The two returns a configuration is ranked by, as column prefixes, with what each is."""


def check_rankable(specs: list[CompareSpec]) -> str:
    """Check that the specs can be ranked together, before any training.

    Specs of one task that share a label must share its runs (the same ``log_root``), as specs that reuse each other's
    runs do.

    Returns:
        The baseline label all specs share.

    Raises:
        ValueError: If the specs name different baselines, or one label of a task names runs in two log roots.
    """
    baselines = sorted({spec.baseline for spec in specs})
    if len(baselines) != 1:
        raise ValueError(f"Cross-task ranking needs one baseline label for all specs; the specs name {baselines}.")
    log_roots: dict[tuple[str, str], pathlib.Path] = {}
    for spec in specs:
        for variant in spec.variants:
            known_root = log_roots.setdefault((spec.task, variant.label), spec.log_root)
            if known_root != spec.log_root:
                raise ValueError(
                    f"{spec.task} '{variant.label}' names runs in both {known_root} and {spec.log_root}; "
                    "rename one of the labels or leave one of the specs out."
                )
    return baselines[0]


def collect_final_returns(reports: SpecSummaries, policy: str = "training") -> FinalReturns:
    """Merge the final returns of the specs' finished runs by task and label (see :func:`check_rankable`).

    Args:
        reports: Each spec with its summaries.
        policy: ``training`` (every finished run) or ``deployed`` (the evaluated runs).
    """
    returns: FinalReturns = {}
    for spec, summaries in reports:
        for summary in summaries:
            values = summary.final_returns if policy == "training" else summary.deployed_returns
            runs = returns.setdefault(spec.task, {}).setdefault(summary.label, {})
            runs.update((seed, value) for seed, value in zip(summary.seeds, values) if np.isfinite(value))
    return returns


def _score_matrix(per_task: list[list[float]]) -> np.ndarray:
    """``(runs, tasks)`` scores when every task has the same number of runs; else all runs as one column (the
    bootstrap then resamples runs without stratifying by task)."""
    if len({len(runs) for runs in per_task}) == 1:
        return np.array(per_task, dtype=float).T
    return np.concatenate([np.asarray(runs, dtype=float) for runs in per_task])[:, None]


def _estimate_columns(name: str, estimate: statistics.Estimate) -> dict[str, float]:
    """``<name>``, ``<name>_low`` and ``<name>_high`` columns of an estimate with its confidence interval."""
    return {name: estimate.point, f"{name}_low": estimate.low, f"{name}_high": estimate.high}


def cross_task_rows(returns: FinalReturns, baseline: str, prefix: str = "") -> list[dict[str, float | str | int]]:
    """One row per label: per-task mean ± std, seeds and return / baseline, then the cross-task figures.

    Args:
        returns: Final returns by task, label and seed (see :func:`collect_final_returns`).
        baseline: Label whose seed mean divides every return of the same task.
        prefix: Prefix of every column but ``algorithm`` (e.g. ``deployed:``).

    Returns:
        Rows in first-seen label order. ``mean_ratio`` (mean over tasks of return / baseline), ``iqm_ratio``
        (interquartile mean over runs of return / baseline) and ``p_improvement`` (P(run > baseline run), averaged
        over tasks), each with ``_low``/``_high`` confidence bounds, are NaN for a label missing on some task.

    Raises:
        ValueError: If a task has no finished baseline run.
    """
    baseline_means = {}
    for task, labels in returns.items():
        if not labels.get(baseline):
            raise ValueError(f"{task}: no finished '{baseline}' run to divide by. Labels with runs: {sorted(labels)}.")
        baseline_means[task] = float(np.mean(list(labels[baseline].values())))
    all_labels = list(dict.fromkeys(label for labels in returns.values() for label in labels))
    rows = []
    for label in all_labels:
        row: dict[str, float | str | int] = {"algorithm": label}
        ratios_by_task, finals_by_task, baselines_by_task = [], [], []
        for task, labels in returns.items():
            finals = list(labels.get(label, {}).values())
            mean, std = mean_std(finals)
            row |= {f"{prefix}{task}:seeds": len(finals), f"{prefix}{task}:final_return_mean": mean}
            row |= {f"{prefix}{task}:final_return_std": std, f"{prefix}{task}:return_ratio": mean / baseline_means[task]}
            ratios_by_task.append([final / baseline_means[task] for final in finals])
            finals_by_task.append(finals)
            baselines_by_task.append(list(labels[baseline].values()))
        complete = all(ratios_by_task)
        row[f"{prefix}runs"] = sum(len(ratios) for ratios in ratios_by_task)
        ratios = _score_matrix(ratios_by_task) if complete else np.zeros((0, 1))
        row |= _estimate_columns(f"{prefix}mean_ratio", statistics.mean(ratios))
        row |= _estimate_columns(f"{prefix}iqm_ratio", statistics.iqm(ratios))
        improvement = statistics.UNDEFINED
        if complete:
            improvement = _probability_of_improvement(finals_by_task, baselines_by_task)
        row |= _estimate_columns(f"{prefix}p_improvement", improvement)
        rows.append(row)
    return rows


def _probability_of_improvement(
    finals_by_task: list[list[float]], baselines_by_task: list[list[float]]
) -> statistics.Estimate:
    """P(X > baseline) averaged over tasks; tasks with unequal run counts are compared as one pooled task."""
    x, y = _score_matrix(finals_by_task), _score_matrix(baselines_by_task)
    if x.shape[1] != y.shape[1]:
        x, y = (np.concatenate(runs)[:, None] for runs in (finals_by_task, baselines_by_task))
    return statistics.probability_of_improvement(x, y)


def _cell(row: dict, prefix: str, task: str, most_seeds: int) -> str:
    """``mean ± std (ratio)``, with the seed count when it is below the table's most."""
    seeds = row[f"{prefix}{task}:seeds"]
    if not seeds:
        return "not run"
    note = f", {seeds} seed{'s' if seeds > 1 else ''}" if seeds < most_seeds else ""
    keys = ("final_return_mean", "final_return_std", "return_ratio")
    mean, std, ratio = (row[f"{prefix}{task}:{key}"] for key in keys)
    return f"{mean:,.0f} ± {std:,.0f} ({ratio:.2f}{note})"


def _figure(row: dict, name: str) -> str:
    """An estimate with its interval, or empty when undefined."""
    estimate = statistics.Estimate(row[name], row[f"{name}_low"], row[f"{name}_high"])
    return "" if np.isnan(estimate.point) else estimate.format()


def cross_task_markdown(rows: list[dict], tasks: list[str], baseline: str, prefix: str = "") -> str:
    """Format the rows as a markdown table: final return (return / baseline) per task, then the cross-task figures."""
    most_seeds = max(row[f"{prefix}{task}:seeds"] for row in rows for task in tasks)
    header = (
        f"| algorithm | {' | '.join(tasks)} | mean over tasks of return / {baseline} [95% CI] | "
        f"interquartile mean over runs of return / {baseline} [95% CI] | P(run > {baseline} run) [95% CI] |\n"
        + "|---" * (len(tasks) + 4)
        + "|\n"
    )
    lines = []
    for row in rows:
        cells = " | ".join(_cell(row, prefix, task, most_seeds) for task in tasks)
        names = ("mean_ratio", "iqm_ratio", "p_improvement")
        figures = " | ".join(_figure(row, f"{prefix}{name}") for name in names)
        lines.append(f"| {row['algorithm']} | {cells} | {figures} |\n")
    return header + "".join(lines)


def write_cross_task(reports: SpecSummaries, prefix: pathlib.Path) -> list[dict]:
    """Write ``<prefix>.md`` and ``<prefix>.csv`` ranking the specs' labels across their tasks, by the deployed
    policy's return (when evaluated) and by the training return.

    Args:
        reports: Each spec with its summaries, as written by ``write_report`` (the logs are not read again).
        prefix: Path of the tables without suffix.

    Returns:
        The table rows, one per label with ``deployed:`` and ``training:`` columns (empty if no run has finished).
    """
    baseline = check_rankable([spec for spec, _ in reports])
    sections, merged = [], {}
    for policy, description in POLICIES.items():
        returns = collect_final_returns(reports, policy)
        if not any(returns.values()) or not all(labels.get(baseline) for labels in returns.values()):
            continue
        rows = cross_task_rows(returns, baseline, prefix=f"{policy}:")
        for row in rows:
            merged.setdefault(row["algorithm"], {"algorithm": row["algorithm"]}).update(row)
        table = cross_task_markdown(rows, list(returns), baseline, prefix=f"{policy}:")
        sections.append(f"Final return of the {description}: mean ± std over seeds (return / {baseline}).\n\n{table}")
    if not merged:
        print("[compare] cross-task: no finished runs to rank")
        return []
    prefix.parent.mkdir(parents=True, exist_ok=True)
    write_csv(list(merged.values()), prefix.with_suffix(".csv"))
    prefix.with_suffix(".md").write_text("\n".join(sections))
    print(f"[compare] cross-task: wrote {prefix}.md, {prefix}.csv")
    return list(merged.values())
