"""Env and agent configs of the gymnasium backend: the task table in ``agents.yaml``, its translation for rsl_rl 3
and ``env.*``/``agent.*`` command-line overrides."""

from __future__ import annotations

import ast
import copy
import pathlib

import yaml

from genpo_ext.gymnasium_backend.errors import ConfigError
from genpo_ext.presets import ALGORITHMS, GENPO_PRESETS
from genpo_ext.versions import rsl_rl_generation

AGENTS_TABLE = pathlib.Path(__file__).with_name("agents.yaml")
"""The per-task env/agent config table."""

RSL_RL3_CLASS_NAMES = {
    "MLPModel": "ActorCritic",
    "genpo_ext.models:GenPOActor": "GenPOActorCritic",
    "PPO": "PPO",
    "genpo_ext.algorithms:GenPO": "GenPO",
}
"""rsl_rl 3 class name of each rsl_rl 5 actor and algorithm class name in the table."""

RSL_RL5_MODEL_KEYS = ("class_name", "hidden_dims", "activation", "obs_normalization", "distribution_cfg")
"""Keys of an rsl_rl 5 model config that :func:`to_rsl_rl3_agent_cfg` translates; a GenPO actor's other keys are
flow arguments that rsl_rl 3's ``GenPOActorCritic`` takes under the same names."""


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

    ``ppo`` is the table's stock rsl_rl PPO agent. A GenPO preset (:data:`genpo_ext.presets.GENPO_PRESETS`) is the
    same agent with the table's ``genpo`` changes (the paper's GenPO), then the preset's actor and algorithm keys.

    Raises:
        ConfigError: If ``algo`` is not one of :data:`genpo_ext.presets.ALGORITHMS`.
    """
    if algo not in ALGORITHMS:
        raise ConfigError(f"Unknown algorithm '{algo}'. Valid: {', '.join(ALGORITHMS)}.")
    table = yaml.safe_load(table_path.read_text())
    cfg = deep_merge(table["defaults"], table["tasks"].get(task, {}))
    if algo in GENPO_PRESETS:
        preset = GENPO_PRESETS[algo]
        cfg = deep_merge(cfg, table["genpo"])
        cfg = deep_merge(cfg, {"agent": {"actor": dict(preset.actor), "algorithm": dict(preset.algorithm)}})
    agent_cfg = to_rsl_rl3_agent_cfg(cfg["agent"]) if rsl_rl_generation() == 3 else cfg["agent"]
    return cfg["env"], agent_cfg


def to_rsl_rl3_agent_cfg(agent_cfg: dict) -> dict:
    """Translate an rsl_rl 5 train config of the table into the rsl_rl 3 config of the same agent.

    rsl_rl 3 describes actor and critic in one ``policy`` (``ActorCritic``, or ``GenPOActorCritic`` for GenPO) and
    calls the actor's observation set ``policy``; everything else keeps its key. The Gaussian actor's
    ``distribution_cfg`` becomes ``init_noise_std`` / ``noise_std_type``.

    Raises:
        ConfigError: If a class has no rsl_rl 3 counterpart, or stock PPO's actor and critic use different
            activations (rsl_rl 3's ``ActorCritic`` has one).
    """
    cfg = copy.deepcopy(agent_cfg)
    actor, critic = cfg.pop("actor"), cfg.pop("critic")
    obs_groups = cfg["obs_groups"]
    obs_groups["policy"] = obs_groups.pop("actor")
    policy = {
        "class_name": _rsl_rl3_class_name(actor["class_name"]),
        "actor_hidden_dims": actor["hidden_dims"],
        "critic_hidden_dims": critic["hidden_dims"],
        "activation": actor["activation"],
        "actor_obs_normalization": actor.get("obs_normalization", False),
        "critic_obs_normalization": critic.get("obs_normalization", False),
    }
    if policy["class_name"] == "GenPOActorCritic":
        policy["critic_activation"] = critic["activation"]
        policy.update({key: value for key, value in actor.items() if key not in RSL_RL5_MODEL_KEYS})
    else:
        if critic["activation"] != actor["activation"]:
            raise ConfigError(
                f"rsl_rl 3's ActorCritic has one activation; the actor uses '{actor['activation']}', the critic "
                f"'{critic['activation']}'."
            )
        distribution = actor.get("distribution_cfg") or {}
        policy["init_noise_std"] = distribution.get("init_std", 1.0)
        policy["noise_std_type"] = distribution.get("std_type", "scalar")
    cfg["policy"] = policy
    cfg["algorithm"]["class_name"] = _rsl_rl3_class_name(cfg["algorithm"]["class_name"])
    return cfg


def _rsl_rl3_class_name(class_name: str) -> str:
    """The rsl_rl 3 class name of an rsl_rl 5 class name of the table.

    Raises:
        ConfigError: If the class has no rsl_rl 3 counterpart.
    """
    if class_name not in RSL_RL3_CLASS_NAMES:
        raise ConfigError(
            f"'{class_name}' has no rsl_rl 3 counterpart. Valid classes: {', '.join(RSL_RL3_CLASS_NAMES)}."
        )
    return RSL_RL3_CLASS_NAMES[class_name]


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
                sections = [k for k, v in node.items() if isinstance(v, dict)]
                valid = f"Valid: {', '.join(sections)}" if sections else f"'{'.'.join(keys[:depth])}' has no sections"
                raise ConfigError(f"Override '{token}': '{'.'.join(keys[: depth + 1])}' is not a section. {valid}.")
            node = node[key]
        value = parse_value(text)
        if value is None:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
