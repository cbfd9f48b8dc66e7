"""GenPO's options, per-minibatch loss and adaptive learning rate, shared by the rsl_rl generations' GenPO classes.

Everything here works on tensors and on the coupled flow; how minibatches are drawn and how the actor is wrapped is
left to the rsl_rl-facing subclass of ``PPO``.
"""

from __future__ import annotations

import math
import torch
import torch.nn as nn

from genpo_ext.algorithms.kl_estimators import KL_ESTIMATORS
from genpo_ext.modules import CoupledFlow, FlowCondition, non_finite_message
from genpo_ext.modules.non_finite import RECORD_SIZE

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

ENTROPY_DUAL_MODULE = "entropy_dual"
"""Name under which the entropy coefficient's dual variable is attached to the actor (its state-dict prefix)."""


class EntropyDual(nn.Module):
    """The entropy coefficient as a dual variable that steers the policy's entropy towards a target (SAC's automatic
    temperature, here on GenPO's exact entropy inside PPO's loss).

    ``alpha = exp(log_alpha)`` weights the entropy bonus; after each minibatch ``log_alpha`` takes one gradient step
    on ``log_alpha * (target - H / d)``: alpha grows while the entropy per action dimension ``H / d`` lies below the
    target and decays towards 0 above it, so the bonus holds the entropy up to the target and never pushes it
    beyond. ``log_alpha`` is a buffer of the actor it is attached to (:data:`ENTROPY_DUAL_MODULE`): checkpoints,
    resumption and multi-GPU broadcasts carry it with the actor's parameters. Every update is on the device (no host
    read); under multi-GPU training the ranks average the entropy first, so they take the same step.
    """

    def __init__(self, initial_coef: float, target: float, learning_rate: float) -> None:
        """Initialize the dual variable.

        Args:
            initial_coef: Initial coefficient alpha (> 0): the algorithm's ``entropy_coef``.
            target: Target entropy per action dimension, in nats (the doubled action's entropy divided by ``d``).
            learning_rate: Step size of the dual's gradient step on ``log_alpha`` per minibatch (> 0).
        """
        super().__init__()
        self.target = float(target)
        self.learning_rate = float(learning_rate)
        self.register_buffer("log_coef", torch.tensor(math.log(initial_coef)))

    @property
    def coef(self) -> torch.Tensor:
        """The current coefficient alpha, a 0-dim tensor without gradient."""
        return self.log_coef.exp()

    @torch.no_grad()
    def step(self, entropy_per_dim: torch.Tensor, world_size: int) -> None:
        """One gradient step of ``log_alpha`` from the minibatch's mean entropy per action dimension (0-dim)."""
        entropy_per_dim = entropy_per_dim.detach().clone()
        if world_size > 1:
            torch.distributed.all_reduce(entropy_per_dim)
            entropy_per_dim /= world_size
        self.log_coef.add_(self.learning_rate * (self.target - entropy_per_dim))


def validate_genpo_options(
    compression_coef: float,
    compression_loss: str,
    compression_batch_fraction: float,
    entropy_term: str,
    kl_estimator: str,
    ppo_kwargs: dict,
    entropy_target: float | None = None,
    entropy_coef_lr: float = 0.01,
) -> None:
    """Check GenPO's own algorithm options and the PPO options it cannot honour.

    Args:
        compression_coef: Weight of the compression loss.
        compression_loss: One of :data:`COMPRESSION_LOSSES`.
        compression_batch_fraction: Fraction of each minibatch that feeds the compression loss.
        entropy_term: One of :data:`ENTROPY_TERMS`.
        kl_estimator: A key of :data:`~genpo_ext.algorithms.kl_estimators.KL_ESTIMATORS`.
        ppo_kwargs: The keyword arguments passed on to rsl_rl's ``PPO``.
        entropy_target: Target entropy per action dimension of a learned entropy coefficient, or None.
        entropy_coef_lr: Step size of the learned entropy coefficient.

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
    if entropy_target is not None:
        if entropy_term != "exact":
            raise ValueError(
                "entropy_target learns the coefficient of the flow's exact entropy; set entropy_term to 'exact' "
                f"(got '{entropy_term}'), or entropy_target to None."
            )
        if "entropy_coef" in ppo_kwargs and not ppo_kwargs["entropy_coef"] > 0.0:
            raise ValueError(
                "entropy_target starts the learned entropy coefficient at entropy_coef, which must be > 0, "
                f"got {ppo_kwargs['entropy_coef']!r}."
            )
        if not entropy_coef_lr > 0.0:
            raise ValueError(f"entropy_coef_lr must be > 0, got {entropy_coef_lr!r}.")


class GenPOLoss:
    """Mixin of GenPO's loss for a subclass of an rsl_rl ``PPO``.

    It reads PPO's own attributes (``clip_param``, ``value_loss_coef``, ``use_clipped_value_loss``,
    ``entropy_coef``, ``desired_kl``, ``learning_rate``, ``optimizer``, ``device`` and the multi-GPU fields), so
    changing them at run time works as it does for PPO. Per minibatch::

        loss = surrogate + value_loss_coef * value - entropy_coef * entropy_term + compression_coef * compression

    With ``entropy_target`` set, ``entropy_coef`` is only the start of a learned coefficient (:class:`EntropyDual`).

    Host reads (each one a synchronization with the GPU): one per minibatch for the adaptive learning rate (as
    rsl_rl's PPO; none with a fixed schedule) and one per update for the logged losses and the non-finite check
    (:meth:`_finish_update`); the loss terms are summed on the device in between (:meth:`_accumulate`).
    """

    compression_coef: float
    """Weight nu of the compression loss on fresh samples (0 disables it and skips the samples)."""
    compression_loss: str
    """One of :data:`COMPRESSION_LOSSES`."""
    compression_batch_fraction: float
    """Fraction of each minibatch on which fresh samples feed the compression loss."""
    entropy_term: str
    """One of :data:`ENTROPY_TERMS`."""
    entropy_dual: EntropyDual | None
    """The learned entropy coefficient, or None when ``entropy_coef`` is fixed."""

    def _init_genpo_options(
        self,
        compression_coef: float,
        compression_loss: str,
        compression_batch_fraction: float,
        entropy_term: str,
        kl_estimator: str,
        actor: nn.Module,
        entropy_target: float | None = None,
        entropy_coef_lr: float = 0.01,
    ) -> None:
        """Store GenPO's options, checked before by :func:`validate_genpo_options`, and attach a learned entropy
        coefficient to ``actor`` (the module whose state dict checkpoints hold) when ``entropy_target`` is set."""
        self.compression_coef = compression_coef
        self.compression_loss = compression_loss
        self.compression_batch_fraction = compression_batch_fraction
        self.entropy_term = entropy_term
        self.kl_estimator = KL_ESTIMATORS[kl_estimator]
        self.entropy_dual = None
        if entropy_target is not None:
            self.entropy_dual = EntropyDual(self.entropy_coef, entropy_target, entropy_coef_lr).to(self.device)
            actor.add_module(ENTROPY_DUAL_MODULE, self.entropy_dual)

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
            The loss, and ``{"surrogate", "value", "entropy", "cross_entropy", "compression", "noise_std",
            "entropy_coef"}``.
        """
        surrogate = self._surrogate_loss(log_prob, old_log_prob, advantages)
        value = self._value_loss(values, old_values, returns)
        cross_entropy = -log_prob.mean()
        samples, sampled_condition = self._fresh_samples(flow, condition)
        # squashed actions: the entropy's squashing term is estimated on the fresh samples
        if flow.squash.enabled:
            entropy = flow.entropy(sampled_condition, samples).mean()
        else:
            entropy = flow.entropy(condition).mean()
        compression = self._compression(samples, flow.action_dim) if self.compression_coef > 0.0 else None
        entropy_coef = self.entropy_dual.coef if self.entropy_dual is not None else self.entropy_coef
        loss = surrogate + self.value_loss_coef * value
        loss = loss - entropy_coef * (entropy if self.entropy_term == "exact" else cross_entropy)
        if compression is not None:
            loss = loss + self.compression_coef * compression
        if self.entropy_dual is not None:
            self.entropy_dual.step(entropy / flow.action_dim, self.gpu_world_size if self.is_multi_gpu else 1)
        terms = {
            "surrogate": surrogate,
            "value": value,
            "entropy": entropy,
            "cross_entropy": cross_entropy,
            "compression": compression if compression is not None else torch.zeros_like(surrogate),
            "noise_std": flow.noise_std(condition).mean(),
            "entropy_coef": surrogate.new_full((), self.entropy_coef) if self.entropy_dual is None else entropy_coef,
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

    def _fresh_samples(
        self, flow: CoupledFlow, condition: FlowCondition
    ) -> tuple[torch.Tensor | None, FlowCondition]:
        """Fresh samples of the current flow (gradient through the flow) for the compression loss and a squashed
        flow's entropy, and the condition they were drawn from; None when neither needs them.

        With ``compression_batch_fraction < 1`` the samples are drawn for a uniformly random subset of the
        minibatch: an unbiased estimate of the same means with more variance.
        """
        if self.compression_coef == 0.0 and not flow.squash.enabled:
            return None, condition
        if self.compression_batch_fraction < 1.0:
            num_rows = max(1, round(self.compression_batch_fraction * condition.batch_size))
            rows = torch.randperm(condition.batch_size, device=condition.step_terms.device)[:num_rows]
            condition = condition.select(rows)
        return flow.sample(condition)[0], condition

    def _compression(self, outputs: torch.Tensor, action_dim: int) -> torch.Tensor:
        """Gap between the latent halves: ``E||x_N - y_N||^2`` (paper) or ``E||x_N - y_N||`` (official code)."""
        squared_norm = (outputs[:, :action_dim] - outputs[:, action_dim:]).square().sum(dim=-1)
        return squared_norm.mean() if self.compression_loss == "squared" else squared_norm.sqrt().mean()

    @staticmethod
    def _accumulate(sums: dict[str, torch.Tensor], terms: dict[str, torch.Tensor]) -> None:
        """Add detached loss terms to the update's running sums, on the device (no host read).

        The sums are kept in float64, as the host-side Python sums they replace were.
        """
        for key, value in terms.items():
            value = value.detach().double()
            sums[key] = sums[key] + value if key in sums else value

    def _finish_update(self, sums: dict[str, torch.Tensor], flow: CoupledFlow, owner: str) -> dict[str, float]:
        """Read the update's results from the device in one go: the mean losses and every rank's non-finite record.

        The flow's parameters are checked after the last optimizer step first, so that a diverged update is reported
        before the next rollout hands its samples to the environment. Under multi-GPU training every rank gathers
        every rank's record before deciding: all ranks raise the same error at the same point, where a rank raising
        alone would leave the others waiting in the next collective.

        Args:
            sums: Running sums of the loss terms over the update's minibatches (see :meth:`_accumulate`).
            flow: The actor's flow, whose non-finite record is read and cleared.
            owner: Name of the model, for the message.

        Returns:
            The mean of each loss term over the minibatches.

        Raises:
            FloatingPointError: If any rank recorded a non-finite sample, log-prob or parameter (or a ``scalar`` noise
                std outside the positive reals), naming the rank, the values and where they arose.
        """
        flow.check_parameters()
        record = flow.non_finite.state(self.device)
        flow.non_finite.clear()
        if self.is_multi_gpu:
            gathered = [torch.empty_like(record) for _ in range(self.gpu_world_size)]
            torch.distributed.all_gather(gathered, record)
            record = torch.cat(gathered)
        keys = list(sums)
        host = torch.cat([torch.stack([sums[key] for key in keys]), record.double()]).tolist()
        records = [host[start : start + RECORD_SIZE] for start in range(len(keys), len(host), RECORD_SIZE)]
        message = non_finite_message(records, owner)
        if message is not None:
            raise FloatingPointError(message)
        num_updates = self.num_learning_epochs * self.num_mini_batches
        return {key: value / num_updates for key, value in zip(keys, host)}

    @torch.no_grad()
    def _adapt_learning_rate(self, kl_mean: torch.Tensor) -> None:
        """Shrink the learning rate when the KL overshoots, grow it when the KL is small, and keep the ranks in step.

        One host read per call: the KL mean, averaged over the ranks under multi-GPU training together with rank 0's
        learning rate, from which every rank then computes the same new rate (rsl_rl's PPO broadcasts rank 0's result
        in a second collective and read).
        """
        if self.is_multi_gpu:
            # rank 0 contributes its learning rate, the others zero: one sum carries the KL total and rank 0's rate
            own_rate = self.learning_rate if self.gpu_global_rank == 0 else 0.0
            packed = torch.stack([kl_mean.double(), kl_mean.new_full((), own_rate, dtype=torch.float64)])
            torch.distributed.all_reduce(packed, op=torch.distributed.ReduceOp.SUM)
            # the caller logs the mean over the ranks, as with rsl_rl's in-place reduction
            kl_mean.copy_(packed[0] / self.gpu_world_size)
            kl_total, self.learning_rate = packed.tolist()
            kl = kl_total / self.gpu_world_size
        else:
            kl = kl_mean.item()
        if kl > self.desired_kl * 2.0:
            self.learning_rate = max(LEARNING_RATE_BOUNDS[0], self.learning_rate / LEARNING_RATE_FACTOR)
        elif self.kl_estimator.raise_floor < kl < self.desired_kl / 2.0:
            self.learning_rate = min(LEARNING_RATE_BOUNDS[1], self.learning_rate * LEARNING_RATE_FACTOR)
        for param_group in self.optimizer.param_groups:
            param_group["lr"] = self.learning_rate

