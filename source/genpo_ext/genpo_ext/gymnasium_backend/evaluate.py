"""Gymnasium backend of ``scripts/evaluate.py``: a run's checkpoints on freshly seeded copies of its task."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

from rsl_rl.runners import OnPolicyRunner

from genpo_ext.evaluation.deploy import DeploySetting
from genpo_ext.evaluation.policies import evaluate_checkpoints
from genpo_ext.evaluation.records import EvalRecord
from genpo_ext.evaluation.run_folder import ENV_CFG_FILE, load_params_yaml, read_agent_cfg
from genpo_ext.gymnasium_backend.errors import agent_construction_errors
from genpo_ext.gymnasium_backend.vec_env import GymnasiumVecEnv


def evaluate_run(
    run_dir: pathlib.Path,
    task: str,
    checkpoints: list[pathlib.Path],
    episodes: int,
    mode: str,
    seed: int,
    device: str,
    deploys: list[DeploySetting] | None = None,
) -> Iterator[EvalRecord]:
    """Yield the evaluation of each checkpoint: one complete episode in each of ``episodes`` envs.

    The envs step in this process (no worker processes) and are reset from ``seed`` before every checkpoint
    (env ``i`` from ``seed + i``); the agent is the run's own config (``params/agent.yaml``) in a stock
    ``OnPolicyRunner``, built once per deployed action.

    Args:
        run_dir: The run folder.
        task: Gymnasium id of the run's task.
        checkpoints: Checkpoints to evaluate.
        episodes: Complete episodes per checkpoint (one per env).
        mode: ``deterministic`` or ``stochastic`` (see :func:`genpo_ext.evaluation.policies.select_policy`).
        seed: Seed of the evaluation envs and of the policy's noise.
        device: Device of the agent and the observations.
        deploys: Deployed actions to score in the deterministic mode; None scores the one the run's config builds.

    Raises:
        ValueError: If a deployed action needs a GenPO policy and the run trained another.
    """
    env_cfg = load_params_yaml(run_dir / ENV_CFG_FILE) or {}
    env = GymnasiumVecEnv(task, episodes, num_workers=0, seed=seed, device=device, make_kwargs=env_cfg.get("make_kwargs"))
    try:
        for deploy in deploys or [None]:
            agent_cfg = read_agent_cfg(run_dir, device)
            deploy = deploy or DeploySetting.of_agent(agent_cfg)
            deploy.apply_to(agent_cfg, env.action_clip)
            with agent_construction_errors(agent_cfg):
                runner = OnPolicyRunner(env, agent_cfg, log_dir=None, device=device)
            max_steps = int(env.max_episode_length)
            yield from evaluate_checkpoints(
                runner, env, checkpoints, env.reset, mode, seed, device, max_steps, deploy.label
            )
    finally:
        env.close()
