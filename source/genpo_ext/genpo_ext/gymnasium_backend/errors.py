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

from genpo_ext.versions import rsl_rl_generation

AGENT_SECTIONS = ("actor", "critic", "policy", "algorithm")
"""Agent config sections whose keys rsl_rl passes as keyword arguments to the constructor of their ``class_name``
(``policy`` is rsl_rl 3's single actor-critic section, ``actor`` and ``critic`` rsl_rl 5's)."""

RUNNER_SUPPLIED_ARGUMENTS = ("device", "multi_gpu_cfg")
"""Constructor arguments that rsl_rl's ``construct_algorithm`` sets itself, so a config cannot set them."""

UNEXPECTED_KEYWORD = re.compile(r"(?:(?P<owner>\w+)\.__init__\(\) )?got an unexpected keyword argument '(?P<key>\w+)'")
"""Python's ``TypeError`` message for a keyword argument that a callable (here: class ``owner``) does not accept."""


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
    match = UNEXPECTED_KEYWORD.search(str(error))
    if match is None:
        return None
    key = match["key"]
    for section in AGENT_SECTIONS:
        section_cfg = agent_cfg.get(section)
        if not isinstance(section_cfg, dict) or key not in section_cfg:
            continue
        cls = section_class(section_cfg, error, match["owner"])
        if cls is None:
            return None
        valid_keys = constructor_keys(cls)
        if key not in valid_keys:
            class_name = section_cfg.get("class_name", cls.__name__)
            return ConfigError(f"Unknown key 'agent.{section}.{key}' for {class_name}. Valid: {', '.join(valid_keys)}.")
    return None


def section_class(section_cfg: dict, error: TypeError, owner: str | None) -> type | None:
    """Return the class a config section constructs, or None when neither the section nor the error names it.

    rsl_rl 3's runner pops ``class_name`` from the section before constructing; then the class is the one whose
    constructor the failing call ran (a subclass's ``__init__`` frame in the traceback, e.g. ``GenPO`` calling
    ``PPO.__init__``), or else the ``owner`` that Python's message names.
    """
    if "class_name" in section_cfg:
        return resolve_class_name(section_cfg["class_name"])
    if owner is None:
        return None
    named = resolve_class_name(owner)
    traceback, cls = error.__traceback__, named
    while traceback is not None:
        instance = traceback.tb_frame.f_locals.get("self")
        if traceback.tb_frame.f_code.co_name == "__init__" and isinstance(instance, named):
            cls = type(instance)
        traceback = traceback.tb_next
    return cls


def resolve_class_name(class_name: str) -> type:
    """Return the class a config's ``class_name`` names, resolved as the installed rsl_rl's runner resolves it."""
    # rsl_rl (and torch) only once there is an error to report
    if rsl_rl_generation() == 3:
        # rsl_rl 3's runner evaluates class names in its own module
        import rsl_rl.runners.on_policy_runner as runner_module

        return getattr(runner_module, class_name)
    from rsl_rl.utils.utils import resolve_callable

    return resolve_callable(class_name)


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
