"""Real IsaacLab environments on the CPU, kit-less: GenPO trains through ``scripts/train.py`` and through the
``isaaclab`` CLI, ``--algo ppo`` runs the stock config, training resumes, and play loads and exports the policy; a
checkpoint saved on a GPU resumes and plays here, and play skips a checkpoint whose save was cut short.

Each test starts a simulation (about a minute on a CPU once warp's kernels are cached); deselect them with
``-m "not isaaclab_sim"``.
"""

from __future__ import annotations

import pathlib
import shutil
import sys

import numpy as np
import pytest
import yaml

from genpo_ext.evaluation.records import read_records
import short_runs
from short_runs import agent_params
from checkpoint_files import resave_as_saved_on_gpu, truncate

pytestmark = pytest.mark.isaaclab_sim

NUM_ENVS = "8"
NUM_ITERATIONS = "2"
FINAL_CHECKPOINT = f"model_{int(NUM_ITERATIONS) - 1}.pt"
GENPO_ALGORITHM = "genpo_ext.algorithms:GenPO"
GENPO_ACTOR = "genpo_ext.models:GenPOActor"
SHORT_EPISODES = "env.episode_length_s=0.25"
ISAACLAB_CLI = pathlib.Path(sys.executable).parent / "isaaclab"


def train(run_script, task: str, run_dir: pathlib.Path, *extra: str):
    """Run this module's short CPU training (its envs and iterations) into ``run_dir``."""
    return short_runs.train(run_script, task, run_dir, NUM_ENVS, NUM_ITERATIONS, *extra)


@pytest.fixture(scope="module")
def cartpole_genpo_run(tmp_path_factory, run_script) -> tuple[pathlib.Path, str]:
    """A two-iteration GenPO run on Cartpole, started with its IsaacLab 2 id; short episodes (an ``env.*``
    override) make sure episodes finish, so returns are logged."""
    run_dir = tmp_path_factory.mktemp("cartpole") / "genpo"
    result = train(run_script, "Isaac-Cartpole-Direct-v0", run_dir, "--algo", "genpo", SHORT_EPISODES)
    return run_dir, result.stdout


def test_train_py_trains_genpo_on_cartpole(cartpole_genpo_run):
    run_dir, stdout = cartpole_genpo_run
    assert "resolves to the IsaacLab 3 task 'Isaac-Cartpole-Direct'" in stdout
    assert f"Learning iteration 1/{NUM_ITERATIONS}" in stdout
    assert (run_dir / FINAL_CHECKPOINT).is_file()
    assert list(run_dir.glob("events.out.tfevents.*"))
    assert (run_dir / "learning_curve.png").stat().st_size > 0
    assert yaml.unsafe_load((run_dir / "params" / "env.yaml").read_text())["episode_length_s"] == 0.25
    params = agent_params(run_dir)
    assert params["algorithm"]["class_name"] == GENPO_ALGORITHM
    assert params["actor"]["class_name"] == GENPO_ACTOR
    assert params["device"] == "cpu"


def test_play_loads_the_checkpoint_and_exports(cartpole_genpo_run, run_script):
    run_dir, _ = cartpole_genpo_run
    result = run_script(
        "play.py", "--task", "Isaac-Cartpole-Direct", "--log_dir", str(run_dir), "--num_envs", "4",
        "--num_steps", "400", "--device", "cpu", cwd=run_dir.parent,
    )  # fmt: skip
    assert f"playing {run_dir / FINAL_CHECKPOINT}" in result.stdout
    assert "finished episodes, mean return" in result.stdout
    exported = run_dir / "exported"
    import onnxruntime
    import torch

    jit_policy = torch.jit.load(str(exported / "policy.pt"))
    session = onnxruntime.InferenceSession(str(exported / "policy.onnx"))
    observation = np.random.default_rng(0).standard_normal((1, *session.get_inputs()[0].shape[1:])).astype(np.float32)
    onnx_action = session.run(None, {session.get_inputs()[0].name: observation})[0]
    jit_action = jit_policy(torch.from_numpy(observation)).detach().numpy()
    np.testing.assert_allclose(onnx_action, jit_action, atol=1e-5)


def test_evaluate_runs_m_complete_episodes_the_same_twice(cartpole_genpo_run, run_script):
    """The deployed policy of every checkpoint, over exactly M complete episodes on freshly seeded envs (the run's
    env override given again), records the same numbers in two calls."""
    run_dir = copy_run(cartpole_genpo_run[0], "evaluated")
    command = ["evaluate.py", "--run_dir", str(run_dir), "--all_checkpoints", "--episodes", "3", "--device", "cpu"]
    first = run_script(*command, SHORT_EPISODES, cwd=run_dir.parent)
    assert "on Isaac-Cartpole-Direct" in first.stdout, "the task comes from IsaacLab's run manifest"
    records = read_records(run_dir)
    assert [(r.checkpoint, r.episodes, r.policy) for r in records] == [
        ("model_0.pt", 3, "deterministic"),
        (FINAL_CHECKPOINT, 3, "deterministic"),
    ]
    assert all(np.isfinite(r.mean_return) and 0 < r.mean_length <= 16 for r in records)
    run_script(*command, SHORT_EPISODES, cwd=run_dir.parent)
    assert read_records(run_dir) == records


def copy_run(run_dir: pathlib.Path, name: str) -> pathlib.Path:
    """Copy a run folder next to it, so that a test can change its checkpoints."""
    copy = run_dir.parent / name
    shutil.copytree(run_dir, copy)
    return copy


def test_train_py_resumes_from_the_latest_checkpoint(cartpole_genpo_run, run_script):
    """Training resumes from the latest checkpoint of a run, here one saved on a GPU: it is loaded onto the CPU."""
    run_dir = copy_run(cartpole_genpo_run[0], "saved_on_gpu")
    resave_as_saved_on_gpu(run_dir / FINAL_CHECKPOINT)
    resumed_dir = run_dir.parent / "resumed"
    result = train(run_script, "Isaac-Cartpole-Direct", resumed_dir, "--algo", "genpo", "--resume", "--load_run", run_dir.name)
    assert f"resuming from {run_dir / FINAL_CHECKPOINT}" in result.stdout
    # the counter continues from the loaded iteration, so the last checkpoint is one past a fresh run's
    assert (resumed_dir / f"model_{NUM_ITERATIONS}.pt").is_file()
    assert not (resumed_dir / FINAL_CHECKPOINT).exists()


def test_play_skips_a_checkpoint_cut_short_and_loads_one_saved_on_a_gpu(cartpole_genpo_run, run_script):
    """Play takes the newest intact checkpoint, naming the broken newer one, and loads it onto the CPU although it
    was saved on a GPU."""
    run_dir = copy_run(cartpole_genpo_run[0], "cut_short")
    truncate(run_dir / FINAL_CHECKPOINT)
    resave_as_saved_on_gpu(run_dir / "model_0.pt")
    result = run_script(
        "play.py", "--task", "Isaac-Cartpole-Direct", "--log_dir", str(run_dir), "--num_envs", "2",
        "--num_steps", "10", "--device", "cpu", cwd=run_dir.parent,
    )  # fmt: skip
    assert f"[WARNING] genpo_ext: checkpoint {run_dir / FINAL_CHECKPOINT} is broken (truncated" in result.stderr
    assert f"playing {run_dir / 'model_0.pt'}" in result.stdout
    assert (run_dir / "exported" / "policy.onnx").is_file()


def test_train_py_algo_ppo_runs_the_stock_cfg(tmp_path, run_script):
    run_dir = tmp_path / "ppo"
    train(run_script, "Isaac-Cartpole-Direct", run_dir, "--algo", "ppo")
    params = agent_params(run_dir)
    assert params["algorithm"]["class_name"] == "PPO"
    assert params["actor"]["class_name"] == "MLPModel"
    assert params["experiment_name"] == str(run_dir.parent)
    assert (run_dir / FINAL_CHECKPOINT).is_file()


def test_train_py_logger_wandb_writes_an_offline_run(tmp_path, run_script, monkeypatch):
    """``--logger wandb`` reaches IsaacLab's train path: rsl_rl's W&B writer logs offline into the run folder, to
    IsaacLab's default project."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_DIR", raising=False)
    run_dir = tmp_path / "wandb_run"
    result = train(run_script, "Isaac-Cartpole-Direct", run_dir, "--algo", "genpo", "--logger", "wandb")
    assert "Logging to wandb project 'isaaclab'" in result.stdout
    assert agent_params(run_dir)["logger"] == "wandb"
    (wandb_run,) = (run_dir / "wandb").glob("offline-run-*")
    (run_log,) = wandb_run.glob("run-*.wandb")
    # the run log is a sequence of uncompressed protobuf records: the run's config and history keys
    records = run_log.read_bytes()
    for text in ("env_cfg", "train_cfg", "Loss/learning_rate"):
        assert text.encode() in records, text
    assert (wandb_run / "files" / FINAL_CHECKPOINT).is_file()


def test_train_py_trains_genpo_on_the_real_ant(tmp_path, run_script):
    run_dir = tmp_path / "ant"
    result = train(run_script, "Isaac-Ant-Direct", run_dir, "--algo", "genpo")
    assert f"Learning iteration 1/{NUM_ITERATIONS}" in result.stdout
    assert (run_dir / FINAL_CHECKPOINT).is_file()
    assert agent_params(run_dir)["algorithm"]["class_name"] == GENPO_ALGORITHM


@pytest.mark.parametrize(("task", "experiment"), [("Isaac-Cartpole-Direct", "cartpole_direct"), ("Isaac-Ant-Direct", "ant_direct")])
def test_isaaclab_cli_trains_genpo_with_no_script_of_ours(tmp_path, run_command, task, experiment):
    command = [str(ISAACLAB_CLI), "train", "--rl_library", "rsl_rl", "--task", task]
    command += ["--agent", "rsl_rl_genpo_cfg_entry_point", "--num_envs", NUM_ENVS, "--max_iterations", NUM_ITERATIONS]
    command += ["--device", "cpu", "--viz", "none", "agent.device=cpu"]
    result = run_command(command, cwd=tmp_path)
    assert f"Learning iteration 1/{NUM_ITERATIONS}" in result.stdout
    (run_dir,) = (tmp_path / "logs" / "rsl_rl" / f"{experiment}_genpo").iterdir()
    assert (run_dir / FINAL_CHECKPOINT).is_file()
    assert agent_params(run_dir)["algorithm"]["class_name"] == GENPO_ALGORITHM
