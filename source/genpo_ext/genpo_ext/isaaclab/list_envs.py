"""Listing of the IsaacLab tasks that carry the GenPO agent configs (backend of ``scripts/list_envs.py``)."""

from __future__ import annotations

import argparse
import contextlib
import io

from .agent_keys import GENPO_CFG_ENTRY_POINT, GENPO_CFG_ENTRY_POINTS
from .launch import resolve_task
from .paper_hyperparameters import PAPER_SHARED_HYPERPARAMETERS, PAPER_TASKS


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser of ``scripts/list_envs.py``."""
    parser = argparse.ArgumentParser(description="List the IsaacLab tasks that carry the GenPO agent configs.")
    parser.add_argument("--paper", action="store_true", help="Show only the GenPO paper's tasks and hyperparameters.")
    parser.add_argument(
        "--check", action="store_true", help="Derive every GenPO config and report the tasks GenPO cannot run."
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """Print the tasks that carry the GenPO keys (``rsl_rl_<GenPO preset>_cfg_entry_point``)."""
    args = build_parser().parse_args(argv)
    if args.paper:
        print_paper_tasks()
        return
    # resolving any registered task prepares the asset root and registers the GenPO configs
    resolve_task("Isaac-Cartpole-Direct")
    from .registration import GENPO_TASK_IDS

    print(f"{len(GENPO_TASK_IDS)} tasks carry {', '.join(map(repr, GENPO_CFG_ENTRY_POINTS.values()))}:")
    for task_id in GENPO_TASK_IDS:
        note = f"  -- {genpo_cfg_problem(task_id) or 'ok'}" if args.check else ""
        print(f"  {task_id}{note}")


def genpo_cfg_problem(task_id: str) -> str | None:
    """Return why the GenPO config of a task cannot be built, or None when it can."""
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    from .agent_cfgs import UnsupportedAgentCfgError

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            load_cfg_from_registry(task_id, GENPO_CFG_ENTRY_POINT)
    except UnsupportedAgentCfgError as error:
        return str(error)
    return None


def print_paper_tasks() -> None:
    """Print the paper's per-task and shared hyperparameters (the table in :mod:`.paper_hyperparameters`)."""
    print(f"{'paper task (IsaacLab 2)':38} {'IsaacLab 3 task':36} {'hidden dims':20} {'lr':>7} {'gamma':>6} {'entropy':>8}")
    for row in PAPER_TASKS:
        isaaclab_task = row.isaaclab_task_id or "(absent in IsaacLab 3.0)"
        hidden = ",".join(map(str, row.hidden_dims))
        print(
            f"{row.paper_task_id:38} {isaaclab_task:36} {hidden:20} {row.learning_rate:7.0e} {row.gamma:6.2f}"
            f" {row.entropy_coef:8.3f}"
        )
    print(f"shared: {PAPER_SHARED_HYPERPARAMETERS}")
