"""The evaluation records of a run folder: one row of ``eval.csv`` per (checkpoint, policy), and the checkpoints."""

from __future__ import annotations

import csv
import dataclasses
import pathlib
import re

EVAL_FILE = "eval.csv"
"""File in the run folder that holds the evaluation records."""

CHECKPOINT_NAME = re.compile(r"model_(?P<iteration>\d+)\.pt")
"""rsl_rl's checkpoint file name: ``model_<iteration>.pt``, saved after that (0-based) iteration's update."""

DETERMINISTIC = "deterministic"
"""Policy mode of the deployed policy: the Gaussian's mean for PPO, the zero latent pushed through the flow for GenPO."""

STOCHASTIC = "stochastic"
"""Policy mode of the training policy: sampled actions, as in the rollouts."""

POLICY_MODES = (DETERMINISTIC, STOCHASTIC)
"""Valid policy modes."""

NOT_DEPLOYED = "-"
"""Deployed-action label of the sampled policy's records."""

DEFAULT_EPISODES = 16
"""Complete episodes per checkpoint: the standard error of a MuJoCo mean return is then about a quarter of the
episodes' spread, below the spread between seeds that the comparisons are about."""

DEFAULT_SEED = 10_000
"""Seed of the evaluation envs: far from the training seeds (small integers, and ``seed + i`` for the i-th training
env), and the same for every run, so that all algorithms face the same start states."""


@dataclasses.dataclass(frozen=True)
class EvalRecord:
    """The evaluation of one checkpoint with one policy mode."""

    checkpoint: str
    """Checkpoint file name inside the run folder."""
    iteration: int
    """Iteration the checkpoint was saved after (0-based)."""
    policy: str
    """One of :data:`POLICY_MODES`."""
    episodes: int
    """Complete episodes averaged."""
    seed: int
    """Seed of the evaluation envs (environment ``i`` starts from ``seed + i`` where the backend seeds per env)."""
    mean_return: float
    """Mean undiscounted return of the episodes."""
    std_return: float
    """Sample standard deviation of the returns."""
    min_return: float
    """Lowest return."""
    max_return: float
    """Highest return."""
    mean_length: float
    """Mean episode length in env steps."""
    deploy: str = "zero"
    """Deployed action of a deterministic record (:mod:`genpo_ext.evaluation.deploy` label: ``zero`` for the zero
    latent or a Gaussian's mean, ``mean16``, ``likeliest16``, ...); ``-`` for the sampled policy."""

    @property
    def key(self) -> tuple[str, str, str]:
        """What a newer record of the same run replaces: the checkpoint, the policy mode and the deployed action."""
        return self.checkpoint, self.policy, self.deploy


FIELDS = tuple(field.name for field in dataclasses.fields(EvalRecord))
"""Columns of ``eval.csv``."""


def checkpoint_iteration(path: str | pathlib.Path) -> int:
    """Return the iteration in an rsl_rl checkpoint file name.

    Raises:
        ValueError: If the name is not ``model_<iteration>.pt``.
    """
    match = CHECKPOINT_NAME.fullmatch(pathlib.Path(path).name)
    if match is None:
        raise ValueError(f"'{pathlib.Path(path).name}' is not an rsl_rl checkpoint name (model_<iteration>.pt).")
    return int(match["iteration"])


def list_checkpoints(run_dir: str | pathlib.Path) -> list[pathlib.Path]:
    """Return the run folder's rsl_rl checkpoints, oldest iteration first."""
    paths = [path for path in pathlib.Path(run_dir).glob("model_*.pt") if CHECKPOINT_NAME.fullmatch(path.name)]
    return sorted(paths, key=checkpoint_iteration)


def read_records(run_dir: str | pathlib.Path) -> list[EvalRecord]:
    """Return the records of the run folder's ``eval.csv`` (none if it has no such file)."""
    path = pathlib.Path(run_dir) / EVAL_FILE
    if not path.is_file():
        return []
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    types = {field.name: field.type for field in dataclasses.fields(EvalRecord)}
    casts = {"str": str, "int": int, "float": float}
    # files written before deployed actions were recorded hold the zero latent's (or a Gaussian's mean) only
    for row in rows:
        row.setdefault("deploy", "zero" if row["policy"] == DETERMINISTIC else NOT_DEPLOYED)
    return [EvalRecord(**{name: casts[types[name]](row[name]) for name in FIELDS}) for row in rows]


def unevaluated(
    checkpoints: list[pathlib.Path],
    records: list[EvalRecord],
    policy: str,
    episodes: int,
    seed: int,
    deploy: str,
) -> list[pathlib.Path]:
    """Return the checkpoints without a record of this policy mode, number of episodes, seed and deployed action."""
    wanted = (policy, episodes, seed, deploy)
    done = {r.checkpoint for r in records if (r.policy, r.episodes, r.seed, r.deploy) == wanted}
    return [checkpoint for checkpoint in checkpoints if checkpoint.name not in done]


def write_records(run_dir: str | pathlib.Path, records: list[EvalRecord]) -> pathlib.Path:
    """Add records to the run folder's ``eval.csv``, replacing older ones of the same checkpoint and policy mode.

    Returns:
        The path of ``eval.csv``.
    """
    new_keys = {record.key for record in records}
    kept = [record for record in read_records(run_dir) if record.key not in new_keys]
    merged = sorted(kept + list(records), key=lambda record: (record.iteration, record.policy, record.deploy))
    path = pathlib.Path(run_dir) / EVAL_FILE
    temporary = path.with_suffix(".csv.tmp")
    with open(temporary, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(dataclasses.asdict(record) for record in merged)
    temporary.replace(path)  # a crash mid-write never leaves a truncated eval.csv
    return path
