"""The deployed policy of a sweep's runs: each finished run's checkpoints evaluated with ``scripts/evaluate.py``
(deterministic policy, the spec's number of episodes, the common evaluation seed), its last checkpoint also with the
sampled training policy on the same complete episodes and, for a GenPO run, with every deployed action the spec
names (``deploys``), and the returns it recorded."""

from __future__ import annotations

import dataclasses
import pathlib
import subprocess
import sys
import time

import numpy as np

from genpo_ext.evaluation.deploy import DeploySetting, genpo_model_cfg
from genpo_ext.evaluation.records import (
    DEFAULT_SEED,
    DETERMINISTIC,
    STOCHASTIC,
    checkpoint_iteration,
    list_checkpoints,
    read_records,
    unevaluated,
)
from genpo_ext.evaluation.run_folder import AGENT_CFG_FILE, load_params_yaml
from genpo_ext.experiments.spec import CompareSpec
from genpo_ext.gymnasium_backend import is_gymnasium_task

EVAL_LOG_FILE = "eval.log"
"""Captured output of the evaluations of a run, inside the run folder (appended to by each evaluation)."""

ENV_OVERRIDE_PREFIX = "env."
"""Prefix of the overrides that change an IsaacLab env config, which the evaluation must apply too."""


@dataclasses.dataclass
class DeployedCurve:
    """The deployed policy's mean return at each evaluated checkpoint of a run."""

    iterations: np.ndarray
    """Iterations the checkpoints were saved after (0-based), increasing."""
    returns: np.ndarray
    """Mean return of the deterministic policy over the spec's episodes at each checkpoint."""
    lengths: np.ndarray
    """Mean length [env steps] of the same episodes at each checkpoint."""

    @property
    def final_return(self) -> float:
        """Deployed return of the last evaluated checkpoint."""
        return float(self.returns[-1])

    @property
    def final_length(self) -> float:
        """Mean deployed episode length at the last evaluated checkpoint."""
        return float(self.lengths[-1])


def run_agent_cfg(run_dir: pathlib.Path) -> dict:
    """The run's agent config, or an empty one for a run folder that records none (its policy deploys ``zero``)."""
    path = run_dir / AGENT_CFG_FILE
    return load_params_yaml(path) if path.is_file() else {}


def own_deploy(run_dir: pathlib.Path) -> str:
    """Label of the deployed action the run's own config builds (``zero`` for PPO and GenPO's default)."""
    return DeploySetting.of_agent(run_agent_cfg(run_dir)).label


def missing_checkpoints(spec: CompareSpec, run_dir: pathlib.Path) -> list[pathlib.Path]:
    """Return the run's checkpoints that have no deterministic evaluation of its own deployed action with the spec's
    episodes and seed."""
    records = read_records(run_dir)
    return unevaluated(
        list_checkpoints(run_dir), records, DETERMINISTIC, spec.eval_episodes, DEFAULT_SEED, own_deploy(run_dir)
    )


def missing_deploys(spec: CompareSpec, run_dir: pathlib.Path) -> list[str]:
    """Return the deployed actions of the spec's ``deploys`` that a GenPO run's last checkpoint was not scored with
    (none for another policy)."""
    checkpoints = list_checkpoints(run_dir)
    if not spec.deploys or not checkpoints or genpo_model_cfg(run_agent_cfg(run_dir)) is None:
        return []
    scored = read_deploys(spec, run_dir)
    return [label for label in spec.deploys if label not in scored]


def missing_stochastic(spec: CompareSpec, run_dir: pathlib.Path) -> bool:
    """Return whether the run's last checkpoint lacks a stochastic evaluation with the spec's episodes and seed."""
    return bool(list_checkpoints(run_dir)) and read_stochastic(spec, run_dir) is None


def evaluation_command(
    spec: CompareSpec,
    run_dir: pathlib.Path,
    overrides: tuple[str, ...],
    script: pathlib.Path,
    policy: str = DETERMINISTIC,
    deploys: list[str] | None = None,
) -> list[str]:
    """Return the ``scripts/evaluate.py`` command that evaluates a run's unevaluated checkpoints.

    Args:
        spec: The sweep.
        run_dir: The run folder.
        overrides: The run's override tokens; its ``env.*`` tokens apply to an IsaacLab task's evaluation envs.
        script: Path of ``scripts/evaluate.py``.
        policy: ``deterministic`` evaluates every checkpoint; ``stochastic`` the last one with the sampled policy.
        deploys: Deployed actions to score on the last checkpoint instead (deterministic policy).
    """
    command = [sys.executable, str(script), "--run_dir", str(run_dir), "--task", spec.task]
    if deploys:
        command += ["--deploy", *deploys]
    else:
        command += ["--all_checkpoints"] if policy == DETERMINISTIC else ["--stochastic"]
    command += ["--missing_only", "--episodes", str(spec.eval_episodes), "--seed", str(DEFAULT_SEED)]
    if spec.device is not None:
        command += ["--device", spec.device]
    if not is_gymnasium_task(spec.task):
        command += [token for token in overrides if token.startswith(ENV_OVERRIDE_PREFIX)]
    return command


def evaluate_run(spec: CompareSpec, run_dir: pathlib.Path, overrides: tuple[str, ...], script: pathlib.Path) -> bool:
    """Evaluate a finished run's unevaluated checkpoints with the deterministic policy, its last checkpoint with the
    stochastic one and (GenPO) with every deployed action of the spec's ``deploys``, appending the output to the
    run's ``eval.log``.

    Returns:
        Whether every checkpoint of the run, and the last one stochastically and in every deployed action, is
        evaluated afterwards.
    """
    missing = missing_checkpoints(spec, run_dir)
    deploys = missing_deploys(spec, run_dir)
    commands = [evaluation_command(spec, run_dir, overrides, script, DETERMINISTIC)] if missing else []
    if missing_stochastic(spec, run_dir):
        commands.append(evaluation_command(spec, run_dir, overrides, script, STOCHASTIC))
    if deploys:
        commands.append(evaluation_command(spec, run_dir, overrides, script, deploys=deploys))
    if not commands:
        return True
    extra = [f"the last one {part}" for part, todo in (("stochastically", missing_stochastic(spec, run_dir)),
                                                       (f"as {', '.join(deploys)}", deploys)) if todo]
    print(f"[compare]   evaluating {len(missing)} checkpoint(s) of {run_dir}"
          f"{''.join(f' and {part}' for part in extra)}, output in {run_dir / EVAL_LOG_FILE}", flush=True)
    start = time.monotonic()
    returncode = 0
    with open(run_dir / EVAL_LOG_FILE, "a") as log:
        for command in commands:
            log.write(" ".join(command) + "\n")
            log.flush()
            returncode = returncode or subprocess.run(command, stdout=log, stderr=subprocess.STDOUT).returncode
    curve = read_deployed(spec, run_dir)
    if returncode != 0 or curve is None:
        print(f"[compare]   evaluation FAILED (exit code {returncode}); see {run_dir / EVAL_LOG_FILE}", flush=True)
        return False
    stochastic = read_stochastic(spec, run_dir)
    print(f"[compare]   deployed return {curve.final_return:.1f} at iteration {curve.iterations[-1]}"
          f"{'' if stochastic is None else f', stochastic {stochastic:.1f}'} "
          f"({(time.monotonic() - start) / 60:.1f} min)", flush=True)
    complete = not missing_checkpoints(spec, run_dir) and not missing_stochastic(spec, run_dir)
    return complete and not missing_deploys(spec, run_dir)


def read_deployed(spec: CompareSpec, run_dir: pathlib.Path) -> DeployedCurve | None:
    """Return the deployed returns a run's ``eval.csv`` records with the spec's episodes and seed, or None if the
    run's last checkpoint has none (a run is compared by its last checkpoint)."""
    checkpoints = list_checkpoints(run_dir)
    wanted = (DETERMINISTIC, spec.eval_episodes, DEFAULT_SEED, own_deploy(run_dir))
    records = {
        record.iteration: record
        for record in read_records(run_dir)
        if (record.policy, record.episodes, record.seed, record.deploy) == wanted
    }
    if not checkpoints or checkpoint_iteration(checkpoints[-1]) not in records:
        return None
    iterations = np.array(sorted(records), dtype=int)
    returns = np.array([records[iteration].mean_return for iteration in iterations])
    return DeployedCurve(iterations, returns, np.array([records[iteration].mean_length for iteration in iterations]))


def read_stochastic(spec: CompareSpec, run_dir: pathlib.Path) -> float | None:
    """Return the mean return of the sampled training policy over complete episodes at the run's last checkpoint,
    with the spec's episodes and seed, or None if it was not evaluated."""
    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        return None
    target = (checkpoints[-1].name, STOCHASTIC, spec.eval_episodes, DEFAULT_SEED)
    return next(
        (r.mean_return for r in read_records(run_dir) if (r.checkpoint, r.policy, r.episodes, r.seed) == target), None
    )


def read_deploys(spec: CompareSpec, run_dir: pathlib.Path) -> dict[str, float]:
    """Return the mean return of each deployed action scored on the run's last checkpoint with the spec's episodes
    and seed, by label (a PPO run has ``zero``, its Gaussian's mean)."""
    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        return {}
    target = (checkpoints[-1].name, DETERMINISTIC, spec.eval_episodes, DEFAULT_SEED)
    return {
        r.deploy: r.mean_return
        for r in read_records(run_dir)
        if (r.checkpoint, r.policy, r.episodes, r.seed) == target
    }
