"""GenPO configurations selectable by name: the ``--algo`` choices of ``scripts/train.py`` and ``scripts/play.py``.

A preset is a set of actor and algorithm key changes applied on top of a task's GenPO config with the paper's
defaults, in every backend: the gymnasium agent table's ``genpo`` section, and the GenPO config that IsaacLab 3 and
IsaacLab 2.3 derive from a task's stock PPO config (the paper's hyperparameters on the paper's tasks included).

* ``genpo`` changes nothing: GenPO as the paper configures it, the default of ``--algo``.
* ``genpo_recommended`` applies :data:`RECOMMENDED_ACTOR` and :data:`RECOMMENDED_ALGORITHM`, the configuration this
  project's experiments recommend (evidence: ``results/README.md``).

Keys are those of the rsl_rl 5 ``GenPOActor`` and ``GenPO`` (equally the fields of IsaacLab's
``RslRlGenPOActorCfg`` and ``RslRlGenPOAlgorithmCfg``); rsl_rl 3's ``GenPOActorCritic`` takes the flow keys under
the same names (``hidden_dims`` and ``obs_normalization`` as ``actor_hidden_dims`` and ``actor_obs_normalization``).
Values are never None, which the gymnasium table reads as "remove the key". This module imports nothing beyond the
standard library, so every entry point can import it first.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

GENPO = "genpo"
"""Name of the paper's GenPO configuration."""

GENPO_RECOMMENDED = "genpo_recommended"
"""Name of the recommended GenPO configuration."""

PPO = "ppo"
"""Name of the baseline: the task's stock rsl_rl PPO config, untouched."""

# Chosen across HalfCheetah, Ant and Hopper on the deployed (deterministic) policy, 3 seeds each (results/README.md):
# learned log sigma with the paper's compression loss kept and the flow's exact entropy as the bonus outranked learned
# log sigma alone (the recommended configuration before it, config/final_<task>.yaml) and tied the paper's GenPO.
RECOMMENDED_ACTOR: dict[str, Any] = {
    "noise_std_type": "log",  # learn the latent noise scale (log sigma) instead of the paper's fixed 1
}
"""Actor keys that ``genpo_recommended`` changes, with their values."""

RECOMMENDED_ALGORITHM: dict[str, Any] = {
    "entropy_term": "exact",  # the bonus is the flow's exact entropy, whose gradient reaches the learned sigma
    "entropy_coef": 0.01,  # its weight, screened against 0.003 (replaces the task's coefficient)
}
"""Algorithm keys that ``genpo_recommended`` changes, with their values."""


@dataclasses.dataclass(frozen=True)
class GenPOPreset:
    """A GenPO configuration: key changes on top of the paper's GenPO config of a task."""

    name: str
    """The ``--algo`` name, also the suffix of the experiment name (``<experiment>_<name>``)."""

    description: str
    """What the preset is, for help texts."""

    actor: Mapping[str, Any]
    """Actor keys to change and their values; empty keeps the paper's actor."""

    algorithm: Mapping[str, Any]
    """Algorithm keys to change and their values; empty keeps the paper's algorithm settings."""


GENPO_PRESETS: dict[str, GenPOPreset] = {
    GENPO: GenPOPreset(GENPO, "GenPO with the paper's defaults", actor={}, algorithm={}),
    GENPO_RECOMMENDED: GenPOPreset(
        GENPO_RECOMMENDED,
        "GenPO with the changes this project's experiments recommend",
        actor=RECOMMENDED_ACTOR,
        algorithm=RECOMMENDED_ALGORITHM,
    ),
}
"""The GenPO presets by name."""

ALGORITHMS: tuple[str, ...] = (*GENPO_PRESETS, PPO)
"""Every ``--algo`` choice: the GenPO presets and the stock PPO baseline."""

DEFAULT_ALGORITHM = GENPO
"""``--algo`` when none is given: GenPO with the paper's defaults."""


def genpo_preset(name: str) -> GenPOPreset:
    """Return the GenPO preset called ``name``.

    Raises:
        ValueError: If ``name`` is no GenPO preset, naming the valid ones.
    """
    if name not in GENPO_PRESETS:
        raise ValueError(f"Unknown GenPO preset '{name}'. Valid: {', '.join(GENPO_PRESETS)}.")
    return GENPO_PRESETS[name]


def preset_changes(preset: GenPOPreset) -> list[str]:
    """Return the preset's changes as ``actor.key=value`` and ``algorithm.key=value`` (empty for the paper's GenPO)."""
    changes = [f"actor.{key}={value}" for key, value in preset.actor.items()]
    return changes + [f"algorithm.{key}={value}" for key, value in preset.algorithm.items()]


def describe_preset(preset: GenPOPreset) -> str:
    """Return ``name: description``, followed by the changes as ``(actor.key=value, algorithm.key=value)``."""
    changes = preset_changes(preset)
    return f"{preset.name}: {preset.description}" + (f" ({', '.join(changes)})" if changes else "")


def algorithm_help(subject: str = "Algorithm to train") -> str:
    """Return the help text of ``--algo``: ``subject``, then every choice, what it is, and the default."""
    presets = [describe_preset(preset) for preset in GENPO_PRESETS.values()]
    choices = "; ".join([*presets, f"{PPO}: the task's stock rsl_rl PPO config"])
    return f"{subject}. {choices}. GenPO presets live in genpo_ext/presets.py. Default: {DEFAULT_ALGORITHM}."


def apply_to_cfg(
    cfg: object, changes: Mapping[str, Any], section: str, renamed: Mapping[str, str] | None = None
) -> None:
    """Set the fields of a config object (a dataclass, e.g. an IsaacLab configclass) to a preset's values.

    Args:
        cfg: The actor, policy or algorithm config to change in place.
        changes: A preset's keys and values (:attr:`GenPOPreset.actor` or :attr:`GenPOPreset.algorithm`).
        section: What ``cfg`` is, for the error message (e.g. ``"actor"``).
        renamed: Field of ``cfg`` for each key it names differently; other keys (all when None) name their field.

    Raises:
        ValueError: If ``cfg`` has no field for a key, naming the valid fields.
    """
    fields = [field.name for field in dataclasses.fields(cfg)]
    for key, value in changes.items():
        field = (renamed or {}).get(key, key)
        if field not in fields:
            raise ValueError(
                f"GenPO preset key '{section}.{key}' is not a field of {type(cfg).__name__}."
                f" Valid: {', '.join(fields)}."
            )
        setattr(cfg, field, copy.deepcopy(value))
