"""Cross-task ranking of algorithm configurations over several specs.

On every task, each run's final return is divided by the baseline's seed mean on that task. A configuration is
ranked by the mean over tasks of its return / baseline and, as a check robust to one outlying seed, by the
interquartile mean of the per-run ratios over all its runs. Only a configuration with finished runs on every task is
ranked.
"""

from __future__ import annotations

import pathlib

import numpy as np
from scipy.stats import trim_mean

from genpo_ext.experiments.report import VariantSummary, mean_std, write_csv
from genpo_ext.experiments.spec import CompareSpec

TRIM_PROPORTION = 0.25
"""Share of the sorted per-run ratios cut from each end before averaging: the interquartile mean."""

FinalReturns = dict[str, dict[str, dict[int, float]]]
"""``{task: {variant label: {seed: final return}}}``."""

SpecSummaries = list[tuple[CompareSpec, list[VariantSummary]]]
"""Each spec with the summaries of its finished runs, as :func:`genpo_ext.experiments.report.write_report` returns
them."""


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


def collect_final_returns(reports: SpecSummaries) -> FinalReturns:
    """Merge the final returns of the specs' finished runs by task and label (see :func:`check_rankable`)."""
    returns: FinalReturns = {}
    for spec, summaries in reports:
        for summary in summaries:
            runs = returns.setdefault(spec.task, {}).setdefault(summary.label, {})
            runs.update(zip(summary.seeds, summary.final_returns))
    return returns


def cross_task_rows(returns: FinalReturns, baseline: str) -> list[dict[str, float | str | int]]:
    """One row per label: per-task mean ± std, seeds and return / baseline, then the two cross-task figures.

    Args:
        returns: Final returns by task, label and seed (see :func:`collect_final_returns`).
        baseline: Label whose seed mean divides every return of the same task.

    Returns:
        Rows in first-seen label order. ``mean_ratio`` and ``iqm_ratio`` are NaN for a label missing on some task.

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
        run_ratios, task_ratios = [], []
        for task, labels in returns.items():
            finals = list(labels.get(label, {}).values())
            mean, std = mean_std(finals)
            ratio = mean / baseline_means[task]
            row |= {f"{task}:seeds": len(finals), f"{task}:final_return_mean": mean}
            row |= {f"{task}:final_return_std": std, f"{task}:return_ratio": ratio}
            task_ratios.append(ratio)
            run_ratios += [final / baseline_means[task] for final in finals]
        complete = all(np.isfinite(task_ratios))
        row["runs"] = len(run_ratios)
        row["mean_ratio"] = float(np.mean(task_ratios)) if complete else float("nan")
        row["iqm_ratio"] = float(trim_mean(run_ratios, TRIM_PROPORTION)) if complete else float("nan")
        rows.append(row)
    return rows


def _cell(row: dict, task: str, most_seeds: int) -> str:
    """``mean ± std (ratio)``, with the seed count when it is below the table's most."""
    seeds = row[f"{task}:seeds"]
    if not seeds:
        return "not run"
    note = f", {seeds} seed{'s' if seeds > 1 else ''}" if seeds < most_seeds else ""
    mean, std, ratio = (row[f"{task}:{key}"] for key in ("final_return_mean", "final_return_std", "return_ratio"))
    return f"{mean:,.0f} ± {std:,.0f} ({ratio:.2f}{note})"


def cross_task_markdown(rows: list[dict], tasks: list[str], baseline: str) -> str:
    """Format the rows as a markdown table: final return (return / baseline) per task, then the cross-task figures."""
    most_seeds = max(row[f"{task}:seeds"] for row in rows for task in tasks)
    header = (
        f"| algorithm | {' | '.join(tasks)} | mean over tasks of return / {baseline} | "
        f"interquartile mean over runs of return / {baseline} |\n" + "|---" * (len(tasks) + 3) + "|\n"
    )
    lines = []
    for row in rows:
        cells = " | ".join(_cell(row, task, most_seeds) for task in tasks)
        figures = " | ".join("" if np.isnan(row[key]) else f"{row[key]:.2f}" for key in ("mean_ratio", "iqm_ratio"))
        lines.append(f"| {row['algorithm']} | {cells} | {figures} |\n")
    return header + "".join(lines)


def write_cross_task(reports: SpecSummaries, prefix: pathlib.Path) -> list[dict]:
    """Write ``<prefix>.md`` and ``<prefix>.csv`` ranking the specs' labels across their tasks.

    Args:
        reports: Each spec with its summaries, as written by ``write_report`` (the logs are not read again).
        prefix: Path of the tables without suffix.

    Returns:
        The table rows (empty if no run has finished).
    """
    baseline = check_rankable([spec for spec, _ in reports])
    returns = collect_final_returns(reports)
    if not returns:
        print("[compare] cross-task: no finished runs to rank")
        return []
    rows = cross_task_rows(returns, baseline)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    write_csv(rows, prefix.with_suffix(".csv"))
    prefix.with_suffix(".md").write_text(cross_task_markdown(rows, list(returns), baseline))
    print(f"[compare] cross-task: wrote {prefix}.md, {prefix}.csv")
    return rows
