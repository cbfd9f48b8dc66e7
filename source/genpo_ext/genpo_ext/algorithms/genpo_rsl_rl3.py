"""GenPO: PPO on the exact likelihood of an invertible flow policy (arXiv 2505.18763), for rsl_rl 3."""

from __future__ import annotations

import torch
import torch.nn as nn
from tensordict import TensorDict

from rsl_rl.algorithms import PPO

from genpo_ext.algorithms.genpo_loss import ADVANTAGE_NORMALIZATION_EPS, GenPOLoss, validate_genpo_options
from genpo_ext.models import GenPOActorCritic


class GenPO(GenPOLoss, PPO):
    """Generative Policy Optimization on rsl_rl 3: clipped PPO on the exact log-likelihood of a GenPO flow policy.

    The rsl_rl 3 counterpart of the rsl_rl 5 ``GenPO``, with the same options, loss (:class:`GenPOLoss`) and
    adaptive learning rate. Differences to rsl_rl 3's :class:`~rsl_rl.algorithms.PPO`:

    - The policy must be a :class:`~genpo_ext.models.GenPOActorCritic`. The rollout stores the flow's doubled latent
      ``(x_N, y_N)`` (``2 d`` per step, whatever action shape the runner asks :meth:`init_storage` for) and its exact
      log-prob, sampled in one forward pass; :meth:`act` hands the environment ``(x_N + y_N) / 2``.
    - The update re-scores stored latents by exact inversion, adds the paper's compression loss on fresh samples
      and adapts the learning rate from a log-prob KL estimate instead of the Gaussian closed form.

    Returns, observation normalization, checkpoints, RND's intrinsic reward and the multi-GPU gradient reduction and
    parameter broadcast are rsl_rl 3's PPO's. Symmetry augmentation (it would mirror ``2 d`` latents as if they were
    actions) is rejected. Non-finite samples, log-probs and parameters are recorded on the device and reported once
    per update, by every rank together under multi-GPU training
    (:meth:`~genpo_ext.algorithms.genpo_loss.GenPOLoss._finish_update`).

    Reference:
        - Ding et al. "GenPO: Generative Diffusion Models Meet On-Policy Reinforcement Learning." arXiv:2505.18763.
    """

    policy: GenPOActorCritic
    """The flow actor and the critic."""

    def __init__(
        self,
        policy: GenPOActorCritic,
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
            policy: The GenPO actor-critic.
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
            **kwargs: Arguments of rsl_rl 3's :class:`~rsl_rl.algorithms.PPO` (clip, gamma, lam, learning rate,
                device, RND and multi-GPU configs, ...).

        Raises:
            ValueError: For an unknown option, a value outside its range, symmetry augmentation or a policy that is
                not a GenPO actor-critic.
        """
        options = (compression_coef, compression_loss, compression_batch_fraction, entropy_term, kl_estimator)
        validate_genpo_options(*options, kwargs, entropy_target, entropy_coef_lr)
        if not isinstance(policy, GenPOActorCritic):
            raise ValueError(
                f"GenPO needs a flow policy (class_name 'GenPOActorCritic'), got {type(policy).__name__}. "
                "Set the policy's class_name accordingly."
            )
        super().__init__(policy, **kwargs)
        self._init_genpo_options(*options, policy, entropy_target, entropy_coef_lr)

    def init_storage(
        self,
        training_type: str,
        num_envs: int,
        num_transitions_per_env: int,
        obs: TensorDict,
        actions_shape: tuple[int, ...] | list[int],
    ) -> None:
        """Create the rollout storage, sized for the policy's ``2 d`` latent instead of ``actions_shape``.

        Args:
            training_type: rsl_rl's training type (``"rl"``).
            num_envs: Number of environments.
            num_transitions_per_env: Rollout length.
            obs: Observation dictionary.
            actions_shape: The environment's action shape, as the runner passes it; the storage holds the latent.
        """
        super().init_storage(training_type, num_envs, num_transitions_per_env, obs, [self.policy.latent_dim])

    def act(self, obs: TensorDict) -> torch.Tensor:
        """Sample the flow once, store its latent and exact log-prob, and return the environment action."""
        actions = self.policy.act(obs).detach()
        self.transition.actions = actions
        self.transition.values = self.policy.evaluate(obs).detach()
        self.transition.actions_log_prob = self.policy.actions_log_prob.detach()
        # rsl_rl 3's storage keeps a Gaussian mean and std per transition; a flow has neither and GenPO reads neither
        self.transition.action_mean = torch.zeros_like(actions)
        self.transition.action_sigma = torch.zeros_like(actions)
        self.transition.observations = obs
        return self.policy.to_env_action(actions)

    def update(self) -> dict[str, float]:
        """Run the optimization epochs over the rollout and return the mean losses.

        Per minibatch the flow is conditioned on the observations once; stored latents are re-scored by exact
        inversion and, when the compression loss is on, fresh samples are drawn from the same condition (see
        :class:`~genpo_ext.algorithms.genpo_loss.GenPOLoss`). Keys: ``surrogate``, ``value``, ``entropy``,
        ``cross_entropy``, ``compression``, ``noise_std``, ``entropy_coef``, ``kl`` (and ``rnd``), logged by the runner as
        ``Loss/<key>``. The losses are summed on the device and read once, with the non-finite check, at the end.

        Raises:
            FloatingPointError: If a non-finite sample, log-prob or parameter arose since the last update (on any
                rank under multi-GPU training).
        """
        sums: dict[str, torch.Tensor] = {}
        generator = self.storage.mini_batch_generator(self.num_mini_batches, self.num_learning_epochs)
        for obs, actions, old_values, advantages, returns, old_log_prob, *_ in generator:
            advantages = advantages.squeeze(-1)
            if self.normalize_advantage_per_mini_batch:
                advantages = (advantages - advantages.mean()) / (advantages.std() + ADVANTAGE_NORMALIZATION_EPS)
            old_log_prob = old_log_prob.squeeze(-1)

            condition = self.policy.condition_on(obs)
            log_prob = self.policy.get_actions_log_prob(actions)
            values = self.policy.evaluate(obs)

            kl_mean = self.kl_estimator.estimate(old_log_prob, log_prob.detach()).mean()
            if self.desired_kl is not None and self.schedule == "adaptive":
                self._adapt_learning_rate(kl_mean)

            loss, terms = self._genpo_minibatch_loss(
                self.policy.flow, condition, log_prob, old_log_prob, advantages, values, old_values, returns
            )
            terms["kl"] = kl_mean
            self.optimizer.zero_grad()
            loss.backward()
            if self.rnd:
                terms["rnd"] = self._rnd_loss(obs)
                self.rnd_optimizer.zero_grad()
                terms["rnd"].backward()
            if self.is_multi_gpu:
                self.reduce_parameters()
            nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.optimizer.step()
            if self.rnd:
                self.rnd_optimizer.step()

            self._accumulate(sums, terms)

        self.storage.clear()
        self.policy.release_batch()
        return self._finish_update(sums, self.policy.flow, type(self.policy).__name__)

    def broadcast_parameters(self) -> None:
        """Broadcast model parameters from rank 0 (rsl_rl 3's PPO), then drop the flow's cached time terms, which
        are keyed on parameter versions that a collective may leave unchanged."""
        super().broadcast_parameters()
        self.policy.flow.clear_cache()

    def _rnd_loss(self, obs: TensorDict) -> torch.Tensor:
        """RND's predictor loss on a minibatch, as rsl_rl 3's PPO computes it."""
        with torch.no_grad():
            rnd_state = self.rnd.state_normalizer(self.rnd.get_rnd_state(obs))
        return nn.functional.mse_loss(self.rnd.predictor(rnd_state), self.rnd.target(rnd_state).detach())


GenPOAlgorithm = GenPO
"""Alias of :class:`GenPO`, so that the class name ``"GenPOAlgorithm"`` resolves too."""
