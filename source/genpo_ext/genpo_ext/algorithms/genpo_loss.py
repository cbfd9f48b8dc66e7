"""GenPO's options, per-minibatch loss and adaptive learning rate, shared by the rsl_rl generations' GenPO classes.

Everything here works on tensors and on the coupled flow; how minibatches are drawn and how the actor is wrapped is
left to the rsl_rl-facing subclass of ``PPO``.
"""

from __future__ import annotations

import torch

from genpo_ext.algorithms.kl_estimators import KL_ESTIMATORS
from genpo_ext.modules import CoupledFlow, FlowCondition

COMPRESSION_LOSSES = ("squared", "l2")
"""Forms of the compression loss: the paper's ``E[||x_N - y_N||^2]`` or the code's unsquared ``E[||x_N - y_N||]``."""

ENTROPY_TERMS = ("paper", "exact")
"""What ``entropy_coef`` weights: ``paper``, the cross-entropy ``-E[log pi_new(stored outputs)]`` of the paper's code;
``exact``, the flow's closed-form entropy ``H(N(0, diag sigma^2)) + 2 N d log p`` (a gradient only for learned
sigma)."""

ADVANTAGE_NORMALIZATION_EPS = 1e-8
"""Added to the advantages' std when they are normalized per minibatch (rsl_rl's value)."""

LEARNING_RATE_BOUNDS = (1e-5, 1e-2)
"""Range of the adaptive learning rate (rsl_rl's PPO bounds)."""

LEARNING_RATE_FACTOR = 1.5
"""Multiplicative step of the adaptive learning rate (rsl_rl's PPO factor)."""


def validate_genpo_options(
    compression_coef: float,
    compression_loss: str,
    compression_batch_fraction: float,
    entropy_term: str,
    kl_estimator: str,
    ppo_kwargs: dict,
) -> None:
    """Check GenPO's own algorithm options and the PPO options it cannot honour.

    Args:
        compression_coef: Weight of the compression loss.
        compression_loss: One of :data:`COMPRESSION_LOSSES`.
        compression_batch_fraction: Fraction of each minibatch that feeds the compression loss.
        entropy_term: One of :data:`ENTROPY_TERMS`.
        kl_estimator: A key of :data:`~genpo_ext.algorithms.kl_estimators.KL_ESTIMATORS`.
        ppo_kwargs: The keyword arguments passed on to rsl_rl's ``PPO``.

    Raises:
        ValueError: For an unknown option, a value outside its range (naming the valid ones) or symmetry
            augmentation.
    """
    if ppo_kwargs.get("symmetry_cfg"):
        raise ValueError(
            "GenPO does not support symmetry augmentation: it would mirror the flow's 2d latent as if it were an "
            "action. Remove 'symmetry_cfg' from the algorithm config."
        )
    if compression_loss not in COMPRESSION_LOSSES:
        raise ValueError(f"Unknown compression_loss '{compression_loss}'. Valid options: {list(COMPRESSION_LOSSES)}.")
    if entropy_term not in ENTROPY_TERMS:
        raise ValueError(f"Unknown entropy_term '{entropy_term}'. Valid options: {list(ENTROPY_TERMS)}.")
    if kl_estimator not in KL_ESTIMATORS:
        raise ValueError(f"Unknown kl_estimator '{kl_estimator}'. Valid options: {list(KL_ESTIMATORS)}.")
    if compression_coef < 0.0:
        raise ValueError(f"compression_coef must be >= 0, got {compression_coef}.")
    if not 0.0 < compression_batch_fraction <= 1.0:
        raise ValueError(f"compression_batch_fraction must lie in (0, 1], got {compression_batch_fraction}.")


class GenPOLoss:
    """Mixin of GenPO's loss for a subclass of an rsl_rl ``PPO``.

    It reads PPO's own attributes (``clip_param``, ``value_loss_coef``, ``use_clipped_value_loss``,
    ``entropy_coef``, ``desired_kl``, ``learning_rate``, ``optimizer``, ``device`` and the multi-GPU fields), so
    changing them at run time works as it does for PPO. Per minibatch::

        loss = surrogate + value_loss_coef * value - entropy_coef * entropy_term + compression_coef * compression
    """

    compression_coef: float
    """Weight nu of the compression loss on fresh samples (0 disables it and skips the samples)."""
    compression_loss: str
    """One of :data:`COMPRESSION_LOSSES`."""
    compression_batch_fraction: float
    """Fraction of each minibatch on which fresh samples feed the compression loss."""
    entropy_term: str
    """One of :data:`ENTROPY_TERMS`."""

    def _init_genpo_options(
        self,
        compression_coef: float,
        compression_loss: str,
        compression_batch_fraction: float,
        entropy_term: str,
        kl_estimator: str,
    ) -> None:
        """Store GenPO's options, checked before by :func:`validate_genpo_options`."""
        self.compression_coef = compression_coef
        self.compression_loss = compression_loss
        self.compression_batch_fraction = compression_batch_fraction
        self.entropy_term = entropy_term
        self.kl_estimator = KL_ESTIMATORS[kl_estimator]

    def _genpo_minibatch_loss(
        self,
        flow: CoupledFlow,
        condition: FlowCondition,
        log_prob: torch.Tensor,
        old_log_prob: torch.Tensor,
        advantages: torch.Tensor,
        values: torch.Tensor,
        old_values: torch.Tensor,
        returns: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Return GenPO's loss on one minibatch and its detached terms for logging.

        Args:
            flow: The actor's flow.
            condition: The flow conditioned on the minibatch's observations.
            log_prob: Exact log-probs of the stored outputs under the current flow, ``(B,)``.
            old_log_prob: Log-probs recorded in the rollout, ``(B,)``.
            advantages: Advantages, ``(B,)``.
            values: Current value predictions, ``(B, 1)``.
            old_values: Values recorded in the rollout, ``(B, 1)``.
            returns: Returns, ``(B, 1)``.

        Returns:
            The loss, and ``{"surrogate", "value", "entropy", "cross_entropy", "compression", "noise_std"}``.
        """
        surrogate = self._surrogate_loss(log_prob, old_log_prob, advantages)
        value = self._value_loss(values, old_values, returns)
        cross_entropy = -log_prob.mean()
        entropy = flow.entropy(condition).mean()
        compression = self._compression_term(flow, condition)
        loss = surrogate + self.value_loss_coef * value
        loss = loss - self.entropy_coef * (entropy if self.entropy_term == "exact" else cross_entropy)
        if compression is not None:
            loss = loss + self.compression_coef * compression
        terms = {
            "surrogate": surrogate,
            "value": value,
            "entropy": entropy,
            "cross_entropy": cross_entropy,
            "compression": compression if compression is not None else torch.zeros_like(surrogate),
            "noise_std": flow.noise_std(condition).mean(),
        }
        return loss, {key: term.detach() for key, term in terms.items()}

    def _surrogate_loss(
        self, log_prob: torch.Tensor, old_log_prob: torch.Tensor, advantages: torch.Tensor
    ) -> torch.Tensor:
        """Clipped surrogate on the exact likelihood ratio ``exp(log pi_new - log pi_old)``."""
        ratio = torch.exp(log_prob - old_log_prob)
        clipped_ratio = torch.clamp(ratio, 1.0 - self.clip_param, 1.0 + self.clip_param)
        return torch.max(-advantages * ratio, -advantages * clipped_ratio).mean()

    def _value_loss(self, values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
        """Squared value error, clipped around the rollout's values as in PPO when enabled."""
        value_losses = (values - returns).pow(2)
        if not self.use_clipped_value_loss:
            return value_losses.mean()
        value_clipped = old_values + (values - old_values).clamp(-self.clip_param, self.clip_param)
        return torch.max(value_losses, (value_clipped - returns).pow(2)).mean()

    def _compression_term(self, flow: CoupledFlow, condition: FlowCondition) -> torch.Tensor | None:
        """Compression loss on fresh samples (gradient through the flow), or None when it is switched off.

        With ``compression_batch_fraction < 1`` the samples are drawn for a uniformly random subset of the
        minibatch: an unbiased estimate of the same mean with more variance.
        """
        if self.compression_coef == 0.0:
            return None
        if self.compression_batch_fraction < 1.0:
            num_rows = max(1, round(self.compression_batch_fraction * condition.batch_size))
            rows = torch.randperm(condition.batch_size, device=condition.step_terms.device)[:num_rows]
            condition = condition.select(rows)
        return self._compression(flow.sample(condition)[0], flow.action_dim)

    def _compression(self, outputs: torch.Tensor, action_dim: int) -> torch.Tensor:
        """Gap between the latent halves: ``E||x_N - y_N||^2`` (paper) or ``E||x_N - y_N||`` (official code)."""
        squared_norm = (outputs[:, :action_dim] - outputs[:, action_dim:]).square().sum(dim=-1)
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
