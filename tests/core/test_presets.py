"""The GenPO presets behind ``--algo``: the choices, the paper's preset, and applying a preset to config objects."""

from __future__ import annotations

import dataclasses
import pathlib
import subprocess
import sys

import pytest

from genpo_ext.presets import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    GENPO_PRESETS,
    GenPOPreset,
    algorithm_help,
    apply_to_cfg,
    genpo_preset,
)

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
"""Root of the repository, where the comparison specs live."""


@dataclasses.dataclass
class PolicyCfg:
    """A stand-in for a configclass that names the actor's hidden sizes differently."""

    actor_hidden_dims: list[int] = dataclasses.field(default_factory=lambda: [8])
    noise_std_type: str = "fixed"


def test_the_choices_are_the_presets_then_ppo_and_the_default_is_the_papers_genpo():
    assert ALGORITHMS == ("genpo", "genpo_recommended", "ppo")
    assert DEFAULT_ALGORITHM == "genpo"


def test_genpo_changes_nothing_and_the_recommended_preset_changes_something():
    paper, recommended = GENPO_PRESETS["genpo"], GENPO_PRESETS["genpo_recommended"]
    assert (dict(paper.actor), dict(paper.algorithm)) == ({}, {})
    assert recommended.actor or recommended.algorithm
    assert all(preset.name == name for name, preset in GENPO_PRESETS.items())


def test_unknown_preset_names_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown GenPO preset 'genpo_best'. Valid: genpo, genpo_recommended."):
        genpo_preset("genpo_best")


def test_help_names_every_choice_and_the_recommended_changes():
    text = algorithm_help()
    assert all(f"{algo}:" in text for algo in ALGORITHMS)
    recommended = GENPO_PRESETS["genpo_recommended"]
    assert all(f"actor.{key}={value}" in text for key, value in recommended.actor.items())
    assert all(f"algorithm.{key}={value}" in text for key, value in recommended.algorithm.items())


def test_apply_to_cfg_sets_copies_renames_and_rejects_unknown_keys():
    preset = GenPOPreset("test", "a test preset", actor={"hidden_dims": [4, 4], "noise_std_type": "log"}, algorithm={})
    cfg = PolicyCfg()
    apply_to_cfg(cfg, preset.actor, "actor", renamed={"hidden_dims": "actor_hidden_dims"})
    assert (cfg.actor_hidden_dims, cfg.noise_std_type) == ([4, 4], "log")
    cfg.actor_hidden_dims.append(4)
    assert preset.actor["hidden_dims"] == [4, 4], "the preset's values must be copied, not shared"
    with pytest.raises(ValueError, match=r"'actor.hidden_dims' is not a field of PolicyCfg. Valid: actor_hidden_dims"):
        apply_to_cfg(cfg, preset.actor, "actor")


def test_import_loads_no_third_party_package():
    code = "import sys, genpo_ext.presets; print(sorted({'torch', 'yaml', 'rsl_rl', 'isaaclab'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("task", ["halfcheetah", "ant", "hopper"])
def test_the_final_table_measures_the_recommended_preset(task):
    """The final table's ``genpo_recommended`` row, spelled out key by key, must be what the preset ships."""
    from genpo_ext.experiments.spec import load_spec

    spec = load_spec(REPOSITORY / "config" / f"final_{task}.yaml")
    recommended = GENPO_PRESETS["genpo_recommended"]
    expected = {f"agent.actor.{key}={value}" for key, value in recommended.actor.items()}
    expected |= {f"agent.algorithm.{key}={value}" for key, value in recommended.algorithm.items()}
    (variant,) = [variant for variant in spec.variants if variant.label == "genpo_recommended"]
    assert (variant.algo, set(variant.overrides)) == ("genpo", expected)
