"""Train GenPO or stock rsl_rl PPO on a gymnasium task with rsl_rl's ``OnPolicyRunner``."""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import random
import re

import numpy as np
import torch
import yaml
from rsl_rl.runners import OnPolicyRunner

from genpo_ext.gymnasium_backend.config import apply_overrides, load_task_cfg
from genpo_ext.gymnasium_backend.vec_env import GymnasiumVecEnv

LOG_ROOT = pathlib.Path("logs", "rsl_rl")
"""Parent of the default run folders ``<LOG_ROOT>/<task>_<algo>/<timestamp>_seed<seed>`` (relative to the CWD)."""


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

    Args:
        experiment_dir: Folder holding the run folders.
        load_run: Regex for the run folder name; None matches any.
        checkpoint: Regex for the checkpoint file name; None matches ``model_<iteration>.pt``.

    Raises:
        FileNotFoundError: If no run folder or checkpoint matches.
    """
    runs = sorted(p for p in experiment_dir.glob("*") if p.is_dir() and re.fullmatch(load_run or ".*", p.name))
    if not runs:
        raise FileNotFoundError(f"No run folder matching '{load_run}' in {experiment_dir}.")
    pattern = checkpoint or r"model_\d+\.pt"
    models = [p for p in runs[-1].glob("*.pt") if re.fullmatch(pattern, p.name)]
    if not models:
        raise FileNotFoundError(f"No checkpoint matching '{pattern}' in {runs[-1]}.")
    return max(models, key=lambda p: [int(n) for n in re.findall(r"\d+", p.name)] or [0])


def main(args: argparse.Namespace, overrides: list[str]) -> None:
    """Build the config, the envs and the runner from the parsed ``scripts/train.py`` flags, then train.

    Args:
        args: Flags of ``scripts/train.py`` (``task``, ``algo``, ``num_envs``, ``max_iterations``, ``seed``,
            ``device``, ``log_dir``, ``resume``, ``load_run``, ``checkpoint``).
        overrides: ``env.a.b=value`` / ``agent.a.b=value`` tokens; flags win over overrides.
    """
    env_cfg, agent_cfg = load_task_cfg(args.task, args.algo)
    apply_overrides(env_cfg, agent_cfg, overrides)
    if args.num_envs is not None:
        env_cfg["num_envs"] = args.num_envs
    if args.max_iterations is not None:
        agent_cfg["max_iterations"] = args.max_iterations
    if args.seed is not None:
        agent_cfg["seed"] = args.seed
    agent_cfg["device"] = resolve_device(args.device or agent_cfg.get("device"))

    experiment_dir = LOG_ROOT / f"{args.task}_{args.algo}"
    timestamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    log_dir = pathlib.Path(args.log_dir or experiment_dir / f"{timestamp}_seed{agent_cfg['seed']}")
    resume_path = find_checkpoint(experiment_dir, args.load_run, args.checkpoint) if args.resume else None

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
        os.makedirs(log_dir / "params", exist_ok=True)
        (log_dir / "params" / "env.yaml").write_text(yaml.safe_dump(env_cfg, sort_keys=False))
        (log_dir / "params" / "agent.yaml").write_text(yaml.safe_dump(agent_cfg, sort_keys=False))
        print(f"[INFO] {args.algo} on {args.task}: logging to {log_dir}")

        runner = OnPolicyRunner(env, agent_cfg, log_dir=str(log_dir), device=agent_cfg["device"])
        if resume_path is not None:
            print(f"[INFO] Resuming from {resume_path}")
            runner.load(str(resume_path))
        runner.learn(num_learning_iterations=agent_cfg["max_iterations"])
    finally:
        env.close()
