"""IsaacLab 2.3 configuration classes that select GenPO in an rsl_rl 3 agent config.

Use them like IsaacLab 2.3's stock rsl_rl configs::

    @configclass
    class MyTaskGenPORunnerCfg(RslRlOnPolicyRunnerCfg):
        policy = RslRlGenPOActorCriticCfg(
            actor_obs_normalization=False,
            critic_obs_normalization=False,
            actor_hidden_dims=[256, 128, 64],
            critic_hidden_dims=[256, 128, 64],
        )
        algorithm = RslRlGenPOAlgorithmCfg(learning_rate=1e-3, ...)

``class_name`` names the classes that ``import genpo_ext`` registers in rsl_rl 3's runner.
"""

from __future__ import annotations

from dataclasses import MISSING
from typing import Literal

from isaaclab.utils import configclass
from isaaclab_rl.rsl_rl import RslRlPpoAlgorithmCfg

from genpo_ext.isaaclab.paper_hyperparameters import (
    PAPER_SHARED_HYPERPARAMETERS,
    PAPER_TIME_EMBED_DIM,
    PAPER_TIME_HIDDEN_DIMS,
)

GENPO_POLICY_CLASS_NAME = "GenPOActorCritic"
"""rsl_rl 3 class name of the GenPO flow actor-critic."""

GENPO_ALGORITHM_CLASS_NAME = "GenPO"
"""rsl_rl 3 class name of the GenPO algorithm."""


@configclass
class RslRlGenPOActorCriticCfg:
    """Configuration of the GenPO actor-critic (:class:`genpo_ext.models.GenPOActorCritic`).

    The actor samples a doubled latent and pushes it through an exactly invertible flow, which defines the action
    distribution; the critic is an MLP. Field names follow :class:`RslRlPpoActorCriticCfg` where they mean the same.
    """

    class_name: str = GENPO_POLICY_CLASS_NAME
    """The policy class name. Defaults to the GenPO actor-critic."""

    actor_obs_normalization: bool = MISSING
    """Whether to normalize the observations of the actor with running statistics."""

    critic_obs_normalization: bool = MISSING
    """Whether to normalize the observations of the critic with running statistics."""

    actor_hidden_dims: list[int] = MISSING
    """Hidden layer sizes of the flow's velocity network."""

    critic_hidden_dims: list[int] = MISSING
    """Hidden layer sizes of the critic network."""

    activation: str = PAPER_SHARED_HYPERPARAMETERS.activation
    """Activation of the velocity and time-embedding networks. Defaults to Mish, as in the paper."""

    critic_activation: str | None = None
    """Activation of the critic network. Defaults to None: the same as :attr:`activation`."""

    noise_std_type: Literal["fixed", "scalar", "log", "state"] = "fixed"
    """Scale sigma of the flow's latent noise: ``"fixed"`` (1, the paper), ``"scalar"`` (sigma learned), ``"log"``
    (log sigma learned) or ``"state"`` (log sigma plus a bounded head on the observation). Defaults to ``"fixed"``."""

    init_noise_std: float = 1.0
    """Initial sigma of a learned latent noise scale (``"fixed"`` needs 1.0). Defaults to 1.0."""

    min_noise_std: float = 0.0
    """Lower bound of a learned sigma in [0, init_noise_std] (a floor on the latent noise, not on the env action's
    spread, which the flow can still narrow). Defaults to 0.0: unbounded."""

    num_flow_steps: int = PAPER_SHARED_HYPERPARAMETERS.num_flow_steps
    """Number of flow steps N. Defaults to 5, as in the paper."""

    mixing_coef: float = PAPER_SHARED_HYPERPARAMETERS.mixing_coef
    """Mixing coefficient p in (0, 1] of the coupling layers. Defaults to 0.9, as in the paper."""

    time_embed_dim: int = PAPER_TIME_EMBED_DIM
    """Number of sinusoidal time features. Defaults to 32, as in the paper."""

    time_hidden_dims: list[int] = list(PAPER_TIME_HIDDEN_DIMS)
    """Hidden layer sizes of the time-embedding MLP. Defaults to [256, 256], as in the paper."""

    compile_activation: Literal["auto", "always", "never"] = "auto"
    """When Mish runs as a compiled kernel: ``"auto"`` (on the CPU), ``"always"`` or ``"never"``. Defaults to
    ``"auto"``."""

    max_noise_std: float | None = None
    """Smooth upper bound of a learned sigma (a cap on the latent noise); None leaves it unbounded. Defaults to
    None."""

    action_bound: float | None = None
    """Half-width b of an action box inside the flow (both halves pass through ``b * tanh``; the density stays
    exact); None keeps the paper's unbounded actions. Defaults to None."""

    deterministic_mode: Literal["zero", "mean", "likeliest"] = "zero"
    """The deployed action of ``act_inference``, play and the exports: ``"zero"`` (the zero latent), ``"mean"`` (the
    mean of K fixed draws' env actions after :attr:`action_clip`) or ``"likeliest"`` (the most likely of K fixed
    draws under the exact density). Defaults to ``"zero"``."""

    deterministic_samples: int = 16
    """Number K of fixed draws of the ``"mean"`` and ``"likeliest"`` deployed actions. Defaults to 16."""

    deterministic_temperature: float = 1.0
    """Scale in (0, 1] of those draws relative to the policy's latent noise. Defaults to 1.0."""

    action_clip: float | None = None
    """Symmetric bound the environment clips actions to, applied to each draw of the ``"mean"`` deployed action;
    configs derived from a task copy the agent config's ``clip_actions``. Defaults to None."""


@configclass
class RslRlGenPOAlgorithmCfg(RslRlPpoAlgorithmCfg):
    """Configuration of the GenPO algorithm (:class:`genpo_ext.algorithms.GenPO` under rsl_rl 3), a PPO with a flow
    policy.

    All PPO fields keep their meaning. GenPO rejects :attr:`symmetry_cfg`.
    """

    class_name: str = GENPO_ALGORITHM_CLASS_NAME
    """The algorithm class name. Defaults to GenPO."""

    compression_coef: float = PAPER_SHARED_HYPERPARAMETERS.compression_coef
    """Weight nu of the compression loss on the gap between the two action halves; 0 disables it.

    Defaults to 0.01, as in the paper."""

    compression_loss: Literal["squared", "l2"] = "squared"
    """Form of the compression loss: ``"squared"`` (the paper's formula) or ``"l2"`` (the official code's
    unsquared norm). Defaults to ``"squared"``."""

    compression_batch_fraction: float = 1.0
    """Fraction in (0, 1] of each minibatch on which fresh samples feed the compression loss (less is cheaper,
    unbiased and noisier; 0.25 kept HalfCheetah-v5's return over 3 seeds, see results/README.md). Defaults to 1.0,
    as in the paper."""

    entropy_term: Literal["paper", "exact"] = "paper"
    """What ``entropy_coef`` weights: ``"paper"`` (the cross-entropy of stored actions, as the official code) or
    ``"exact"`` (the flow's closed-form entropy, which a learned noise scale can change). Defaults to ``"paper"``."""

    entropy_target: float | None = None
    """Target entropy per action dimension (nats) of a learned entropy coefficient that starts at ``entropy_coef``
    (needs ``entropy_term="exact"``); None keeps ``entropy_coef`` fixed. Defaults to None."""

    entropy_coef_lr: float = 0.01
    """Step size of the learned entropy coefficient's logarithm per minibatch. Defaults to 0.01."""

    kl_estimator: Literal["paper", "k3"] = "paper"
    """KL estimate driving the adaptive learning rate: ``"paper"`` (mean log-ratio, as the official code) or
    ``"k3"`` (non-negative, lower variance). Defaults to ``"paper"``."""
