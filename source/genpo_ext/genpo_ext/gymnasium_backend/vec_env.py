"""rsl_rl ``VecEnv`` adapter around a gymnasium vector env of a continuous-control task."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from rsl_rl.env import VecEnv
from tensordict import TensorDict

from genpo_ext.gymnasium_backend.errors import ConfigError
from genpo_ext.gymnasium_backend.multiprocess_vector_env import MultiProcessVectorEnv, make_sync_vector_env

OBSERVATION_GROUP = "policy"
"""Name of the single observation group the adapter returns (actor and critic both read it)."""

CONTINUOUS_CONTROL_EXAMPLES = ("HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Ant-v5")
"""Gymnasium tasks with a continuous action space, named when a task's action space does not fit."""


class EnvCfg(dict):
    """The adapter's env config: a dict with the ``to_dict()`` that rsl_rl's W&B writer calls to upload it."""

    def to_dict(self) -> dict:
        """Return the config as a plain dict."""
        return dict(self)


class GymnasiumVecEnv(VecEnv):
    """Presents ``num_envs`` copies of a gymnasium task to rsl_rl's ``OnPolicyRunner``.

    - Observations are returned as ``TensorDict({"policy": float32 tensor})``.
    - Actions are clipped to the action space's bounds before they reach the envs.
    - Finished envs reset within the same step (gymnasium's same-step autoreset), so each transition the runner
      sees is a real one; ``dones = terminated | truncated`` and ``extras["time_outs"] = truncated & ~terminated``
      lets PPO bootstrap the value of time-limited episodes.
    - Episode returns and lengths are accumulated by rsl_rl's logger from ``rewards`` and ``dones``.
    """

    def __init__(
        self,
        task: str,
        num_envs: int,
        num_workers: int,
        seed: int,
        device: str | torch.device,
        make_kwargs: dict | None = None,
    ) -> None:
        """Create and reset the envs.

        Args:
            task: Gymnasium environment id with a ``Box`` action space.
            num_envs: Number of parallel envs.
            num_workers: Worker processes stepping the envs; 0 steps them in this process.
            seed: Env ``i`` is reset with seed ``seed + i``.
            device: Device of the returned tensors.
            make_kwargs: Keyword arguments for ``gymnasium.make``.

        Raises:
            ConfigError: If the task's action space is not a 1-D ``Box`` (the envs are closed first).
        """
        make_kwargs = dict(make_kwargs or {})
        if num_workers == 0:
            self.vector_env: gym.vector.VectorEnv = make_sync_vector_env(task, num_envs, make_kwargs)
        else:
            self.vector_env = MultiProcessVectorEnv(task, num_envs, num_workers, make_kwargs)
        action_space = self.vector_env.single_action_space
        if not isinstance(action_space, gym.spaces.Box) or len(action_space.shape) != 1:
            self.vector_env.close()
            raise ConfigError(
                f"Task '{task}' has the action space {action_space}; GenPO and rsl_rl's PPO need continuous actions, a"
                f" 1-D Box. Valid: continuous-control tasks, e.g. {', '.join(CONTINUOUS_CONTROL_EXAMPLES)}."
            )

        self.num_envs = num_envs
        self.num_actions = action_space.shape[0]
        time_limit = make_kwargs.get("max_episode_steps") or gym.spec(task).max_episode_steps
        self.max_episode_length = time_limit or np.iinfo(np.int32).max  # no time limit: effectively unbounded
        self.device = device
        self.cfg = EnvCfg({"task": task, "num_envs": num_envs, "num_workers": num_workers, "seed": seed, **make_kwargs})
        self.episode_length_buf = torch.zeros(num_envs, dtype=torch.long, device=device)
        self._action_low = action_space.low
        self._action_high = action_space.high

        self.reset(seed)

    @property
    def action_clip(self) -> float | None:
        """The symmetric bound ``b`` the envs clip actions to when the action box is ``[-b, b]`` in every dimension
        (GenPO's ``mean`` deployed action clips its draws the same way); None for any other box."""
        bound = float(self._action_high.max())
        symmetric = (self._action_high == bound).all() and (self._action_low == -bound).all()
        return bound if symmetric and np.isfinite(bound) else None

    def reset(self, seed: int) -> tuple[TensorDict, dict]:
        """Reset every env, env ``i`` with seed ``seed + i``, and return the first observations."""
        observations, _ = self.vector_env.reset(seed=[seed + i for i in range(self.num_envs)])
        self.episode_length_buf.zero_()
        self._observations = self._to_tensordict(observations)
        return self._observations, {}

    def get_observations(self) -> TensorDict:
        """Return the observations of the current step."""
        return self._observations

    def step(self, actions: torch.Tensor) -> tuple[TensorDict, torch.Tensor, torch.Tensor, dict]:
        """Step every env with its (clipped) action."""
        env_actions = np.clip(actions.detach().cpu().numpy(), self._action_low, self._action_high)
        observations, rewards, terminations, truncations, _ = self.vector_env.step(env_actions)
        self._observations = self._to_tensordict(observations)
        terminated = torch.as_tensor(terminations, device=self.device)
        truncated = torch.as_tensor(truncations, device=self.device)
        dones = terminated | truncated
        self.episode_length_buf += 1
        self.episode_length_buf[dones] = 0
        extras = {"time_outs": truncated & ~terminated}
        return self._observations, torch.as_tensor(rewards, dtype=torch.float32, device=self.device), dones, extras

    def get_state(self) -> dict:
        """Return what the envs need to continue exactly from this step: the state of each env (None for an env
        whose state cannot be captured, see :mod:`genpo_ext.gymnasium_backend.env_state`), the observations of this
        step and the episode step counts."""
        return {
            "env_states": self.vector_env.get_env_states(),
            "observations": self._observations[OBSERVATION_GROUP].cpu(),
            "episode_length_buf": self.episode_length_buf.cpu(),
        }

    def set_state(self, state: dict) -> str | None:
        """Continue from a state of :meth:`get_state` taken on envs of the same task, arguments and number.

        Returns:
            None when the envs were restored, else why they keep their fresh reset.
        """
        env_states = state["env_states"]
        if len(env_states) != self.num_envs:
            return f"the saved state holds {len(env_states)} envs, this run has {self.num_envs}"
        if any(env_state is None for env_state in env_states):
            return f"the state of {self.cfg['task']} envs cannot be saved (only MuJoCo envs' can)"
        self.vector_env.set_env_states(env_states)
        observations = {OBSERVATION_GROUP: state["observations"].to(self.device)}
        self._observations = TensorDict(observations, batch_size=[self.num_envs], device=self.device)
        self.episode_length_buf.copy_(state["episode_length_buf"])
        return None

    def close(self) -> None:
        """Close the envs and their worker processes."""
        self.vector_env.close()

    def _to_tensordict(self, observations: np.ndarray) -> TensorDict:
        """Wrap a batch of observations as the single ``policy`` observation group."""
        policy = torch.as_tensor(observations, dtype=torch.float32, device=self.device)
        return TensorDict({OBSERVATION_GROUP: policy}, batch_size=[self.num_envs], device=self.device)
