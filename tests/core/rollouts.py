"""Rollout helper shared by the core tests."""

from __future__ import annotations

import torch

from rsl_rl.algorithms import PPO
from rsl_rl.env import VecEnv


def collect_rollout(alg: PPO, env: VecEnv, num_steps: int) -> None:
    """Fill the algorithm's storage with one rollout and compute returns, as the runner's learn loop does."""
    obs = env.get_observations()
    with torch.inference_mode():
        for _ in range(num_steps):
            actions = alg.act(obs)
            assert actions.shape == (env.num_envs, env.num_actions)
            obs, rewards, dones, extras = env.step(actions)
            alg.process_env_step(obs, rewards, dones, extras)
        alg.compute_returns(obs)
