"""Comparison specs: the ``algo`` of a variant is one of ``scripts/train.py``'s ``--algo`` choices."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from genpo_ext.experiments.spec import load_spec


def write_spec(tmp_path: pathlib.Path, algorithms: list | dict) -> pathlib.Path:
    """Write a minimal spec comparing ``algorithms`` and return its path."""
    spec = {
        "task": "HalfCheetah-v5",
        "algorithms": algorithms,
        "seeds": [1],
        "num_envs": 4,
        "num_steps_per_env": 8,
        "iterations": 2,
        "log_root": "runs",
        "output_dir": "report",
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_every_algo_choice_is_accepted(tmp_path):
    spec = load_spec(write_spec(tmp_path, ["ppo", "genpo", "genpo_recommended"]))
    assert [(variant.label, variant.algo) for variant in spec.variants] == [
        ("ppo", "ppo"),
        ("genpo", "genpo"),
        ("genpo_recommended", "genpo_recommended"),
    ]
    assert spec.baseline == "ppo"


def test_unknown_algo_names_the_valid_ones(tmp_path):
    path = write_spec(tmp_path, {"flow": {"algo": "genpo_best"}})
    with pytest.raises(ValueError, match="Algorithm 'flow': 'algo' must be one of genpo, genpo_recommended, ppo."):
        load_spec(path)
