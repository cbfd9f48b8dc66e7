"""IsaacLab 2.3 backend of ``scripts/train.py``: starts Isaac Sim with IsaacLab's ``AppLauncher``, then trains GenPO
or the stock PPO baseline with rsl_rl 3's ``OnPolicyRunner``, as IsaacLab 2.3's own rsl_rl train script does.

Run it through ``./isaaclab.sh -p scripts/train.py --task <IsaacLab 2.3 id> --headless`` in an IsaacLab 2.3 checkout;
under ``torchrun`` add ``--distributed``: as in IsaacLab 2.3's own ``train.py``, ``AppLauncher`` then starts each
process's Isaac Sim on ``cuda:<LOCAL_RANK>``, and simulation and agent train there with the seed plus the local rank.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime

from genpo_ext.checkpoints import CheckpointError, find_run_checkpoint
from genpo_ext.distributed import ProcessRank, add_distributed_argument, launch_problem
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

DEFAULT_LOG_ROOT = os.path.join("logs", "rsl_rl")
"""Folder, relative to the working directory, that holds the rsl_rl experiments (IsaacLab's layout)."""

RUN_TIMESTAMP_FORMAT = "%Y-%m-%d_%H-%M-%S"
"""IsaacLab's run folder name format."""

DEFAULT_VIDEO_LENGTH = 200
"""Steps per recorded video (IsaacLab's default)."""

DEFAULT_VIDEO_INTERVAL = 2000
"""Steps between recorded videos (IsaacLab's default)."""


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser; :func:`~.launch.parse_args` adds IsaacLab's ``AppLauncher`` options."""
    parser = argparse.ArgumentParser(description="Train GenPO or stock PPO on an IsaacLab 2.3 task with rsl_rl 3.")
    parser.add_argument("--task", required=True, help="IsaacLab 2.3 task id, e.g. Isaac-Ant-v0.")
    parser.add_argument("--algo", choices=ALGORITHMS, default=DEFAULT_ALGORITHM, help=algorithm_help())
    parser.add_argument("--num_envs", type=int, default=None, help="Number of parallel environments.")
    parser.add_argument("--max_iterations", type=int, default=None, help="Number of learning iterations.")
    parser.add_argument("--seed", type=int, default=None, help="Random seed of the environment and the agent.")
    add_distributed_argument(parser)
    parser.add_argument("--log_dir", default=None, help="Exact folder for this run's logs and checkpoints.")
    parser.add_argument("--resume", action="store_true", help="Resume training from a checkpoint.")
    parser.add_argument("--load_run", default=None, help="Run folder (regex) to resume from; default: the latest.")
    parser.add_argument("--checkpoint", default=None, help="Checkpoint file (regex) to resume from; default: latest.")
    parser.add_argument("--video", action="store_true", help="Record videos during training (enables cameras).")
    parser.add_argument("--video_length", type=int, default=DEFAULT_VIDEO_LENGTH, help="Steps per video.")
    parser.add_argument("--video_interval", type=int, default=DEFAULT_VIDEO_INTERVAL, help="Steps between videos.")
    return parser


def main(argv: list[str]) -> None:
    """Train an agent on an IsaacLab 2.3 task.

    Args:
        argv: Command-line arguments; ``env.*`` / ``agent.*`` tokens are Hydra overrides.

    Raises:
        SystemExit: For an unknown task id or invalid arguments.
    """
    args, overrides = parse_args(build_parser(), argv)
    if not args.resume and (args.load_run or args.checkpoint):
        raise SystemExit("[ERROR] genpo_ext: --load_run and --checkpoint pick the checkpoint to resume: add --resume.")
    # before Isaac Sim starts; AppLauncher reads --distributed itself and starts it on this process's GPU
    problem = launch_problem(args.distributed, args.device, ProcessRank.from_environment(), visible_gpus=None)
    if problem is not None:
        raise SystemExit(f"[ERROR] genpo_ext: {problem}")
    # recording videos renders camera images
    args.enable_cameras = args.enable_cameras or args.video
    run_with_simulator(args, lambda simulation_app: train(args, overrides))


def train(args: argparse.Namespace, overrides: list[str]) -> None:
    """Train inside the running simulator (see :func:`main`)."""
    try:
        task_id = resolve_task_id(args.task, prepare_tasks())
    except UnknownTaskError as error:
        raise SystemExit(f"[ERROR] genpo_ext: {error}") from None

    def run(env_cfg, agent_cfg) -> None:
        from rsl_rl.runners import OnPolicyRunner

        rank = ProcessRank.from_environment()
        apply_flags(args, env_cfg, agent_cfg, rank)
        experiment_dir = os.path.abspath(os.path.join(DEFAULT_LOG_ROOT, agent_cfg.experiment_name))
        log_dir = os.path.abspath(args.log_dir or os.path.join(experiment_dir, _run_folder_name(agent_cfg.run_name)))
        resume_path = resume_checkpoint_or_exit(args, experiment_dir)
        env_cfg.log_dir = log_dir
        print(f"[INFO] genpo_ext: training {args.algo} on {task_id} ({agent_cfg.device}); run folder: {log_dir}")

        env = make_env(task_id, env_cfg, agent_cfg, args, log_dir)
        try:
            runner = OnPolicyRunner(env, agent_cfg.to_dict(), log_dir=log_dir, device=agent_cfg.device)
            if resume_path is not None:
                print(f"[INFO] genpo_ext: resuming from {resume_path}")
                # onto this process's device, wherever the checkpoint was saved
                runner.load(resume_path, map_location=agent_cfg.device)
            # rsl_rl logs from global rank 0 only; the other processes write no files either
            if rank.is_main:
                save_params(log_dir, env_cfg, agent_cfg)
            runner.learn(num_learning_iterations=agent_cfg.max_iterations, init_at_random_ep_len=True)
        finally:
            env.close()
        if rank.is_main:
            _print_final_values(log_dir)

    run_with_task_config(task_id, ALGORITHM_CFG_ENTRY_POINTS[args.algo], overrides, run)


def apply_flags(args: argparse.Namespace, env_cfg, agent_cfg, rank: ProcessRank) -> None:
    """Apply the command line to the loaded configs, as IsaacLab 2.3's ``train.py`` does.

    One ``--device`` moves simulation and agent. With ``--distributed`` both use ``cuda:<local rank>`` and the seed
    of simulation and agent is the configured seed plus the local rank.

    Args:
        args: Parsed flags.
        env_cfg: The task's environment config (``scene.num_envs``, ``sim.device`` and ``seed`` are set).
        agent_cfg: The rsl_rl runner config (``seed``, ``max_iterations`` and ``device`` are set).
        rank: This process's place in a ``torchrun`` launch.
    """
    agent_cfg.seed = agent_cfg.seed if args.seed is None else args.seed
    agent_cfg.max_iterations = args.max_iterations or agent_cfg.max_iterations
    env_cfg.scene.num_envs = args.num_envs or env_cfg.scene.num_envs
    env_cfg.sim.device = agent_cfg.device = args.device
    if args.distributed:
        env_cfg.sim.device = agent_cfg.device = rank.device
        agent_cfg.seed = rank.seed(agent_cfg.seed, offset_by="local")
    env_cfg.seed = agent_cfg.seed


def resume_checkpoint_or_exit(args: argparse.Namespace, experiment_dir: str) -> str | None:
    """Return the checkpoint that ``--resume`` selects, or None without ``--resume``.

    Without ``--checkpoint`` the newest intact checkpoint is taken; newer broken ones (a save cut short) are named
    in a warning.

    Raises:
        SystemExit: With one ``[ERROR]`` line when nothing matches, or the chosen checkpoint or every checkpoint of
            the run is broken.
    """
    if not args.resume:
        return None
    try:
        return find_run_checkpoint(experiment_dir, args.load_run, args.checkpoint)
    except CheckpointError as error:
        raise SystemExit(f"[ERROR] genpo_ext: {error}") from None


def make_env(task_id: str, env_cfg, agent_cfg, args: argparse.Namespace, log_dir: str):
    """Create the task's environment (recording videos with ``--video``), wrapped for rsl_rl."""
    import gymnasium as gym
    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper

    env = gym.make(task_id, cfg=env_cfg, render_mode="rgb_array" if args.video else None)
    if args.video:
        env = gym.wrappers.RecordVideo(
            env,
            video_folder=os.path.join(log_dir, "videos", "train"),
            step_trigger=lambda step: step % args.video_interval == 0,
            video_length=args.video_length,
            disable_logger=True,
        )
    return RslRlVecEnvWrapper(env, clip_actions=agent_cfg.clip_actions)


def save_params(log_dir: str, env_cfg, agent_cfg) -> None:
    """Record the run's environment and agent configs in ``<log_dir>/params``, as IsaacLab's scripts do."""
    from isaaclab.utils.io import dump_yaml

    dump_yaml(os.path.join(log_dir, "params", "env.yaml"), env_cfg)
    dump_yaml(os.path.join(log_dir, "params", "agent.yaml"), agent_cfg)


def _run_folder_name(run_name: str) -> str:
    """IsaacLab's run folder name: the start time, then ``_<run_name>`` if one is set."""
    timestamp = datetime.now().strftime(RUN_TIMESTAMP_FORMAT)
    return f"{timestamp}_{run_name}" if run_name else timestamp


def _print_final_values(log_dir: str) -> None:
    """Print the last logged mean return and episode length of the run."""
    from genpo_ext.isaaclab.learning_curve import final_values

    finals = ", ".join(f"{label} {value:.2f}" for label, value in final_values(log_dir).items())
    print(f"[INFO] genpo_ext: final {finals or 'values: no episode finished'}; logs in {log_dir}")
