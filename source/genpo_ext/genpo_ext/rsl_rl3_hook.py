"""Registration of GenPO's class names in rsl_rl 3's runner, made when the runner module loads.

``import genpo_ext`` under rsl_rl 3 calls :func:`register_with_rsl_rl3_runner`. Registering needs torch, rsl_rl and
the GenPO classes (:mod:`genpo_ext.rsl_rl3_registration`), and IsaacLab 2.3 scripts must start Isaac Sim before
torch is imported; so the package import stays cheap and registers at the latest possible moment instead: at once if
rsl_rl 3's runner module is already loaded, otherwise right after it loads (an import hook that removes itself). A
runner is always constructed after its module loaded, so it always finds the names.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

RUNNER_MODULE = "rsl_rl.runners.on_policy_runner"
"""The module whose namespace rsl_rl 3's runner resolves class names in."""

REGISTRATION_MODULE = "genpo_ext.rsl_rl3_registration"
"""The module that registers the names when it is imported."""


def register_with_rsl_rl3_runner() -> None:
    """Register GenPO's class names in rsl_rl 3's runner now if its module is loaded, else right after it loads."""
    if RUNNER_MODULE in sys.modules:
        importlib.import_module(REGISTRATION_MODULE)
    elif not any(isinstance(finder, _RunnerImportHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RunnerImportHook())


class _RunnerImportHook(importlib.abc.MetaPathFinder):
    """Finds rsl_rl 3's runner module through the other finders and wraps its loader; used once, then removed."""

    def find_spec(self, fullname: str, path, target=None) -> importlib.machinery.ModuleSpec | None:
        """Return the runner module's spec with a registering loader; None for every other module."""
        if fullname != RUNNER_MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisteringLoader(spec.loader)
        return spec


class _RegisteringLoader(importlib.abc.Loader):
    """Executes the runner module with its own loader, then imports :data:`REGISTRATION_MODULE`."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        """Wrap the runner module's own loader."""
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        """Create the module as the wrapped loader does."""
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        """Execute the runner module, then register GenPO's class names in it."""
        self._loader.exec_module(module)
        importlib.import_module(REGISTRATION_MODULE)
