"""A check of ``env.*`` / ``agent.*`` overrides against a gymnasium task's configs before anything trains.

:func:`~genpo_ext.gymnasium_backend.config.apply_overrides` lets the last key of a token be new, so that optional
constructor arguments can be set; a misspelt key would then be passed to a constructor that rejects it once the run
starts, or be ignored. Here the last key must be one that its consumer takes: a constructor argument of the class an
agent section names, a key of the env config, a keyword of ``gymnasium.make`` or of the task's env class, or, for
the runner's own top-level keys, not a near miss of a key the config already has.
"""

from __future__ import annotations

import difflib
import inspect

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator

from genpo_ext.gymnasium_backend.config import apply_overrides, load_task_cfg
from genpo_ext.gymnasium_backend.errors import AGENT_SECTIONS, ConfigError, constructor_keys, resolve_class_name

MAKE_KWARGS_KEY = "make_kwargs"
"""Key of the env config whose entries are keyword arguments of ``gymnasium.make``."""

MAKE_KEYWORDS = ("max_episode_steps", "disable_env_checker")
"""Keywords ``gymnasium.make`` consumes itself; the others go to the env's constructor."""

NEAR_MISS_CUTOFF = 0.8
"""Similarity in [0, 1] above which a new top-level agent key counts as a misspelling of an existing one."""


def override_problems(task: str, algo: str, overrides: list[str]) -> dict[str, str]:
    """Return, for each override that the run of ``algo`` on ``task`` would reject or ignore, why.

    Args:
        task: Gymnasium task id.
        algo: The ``--algo`` whose agent config the ``agent.*`` overrides address.
        overrides: ``env.a.b=value`` / ``agent.a.b=value`` tokens, applied in order.

    Returns:
        One sentence per mistaken token, by token.
    """
    env_cfg, agent_cfg = load_task_cfg(task, algo)
    problems = {}
    for token in overrides:
        keys = token.partition("=")[0].split(".")
        table_keys = list(agent_cfg) if keys[0] == "agent" else list(env_cfg)
        try:
            apply_overrides(env_cfg, agent_cfg, [token])
        except ConfigError as error:
            problems[token] = str(error)
            continue
        problem = _last_key_problem(task, keys, agent_cfg, table_keys)
        if problem is not None:
            problems[token] = f"Override '{token}': {problem}."
    return problems


def _last_key_problem(task: str, keys: list[str], agent_cfg: dict, table_keys: list[str]) -> str | None:
    """Return why the last key of an applied override is not one its consumer takes, or None.

    Args:
        task: Gymnasium task id.
        keys: The override's path, ``env`` or ``agent`` first.
        agent_cfg: The agent config with the override applied.
        table_keys: The top-level keys of the addressed config before the override.
    """
    root, *path = keys
    if root == "env" and len(path) == 1 and path[0] not in table_keys:
        return f"the env config has no key '{path[0]}'. Valid: {', '.join(table_keys)}"
    if root == "env" and len(path) == 2 and path[0] == MAKE_KWARGS_KEY:
        valid = make_keywords(task)
        if valid is not None and path[1] not in valid:
            return f"gymnasium.make('{task}') takes no keyword '{path[1]}'. Valid: {', '.join(valid)}"
    if root == "agent" and len(path) == 2 and path[0] in AGENT_SECTIONS and isinstance(agent_cfg.get(path[0]), dict):
        class_name = agent_cfg[path[0]].get("class_name")
        valid = ["class_name", *constructor_keys(resolve_class_name(class_name))] if class_name else None
        if valid is not None and path[1] not in valid:
            return f"{class_name} takes no key '{path[1]}'. Valid: {', '.join(valid)}"
    if root == "agent" and len(path) == 1 and path[0] not in table_keys:
        near = difflib.get_close_matches(path[0], table_keys, n=1, cutoff=NEAR_MISS_CUTOFF)
        if near:
            return f"the agent config has no key '{path[0]}'; did you mean '{near[0]}'?"
    return None


def make_keywords(task: str) -> list[str] | None:
    """Return the keywords ``gymnasium.make(task, ...)`` accepts, or None when its env takes any keyword."""
    entry_point = gym.spec(task).entry_point
    if entry_point is None:
        return None
    creator = entry_point if callable(entry_point) else load_env_creator(entry_point)
    keywords = [*MAKE_KEYWORDS]
    functions = [creator]
    if inspect.isclass(creator):
        # a class passes the keywords it does not take on to its base classes through **kwargs
        functions = [vars(klass)["__init__"] for klass in creator.__mro__ if "__init__" in vars(klass)]
    for function in functions:
        parameters = inspect.signature(function).parameters.values()
        keywords += [p.name for p in parameters if p.default is not p.empty]
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            return list(dict.fromkeys(keywords))
    return None
