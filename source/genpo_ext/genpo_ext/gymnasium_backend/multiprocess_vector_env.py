"""A gymnasium vector env that steps its sub-environments in a few worker processes, several envs per worker.

Gymnasium's ``AsyncVectorEnv`` runs one process per sub-environment; with many cheap MuJoCo envs on few cores the
inter-process traffic dominates. Here each worker owns a ``SyncVectorEnv`` over a contiguous slice of the envs, so
one pipe round trip steps the whole slice. Autoreset, seeding and spaces are gymnasium's own. Both vector envs read
and restore the state of their envs (:mod:`genpo_ext.gymnasium_backend.env_state`) for exact resumption.
"""

from __future__ import annotations

import functools
import multiprocessing as mp
from collections.abc import Callable
from multiprocessing.connection import Connection

import gymnasium as gym
import numpy as np

from genpo_ext.gymnasium_backend.env_state import capture_env_state, restore_env_state

AUTORESET_MODE = gym.vector.AutoresetMode.SAME_STEP
"""Reset finished envs inside the step that ended them: the returned observation starts the next episode and no
zero-reward reset step ever reaches the learner."""


class StatefulSyncVectorEnv(gym.vector.SyncVectorEnv):
    """Gymnasium's ``SyncVectorEnv`` that also reads and restores the state of its envs.

    With same-step autoreset the vector env itself keeps no state between steps; its envs hold all of it.
    """

    def get_env_states(self) -> list[bytes | None]:
        """Return the state of each env (None for an env whose state cannot be captured)."""
        return [capture_env_state(env) for env in self.envs]

    def set_env_states(self, states: list[bytes]) -> None:
        """Restore the state of each env from :meth:`get_env_states` of a vector env of the same task."""
        for env, state in zip(self.envs, states, strict=True):
            restore_env_state(env, state)


def make_sync_vector_env(task: str, num_envs: int, make_kwargs: dict) -> StatefulSyncVectorEnv:
    """Create ``num_envs`` copies of ``task`` in one process, autoresetting in the same step."""
    env_fns = [functools.partial(gym.make, task, **make_kwargs)] * num_envs
    return StatefulSyncVectorEnv(env_fns, autoreset_mode=AUTORESET_MODE)


def _worker(connection: Connection, env_factory: Callable[[], StatefulSyncVectorEnv]) -> None:
    """Serve ``reset``/``step``/``get_states``/``set_states``/``close`` commands for one slice of the envs until
    told to close."""
    env = env_factory()
    try:
        while True:
            command, data = connection.recv()
            if command == "reset":
                observations, _ = env.reset(seed=data)
                connection.send(observations)
            elif command == "step":
                observations, rewards, terminations, truncations, _ = env.step(data)
                connection.send((observations, rewards, terminations, truncations))
            elif command == "spaces":
                connection.send((env.single_observation_space, env.single_action_space, env.metadata))
            elif command == "get_states":
                connection.send(env.get_env_states())
            elif command == "set_states":
                env.set_env_states(data)
                connection.send(None)
            elif command == "close":
                break
            else:
                raise ValueError(
                    f"Unknown worker command '{command}'. Valid: reset, step, spaces, get_states, set_states, close."
                )
    finally:
        env.close()
        connection.close()


class MultiProcessVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of a gymnasium task, split evenly over ``num_workers`` processes.

    Observations, rewards, terminations and truncations follow gymnasium's vector API (same-step autoreset).
    Per-env ``infos`` are not forwarded across processes: ``step`` and ``reset`` return an empty dict.
    """

    def __init__(self, task: str, num_envs: int, num_workers: int, make_kwargs: dict | None = None) -> None:
        """Start the workers.

        Args:
            task: Gymnasium environment id.
            num_envs: Total number of sub-environments.
            num_workers: Number of worker processes; each steps ``num_envs / num_workers`` envs (the remainder is
                spread over the first workers).
            make_kwargs: Keyword arguments for ``gymnasium.make`` (e.g. ``{"ctrl_cost_weight": 0.1}``).
        """
        if not 1 <= num_workers <= num_envs:
            raise ValueError(f"num_workers must be in [1, num_envs={num_envs}], got {num_workers}.")
        self.num_envs = num_envs
        # Contiguous slice boundaries: worker k owns envs [bounds[k], bounds[k + 1]).
        self._bounds = np.linspace(0, num_envs, num_workers + 1).round().astype(int)
        # Spawned (not forked) workers do not inherit the parent's torch threads or CUDA state.
        context = mp.get_context("spawn")
        self._connections: list[Connection] = []
        self._processes: list[mp.Process] = []
        for start, stop in zip(self._bounds[:-1], self._bounds[1:]):
            parent, child = context.Pipe()
            factory = functools.partial(make_sync_vector_env, task, int(stop - start), make_kwargs or {})
            process = context.Process(target=_worker, args=(child, factory), daemon=True)
            process.start()
            child.close()
            self._connections.append(parent)
            self._processes.append(process)
        self._connections[0].send(("spaces", None))
        self.single_observation_space, self.single_action_space, metadata = self._connections[0].recv()
        self.metadata = {**metadata, "autoreset_mode": AUTORESET_MODE}
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.closed = False

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Reset every env; an int ``seed`` seeds env ``i`` with ``seed + i``."""
        if options is not None:
            raise ValueError("MultiProcessVectorEnv.reset does not support options.")
        seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else seed
        for index, connection in enumerate(self._connections):
            worker_seeds = None if seeds is None else list(seeds[self._bounds[index] : self._bounds[index + 1]])
            connection.send(("reset", worker_seeds))
        return np.concatenate([connection.recv() for connection in self._connections]), {}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step every env with its row of ``actions``; all workers step in parallel."""
        for index, connection in enumerate(self._connections):
            connection.send(("step", actions[self._bounds[index] : self._bounds[index + 1]]))
        results = [connection.recv() for connection in self._connections]
        observations, rewards, terminations, truncations = (np.concatenate(parts) for parts in zip(*results))
        return observations, rewards, terminations, truncations, {}

    def get_env_states(self) -> list[bytes | None]:
        """Return the state of each env, in env order (None for an env whose state cannot be captured)."""
        for connection in self._connections:
            connection.send(("get_states", None))
        return [state for connection in self._connections for state in connection.recv()]

    def set_env_states(self, states: list[bytes]) -> None:
        """Restore the state of each env from :meth:`get_env_states` of a vector env of the same task and size."""
        for index, connection in enumerate(self._connections):
            connection.send(("set_states", states[self._bounds[index] : self._bounds[index + 1]]))
        for connection in self._connections:
            connection.recv()

    def close_extras(self, **kwargs) -> None:
        """Tell the workers to close their envs and wait for them to exit."""
        for connection in self._connections:
            connection.send(("close", None))
            connection.close()
        for process in self._processes:
            process.join()
