"""IsaacLab 3 backend of ``scripts/evaluate.py``: a run's checkpoints on its task, kit-less whenever the task's
physics allows it, with the stock rsl_rl runner built from the run's own agent config."""

from __future__ import annotations

import argparse
import pathlib
from collections.abc import Iterator

from genpo_ext.evaluation.records import EvalRecord

from .launch import resolve_device, resolve_task_or_exit, with_kitless_physics

ENV_CFG_ENTRY_POINT = "rsl_rl_cfg_entry_point"
"""Agent key the env config is resolved with; every rsl_rl task has it, and its agent config is not used (the run's
own ``params/agent.yaml`` builds the agent)."""


def launcher_args(device: str) -> argparse.Namespace:
    """Return IsaacLab's launcher arguments for a headless run on ``device``."""
    from isaaclab.app import add_launcher_args

    parser = argparse.ArgumentParser()
    add_launcher_args(parser)
    parser.set_defaults(visualizer=["none"])
    return parser.parse_args(["--device", device])


def evaluate_run(
    run_dir: pathlib.Path,
    task: str,
    checkpoints: list[pathlib.Path],
    episodes: int,
    mode: str,
    seed: int,
    device: str | None,
    overrides: list[str],
    deploys: list | None = None,
) -> Iterator[EvalRecord]:
    """Yield the evaluation of each checkpoint: one complete episode in each of ``episodes`` environments.

    The task's registered env config (training mode, with ``env.*`` overrides) runs ``episodes`` environments, reset
    from ``seed`` before every checkpoint.

    Args:
        run_dir: The run folder.
        task: IsaacLab task id (IsaacLab 2 ids accepted).
        checkpoints: Checkpoints to evaluate.
        episodes: Complete episodes per checkpoint (one per environment).
        mode: ``deterministic`` or ``stochastic`` (see :func:`genpo_ext.evaluation.policies.select_policy`).
        seed: Seed of the evaluation environments and of the policy's noise.
        device: Device of simulation and agent; None picks the first GPU, else the CPU.
        overrides: ``env.*`` Hydra overrides of the env config.
        deploys: Deployed actions (:class:`~genpo_ext.evaluation.deploy.DeploySetting`) to score in the deterministic
            mode; None scores the one the run's config builds.

    Raises:
        ValueError: If a deployed action needs a GenPO policy and the run trained another.
    """
    task_id = resolve_task_or_exit(task)
    overrides = with_kitless_physics(task_id, overrides)
    device = resolve_device(device)

    import gymnasium as gym
    from isaaclab.app import launch_simulation
    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper
    from isaaclab_tasks.utils import resolve_task_config
    from rsl_rl.runners import OnPolicyRunner

    from genpo_ext.evaluation.deploy import DeploySetting
    from genpo_ext.evaluation.policies import evaluate_checkpoints
    from genpo_ext.evaluation.run_folder import read_agent_cfg

    env_cfg, _ = resolve_task_config(task_id, ENV_CFG_ENTRY_POINT, overrides=overrides)
    clip_actions = read_agent_cfg(run_dir, device).get("clip_actions")
    with launch_simulation(env_cfg, launcher_args(device)):
        env_cfg.scene.num_envs = episodes
        env_cfg.sim.device = device
        env_cfg.seed = seed
        env = RslRlVecEnvWrapper(gym.make(task_id, cfg=env_cfg), clip_actions=clip_actions)
        try:

            def reset_env(reset_seed: int) -> None:
                """Reset every environment from ``reset_seed`` (IsaacLab seeds torch, numpy and warp with it)."""
                env.unwrapped.reset(seed=reset_seed)

            # one step past the time limit: the step that times an episode out reports it done
            max_steps = int(env.max_episode_length) + 1
            for deploy in deploys or [None]:
                agent_cfg = read_agent_cfg(run_dir, device)
                deploy = deploy or DeploySetting.of_agent(agent_cfg)
                deploy.apply_to(agent_cfg, clip_actions)
                runner = OnPolicyRunner(env, agent_cfg, log_dir=None, device=device)
                yield from evaluate_checkpoints(
                    runner, env, checkpoints, reset_env, mode, seed, device, max_steps, deploy.label
                )
        finally:
            env.close()
