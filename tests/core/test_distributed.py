"""Multi-process training: gradient reduction and parameter broadcast keep the ranks' GenPO models identical."""

from __future__ import annotations

import pathlib
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from itertools import chain
from rollouts import collect_rollout
from toy_envs import PointReachEnv
from train_cfgs import genpo_train_cfg

from genpo_ext.algorithms import GenPO

WORLD_SIZE = 2
"""Number of CPU processes in the gloo process group."""


def flat_parameters(alg: GenPO) -> torch.Tensor:
    """All actor and critic parameters as one vector."""
    return torch.cat([p.detach().flatten() for p in chain(alg.actor.parameters(), alg.critic.parameters())])


def train_one_update(rank: int, init_file: str, out_dir: str) -> None:
    """One rank: differently seeded model and environment, broadcast, one rollout and one update."""
    torch.set_num_threads(1)
    torch.manual_seed(100 + rank)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD_SIZE)
    env = PointReachEnv(num_envs=16, seed=rank)
    cfg = genpo_train_cfg()
    cfg["multi_gpu"] = {"global_rank": rank, "local_rank": rank, "world_size": WORLD_SIZE}
    alg = GenPO.construct_algorithm(env.get_observations(), env, cfg, "cpu")
    alg.broadcast_parameters()
    initial = flat_parameters(alg)
    collect_rollout(alg, env, cfg["num_steps_per_env"])
    rollout_return = alg.storage.rewards.sum()
    alg.update()
    torch.save(
        {"initial": initial, "final": flat_parameters(alg), "return": rollout_return, "lr": alg.learning_rate},
        pathlib.Path(out_dir) / f"rank{rank}.pt",
    )
    dist.destroy_process_group()


def test_two_gloo_processes_end_an_update_with_identical_parameters(tmp_path: pathlib.Path) -> None:
    mp.spawn(train_one_update, args=(str(tmp_path / "rendezvous"), str(tmp_path)), nprocs=WORLD_SIZE, join=True)
    ranks = [torch.load(tmp_path / f"rank{rank}.pt") for rank in range(WORLD_SIZE)]
    assert not torch.equal(ranks[0]["return"], ranks[1]["return"]), "ranks must see different data"
    assert torch.equal(ranks[0]["initial"], ranks[1]["initial"]), "broadcast must synchronize the start"
    assert not torch.equal(ranks[0]["initial"], ranks[0]["final"]), "the update must change the parameters"
    torch.testing.assert_close(ranks[0]["final"], ranks[1]["final"], atol=1e-6, rtol=0)
    assert ranks[0]["lr"] == ranks[1]["lr"]
