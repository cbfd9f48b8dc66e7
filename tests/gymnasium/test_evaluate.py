"""``scripts/evaluate.py`` on gymnasium runs, as a subprocess like users and compare.py run it: exactly M complete
episodes, the same result twice, a trained policy well above a random one, and one ``[ERROR]`` line for a run folder
or checkpoint that cannot be evaluated."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from genpo_ext.evaluation.episodes import run_episodes
from genpo_ext.evaluation.records import DETERMINISTIC, STOCHASTIC, read_records
from genpo_ext.gymnasium_backend.vec_env import GymnasiumVecEnv

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts"
ERROR_PREFIX = "[ERROR] genpo_ext: "
EPISODES = 3
SHORT_EPISODES = "env.make_kwargs.max_episode_steps=5"
"""Five-step HalfCheetah episodes keep the evaluations of the tiny runs fast."""


def run(script: str, *args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    """Run one of the repository's scripts."""
    command = [sys.executable, str(SCRIPTS / script), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=cwd)


def train(run_dir: pathlib.Path, algo: str, *extra: str) -> pathlib.Path:
    """Train two tiny HalfCheetah iterations into ``run_dir`` and return it."""
    args = ["--task", "HalfCheetah-v5", "--algo", algo, "--num_envs", "4", "--max_iterations", "2", "--seed", "3"]
    args += ["--device", "cpu", "--log_dir", str(run_dir), "agent.num_steps_per_env=8", "env.num_workers=0", *extra]
    result = run("train.py", *args, cwd=run_dir.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


def evaluate(run_dir: pathlib.Path, *extra: str) -> subprocess.CompletedProcess:
    """Evaluate a run folder with :data:`EPISODES` episodes per checkpoint."""
    return run("evaluate.py", "--run_dir", str(run_dir), "--episodes", str(EPISODES), "--device", "cpu", *extra,
               cwd=run_dir.parent)


def error_line(result: subprocess.CompletedProcess) -> str:
    """Return the one ``[ERROR]`` line a failed evaluation ended with, after checking there was no traceback."""
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(errors) == 1, result.stderr[-3000:]
    return errors[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, pathlib.Path]:
    """Tiny PPO and GenPO runs on HalfCheetah with five-step episodes."""
    folder = tmp_path_factory.mktemp("runs")
    return {algo: train(folder / algo, algo, SHORT_EPISODES) for algo in ("ppo", "genpo")}


@pytest.mark.parametrize("algo", ["ppo", "genpo"])
def test_exactly_m_complete_episodes_the_same_twice(runs, algo):
    """The last checkpoint is evaluated over M five-step episodes; a second call gives the same numbers."""
    run_dir = runs[algo]
    first = evaluate(run_dir)
    assert first.returncode == 0, first.stderr[-3000:]
    (record,) = read_records(run_dir)
    assert (record.checkpoint, record.policy, record.episodes, record.mean_length) == (
        "model_1.pt", DETERMINISTIC, EPISODES, 5.0
    )
    assert np.isfinite(record.mean_return) and record.min_return <= record.mean_return <= record.max_return
    assert f"deterministic return {record.mean_return:.2f}" in first.stdout
    second = evaluate(run_dir)
    assert second.returncode == 0, second.stderr[-3000:]
    assert read_records(run_dir) == [record]


def test_every_checkpoint_and_the_stochastic_policy(runs, tmp_path):
    """--all_checkpoints records each checkpoint; --stochastic adds rows of its own mode; --missing_only skips what
    is recorded."""
    run_dir = tmp_path / "copy"
    shutil.copytree(runs["genpo"], run_dir)
    (run_dir / "eval.csv").unlink(missing_ok=True)
    assert evaluate(run_dir, "--all_checkpoints").returncode == 0
    assert evaluate(run_dir, "--stochastic").returncode == 0
    rows = [(r.checkpoint, r.policy) for r in read_records(run_dir)]
    assert rows == [("model_0.pt", DETERMINISTIC), ("model_1.pt", DETERMINISTIC), ("model_1.pt", STOCHASTIC)]
    skipped = evaluate(run_dir, "--all_checkpoints", "--missing_only")
    assert "evaluated already" in skipped.stdout and "[eval]" not in skipped.stdout


def test_a_trained_policy_deploys_far_above_a_random_one(tmp_path):
    """On InvertedPendulum a random policy drops the pole within a few steps; 25 PPO iterations balance it for
    hundreds (deterministic training: seed 1, envs stepped in-process)."""
    args = ["--task", "InvertedPendulum-v5", "--algo", "ppo", "--num_envs", "16", "--max_iterations", "25"]
    args += ["--seed", "1", "--device", "cpu", "--log_dir", str(tmp_path / "run"), "env.num_workers=0"]
    result = run("train.py", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert run("evaluate.py", "--run_dir", str(tmp_path / "run"), "--episodes", "8", cwd=tmp_path).returncode == 0
    (trained,) = read_records(tmp_path / "run")

    env = GymnasiumVecEnv("InvertedPendulum-v5", 8, num_workers=0, seed=10_000, device="cpu")
    generator = torch.Generator().manual_seed(0)
    random_policy = lambda obs: 6.0 * torch.rand(8, env.num_actions, generator=generator) - 3.0  # noqa: E731
    try:
        random_return = run_episodes(env, random_policy, max_steps=int(env.max_episode_length)).mean_return
    finally:
        env.close()
    assert trained.mean_return > 10 * random_return, (trained.mean_return, random_return)


def test_a_missing_run_folder_is_one_error_line(tmp_path):
    assert "does not exist" in error_line(evaluate(tmp_path / "nowhere"))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--task", "HalfCheetah-v9"], "Task 'HalfCheetah-v9' is neither an IsaacLab 3 nor a gymnasium task"),
        (["--task", "CartPole-v1"], "action space Discrete(2); GenPO and rsl_rl's PPO need continuous actions"),
        (["--episodes", "0"], "--episodes must be at least 1, got 0."),
        (["env_num_envs=3"], "overrides must look like 'env.a.b=value'."),
    ],
    ids=["unknown_task", "discrete_task", "no_episodes", "override"],
)
def test_a_mistaken_flag_is_one_error_line_naming_what_is_valid(runs, flags, message):
    """A task that does not exist or cannot be trained, too few episodes or a malformed override end the evaluation
    before it loads anything, in one ``[ERROR]`` line (an unknown task with its close matches)."""
    line = error_line(evaluate(runs["ppo"], *flags))
    assert message in line
    if "HalfCheetah-v9" in flags:
        assert "Close matches: HalfCheetah-v5" in line


def test_a_folder_without_checkpoints_is_one_error_line(runs, tmp_path):
    run_dir = tmp_path / "empty"
    shutil.copytree(runs["ppo"], run_dir, ignore=shutil.ignore_patterns("*.pt"))
    assert "holds no checkpoint" in error_line(evaluate(run_dir))


def test_an_unknown_checkpoint_names_the_ones_there(runs):
    line = error_line(evaluate(runs["ppo"], "--checkpoint", "model_7.pt"))
    assert "'model_7.pt' is not in" in line and "model_0.pt, model_1.pt" in line


def test_a_truncated_checkpoint_is_skipped_unless_named(runs, tmp_path):
    """A checkpoint cut short (a kill or a full disk during the save): by default the newest intact one is evaluated
    with a warning naming the broken file; named explicitly, it is one error line naming it."""
    run_dir = tmp_path / "truncated"
    shutil.copytree(runs["ppo"], run_dir)
    (run_dir / "eval.csv").unlink(missing_ok=True)
    checkpoint = run_dir / "model_1.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    fallback = evaluate(run_dir)
    assert fallback.returncode == 0, fallback.stderr[-3000:]
    assert f"checkpoint {checkpoint} is broken" in fallback.stderr
    assert [record.checkpoint for record in read_records(run_dir)] == ["model_0.pt"]
    line = error_line(evaluate(run_dir, "--checkpoint", "model_1.pt"))
    assert f"cannot load checkpoint {checkpoint}: it is broken" in line


def test_a_checkpoint_of_another_agent_is_one_error_line(runs, tmp_path):
    """A GenPO checkpoint in a PPO run folder does not fit the run's agent."""
    run_dir = tmp_path / "mixed"
    shutil.copytree(runs["ppo"], run_dir)
    shutil.copy(runs["genpo"] / "model_1.pt", run_dir / "model_1.pt")
    assert "cannot load checkpoint" in error_line(evaluate(run_dir))
