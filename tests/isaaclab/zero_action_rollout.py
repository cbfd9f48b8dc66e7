"""Step an IsaacLab task kit-less on the CPU with zero actions and print what happened to the robot.

Usage: ``python zero_action_rollout.py <task> <num_envs> <num_steps>``. The task's own env config runs (offline
assets, and the kit-less physics preset where its default needs Isaac Sim) from the evaluation seed; a zero action
of the velocity tasks' joint-position action holds the default joint positions. The last stdout line is a JSON
object: ``terminated`` (per step, the number of environments whose episode ended by a termination, not a time
limit) and ``root_height`` (per step, each environment's root-body height above the ground, in metres).
"""

from __future__ import annotations

import json
import sys

from genpo_ext.evaluation.records import DEFAULT_SEED
from genpo_ext.isaaclab.launch import resolve_task, with_kitless_physics

DEVICE = "cpu"
"""Device of the simulation."""

ENV_CFG_ENTRY_POINT = "rsl_rl_cfg_entry_point"
"""Agent key the env config is resolved with (its agent config is not used)."""


def main(task: str, num_envs: int, num_steps: int) -> None:
    """Run the rollout and print its JSON summary."""
    task_id = resolve_task(task)
    overrides = with_kitless_physics(task_id, [])

    import gymnasium as gym
    import torch
    import warp as wp
    from isaaclab.app import launch_simulation
    from isaaclab_tasks.utils import resolve_task_config

    from genpo_ext.isaaclab.evaluate import launcher_args

    env_cfg, _ = resolve_task_config(task_id, ENV_CFG_ENTRY_POINT, overrides=overrides)
    with launch_simulation(env_cfg, launcher_args(DEVICE)):
        env_cfg.scene.num_envs = num_envs
        env_cfg.sim.device = DEVICE
        env_cfg.seed = DEFAULT_SEED
        env = gym.make(task_id, cfg=env_cfg)
        try:
            env.reset()
            robot = env.unwrapped.scene["robot"]
            actions = torch.zeros(env.action_space.shape, device=DEVICE)
            terminated_counts, heights = [], []
            for _ in range(num_steps):
                _, _, terminated, _, _ = env.step(actions)
                terminated_counts.append(int(terminated.sum()))
                heights.append(wp.to_torch(robot.data.root_pos_w)[:, 2].tolist())
        finally:
            env.close()
    print(json.dumps({"terminated": terminated_counts, "root_height": heights}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
