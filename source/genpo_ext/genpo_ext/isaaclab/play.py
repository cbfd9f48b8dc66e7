"""IsaacLab backend of ``scripts/play.py``: loads a checkpoint, exports the policy as TorchScript and ONNX, and runs
the deterministic policy, reporting the return of the finished episodes.

It reuses IsaacLab's task resolution, launcher, environment wrapper, runner factory, checkpoint lookup and video
recording; unlike IsaacLab's play it can stop after a number of steps and reports returns.
"""

from __future__ import annotations

import argparse
import os

from genpo_ext.checkpoints import CheckpointError, find_run_checkpoint
from genpo_ext.presets import ALGORITHMS, DEFAULT_ALGORITHM, algorithm_help

from . import offline_assets
from .agent_keys import ALGORITHM_CFG_ENTRY_POINTS
from .launch import AGENT_OVERRIDE_PREFIX, resolve_device, resolve_task_or_exit, with_kitless_physics
from .train import DEFAULT_LOG_ROOT, load_agent_cfg

EXPORT_FOLDER = "exported"
"""Folder, next to the checkpoint, that receives the exported policies."""

JIT_POLICY_FILE = "policy.pt"
"""File name of the TorchScript export."""

ONNX_POLICY_FILE = "policy.onnx"
"""File name of the ONNX export."""

DEFAULT_NUM_ENVS = 16
"""Parallel environments to play with unless ``--num_envs`` says otherwise."""


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser of ``scripts/play.py``."""
    from isaaclab.app import add_launcher_args
    from isaaclab_rl.entrypoints.common import add_video_args

    parser = argparse.ArgumentParser(description="Play and export a GenPO or PPO checkpoint on an IsaacLab task.")
    parser.add_argument("--task", required=True, help="IsaacLab task id (IsaacLab 2 ids accepted).")
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
    parser.add_argument("--num_steps", type=int, default=None, help="Environment steps to play (default: until Ctrl+C).")
    add_video_args(parser, action="play")
    add_launcher_args(parser)
    parser.set_defaults(device=None, visualizer=["none"])
    return parser


def main(argv: list[str] | None = None) -> None:
    """Play a checkpoint of an IsaacLab task.

    Args:
        argv: Command-line arguments; ``env.*`` / ``agent.*`` tokens are Hydra overrides.
    """
    # the parser imports IsaacLab's launcher, which fixes the asset root: choose it first
    offline_assets.configure_asset_root()
    args, overrides = build_parser().parse_known_args(argv)
    invalid = [token for token in overrides if "=" not in token]
    if invalid:
        raise SystemExit(f"unrecognized arguments {invalid}: overrides must look like 'env.a.b=value'")
    task_id = resolve_task_or_exit(args.task)
    overrides = with_kitless_physics(task_id, overrides)
    agent_key = ALGORITHM_CFG_ENTRY_POINTS[args.algo]
    args.device = resolve_device(args.device)
    try:
        checkpoint = resolve_checkpoint(args, task_id, agent_key)
    except CheckpointError as error:
        raise SystemExit(f"[ERROR] genpo_ext: {error}") from None
    print(f"[INFO] genpo_ext: playing {checkpoint} on {task_id} ({args.device})")
    play(task_id, agent_key, checkpoint, args, [*overrides, f"{AGENT_OVERRIDE_PREFIX}device={args.device}"])


def resolve_checkpoint(args: argparse.Namespace, task_id: str, agent_key: str) -> str:
    """Return the checkpoint to play: an explicit file, else the latest match in the run or experiment folder.

    Without ``--checkpoint`` the newest intact checkpoint is played; newer broken ones (a save cut short) are named
    in a warning.

    Raises:
        CheckpointError: If no checkpoint matches, or the chosen checkpoint or every checkpoint of the run is broken.
    """
    experiment_dir = None
    if not (args.log_dir or (args.checkpoint and os.path.isfile(args.checkpoint))):
        experiment_name = load_agent_cfg(task_id, agent_key).experiment_name
        experiment_dir = os.path.abspath(os.path.join(DEFAULT_LOG_ROOT, experiment_name))
    return find_run_checkpoint(experiment_dir, args.load_run, args.checkpoint, run_dir=args.log_dir)


def play(task_id: str, agent_key: str, checkpoint: str, args: argparse.Namespace, overrides: list[str]) -> None:
    """Export the checkpoint's policy and run it deterministically, printing the return of finished episodes.

    Args:
        task_id: Registered task id.
        agent_key: Gym spec key of the agent config the checkpoint was trained with.
        checkpoint: Checkpoint file.
        args: Parsed flags (launcher, video, number of environments and steps).
        overrides: Hydra overrides of the environment and agent configs.
    """
    import gymnasium as gym
    import torch
    from isaaclab.app import launch_simulation
    from isaaclab_rl.entrypoints.common import apply_video_recording, pre_launch_video_config, video_playback_steps
    from isaaclab_rl.rsl_rl import (
        RslRlVecEnvWrapper,
        check_rsl_rl_version,
        create_rsl_rl_runner,
        handle_deprecated_rsl_rl_cfg,
    )
    from isaaclab_tasks.utils import resolve_task_config

    env_cfg, agent_cfg = resolve_task_config(task_id, agent_key, play_mode=True, overrides=overrides)
    run_dir = os.path.dirname(checkpoint)
    pre_launch_video_config(env_cfg, args)
    with launch_simulation(env_cfg, args):
        agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, check_rsl_rl_version())
        env_cfg.scene.num_envs = args.num_envs
        env_cfg.sim.device = args.device
        env_cfg.seed = agent_cfg.seed if args.seed is None else args.seed
        apply_video_recording(env_cfg, run_dir, args, subdir="play", checkpoint_path=checkpoint)
        env = RslRlVecEnvWrapper(gym.make(task_id, cfg=env_cfg), clip_actions=agent_cfg.clip_actions)
        try:
            runner = create_rsl_rl_runner(env, agent_cfg)
            runner.load(checkpoint, map_location=args.device)
            export_dir = os.path.join(run_dir, EXPORT_FOLDER)
            runner.export_policy_to_jit(path=export_dir, filename=JIT_POLICY_FILE)
            runner.export_policy_to_onnx(path=export_dir, filename=ONNX_POLICY_FILE)
            print(f"[INFO] genpo_ext: exported {JIT_POLICY_FILE} and {ONNX_POLICY_FILE} to {export_dir}")
            policy = runner.get_inference_policy(device=env.unwrapped.device)
            num_steps = args.num_steps or video_playback_steps(args, env_cfg)
            with torch.inference_mode():
                returns = run_policy(env, policy, num_steps)
        finally:
            env.close()
    if returns:
        print(f"[INFO] genpo_ext: {len(returns)} finished episodes, mean return {sum(returns) / len(returns):.3f}")
    else:
        print("[INFO] genpo_ext: no episode finished during playback.")


def run_policy(env, policy, num_steps: int | None) -> list[float]:
    """Step the environment with the deterministic policy and return the undiscounted return of each finished episode.

    Args:
        env: rsl_rl-wrapped IsaacLab environment.
        policy: Inference policy (maps observations to actions; GenPO uses its zero-latent action).
        num_steps: Steps to run, or None to run until Ctrl+C.
    """
    import torch

    obs = env.get_observations()
    episode_returns = torch.zeros(env.num_envs, device=env.device)
    finished_returns: list[float] = []
    step = 0
    try:
        while num_steps is None or step < num_steps:
            obs, rewards, dones, _ = env.step(policy(obs))
            policy.reset(dones)
            episode_returns += rewards
            finished = dones.bool()
            finished_returns += episode_returns[finished].tolist()
            episode_returns[finished] = 0.0
            step += 1
    except KeyboardInterrupt:
        pass
    return finished_returns
