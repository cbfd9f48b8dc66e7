"""Which deterministic action of a flow policy an evaluation scores, named by a short label.

A label is ``<mode>[<K>][_t<temperature>]``: ``zero`` (the image of the zero latent, and a Gaussian PPO policy's
mean: zero noise), ``mean16`` (the mean of 16 fixed draws' env actions after the env's clipping), ``likeliest16``
(the most likely of 16 fixed draws under the exact density), ``mean16_t0.5`` (the mean of 16 draws at half the
policy's noise). Setting a label writes the GenPO actor's ``deterministic_*`` keys into a run's agent config, so the
stock runner builds the policy that deploys that action (:class:`genpo_ext.modules.deployment.DeployedAction`).
"""

from __future__ import annotations

import dataclasses
import re

from genpo_ext.evaluation.records import NOT_DEPLOYED
from genpo_ext.modules.deployment import DEPLOY_MODES

DEPLOY_LABEL = re.compile(r"(?P<mode>[a-z]+)(?P<samples>\d+)?(?:_t(?P<temperature>\d+(?:\.\d+)?))?")
"""Form of a deployed-action label."""

DEFAULT_SAMPLES = 16
"""Draws K of a ``mean`` or ``likeliest`` label that names no number (the actor's default)."""

EXAMPLES = ("zero", "mean16", "likeliest16", "mean16_t0.5")
"""Labels named in error messages: the deployed actions of the bounded-exploration study."""

GENPO_MODEL_CLASS_NAMES = ("GenPOActor", "GenPOActorCritic")
"""Class names (after any ``module:``) of GenPO's actor (rsl_rl 5, section ``actor``) and actor-critic (rsl_rl 3,
section ``policy``)."""


@dataclasses.dataclass(frozen=True)
class DeploySetting:
    """A deployed action: the mode, the number K of fixed draws and their temperature."""

    mode: str = "zero"
    """One of :data:`~genpo_ext.modules.deployment.DEPLOY_MODES`."""
    samples: int = DEFAULT_SAMPLES
    """Number K of fixed draws (unused by ``zero``)."""
    temperature: float = 1.0
    """Scale of the draws relative to the policy's noise (unused by ``zero``)."""

    @property
    def label(self) -> str:
        """The short name, e.g. ``zero``, ``mean16`` or ``mean16_t0.5``."""
        if self.mode == "zero":
            return "zero"
        suffix = "" if self.temperature == 1.0 else f"_t{self.temperature:g}"
        return f"{self.mode}{self.samples}{suffix}"

    @classmethod
    def from_label(cls, label: str) -> DeploySetting:
        """Parse a label.

        Raises:
            ValueError: If the label does not name a valid deployed action, naming the valid form and examples.
        """
        match = DEPLOY_LABEL.fullmatch(label)
        if match is None or match["mode"] not in DEPLOY_MODES or (match["mode"] == "zero" and label != "zero"):
            raise ValueError(
                f"Unknown deployed action '{label}'. Valid: <mode>[<K>][_t<temperature>] with mode in "
                f"{list(DEPLOY_MODES)}, e.g. {', '.join(EXAMPLES)}."
            )
        samples = int(match["samples"]) if match["samples"] else DEFAULT_SAMPLES
        temperature = float(match["temperature"]) if match["temperature"] else 1.0
        if samples < 1 or not 0.0 < temperature <= 1.0:
            raise ValueError(f"Deployed action '{label}': K must be >= 1 and the temperature lie in (0, 1].")
        return cls(match["mode"], samples, temperature)

    @classmethod
    def of_agent(cls, agent_cfg: dict) -> DeploySetting:
        """The deployed action a run's agent config builds (``zero`` for a Gaussian policy)."""
        model = genpo_model_cfg(agent_cfg)
        if model is None:
            return cls()
        return cls(
            model.get("deterministic_mode", "zero"),
            model.get("deterministic_samples", DEFAULT_SAMPLES),
            model.get("deterministic_temperature", 1.0),
        )

    def apply_to(self, agent_cfg: dict, action_clip: float | None) -> None:
        """Make a run's agent config deploy this action, in place.

        Args:
            agent_cfg: rsl_rl train config of the run (``params/agent.yaml``).
            action_clip: Symmetric bound the evaluation env clips actions to; recorded in the GenPO actor's config
                unless the run's config records it already (runs made before the key existed).

        Raises:
            ValueError: If the agent is no GenPO policy and the setting is not ``zero``.
        """
        model = genpo_model_cfg(agent_cfg)
        if model is None:
            if self.mode != "zero":
                raise ValueError(
                    f"Deployed action '{self.label}' needs a GenPO flow policy; this run's policy deploys its "
                    "Gaussian mean (label 'zero')."
                )
            return
        model.setdefault("action_clip", action_clip)
        model["deterministic_mode"] = self.mode
        model["deterministic_samples"] = self.samples
        model["deterministic_temperature"] = self.temperature


def genpo_model_cfg(agent_cfg: dict) -> dict | None:
    """The config dict of an agent's GenPO actor (rsl_rl 5) or actor-critic (rsl_rl 3), or None for other models."""
    for section in ("actor", "policy"):
        model = agent_cfg.get(section)
        if isinstance(model, dict) and str(model.get("class_name", "")).split(":")[-1] in GENPO_MODEL_CLASS_NAMES:
            return model
    return None
