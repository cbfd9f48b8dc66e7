"""GenPO: PPO on the exact likelihood of an invertible flow policy (arXiv 2505.18763), for rsl_rl 5."""

from __future__ import annotations

import torch
import torch.nn as nn
from tensordict import TensorDict

from rsl_rl.algorithms import PPO
from rsl_rl.models import MLPModel
from rsl_rl.storage import RolloutStorage

from genpo_ext.algorithms.genpo_loss import ADVANTAGE_NORMALIZATION_EPS, GenPOLoss, validate_genpo_options
from genpo_ext.models import GenPOActor

LOSS_KEYS = ("value", "surrogate", "entropy", "cross_entropy", "compression", "noise_std", "kl")
"""Keys of the dict :meth:`GenPO.update` returns (rsl_rl logs each as ``Loss/<key>``)."""


class GenPO(GenPOLoss, PPO):
    """Generative Policy Optimization: clipped PPO on the exact log-likelihood of a :class:`GenPOActor` flow.

    Differences to :class:`~rsl_rl.algorithms.PPO`:

    - The rollout stores the flow's doubled latent ``(x_N, y_N)`` (``2 d`` per step) and its exact log-prob, sampled
      in one forward pass; :meth:`act` hands the environment ``(x_N + y_N) / 2``.
    - The update re-scores stored latents by exact inversion, adds the paper's compression loss on fresh samples
      (gradient through the flow) and adapts the learning rate from a log-prob KL estimate (``"paper"`` k1 with
      its guard, or ``"k3"``).
    - ``entropy_coef`` weights the paper's "entropy" bonus, the cross-entropy ``-E[log pi_new(stored latents)]``
      (``entropy_term="paper"``), or the flow's exact entropy (``"exact"``), which has a gradient when the actor
      learns its latent noise scale (with the paper's fixed noise it is constant).

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
        compression_batch_fraction: float = 1.0,
        entropy_term: str = "paper",
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
            compression_batch_fraction: Fraction in ``(0, 1]`` of each minibatch on which fresh samples feed the
                compression loss (1: all, the paper; less is cheaper, unbiased, noisier).
            entropy_term: What ``entropy_coef`` weights: ``"paper"`` (the cross-entropy of stored outputs) or
                ``"exact"`` (the flow's closed-form entropy, which a learned noise scale can change).
            kl_estimator: ``"paper"`` (k1 with the code's guard) or ``"k3"`` for the adaptive learning rate.
            **kwargs: Arguments of :class:`~rsl_rl.algorithms.PPO` (clip, gamma, lam, learning rate, ...).

        Raises:
            ValueError: For an unknown option, a value outside its range, symmetry augmentation, mixed precision, a
                recurrent critic or an actor that is not a flow actor.
        """
        validate_genpo_options(
            compression_coef, compression_loss, compression_batch_fraction, entropy_term, kl_estimator, kwargs
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
        self._init_genpo_options(compression_coef, compression_loss, compression_batch_fraction, entropy_term, kl_estimator)
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
        """Run the optimization epochs over the rollout and return the mean losses (keys :data:`LOSS_KEYS`).

        Per minibatch the flow is conditioned on the observations once; stored latents are re-scored by exact
        inversion and, when the compression loss is on, fresh samples are drawn from the same condition (see
        :class:`~genpo_ext.algorithms.genpo_loss.GenPOLoss` for the loss). RND trains with its own loss and optimizer.
        """
        sums = dict.fromkeys(LOSS_KEYS, 0.0)
        if self.rnd:
            sums["rnd"] = 0.0
        num_updates = self.num_learning_epochs * self.num_mini_batches
        for batch in self.storage.mini_batch_generator(self.num_mini_batches, self.num_learning_epochs):
            advantages = batch.advantages.squeeze(-1)
            if self.normalize_advantage_per_mini_batch:
                advantages = (advantages - advantages.mean()) / (advantages.std() + ADVANTAGE_NORMALIZATION_EPS)

            condition = self.actor.condition_on(batch.observations)
            log_prob = self.actor.get_output_log_prob(batch.actions)
            old_log_prob = batch.old_actions_log_prob.squeeze(-1)
            values = self.critic(batch.observations)

            kl_mean = self.kl_estimator.estimate(old_log_prob, log_prob.detach()).mean()
            if self.desired_kl is not None and self.schedule == "adaptive":
                self._adapt_learning_rate(kl_mean)

            loss, terms = self._genpo_minibatch_loss(
                self.actor.flow, condition, log_prob, old_log_prob, advantages, values, batch.values, batch.returns
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

            terms["kl"] = kl_mean
            for key, value in terms.items():
                sums[key] += value.item()

        obs = self.storage.observations.flatten(0, 1)
        self.actor.update_normalization(obs)
        self.critic.update_normalization(obs)
        if self.rnd:
            self.rnd.update_normalization(obs)
        self.storage.clear()
        return {key: value / num_updates for key, value in sums.items()}

    @staticmethod
    def _resize_action_storage(storage: RolloutStorage, output_dim: int) -> None:
        """Size the storage's action buffer for the actor's stochastic output (the ``2 d`` latent)."""
        if storage.actions.shape[-1] != output_dim:
            storage.actions_shape = [output_dim]
            storage.actions = storage.actions.new_zeros(*storage.actions.shape[:-1], output_dim)


GenPOAlgorithm = GenPO
"""Alias of :class:`GenPO`, so that ``"genpo_ext.algorithms:GenPOAlgorithm"`` resolves too."""
