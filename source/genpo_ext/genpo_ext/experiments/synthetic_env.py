"""A synthetic ``VecEnv`` of given sizes whose step costs next to nothing, to time an algorithm's own work."""

from __future__ import annotations

import torch
from tensordict import TensorDict

from rsl_rl.env import VecEnv

EPISODE_LENGTH = 100
"""Steps after which every synthetic episode times out."""


class SyntheticEnv(VecEnv):
    """Random observations and rewards of fixed sizes; a step is one random draw, so a runner's iteration time is
    almost entirely the algorithm's (rollout inference, storage, returns and update)."""

    def __init__(self, num_envs: int, obs_dim: int, action_dim: int, device: str = "cpu", seed: int = 0) -> None:
        """Create the environment.

        Args:
            num_envs: Number of parallel environments.
            obs_dim: Observation dimension (one ``policy`` group read by actor and critic).
            action_dim: Action dimension.
            device: Device of the returned tensors.
            seed: Seed of the environment's own random generator.
        """
        self.num_envs = num_envs
        self.num_actions = action_dim
        self.obs_dim = obs_dim
        self.max_episode_length = EPISODE_LENGTH
        self.device = device
        self.cfg = {"name": "Synthetic", "obs_dim": obs_dim, "action_dim": action_dim}
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self.episode_length_buf = torch.zeros(num_envs, dtype=torch.long, device=device)

    def get_observations(self) -> TensorDict:
        """Return fresh random observations."""
        obs = torch.randn(self.num_envs, self.obs_dim, generator=self.generator, device=self.device)
        return TensorDict({"policy": obs}, batch_size=[self.num_envs], device=self.device)

    def step(self, actions: torch.Tensor) -> tuple[TensorDict, torch.Tensor, torch.Tensor, dict]:
        """Return random observations and rewards; episodes time out after :data:`EPISODE_LENGTH` steps."""
        rewards = torch.randn(self.num_envs, generator=self.generator, device=self.device)
        self.episode_length_buf += 1
        time_outs = self.episode_length_buf >= self.max_episode_length
        self.episode_length_buf[time_outs] = 0
        return self.get_observations(), rewards, time_outs.long(), {"time_outs": time_outs}
