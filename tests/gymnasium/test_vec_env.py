"""The rsl_rl adapter against independently hand-stepped gymnasium envs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from genpo_ext.gymnasium_backend.errors import ConfigError
from genpo_ext.gymnasium_backend.vec_env import OBSERVATION_GROUP, GymnasiumVecEnv

TASK = "Hopper-v5"
"""A task that both terminates (falling) and truncates (time limit) within a few dozen random steps."""
MAX_EPISODE_STEPS = 25
NUM_ENVS = 4
NUM_STEPS = 120
SEED = 7
ACTION_SCALE = 3.0
"""Random actions are drawn at three times the action bound so that clipping is exercised."""


def hand_stepped_rollout(actions: np.ndarray) -> dict[str, np.ndarray]:
    """Step ``NUM_ENVS`` single envs by hand: clip, step, and reset whenever an episode ends."""
    envs = [gym.make(TASK, max_episode_steps=MAX_EPISODE_STEPS) for _ in range(NUM_ENVS)]
    observations = [env.reset(seed=SEED + i)[0] for i, env in enumerate(envs)]
    low, high = envs[0].action_space.low, envs[0].action_space.high
    record = {"initial": np.stack(observations), "obs": [], "rewards": [], "dones": [], "time_outs": []}
    for step_actions in actions:
        step = {"obs": [], "rewards": [], "dones": [], "time_outs": []}
        for env, action in zip(envs, step_actions):
            observation, reward, terminated, truncated, _ = env.step(np.clip(action, low, high))
            if terminated or truncated:
                observation, _ = env.reset()
            step["obs"].append(observation)
            step["rewards"].append(reward)
            step["dones"].append(terminated or truncated)
            step["time_outs"].append(truncated and not terminated)
        for key, values in step.items():
            record[key].append(np.array(values))
    for env in envs:
        env.close()
    return {key: np.stack(value) for key, value in record.items()}


def adapter_rollout(actions: np.ndarray, num_workers: int) -> dict[str, np.ndarray]:
    """Step the adapter with the same actions and record what rsl_rl would see."""
    env = GymnasiumVecEnv(TASK, NUM_ENVS, num_workers, SEED, "cpu", {"max_episode_steps": MAX_EPISODE_STEPS})
    record = {"initial": env.get_observations()[OBSERVATION_GROUP].numpy(), "obs": [], "rewards": [], "dones": []}
    record.update(time_outs=[], episode_length=[])
    try:
        for step_actions in actions:
            observations, rewards, dones, extras = env.step(torch.as_tensor(step_actions, dtype=torch.float32))
            record["obs"].append(observations[OBSERVATION_GROUP].numpy())
            record["rewards"].append(rewards.numpy())
            record["dones"].append(dones.numpy())
            record["time_outs"].append(extras["time_outs"].numpy())
            record["episode_length"].append(env.episode_length_buf.numpy().copy())
    finally:
        env.close()
    return {key: np.stack(value) for key, value in record.items()}


@pytest.fixture(scope="module")
def actions() -> np.ndarray:
    """Random actions beyond the action bounds, one row per env and step."""
    action_dim = gym.make(TASK).action_space.shape[0]
    return np.random.default_rng(0).uniform(-ACTION_SCALE, ACTION_SCALE, (NUM_STEPS, NUM_ENVS, action_dim))


@pytest.fixture(scope="module")
def expected(actions) -> dict[str, np.ndarray]:
    """The hand-stepped reference rollout."""
    return hand_stepped_rollout(actions)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_adapter_matches_hand_stepped_envs(actions, expected, num_workers):
    """Observations, rewards, dones and time-outs equal the hand-stepped envs', in process and across workers."""
    got = adapter_rollout(actions, num_workers)
    # The rollout must exercise terminations as well as time-limit truncations.
    assert expected["time_outs"].any() and (expected["dones"] & ~expected["time_outs"]).any()
    np.testing.assert_allclose(got["initial"], expected["initial"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got["obs"], expected["obs"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got["rewards"], expected["rewards"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got["dones"], expected["dones"])
    np.testing.assert_array_equal(got["time_outs"], expected["time_outs"])


def test_episode_lengths_restart_after_each_done(actions, expected):
    """``episode_length_buf`` counts steps since the last done and never reaches the time limit."""
    got = adapter_rollout(actions, num_workers=0)
    since_done = np.zeros(NUM_ENVS, dtype=int)
    for step_dones, step_lengths in zip(expected["dones"], got["episode_length"]):
        since_done = np.where(step_dones, 0, since_done + 1)
        np.testing.assert_array_equal(step_lengths, since_done)
    assert got["episode_length"].max() < MAX_EPISODE_STEPS
    env = GymnasiumVecEnv(TASK, 1, 0, SEED, "cpu", {"max_episode_steps": MAX_EPISODE_STEPS})
    env.close()
    assert env.max_episode_length == MAX_EPISODE_STEPS


def test_logged_episode_returns_match_hand_stepped_returns(actions, expected):
    """rsl_rl's logger, fed by the adapter, records the hand-computed episode returns and lengths."""
    from rsl_rl.utils.logger import Logger

    logger = Logger(None, {"algorithm": {}}, {}, NUM_ENVS, False, 1, 0, "cpu")
    logger.writer = object()  # the logger only accumulates episodes while a writer exists
    env = GymnasiumVecEnv(TASK, NUM_ENVS, 0, SEED, "cpu", {"max_episode_steps": MAX_EPISODE_STEPS})
    try:
        for step_actions in actions:
            _, rewards, dones, extras = env.step(torch.as_tensor(step_actions, dtype=torch.float32))
            logger.process_env_step(rewards, dones, extras)
    finally:
        env.close()

    returns, lengths = [], []
    running_return, running_length = np.zeros(NUM_ENVS), np.zeros(NUM_ENVS)
    for step_rewards, step_dones in zip(expected["rewards"], expected["dones"]):
        running_return += step_rewards
        running_length += 1
        returns.extend(running_return[step_dones])
        lengths.extend(running_length[step_dones])
        running_return[step_dones], running_length[step_dones] = 0.0, 0.0
    np.testing.assert_allclose(list(logger.rewbuffer), returns[-logger.rewbuffer.maxlen :], rtol=1e-4)
    np.testing.assert_array_equal(list(logger.lenbuffer), lengths[-logger.lenbuffer.maxlen :])


def test_rejects_discrete_action_spaces():
    """A task without a Box action space fails with a configuration error naming valid tasks."""
    with pytest.raises(ConfigError, match=r"action space Discrete\(2\); .* Valid: continuous-control tasks, e.g."):
        GymnasiumVecEnv("CartPole-v1", 2, 0, SEED, "cpu")


def rollout_from(env: GymnasiumVecEnv, actions: np.ndarray) -> dict[str, np.ndarray]:
    """Step ``env`` with ``actions`` and record what rsl_rl would see, starting with its current observations."""
    record = {"initial": env.get_observations()[OBSERVATION_GROUP].numpy().copy(), "obs": [], "rewards": [], "dones": []}
    record["episode_length"] = []
    for step_actions in actions:
        observations, rewards, dones, _ = env.step(torch.as_tensor(step_actions, dtype=torch.float32))
        record["obs"].append(observations[OBSERVATION_GROUP].numpy())
        record["rewards"].append(rewards.numpy())
        record["dones"].append(dones.numpy())
        record["episode_length"].append(env.episode_length_buf.numpy().copy())
    return {key: np.stack(value) for key, value in record.items()}


@pytest.mark.parametrize(("saved_workers", "restored_workers"), [(0, 0), (2, 1)])
def test_a_restored_state_continues_bit_for_bit(actions, saved_workers, restored_workers):
    """Envs restored from a state taken mid-episode, in fresh envs reset with another seed (and split over another
    number of workers), step exactly as the envs the state was taken from: the same observations, rewards, dones,
    episode lengths and resets, bit for bit."""
    split = NUM_STEPS // 3
    make_kwargs = {"max_episode_steps": MAX_EPISODE_STEPS}
    saved = GymnasiumVecEnv(TASK, NUM_ENVS, saved_workers, SEED, "cpu", make_kwargs)
    restored = GymnasiumVecEnv(TASK, NUM_ENVS, restored_workers, SEED + 100, "cpu", make_kwargs)
    try:
        rollout_from(saved, actions[:split])
        assert restored.set_state(saved.get_state()) is None
        expected, got = rollout_from(saved, actions[split:]), rollout_from(restored, actions[split:])
    finally:
        saved.close()
        restored.close()
    assert expected["dones"].any(), "the continuation must cross resets, which draw from the envs' random generators"
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


def test_a_state_of_envs_that_cannot_be_saved_is_refused_with_the_reason():
    """A classic-control env's state is not captured: restoring says why, and the envs keep their reset."""
    env = GymnasiumVecEnv("Pendulum-v1", 2, 0, SEED, "cpu")
    other = GymnasiumVecEnv(TASK, 3, 0, SEED, "cpu")
    try:
        state = env.get_state()
        assert state["env_states"] == [None, None]
        assert env.set_state(state) == "the state of Pendulum-v1 envs cannot be saved (only MuJoCo envs' can)"
        assert other.set_state(state) == "the saved state holds 2 envs, this run has 3"
    finally:
        env.close()
        other.close()
