"""rsl_rl's ``OnPolicyRunner`` for gymnasium tasks, whose checkpoints also hold the training state, so that a resumed
run continues exactly as the uninterrupted run would have.

A stock rsl_rl checkpoint holds the models (observation normalizers included), the optimizer (with the adaptive
learning rate) and the iteration. What else decides the next iterations is saved beside them in the checkpoint's
``infos``: the random streams (Python, numpy, torch, CUDA), the envs (:meth:`GymnasiumVecEnv.get_state`) and the
episode statistics that rsl_rl 5's logger averages into the training return. Resuming from such a checkpoint
continues with the iteration after it, and the run's later checkpoints and logged returns equal the uninterrupted
run's bit for bit, as long as it runs with the same configuration, device and torch threads. Under rsl_rl 3 the
episode statistics live inside ``learn`` and restart empty, so the training returns logged in the first iterations
after a resumption differ; the models still continue exactly. The checkpoints stay loadable by a stock runner.
"""

from __future__ import annotations

import random

import numpy as np
import torch
from rsl_rl.runners import OnPolicyRunner

TRAINING_STATE_KEY = "genpo_ext_training_state"
"""Key of the training state in a checkpoint's ``infos``."""

IN_PROGRESS_PREFIX = "cur_"
"""Prefix of the logger attributes that sum the episodes in progress, which only continue when the envs do."""

LOGGER_STATE_ATTRIBUTES = (
    "tot_timesteps",
    "tot_time",
    "rewbuffer",
    "lenbuffer",
    "cur_reward_sum",
    "cur_episode_length",
    "erewbuffer",
    "irewbuffer",
    "cur_ereward_sum",
    "cur_ireward_sum",
)
"""Attributes of rsl_rl 5's logger that carry episode statistics and totals from one iteration to the next (the
last four only with RND)."""


class GymnasiumRunner(OnPolicyRunner):
    """rsl_rl's ``OnPolicyRunner`` that saves the training state in every checkpoint and resumes from it exactly."""

    def save(self, path: str, infos: dict | None = None) -> None:
        """Save the checkpoint as rsl_rl does, with the training state added to its ``infos``."""
        super().save(path, {**(infos or {}), TRAINING_STATE_KEY: self.training_state()})

    def training_state(self) -> dict:
        """Return the random streams, the envs' state and the logger's episode statistics."""
        logger = getattr(self, "logger", None)
        return {
            "random": {
                "python": random.getstate(),
                "numpy": np.random.get_state(),
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
            },
            "env": self.env.get_state(),
            "logger": {name: getattr(logger, name) for name in LOGGER_STATE_ATTRIBUTES if hasattr(logger, name)},
        }

    def resume(self, path: str, map_location: str) -> list[str]:
        """Load a checkpoint and continue with the iteration after it, restoring its training state.

        Args:
            path: The checkpoint file.
            map_location: Device the checkpoint's tensors are loaded onto.

        Returns:
            What could not be restored, one sentence each; the run then continues from fresh random streams, envs or
            episode statistics, not exactly.
        """
        infos = self.load(path, map_location=map_location) or {}
        # the checkpoint's iteration is complete; rsl_rl's runner would run it again
        self.current_learning_iteration += 1
        # rsl_rl 3's load restores the optimizer but not the adaptive learning rate it keeps beside it
        self.alg.learning_rate = self.alg.optimizer.param_groups[0]["lr"]
        state = infos.get(TRAINING_STATE_KEY)
        if state is None:
            return ["the checkpoint holds no training state: random streams, envs and episode statistics start afresh"]
        problems = []
        env_problem = self.env.set_state(state["env"])
        if env_problem is not None:
            problems.append(f"the envs start from a reset: {env_problem}")
        logger = getattr(self, "logger", None)
        for name, value in state["logger"].items():
            # sums of episodes in progress belong to the saved envs, not to freshly reset ones
            if hasattr(logger, name) and (env_problem is None or not name.startswith(IN_PROGRESS_PREFIX)):
                setattr(logger, name, value)
        random_state = state["random"]
        random.setstate(random_state["python"])
        np.random.set_state(random_state["numpy"])
        torch.set_rng_state(random_state["torch"].cpu())
        if random_state["cuda"] is not None and len(random_state["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([cuda_state.cpu() for cuda_state in random_state["cuda"]])
        elif random_state["cuda"] is not None:
            problems.append("the CUDA random streams start afresh: this machine has another number of GPUs")
        return problems
