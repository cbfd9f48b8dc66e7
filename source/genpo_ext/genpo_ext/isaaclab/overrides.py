"""A check of ``env.*`` / ``agent.*`` overrides against an IsaacLab 3 task's configs before anything trains.

IsaacLab applies such an override by setting the attribute its path names, and a configclass accepts a new attribute
silently, so a misspelt field trains with the field unchanged. Here every key of the path must be a field of the
config it addresses, with the task's presets resolved to their defaults as IsaacLab resolves them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from .agent_keys import ALGORITHM_CFG_ENTRY_POINTS


def override_problems(task_id: str, algo: str, overrides: list[str]) -> dict[str, str]:
    """Return, for each override that names no field of the task's env or agent config, why.

    Args:
        task_id: Registered IsaacLab 3 task id (:func:`genpo_ext.isaaclab.launch.resolve_task`).
        algo: The ``--algo`` whose agent config the ``agent.*`` overrides address.
        overrides: ``env.a.b=value`` / ``agent.a.b=value`` tokens.

    Returns:
        One sentence per mistaken token, by token.

    Raises:
        ValueError: If the task has no config for ``algo`` (e.g. a recurrent stock policy), with IsaacLab's reason.
    """
    from isaaclab_tasks.utils.hydra import register_task

    env_cfg, agent_cfg, _ = register_task(task_id, ALGORITHM_CFG_ENTRY_POINTS[algo], overrides=[])
    roots = {"env": env_cfg, "agent": agent_cfg}
    problems = {}
    for token in overrides:
        root, *keys = token.partition("=")[0].split(".")
        node = roots[root]
        for depth, key in enumerate(keys, start=1):
            names = field_names(node)
            if key not in names:
                parent, kind = ".".join([root, *keys[: depth - 1]]), type(node).__name__
                if names:
                    problem = f"{kind} '{parent}' has no field '{key}'. Valid: {', '.join(names)}."
                else:
                    problem = f"'{parent}' is a {kind} value, not a config with fields."
                problems[token] = f"Override '{token}': {problem}"
                break
            node = node[key] if isinstance(node, Mapping) else getattr(node, key)
    return problems


def field_names(node: object) -> list[str]:
    """Return the fields an override may address in a config node: a configclass's fields or a mapping's keys."""
    if isinstance(node, Mapping):
        return [str(key) for key in node]
    if dataclasses.is_dataclass(node):
        return [field.name for field in dataclasses.fields(node)]
    return []
