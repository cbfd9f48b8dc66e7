"""IsaacLab 2.3 backend of ``scripts/play.py``: starts Isaac Sim with IsaacLab's ``AppLauncher``, loads a checkpoint,
exports the policy with IsaacLab 2.3's exporters (TorchScript and ONNX) and runs the deterministic policy, reporting
the return of the finished episodes.

Run it through ``./isaaclab.sh -p scripts/play.py --task <IsaacLab 2.3 id> --headless`` in an IsaacLab 2.3 checkout.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from genpo_ext.checkpoints import CheckpointError, find_run_checkpoint
from genpo_ext.isaaclab.agent_keys import ALGORITHM_CFG_ENTRY_POINTS
from genpo_ext.presets import ALGORITHMS, DEFAULT_ALGORITHM, algorithm_help

from .launch import (
    UnknownTaskError,
    parse_args,
    prepare_tasks,
    resolve_task_id,
    run_with_simulator,
    run_with_task_config,
)
from .train import DEFAULT_LOG_ROOT, DEFAULT_VIDEO_LENGTH

EXPORT_FOLDER = "exported"
"""Folder, next to the checkpoint, that receives the exported policies (IsaacLab's layout)."""

JIT_POLICY_FILE = "policy.pt"
"""File name of the TorchScript export."""

ONNX_POLICY_FILE = "policy.onnx"
"""File name of the ONNX export."""

DEFAULT_NUM_ENVS = 16
"""Parallel environments to play with unless ``--num_envs`` says otherwise."""


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser; :func:`~.launch.parse_args` adds IsaacLab's ``AppLauncher`` options."""
    parser = argparse.ArgumentParser(description="Play and export a GenPO or PPO checkpoint on an IsaacLab 2.3 task.")
    parser.add_argument("--task", required=True, help="IsaacLab 2.3 task id, e.g. Isaac-Ant-v0 (or its -Play- id).")
    parser.add_argument(
        "--algo",
        choices=ALGORITHMS,
        default=DEFAULT_ALGORITHM,
        help=algorithm_help("Algorithm the checkpoint was trained with"),
    )
    parser.add_argument("--num_envs", type=int, default=DEFAULT_NUM_ENVS, help="Number of parallel environments.")
    parser.add_argument("--seed", type=int, default=None, help="Environment seed (default: the agent config's).")
    parser.add_argument("--log_dir", default=None, help="Run folder to load from (default: the experiment's latest).")
    parser.add_argument("--load_run", default=None, help="Run folder (regex) inside the experiment; default: latest.")
    parser.add_argument(
        "--checkpoint", default=None, help="Checkpoint file path, or file name regex inside the run; default: latest."
    )
    parser.add_argument(
        "--num_steps", type=int, default=None, help="Steps to play (default: until the app closes; --video: one video)."
    )
    parser.add_argument("--video", action="store_true", help="Record a video of the first steps (enables cameras).")
    parser.add_argument("--video_length", type=int, default=DEFAULT_VIDEO_LENGTH, help="Steps of the video.")
    return parser


def main(argv: list[str]) -> None:
    """Play a checkpoint of an IsaacLab 2.3 task.

    Args:
        argv: Command-line arguments; ``env.*`` / ``agent.*`` tokens are Hydra overrides.

    Raises:
        SystemExit: For an unknown task id or invalid arguments.
    """
    args, overrides = parse_args(build_parser(), argv)
    # recording videos renders camera images
    args.enable_cameras = args.enable_cameras or args.video
    run_with_simulator(args, lambda simulation_app: play(args, overrides, simulation_app))


def play(args: argparse.Namespace, overrides: list[str], simulation_app) -> None:
    """Export and play inside the running simulator (see :func:`main`)."""
    try:
        task_id = resolve_task_id(args.task, prepare_tasks())
    except UnknownTaskError as error:
        raise SystemExit(f"[ERROR] genpo_ext: {error}") from None

    def run(env_cfg, agent_cfg) -> None:
        import torch
        from isaaclab_rl.rsl_rl import export_policy_as_jit, export_policy_as_onnx
        from rsl_rl.runners import OnPolicyRunner

        env_cfg.scene.num_envs = args.num_envs
        env_cfg.seed = agent_cfg.seed if args.seed is None else args.seed
        env_cfg.sim.device = agent_cfg.device = args.device
        try:
            checkpoint = resolve_checkpoint(args, agent_cfg.experiment_name)
        except CheckpointError as error:
            raise SystemExit(f"[ERROR] genpo_ext: {error}") from None
        run_dir = os.path.dirname(checkpoint)
        env_cfg.log_dir = run_dir
        print(f"[INFO] genpo_ext: playing {checkpoint} on {task_id} ({args.device})")

        env = make_env(task_id, env_cfg, agent_cfg, args, run_dir)
        try:
            runner = OnPolicyRunner(env, agent_cfg.to_dict(), log_dir=None, device=agent_cfg.device)
            # onto the device played on, wherever the checkpoint was saved
            runner.load(checkpoint, map_location=agent_cfg.device)
            # IsaacLab 2.3's play exports the policy module with its actor normalizer
            policy_nn = runner.alg.policy
            export_dir = os.path.join(run_dir, EXPORT_FOLDER)
            normalizer = policy_nn.actor_obs_normalizer
            export_policy_as_jit(policy_nn, normalizer=normalizer, path=export_dir, filename=JIT_POLICY_FILE)
            export_policy_as_onnx(policy_nn, normalizer=normalizer, path=export_dir, filename=ONNX_POLICY_FILE)
            print(f"[INFO] genpo_ext: exported {JIT_POLICY_FILE} and {ONNX_POLICY_FILE} to {export_dir}")
            policy = runner.get_inference_policy(device=env.unwrapped.device)
            num_steps = args.num_steps or (args.video_length if args.video else None)
            with torch.inference_mode():
                returns = run_policy(env, policy, num_steps, simulation_app.is_running)
        finally:
            env.close()
        if returns:
            print(f"[INFO] genpo_ext: {len(returns)} finished episodes, mean return {sum(returns) / len(returns):.3f}")
        else:
            print("[INFO] genpo_ext: no episode finished during playback.")

    run_with_task_config(task_id, ALGORITHM_CFG_ENTRY_POINTS[args.algo], overrides, run)


def resolve_checkpoint(args: argparse.Namespace, experiment_name: str) -> str:
    """Return the checkpoint to play: an explicit file, else the latest match in the run or experiment folder.

    Without ``--checkpoint`` the newest intact checkpoint is played; newer broken ones (a save cut short) are named
    in a warning.

    Raises:
        CheckpointError: If no checkpoint matches, or the chosen checkpoint or every checkpoint of the run is broken.
    """
    experiment_dir = os.path.abspath(os.path.join(DEFAULT_LOG_ROOT, experiment_name))
    return find_run_checkpoint(experiment_dir, args.load_run, args.checkpoint, run_dir=args.log_dir)


def make_env(task_id: str, env_cfg, agent_cfg, args: argparse.Namespace, run_dir: str):
    """Create the task's environment (recording a video of the first steps with ``--video``), wrapped for rsl_rl."""
    import gymnasium as gym
    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper

    env = gym.make(task_id, cfg=env_cfg, render_mode="rgb_array" if args.video else None)
    if args.video:
        env = gym.wrappers.RecordVideo(
            env,
            video_folder=os.path.join(run_dir, "videos", "play"),
            step_trigger=lambda step: step == 0,
            video_length=args.video_length,
            disable_logger=True,
        )
    return RslRlVecEnvWrapper(env, clip_actions=agent_cfg.clip_actions)


def run_policy(env, policy, num_steps: int | None, is_running: Callable[[], bool]) -> list[float]:
    """Step the environment with the deterministic policy and return the undiscounted return of each finished episode.

    Args:
        env: rsl_rl-wrapped IsaacLab environment.
        policy: Inference policy (observations to actions; GenPO's is the zero latent's action).
        num_steps: Steps to run, or None to run while ``is_running()`` (until the app closes) or until Ctrl+C.
        is_running: Whether the simulator still runs.
    """
    import torch

    obs = env.get_observations()
    episode_returns = torch.zeros(env.num_envs, device=env.device)
    finished_returns: list[float] = []
    step = 0
    try:
        while is_running() and (num_steps is None or step < num_steps):
            obs, rewards, dones, _ = env.step(policy(obs))
            episode_returns += rewards
            finished = dones.bool()
            finished_returns += episode_returns[finished].tolist()
            episode_returns[finished] = 0.0
            step += 1
    except KeyboardInterrupt:
        pass
    return finished_returns
