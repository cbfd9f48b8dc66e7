"""Steps shared by the IsaacLab train and play entries: asset root, task registration and id, device."""

from __future__ import annotations

from . import offline_assets

AGENT_OVERRIDE_PREFIX = "agent."
"""Prefix of the Hydra overrides that address the agent config."""


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


def resolve_device(device: str | None) -> str:
    """Return the requested device, or the first GPU when one is available and the CPU otherwise."""
    if device is not None:
        return device
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"
