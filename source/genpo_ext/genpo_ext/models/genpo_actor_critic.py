"""rsl_rl 3 actor-critic around the GenPO coupled flow (the rsl_rl generation of IsaacLab 2.3)."""

from __future__ import annotations

import torch
import torch.nn as nn
from collections.abc import Mapping
from tensordict import TensorDict
from typing import Any, NoReturn

from rsl_rl.networks import MLP, EmpiricalNormalization

from genpo_ext.models.export import JitGenPOPolicy
from genpo_ext.modules import CoupledFlow, FlowCondition
from genpo_ext.modules.coupled_flow import STD_PROBE_STATES
from genpo_ext.modules.latent_noise import check_noise_keys
from genpo_ext.modules.non_finite import LOG_PROBS, SAMPLES

GAUSSIAN_NOISE_KEYS = ("std", "log_std")
"""State-dict keys of the action noise of rsl_rl 3's Gaussian ``ActorCritic``, which a GenPO actor-critic lacks."""

GAUSSIAN_ACTOR_PREFIX = "actor."
"""State-dict key prefix of the Gaussian ``ActorCritic``'s mean network (GenPO's flow lives under ``flow.``)."""

NOISE_KEY_PREFIX = "flow.noise."
"""State-dict key prefix of the flow's latent noise parameters."""


class ExportedFlowPolicy(JitGenPOPolicy):
    """The deterministic GenPO policy on normalized observations, shaped like an rsl_rl 3 actor network for export.

    IsaacLab 2.3's exporters (``export_policy_as_jit`` / ``export_policy_as_onnx``) copy ``policy.actor``, apply the
    policy's observation normalizer before it and size their dummy ONNX input with ``policy.actor[0].in_features``;
    :attr:`GenPOActorCritic.actor` is a one-element ``nn.Sequential`` of this module.
    """

    def __init__(self, flow: CoupledFlow, obs_dim: int) -> None:
        """Copy the flow (with the plain Mish operator that TorchScript and ONNX know) and record the input size."""
        super().__init__(nn.Identity(), flow)
        self.in_features = obs_dim


class GenPOActorCritic(nn.Module):
    """rsl_rl 3 actor-critic whose actor is GenPO's exactly invertible coupled flow and whose critic is an MLP.

    The policy's *actions* (what :meth:`act` samples, what the rollout stores and what :meth:`get_actions_log_prob`
    scores) are the flow's doubled latent ``(x_N, y_N)`` of dimension ``2 d`` (:attr:`latent_dim`); the environment
    receives ``(x_N + y_N) / 2`` (:meth:`to_env_action`). :meth:`act_inference` returns the flow's deployed action (the
    zero latent's env action unless ``deterministic_mode`` says otherwise), the deterministic policy that play and
    export use.

    Calls served for rsl_rl 3's :class:`~rsl_rl.algorithms.PPO`, its ``OnPolicyRunner`` and IsaacLab 2.3's exporters:
    ``is_recurrent``, :meth:`act`, :meth:`act_inference`, :meth:`evaluate`, :meth:`get_actions_log_prob`,
    :attr:`action_mean`, :attr:`action_std`, :attr:`entropy`, :meth:`update_normalization`, :meth:`reset`,
    :meth:`load_state_dict` (returning True: training resumes), :attr:`actor` and ``actor_obs_normalizer``. GenPO's
    update also uses :meth:`condition_on`, :attr:`actions_log_prob`, :meth:`release_batch` and :attr:`flow`.

    Non-finite samples and log-probs are recorded on the device (``flow.non_finite``), not checked on the host:
    GenPO's update reports them once per iteration on every rank; in a loop of your own call
    :meth:`raise_if_non_finite`.

    Its arguments follow rsl_rl 3's ``ActorCritic`` (``actor_hidden_dims`` size the velocity network,
    ``init_noise_std`` / ``noise_std_type`` the latent noise), so a stock ``policy`` config becomes a GenPO one by
    setting ``class_name="GenPOActorCritic"`` and dropping the Gaussian-only ``state_dependent_std``.
    """

    is_recurrent: bool = False
    """GenPO's actor and critic are feed-forward."""

    def __init__(
        self,
        obs: TensorDict,
        obs_groups: dict[str, list[str]],
        num_actions: int,
        actor_obs_normalization: bool = False,
        critic_obs_normalization: bool = False,
        actor_hidden_dims: tuple[int, ...] | list[int] = (256, 256, 256),
        critic_hidden_dims: tuple[int, ...] | list[int] = (256, 256, 256),
        activation: str = "mish",
        critic_activation: str | None = None,
        noise_std_type: str = "fixed",
        init_noise_std: float = 1.0,
        min_noise_std: float = 0.0,
        num_flow_steps: int = 5,
        mixing_coef: float = 0.9,
        time_embed_dim: int = 32,
        time_hidden_dims: tuple[int, ...] | list[int] = (256, 256),
        compile_activation: str = "auto",
        max_noise_std: float | None = None,
        action_bound: float | None = None,
        deterministic_mode: str = "zero",
        deterministic_samples: int = 16,
        deterministic_temperature: float = 1.0,
        action_clip: float | None = None,
    ) -> None:
        """Initialize the actor-critic.

        Args:
            obs: Observation dictionary.
            obs_groups: Observation sets to groups; the actor reads ``"policy"``, the critic ``"critic"``.
            num_actions: Dimension ``d`` of the environment action.
            actor_obs_normalization: Whether to normalize the actor's observations with running statistics.
            critic_obs_normalization: Whether to normalize the critic's observations with running statistics.
            actor_hidden_dims: Hidden layer sizes of the flow's velocity network.
            critic_hidden_dims: Hidden layer sizes of the critic.
            activation: Activation of the velocity and time networks (the paper uses Mish).
            critic_activation: Activation of the critic; None uses ``activation``.
            noise_std_type: Scale sigma of the latent noise: ``"fixed"`` (1, the paper), ``"scalar"`` (sigma is
                learned), ``"log"`` (log sigma is learned) or ``"state"`` (log sigma plus a bounded head on the
                observation).
            init_noise_std: Initial sigma of a learned noise scale (> 0; ``"fixed"`` needs 1.0).
            min_noise_std: Lower bound of a learned sigma, a floor on the latent noise (0: unbounded).
            num_flow_steps: Number of flow steps ``N`` (paper: 5).
            mixing_coef: Mixing coefficient ``p`` in ``(0, 1]`` (paper: 0.9).
            time_embed_dim: Number of sinusoidal time features (paper: 32).
            time_hidden_dims: Hidden layer sizes of the time-embedding MLP (paper: [256, 256]).
            compile_activation: When Mish runs as a compiled kernel: ``"auto"`` (on the CPU), ``"always"`` or
                ``"never"``.
            max_noise_std: Smooth upper bound of a learned sigma, a cap on the latent noise (None: unbounded).
            action_bound: Half-width ``b`` of the action box both halves are squashed into by ``b * tanh`` (None:
                the paper's unbounded actions).
            deterministic_mode: The deployed action of :meth:`act_inference` and the exports: ``"zero"``, ``"mean"``
                or ``"likeliest"`` (as :class:`~genpo_ext.models.GenPOActor`).
            deterministic_samples: Number K of fixed draws of the ``mean`` and ``likeliest`` deployed actions.
            deterministic_temperature: Scale in ``(0, 1]`` of those draws relative to the policy's noise.
            action_clip: Symmetric bound the environment clips actions to (the agent config's ``clip_actions``),
                applied to each draw of the ``mean`` deployed action; None: no clip.

        Raises:
            ValueError: If an observation group is not one-dimensional or an argument lies outside its range.
        """
        super().__init__()
        self.obs_groups = obs_groups
        self.num_actions = num_actions
        self.num_actor_obs = self._obs_dim(obs, obs_groups, "policy")
        self.num_critic_obs = self._obs_dim(obs, obs_groups, "critic")

        self.flow = CoupledFlow(
            action_dim=num_actions,
            obs_dim=self.num_actor_obs,
            hidden_dims=actor_hidden_dims,
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
        self.actor_obs_normalization = actor_obs_normalization
        self.actor_obs_normalizer = (
            EmpiricalNormalization(self.num_actor_obs) if actor_obs_normalization else nn.Identity()
        )

        self.critic = MLP(self.num_critic_obs, 1, critic_hidden_dims, critic_activation or activation)
        self.critic_obs_normalization = critic_obs_normalization
        self.critic_obs_normalizer = (
            EmpiricalNormalization(self.num_critic_obs) if critic_obs_normalization else nn.Identity()
        )

        # Normalized actor observations, flow condition and sampled log-probs of the last act / condition_on
        self._actor_obs: torch.Tensor | None = None
        self._condition: FlowCondition | None = None
        self._actions_log_prob: torch.Tensor | None = None

    @property
    def latent_dim(self) -> int:
        """Dimension ``2 d`` of the actions the rollout stores (the doubled latent)."""
        return self.flow.latent_dim

    @property
    def actor(self) -> nn.Sequential:
        """The deterministic policy on normalized observations, as rsl_rl 3's exporters read ``policy.actor``.

        A fresh copy on every access (see :class:`ExportedFlowPolicy`): exporting never aliases the training
        parameters, and the flow itself lives in :attr:`flow`.
        """
        return nn.Sequential(ExportedFlowPolicy(self.flow, self.num_actor_obs))

    def reset(self, dones: torch.Tensor | None = None) -> None:
        """Reset recurrent state (no-op: the policy is feed-forward)."""

    def forward(self) -> NoReturn:
        """Not used: call :meth:`act`, :meth:`act_inference` or :meth:`evaluate`."""
        raise NotImplementedError("GenPOActorCritic is called through act, act_inference and evaluate.")

    def act(self, obs: TensorDict, **kwargs: Any) -> torch.Tensor:
        """Sample the flow for a batch of observations, recording the samples' exact log-probs in the same pass.

        Args:
            obs: Observation dictionary.
            **kwargs: Recurrent-policy arguments (masks, hidden states) that rsl_rl 3's PPO may pass; unused.

        Returns:
            Outputs ``(x_N, y_N)`` of shape ``(B, 2 d)``, differentiable through the flow. Non-finite outputs are
            recorded on the device (see :meth:`raise_if_non_finite`).
        """
        outputs, self._actions_log_prob = self.flow.sample(self.condition_on(obs))
        # The sampled log-prob is finite by construction; a diverged flow shows in its outputs
        self._record_non_finite(outputs, SAMPLES)
        return outputs

    def act_inference(self, obs: TensorDict) -> torch.Tensor:
        """Deterministic environment action of shape ``(B, d)``: the zero latent pushed through the flow."""
        return self.flow.deployed_action(self._normalized_actor_obs(obs))

    def evaluate(self, obs: TensorDict, **kwargs: Any) -> torch.Tensor:
        """Value estimates of shape ``(B, 1)``; ``kwargs`` (recurrent-policy arguments) are unused."""
        return self.critic(self.critic_obs_normalizer(self.get_critic_obs(obs)))

    def condition_on(self, obs: TensorDict) -> FlowCondition:
        """Condition the flow on a batch of observations and remember it for the calls that follow.

        :meth:`get_actions_log_prob`, :attr:`entropy`, :attr:`noise_std` and :attr:`action_mean` then use this
        condition, and ``self.flow.sample(condition)`` draws fresh outputs without recomputing it.
        """
        self._actor_obs = self._normalized_actor_obs(obs)
        self._condition = self.flow.condition(self._actor_obs)
        return self._condition

    def to_env_action(self, actions: torch.Tensor) -> torch.Tensor:
        """Map stored actions ``(x_N, y_N)`` to environment actions ``(x_N + y_N) / 2``."""
        return self.flow.to_env_action(actions)

    @property
    def actions_log_prob(self) -> torch.Tensor:
        """Exact log-probabilities of the outputs of the last :meth:`act`, recorded while sampling; shape ``(B,)``."""
        return self._actions_log_prob

    def get_actions_log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        """Exact log-probability of stored actions under the current flow, for the last observations; ``(B,)``.

        The actions are pulled back through the flow (no Jacobian: its log-determinant is constant). For actions
        :meth:`act` has just sampled, :attr:`actions_log_prob` holds the same values without inverting. Non-finite
        log-probs are recorded on the device (see :meth:`raise_if_non_finite`).
        """
        log_prob = self.flow.log_prob(actions, self._condition)
        self._record_non_finite(log_prob, LOG_PROBS)
        return log_prob

    @property
    def entropy(self) -> torch.Tensor:
        """Exact entropy of the doubled latent's distribution for the last observations, shape ``(B,)``.

        ``H(N(0, diag sigma^2)) + 2 N d log p``: constant for the paper's fixed noise, differentiable in a learned
        sigma.
        """
        return self.flow.entropy(self._condition)

    @property
    def noise_std(self) -> torch.Tensor:
        """Latent noise scale sigma for the last observations, shape ``(1, d)`` or ``(B, d)`` for ``"state"``."""
        return self.flow.noise_std(self._condition)

    def release_batch(self) -> None:
        """Free what the last batch left behind: its flow condition (``N x B x h`` values) and log-probs.

        The first observations are kept, so that :attr:`action_std` (logged after the update) reads the same
        observations as before. GenPO calls this after every update: the last minibatch's conditioning then does not
        stay alive through the next rollout.
        """
        self._condition, self._actions_log_prob = None, None
        if self._actor_obs is not None:
            self._actor_obs = self._actor_obs[:STD_PROBE_STATES].detach().clone()

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
    def action_mean(self) -> torch.Tensor:
        """Deterministic environment action (the zero latent's) for the last observations, shape ``(B, d)``."""
        with torch.no_grad():
            return self.flow.deployed_action(self._actor_obs)

    @property
    def action_std(self) -> torch.Tensor:
        """Per-dimension spread of environment actions given the state, averaged over recent observations.

        Estimated from flow samples on the observations of the last :meth:`act` or :meth:`condition_on`
        (:meth:`~genpo_ext.modules.CoupledFlow.env_action_std`); rsl_rl 3's runner logs its mean as the action std.
        """
        if self._actor_obs is None:
            return torch.zeros(self.num_actions)
        return self.flow.env_action_std(self._actor_obs)

    def get_actor_obs(self, obs: TensorDict) -> torch.Tensor:
        """Concatenate the observation groups of the ``"policy"`` set."""
        return torch.cat([obs[group] for group in self.obs_groups["policy"]], dim=-1)

    def get_critic_obs(self, obs: TensorDict) -> torch.Tensor:
        """Concatenate the observation groups of the ``"critic"`` set."""
        return torch.cat([obs[group] for group in self.obs_groups["critic"]], dim=-1)

    def update_normalization(self, obs: TensorDict) -> None:
        """Update the running observation statistics of the actor and the critic, where enabled."""
        if self.actor_obs_normalization:
            self.actor_obs_normalizer.update(self.get_actor_obs(obs))
        if self.critic_obs_normalization:
            self.critic_obs_normalizer.update(self.get_critic_obs(obs))

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> bool:
        """Load parameters, refusing checkpoints of a Gaussian ``ActorCritic`` or of another latent noise type.

        Returns:
            True: the runner resumes training (rsl_rl 3's convention).

        Raises:
            RuntimeError: If the state dict holds a Gaussian PPO actor-critic, or its latent noise parameters do not
                match this actor's ``noise_std_type``.
        """
        gaussian_keys = [
            key for key in state_dict if key in GAUSSIAN_NOISE_KEYS or key.startswith(GAUSSIAN_ACTOR_PREFIX)
        ]
        if gaussian_keys:
            raise RuntimeError(
                "This checkpoint holds a Gaussian PPO actor-critic (rsl_rl ActorCritic keys such as "
                f"{gaussian_keys[:3]}), not a GenPO flow policy. Load it with the stock PPO config (--algo ppo), "
                "or train GenPO from scratch; PPO actor weights cannot initialize the flow."
            )
        if strict:
            check_noise_keys(state_dict, self.flow.noise.noise_std_type, NOISE_KEY_PREFIX)
        super().load_state_dict(state_dict, strict=strict)
        return True

    def _normalized_actor_obs(self, obs: TensorDict) -> torch.Tensor:
        """The actor's observation groups, concatenated and normalized."""
        return self.actor_obs_normalizer(self.get_actor_obs(obs))

    @staticmethod
    def _obs_dim(obs: TensorDict, obs_groups: dict[str, list[str]], obs_set: str) -> int:
        """Total dimension of the observation groups of one set.

        Raises:
            ValueError: If a group is not one-dimensional per environment.
        """
        dim = 0
        for group in obs_groups[obs_set]:
            if obs[group].dim() != 2:
                raise ValueError(
                    f"GenPOActorCritic needs one-dimensional observations; group '{group}' of set '{obs_set}' has "
                    f"shape {tuple(obs[group].shape[1:])} per environment."
                )
            dim += obs[group].shape[-1]
        return dim

    def _record_non_finite(self, values: torch.Tensor, origin: int) -> None:
        """Record non-finite ``values`` on the device, with the origin and the observations they came from."""
        self.flow.non_finite.record(origin, ~torch.isfinite(values.detach()), self._actor_obs)
