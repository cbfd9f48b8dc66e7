"""The W&B check of the IsaacLab train path, without a simulation."""

from __future__ import annotations

import pytest

from genpo_ext.isaaclab import train


def test_installed_wandb_meets_the_requirement():
    """The W&B that the project's setup installs works with IsaacLab's train path."""
    train.check_wandb_version()


@pytest.mark.parametrize(("requirement", "installed"), [("wandb<0.1", "0."), ("no-such-package", "none")])
def test_unmet_requirement_ends_in_one_error_line(monkeypatch, requirement, installed):
    """A W&B that IsaacLab cannot use, or none, is reported with the requirement to install."""
    monkeypatch.setattr(train, "WANDB_REQUIREMENT", requirement)
    with pytest.raises(SystemExit, match=f"needs {requirement}, installed: {installed}") as error:
        train.check_wandb_version()
    assert str(error.value).startswith("[ERROR] genpo_ext: ") and f"pip install '{requirement}'" in str(error.value)
