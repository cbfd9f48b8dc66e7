"""Comparison specs: which task, algorithms, seeds and budget a sweep runs, loaded from YAML and checked."""

from __future__ import annotations

import dataclasses
import math
import pathlib
import re

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
    """Finished runs of an earlier sweep whose run folders are gone, by the figures it recorded per run."""

    path: pathlib.Path
    """The ``runs.csv`` a report wrote (columns ``task``, ``algorithm``, ``seed``, ``final_return``,
    ``deployed_return``, ``stochastic_return``) or the ``<prefix>_runs.csv`` a deploy study wrote (a
    ``deployed:<deployed action>`` column each, ``stochastic_return``, ``training_return``, ``action_std``,
    ``noise_std``, ``entropy_coef``)."""
    labels: tuple[tuple[str, str], ...]
    """The spec's label of each recorded algorithm: ``(label, algorithm in the file)`` pairs (a tuple, so that a spec
    stays hashable)."""


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
    metrics: tuple[str, ...] = ()
    """Further scalars of the training logs (TensorBoard tags, e.g. IsaacLab's ``Episode_Reward/track_lin_vel_xy_exp``)
    whose value at each run's last iteration the report tables beside the returns."""
    archive_dir: pathlib.Path | None = None
    """Folder keeping a compact copy of every finished, evaluated run (:mod:`genpo_ext.experiments.run_archive`),
    from which a machine whose log folder lacks a run restores it; None keeps no copy."""

    @property
    def env_steps_per_iteration(self) -> int:
        """Transitions collected per learning iteration."""
        return self.num_envs * self.num_steps_per_env

    def run_dir(self, variant: Variant, seed: int) -> pathlib.Path:
        """Return the log folder of one run."""
        return self.log_root / variant.label / f"seed_{seed}"

    def archived_run_dir(self, variant: Variant, seed: int) -> pathlib.Path | None:
        """Return the archive's folder of one run, or None if the spec keeps no archive."""
        return None if self.archive_dir is None else self.archive_dir / variant.label / f"seed_{seed}"

    def variant(self, label: str) -> Variant:
        """Return the variant called ``label``."""
        return next(v for v in self.variants if v.label == label)


REQUIRED_KEYS = ("task", "algorithms", "seeds", "num_envs", "num_steps_per_env", "log_root", "output_dir")
OPTIONAL_KEYS = (
    "name",
    "baseline",
    "iterations",
    "env_steps",
    "device",
    "overrides",
    "eval_episodes",
    "recorded_runs",
    "deploys",
    "metrics",
    "archive_dir",
)

DEVICE_PATTERN = re.compile(r"cpu|cuda(:\d+)?")
"""Devices a spec may name: the CPU, the current CUDA device or a numbered one."""

OVERRIDE_PATTERN = re.compile(r"(env|agent)(\.[^.=\s]+)+=.*", re.DOTALL)
"""Shape of an override token: ``env.a.b=value`` or ``agent.a.b=value``."""

RESERVED_LABELS = (".", "..")
"""Folder names a label cannot be (it names its runs' folder)."""


class SpecError(ValueError):
    """A comparison spec that cannot run; the message names what is valid."""


def _positive_int(raw: dict, key: str) -> int:
    """Return ``raw[key]`` when it is an integer of at least 1.

    Raises:
        SpecError: Otherwise.
    """
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"'{key}' must be a whole number of at least 1, got {value!r}.")
    return value


def _parse_seeds(seeds) -> tuple[int, ...]:
    """Return the seeds: a non-empty list of distinct integers of at least 0.

    Raises:
        SpecError: Otherwise.
    """
    valid = isinstance(seeds, list) and seeds and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
    if not valid or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise SpecError(f"'seeds' must be a non-empty list of distinct whole numbers of at least 0, got {seeds!r}.")
    return tuple(seeds)


def _parse_overrides(where: str, overrides) -> tuple[str, ...]:
    """Return override tokens that have the shape ``env.a.b=value`` or ``agent.a.b=value``.

    Raises:
        SpecError: For a value that is no list of such tokens.
    """
    if not isinstance(overrides, list):
        raise SpecError(f"{where} must be a list of 'env.a.b=value' / 'agent.a.b=value' tokens, got {overrides!r}.")
    for token in overrides:
        if not isinstance(token, str) or not OVERRIDE_PATTERN.fullmatch(token):
            raise SpecError(f"{where}: '{token}' must look like 'env.a.b=value' or 'agent.a.b=value'.")
    return tuple(overrides)


def _parse_variants(algorithms: list | dict) -> tuple[Variant, ...]:
    """Parse ``algorithms``: a list of ``--algo`` values, or a mapping ``label: {algo, overrides}``.

    Raises:
        SpecError: For an unknown algorithm or key, a duplicate label or a label that cannot name a folder.
    """
    if isinstance(algorithms, list):
        if len(set(map(str, algorithms))) != len(algorithms):
            raise SpecError(f"'algorithms' lists a name twice: {algorithms}. Use a mapping 'label: {{algo: ...}}'.")
        algorithms = {algo: {"algo": algo} for algo in algorithms}
    if not isinstance(algorithms, dict) or not algorithms:
        raise SpecError(f"'algorithms' must be a list of {', '.join(ALGORITHMS)} or a mapping of labels to them.")
    variants = []
    for label, entry in algorithms.items():
        label = str(label)
        if not label or "/" in label or label in RESERVED_LABELS:
            raise SpecError(f"Algorithm label '{label}' cannot name a run folder: use letters, digits, '_', '-', '.'.")
        unknown = set(entry) - {"algo", "overrides"} if isinstance(entry, dict) else {"<not a mapping>"}
        if unknown:
            raise SpecError(f"Algorithm '{label}': unknown keys {sorted(unknown)}. Valid: algo, overrides.")
        if entry.get("algo") not in ALGORITHMS:
            valid = ", ".join(ALGORITHMS)
            raise SpecError(f"Algorithm '{label}': 'algo' must be one of {valid}, got {entry.get('algo')!r}.")
        overrides = _parse_overrides(f"Algorithm '{label}': 'overrides'", entry.get("overrides", []))
        variants.append(Variant(label, entry["algo"], overrides))
    return tuple(variants)


def _recorded_runs(recorded) -> RecordedRuns:
    """Return the ``recorded_runs`` entry: a ``path`` and a ``labels`` map of spec label to recorded algorithm.

    Raises:
        SpecError: For any other shape.
    """
    if not isinstance(recorded, dict) or set(recorded) != {"path", "labels"}:
        got = sorted(recorded) if isinstance(recorded, dict) else recorded
        raise SpecError(f"'recorded_runs' needs exactly the keys path and labels, got {got!r}.")
    labels = recorded["labels"]
    if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise SpecError(f"'recorded_runs.labels' must map spec labels to recorded algorithm names, got {labels!r}.")
    return RecordedRuns(pathlib.Path(recorded["path"]), tuple(labels.items()))


def _metrics(metrics) -> tuple[str, ...]:
    """Return the ``metrics`` entry: a list of distinct TensorBoard tags.

    Raises:
        SpecError: For anything else.
    """
    valid = isinstance(metrics, list) and all(isinstance(tag, str) and tag.strip() for tag in metrics)
    if not valid or len(set(metrics)) != len(metrics):
        raise SpecError(
            f"'metrics' must be a list of distinct TensorBoard tags of the training logs "
            f"(e.g. [Episode_Reward/track_lin_vel_xy_exp]), got {metrics!r}."
        )
    return tuple(metrics)


def _archive_dir(archive_dir) -> pathlib.Path:
    """Return the ``archive_dir`` entry: a folder path.

    Raises:
        SpecError: For anything but a non-empty string.
    """
    if not isinstance(archive_dir, str) or not archive_dir.strip():
        raise SpecError(f"'archive_dir' must be a folder path (e.g. results/h1/runs), got {archive_dir!r}.")
    return pathlib.Path(archive_dir)


def load_spec(path: str | pathlib.Path) -> CompareSpec:
    """Load and check a comparison spec: its keys, algorithms and labels, baseline, seeds, budget, device and the
    shape of its overrides (:mod:`genpo_ext.experiments.validation` checks the task and what the overrides name).

    Exactly one of ``iterations`` and ``env_steps`` sets the budget; ``env_steps`` is rounded up to whole
    iterations. Relative paths are relative to the current directory.

    Raises:
        SpecError: On an unreadable file, missing, unknown or inconsistent keys, or invalid values, naming the valid
            ones.
    """
    try:
        raw = yaml.safe_load(pathlib.Path(path).read_text())
    except OSError as error:
        raise SpecError(f"cannot read the spec: {error.strerror}.") from None
    except yaml.YAMLError as error:
        raise SpecError(f"not valid YAML: {str(error).splitlines()[0]}.") from None
    if not isinstance(raw, dict):
        raise SpecError(f"the spec must be a mapping of keys. Required: {', '.join(REQUIRED_KEYS)}.")
    missing = [key for key in REQUIRED_KEYS if key not in raw]
    unknown = [key for key in raw if key not in REQUIRED_KEYS + OPTIONAL_KEYS]
    if missing or unknown:
        raise SpecError(
            f"missing keys {missing}, unknown keys {unknown}. "
            f"Required: {', '.join(REQUIRED_KEYS)}; optional: {', '.join(OPTIONAL_KEYS)}."
        )
    if ("iterations" in raw) == ("env_steps" in raw):
        raise SpecError("set exactly one of 'iterations' and 'env_steps' (the budget).")
    variants = _parse_variants(raw["algorithms"])
    labels = [variant.label for variant in variants]
    baseline = raw.get("baseline", "ppo" if "ppo" in labels else labels[0])
    if baseline not in labels:
        raise SpecError(f"baseline '{baseline}' is not an algorithm label. Valid: {', '.join(labels)}.")
    recorded = raw.get("recorded_runs")
    deploys = tuple(raw.get("deploys", ()))
    for label in deploys:
        try:
            DeploySetting.from_label(label)
        except ValueError as error:
            raise SpecError(f"deploys: {error}") from None
    num_envs, num_steps_per_env = _positive_int(raw, "num_envs"), _positive_int(raw, "num_steps_per_env")
    budget_key = "iterations" if "iterations" in raw else "env_steps"
    budget = _positive_int(raw, budget_key)
    iterations = budget if budget_key == "iterations" else math.ceil(budget / (num_envs * num_steps_per_env))
    device = raw.get("device")
    if device is not None and not (isinstance(device, str) and DEVICE_PATTERN.fullmatch(device)):
        raise SpecError(f"'device' must be cpu, cuda or cuda:<index> (or absent: the backend chooses), got {device!r}.")
    return CompareSpec(
        name=str(raw.get("name", raw["task"])),
        task=str(raw["task"]),
        variants=variants,
        baseline=baseline,
        seeds=_parse_seeds(raw["seeds"]),
        num_envs=num_envs,
        num_steps_per_env=num_steps_per_env,
        iterations=iterations,
        device=device,
        overrides=_parse_overrides("'overrides'", raw.get("overrides", [])),
        log_root=pathlib.Path(raw["log_root"]),
        output_dir=pathlib.Path(raw["output_dir"]),
        eval_episodes=_positive_int(raw, "eval_episodes") if "eval_episodes" in raw else DEFAULT_EPISODES,
        recorded_runs=_recorded_runs(recorded) if recorded is not None else None,
        deploys=deploys,
        metrics=_metrics(raw["metrics"]) if "metrics" in raw else (),
        archive_dir=_archive_dir(raw["archive_dir"]) if "archive_dir" in raw else None,
    )
