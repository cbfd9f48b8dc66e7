"""Env and agent configs of the gymnasium backend: the task table in ``agents.yaml`` and ``env.*``/``agent.*``
command-line overrides."""

from __future__ import annotations

import ast
import copy
import pathlib

import yaml

from genpo_ext.gymnasium_backend.errors import ConfigError

AGENTS_TABLE = pathlib.Path(__file__).with_name("agents.yaml")
"""The per-task env/agent config table."""

ALGORITHMS = ("ppo", "genpo")
"""``ppo``: the table's stock rsl_rl PPO agent; ``genpo``: the same agent with the table's ``genpo`` changes."""


def deep_merge(base: dict, update: dict) -> dict:
    """Return ``base`` updated recursively by ``update``; a ``None`` value in ``update`` removes the key."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_task_cfg(task: str, algo: str, table_path: pathlib.Path = AGENTS_TABLE) -> tuple[dict, dict]:
    """Return the ``(env_cfg, agent_cfg)`` dicts for ``task`` trained with ``algo``.

    Raises:
        ConfigError: If ``algo`` is not one of :data:`ALGORITHMS`.
    """
    if algo not in ALGORITHMS:
        raise ConfigError(f"Unknown algorithm '{algo}'. Valid: {', '.join(ALGORITHMS)}.")
    table = yaml.safe_load(table_path.read_text())
    cfg = deep_merge(table["defaults"], table["tasks"].get(task, {}))
    if algo == "genpo":
        cfg = deep_merge(cfg, table["genpo"])
    return cfg["env"], cfg["agent"]


def parse_value(text: str):
    """Parse an override value: YAML (``[64, 64]``, ``true``, ``null``, ``mish``), then Python literals for what
    YAML 1.1 leaves a string (``5e-4``)."""
    value = yaml.safe_load(text)
    if isinstance(value, str):
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return value
    return value


def apply_overrides(env_cfg: dict, agent_cfg: dict, overrides: list[str]) -> None:
    """Apply ``env.a.b=value`` / ``agent.a.b=value`` tokens in place.

    Intermediate keys must exist (a typo fails loudly); the last key may be new, so optional constructor kwargs
    can be set. A ``null`` value removes the key.

    Raises:
        ConfigError: If a token is malformed or names a missing intermediate key.
    """
    roots = {"env": env_cfg, "agent": agent_cfg}
    for token in overrides:
        path, separator, text = token.partition("=")
        keys = path.split(".")
        if not separator or keys[0] not in roots or len(keys) < 2:
            raise ConfigError(f"Override '{token}' must look like 'env.a.b=value' or 'agent.a.b=value'.")
        node = roots[keys[0]]
        for depth, key in enumerate(keys[1:-1], start=1):
            if not isinstance(node.get(key), dict):
                valid = ", ".join(k for k, v in node.items() if isinstance(v, dict))
                raise ConfigError(f"Override '{token}': '{'.'.join(keys[: depth + 1])}' is not a section. Valid: {valid}.")
            node = node[key]
        value = parse_value(text)
        if value is None:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
