"""Multi-process training: gradient reduction and parameter broadcast keep the ranks' GenPO models identical, and a
NaN on one rank ends every rank with the same error instead of leaving the others waiting in a collective."""

from __future__ import annotations

import json
import pathlib
import pytest
import time
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from datetime import timedelta
from itertools import chain
from rollouts import collect_rollout
from toy_envs import PointReachEnv
from train_cfgs import genpo_train_cfg

from genpo_ext.algorithms import GenPO

WORLD_SIZE = 2
"""Number of CPU processes in the gloo process group."""

NAN_RANK = 1
"""The rank whose flow turns NaN."""

COLLECTIVE_TIMEOUT = timedelta(seconds=60)
"""How long a rank waits in a collective before gloo gives up: a hang ends, as a failure, within a minute."""

ENDS_WITHIN_S = 20.0
"""Every rank must end within this many seconds of starting to train (a rollout and an update take about one)."""


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
    with torch.no_grad():
        alg.actor.flow.condition(env.get_observations()["policy"])  # caches this rank's own time terms
    alg.broadcast_parameters()
    with torch.no_grad():
        cache_fresh = torch.equal(alg.actor.flow.cached_time_terms(), alg.actor.flow._time_terms())
    initial = flat_parameters(alg)
    collect_rollout(alg, env, cfg["num_steps_per_env"])
    rollout_return = alg.storage.rewards.sum()
    alg.update()
    torch.save(
        {
            "initial": initial,
            "final": flat_parameters(alg),
            "return": rollout_return,
            "lr": alg.learning_rate,
            "cache_fresh": cache_fresh,
        },
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
    assert all(rank["cache_fresh"] for rank in ranks), "the broadcast parameters reach the cached time terms"


def train_with_a_nan_on_one_rank(rank: int, backend: str, init_file: str, out_dir: str) -> None:
    """One rank: broadcast, then rollouts and updates; rank :data:`NAN_RANK`'s flow turns NaN after the broadcast.

    Writes how the rank ended (the error message, or "finished") and after how many seconds of training. With
    ``"nccl"`` each rank trains on its own GPU, as rsl_rl's runner places them.
    """
    torch.set_num_threads(1)
    torch.manual_seed(100 + rank)
    device = f"cuda:{rank}" if backend == "nccl" else "cpu"
    if backend == "nccl":
        torch.cuda.set_device(rank)
    dist.init_process_group(
        backend, init_method=f"file://{init_file}", rank=rank, world_size=WORLD_SIZE, timeout=COLLECTIVE_TIMEOUT
    )
    env = PointReachEnv(num_envs=16, seed=rank, device=device)
    cfg = genpo_train_cfg()
    cfg["actor"]["compile_activation"] = "never"
    cfg["multi_gpu"] = {"global_rank": rank, "local_rank": rank, "world_size": WORLD_SIZE}
    alg = GenPO.construct_algorithm(env.get_observations(), env, cfg, device)
    alg.broadcast_parameters()
    if rank == NAN_RANK:
        with torch.no_grad():
            alg.actor.flow.velocity_field.mlp[-1].bias[0] = float("nan")
    start = time.monotonic()
    outcome = "finished"
    try:
        for _ in range(2):
            collect_rollout(alg, env, cfg["num_steps_per_env"])
            alg.update()
    except Exception as error:  # noqa: BLE001 - any ending is recorded; the test says which one it expects
        outcome = f"{type(error).__name__}: {error}"
    result = {"outcome": outcome, "seconds": time.monotonic() - start}
    (pathlib.Path(out_dir) / f"rank{rank}.json").write_text(json.dumps(result))
    dist.destroy_process_group()


@pytest.mark.parametrize(
    "backend",
    [
        "gloo",
        # not run yet: no machine with two GPUs was available
        pytest.param(
            "nccl",
            marks=[
                pytest.mark.cuda,
                pytest.mark.skipif(torch.cuda.device_count() < WORLD_SIZE, reason="needs two CUDA devices"),
            ],
        ),
    ],
)
def test_a_nan_on_one_rank_ends_every_rank_with_the_same_error(backend: str, tmp_path: pathlib.Path) -> None:
    context = mp.spawn(
        train_with_a_nan_on_one_rank,
        args=(backend, str(tmp_path / "rendezvous"), str(tmp_path)),
        nprocs=WORLD_SIZE,
        join=False,
    )
    deadline = time.monotonic() + 2 * COLLECTIVE_TIMEOUT.total_seconds()
    while not context.join(timeout=1.0) and time.monotonic() < deadline:
        pass
    hung = [process.pid for process in context.processes if process.is_alive()]
    for process in context.processes:
        if process.is_alive():
            process.kill()
    assert not hung, "a rank is still waiting in a collective"
    ranks = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(WORLD_SIZE)]
    # the NaN reaches the other rank through the reduced gradients; the message names every rank's first problem
    origin = f"rank {NAN_RANK}: 64 of 64 flow samples are not finite after sampling the flow"
    assert all(rank["outcome"].startswith("FloatingPointError: GenPOActor: ") for rank in ranks), ranks
    assert origin in ranks[0]["outcome"], ranks
    assert ranks[0]["outcome"] == ranks[1]["outcome"], "every rank raises the same error"
    assert all(rank["seconds"] < ENDS_WITHIN_S for rank in ranks), ranks
