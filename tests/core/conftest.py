"""Fixtures of the core tests: small observation batches, flows and runners on the toy environments."""

from __future__ import annotations

import pathlib
import pytest
import sys
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from matmul_precision import restore_matmul_precision  # noqa: E402, F401  (a fixture)
from toy_envs import PointReachEnv  # noqa: E402
from train_cfgs import genpo_train_cfg  # noqa: E402

from rsl_rl.runners import OnPolicyRunner  # noqa: E402


CPU_THREADS = 1
"""Torch threads per test process: small networks run fastest single-threaded, above all on a shared machine."""


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    """Seed torch before every test so that failures reproduce, and run single-threaded."""
    torch.set_num_threads(CPU_THREADS)
    torch.manual_seed(0)


@pytest.fixture
def point_reach_runner(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> OnPolicyRunner:
    """A stock rsl_rl runner driving GenPO on the point-reaching environment, logging into a temporary folder.

    Indirect parametrization passes actor keys (e.g. ``{"noise_std_type": "log"}``) to the config.
    """
    cfg = genpo_train_cfg()
    cfg["actor"].update(getattr(request, "param", {}))
    env = PointReachEnv(num_envs=32, seed=0)
    return OnPolicyRunner(env, cfg, log_dir=str(tmp_path), device="cpu")
