"""What a comparison checks before anything trains: each spec's keys and values (:func:`load_spec`), its task and
what its ``env.*`` / ``agent.*`` overrides name, with one sentence per mistake that names what is valid."""

from __future__ import annotations

import difflib
import pathlib

from genpo_ext.experiments.spec import CompareSpec, SpecError, load_spec
from genpo_ext.gymnasium_backend import is_gymnasium_task
from genpo_ext.versions import isaaclab_generation

MAX_CLOSE_MATCHES = 5
"""Number of similar task ids an unknown-task sentence lists."""

CLOSE_MATCH_CUTOFF = 0.5
"""Similarity in [0, 1] above which a registered id counts as similar."""

CONTINUOUS_CONTROL_EXAMPLES = ("HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Ant-v5")
"""Gymnasium tasks with continuous actions, named when a task's actions are not continuous."""


def task_problem(task: str) -> str | None:
    """Return why ``task`` cannot be trained, or None when it can (as far as this installation can tell).

    A gymnasium task must have continuous actions (a 1-D ``Box``). Any other id must be an IsaacLab 3 task (or an
    IsaacLab 2 id of one) whose assets are available; IsaacLab 2.3 tasks load only once Isaac Sim runs, so they are
    checked when their run starts.
    """
    import gymnasium as gym

    if is_gymnasium_task(task):
        try:
            env = gym.make(task)
        except (gym.error.Error, ImportError) as error:
            return f"Task '{task}' cannot be made: {error}"
        space = env.action_space
        env.close()
        if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
            return None
        return (
            f"Task '{task}' has the action space {space}; GenPO and rsl_rl's PPO need continuous actions, a 1-D Box."
            f" Valid: continuous-control tasks, e.g. {', '.join(CONTINUOUS_CONTROL_EXAMPLES)}."
        )
    generation = isaaclab_generation()
    if generation == 3:
        from genpo_ext.isaaclab.launch import resolve_task
        from genpo_ext.isaaclab.task_aliases import UnknownTaskError

        try:
            resolve_task(task)
        except (UnknownTaskError, FileNotFoundError) as error:
            return str(error)
        return None
    if generation == 2:
        return None
    matches = difflib.get_close_matches(task, list(gym.registry), n=MAX_CLOSE_MATCHES, cutoff=CLOSE_MATCH_CUTOFF)
    hint = f" Close matches: {', '.join(matches)}." if matches else ""
    return f"Task '{task}' is no gymnasium task, and no IsaacLab is installed to look it up among its tasks.{hint}"


def override_problems(spec: CompareSpec) -> list[str]:
    """Return one sentence per override of the spec (its own and its variants') that names nothing its run takes.

    The task must exist (:func:`task_problem`). An override of the spec is reported once, one of a variant with the
    variant's label.

    Raises:
        ValueError: If an IsaacLab task has no config for a variant's algorithm, with IsaacLab's reason.
    """
    if is_gymnasium_task(spec.task):
        from genpo_ext.gymnasium_backend.overrides import override_problems as problems_of
    elif isaaclab_generation() == 3:
        from genpo_ext.isaaclab.launch import resolve_task
        from genpo_ext.isaaclab.overrides import override_problems as isaaclab_problems

        task_id = resolve_task(spec.task)

        def problems_of(task: str, algo: str, overrides: list[str]) -> dict[str, str]:
            return isaaclab_problems(task_id, algo, overrides)
    else:
        return []
    spec_level, variant_level = {}, []
    for variant in spec.variants:
        problems = problems_of(spec.task, variant.algo, [*spec.overrides, *variant.overrides])
        for token, problem in problems.items():
            if token in variant.overrides:
                variant_level.append(f"algorithm '{variant.label}': {problem}")
            else:
                spec_level.setdefault(token, problem)
    return [*spec_level.values(), *variant_level]


def spec_problems(spec: CompareSpec) -> list[str]:
    """Return one sentence per mistake in a loaded spec: its task, then its overrides."""
    problem = task_problem(spec.task)
    if problem is not None:
        return [problem]
    try:
        return override_problems(spec)
    except ValueError as error:
        return [str(error)]


def load_checked_specs(paths: list[pathlib.Path]) -> tuple[list[CompareSpec], list[str]]:
    """Load and check every spec.

    Returns:
        The specs without mistakes, and one line per spec with mistakes: ``<path>: <mistake>; <mistake>``.
    """
    specs, errors = [], []
    for path in paths:
        try:
            spec = load_spec(path)
        except SpecError as error:
            errors.append(f"{path}: {error}")
            continue
        problems = [problem.rstrip(".") for problem in spec_problems(spec)]
        if problems:
            line = f"{path}: {'; '.join(problems)}"
            errors.append(line if line.endswith("?") else f"{line}.")
        else:
            specs.append(spec)
    return specs, errors
