"""``--distributed``: each ``torchrun`` process's GPU and seed, and launches that cannot work as asked."""

from __future__ import annotations

from genpo_ext.distributed import ProcessRank, launch_problem

TORCHRUN_RANK_1 = {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}
"""What ``torchrun --nproc_per_node 2`` sets in its second process."""


def test_a_plain_run_is_rank_0_of_1() -> None:
    rank = ProcessRank.from_environment({})
    assert rank == ProcessRank(global_rank=0, local_rank=0, world_size=1)
    assert rank.is_main and rank.device == "cuda:0" and rank.seed(7) == 7


def test_each_process_takes_its_local_gpu_and_offsets_the_seed_by_its_rank() -> None:
    rank = ProcessRank.from_environment(TORCHRUN_RANK_1)
    assert rank.device == "cuda:1" and not rank.is_main
    assert rank.seed(7) == rank.seed(7, offset_by="local") == 8
    second_node = ProcessRank.from_environment({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert second_node.device == "cuda:1"
    assert second_node.seed(7) == 10, "IsaacLab 3 offsets by the global rank"
    assert second_node.seed(7, offset_by="local") == 8, "IsaacLab 2.3 offsets by the local rank"


def test_launches_that_cannot_train_as_asked_are_named() -> None:
    rank_1 = ProcessRank.from_environment(TORCHRUN_RANK_1)
    assert launch_problem(False, None, ProcessRank(), visible_gpus=0) is None
    assert launch_problem(True, None, rank_1, visible_gpus=2) is None
    assert launch_problem(True, "cuda:0", rank_1, visible_gpus=None) is None
    assert "--distributed is missing" in launch_problem(False, "cuda:0", rank_1, visible_gpus=2)
    assert "--device cpu is not a GPU" in launch_problem(True, "cpu", rank_1, visible_gpus=2)
    assert "LOCAL_RANK=1 trains on cuda:1, but torch sees 1 CUDA device(s)" in launch_problem(True, None, rank_1, 1)
