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

LOSS_KEYS = ("value", "surrogate", "entropy", "cross_entropy", "compression", "noise_std", "entropy_coef", "kl")
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
    (it would mirror ``2 d`` latents as if they were actions), bf16 mixed precision (it breaks exact inversion),
    recurrent critics and the runner's ``torch_compile_mode`` (see :meth:`compile`) are rejected.

    Non-finite samples, log-probs and parameters are recorded on the device and reported once per update, by every
    rank together under multi-GPU training (:meth:`~genpo_ext.algorithms.genpo_loss.GenPOLoss._finish_update`).

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
        entropy_target: float | None = None,
        entropy_coef_lr: float = 0.01,
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
            entropy_target: Target of the policy's entropy per action dimension (nats) for a learned entropy
                coefficient that starts at ``entropy_coef`` (needs ``entropy_term="exact"``); None keeps
                ``entropy_coef`` fixed. See :class:`~genpo_ext.algorithms.genpo_loss.EntropyDual`.
            entropy_coef_lr: Step size of the learned entropy coefficient's ``log`` per minibatch.
            **kwargs: Arguments of :class:`~rsl_rl.algorithms.PPO` (clip, gamma, lam, learning rate, ...).

        Raises:
            ValueError: For an unknown option, a value outside its range, symmetry augmentation, mixed precision, a
                recurrent critic or an actor that is not a flow actor.
        """
        validate_genpo_options(
            compression_coef,
            compression_loss,
            compression_batch_fraction,
            entropy_term,
            kl_estimator,
            kwargs,
            entropy_target,
            entropy_coef_lr,
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
        self._init_genpo_options(
            compression_coef,
            compression_loss,
            compression_batch_fraction,
            entropy_term,
            kl_estimator,
            actor,
            entropy_target,
            entropy_coef_lr,
        )
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
        The losses are summed on the device and read once, with the non-finite check, at the end.

        Raises:
            FloatingPointError: If a non-finite sample, log-prob or parameter arose since the last update (on any
                rank under multi-GPU training).
        """
        sums: dict[str, torch.Tensor] = {}
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
                terms["rnd"] = rnd_loss
            if self.is_multi_gpu:
                self.reduce_parameters()
            nn.utils.clip_grad_norm_(self.actor.parameters(), self.max_grad_norm)
            nn.utils.clip_grad_norm_(self.critic.parameters(), self.max_grad_norm)
            self.optimizer.step()
            if self.rnd:
                self.rnd.optimizer.step()

            terms["kl"] = kl_mean
            self._accumulate(sums, terms)

        obs = self.storage.observations.flatten(0, 1)
        self.actor.update_normalization(obs)
        self.critic.update_normalization(obs)
        if self.rnd:
            self.rnd.update_normalization(obs)
        self.storage.clear()
        self.actor.release_batch()
        losses = self._finish_update(sums, self.actor.flow, type(self.actor).__name__)
        return {key: losses[key] for key in (*LOSS_KEYS, "rnd") if key in losses}

    def broadcast_parameters(self) -> None:
        """Broadcast model parameters from rank 0 (rsl_rl's PPO), then drop the flow's cached time terms: the
        collective writes the parameters without bumping the versions the cache is keyed on."""
        super().broadcast_parameters()
        self.actor.flow.clear_cache()

    def compile(self, mode: str | None = None) -> None:
        """Refuse ``torch.compile`` (the runner's ``torch_compile_mode``); ``None`` leaves the models eager.

        rsl_rl compiles the actor's ``forward``, which GenPO's update never calls: it re-scores stored latents and
        samples the compression loss through the flow directly, so compilation would cover the rollout only. The
        flow's likelihood computations also change the matmul precision and key a cache on the parameters' versions
        on the host, which would split the compiled graph.

        Raises:
            ValueError: If ``mode`` is not None, naming the config key to change.
        """
        if mode is not None:
            raise ValueError(
                f"GenPO does not support torch_compile_mode='{mode}': the flow's update does not run through the "
                "compiled forward pass. Set the runner config's 'torch_compile_mode' to None."
            )
        super().compile(mode)

    @staticmethod
    def _resize_action_storage(storage: RolloutStorage, output_dim: int) -> None:
        """Size the storage's action buffer for the actor's stochastic output (the ``2 d`` latent)."""
        if storage.actions.shape[-1] != output_dim:
            storage.actions_shape = [output_dim]
            storage.actions = storage.actions.new_zeros(*storage.actions.shape[:-1], output_dim)


GenPOAlgorithm = GenPO
"""Alias of :class:`GenPO`, so that ``"genpo_ext.algorithms:GenPOAlgorithm"`` resolves too."""
