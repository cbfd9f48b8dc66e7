"""Fixtures of the rsl_rl 3 tests: the core tests' toy environments and a stock rsl_rl 3 runner driving GenPO."""

from __future__ import annotations

import pathlib
import pytest
import sys
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))
# the toy environments and the rollout helper implement rsl_rl's VecEnv / PPO calls, which rsl_rl 3 shares
sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "core"))

from matmul_precision import restore_matmul_precision  # noqa: E402, F401  (a fixture)
from toy_envs import PointReachEnv  # noqa: E402
from rsl_rl3_train_cfgs import genpo_train_cfg  # noqa: E402

import genpo_ext  # noqa: E402, F401  (registers GenPO's class names in rsl_rl 3's runner)
from rsl_rl.runners import OnPolicyRunner  # noqa: E402

CPU_THREADS = 1
"""Torch threads per test process: small networks run fastest single-threaded, above all on a shared machine."""


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    """Seed torch before every test so that failures reproduce, and run single-threaded."""
    torch.set_num_threads(CPU_THREADS)
    torch.manual_seed(0)


@pytest.fixture
def point_reach_runner(tmp_path: pathlib.Path) -> OnPolicyRunner:
    """A stock rsl_rl 3 runner driving GenPO on the point-reaching environment, logging into a temporary folder."""
    env = PointReachEnv(num_envs=32, seed=0)
    return OnPolicyRunner(env, genpo_train_cfg(), log_dir=str(tmp_path), device="cpu")
