"""Comparison specs: which task, algorithms, seeds and budget a sweep runs, loaded from YAML."""

from __future__ import annotations

import dataclasses
import math
import pathlib

import yaml

from genpo_ext.evaluation.deploy import DeploySetting
from genpo_ext.evaluation.records import DEFAULT_EPISODES
from genpo_ext.presets import ALGORITHMS


@dataclasses.dataclass(frozen=True)
class Variant:
    """One algorithm configuration of a sweep."""

    label: str
    """Name in plots, tables and run folders (e.g. ``genpo``, ``genpo_recommended`` or ``genpo_p0.95``)."""
    algo: str
    """``--algo`` passed to ``scripts/train.py``: one of :data:`genpo_ext.presets.ALGORITHMS`."""
    overrides: tuple[str, ...] = ()
    """Extra ``env.*``/``agent.*`` tokens for this variant only."""


@dataclasses.dataclass(frozen=True)
class RecordedRuns:
    """Finished runs of an earlier sweep whose run folders are gone, by the figures its ``runs.csv`` recorded."""

    path: pathlib.Path
    """The ``runs.csv`` a report wrote (columns ``task``, ``algorithm``, ``seed``, ``final_return``,
    ``deployed_return``, ``stochastic_return``)."""
    labels: dict[str, str]
    """The spec's label of each recorded algorithm: ``{label: algorithm in the file}``."""


@dataclasses.dataclass(frozen=True)
class CompareSpec:
    """A sweep over every (variant, seed) of one task; see ``config/compare_*.yaml`` for examples."""

    name: str
    """Title of the plots and tables."""
    task: str
    """Task id for ``scripts/train.py --task`` (gymnasium or IsaacLab)."""
    variants: tuple[Variant, ...]
    """Algorithm configurations to compare."""
    baseline: str
    """Label of the variant the ratios divide by."""
    seeds: tuple[int, ...]
    """Seeds every variant runs with."""
    num_envs: int
    """Parallel envs of every run."""
    num_steps_per_env: int
    """Rollout length per env and iteration of every run (passed as ``agent.num_steps_per_env``)."""
    iterations: int
    """Learning iterations of every run."""
    device: str | None
    """``--device`` of every run; None leaves the choice to the training backend."""
    overrides: tuple[str, ...]
    """``env.*``/``agent.*`` tokens for every run."""
    log_root: pathlib.Path
    """Folder holding one run folder per (variant, seed)."""
    output_dir: pathlib.Path
    """Folder receiving the plot and the tables."""
    eval_episodes: int = DEFAULT_EPISODES
    """Complete episodes per checkpoint of the deployed-policy evaluation (``scripts/evaluate.py --episodes``)."""
    recorded_runs: RecordedRuns | None = None
    """Runs of an earlier sweep that studies (``scripts/compare.py --deploy_study``) count beside this spec's own."""
    deploys: tuple[str, ...] = ()
    """Deployed actions (:mod:`genpo_ext.evaluation.deploy` labels, e.g. ``mean16``) the last checkpoint of every GenPO
    run is also scored with, beside the one its config builds."""

    @property
    def env_steps_per_iteration(self) -> int:
        """Transitions collected per learning iteration."""
        return self.num_envs * self.num_steps_per_env

    def run_dir(self, variant: Variant, seed: int) -> pathlib.Path:
        """Return the log folder of one run."""
        return self.log_root / variant.label / f"seed_{seed}"

    def variant(self, label: str) -> Variant:
        """Return the variant called ``label``."""
        return next(v for v in self.variants if v.label == label)


REQUIRED_KEYS = ("task", "algorithms", "seeds", "num_envs", "num_steps_per_env", "log_root", "output_dir")
OPTIONAL_KEYS = (
    "name", "baseline", "iterations", "env_steps", "device", "overrides", "eval_episodes", "recorded_runs", "deploys"
)


def _parse_variants(algorithms: list | dict) -> tuple[Variant, ...]:
    """Parse ``algorithms``: a list of ``--algo`` values, or a mapping ``label: {algo, overrides}``."""
    if isinstance(algorithms, list):
        algorithms = {algo: {"algo": algo} for algo in algorithms}
    variants = []
    for label, entry in algorithms.items():
        unknown = set(entry) - {"algo", "overrides"}
        if unknown:
            raise ValueError(f"Algorithm '{label}': unknown keys {sorted(unknown)}. Valid: algo, overrides.")
        if entry.get("algo") not in ALGORITHMS:
            raise ValueError(f"Algorithm '{label}': 'algo' must be one of {', '.join(ALGORITHMS)}.")
        variants.append(Variant(str(label), entry["algo"], tuple(entry.get("overrides", ()))))
    return tuple(variants)


def load_spec(path: str | pathlib.Path) -> CompareSpec:
    """Load and validate a comparison spec.

    Exactly one of ``iterations`` and ``env_steps`` sets the budget; ``env_steps`` is rounded up to whole
    iterations. Relative paths are relative to the current directory.

    Raises:
        ValueError: On missing, unknown or inconsistent keys, naming the valid ones.
    """
    raw = yaml.safe_load(pathlib.Path(path).read_text())
    missing = [key for key in REQUIRED_KEYS if key not in raw]
    unknown = [key for key in raw if key not in REQUIRED_KEYS + OPTIONAL_KEYS]
    if missing or unknown:
        raise ValueError(
            f"Spec {path}: missing keys {missing}, unknown keys {unknown}. "
            f"Required: {', '.join(REQUIRED_KEYS)}; optional: {', '.join(OPTIONAL_KEYS)}."
        )
    if ("iterations" in raw) == ("env_steps" in raw):
        raise ValueError(f"Spec {path}: set exactly one of 'iterations' and 'env_steps'.")
    variants = _parse_variants(raw["algorithms"])
    labels = [variant.label for variant in variants]
    baseline = raw.get("baseline", "ppo" if "ppo" in labels else labels[0])
    if baseline not in labels:
        raise ValueError(f"Spec {path}: baseline '{baseline}' is not an algorithm label. Valid: {', '.join(labels)}.")
    recorded = raw.get("recorded_runs")
    if recorded is not None and set(recorded) != {"path", "labels"}:
        raise ValueError(f"Spec {path}: 'recorded_runs' needs exactly the keys path and labels, got {sorted(recorded)}.")
    deploys = tuple(raw.get("deploys", ()))
    for label in deploys:
        try:
            DeploySetting.from_label(label)
        except ValueError as error:
            raise ValueError(f"Spec {path}: deploys: {error}") from None
    steps_per_iteration = raw["num_envs"] * raw["num_steps_per_env"]
    iterations = raw.get("iterations") or math.ceil(raw["env_steps"] / steps_per_iteration)
    return CompareSpec(
        name=raw.get("name", raw["task"]),
        task=raw["task"],
        variants=variants,
        baseline=baseline,
        seeds=tuple(raw["seeds"]),
        num_envs=raw["num_envs"],
        num_steps_per_env=raw["num_steps_per_env"],
        iterations=int(iterations),
        device=raw.get("device"),
        overrides=tuple(raw.get("overrides", ())),
        log_root=pathlib.Path(raw["log_root"]),
        output_dir=pathlib.Path(raw["output_dir"]),
        eval_episodes=int(raw.get("eval_episodes", DEFAULT_EPISODES)),
        recorded_runs=None if recorded is None else RecordedRuns(pathlib.Path(recorded["path"]), dict(recorded["labels"])),
        deploys=deploys,
    )
