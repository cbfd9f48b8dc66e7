"""Generation detection (rsl_rl and IsaacLab), and ``import genpo_ext`` under rsl_rl 3: no torch at import, and
GenPO's class names in rsl_rl 3's runner whichever of the two modules is imported first (each in a fresh
interpreter)."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import pathlib
import pytest
import subprocess
import sys

from genpo_ext import versions
from genpo_ext.versions import installed_rsl_rl_version, isaaclab_generation, rsl_rl_generation

SETUP_PY = pathlib.Path(__file__).resolve().parents[2] / "setup.py"
"""The package's setup script, which declares the supported rsl_rl releases to pip."""

REGISTERED_NAMES = ("GenPOActorCritic", "GenPO", "GenPOAlgorithm")
"""Class names rsl_rl 3's runner must resolve after ``import genpo_ext``."""

CHECK_REGISTERED = (
    "import rsl_rl.runners.on_policy_runner as runner_module; "
    f"print(all(hasattr(runner_module, name) for name in {REGISTERED_NAMES!r}))"
)
"""Python statement printing whether every name is in the runner module's namespace."""


def run_python(code: str, extra_path: pathlib.Path | None = None) -> str:
    """Run ``code`` in a fresh interpreter of this environment (with ``extra_path`` first on the import path) and
    return its stripped standard output."""
    env = {**os.environ, "PYTHONPATH": str(extra_path)} if extra_path else None
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def test_this_environment_is_the_rsl_rl3_one_without_isaaclab() -> None:
    assert rsl_rl_generation() == 3 and installed_rsl_rl_version().startswith("3.")
    assert isaaclab_generation() is None


def test_package_import_imports_neither_torch_nor_rsl_rl() -> None:
    code = "import sys, genpo_ext; print(sorted({'torch', 'rsl_rl'} & set(sys.modules)))"
    assert run_python(code) == "[]"


@pytest.mark.parametrize(
    "imports",
    [
        "import genpo_ext; from rsl_rl.runners import OnPolicyRunner",
        "from rsl_rl.runners import OnPolicyRunner; import genpo_ext",
    ],
    ids=["genpo_ext first", "runner first"],
)
def test_runner_resolves_the_class_names_whatever_the_import_order(imports: str) -> None:
    assert run_python(f"{imports}; {CHECK_REGISTERED}") == "True"


def test_runner_without_genpo_ext_does_not_know_the_names() -> None:
    assert run_python(CHECK_REGISTERED) == "False"


@pytest.mark.parametrize(
    "version,generation",
    [("3.0.1", 3), ("3.1.2", 3), ("3.2.0", None), ("4.0.1", None), ("5.5.1", 5), ("5.5.2.dev0", 5), ("5.6.0", None)],
)
def test_rsl_rl_generation_covers_the_supported_releases_only(monkeypatch, version: str, generation: int | None):
    monkeypatch.setattr(importlib.metadata, "version", lambda distribution: version)
    assert rsl_rl_generation() == generation
    if generation is None:
        with pytest.raises(versions.UnsupportedRslRlError, match=f"installed: {version}"):
            versions.require_rsl_rl_generation()


@pytest.mark.parametrize(
    "packages,generation",
    [
        ((), None),
        (("isaaclab",), 2),
        (("isaaclab", "isaaclab_rl"), 2),
        (("isaaclab", "isaaclab_rl", "isaaclab_rl/entrypoints"), 3),
    ],
)
def test_isaaclab_generation_is_read_from_the_installed_packages(tmp_path, packages: tuple[str, ...], generation):
    for package in packages:
        (tmp_path / package).mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
    if not packages:
        # a plain folder named like IsaacLab on the import path (a namespace package) is not IsaacLab
        (tmp_path / "isaaclab").mkdir()
    code = "from genpo_ext.versions import isaaclab_generation; print(isaaclab_generation())"
    assert run_python(code, extra_path=tmp_path) == str(generation)


def test_setup_py_declares_exactly_the_supported_releases(monkeypatch) -> None:
    from packaging.requirements import Requirement

    tree = ast.parse(SETUP_PY.read_text())
    declared = next(
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "RSL_RL_REQUIREMENT"
    )
    requirement = Requirement(declared)
    assert requirement.name == versions.RSL_RL_DISTRIBUTION
    for version in ("3.0.0", "3.0.1", "3.1.2", "3.2.0", "3.3.0", "4.0.1", "5.4.2", "5.5.0", "5.5.1", "5.5.7", "5.6.0"):
        monkeypatch.setattr(importlib.metadata, "version", lambda distribution, version=version: version)
        assert (version in requirement.specifier) == (rsl_rl_generation() is not None), version
