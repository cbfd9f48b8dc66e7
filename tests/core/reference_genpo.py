"""An unoptimized transcription of GenPO's flow and loss from the paper's formulas, to test the optimized code against.

Nothing here shares code paths with the package's flow evaluation: the velocity network runs on the concatenated
input ``[u, s, tau(t)]`` with the native Mish, every step is written out as in the paper, the observation and time
terms are recomputed for every call, and the latent density comes from ``torch.distributions``.
"""

from __future__ import annotations

import copy
import math
import torch

from genpo_ext.modules import CoupledFlow, use_native_activations


class ReferenceFlow:
    """The paper's flow, evaluated naively with the parameters of a :class:`CoupledFlow`."""

    def __init__(self, flow: CoupledFlow) -> None:
        """Copy the flow's current parameters into a flow whose activations are the native operators."""
        self.flow = use_native_activations(copy.deepcopy(flow))
        self.d = flow.action_dim
        self.p = flow.mixing_coef
        self.dt = 1.0 / flow.num_steps

    def velocity(self, half: torch.Tensor, obs: torch.Tensor, step: int) -> torch.Tensor:
        """``v(half, s, t_step)`` on the concatenated input."""
        time_features = self.flow.time_encoder(self.flow.step_times)[step].expand(len(obs), -1)
        return self.flow.velocity_field.mlp(torch.cat([half, obs, time_features], dim=-1))

    def push(self, z: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """The forward map, step by step."""
        x, y = z[:, : self.d], z[:, self.d :]
        for step in range(self.flow.num_steps):
            x = x + self.dt * self.velocity(y, obs, step)
            y = y + self.dt * self.velocity(x, obs, step)
            x = self.p * x + (1 - self.p) * y
            y = self.p * y + (1 - self.p) * x
        return torch.cat([x, y], dim=-1)

    def pull(self, u: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """The inverse map, step by step in reverse."""
        x, y = u[:, : self.d], u[:, self.d :]
        for step in reversed(range(self.flow.num_steps)):
            y = (y - (1 - self.p) * x) / self.p
            x = (x - (1 - self.p) * y) / self.p
            y = y - self.dt * self.velocity(x, obs, step)
            x = x - self.dt * self.velocity(y, obs, step)
        return torch.cat([x, y], dim=-1)

    def sigma(self, obs: torch.Tensor) -> torch.Tensor:
        """Latent noise scale of every latent entry, ``(B, 2 d)``."""
        noise = self.flow.noise
        if noise.noise_std_type == "fixed":
            return torch.ones(len(obs), 2 * self.d)
        if noise.noise_std_type == "scalar":
            std = noise.std.expand(len(obs), -1)
        elif noise.noise_std_type == "log":
            std = noise.log_std.exp().expand(len(obs), -1)
        else:
            std = (noise.log_std + torch.tanh(noise.state_head(obs))).exp()
        return std.repeat(1, 2)

    def log_prob(self, u: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """``log N(f^-1(u); 0, diag sigma^2) - 2 N d log p``."""
        z = self.pull(u, obs)
        base = torch.distributions.Normal(torch.zeros_like(z), self.sigma(obs)).log_prob(z).sum(-1)
        return base - 2 * self.flow.num_steps * self.d * math.log(self.p)

    def sample(self, obs: torch.Tensor) -> torch.Tensor:
        """Fresh outputs, drawing the latent noise as the package does (one ``randn`` of the whole latent)."""
        return self.push(torch.randn(len(obs), 2 * self.d) * self.sigma(obs), obs)

    def entropy(self, obs: torch.Tensor) -> torch.Tensor:
        """Entropy of the doubled action, per observation."""
        base = torch.distributions.Normal(torch.zeros(len(obs), 2 * self.d), self.sigma(obs)).entropy().sum(-1)
        return base + 2 * self.flow.num_steps * self.d * math.log(self.p)


def reference_loss_terms(
    alg, obs: torch.Tensor, stored: torch.Tensor, old_log_prob, advantages, values, old_values, returns
) -> dict[str, torch.Tensor]:
    """GenPO's loss terms on one minibatch from the paper's formulas (fresh samples after the re-scoring)."""
    reference = ReferenceFlow(alg.actor.flow)
    log_prob = reference.log_prob(stored, obs)
    ratio = torch.exp(log_prob - old_log_prob)
    clipped = torch.clamp(ratio, 1 - alg.clip_param, 1 + alg.clip_param)
    value_losses = (values - returns).pow(2)
    value_clipped = old_values + (values - old_values).clamp(-alg.clip_param, alg.clip_param)
    terms = {
        "surrogate": torch.max(-advantages * ratio, -advantages * clipped).mean(),
        "value": torch.max(value_losses, (value_clipped - returns).pow(2)).mean(),
        "cross_entropy": -log_prob.mean(),
        "entropy": reference.entropy(obs).mean(),
    }
    if alg.compression_coef > 0:
        fresh = reference.sample(obs)
        terms["compression"] = (fresh[:, : reference.d] - fresh[:, reference.d :]).square().sum(-1).mean()
    return terms
