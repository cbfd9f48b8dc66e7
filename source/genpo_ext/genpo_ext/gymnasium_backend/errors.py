"""Mistakes in a user's flags or config for the gymnasium backend, reported as one ``[ERROR]`` line.

rsl_rl passes the keys of the agent's ``actor``, ``critic`` and ``algorithm`` sections as keyword arguments to the
constructor that each section's ``class_name`` names, so a misspelt key surfaces as a ``TypeError`` and an invalid
value as a ``ValueError`` deep inside the runner's construction. :func:`agent_construction_errors` turns exactly
those into a :class:`ConfigError` that names the key and the valid ones; every other error keeps its traceback.
"""

from __future__ import annotations

import contextlib
import inspect
import re
from collections.abc import Iterator

AGENT_SECTIONS = ("actor", "critic", "algorithm")
"""Agent config sections whose keys rsl_rl passes as keyword arguments to the constructor of their ``class_name``."""

RUNNER_SUPPLIED_ARGUMENTS = ("device", "multi_gpu_cfg")
"""Constructor arguments that rsl_rl's ``construct_algorithm`` sets itself, so a config cannot set them."""

UNEXPECTED_KEYWORD = re.compile(r"got an unexpected keyword argument '(?P<key>\w+)'")
"""Python's ``TypeError`` message for a keyword argument that a callable does not accept."""


class ConfigError(ValueError):
    """A mistake in the user's flags or config, reported as one ``[ERROR]`` line without a traceback."""


def constructor_keys(cls: type) -> list[str]:
    """Return the keyword arguments that a config may pass to ``cls``, following ``**kwargs`` up the class tree.

    Args:
        cls: Class whose ``__init__`` receives a config section's keys.

    Returns:
        Names of the constructor's parameters that have defaults, and those of the base classes that a
        ``**kwargs`` parameter forwards to, without :data:`RUNNER_SUPPLIED_ARGUMENTS`.
    """
    keys: list[str] = []
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(vars(klass)["__init__"]).parameters.values()
        keys += [p.name for p in parameters if p.default is not p.empty and p.name not in keys]
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return [key for key in keys if key not in RUNNER_SUPPLIED_ARGUMENTS]


def unknown_key_error(error: TypeError, agent_cfg: dict) -> ConfigError | None:
    """Return the :class:`ConfigError` for a ``TypeError`` caused by an unknown key in an agent config section.

    Args:
        error: Error raised while rsl_rl constructed the actor, critic or algorithm.
        agent_cfg: The agent config the runner was built from.

    Returns:
        The error naming the section, the unknown key and the valid keys, or None when ``error`` is not about a key
        of one of :data:`AGENT_SECTIONS` (then it is not a config mistake).
    """
    from rsl_rl.utils.utils import resolve_callable  # rsl_rl (and torch) only once there is an error to report

    match = UNEXPECTED_KEYWORD.search(str(error))
    if match is None:
        return None
    key = match["key"]
    for section in AGENT_SECTIONS:
        section_cfg = agent_cfg.get(section)
        if not isinstance(section_cfg, dict) or key not in section_cfg:
            continue
        valid_keys = constructor_keys(resolve_callable(section_cfg["class_name"]))
        if key not in valid_keys:
            return ConfigError(
                f"Unknown key 'agent.{section}.{key}' for {section_cfg['class_name']}. Valid: {', '.join(valid_keys)}."
            )
    return None


@contextlib.contextmanager
def agent_construction_errors(agent_cfg: dict) -> Iterator[None]:
    """Raise a :class:`ConfigError` for the errors that a mistaken agent config causes inside the block.

    An unknown key of an agent section becomes a :class:`ConfigError` naming the valid keys; a ``ValueError`` (the
    model's or algorithm's check of a value) one with the library's message. Other errors propagate unchanged.

    Args:
        agent_cfg: The agent config the block builds the runner from.
    """
    try:
        yield
    except TypeError as error:
        config_error = unknown_key_error(error, agent_cfg)
        if config_error is None:
            raise
        raise config_error from error
    except ValueError as error:
        raise ConfigError(f"Invalid agent config: {error}") from error
