"""Small batched continuous-control environments, written in torch, that implement rsl_rl's ``VecEnv``."""

from __future__ import annotations

import torch
from tensordict import TensorDict

from rsl_rl.env import VecEnv


class PointReachEnv(VecEnv):
    """A point in the plane steered by velocity commands towards a random goal.

    Observation ``[position, goal - position]`` (4), action: velocity in ``[-1, 1]^2``, reward: minus the distance to
    the goal after the move. Episodes last ``max_episode_length`` steps and end by time-out.
    """

    step_size = 0.1
    """Distance covered per step at unit velocity."""

    def __init__(self, num_envs: int, max_episode_length: int = 30, seed: int = 0, device: str = "cpu") -> None:
        """Create ``num_envs`` independent points with their own random generator."""
        self.num_envs = num_envs
        self.num_actions = 2
        self.max_episode_length = max_episode_length
        self.device = device
        self.cfg = {"name": "PointReach"}
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self.episode_length_buf = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.position = torch.zeros(num_envs, 2, device=device)
        self.goal = torch.zeros(num_envs, 2, device=device)
        self._reset(torch.arange(num_envs, device=device))

    def get_observations(self) -> TensorDict:
        """Return the observation group ``policy``."""
        obs = torch.cat([self.position, self.goal - self.position], dim=-1)
        return TensorDict({"policy": obs}, batch_size=[self.num_envs], device=self.device)

    def step(self, actions: torch.Tensor) -> tuple[TensorDict, torch.Tensor, torch.Tensor, dict]:
        """Move, reward, and reset the environments whose episode timed out."""
        self.position = self.position + self.step_size * actions.clamp(-1.0, 1.0)
        rewards = -torch.linalg.vector_norm(self.goal - self.position, dim=-1)
        self.episode_length_buf += 1
        time_outs = self.episode_length_buf >= self.max_episode_length
        self._reset(time_outs.nonzero().flatten())
        return self.get_observations(), rewards, time_outs.long(), {"time_outs": time_outs}

    def _reset(self, env_ids: torch.Tensor) -> None:
        """Draw new start and goal positions in ``[-1, 1]^2``."""
        n = len(env_ids)
        self.position[env_ids] = 2.0 * torch.rand(n, 2, generator=self.generator, device=self.device) - 1.0
        self.goal[env_ids] = 2.0 * torch.rand(n, 2, generator=self.generator, device=self.device) - 1.0
        self.episode_length_buf[env_ids] = 0


class BimodalBanditEnv(VecEnv):
    """One-step bandit with a 1-d action whose reward has two equal peaks, at ``-1`` and ``+1``.

    ``r(a) = exp(-(a - 1)^2 / (2 w^2)) + exp(-(a + 1)^2 / (2 w^2))``: every optimal policy puts its mass on the
    peaks, and one that covers both is as good as one that picks a side. A Gaussian can only do the latter.
    """

    peak_width = 0.25
    """Width ``w`` of each reward peak."""

    def __init__(self, num_envs: int, device: str = "cpu") -> None:
        """Create ``num_envs`` copies of the bandit."""
        self.num_envs = num_envs
        self.num_actions = 1
        self.max_episode_length = 1
        self.device = device
        self.cfg = {"name": "BimodalBandit"}
        self.episode_length_buf = torch.zeros(num_envs, dtype=torch.long, device=device)

    def get_observations(self) -> TensorDict:
        """Return a constant observation: the bandit has a single state."""
        return TensorDict({"policy": torch.ones(self.num_envs, 1, device=self.device)}, batch_size=[self.num_envs])

    def step(self, actions: torch.Tensor) -> tuple[TensorDict, torch.Tensor, torch.Tensor, dict]:
        """Reward the action and end the episode."""
        rewards = self.reward(actions.squeeze(-1))
        dones = torch.ones(self.num_envs, dtype=torch.long, device=self.device)
        return self.get_observations(), rewards, dones, {}

    @classmethod
    def reward(cls, actions: torch.Tensor) -> torch.Tensor:
        """The two-peaked reward of 1-d actions."""
        scale = 2.0 * cls.peak_width**2
        return torch.exp(-(actions - 1.0).square() / scale) + torch.exp(-(actions + 1.0).square() / scale)
