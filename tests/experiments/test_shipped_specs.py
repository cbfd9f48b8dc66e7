"""The comparison specs shipped in ``config/``: each loads, its overrides name keys that the configured classes
accept, and specs that share a run folder agree on what each of its runs is."""

from __future__ import annotations

import collections
import pathlib

import pytest

from genpo_ext.experiments.deploy_study import recorded_runs
from genpo_ext.experiments.spec import load_spec
from genpo_ext.experiments.sweep import train_command
from genpo_ext.gymnasium_backend import is_gymnasium_task
from genpo_ext.gymnasium_backend.config import apply_overrides, load_task_cfg
from genpo_ext.gymnasium_backend.errors import AGENT_SECTIONS, constructor_keys, resolve_class_name

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
"""Root of the repository, where the specs live."""

TRAIN_SCRIPT = REPOSITORY / "scripts" / "train.py"
"""The training script the sweeps run."""

SPECS = {path.name: load_spec(path) for path in sorted((REPOSITORY / "config").glob("*.yaml"))}
"""Every shipped spec by file name."""

GYMNASIUM_SPECS = [name for name, spec in SPECS.items() if is_gymnasium_task(spec.task)]
"""The specs whose runs train on gymnasium tasks, whose agent configs come from the package's agent table."""


def test_the_learned_noise_and_wall_time_specs_are_shipped():
    expected = {"compare_halfcheetah_compression_fraction.yaml"}
    tasks = ("halfcheetah", "ant", "hopper")
    expected |= {f"study_noise_{kind}{task}.yaml" for kind in ("", "entropy_", "screen_", "compression_") for task in tasks}
    assert expected <= set(GYMNASIUM_SPECS)


@pytest.mark.parametrize("name", GYMNASIUM_SPECS)
def test_every_agent_override_names_a_key_of_its_section(name: str):
    """A misspelt key would only fail when its run starts, hours into a sweep."""
    spec = SPECS[name]
    for variant in spec.variants:
        overrides = [*spec.overrides, *variant.overrides]
        env_cfg, agent_cfg = load_task_cfg(spec.task, variant.algo)
        apply_overrides(env_cfg, agent_cfg, overrides)
        for token in overrides:
            keys = token.partition("=")[0].split(".")
            if keys[0] == "agent" and len(keys) == 3 and keys[1] in AGENT_SECTIONS:
                section_class = resolve_class_name(agent_cfg[keys[1]]["class_name"])
                assert keys[2] in constructor_keys(section_class), f"{name}: {variant.label}: {token}"


def test_specs_sharing_a_log_root_define_each_label_the_same_way():
    """Sweeps skip a run that another spec finished with the same command, so within a log root a label must
    give the same ``scripts/train.py`` command (for the same seed) in every spec, or specs retrain each other's runs."""
    definitions = collections.defaultdict(dict)
    for name, spec in SPECS.items():
        for variant in spec.variants:
            command = tuple(train_command(spec, variant, seed=1, train_script=TRAIN_SCRIPT))
            definitions[(spec.log_root, variant.label)][name] = command
    conflicts = {key: specs for key, specs in definitions.items() if len(set(specs.values())) > 1}
    assert not conflicts


@pytest.mark.parametrize("name", [name for name, spec in SPECS.items() if spec.recorded_runs is not None])
def test_every_recorded_label_has_runs_in_the_shipped_file(name: str, monkeypatch: pytest.MonkeyPatch):
    """A spec's recorded runs stand in for lost run folders: a moved file or a misspelt label would drop them from
    the study's tables without a word."""
    monkeypatch.chdir(REPOSITORY)
    spec = SPECS[name]
    assert {run.label for run in recorded_runs(spec)} == {label for label, _ in spec.recorded_runs.labels}
