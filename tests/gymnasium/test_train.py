"""``scripts/train.py`` on a gymnasium task, run as a subprocess like users and compare.py run it."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
TRAIN_SCRIPT = REPO_ROOT / "scripts" / "train.py"


def train(tmp_path: pathlib.Path, *extra: str) -> subprocess.CompletedProcess:
    """Run two tiny iterations of HalfCheetah-v5 training into ``tmp_path``."""
    command = [sys.executable, str(TRAIN_SCRIPT), "--task", "HalfCheetah-v5", "--num_envs", "4", "--max_iterations", "2"]
    command += ["--seed", "3", "--device", "cpu", "--log_dir", str(tmp_path), "agent.num_steps_per_env=8", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)


@pytest.mark.parametrize("algo", ["ppo", "genpo"])
def test_train_writes_events_checkpoints_and_params(tmp_path, algo):
    """Training logs tensorboard events, saves checkpoints and records the resolved config with the overrides."""
    result = train(tmp_path, "--algo", algo, "env.num_workers=0", "agent.algorithm.learning_rate=5e-4")
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(tmp_path.glob("events.out.tfevents.*"))
    assert (tmp_path / "model_1.pt").is_file()
    agent_cfg = yaml.safe_load((tmp_path / "params" / "agent.yaml").read_text())
    env_cfg = yaml.safe_load((tmp_path / "params" / "env.yaml").read_text())
    assert agent_cfg["algorithm"]["learning_rate"] == 5e-4
    assert agent_cfg["seed"] == 3 and env_cfg["num_envs"] == 4
    expected_class = {"ppo": "PPO", "genpo": "genpo_ext.algorithms:GenPO"}[algo]
    assert agent_cfg["algorithm"]["class_name"] == expected_class


def test_bad_override_fails_with_a_message(tmp_path):
    """A typo in an override stops the run before training, naming the problem."""
    result = train(tmp_path, "--algo", "ppo", "agent.algorithmm.learning_rate=1")
    assert result.returncode != 0
    assert "not a section" in result.stderr
