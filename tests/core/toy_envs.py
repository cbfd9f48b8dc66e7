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

    step_dt = 0.1
    """Simulated seconds per step (rsl_rl's RND scales its weight by it)."""

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

    @property
    def unwrapped(self) -> PointReachEnv:
        """The environment itself (no wrappers), as rsl_rl's RND extension expects."""
        return self

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


class AlternatingBanditEnv(VecEnv):
    """Two-step episodes with an unobserved first action: the best memoryless policy is bimodal.

    Each step pays the two-peaked reward of :class:`BimodalBanditEnv`; the second step also pays ``switch_bonus`` if
    its action has the opposite sign of the first. The observation is constant, so a policy cannot condition on the
    first action: a policy that picks either peak with probability 1/2 earns ``2 + switch_bonus / 2``, while any
    unimodal policy (a Gaussian) earns at most about ``2`` (see :meth:`best_gaussian_return`).
    """

    switch_bonus = 1.0
    """Reward for switching the sign of the action between the two steps."""

    def __init__(self, num_envs: int, device: str = "cpu") -> None:
        """Create ``num_envs`` copies of the game."""
        self.num_envs = num_envs
        self.num_actions = 1
        self.max_episode_length = 2
        self.device = device
        self.cfg = {"name": "AlternatingBandit"}
        self.episode_length_buf = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.first_action = torch.zeros(num_envs, device=device)

    def get_observations(self) -> TensorDict:
        """Return a constant observation: the game looks the same at both steps."""
        return TensorDict({"policy": torch.ones(self.num_envs, 1, device=self.device)}, batch_size=[self.num_envs])

    def step(self, actions: torch.Tensor) -> tuple[TensorDict, torch.Tensor, torch.Tensor, dict]:
        """Pay the peak reward, plus the switch bonus on the second step, and end episodes after two steps."""
        actions = actions.squeeze(-1)
        second = self.episode_length_buf == 1
        switched = torch.sign(actions) != torch.sign(self.first_action)
        rewards = BimodalBanditEnv.reward(actions) + self.switch_bonus * (second & switched).float()
        self.first_action = torch.where(second, self.first_action, actions)
        dones = second
        self.episode_length_buf = torch.where(second, 0, self.episode_length_buf + 1)
        return self.get_observations(), rewards, dones.long(), {}

    @classmethod
    def expected_return(cls, actions_first: torch.Tensor, actions_second: torch.Tensor) -> torch.Tensor:
        """Mean return of episodes played with the given independent first and second actions."""
        switched = (torch.sign(actions_first) != torch.sign(actions_second)).float()
        reward = BimodalBanditEnv.reward
        return (reward(actions_first) + reward(actions_second) + cls.switch_bonus * switched).mean()

    @classmethod
    def best_gaussian_return(cls, num_samples: int = 20000, seed: int = 0) -> float:
        """Best mean return of a memoryless Gaussian policy, by grid search over its mean and std."""
        generator = torch.Generator().manual_seed(seed)
        noise = torch.randn(2, num_samples, generator=generator)
        best = -float("inf")
        for mean in torch.linspace(-1.5, 1.5, 31):
            for std in torch.logspace(-2, 0.5, 26):
                actions = mean + std * noise
                best = max(best, float(cls.expected_return(actions[0], actions[1])))
        return best


class TargetBanditEnv(VecEnv):
    """One-step episodes that pay ``-||a - target||^2`` for an observed random target in ``[-0.5, 0.5]^d``.

    The expected reward of a policy is ``-||E[a] - target||^2 - tr Cov[a]``: every unit of action noise costs reward,
    so the optimal policy is deterministic.
    """

    target_range = 0.5
    """Targets are drawn uniformly from ``[-target_range, target_range]^d``."""

    def __init__(self, num_envs: int, num_actions: int = 2, seed: int = 0, device: str = "cpu") -> None:
        """Create ``num_envs`` copies of the bandit with their own random generator."""
        self.num_envs = num_envs
        self.num_actions = num_actions
        self.max_episode_length = 1
        self.device = device
        self.cfg = {"name": "TargetBandit"}
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self.episode_length_buf = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.target = self._draw_targets()

    def get_observations(self) -> TensorDict:
        """Return the targets."""
        return TensorDict({"policy": self.target.clone()}, batch_size=[self.num_envs], device=self.device)

    def step(self, actions: torch.Tensor) -> tuple[TensorDict, torch.Tensor, torch.Tensor, dict]:
        """Pay the squared distance to the target and start a new episode with a new target."""
        rewards = -(actions - self.target).square().sum(dim=-1)
        self.target = self._draw_targets()
        dones = torch.ones(self.num_envs, dtype=torch.long, device=self.device)
        return self.get_observations(), rewards, dones, {}

    def _draw_targets(self) -> torch.Tensor:
        """Uniform targets in the target range."""
        unit = torch.rand(self.num_envs, self.num_actions, generator=self.generator, device=self.device)
        return self.target_range * (2.0 * unit - 1.0)
