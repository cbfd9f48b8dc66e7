"""IsaacLab's locomotion tasks, unmodified, kit-less on the CPU with the shipped robots: the mission's command
(GenPO on ``Isaac-Velocity-Rough-H1-v0`` through ``scripts/train.py``) produces a checkpoint that play exports and
evaluate scores; ANYmal-C trains through ``scripts/train.py`` and ``isaaclab train``; PPO trains on flat H1; and the
physics is real: H1 holding its default joint targets falls and its episode terminates, ANYmal-C stands.

Each test starts a simulation (one to two minutes on a CPU); deselect them with ``-m "not isaaclab_sim"``.
"""

from __future__ import annotations

import json
import pathlib
import sys

import pytest
import yaml

from genpo_ext.evaluation.records import read_records
import short_runs
from short_runs import agent_params

pytestmark = pytest.mark.isaaclab_sim

NUM_ENVS = "4"
NUM_ITERATIONS = "2"
FINAL_CHECKPOINT = f"model_{int(NUM_ITERATIONS) - 1}.pt"
SHORT_EPISODES = "env.episode_length_s=1.0"
"""Episodes of 50 steps instead of 1,000, so that training logs returns and evaluation finishes quickly."""

KITLESS_PHYSICS = "env.sim.physics=newton_mjwarp"
ISAACLAB_CLI = pathlib.Path(sys.executable).parent / "isaaclab"
ROLLOUT = pathlib.Path(__file__).with_name("zero_action_rollout.py")

ROLLOUT_ENVS = "4"
ROLLOUT_STEPS = 150
"""Policy steps of the zero-action rollouts: 3 s of simulated time."""

FALLEN_ROOT_HEIGHT_M = 0.5
"""H1's pelvis below this height (it stands at about 1.05 m) means the robot lies on the ground."""

STANDING_ROOT_HEIGHT_M = 0.4
"""ANYmal-C's base above this height (it stands at about 0.5 m, lies at about 0.15 m) means it stands."""


def train(run_script, task: str, run_dir: pathlib.Path, *extra: str):
    """Run this module's short CPU training (its envs and iterations) into ``run_dir``."""
    return short_runs.train(run_script, task, run_dir, NUM_ENVS, NUM_ITERATIONS, *extra)


def rollout(run_command, task: str, cwd: pathlib.Path) -> dict:
    """Return the JSON summary of a zero-action rollout (see ``zero_action_rollout.py``)."""
    result = run_command([sys.executable, str(ROLLOUT), task, ROLLOUT_ENVS, str(ROLLOUT_STEPS)], cwd)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def mission_run(tmp_path_factory, run_script) -> tuple[pathlib.Path, str]:
    """The mission's command, with few envs and two iterations on the CPU."""
    run_dir = tmp_path_factory.mktemp("rough_h1") / "genpo"
    result = train(run_script, "Isaac-Velocity-Rough-H1-v0", run_dir, "--algo", "genpo", SHORT_EPISODES)
    return run_dir, result.stdout


def test_the_missions_command_trains_genpo_on_rough_h1(mission_run):
    run_dir, stdout = mission_run
    assert "resolves to the IsaacLab 3 task 'Isaac-Velocity-Rough-H1'" in stdout
    assert f"Learning iteration 1/{NUM_ITERATIONS}" in stdout
    assert (run_dir / FINAL_CHECKPOINT).is_file()
    params = agent_params(run_dir)
    assert params["algorithm"]["class_name"] == "genpo_ext.algorithms:GenPO"


def test_play_exports_the_missions_checkpoint(mission_run, run_script):
    run_dir, _ = mission_run
    result = run_script(
        "play.py", "--task", "Isaac-Velocity-Rough-H1-v0", "--log_dir", str(run_dir), "--num_envs", "2",
        "--num_steps", "60", "--device", "cpu", SHORT_EPISODES, cwd=run_dir.parent,
    )  # fmt: skip
    assert f"playing {run_dir / FINAL_CHECKPOINT}" in result.stdout
    assert "finished episodes, mean return" in result.stdout
    assert (run_dir / "exported" / "policy.pt").is_file() and (run_dir / "exported" / "policy.onnx").is_file()


def test_evaluate_scores_the_missions_checkpoint(mission_run, run_script):
    run_dir, _ = mission_run
    command = ["evaluate.py", "--run_dir", str(run_dir), "--episodes", "2", "--device", "cpu", SHORT_EPISODES]
    result = run_script(*command, cwd=run_dir.parent)
    assert "on Isaac-Velocity-Rough-H1" in result.stdout
    (record,) = read_records(run_dir)
    assert (record.checkpoint, record.episodes) == (FINAL_CHECKPOINT, 2)
    assert 0 < record.mean_length <= 51


def test_flat_anymal_c_trains_kitless_with_the_recommended_genpo(tmp_path, run_script):
    """IsaacLab 3's flat ANYmal-C selects Isaac Sim's PhysX; kit-less it runs the task's Newton preset, said once."""
    run_dir = tmp_path / "anymal_c"
    result = train(run_script, "Isaac-Velocity-Flat-Anymal-C", run_dir, "--algo", "genpo_recommended", SHORT_EPISODES)
    assert "using the task's own kit-less physics preset (env.sim.physics=newton_mjwarp)" in result.stdout
    assert (run_dir / FINAL_CHECKPOINT).is_file()
    assert agent_params(run_dir)["actor"]["noise_std_type"] == "log"
    physics = yaml.unsafe_load((run_dir / "params" / "env.yaml").read_text())["sim"]["physics"]
    assert physics["solver_cfg"]["solver_type"] == "mujoco_warp"


def test_isaaclab_cli_trains_genpo_on_rough_anymal_c(tmp_path, run_command):
    command = [str(ISAACLAB_CLI), "train", "--rl_library", "rsl_rl", "--task", "IsaacContrib-Velocity-Rough-AnymalC"]
    command += ["--agent", "rsl_rl_genpo_cfg_entry_point", "--num_envs", NUM_ENVS, "--max_iterations", NUM_ITERATIONS]
    command += ["--device", "cpu", "--viz", "none", "agent.device=cpu", SHORT_EPISODES]
    result = run_command(command, cwd=tmp_path)
    assert f"Learning iteration 1/{NUM_ITERATIONS}" in result.stdout
    (run_dir,) = (tmp_path / "logs" / "rsl_rl" / "anymal_c_rough_genpo").iterdir()
    assert (run_dir / FINAL_CHECKPOINT).is_file()


def test_train_py_trains_stock_ppo_on_flat_h1(tmp_path, run_script):
    run_dir = tmp_path / "h1_ppo"
    train(run_script, "Isaac-Velocity-Flat-H1", run_dir, "--algo", "ppo", SHORT_EPISODES)
    assert agent_params(run_dir)["algorithm"]["class_name"] == "PPO"
    assert (run_dir / FINAL_CHECKPOINT).is_file()


def test_h1_holding_its_default_pose_falls_and_its_episode_terminates(tmp_path, run_command):
    summary = rollout(run_command, "Isaac-Velocity-Flat-H1", tmp_path)
    heights = summary["root_height"]
    # every robot's pelvis reaches the ground, and the torso's contact ends its episode
    assert all(min(height[env] for height in heights) < FALLEN_ROOT_HEIGHT_M for env in range(int(ROLLOUT_ENVS)))
    assert sum(summary["terminated"]) >= int(ROLLOUT_ENVS)


def test_anymal_c_holding_its_default_pose_stands(tmp_path, run_command):
    summary = rollout(run_command, "Isaac-Velocity-Flat-Anymal-C", tmp_path)
    assert sum(summary["terminated"]) == 0
    assert min(min(height) for height in summary["root_height"]) > STANDING_ROOT_HEIGHT_M
