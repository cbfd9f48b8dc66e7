"""GenPO: PPO on the exact likelihood of an invertible flow policy (arXiv 2505.18763)."""

from __future__ import annotations

import torch
import torch.nn as nn
from tensordict import TensorDict

from rsl_rl.algorithms import PPO
from rsl_rl.models import MLPModel
from rsl_rl.storage import RolloutStorage

from genpo_ext.algorithms.kl_estimators import KL_ESTIMATORS
from genpo_ext.models import GenPOActor

COMPRESSION_LOSSES = ("squared", "l2")
"""Forms of the compression loss: the paper's ``E[||x_N - y_N||^2]`` or the code's unsquared ``E[||x_N - y_N||]``."""

LEARNING_RATE_BOUNDS = (1e-5, 1e-2)
"""Range of the adaptive learning rate (rsl_rl's PPO bounds)."""

LEARNING_RATE_FACTOR = 1.5
"""Multiplicative step of the adaptive learning rate (rsl_rl's PPO factor)."""


class GenPO(PPO):
    """Generative Policy Optimization: clipped PPO on the exact log-likelihood of a :class:`GenPOActor` flow.

    Differences to :class:`~rsl_rl.algorithms.PPO`:

    - The rollout stores the flow's doubled latent ``(x_N, y_N)`` (``2 d`` per step) and its exact log-prob, sampled
      in one forward pass; :meth:`act` hands the environment ``(x_N + y_N) / 2``.
    - The update re-scores stored latents by exact inversion, adds the paper's compression loss on fresh samples
      (gradient through the flow) and adapts the learning rate from a log-prob KL estimate (``"paper"`` k1 with
      its guard, or ``"k3"``).
    - The paper's "entropy" bonus is the cross-entropy ``-E[log pi_new(stored latents)]`` (the true entropy of the
      doubled latent is constant because the flow's log-determinant is); ``entropy_coef`` weights it.

    Returns, storage layout, checkpoints, multi-GPU broadcast/reduction and RND are PPO's. Symmetry augmentation
    (it would mirror ``2 d`` latents as if they were actions), bf16 mixed precision (it breaks exact inversion) and
    recurrent critics are rejected.

    Reference:
        - Ding et al. "GenPO: Generative Diffusion Models Meet On-Policy Reinforcement Learning." arXiv:2505.18763.
    """

    actor: GenPOActor
    """The flow actor."""

    def __init__(
        self,
        actor: GenPOActor,
        critic: MLPModel,
        storage: RolloutStorage,
        compression_coef: float = 0.01,
        compression_loss: str = "squared",
        kl_estimator: str = "paper",
        **kwargs,
    ) -> None:
        """Initialize GenPO.

        Args:
            actor: The flow actor.
            critic: The value model.
            storage: Rollout storage; its action buffer is resized to the actor's ``2 d`` latent.
            compression_coef: Weight ``nu`` of the compression loss (paper: 0.01); 0 disables it.
            compression_loss: ``"squared"`` (paper) or ``"l2"`` (the official code).
            kl_estimator: ``"paper"`` (k1 with the code's guard) or ``"k3"`` for the adaptive learning rate.
            **kwargs: Arguments of :class:`~rsl_rl.algorithms.PPO` (clip, gamma, lam, learning rate, ...).

        Raises:
            ValueError: For an unknown option, a negative coefficient, symmetry augmentation, mixed precision, a
                recurrent critic or an actor that is not a flow actor.
        """
        if compression_loss not in COMPRESSION_LOSSES:
            raise ValueError(f"Unknown compression_loss '{compression_loss}'. Valid options: {list(COMPRESSION_LOSSES)}.")
        if kl_estimator not in KL_ESTIMATORS:
            raise ValueError(f"Unknown kl_estimator '{kl_estimator}'. Valid options: {list(KL_ESTIMATORS)}.")
        if compression_coef < 0.0:
            raise ValueError(f"compression_coef must be >= 0, got {compression_coef}.")
        if kwargs.get("symmetry_cfg"):
            raise ValueError(
                "GenPO does not support symmetry augmentation: it would mirror the flow's 2d latent as if it were an "
                "action. Remove 'symmetry_cfg' from the algorithm config."
            )
        if kwargs.get("use_mixed_precision"):
            raise ValueError(
                "GenPO does not support bf16 mixed precision: it breaks the exact inversion that the likelihood "
                "relies on. Set 'use_mixed_precision' to False."
            )
        if critic.is_recurrent:
            raise ValueError("GenPO supports feed-forward critics only; use an MLP critic.")
        if not isinstance(actor, GenPOActor):
            raise ValueError(
                f"GenPO needs a flow actor ('genpo_ext.models:GenPOActor'), got {type(actor).__name__}. "
                "Set the actor's class_name accordingly."
            )
        super().__init__(actor, critic, storage, **kwargs)
        self.compression_coef = compression_coef
        self.compression_loss = compression_loss
        self.kl_estimator = KL_ESTIMATORS[kl_estimator]
        self._resize_action_storage(storage, actor.output_dim)

    @torch.no_grad()
    def act(self, obs: TensorDict) -> torch.Tensor:
        """Sample the flow once, store its latent and exact log-prob, and return the environment action."""
        self.transition.hidden_states = (None, None)
        outputs = self.actor(obs, stochastic_output=True)
        self.transition.actions = outputs
        self.transition.actions_log_prob = self.actor.output_log_prob
        self.transition.distribution_params = self.actor.output_distribution_params
        self.transition.values = self.critic(obs)
        self.transition.observations = obs
        return self.actor.to_env_action(outputs)

    def update(self) -> dict[str, float]:
        """Run the optimization epochs over the rollout and return the mean losses.

        Per minibatch: ``surrogate + value_loss_coef * value - entropy_coef * cross_entropy
        + compression_coef * compression`` (+ RND's own loss and optimizer).
        """
        sums = dict.fromkeys(("value", "surrogate", "cross_entropy", "compression", "kl"), 0.0)
        if self.rnd:
            sums["rnd"] = 0.0
        num_updates = self.num_learning_epochs * self.num_mini_batches
        for batch in self.storage.mini_batch_generator(self.num_mini_batches, self.num_learning_epochs):
            advantages = batch.advantages.squeeze(-1)
            if self.normalize_advantage_per_mini_batch:
                advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)

            # Fresh samples feed the compression loss; the stored latents are re-scored by exact inversion
            fresh_outputs = self.actor(batch.observations, stochastic_output=True)
            log_prob = self.actor.get_output_log_prob(batch.actions)
            old_log_prob = batch.old_actions_log_prob.squeeze(-1)
            values = self.critic(batch.observations)

            kl_mean = self.kl_estimator.estimate(old_log_prob, log_prob.detach()).mean()
            if self.desired_kl is not None and self.schedule == "adaptive":
                self._adapt_learning_rate(kl_mean)

            surrogate_loss = self._surrogate_loss(log_prob, old_log_prob, advantages)
            value_loss = self._value_loss(values, batch)
            cross_entropy = -log_prob.mean()
            compression = self._compression(fresh_outputs)
            loss = (
                surrogate_loss
                + self.value_loss_coef * value_loss
                - self.entropy_coef * cross_entropy
                + self.compression_coef * compression
            )

            self.optimizer.zero_grad()
            loss.backward()
            if self.rnd:
                rnd_loss = self.rnd.compute_loss(batch.observations)
                self.rnd.optimizer.zero_grad()
                rnd_loss.backward()
                sums["rnd"] += rnd_loss.item()
            if self.is_multi_gpu:
                self.reduce_parameters()
            nn.utils.clip_grad_norm_(self.actor.parameters(), self.max_grad_norm)
            nn.utils.clip_grad_norm_(self.critic.parameters(), self.max_grad_norm)
            self.optimizer.step()
            if self.rnd:
                self.rnd.optimizer.step()

            sums["value"] += value_loss.item()
            sums["surrogate"] += surrogate_loss.item()
            sums["cross_entropy"] += cross_entropy.item()
            sums["compression"] += compression.item()
            sums["kl"] += kl_mean.item()

        obs = self.storage.observations.flatten(0, 1)
        self.actor.update_normalization(obs)
        self.critic.update_normalization(obs)
        if self.rnd:
            self.rnd.update_normalization(obs)
        self.storage.clear()
        return {key: value / num_updates for key, value in sums.items()}

    def _surrogate_loss(
        self, log_prob: torch.Tensor, old_log_prob: torch.Tensor, advantages: torch.Tensor
    ) -> torch.Tensor:
        """Clipped surrogate on the exact likelihood ratio ``exp(log pi_new - log pi_old)``."""
        ratio = torch.exp(log_prob - old_log_prob)
        clipped_ratio = torch.clamp(ratio, 1.0 - self.clip_param, 1.0 + self.clip_param)
        return torch.max(-advantages * ratio, -advantages * clipped_ratio).mean()

    def _value_loss(self, values: torch.Tensor, batch: RolloutStorage.Batch) -> torch.Tensor:
        """Squared value error, clipped around the rollout's values as in PPO when enabled."""
        value_losses = (values - batch.returns).pow(2)
        if not self.use_clipped_value_loss:
            return value_losses.mean()
        value_clipped = batch.values + (values - batch.values).clamp(-self.clip_param, self.clip_param)
        return torch.max(value_losses, (value_clipped - batch.returns).pow(2)).mean()

    def _compression(self, outputs: torch.Tensor) -> torch.Tensor:
        """Gap between the latent halves of fresh samples: ``E||x_N - y_N||^2`` (paper) or ``E||x_N - y_N||``."""
        gap = outputs[:, : self.actor.action_dim] - outputs[:, self.actor.action_dim :]
        squared_norm = gap.square().sum(dim=-1)
        return squared_norm.mean() if self.compression_loss == "squared" else squared_norm.sqrt().mean()

    @torch.no_grad()
    def _adapt_learning_rate(self, kl_mean: torch.Tensor) -> None:
        """Shrink the learning rate when the KL overshoots, grow it when the KL is small, and sync it across ranks."""
        if self.is_multi_gpu:
            torch.distributed.all_reduce(kl_mean, op=torch.distributed.ReduceOp.SUM)
            kl_mean /= self.gpu_world_size
        if self.gpu_global_rank == 0:
            if kl_mean > self.desired_kl * 2.0:
                self.learning_rate = max(LEARNING_RATE_BOUNDS[0], self.learning_rate / LEARNING_RATE_FACTOR)
            elif self.kl_estimator.raise_floor < kl_mean < self.desired_kl / 2.0:
                self.learning_rate = min(LEARNING_RATE_BOUNDS[1], self.learning_rate * LEARNING_RATE_FACTOR)
        if self.is_multi_gpu:
            lr_tensor = torch.tensor(self.learning_rate, device=self.device)
            torch.distributed.broadcast(lr_tensor, src=0)
            self.learning_rate = lr_tensor.item()
        for param_group in self.optimizer.param_groups:
            param_group["lr"] = self.learning_rate

    @staticmethod
    def _resize_action_storage(storage: RolloutStorage, output_dim: int) -> None:
        """Size the storage's action buffer for the actor's stochastic output (the ``2 d`` latent)."""
        if storage.actions.shape[-1] != output_dim:
            storage.actions_shape = [output_dim]
            storage.actions = storage.actions.new_zeros(*storage.actions.shape[:-1], output_dim)


GenPOAlgorithm = GenPO
"""Alias of :class:`GenPO`, so that ``"genpo_ext.algorithms:GenPOAlgorithm"`` resolves too."""
