"""rsl_rl actor model around the GenPO coupled flow."""

from __future__ import annotations

import torch
import torch.nn as nn
import warnings
from collections.abc import Mapping
from tensordict import TensorDict
from typing import Any

from rsl_rl.models import MLPModel
from rsl_rl.modules import EmpiricalNormalization, HiddenState
from rsl_rl.utils import resolve_nn_activation, unpad_trajectories

from genpo_ext.models.export import JitGenPOPolicy, OnnxGenPOPolicy
from genpo_ext.modules import CoupledFlow, FlowCondition
from genpo_ext.modules.coupled_flow import STD_PROBE_STATES
from genpo_ext.modules.latent_noise import check_noise_keys
from genpo_ext.modules.non_finite import LOG_PROBS, SAMPLES

GAUSSIAN_ACTOR_KEY_PREFIXES = ("mlp.", "distribution.")
"""State-dict key prefixes of rsl_rl's Gaussian ``MLPModel`` actor, which a GenPO actor does not have."""

NOISE_KEY_PREFIX = "flow.noise."
"""State-dict key prefix of the actor's latent noise parameters."""


class GenPOActor(MLPModel):
    """Actor whose stochastic output is a sample of GenPO's exactly invertible coupled flow.

    The model's *output* (what :meth:`forward` samples with ``stochastic_output=True``, what the rollout stores and
    what :meth:`get_output_log_prob` scores) is the flow's doubled latent ``(x_N, y_N)`` of dimension ``2 d``;
    :attr:`output_dim` is therefore ``2 d``. The environment action is ``(x_N + y_N) / 2``
    (:meth:`to_env_action`; with ``action_bound`` the halves are squashed first); the deterministic output
    (``stochastic_output=False``, JIT/ONNX export) is the flow's deployed action (``deterministic_mode``: the zero
    latent's env action by default).

    Calls served for :class:`rsl_rl.algorithms.PPO` and its runner: ``forward(obs, stochastic_output=...)``,
    :meth:`get_output_log_prob`, :attr:`output_distribution_params`, :attr:`output_entropy`,
    :meth:`get_kl_divergence`, :attr:`output_mean`, :attr:`output_std`, :meth:`update_normalization`, ``reset``,
    ``get_hidden_state``, ``is_recurrent``, :meth:`as_jit` and :meth:`as_onnx`; for GenPO's update,
    :meth:`condition_on` conditions the flow on a batch once for any number of samples and re-scorings, and
    :meth:`release_batch` frees the last batch's conditioning.

    Non-finite samples and log-probs are recorded on the device (``flow.non_finite``), not checked on the host:
    GenPO's update reports them once per iteration on every rank; in a loop of your own call
    :meth:`raise_if_non_finite`.

    The latent noise scale sigma is the paper's fixed 1 by default (``noise_std_type="fixed"``) or learned
    (``"scalar"``, ``"log"``, ``"state"``, as rsl_rl names its Gaussian std types); the likelihood stays exact.

    It takes :class:`~rsl_rl.models.MLPModel`'s arguments (``hidden_dims`` size the velocity network), so a stock
    actor config becomes a GenPO one by changing its ``class_name`` to ``"genpo_ext.models:GenPOActor"``.
    """

    def __init__(
        self,
        obs: TensorDict,
        obs_groups: dict[str, list[str]],
        obs_set: str,
        output_dim: int,
        hidden_dims: tuple[int, ...] | list[int] = (256, 256, 256),
        activation: str = "mish",
        obs_normalization: bool = False,
        num_flow_steps: int = 5,
        mixing_coef: float = 0.9,
        time_embed_dim: int = 32,
        time_hidden_dims: tuple[int, ...] | list[int] = (256, 256),
        noise_std_type: str = "fixed",
        init_noise_std: float = 1.0,
        min_noise_std: float = 0.0,
        compile_activation: str = "auto",
        max_noise_std: float | None = None,
        action_bound: float | None = None,
        deterministic_mode: str = "zero",
        deterministic_samples: int = 16,
        deterministic_temperature: float = 1.0,
        action_clip: float | None = None,
        distribution_cfg: dict | None = None,
    ) -> None:
        """Initialize the GenPO actor.

        Args:
            obs: Observation dictionary.
            obs_groups: Dictionary mapping observation sets to lists of observation groups.
            obs_set: Observation set to use for this model (e.g., "actor").
            output_dim: Dimension ``d`` of the environment action.
            hidden_dims: Hidden layer sizes of the velocity network.
            activation: Activation function of the velocity and time networks (the paper uses Mish).
            obs_normalization: Whether to normalize the observations with running statistics.
            num_flow_steps: Number of flow steps ``N`` (paper: 5).
            mixing_coef: Mixing coefficient ``p`` in ``(0, 1]`` (paper: 0.9).
            time_embed_dim: Number of sinusoidal time features (paper: 32).
            time_hidden_dims: Hidden layer sizes of the time-embedding MLP (paper: [256, 256]).
            noise_std_type: Scale sigma of the latent noise: ``"fixed"`` (1, the paper), ``"scalar"`` (sigma is
                learned), ``"log"`` (log sigma is learned) or ``"state"`` (log sigma plus a bounded head on the
                observation).
            init_noise_std: Initial sigma of a learned noise scale (> 0; ``"fixed"`` needs 1.0).
            min_noise_std: Lower bound of a learned sigma, a floor on the latent noise (0: unbounded).
            compile_activation: When Mish runs as a compiled kernel: ``"auto"`` (on the CPU, where it was measured
                to help), ``"always"`` or ``"never"``.
            max_noise_std: Smooth upper bound of a learned sigma, a cap on the latent noise (None: unbounded).
            action_bound: Half-width ``b`` of the action box: both halves pass through ``b * tanh`` before they are
                averaged, so env actions lie in ``(-b, b)`` and the entropy counts the squashing (None: the paper's
                unbounded actions).
            deterministic_mode: The deployed action (``stochastic_output=False``, play, JIT/ONNX export): ``"zero"``
                (the image of the zero latent), ``"mean"`` (the mean of K fixed draws' env actions after
                ``action_clip``) or ``"likeliest"`` (the most likely of K fixed draws under the exact density).
            deterministic_samples: Number K of fixed draws of the ``mean`` and ``likeliest`` deployed actions.
            deterministic_temperature: Scale in ``(0, 1]`` of those draws relative to the policy's noise.
            action_clip: Symmetric bound the environment clips actions to (rsl_rl's ``clip_actions``, a gymnasium
                task's action box), applied to each draw of the ``mean`` deployed action; None: no clip.
            distribution_cfg: Accepted for compatibility with stock actor configs and ignored with a warning: the
                flow defines the action distribution.

        Raises:
            ValueError: If an argument lies outside its valid range or names an unknown activation.
        """
        # The flow replaces MLPModel's MLP head and distribution, so only nn.Module is initialized here; the
        # observation handling (groups, normalization, latent) is inherited from MLPModel.
        nn.Module.__init__(self)
        if distribution_cfg is not None:
            warnings.warn(
                "GenPOActor ignores 'distribution_cfg': the coupled flow defines the action distribution.",
                stacklevel=2,
            )
        resolve_nn_activation(activation)
        self.obs_groups, self.obs_dim = self._get_obs_dim(obs, obs_groups, obs_set)
        self.obs_normalization = obs_normalization
        self.obs_normalizer = EmpiricalNormalization(self.obs_dim) if obs_normalization else nn.Identity()
        self.action_dim = output_dim
        self.flow = CoupledFlow(
            action_dim=output_dim,
            obs_dim=self.obs_dim,
            hidden_dims=hidden_dims,
            activation=activation,
            num_steps=num_flow_steps,
            mixing_coef=mixing_coef,
            time_embed_dim=time_embed_dim,
            time_hidden_dims=time_hidden_dims,
            noise_std_type=noise_std_type,
            init_noise_std=init_noise_std,
            min_noise_std=min_noise_std,
            compile_activation=compile_activation,
            max_noise_std=max_noise_std,
            action_bound=action_bound,
            deterministic_mode=deterministic_mode,
            deterministic_samples=deterministic_samples,
            deterministic_temperature=deterministic_temperature,
            action_clip=action_clip,
        )
        # Observations (normalized), flow condition and output log-probs of the last forward pass
        self._obs_latent: torch.Tensor | None = None
        self._condition: FlowCondition | None = None
        self._output_log_prob: torch.Tensor | None = None

    @property
    def output_dim(self) -> int:
        """Dimension ``2 d`` of the stochastic output (the doubled latent) that the rollout stores."""
        return self.flow.latent_dim

    def forward(
        self,
        obs: TensorDict,
        masks: torch.Tensor | None = None,
        hidden_state: HiddenState = None,
        stochastic_output: bool = False,
    ) -> torch.Tensor:
        """Sample flow outputs, or compute the deterministic environment action.

        Args:
            obs: Observation dictionary.
            masks: Trajectory masks of padded recurrent batches (observations are unpadded).
            hidden_state: Unused; the model is not recurrent.
            stochastic_output: If True, return a fresh sample ``(x_N, y_N)`` of shape ``(B, 2 d)`` (differentiable
                through the flow) and remember its log-prob; otherwise return the deterministic environment
                action of shape ``(B, d)``.
        """
        obs = unpad_trajectories(obs, masks) if masks is not None else obs
        if not stochastic_output:
            self._obs_latent, self._condition = self.get_latent(obs), None
            return self.flow.deployed_action(self._obs_latent)
        outputs, self._output_log_prob = self.flow.sample(self.condition_on(obs))
        # The sampled log-prob is finite by construction; a diverged flow shows in its outputs
        self._record_non_finite(outputs, SAMPLES)
        return outputs

    def condition_on(self, obs: TensorDict) -> FlowCondition:
        """Condition the flow on a batch of observations and remember it for the calls that follow.

        :meth:`get_output_log_prob`, :attr:`output_entropy` and :attr:`noise_std` then use this condition, and
        ``self.flow.sample(condition)`` draws fresh outputs for the same observations without recomputing it.
        """
        self._obs_latent = self.get_latent(obs)
        self._condition = self.flow.condition(self._obs_latent)
        return self._condition

    def to_env_action(self, outputs: torch.Tensor) -> torch.Tensor:
        """Map stochastic outputs ``(x_N, y_N)`` to environment actions ``(x_N + y_N) / 2``."""
        return self.flow.to_env_action(outputs)

    def get_output_log_prob(self, outputs: torch.Tensor) -> torch.Tensor:
        """Exact log-probability of stored outputs under the current flow, for the observations of the last forward.

        The outputs are pulled back through the flow (no Jacobian is computed: its log-determinant is constant).
        Use the log-prob that :meth:`forward` records for outputs it has just sampled instead of calling this.
        """
        self._output_log_prob = self.flow.log_prob(outputs, self._current_condition())
        self._record_non_finite(self._output_log_prob, LOG_PROBS)
        return self._output_log_prob

    @property
    def output_log_prob(self) -> torch.Tensor:
        """Log-probabilities of the outputs of the last :meth:`forward` sample or :meth:`get_output_log_prob` call."""
        return self._output_log_prob

    @property
    def output_distribution_params(self) -> tuple[torch.Tensor, ...]:
        """The last outputs' log-probabilities: a flow has no finite parameter set, and log-probs suffice for KL."""
        return (self._output_log_prob,)

    @property
    def output_entropy(self) -> torch.Tensor:
        """Exact entropy of the doubled latent's distribution for the last observations, shape ``(B,)``.

        ``H(N(0, diag sigma^2)) + 2 N d log p``: constant for the paper's fixed noise, differentiable in a learned
        sigma. (The paper's "entropy" term is the cross-entropy ``-log pi`` of stored outputs; GenPO computes it
        from the log-probs.)
        """
        return self.flow.entropy(self._current_condition())

    @property
    def noise_std(self) -> torch.Tensor:
        """Latent noise scale sigma for the last observations, shape ``(1, d)`` or ``(B, d)`` for ``"state"``."""
        return self.flow.noise_std(self._current_condition())

    def get_kl_divergence(
        self, old_params: tuple[torch.Tensor, ...], new_params: tuple[torch.Tensor, ...]
    ) -> torch.Tensor:
        """Per-sample k3 estimate ``(r - 1) - log r``, ``r = pi_new / pi_old``, of KL(old || new) from log-probs."""
        log_ratio = new_params[0] - old_params[0]
        return torch.expm1(log_ratio) - log_ratio

    def release_batch(self) -> None:
        """Free what the last batch left behind: its flow condition (``N x B x h`` values) and log-probs.

        The first observations are kept, so that :attr:`output_std` (logged after the update) reads the same
        observations as before. GenPO calls this after every update: the last minibatch's conditioning then does not
        stay alive through the next rollout.
        """
        self._condition, self._output_log_prob = None, None
        if self._obs_latent is not None:
            self._obs_latent = self._obs_latent[:STD_PROBE_STATES].detach().clone()

    def raise_if_non_finite(self) -> None:
        """Raise if a non-finite sample, log-prob or parameter was recorded since the last check, then forget it.

        Reads the device once (a synchronization point). GenPO's update makes this check itself, once per iteration
        and on every rank together.

        Raises:
            FloatingPointError: Naming what was not finite, after which operation, and whether the observations were
                finite.
        """
        self.flow.non_finite.raise_and_clear(type(self).__name__)

    @property
    def output_mean(self) -> torch.Tensor:
        """Deployed (deterministic) environment action for the observations of the last forward pass."""
        with torch.no_grad():
            return self.flow.deployed_action(self._obs_latent)

    @property
    def output_std(self) -> torch.Tensor:
        """Per-dimension spread of environment actions given the state, averaged over recent observations.

        Estimated from flow samples on the observations of the last forward pass
        (:meth:`~genpo_ext.modules.CoupledFlow.env_action_std`); the runner logs it as the policy's action std
        (``Policy/mean_std``). GenPO's update logs the latent noise scale sigma beside it (``Loss/noise_std``).
        """
        if self._obs_latent is None:
            return torch.zeros(self.action_dim)
        return self.flow.env_action_std(self._obs_latent)

    def as_jit(self) -> nn.Module:
        """Return the deterministic policy (observations -> env action) for TorchScript export."""
        return JitGenPOPolicy(self.obs_normalizer, self.flow)

    def as_onnx(self, verbose: bool) -> nn.Module:
        """Return the deterministic policy (observations -> env action) for ONNX export."""
        return OnnxGenPOPolicy(self.obs_normalizer, self.flow, self.obs_dim, verbose)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        """Load parameters, refusing checkpoints of a Gaussian ``MLPModel`` actor or of another noise type.

        Raises:
            RuntimeError: If the state dict holds a Gaussian PPO actor, or its latent noise parameters do not match
                this actor's ``noise_std_type``.
        """
        gaussian_keys = [key for key in state_dict if key.startswith(GAUSSIAN_ACTOR_KEY_PREFIXES)]
        if gaussian_keys:
            raise RuntimeError(
                "This checkpoint holds a Gaussian PPO actor (rsl_rl MLPModel keys such as "
                f"{gaussian_keys[:3]}), not a GenPO flow actor. Load it with the stock PPO config (--algo ppo), "
                "or train GenPO from scratch; PPO actor weights cannot initialize the flow."
            )
        if strict:
            check_noise_keys(state_dict, self.flow.noise.noise_std_type, NOISE_KEY_PREFIX)
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def _current_condition(self) -> FlowCondition:
        """The flow condition of the last observations (computed now if the last pass was deterministic)."""
        if self._condition is None:
            self._condition = self.flow.condition(self._obs_latent)
        return self._condition

    def _record_non_finite(self, values: torch.Tensor, origin: int) -> None:
        """Record non-finite ``values`` on the device, with the origin and the observations they came from."""
        self.flow.non_finite.record(origin, ~torch.isfinite(values.detach()), self._obs_latent)
