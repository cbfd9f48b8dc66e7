"""Steps shared by the IsaacLab train, play and evaluate entries: asset root, task registration and id, kit-less
physics, device."""

from __future__ import annotations

import os

from . import offline_assets

AGENT_OVERRIDE_PREFIX = "agent."
"""Prefix of the Hydra overrides that address the agent config."""

PHYSICS_OVERRIDE_PREFIX = "env.sim.physics="
"""Hydra override that selects one of a task's physics presets."""

KITLESS_PHYSICS_PRESET = "newton_mjwarp"
"""Physics preset that runs without Isaac Sim (Newton with MuJoCo Warp), offered by IsaacLab's multi-backend tasks."""

KIT_PHYSICS_CFG = "PhysxCfg"
"""Class name of the physics config that needs Isaac Sim (IsaacLab's own launch scan tests the same name)."""

CPU_TORCH_THREADS = 1
"""Torch intra-op threads on the CPU: the small networks gain nothing from more, while idle worker threads spinning
next to the simulation slowed a shared 2-core machine down more than tenfold (28 s instead of 1.8 s per Cartpole
iteration). ``OMP_NUM_THREADS`` set by the user wins."""


def resolve_task_or_exit(task: str) -> str:
    """Like :func:`resolve_task`, but ends the program with the error's message instead of a traceback."""
    from .task_aliases import UnknownTaskError

    try:
        return resolve_task(task)
    except (UnknownTaskError, FileNotFoundError) as error:
        raise SystemExit(f"[ERROR] genpo_ext: {error}") from None


def resolve_task(task: str) -> str:
    """Prepare IsaacLab and return the registered IsaacLab 3 id of a task given by an IsaacLab 3 or 2 id.

    Selects the asset root first (it must precede every IsaacLab task import), registers the GenPO configs, and
    fails fast when the task's assets are missing from a local asset root.

    Args:
        task: Task id as typed by the user.

    Raises:
        UnknownTaskError: If the task does not exist in IsaacLab 3.
        FileNotFoundError: If the task's assets are missing from a local asset root.
    """
    offline_assets.configure_asset_root()
    import gymnasium as gym

    from . import registration  # noqa: F401
    from .task_aliases import resolve_task_id

    task_id = resolve_task_id(task, gym.registry.keys())
    if task_id != task:
        print(f"[INFO] genpo_ext: task '{task}' resolves to the IsaacLab 3 task '{task_id}'.")
    if offline_assets.local_asset_root() is not None:
        from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

        offline_assets.check_assets_exist(load_cfg_from_registry(task_id, "env_cfg_entry_point"))
    return task_id


def with_kitless_physics(task_id: str, overrides: list[str]) -> list[str]:
    """Return the overrides, plus ``env.sim.physics=newton_mjwarp`` when the task needs it to run kit-less.

    A task whose default physics preset is Isaac Sim's PhysX (IsaacLab 3's flat ANYmal-C) cannot start without
    Isaac Sim. When Isaac Sim is not installed and the task offers the kit-less preset, that preset is selected (the
    task's own, tuned for it) and one line says so; a physics override of the user's always wins.

    Args:
        task_id: Registered task id.
        overrides: ``env.*`` / ``agent.*`` Hydra overrides.
    """
    if any(token.startswith(PHYSICS_OVERRIDE_PREFIX) for token in overrides):
        return list(overrides)
    from isaaclab_physx.app.kit_launcher import KitLauncher
    from isaaclab_tasks.utils import PresetCfg
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    if KitLauncher.is_available():
        return list(overrides)
    physics = getattr(load_cfg_from_registry(task_id, "env_cfg_entry_point").sim, "physics", None)
    if not isinstance(physics, PresetCfg) or type(physics.default).__name__ != KIT_PHYSICS_CFG:
        return list(overrides)
    if getattr(physics, KITLESS_PHYSICS_PRESET, None) is None:
        return list(overrides)
    override = f"{PHYSICS_OVERRIDE_PREFIX}{KITLESS_PHYSICS_PRESET}"
    print(
        f"[INFO] genpo_ext: {task_id} defaults to Isaac Sim's PhysX and Isaac Sim is not installed; using the task's"
        f" own kit-less physics preset ({override})."
    )
    return [*overrides, override]


def resolve_device(device: str | None) -> str:
    """Return the requested device, or the first GPU when one is available and the CPU otherwise.

    On the CPU, also limits torch to :data:`CPU_TORCH_THREADS` threads unless ``OMP_NUM_THREADS`` is set.
    """
    import torch

    device = device or ("cuda:0" if torch.cuda.is_available() else "cpu")
    if device == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(CPU_TORCH_THREADS)
    return device
