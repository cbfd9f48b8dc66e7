"""IsaacLab configuration classes that select GenPO in an rsl_rl agent config.

Use them like IsaacLab's stock rsl_rl configs::

    @configclass
    class MyTaskGenPORunnerCfg(RslRlOnPolicyRunnerCfg):
        actor = RslRlGenPOActorCfg(hidden_dims=[256, 128, 64])
        critic = RslRlMLPModelCfg(hidden_dims=[256, 128, 64], activation="mish")
        algorithm = RslRlGenPOAlgorithmCfg(learning_rate=1e-3, ...)
"""

from __future__ import annotations

from dataclasses import MISSING
from typing import Literal

from isaaclab.utils import configclass
from isaaclab_rl.rsl_rl import RslRlMLPModelCfg, RslRlPpoAlgorithmCfg

from .paper_hyperparameters import PAPER_SHARED_HYPERPARAMETERS, PAPER_TIME_EMBED_DIM, PAPER_TIME_HIDDEN_DIMS

GENPO_ACTOR_CLASS_NAME = "genpo_ext.models:GenPOActor"
"""rsl_rl class-name string of the GenPO flow actor."""

GENPO_ALGORITHM_CLASS_NAME = "genpo_ext.algorithms:GenPO"
"""rsl_rl class-name string of the GenPO algorithm."""

LATENT_NOISE_FIELDS = ("noise_std_type", "init_noise_std")
"""Fields of the flow actor that share their names with the Gaussian actor's legacy noise fields, which IsaacLab 3's
``handle_deprecated_rsl_rl_cfg`` deletes from every model config before training, playing and exporting."""


@configclass
class RslRlGenPOActorCfg(RslRlMLPModelCfg):
    """Configuration of the GenPO flow actor (:class:`genpo_ext.models.GenPOActor`).

    The actor samples a doubled latent and pushes it through an exactly invertible flow; the flow defines the
    action distribution, so :attr:`distribution_cfg` must stay None.
    """

    class_name: str = GENPO_ACTOR_CLASS_NAME
    """The model class name. Defaults to the GenPO flow actor."""

    hidden_dims: list[int] = MISSING
    """Hidden layer sizes of the velocity network."""

    activation: str = PAPER_SHARED_HYPERPARAMETERS.activation
    """Activation of the velocity and time-embedding networks. Defaults to Mish, as in the paper."""

    obs_normalization: bool = False
    """Whether to normalize the observations with running statistics. Defaults to False."""

    distribution_cfg: RslRlMLPModelCfg.DistributionCfg | None = None
    """Must stay None: the flow defines the action distribution. Kept so stock config tooling finds the field."""

    num_flow_steps: int = PAPER_SHARED_HYPERPARAMETERS.num_flow_steps
    """Number of flow steps N. Defaults to 5, as in the paper."""

    mixing_coef: float = PAPER_SHARED_HYPERPARAMETERS.mixing_coef
    """Mixing coefficient p in (0, 1] of the coupling layers. Defaults to 0.9, as in the paper."""

    time_embed_dim: int = PAPER_TIME_EMBED_DIM
    """Number of sinusoidal time features. Defaults to 32, as in the paper."""

    time_hidden_dims: list[int] = list(PAPER_TIME_HIDDEN_DIMS)
    """Hidden layer sizes of the time-embedding MLP. Defaults to [256, 256], as in the paper."""

    noise_std_type: Literal["fixed", "scalar", "log", "state"] = "fixed"
    """Scale sigma of the flow's latent noise: ``"fixed"`` (1, the paper), learned per action dimension as
    ``"scalar"`` (sigma) or ``"log"`` (log sigma), or ``"state"`` (log sigma plus a bounded head on the observation).
    The likelihood stays exact for every type. Defaults to ``"fixed"``."""

    init_noise_std: float = 1.0
    """Initial sigma of a learned latent noise scale; ``"fixed"`` needs 1.0. Defaults to 1.0."""

    min_noise_std: float = 0.0
    """Lower bound of a learned sigma (a floor on the latent noise, not on the env action's spread, which the flow
    can still narrow); 0 leaves it unbounded. Defaults to 0.0."""

    compile_activation: Literal["auto", "always", "never"] = "auto"
    """When Mish runs as a compiled kernel (the same function, fused): ``"auto"`` on the CPU, where it was measured to
    help, ``"always"`` or ``"never"``. Defaults to ``"auto"``."""

    max_noise_std: float | None = None
    """Smooth upper bound of a learned sigma (a cap on the latent noise; the parameter keeps its gradient beyond it);
    None leaves it unbounded. Defaults to None."""

    action_bound: float | None = None
    """Half-width b of an action box inside the flow: both halves pass through ``b * tanh`` before they are averaged,
    so env actions lie in (-b, b), the density stays exact and the exact entropy counts the squashing (an entropy
    bonus then cannot buy saturated noise). None keeps the paper's unbounded actions. Defaults to None."""

    deterministic_mode: Literal["zero", "mean", "likeliest"] = "zero"
    """The deployed action (play, JIT/ONNX export, evaluation): ``"zero"`` (the zero latent through the flow),
    ``"mean"`` (the mean of K fixed draws' env actions after :attr:`action_clip`) or ``"likeliest"`` (the most likely
    of K fixed draws under the exact density). Defaults to ``"zero"``."""

    deterministic_samples: int = 16
    """Number K of fixed draws of the ``"mean"`` and ``"likeliest"`` deployed actions. Defaults to 16."""

    deterministic_temperature: float = 1.0
    """Scale in (0, 1] of those draws relative to the policy's latent noise. Defaults to 1.0."""

    action_clip: float | None = None
    """Symmetric bound the environment clips actions to, applied to each draw of the ``"mean"`` deployed action.
    GenPO's configs derived from a task copy the agent config's :attr:`clip_actions` here. Defaults to None."""

    def __delattr__(self, name: str) -> None:
        """Delete an attribute, except the latent noise fields (:data:`LATENT_NOISE_FIELDS`).

        IsaacLab 3 deletes the Gaussian actor's legacy ``noise_std_type`` and ``init_noise_std`` from every model
        config; here they configure the flow's latent noise, and deleting them would silently train the paper's
        fixed noise instead.
        """
        if name not in LATENT_NOISE_FIELDS:
            super().__delattr__(name)


@configclass
class RslRlGenPOAlgorithmCfg(RslRlPpoAlgorithmCfg):
    """Configuration of the GenPO algorithm (:class:`genpo_ext.algorithms.GenPO`), a PPO with a flow actor.

    All PPO fields keep their meaning. GenPO rejects :attr:`symmetry_cfg` and :attr:`use_mixed_precision`.
    """

    class_name: str = GENPO_ALGORITHM_CLASS_NAME
    """The algorithm class name. Defaults to GenPO."""

    compression_coef: float = PAPER_SHARED_HYPERPARAMETERS.compression_coef
    """Weight nu of the compression loss on the gap between the two action halves; 0 disables it.

    Defaults to 0.01, as in the paper."""

    compression_loss: Literal["squared", "l2"] = "squared"
    """Form of the compression loss: ``"squared"`` (the paper's formula) or ``"l2"`` (the official code's
    unsquared norm). Defaults to ``"squared"``."""

    kl_estimator: Literal["paper", "k3"] = "paper"
    """KL estimate driving the adaptive learning rate: ``"paper"`` (mean log-ratio, as the official code) or
    ``"k3"`` (non-negative, lower variance). Defaults to ``"paper"``."""

    compression_batch_fraction: float = 1.0
    """Fraction in (0, 1] of each minibatch on which fresh samples feed the compression loss: 1 is the paper; less
    is cheaper and unbiased, with more variance (0.25 kept HalfCheetah-v5's return over 3 seeds; results/README.md).
    Defaults to 1.0."""

    entropy_term: Literal["paper", "exact"] = "paper"
    """What :attr:`entropy_coef` weights: ``"paper"`` (the cross-entropy of stored latents, as the paper's code) or
    ``"exact"`` (the flow's closed-form entropy, which a learned latent noise scale can change, as PPO's bonus does).
    Defaults to ``"paper"``."""

    entropy_target: float | None = None
    """Target entropy per action dimension (nats) of a learned entropy coefficient that starts at
    :attr:`entropy_coef`: the coefficient grows while the policy's exact entropy lies below the target and decays
    above it (needs ``entropy_term="exact"``). None keeps :attr:`entropy_coef` fixed. Defaults to None."""

    entropy_coef_lr: float = 0.01
    """Step size of the learned entropy coefficient's logarithm per minibatch. Defaults to 0.01."""
