"""Episodes of a policy on an rsl_rl ``VecEnv`` (exactly one complete episode per env) and the ``eval.csv`` records."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import torch
from tensordict import TensorDict

from genpo_ext.evaluation.episodes import IncompleteEpisodesError, run_episodes
from genpo_ext.evaluation.records import (
    DETERMINISTIC,
    STOCHASTIC,
    EvalRecord,
    list_checkpoints,
    read_records,
    unevaluated,
    write_records,
)


class StaggeredEnv:
    """Env ``i`` ends its episodes every ``i + 1`` steps, with reward = the action in every step."""

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs
        self.device = "cpu"
        self.step_count = torch.zeros(num_envs, dtype=torch.long)
        self.lengths = torch.arange(1, num_envs + 1)

    def get_observations(self) -> TensorDict:
        return TensorDict({"policy": self.step_count[:, None].float()}, batch_size=[self.num_envs])

    def step(self, actions: torch.Tensor):
        self.step_count += 1
        dones = self.step_count >= self.lengths
        self.step_count[dones] = 0
        return self.get_observations(), actions[:, 0].clone(), dones, {}


def test_each_env_contributes_exactly_its_first_episode():
    """Envs that finish early keep stepping, but only their first episode counts."""
    env = StaggeredEnv(4)
    stats = run_episodes(env, lambda obs: torch.ones(4, 1), max_steps=10)
    np.testing.assert_array_equal(stats.lengths, [1, 2, 3, 4])
    np.testing.assert_allclose(stats.returns, [1.0, 2.0, 3.0, 4.0])
    assert stats.mean_return == pytest.approx(2.5)
    assert stats.std_return == pytest.approx(np.std([1, 2, 3, 4], ddof=1))


def test_a_policy_reset_hook_sees_the_dones():
    """A policy with ``reset(dones)`` (rsl_rl's recurrent models) is told which episodes ended."""

    class Policy:
        def __init__(self) -> None:
            self.resets = 0

        def __call__(self, obs):
            return torch.zeros(obs.batch_size[0], 1)

        def reset(self, dones):
            self.resets += int(dones.sum())

    policy = Policy()
    run_episodes(StaggeredEnv(3), policy, max_steps=10)
    assert policy.resets >= 3


def test_unfinished_episodes_are_an_error():
    with pytest.raises(IncompleteEpisodesError, match="1 of 4 environments did not finish an episode in 3 steps"):
        run_episodes(StaggeredEnv(4), lambda obs: torch.ones(4, 1), max_steps=3)


def record(checkpoint: str, policy: str = DETERMINISTIC, mean: float = 1.0, episodes: int = 16) -> EvalRecord:
    iteration = int(checkpoint.removeprefix("model_").removesuffix(".pt"))
    return EvalRecord(checkpoint, iteration, policy, episodes, 10_000, mean, 0.5, mean - 1, mean + 1, 100.0)


def test_records_round_trip_and_a_new_evaluation_replaces_the_old(tmp_path):
    """Rows are keyed by checkpoint and policy mode and sorted by iteration; types survive the CSV."""
    write_records(tmp_path, [record("model_100.pt", mean=3.0), record("model_0.pt")])
    write_records(tmp_path, [record("model_100.pt", mean=4.0), record("model_100.pt", STOCHASTIC, mean=2.0)])
    records = read_records(tmp_path)
    assert [(r.checkpoint, r.policy, r.mean_return) for r in records] == [
        ("model_0.pt", DETERMINISTIC, 1.0),
        ("model_100.pt", DETERMINISTIC, 4.0),
        ("model_100.pt", STOCHASTIC, 2.0),
    ]
    assert isinstance(records[1].iteration, int) and isinstance(records[1].mean_return, float)
    assert not list(tmp_path.glob("*.tmp")), "the temporary file is renamed into place"


def test_checkpoints_sort_by_iteration_and_unevaluated_ones_are_found(tmp_path: pathlib.Path):
    """model_10 sorts after model_9; a record with other episodes, another mode or another deployed action does not
    count as evaluated."""
    for name in ("model_9.pt", "model_10.pt", "model_0.pt", "notes.pt", "model_x.pt"):
        (tmp_path / name).write_bytes(b"")
    checkpoints = list_checkpoints(tmp_path)
    assert [path.name for path in checkpoints] == ["model_0.pt", "model_9.pt", "model_10.pt"]
    records = [record("model_0.pt"), record("model_9.pt", episodes=8), record("model_10.pt", STOCHASTIC)]
    missing = unevaluated(checkpoints, records, DETERMINISTIC, episodes=16, seed=10_000, deploy="zero")
    assert [path.name for path in missing] == ["model_9.pt", "model_10.pt"]
    missing = unevaluated(checkpoints, records, DETERMINISTIC, episodes=16, seed=10_000, deploy="mean16")
    assert [path.name for path in missing] == ["model_0.pt", "model_9.pt", "model_10.pt"]
