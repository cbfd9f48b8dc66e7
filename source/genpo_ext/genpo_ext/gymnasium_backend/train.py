"""Train GenPO or stock rsl_rl PPO on a gymnasium task with rsl_rl's ``OnPolicyRunner``.

The runner is :class:`~genpo_ext.gymnasium_backend.runner.GymnasiumRunner`, rsl_rl's own with the training state
added to its checkpoints: ``--resume`` continues with the iteration after the checkpoint's, exactly as the
uninterrupted run would have.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import pathlib
import random

import numpy as np
import torch
import yaml

from genpo_ext.checkpoints import CheckpointError, compile_flag_regex, select_checkpoint, warn
from genpo_ext.distributed import ProcessRank, launch_problem
from genpo_ext.evaluation.deploy import genpo_model_cfg
from genpo_ext.gymnasium_backend.config import apply_overrides, load_task_cfg
from genpo_ext.gymnasium_backend.errors import ConfigError, agent_construction_errors
from genpo_ext.gymnasium_backend.runner import GymnasiumRunner
from genpo_ext.gymnasium_backend.vec_env import GymnasiumVecEnv

LOG_ROOT = pathlib.Path("logs", "rsl_rl")
"""Parent of the default run folders ``<LOG_ROOT>/<task>_<algo>/<timestamp>_seed<seed>`` (relative to the CWD)."""

CHECKPOINT_PATTERN = r"model_\d+\.pt"
"""Regex of the checkpoint file names rsl_rl's runner saves; ``--checkpoint`` replaces it."""

LISTED_RUNS = 5
"""How many of the latest run folders an error about ``--load_run`` lists."""

LOGGER_PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb", "neptune": "neptune"}
"""rsl_rl's log writers by their ``agent.logger`` name, and the package each one needs."""

WANDB_DIR_VARIABLE = "WANDB_DIR"
"""Environment variable of the folder in which W&B writes its ``wandb/`` run files; unless the user sets it, the
run's log dir, so that a run's files stay together."""


def resolve_device(requested: str | None) -> str:
    """Return ``requested`` or, if None, the first CUDA device when available, else the CPU."""
    if requested:
        return requested
    return "cuda:0" if torch.cuda.is_available() else "cpu"


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def find_checkpoint(experiment_dir: pathlib.Path, load_run: str | None, checkpoint: str | None) -> pathlib.Path:
    """Return the checkpoint to resume from: the latest matching run folder, then its latest matching model file.

    Without ``checkpoint`` the newest intact model file is taken, and newer broken ones (a save cut short) are named
    in a warning; a checkpoint chosen with ``checkpoint`` must be intact
    (:func:`genpo_ext.checkpoints.select_checkpoint`).

    Args:
        experiment_dir: Folder holding the run folders.
        load_run: Regex for the run folder name; None matches any.
        checkpoint: Regex for the checkpoint file name; None matches :data:`CHECKPOINT_PATTERN`.

    Raises:
        ConfigError: If no run folder or checkpoint matches (naming the folder searched and how to pick another).
        CheckpointError: If a regex is invalid, or the chosen checkpoint, or every matching one, is broken.
    """
    run_regex = compile_flag_regex("--load_run", load_run or ".*")
    checkpoint_regex = compile_flag_regex("--checkpoint", checkpoint or CHECKPOINT_PATTERN)
    runs = sorted(p for p in experiment_dir.glob("*") if p.is_dir())
    if not runs:
        raise ConfigError(
            f"--resume: no run folder in {experiment_dir.resolve()} to resume from. Train once without --resume"
            " first; --resume then takes the latest run there, and --load_run <regex> picks another."
        )
    matching = [p for p in runs if run_regex.fullmatch(p.name)]
    if not matching:
        latest = ", ".join(p.name for p in runs[-LISTED_RUNS:])
        raise ConfigError(
            f"--load_run '{load_run}' matches no run folder in {experiment_dir.resolve()}. Latest runs: {latest}."
        )
    models = [p.absolute() for p in matching[-1].glob("*.pt") if checkpoint_regex.fullmatch(p.name)]
    if not models:
        raise ConfigError(
            f"No checkpoint matching '{checkpoint_regex.pattern}' in {matching[-1].resolve()}. Pick a file with"
            " --checkpoint <regex> or another run with --load_run <regex>."
        )
    return pathlib.Path(select_checkpoint(models, explicit=checkpoint is not None))


def configure_logger(agent_cfg: dict, experiment_name: str, log_dir: pathlib.Path) -> None:
    """Check the configured log writer and give W&B a project and a folder unless the user chose them.

    Args:
        agent_cfg: Agent config; its ``logger`` is an rsl_rl writer name or a dict with a ``class_name``, and
            ``wandb_project`` defaults to ``experiment_name``.
        experiment_name: Name of the experiment, ``<task>_<algo>``.
        log_dir: The run's log dir, where W&B writes its files unless ``WANDB_DIR`` is set.

    Raises:
        ConfigError: If the logger is unknown or its package is not installed.
    """
    logger = agent_cfg.get("logger", "tensorboard")
    if not isinstance(logger, str):
        return
    if logger not in LOGGER_PACKAGES:
        raise ConfigError(f"Unknown logger 'agent.logger={logger}'. Valid: {', '.join(LOGGER_PACKAGES)}.")
    package = LOGGER_PACKAGES[logger]
    if importlib.util.find_spec(package) is None:
        raise ConfigError(f"The {logger} logger needs the '{package}' package: pip install {package}")
    if logger == "wandb":
        agent_cfg.setdefault("wandb_project", experiment_name)
        os.environ.setdefault(WANDB_DIR_VARIABLE, str(log_dir.resolve()))


def main(args: argparse.Namespace, overrides: list[str]) -> None:
    """Train from the parsed ``scripts/train.py`` flags; a mistake in them or in the config ends the program with
    one ``[ERROR]`` line and exit status 1 instead of a traceback.

    Args:
        args: Flags of ``scripts/train.py``, see :func:`train`.
        overrides: ``env.a.b=value`` / ``agent.a.b=value`` tokens.
    """
    try:
        train(args, overrides)
    except (ConfigError, CheckpointError) as error:
        raise SystemExit(f"[ERROR] genpo_ext: {error}") from None


def build_cfgs(args: argparse.Namespace, overrides: list[str], rank: ProcessRank) -> tuple[dict, dict]:
    """Return the ``(env_cfg, agent_cfg)`` of a run: the task's table entry, the overrides, then the flags.

    With ``--distributed`` the agent and the envs of this process use ``cuda:<local rank>`` and the seed plus the
    global rank (as IsaacLab 3's ``train.py``).

    Raises:
        ConfigError: If an override is malformed, the number of envs or workers is invalid, or the launch does not
            fit ``--distributed``.
    """
    env_cfg, agent_cfg = load_task_cfg(args.task, args.algo)
    apply_overrides(env_cfg, agent_cfg, overrides)
    if args.num_envs is not None:
        env_cfg["num_envs"] = args.num_envs
    check_env_counts(env_cfg)
    if args.max_iterations is not None:
        agent_cfg["max_iterations"] = args.max_iterations
    if args.seed is not None:
        agent_cfg["seed"] = args.seed
    if args.logger is not None:
        agent_cfg["logger"] = args.logger
    agent_cfg["device"] = resolve_device(args.device or agent_cfg.get("device"))
    problem = launch_problem(args.distributed, args.device, rank, visible_gpus=torch.cuda.device_count())
    if problem is not None:
        raise ConfigError(problem)
    if args.distributed:
        agent_cfg["device"] = rank.device
        agent_cfg["seed"] = rank.seed(agent_cfg["seed"])
    return env_cfg, agent_cfg


def check_env_counts(env_cfg: dict) -> None:
    """Check the number of envs and fit the number of worker processes to it (a worker steps at least one env).

    Raises:
        ConfigError: If there is no env or the number of workers is negative.
    """
    if env_cfg["num_envs"] < 1:
        raise ConfigError(f"--num_envs must be at least 1, got {env_cfg['num_envs']}.")
    if env_cfg["num_workers"] < 0:
        raise ConfigError(
            "env.num_workers must be at least 0 (0 steps the envs in the training process), got"
            f" {env_cfg['num_workers']}."
        )
    env_cfg["num_workers"] = min(env_cfg["num_workers"], env_cfg["num_envs"])


def resume_checkpoint(args: argparse.Namespace, experiment_dir: pathlib.Path) -> pathlib.Path | None:
    """Return the checkpoint that ``--resume`` selects, or None when training starts from scratch.

    ``--checkpoint`` may name a checkpoint file (which must be intact); otherwise it and ``--load_run`` are regexes
    searched in ``experiment_dir`` (:func:`find_checkpoint`).

    Raises:
        ConfigError: If ``--load_run`` or ``--checkpoint`` is given without ``--resume``, or nothing matches.
        CheckpointError: If the selected checkpoint, or every matching one, is broken.
    """
    if not args.resume:
        if args.load_run or args.checkpoint:
            raise ConfigError("--load_run and --checkpoint select the checkpoint to resume from: add --resume.")
        return None
    if args.checkpoint is not None and pathlib.Path(args.checkpoint).is_file():
        return pathlib.Path(select_checkpoint([pathlib.Path(args.checkpoint).absolute()], explicit=True))
    return find_checkpoint(experiment_dir, args.load_run, args.checkpoint)


def record_action_clip(agent_cfg: dict, action_clip: float | None) -> None:
    """Give a GenPO actor the envs' symmetric action clip (``action_clip``, for its ``mean`` deployed action) unless
    the config sets one."""
    model = genpo_model_cfg(agent_cfg)
    if model is not None:
        model.setdefault("action_clip", action_clip)


def save_params(log_dir: pathlib.Path, task: str, env_cfg: dict, agent_cfg: dict) -> None:
    """Record the run's resolved env and agent configs in ``<log_dir>/params``."""
    os.makedirs(log_dir / "params", exist_ok=True)
    # the task id beside the env config lets scripts/evaluate.py rebuild the env from the run folder alone
    env_record = {"task": task, **env_cfg}
    (log_dir / "params" / "env.yaml").write_text(yaml.safe_dump(env_record, sort_keys=False))
    (log_dir / "params" / "agent.yaml").write_text(yaml.safe_dump(agent_cfg, sort_keys=False))


def train(args: argparse.Namespace, overrides: list[str]) -> None:
    """Build the config, the envs and the runner from the parsed ``scripts/train.py`` flags, then train.

    Args:
        args: Flags of ``scripts/train.py`` (``task``, ``algo``, ``num_envs``, ``max_iterations``, ``seed``,
            ``device``, ``distributed``, ``log_dir``, ``logger``, ``resume``, ``load_run``, ``checkpoint``).
        overrides: ``env.a.b=value`` / ``agent.a.b=value`` tokens; flags win over overrides.

    Raises:
        ConfigError: If the flags or the config are mistaken; the envs are closed first.
    """
    rank = ProcessRank.from_environment()
    env_cfg, agent_cfg = build_cfgs(args, overrides, rank)
    experiment_name = f"{args.task}_{args.algo}"
    experiment_dir = LOG_ROOT / experiment_name
    timestamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    log_dir = pathlib.Path(args.log_dir or experiment_dir / f"{timestamp}_seed{agent_cfg['seed']}")
    resume_path = resume_checkpoint(args, experiment_dir)
    configure_logger(agent_cfg, experiment_name, log_dir)

    seed_everything(agent_cfg["seed"])
    if agent_cfg.get("torch_threads"):
        torch.set_num_threads(agent_cfg["torch_threads"])
    env = GymnasiumVecEnv(
        task=args.task,
        num_envs=env_cfg["num_envs"],
        num_workers=env_cfg["num_workers"],
        seed=agent_cfg["seed"],
        device=agent_cfg["device"],
        make_kwargs=env_cfg["make_kwargs"],
    )
    try:
        record_action_clip(agent_cfg, env.action_clip)
        # rsl_rl logs from global rank 0 only; the other processes write nothing either
        if rank.is_main:
            save_params(log_dir, args.task, env_cfg, agent_cfg)
        print(f"[INFO] {args.algo} on {args.task} ({agent_cfg['device']}): logging to {log_dir}")

        with agent_construction_errors(agent_cfg):
            runner = GymnasiumRunner(env, agent_cfg, log_dir=str(log_dir), device=agent_cfg["device"])
        if resume_path is not None:
            print(f"[INFO] Resuming from {resume_path}")
            # onto this process's device, wherever the checkpoint was saved
            for problem in runner.resume(str(resume_path), map_location=agent_cfg["device"]):
                warn(f"resuming from {resume_path.name} not exactly: {problem}.")
            print(f"[INFO] Continuing with iteration {runner.current_learning_iteration}")
        runner.learn(num_learning_iterations=agent_cfg["max_iterations"])
    finally:
        env.close()
