"""``scripts/train.py`` on a gymnasium task, run as a subprocess like users and compare.py run it, and how it ends
on a config mistake."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from genpo_ext.gymnasium_backend.errors import ConfigError
from genpo_ext.gymnasium_backend.train import find_checkpoint
from genpo_ext.gymnasium_backend.train import main as backend_main
from genpo_ext.presets import GENPO_PRESETS

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
TRAIN_SCRIPT = REPO_ROOT / "scripts" / "train.py"
ERROR_PREFIX = "[ERROR] genpo_ext: "
"""Start of the one line that ends a run on a configuration mistake."""


def train(tmp_path: pathlib.Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run two tiny iterations of HalfCheetah-v5 training into ``tmp_path`` (in the environment ``env``)."""
    command = [sys.executable, str(TRAIN_SCRIPT), "--task", "HalfCheetah-v5", "--num_envs", "4", "--max_iterations", "2"]
    command += ["--seed", "3", "--device", "cpu", "--log_dir", str(tmp_path), "agent.num_steps_per_env=8", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)


def error_line(result: subprocess.CompletedProcess) -> str:
    """Return the one ``[ERROR]`` line that a run ended with, after checking that it failed without a traceback."""
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr[-3000:]
    return errors[0]


@pytest.mark.parametrize("algo", ["ppo", "genpo", "genpo_recommended"])
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
    expected_class = "PPO" if algo == "ppo" else "genpo_ext.algorithms:GenPO"
    assert agent_cfg["algorithm"]["class_name"] == expected_class
    if algo in GENPO_PRESETS:
        preset = GENPO_PRESETS[algo]
        assert preset.actor.items() <= agent_cfg["actor"].items()
        assert preset.algorithm.items() <= agent_cfg["algorithm"].items()


def test_unknown_algo_names_the_choices(tmp_path):
    """A misspelt ``--algo`` stops the run before training, naming every choice."""
    result = train(tmp_path, "--algo", "genpo_recomended")
    assert result.returncode == 2
    # Python versions differ in quoting the choices
    message = result.stderr.replace("'", "")
    assert "invalid choice: genpo_recomended (choose from genpo, genpo_recommended, ppo)" in message


def test_bad_override_fails_with_a_message(tmp_path):
    """A typo in an override stops the run before training, naming the problem."""
    result = train(tmp_path, "--algo", "ppo", "agent.algorithmm.learning_rate=1")
    assert "'agent.algorithmm' is not a section. Valid: obs_groups, actor, critic, algorithm." in error_line(result)


def test_misspelt_agent_key_names_the_valid_keys(tmp_path):
    """A key that the actor's class does not take ends the run naming the key and the class's valid keys."""
    line = error_line(train(tmp_path, "agent.actor.mixing_cof=0.5"))
    message = "Unknown key 'agent.actor.mixing_cof' for genpo_ext.models:GenPOActor. Valid: "
    assert line.startswith(f"{ERROR_PREFIX}{message}")
    assert "mixing_coef" in line.partition(" Valid: ")[2].rstrip(".").split(", ")


def test_invalid_value_reports_the_librarys_message(tmp_path):
    """A value the model rejects (a mixing coefficient outside (0, 1]) ends the run with the model's message."""
    line = error_line(train(tmp_path, "agent.actor.mixing_coef=1.5"))
    assert line.startswith(f"{ERROR_PREFIX}Invalid agent config: ") and "1.5" in line


def test_resume_without_a_run_names_the_folder_searched(tmp_path):
    """``--resume`` with nothing to resume from names the experiment folder and how to pick a run."""
    line = error_line(train(tmp_path, "--resume"))
    experiment_dir = tmp_path.resolve() / "logs" / "rsl_rl" / "HalfCheetah-v5_genpo"
    assert f"--resume: no run folder in {experiment_dir} to resume from." in line
    assert "--load_run" in line and "None" not in line


def test_find_checkpoint_lists_runs_and_how_to_pick_a_checkpoint(tmp_path):
    """A ``--load_run`` that matches nothing lists the latest runs; a run without checkpoints says how to pick one;
    otherwise the latest checkpoint of the latest matching run is found."""
    for run in ("2024-01-01_seed1", "2024-01-02_seed1", "2024-01-03_seed2"):
        (tmp_path / run).mkdir()
    (tmp_path / "2024-01-02_seed1" / "model_10.pt").touch()
    (tmp_path / "2024-01-02_seed1" / "model_9.pt").touch()
    with pytest.raises(ConfigError, match="--load_run '2025.*' matches no run folder in .* Latest runs: 2024-01-01"):
        find_checkpoint(tmp_path, "2025.*", None)
    with pytest.raises(ConfigError, match=r"No checkpoint matching .* in .*2024-01-03_seed2\. Pick a file with"):
        find_checkpoint(tmp_path, None, None)
    with pytest.raises(ConfigError, match="--load_run '\\[' is not a valid regex"):
        find_checkpoint(tmp_path, "[", None)
    assert find_checkpoint(tmp_path, ".*seed1", None) == tmp_path / "2024-01-02_seed1" / "model_10.pt"


def test_config_mistake_closes_the_env_workers(tmp_path, monkeypatch):
    """A mistake found while building the runner, after the env workers started, still closes them."""
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(
        task="HalfCheetah-v5", algo="genpo", num_envs=4, max_iterations=1, seed=1, device="cpu", log_dir=str(tmp_path),
        logger=None, resume=False, load_run=None, checkpoint=None,
    )  # fmt: skip
    overrides = ["env.num_workers=2", "agent.torch_threads=null", "agent.actor.mixing_coef=1.5"]
    children_before = set(multiprocessing.active_children())
    with pytest.raises(SystemExit, match="Invalid agent config"):
        backend_main(args, overrides)
    assert set(multiprocessing.active_children()) <= children_before


def test_wandb_logger_writes_an_offline_run_into_the_log_dir(tmp_path):
    """``--logger wandb`` works out of the box: rsl_rl's W&B writer logs the run, offline, into the run's log dir,
    to a project named after the experiment."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WANDB_")} | {"WANDB_MODE": "offline"}
    result = train(tmp_path, "--algo", "ppo", "env.num_workers=0", "--logger", "wandb", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    (run_dir,) = (tmp_path / "wandb").glob("offline-run-*")
    (run_log,) = run_dir.glob("run-*.wandb")
    # the run log is a sequence of uncompressed protobuf records: the run's project, config and history keys
    records = run_log.read_bytes()
    for text in ("HalfCheetah-v5_ppo", "env_cfg", "train_cfg", "Loss/learning_rate"):
        assert text.encode() in records, text
    assert (run_dir / "files" / "model_1.pt").is_file()
    assert yaml.safe_load((tmp_path / "params" / "agent.yaml").read_text())["wandb_project"] == "HalfCheetah-v5_ppo"
