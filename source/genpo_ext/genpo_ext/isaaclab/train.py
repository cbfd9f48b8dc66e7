"""IsaacLab backend of ``scripts/train.py``: trains GenPO or the stock PPO baseline through IsaacLab 3's own
rsl_rl training entrypoint (kit-less whenever the task's physics allows it).

``--distributed`` passes through to that entrypoint, which gives each ``torchrun`` process ``cuda:<LOCAL_RANK>``
for the simulation and the agent and offsets the seed by the global rank.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime

from genpo_ext.checkpoints import find_run_checkpoint
from genpo_ext.distributed import ProcessRank, launch_problem

from .agent_keys import ALGORITHM_CFG_ENTRY_POINTS
from .launch import AGENT_OVERRIDE_PREFIX, resolve_device, resolve_task_or_exit, with_kitless_physics

DEFAULT_LOG_ROOT = os.path.join("logs", "rsl_rl")
"""Folder, relative to the working directory, that holds IsaacLab's rsl_rl experiments."""

RUN_TIMESTAMP_FORMAT = "%Y-%m-%d_%H-%M-%S"
"""IsaacLab's run folder name format."""

WANDB_REQUIREMENT = "wandb<0.28.2"
"""The W&B versions IsaacLab 3.0's rsl_rl train path works with: it calls ``wandb.util.generate_id``, which wandb
0.28.2 removed."""

WANDB_DIR_VARIABLE = "WANDB_DIR"
"""Environment variable of the folder in which W&B writes its ``wandb/`` run files; unless the user sets it, the
run folder, so that a run's files stay together (W&B alone reads it)."""


def main(args: argparse.Namespace, overrides: list[str]) -> None:
    """Train an agent on an IsaacLab task.

    Args:
        args: Parsed flags of ``scripts/train.py``.
        overrides: ``env.*`` / ``agent.*`` Hydra override tokens.

    Raises:
        SystemExit: With IsaacLab's exit status when training fails, or one ``[ERROR]`` line for a mistake in the
            flags.
    """
    rank = ProcessRank.from_environment()
    check_launch(args, rank)
    if args.logger == "wandb" or f"{AGENT_OVERRIDE_PREFIX}logger=wandb" in overrides:
        check_wandb_version()
    task_id = resolve_task_or_exit(args.task)
    overrides = with_kitless_physics(task_id, overrides)
    agent_key = ALGORITHM_CFG_ENTRY_POINTS[args.algo]
    device = rank.device if args.distributed else resolve_device(args.device)
    log_dir = os.path.abspath(args.log_dir or default_log_dir(task_id, agent_key, overrides))
    try:
        resume_path = resolve_resume_checkpoint(args, os.path.dirname(log_dir))
    except ValueError as error:
        raise SystemExit(f"[ERROR] genpo_ext: {error}") from None

    from isaaclab_rl.entrypoints import run_train_cli

    # IsaacLab joins its log root with the experiment name; an absolute name makes the run folder exactly log_dir
    argv = ["--rl_library", "rsl_rl", "--task", task_id, "--agent", agent_key, "--device", device]
    argv += ["--viz", args.viz, "--experiment_name", os.path.dirname(log_dir), "--run_timestamp", os.path.basename(log_dir)]
    argv += _optional_flags(num_envs=args.num_envs, seed=args.seed, max_iterations=args.max_iterations)
    argv += _optional_flags(logger=args.logger, checkpoint=resume_path)
    argv += ["--video"] if args.video else []
    # with --distributed IsaacLab itself sets each process's agent device to its simulation device
    argv += ["--distributed", *overrides] if args.distributed else _with_agent_device(overrides, device)
    os.environ.setdefault(WANDB_DIR_VARIABLE, log_dir)
    print(f"[INFO] genpo_ext: training {args.algo} on {task_id} ({device}); run folder: {log_dir}")
    status = run_train_cli(argv)
    if status:
        raise SystemExit(status)
    # rsl_rl logs from global rank 0 only
    if not rank.is_main:
        return

    from .learning_curve import final_values, save_learning_curve

    curve = save_learning_curve(log_dir, title=f"{task_id} - {args.algo}")
    if curve is not None:
        finals = ", ".join(f"{label} {value:.2f}" for label, value in final_values(log_dir).items())
        print(f"[INFO] genpo_ext: final {finals}; learning curve saved to {curve}")


def check_launch(args: argparse.Namespace, rank: ProcessRank) -> None:
    """End the program with one ``[ERROR]`` line when the launch does not fit ``--distributed`` (see
    :func:`genpo_ext.distributed.launch_problem`)."""
    import torch

    problem = launch_problem(args.distributed, args.device, rank, visible_gpus=torch.cuda.device_count())
    if problem is not None:
        raise SystemExit(f"[ERROR] genpo_ext: {problem}")


def check_wandb_version() -> None:
    """End the program with one ``[ERROR]`` line when the installed W&B does not meet :data:`WANDB_REQUIREMENT`."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    requirement = Requirement(WANDB_REQUIREMENT)
    try:
        installed = version(requirement.name)
    except PackageNotFoundError:
        installed = None
    if installed is None or not requirement.specifier.contains(installed):
        raise SystemExit(
            f"[ERROR] genpo_ext: W&B logging on IsaacLab needs {WANDB_REQUIREMENT}, installed: {installed or 'none'}."
            f" Run: pip install '{WANDB_REQUIREMENT}'"
        )


def default_log_dir(task_id: str, agent_key: str, overrides: list[str]) -> str:
    """Return IsaacLab's default run folder: ``logs/rsl_rl/<experiment name>/<timestamp>``.

    Args:
        task_id: Registered task id.
        agent_key: Gym spec key of the agent config.
        overrides: Hydra overrides; an ``agent.experiment_name`` override wins over the config's name.
    """
    prefix = f"{AGENT_OVERRIDE_PREFIX}experiment_name="
    experiment_name = next((token.removeprefix(prefix) for token in overrides if token.startswith(prefix)), None)
    if experiment_name is None:
        experiment_name = load_agent_cfg(task_id, agent_key).experiment_name
    return os.path.join(DEFAULT_LOG_ROOT, experiment_name, datetime.now().strftime(RUN_TIMESTAMP_FORMAT))


def load_agent_cfg(task_id: str, agent_key: str):
    """Return the registered agent config of a task; of a preset family, its default member."""
    from isaaclab_tasks.utils import PresetCfg
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    agent_cfg = load_cfg_from_registry(task_id, agent_key)
    return agent_cfg.default if isinstance(agent_cfg, PresetCfg) else agent_cfg


def resolve_resume_checkpoint(args: argparse.Namespace, experiment_dir: str) -> str | None:
    """Return the checkpoint to resume from, or None when training starts from scratch.

    Without ``--checkpoint`` the newest intact checkpoint of the run is taken; newer broken ones (a save cut short)
    are named in a warning.

    Args:
        args: Parsed flags; ``--load_run`` and ``--checkpoint`` are regexes (default: the latest run and checkpoint),
            ``--checkpoint`` may also be a file.
        experiment_dir: Folder that holds the experiment's run folders.

    Raises:
        ValueError: If ``--load_run`` or ``--checkpoint`` is given without ``--resume``.
        CheckpointError: If nothing matches, or the chosen checkpoint or every checkpoint of the run is broken.
    """
    if not args.resume:
        if args.load_run or args.checkpoint:
            raise ValueError("--load_run and --checkpoint select the checkpoint to resume from: add --resume.")
        return None
    path = find_run_checkpoint(experiment_dir, args.load_run, args.checkpoint)
    print(f"[INFO] genpo_ext: resuming from {path}")
    return path


def _optional_flags(**values: object) -> list[str]:
    """Return ``--name value`` pairs for the values that are set."""
    return [token for name, value in values.items() if value is not None for token in (f"--{name}", str(value))]


def _with_agent_device(overrides: list[str], device: str) -> list[str]:
    """Return the overrides plus ``agent.device=<device>``, so that one ``--device`` moves simulation and agent;
    an explicit ``agent.device`` override wins."""
    if any(token.startswith(f"{AGENT_OVERRIDE_PREFIX}device=") for token in overrides):
        return list(overrides)
    return [*overrides, f"{AGENT_OVERRIDE_PREFIX}device={device}"]
