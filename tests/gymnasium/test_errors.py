"""Config mistakes turned into one-line errors: the valid keys of a section, and what stays a traceback."""

from __future__ import annotations

import os
import pathlib

import pytest
from rsl_rl.algorithms import PPO
from rsl_rl.models import MLPModel

from genpo_ext.algorithms import GenPO
from genpo_ext.gymnasium_backend.errors import ConfigError, agent_construction_errors, constructor_keys
from genpo_ext.gymnasium_backend.train import WANDB_DIR_VARIABLE, configure_logger

AGENT_CFG = {
    "actor": {"class_name": "MLPModel", "hidden_dims": [8]},
    "critic": {"class_name": "MLPModel", "hidden_dim": [8]},
    "algorithm": {"class_name": "genpo_ext.algorithms:GenPO", "learning_rat": 1.0},
}
"""An agent config with a misspelt critic key and a misspelt algorithm key."""


def test_constructor_keys_follow_kwargs_to_the_base_class():
    """GenPO's keys include PPO's, which its ``**kwargs`` forward; keys that rsl_rl passes itself are left out."""
    genpo_keys = constructor_keys(GenPO)
    assert {"compression_coef", "kl_estimator", "learning_rate", "desired_kl"} <= set(genpo_keys)
    assert set(constructor_keys(PPO)) < set(genpo_keys)
    assert not {"device", "multi_gpu_cfg", "actor", "kwargs"} & set(genpo_keys)
    assert constructor_keys(MLPModel) == ["hidden_dims", "activation", "obs_normalization", "distribution_cfg"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("MLPModel.__init__() got an unexpected keyword argument 'hidden_dim'", "'agent.critic.hidden_dim' for MLPModel"),
        ("PPO.__init__() got an unexpected keyword argument 'learning_rat'", "'agent.algorithm.learning_rat' for genpo_ext"),
    ],
)  # fmt: skip
def test_unknown_key_becomes_a_config_error_naming_the_valid_keys(message, expected):
    """An unexpected keyword that the config's section holds is reported with the section's valid keys."""
    with pytest.raises(ConfigError, match=f"Unknown key {expected}.* Valid: .*") as error:
        with agent_construction_errors(AGENT_CFG):
            raise TypeError(message)
    assert isinstance(error.value.__cause__, TypeError)


def test_other_errors_keep_their_traceback():
    """A ``TypeError`` that is not about a config key, or any other error (a bug, not a mistake), propagates
    unchanged."""
    not_about_a_key = TypeError("'int' object is not iterable")
    not_in_the_cfg = TypeError("f() got an unexpected keyword argument 'not_in_the_cfg'")
    for bug in (not_about_a_key, not_in_the_cfg, RuntimeError("shape mismatch")):
        with pytest.raises(type(bug)) as raised:
            with agent_construction_errors(AGENT_CFG):
                raise bug
        assert raised.value is bug


def test_invalid_value_becomes_a_config_error_with_the_librarys_message():
    """A value that a model or algorithm rejects is reported with its own message."""
    with pytest.raises(ConfigError, match=r"^Invalid agent config: p must lie in \(0, 1\]$"):
        with agent_construction_errors(AGENT_CFG):
            raise ValueError("p must lie in (0, 1]")


def test_configure_logger_checks_the_name_and_defaults_the_wandb_project(tmp_path, monkeypatch):
    """An unknown logger lists rsl_rl's writers; W&B gets the experiment as project and the run folder as its dir,
    unless the user chose them."""
    with pytest.raises(ConfigError, match="Unknown logger 'agent.logger=wandbb'. Valid: tensorboard, wandb, neptune."):
        configure_logger({"logger": "wandbb"}, "Ant-v5_genpo", tmp_path)
    # set, then removed, so that the teardown restores the variable's state before the test
    monkeypatch.setenv(WANDB_DIR_VARIABLE, "unset")
    monkeypatch.delenv(WANDB_DIR_VARIABLE)
    agent_cfg = {"logger": "wandb"}
    configure_logger(agent_cfg, "Ant-v5_genpo", tmp_path)
    assert agent_cfg["wandb_project"] == "Ant-v5_genpo"
    assert pathlib.Path(os.environ[WANDB_DIR_VARIABLE]) == tmp_path.resolve()
    agent_cfg = {"logger": "wandb", "wandb_project": "mine"}
    configure_logger(agent_cfg, "Ant-v5_genpo", tmp_path / "other")
    assert agent_cfg["wandb_project"] == "mine" and pathlib.Path(os.environ[WANDB_DIR_VARIABLE]) == tmp_path.resolve()
    agent_cfg = {"logger": "tensorboard"}
    configure_logger(agent_cfg, "Ant-v5_genpo", tmp_path)
    assert "wandb_project" not in agent_cfg
