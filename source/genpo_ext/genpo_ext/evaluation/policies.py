"""Checkpoints loaded into a stock rsl_rl runner, and the policy an evaluation runs (either rsl_rl generation)."""

from __future__ import annotations

import pathlib
import random
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from genpo_ext.checkpoints import checkpoint_problem
from genpo_ext.evaluation.episodes import Policy, run_episodes
from genpo_ext.evaluation.records import DETERMINISTIC, NOT_DEPLOYED, STOCHASTIC, EvalRecord, checkpoint_iteration


class CheckpointLoadError(RuntimeError):
    """A checkpoint could not be loaded into the run's agent (unreadable, cut short, or of another model)."""


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch, so that a stochastic evaluation draws the same noise every time."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_checkpoint(runner, checkpoint: pathlib.Path, device: str) -> None:
    """Load a checkpoint's parameters and normalizers into ``runner`` on ``device``.

    Raises:
        CheckpointLoadError: Naming the file, if it is broken, cannot be read or does not fit the run's agent config.
    """
    problem = checkpoint_problem(checkpoint)
    if problem is not None:
        raise CheckpointLoadError(f"cannot load checkpoint {checkpoint}: it is broken ({problem})")
    try:
        runner.load(str(checkpoint), map_location=device)
    except (OSError, EOFError, RuntimeError, KeyError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointLoadError(f"cannot load checkpoint {checkpoint}: {reason}") from error


def select_policy(runner, device: str, mode: str) -> Policy:
    """Return the policy to evaluate.

    Args:
        runner: Stock rsl_rl ``OnPolicyRunner`` with the checkpoint loaded.
        device: Device of the observations.
        mode: ``deterministic``: the runner's inference policy (what ``play.py`` exports: the Gaussian's mean for
            PPO, the zero latent through the flow for GenPO); ``stochastic``: the algorithm's ``act``, which samples
            env actions exactly as the training rollouts do.

    Raises:
        ValueError: If ``mode`` is not a policy mode.
    """
    if mode not in (DETERMINISTIC, STOCHASTIC):
        raise ValueError(f"Unknown policy mode '{mode}'. Valid: {DETERMINISTIC}, {STOCHASTIC}.")
    # both rsl_rl generations switch the models to evaluation mode here
    inference_policy = runner.get_inference_policy(device=device)
    return inference_policy if mode == DETERMINISTIC else runner.alg.act


def evaluate_checkpoints(
    runner,
    env,
    checkpoints: Sequence[pathlib.Path],
    reset_env: Callable[[int], object],
    mode: str,
    seed: int,
    device: str,
    max_steps: int,
    deploy: str = "zero",
) -> Iterator[EvalRecord]:
    """Evaluate each checkpoint on freshly reset envs and yield its record as soon as it exists.

    Every checkpoint starts from the same env states and, for the stochastic policy, the same noise, so two
    evaluations of one checkpoint give the same record.

    Args:
        runner: Stock rsl_rl ``OnPolicyRunner`` built from the run's agent config over ``env``.
        env: rsl_rl ``VecEnv`` with one environment per episode to run.
        checkpoints: Checkpoint files of the run.
        reset_env: Resets every environment of ``env`` from a seed to the start of an episode.
        mode: Policy mode, see :func:`select_policy`.
        seed: Seed of the env resets and of the policy's noise.
        device: Device the checkpoints are loaded onto.
        max_steps: Step budget for one episode per environment.
        deploy: Label of the deployed action the runner's policy was built with (recorded; ``-`` is written for the
            stochastic mode).

    Raises:
        CheckpointLoadError: If a checkpoint cannot be loaded.
    """
    for checkpoint in checkpoints:
        load_checkpoint(runner, checkpoint, device)
        policy = select_policy(runner, device, mode)
        seed_everything(seed)
        # the reset too: it updates env buffers that the previous checkpoint's episodes made inference tensors
        with torch.inference_mode():
            reset_env(seed)
            stats = run_episodes(env, policy, max_steps)
        yield EvalRecord(
            checkpoint=checkpoint.name,
            iteration=checkpoint_iteration(checkpoint),
            policy=mode,
            episodes=len(stats.returns),
            seed=seed,
            mean_return=stats.mean_return,
            std_return=stats.std_return,
            min_return=float(stats.returns.min()),
            max_return=float(stats.returns.max()),
            mean_length=float(stats.lengths.mean()),
            deploy=deploy if mode == DETERMINISTIC else NOT_DEPLOYED,
        )
