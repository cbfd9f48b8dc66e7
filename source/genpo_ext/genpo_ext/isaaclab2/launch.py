"""Steps shared by the IsaacLab 2.3 train and play backends: command line, Isaac Sim start, tasks, config loading."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Iterable

OVERRIDE_PREFIXES = ("env.", "agent.")
"""Prefixes of the Hydra overrides of the environment and agent configs (IsaacLab 2.3's ``hydra_task_config``)."""

MAX_CLOSE_MATCHES = 5
"""Number of close matches an unknown-task error lists."""

CLOSE_MATCH_CUTOFF = 0.5
"""Similarity ratio in [0, 1] above which a registered id counts as a close match."""


class UnknownTaskError(ValueError):
    """Raised for a task id that IsaacLab 2.3 does not register."""


def parse_args(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Add IsaacLab's ``AppLauncher`` options (``--headless``, ``--device``, ``--enable_cameras``, ...) to ``parser``
    and parse ``argv`` into flags and Hydra override tokens.

    Raises:
        SystemExit: Through ``parser.error`` when a leftover token is not an ``env.*`` / ``agent.*`` override.
    """
    from isaaclab.app import AppLauncher

    AppLauncher.add_app_launcher_args(parser)
    args, overrides = parser.parse_known_args(argv)
    invalid = [token for token in overrides if not token.startswith(OVERRIDE_PREFIXES)]
    if invalid:
        parser.error(f"unrecognized arguments {invalid}: overrides must look like 'env.a.b=value' or 'agent.a.b=value'")
    return args, overrides


def run_with_simulator(args: argparse.Namespace, body: Callable[[object], None]) -> None:
    """Start Isaac Sim with IsaacLab's ``AppLauncher`` (which reads ``--headless``, ``--device``, ...), run
    ``body(simulation_app)`` and close the simulator, also when ``body`` fails."""
    from isaaclab.app import AppLauncher

    simulation_app = AppLauncher(args).app
    try:
        body(simulation_app)
    finally:
        simulation_app.close()


def prepare_tasks() -> list[str]:
    """Register IsaacLab 2.3's tasks, GenPO's class names in rsl_rl 3's runner and the GenPO agent key.

    Must run after the simulator started: IsaacLab 2.3's tasks import simulator modules.

    Returns:
        Every registered task id.
    """
    import gymnasium as gym
    import isaaclab_tasks  # noqa: F401

    import genpo_ext  # noqa: F401

    from .registration import register_genpo_cfg_entry_points

    register_genpo_cfg_entry_points()
    return list(gym.registry)


def resolve_task_id(task_id: str, registered_ids: Iterable[str]) -> str:
    """Return ``task_id`` if it is registered.

    Raises:
        UnknownTaskError: Listing close matches among the registered ids.
    """
    registered = sorted(registered_ids)
    if task_id in registered:
        return task_id
    matches = difflib.get_close_matches(task_id, registered, n=MAX_CLOSE_MATCHES, cutoff=CLOSE_MATCH_CUTOFF)
    hint = f" Close matches: {', '.join(matches)}." if matches else ""
    raise UnknownTaskError(f"Task '{task_id}' is not an IsaacLab 2.3 task.{hint}")


def run_with_task_config(task_id: str, agent_key: str, overrides: list[str], body: Callable[[object, object], None]):
    """Load a task's environment and agent configs the way IsaacLab 2.3's scripts do (``hydra_task_config``, which
    applies the ``env.*`` / ``agent.*`` overrides from the command line) and call ``body(env_cfg, agent_cfg)``."""
    from isaaclab_tasks.utils.hydra import hydra_task_config

    # Hydra reads its overrides from sys.argv
    sys.argv = [sys.argv[0], *overrides]
    hydra_task_config(task_id, agent_key)(body)()
