"""Undiscounted returns of complete episodes of a policy on an rsl_rl ``VecEnv``: one episode per environment."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch
from tensordict import TensorDict

Policy = Callable[[TensorDict], torch.Tensor]
"""Maps a batch of observations to a batch of env actions."""


class IncompleteEpisodesError(RuntimeError):
    """Some environments did not finish an episode within the step budget."""


@dataclasses.dataclass
class EpisodeStats:
    """Return and length of the first episode of every environment."""

    returns: np.ndarray
    """Undiscounted return of each environment's first episode."""
    lengths: np.ndarray
    """Steps of each environment's first episode."""

    @property
    def mean_return(self) -> float:
        """Mean return over the episodes."""
        return float(np.mean(self.returns))

    @property
    def std_return(self) -> float:
        """Sample standard deviation of the returns (0 for one episode)."""
        return float(np.std(self.returns, ddof=1)) if len(self.returns) > 1 else 0.0


def run_episodes(env, policy: Policy, max_steps: int) -> EpisodeStats:
    """Step every environment until each has finished its first episode, and return those episodes.

    Each environment contributes exactly one complete episode, so ``env.num_envs`` episodes are returned whatever
    their lengths; environments that finished early keep stepping (their later episodes are not counted), which keeps
    the batch shape fixed for the policy.

    Args:
        env: rsl_rl ``VecEnv`` right after a reset (every environment at the start of an episode).
        policy: Maps observations to actions; a ``reset(dones)`` method, if it has one, is called after each step.
        max_steps: Steps after which an unfinished episode is an error (at least the env's episode length).

    Raises:
        IncompleteEpisodesError: If an environment has not finished an episode after ``max_steps`` steps.
    """
    reset = getattr(policy, "reset", None)
    obs = env.get_observations()
    returns = torch.zeros(env.num_envs, device=env.device)
    lengths = torch.zeros(env.num_envs, dtype=torch.long, device=env.device)
    finished = torch.zeros(env.num_envs, dtype=torch.bool, device=env.device)
    for _ in range(max_steps):
        obs, rewards, dones, _ = env.step(policy(obs))
        if reset is not None:
            reset(dones)
        running = ~finished
        returns += torch.where(running, rewards.to(returns.device), 0.0)
        lengths += running.long()
        finished |= dones.to(finished.device).bool()
        if bool(finished.all()):
            return EpisodeStats(returns.cpu().numpy(), lengths.cpu().numpy())
    raise IncompleteEpisodesError(
        f"{int((~finished).sum())} of {env.num_envs} environments did not finish an episode in {max_steps} steps."
    )
