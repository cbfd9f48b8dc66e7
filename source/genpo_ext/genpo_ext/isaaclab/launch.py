"""Steps shared by the IsaacLab train and play entries: asset root, task registration and id, device."""

from __future__ import annotations

import os

from . import offline_assets

AGENT_OVERRIDE_PREFIX = "agent."
"""Prefix of the Hydra overrides that address the agent config."""

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


def resolve_device(device: str | None) -> str:
    """Return the requested device, or the first GPU when one is available and the CPU otherwise.

    On the CPU, also limits torch to :data:`CPU_TORCH_THREADS` threads unless ``OMP_NUM_THREADS`` is set.
    """
    import torch

    device = device or ("cuda:0" if torch.cuda.is_available() else "cpu")
    if device == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(CPU_TORCH_THREADS)
    return device
