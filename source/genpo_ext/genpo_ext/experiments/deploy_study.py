"""A study of GenPO configurations and their deployed actions across tasks, judged on the policy users deploy.

Every run contributes one figure per deployed action it was scored with (``zero``, ``mean16``, ``likeliest16``,
``mean16_t0.5``, see :mod:`genpo_ext.evaluation.deploy`), its sampled policy on the same complete episodes, its
training return, and what its logs say at the last iteration: the env-action spread (``Policy/mean_std``), the latent
noise scale sigma and the entropy coefficient. Runs of an earlier sweep whose folders are gone enter with the figures
it recorded (:class:`~genpo_ext.experiments.spec.RecordedRuns`): a report's ``runs.csv`` holds the zero latent only, an
earlier study's ``<prefix>_runs.csv`` every deployed action, the spread and sigma. A run folder that finished wins
over a recorded figure of the same configuration and seed.

Each (configuration, deployed action) is ranked as :mod:`~genpo_ext.experiments.cross_task` ranks labels: mean over
tasks and IQM over runs of deployed return / the baseline's (PPO's Gaussian mean), with 95% stratified-bootstrap
intervals. Beside them stands the collapse check: the lowest ratio of a run's deployed return to its own sampled
policy's, and how many runs fall below :data:`COLLAPSE_RATIO`. A configuration qualifies to replace the reference
(``--algo genpo_recommended`` as shipped) when it has a run of every seed of the study on every task, beats the
reference's mean and IQM, and no run collapses; a screen at fewer seeds ranks, but nothing in it qualifies.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import pathlib

import numpy as np

from genpo_ext.experiments.cross_task import FinalReturns, cross_task_rows
from genpo_ext.experiments.deployed import read_deploys, read_stochastic
from genpo_ext.experiments.logs import (
    ACTION_STD_TAG,
    ENTROPY_COEF_TAG,
    NOISE_STD_TAG,
    RETURN_TAG,
    read_final_scalars,
)
from genpo_ext.experiments.report import write_csv
from genpo_ext.experiments.spec import CompareSpec
from genpo_ext.experiments.sweep import read_status

COLLAPSE_RATIO = 0.5
"""A deployed return below this fraction of the same run's sampled policy's return is a collapse (issue 21's rule;
stock PPO's runs stay above 0.75)."""

ZERO = "zero"
"""Deployed-action label of the zero latent (and of a Gaussian's mean)."""

REPORT_DEPLOYED_COLUMN = "deployed_return"
"""Column of a report's ``runs.csv`` with the deployed return of the zero latent."""

STUDY_DEPLOYED_PREFIX = "deployed:"
"""Prefix of a deploy study's per-run columns, one per deployed action (``deployed:mean16``)."""


@dataclasses.dataclass(frozen=True)
class StudyRun:
    """One finished run's figures."""

    task: str
    """Task id."""
    label: str
    """Configuration label."""
    seed: int
    """Training seed."""
    training_return: float
    """rsl_rl's mean training return at the last iteration."""
    deployed: dict[str, float]
    """Deployed return of the last checkpoint per deployed-action label."""
    stochastic_return: float
    """The sampled policy's return on the same complete episodes (NaN if not evaluated)."""
    action_std: float = math.nan
    """Env-action spread at the last iteration (NaN where not logged)."""
    noise_std: float = math.nan
    """Mean latent noise scale sigma at the last iteration (NaN for PPO or where not logged)."""
    entropy_coef: float = math.nan
    """Entropy coefficient at the last iteration (NaN for PPO or where not logged)."""
    recorded: bool = False
    """Whether the figures come from an earlier sweep's ``runs.csv`` instead of a run folder."""


def spec_runs(spec: CompareSpec) -> list[StudyRun]:
    """Return the figures of the spec's finished runs and of its recorded runs that no run folder replaced."""
    runs = []
    for variant in spec.variants:
        for seed in spec.seeds:
            run_dir = spec.run_dir(variant, seed)
            if read_status(run_dir) is None:
                continue
            scalars = read_final_scalars(run_dir, (RETURN_TAG, ACTION_STD_TAG, NOISE_STD_TAG, ENTROPY_COEF_TAG))
            stochastic = read_stochastic(spec, run_dir)
            runs.append(
                StudyRun(
                    task=spec.task,
                    label=variant.label,
                    seed=seed,
                    training_return=scalars[RETURN_TAG],
                    deployed=read_deploys(spec, run_dir),
                    stochastic_return=math.nan if stochastic is None else stochastic,
                    action_std=scalars[ACTION_STD_TAG],
                    noise_std=scalars[NOISE_STD_TAG],
                    entropy_coef=scalars[ENTROPY_COEF_TAG],
                )
            )
    finished = {(run.label, run.seed) for run in runs}
    runs += [run for run in recorded_runs(spec) if (run.label, run.seed) not in finished]
    # the tables list configurations in the order the spec names them (recorded labels first), each by seed
    recorded_labels = [label for label, _ in spec.recorded_runs.labels] if spec.recorded_runs is not None else []
    order = list(dict.fromkeys([*recorded_labels, *(variant.label for variant in spec.variants)]))
    return sorted(runs, key=lambda run: (order.index(run.label), run.seed))


def recorded_runs(spec: CompareSpec) -> list[StudyRun]:
    """Return the figures of the spec's recorded runs of its task, under the spec's labels.

    Raises:
        ValueError: If the file is neither a report's ``runs.csv`` nor a deploy study's ``<prefix>_runs.csv``.
    """
    recorded = spec.recorded_runs
    if recorded is None:
        return []
    labels = {algorithm: label for label, algorithm in recorded.labels}
    with open(recorded.path, newline="") as file:
        reader = csv.DictReader(file)
        columns = reader.fieldnames or []
        rows = [row for row in reader if row["task"] == spec.task and row["algorithm"] in labels]
    if REPORT_DEPLOYED_COLUMN in columns:
        read_row = _report_run
    elif any(column.startswith(STUDY_DEPLOYED_PREFIX) for column in columns):
        read_row = _study_run
    else:
        raise ValueError(
            f"{recorded.path}: recorded runs need a report's runs.csv (column {REPORT_DEPLOYED_COLUMN}) or a deploy "
            f"study's <prefix>_runs.csv (columns {STUDY_DEPLOYED_PREFIX}<deployed action>), got columns {columns}."
        )
    return [read_row(row, spec.task, labels[row["algorithm"]]) for row in rows]


def _report_run(row: dict[str, str], task: str, label: str) -> StudyRun:
    """A run as a report's ``runs.csv`` recorded it: the zero latent and the sampled policy."""
    return StudyRun(
        task=task,
        label=label,
        seed=int(row["seed"]),
        training_return=float(row["final_return"]),
        deployed={ZERO: float(row[REPORT_DEPLOYED_COLUMN])},
        stochastic_return=float(row["stochastic_return"]),
        recorded=True,
    )


def _study_run(row: dict[str, str], task: str, label: str) -> StudyRun:
    """A run as a deploy study's ``<prefix>_runs.csv`` recorded it: every deployed action it was scored with."""
    deployed = {
        column.removeprefix(STUDY_DEPLOYED_PREFIX): float(value)
        for column, value in row.items()
        if column.startswith(STUDY_DEPLOYED_PREFIX) and value and np.isfinite(float(value))
    }
    return StudyRun(
        task=task,
        label=label,
        seed=int(row["seed"]),
        training_return=float(row["training_return"]),
        deployed=deployed,
        stochastic_return=float(row["stochastic_return"]),
        action_std=float(row["action_std"]),
        noise_std=float(row["noise_std"]),
        entropy_coef=float(row["entropy_coef"]),
        recorded=True,
    )


def configuration_name(label: str, deploy: str, baseline: str) -> str:
    """Name of a (configuration, deployed action) in the tables; the baseline deploys its own mean."""
    return label if label == baseline else f"{label} [{deploy}]"


def study_returns(runs: list[StudyRun], baseline: str) -> FinalReturns:
    """Deployed returns by task, (configuration, deployed action) name and seed; the baseline with its ``zero``."""
    returns: FinalReturns = {}
    for run in runs:
        by_name = returns.setdefault(run.task, {})
        deploys = {ZERO: run.deployed[ZERO]} if run.label == baseline and ZERO in run.deployed else run.deployed
        # the zero latent first, then the others by label, however a run's source ordered them
        for deploy, value in sorted(deploys.items(), key=lambda item: (item[0] != ZERO, item[0])):
            if np.isfinite(value):
                by_name.setdefault(configuration_name(run.label, deploy, baseline), {})[run.seed] = value
    return returns


def collapse_columns(runs: list[StudyRun], name: str, baseline: str) -> dict[str, float | int]:
    """The lowest deployed / sampled ratio of a (configuration, deployed action)'s runs and its number of collapses."""
    ratios = [
        run.deployed[deploy] / run.stochastic_return
        for run in runs
        for deploy in run.deployed
        if configuration_name(run.label, deploy, baseline) == name and run.stochastic_return > 0
    ]
    return {
        "lowest_deployed_over_sampled": min(ratios) if ratios else math.nan,
        "collapses": sum(ratio < COLLAPSE_RATIO for ratio in ratios),
    }


def study_rows(runs: list[StudyRun], baseline: str, reference: str, required_seeds: int) -> list[dict]:
    """Cross-task rows of every (configuration, deployed action), with the collapse check and the verdict.

    Args:
        runs: Every run of the study.
        baseline: Label every return is divided by (PPO).
        reference: Name of the (configuration, deployed action) a candidate must beat, e.g.
            ``genpo_recommended_1202 [zero]``.
        required_seeds: Runs a candidate needs on every task to qualify (the study's seeds).
    """
    returns = study_returns(runs, baseline)
    rows = cross_task_rows(returns, baseline)
    by_name = {row["algorithm"]: row for row in rows}
    for row in rows:
        row |= collapse_columns(runs, str(row["algorithm"]), baseline)
    bar = by_name.get(reference)
    for row in rows:
        seeds = [row.get(f"{task}:seeds", 0) for task in returns]
        complete = np.isfinite(row["mean_ratio"]) and min(seeds) >= required_seeds
        beats = bar is not None and row["mean_ratio"] > bar["mean_ratio"] and row["iqm_ratio"] > bar["iqm_ratio"]
        row["qualifies"] = bool(complete and beats and row["collapses"] == 0 and row["algorithm"] != baseline)
    return rows


def run_rows(runs: list[StudyRun], deploys: tuple[str, ...]) -> list[dict]:
    """One row per run: every deployed action, the sampled policy, training return, spread, sigma, coefficient."""
    rows = []
    for run in runs:
        row = {"task": run.task, "algorithm": run.label, "seed": run.seed, "recorded": run.recorded}
        row |= {f"{STUDY_DEPLOYED_PREFIX}{deploy}": run.deployed.get(deploy, math.nan) for deploy in deploys}
        row |= {
            "stochastic_return": run.stochastic_return,
            "training_return": run.training_return,
            "action_std": run.action_std,
            "noise_std": run.noise_std,
            "entropy_coef": run.entropy_coef,
        }
        rows.append(row)
    return rows


def _number(value: float, digits: int = 1) -> str:
    """A figure with thousands separators, or an empty cell for NaN."""
    return "" if not np.isfinite(value) else f"{value:,.{digits}f}"


def study_markdown(rows: list[dict], tasks: list[str], reference: str, required_seeds: int) -> str:
    """The cross-task table: per task mean deployed return (ratio to the baseline), then the cross-task figures."""
    header = ["configuration [deployed action]", *tasks, "mean return / PPO [95% CI]", "IQM [95% CI]",
              "lowest deployed / sampled", "collapses", "qualifies"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [str(row["algorithm"])]
        for task in tasks:
            seeds = row[f"{task}:seeds"]
            cells.append(
                "" if not seeds else
                f"{_number(row[f'{task}:final_return_mean'])} ({row[f'{task}:return_ratio']:.2f}, {seeds})"
            )
        for name in ("mean_ratio", "iqm_ratio"):
            cells.append(
                "" if not np.isfinite(row[name]) else
                f"{row[name]:.2f} [{row[f'{name}_low']:.2f}, {row[f'{name}_high']:.2f}]"
            )
        cells += [_number(row["lowest_deployed_over_sampled"], 2), str(row["collapses"]),
                  "yes" if row["qualifies"] else ""]
        lines.append("| " + " | ".join(cells) + " |")
    legend = (
        f"Deployed return of the last checkpoint, mean over seeds per task (return / PPO's Gaussian mean, seeds); "
        f"across tasks the mean over tasks and the IQM over runs of return / PPO with 95% stratified-bootstrap "
        f"intervals (only for entries with runs on every task). Lowest deployed / sampled: the worst ratio of a run's "
        f"deployed return to its own sampled policy's on the same episodes; a collapse is below {COLLAPSE_RATIO}. "
        f"Qualifies: {required_seeds} seeds on every task, mean and IQM above {reference}'s, no collapse."
    )
    return legend + "\n\n" + "\n".join(lines) + "\n"


def runs_markdown(rows: list[dict], deploys: tuple[str, ...]) -> str:
    """The per-run table."""
    header = ["task", "configuration", "seed", *deploys, "sampled", "training", "env-action std", "sigma",
              "entropy coef"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["task"], row["algorithm"] + (" (recorded)" if row["recorded"] else ""), str(row["seed"])]
        cells += [_number(row[STUDY_DEPLOYED_PREFIX + deploy]) for deploy in deploys]
        cells += [_number(row["stochastic_return"]), _number(row["training_return"]), _number(row["action_std"], 2),
                  _number(row["noise_std"], 2), _number(row["entropy_coef"], 4)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_deploy_study(
    specs: list[CompareSpec], prefix: pathlib.Path, deploys: tuple[str, ...], baseline: str, reference: str
) -> list[dict]:
    """Write ``<prefix>.md``/``.csv`` (the cross-task table) and ``<prefix>_runs.md``/``.csv`` (every run).

    Args:
        specs: The study's specs (one or more per task).
        prefix: Path prefix of the files.
        deploys: Deployed-action labels of the per-run table's columns.
        baseline: Label of the baseline (PPO).
        reference: The (configuration, deployed action) a candidate must beat.

    Returns:
        The cross-task rows.
    """
    runs = [run for spec in specs for run in spec_runs(spec)]
    tasks = list(dict.fromkeys(spec.task for spec in specs))
    required_seeds = max(len(spec.seeds) for spec in specs)
    rows = study_rows(runs, baseline, reference, required_seeds)
    per_run = run_rows(runs, deploys)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    write_csv(rows, prefix.with_suffix(".csv"))
    prefix.with_suffix(".md").write_text(study_markdown(rows, tasks, reference, required_seeds))
    runs_prefix = prefix.with_name(prefix.name + "_runs")
    write_csv(per_run, runs_prefix.with_suffix(".csv"))
    runs_prefix.with_suffix(".md").write_text(runs_markdown(per_run, deploys))
    print(f"[compare] deploy study: {prefix.with_suffix('.md')} ({len(runs)} runs on {len(tasks)} tasks)")
    return rows
