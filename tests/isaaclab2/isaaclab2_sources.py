"""IsaacLab 2.3's pure-python config modules, opened without Isaac Sim for the tests of the IsaacLab 2.3 glue.

IsaacLab 2.3 cannot be imported without Isaac Sim: ``isaaclab.utils``, ``isaaclab_rl.rsl_rl`` and ``isaaclab_tasks``
import simulator modules in their package ``__init__``. The modules these tests need do not: ``configclass`` (with
``dict``, ``string`` and ``array``), the rsl_rl config classes and exporter, the task packages' ``gym.register``
calls and the agent configs. :func:`open_isaaclab2_sources` loads exactly those, unchanged, from IsaacLab 2.3.2's
sources (which ``scripts/setup_rsl_rl3.sh`` unpacks from its PyPI wheel): each package is registered without running
its ``__init__``, so only the submodules that are imported execute. Two stand-ins remain, and are the only code that
is not IsaacLab's: an empty ``warp`` module with the ``warp.array`` type that ``isaaclab.utils.array`` names at import
time, and the ``mdp`` packages opened without their ``__init__``, which re-exports simulator terms (agent configs
import pure-python symmetry functions from them).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import pathlib
import sys
import types

ISAACLAB2_VERSION = "2.3.2"
"""The IsaacLab 2.3 release whose sources the tests read."""

ISAACLAB2_SOURCES = pathlib.Path(sys.prefix) / f"isaaclab-{ISAACLAB2_VERSION}" / "isaaclab" / "source"
"""Where ``scripts/setup_rsl_rl3.sh`` unpacks IsaacLab 2.3.2's sources: inside the test environment."""

RSL_RL_CFG_MODULES = ("rl_cfg", "distillation_cfg", "rnd_cfg", "symmetry_cfg", "exporter")
"""Modules of ``isaaclab_rl.rsl_rl`` that the tests load (``vecenv_wrapper``, the remaining one, needs Isaac Sim)."""

TASK_REGISTRATION_MARKER = "gym.register("
"""Text that marks a task package ``__init__`` registering gym ids."""

TASK_PACKAGE_BLACKLIST = ("utils", ".mdp", "pick_place", "direct.humanoid_amp.motions")
"""Packages that IsaacLab 2.3's ``isaaclab_tasks`` skips when it imports its tasks (its ``_BLACKLIST_PKGS``)."""


def open_isaaclab2_sources(root: pathlib.Path = ISAACLAB2_SOURCES) -> list[str]:
    """Make IsaacLab 2.3's config modules importable and register its tasks in gymnasium's registry.

    Args:
        root: The ``source`` folder of IsaacLab 2.3 (holding ``isaaclab``, ``isaaclab_rl``, ``isaaclab_tasks``).

    Returns:
        The ids of the tasks the sources registered, sorted.

    Raises:
        FileNotFoundError: If the sources are missing (run ``scripts/setup_rsl_rl3.sh``).
    """
    if not root.is_dir():
        raise FileNotFoundError(
            f"IsaacLab {ISAACLAB2_VERSION} sources not found at {root}; run scripts/setup_rsl_rl3.sh."
        )
    import gymnasium as gym

    warp = types.ModuleType("warp")
    warp.array = type("array", (), {})
    sys.modules.setdefault("warp", warp)
    _open_package("isaaclab", root / "isaaclab" / "isaaclab")
    utils = _open_package("isaaclab.utils", root / "isaaclab" / "isaaclab" / "utils")
    utils.configclass = importlib.import_module("isaaclab.utils.configclass").configclass
    _open_package("isaaclab_rl", root / "isaaclab_rl" / "isaaclab_rl")
    rsl_rl_package = _open_package("isaaclab_rl.rsl_rl", root / "isaaclab_rl" / "isaaclab_rl" / "rsl_rl")
    for name in RSL_RL_CFG_MODULES:
        module = importlib.import_module(f"isaaclab_rl.rsl_rl.{name}")
        for attribute in getattr(module, "__all__", None) or [a for a in vars(module) if not a.startswith("_")]:
            setattr(rsl_rl_package, attribute, getattr(module, attribute))

    tasks_root = root / "isaaclab_tasks"
    _open_package("isaaclab_tasks", tasks_root / "isaaclab_tasks")
    for mdp in sorted((tasks_root / "isaaclab_tasks").rglob("mdp/__init__.py")):
        _open_package(_module_name(mdp.parent, tasks_root), mdp.parent)
    before = set(gym.registry)
    for init in sorted((tasks_root / "isaaclab_tasks").rglob("__init__.py")):
        name = _module_name(init.parent, tasks_root)
        if TASK_REGISTRATION_MARKER in init.read_text() and not any(skip in name for skip in TASK_PACKAGE_BLACKLIST):
            importlib.import_module(name)
    return sorted(set(gym.registry) - before)


def _open_package(name: str, path: pathlib.Path) -> types.ModuleType:
    """Register package ``name`` at ``path`` without running its ``__init__``; return it."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = [str(path)]
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module


def _module_name(package_dir: pathlib.Path, source_root: pathlib.Path) -> str:
    """Dotted module name of a package folder below a source root."""
    return ".".join(package_dir.relative_to(source_root).parts)
