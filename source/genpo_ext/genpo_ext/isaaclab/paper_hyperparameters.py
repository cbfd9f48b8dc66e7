"""The GenPO paper's hyperparameters (arXiv 2505.18763): the single source of truth for the paper's tasks.

Values shared by every task are in :data:`PAPER_SHARED_HYPERPARAMETERS`; the per-task rows are in
:data:`PAPER_TASKS`. Everything the paper does not state equals IsaacLab's stock rsl_rl PPO config of the task.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperSharedHyperparameters:
    """Hyperparameters the paper uses on every task."""

    lam: float = 0.95
    """GAE lambda."""

    clip_param: float = 0.2
    """PPO clipping range of the probability ratio."""

    value_loss_coef: float = 1.0
    """Weight of the value loss."""

    max_grad_norm: float = 1.0
    """Gradient-norm clipping threshold."""

    desired_kl: float = 0.01
    """Target KL divergence of the adaptive learning-rate schedule."""

    num_flow_steps: int = 5
    """Number of flow steps N."""

    mixing_coef: float = 0.9
    """Mixing coefficient p of the coupling layers."""

    compression_coef: float = 0.01
    """Weight nu of the compression loss that pulls the two action halves together."""

    activation: str = "mish"
    """Activation of the actor and critic networks."""


PAPER_SHARED_HYPERPARAMETERS = PaperSharedHyperparameters()
"""The paper's hyperparameters shared by all tasks."""

PAPER_TIME_EMBED_DIM = 32
"""Number of sinusoidal time features of the flow on all of the paper's tasks but the quadcopter."""

PAPER_TIME_HIDDEN_DIMS = (256, 256)
"""Hidden layer sizes of the time-embedding MLP on all of the paper's tasks but the quadcopter."""


@dataclass(frozen=True)
class PaperTaskHyperparameters:
    """One row of the paper's per-task hyperparameter table."""

    paper_task_id: str
    """Task id used in the paper (IsaacLab 2 naming)."""

    isaaclab_task_id: str | None
    """IsaacLab 3 task id of the same task, or None when IsaacLab 3 has no such task."""

    hidden_dims: tuple[int, ...]
    """Hidden layer sizes of the actor's velocity network and of the critic (the paper uses the same for both)."""

    learning_rate: float
    """Initial learning rate of the adaptive schedule."""

    gamma: float
    """Discount factor."""

    entropy_coef: float
    """Weight of the (cross-)entropy bonus."""

    time_embed_dim: int = PAPER_TIME_EMBED_DIM
    """Number of sinusoidal time features of the flow."""

    time_hidden_dims: tuple[int, ...] = PAPER_TIME_HIDDEN_DIMS
    """Hidden layer sizes of the time-embedding MLP."""


# fmt: off
PAPER_TASKS: tuple[PaperTaskHyperparameters, ...] = (
    # paper obs x act: 60 x 8
    PaperTaskHyperparameters("Isaac-Ant-v0", "Isaac-Ant", (400, 200, 100), 1e-3, 0.99, 0.01),
    # paper obs x act: 87 x 21
    PaperTaskHyperparameters("Isaac-Humanoid-v0", "Isaac-Humanoid", (400, 200, 100), 5e-4, 0.99, 0.01),
    # paper obs x act: 36 x 8
    PaperTaskHyperparameters("Isaac-Lift-Cube-Franka-v0", "Isaac-Lift-Franka", (256, 128, 64), 1e-4, 0.98, 0.006),
    # paper obs x act: 12 x 4; IsaacLab 3.0 ships no quadcopter task
    PaperTaskHyperparameters(
        "Isaac-Quadcopter-Direct-v0", None, (64, 64), 5e-4, 0.99, 0.01, time_embed_dim=16, time_hidden_dims=(128, 128)
    ),
    # paper obs x act: 48 x 12
    PaperTaskHyperparameters(
        "Isaac-Velocity-Flat-Anymal-D-v0", "Isaac-Velocity-Flat-AnymalD", (128, 128, 128), 1e-3, 0.99, 0.005
    ),
    # paper obs x act: 235 x 12
    PaperTaskHyperparameters(
        "Isaac-Velocity-Rough-Unitree-Go2-v0", "Isaac-Velocity-Rough-UnitreeGo2", (512, 256, 128), 1e-3, 0.99, 0.01
    ),
    # paper obs x act: 256 x 19
    PaperTaskHyperparameters("Isaac-Velocity-Rough-H1-v0", "Isaac-Velocity-Rough-H1", (512, 256, 128), 1e-3, 0.99, 0.01),
    # paper obs x act: 157 x 20
    PaperTaskHyperparameters(
        "Isaac-Repose-Cube-Shadow-Direct-v0", "Isaac-Reorient-Cube-Shadow-Direct", (512, 512, 256, 128), 5e-4, 0.99, 0.005
    ),
)
"""The paper's per-task hyperparameters, one row per task of the paper's Table 1."""
# fmt: on


def paper_hyperparameters_for(isaaclab_task_id: str) -> PaperTaskHyperparameters | None:
    """Return the paper's row for an IsaacLab 3 task id, or None when the paper did not train on that task.

    Args:
        isaaclab_task_id: IsaacLab 3 task id, e.g. ``"Isaac-Velocity-Rough-H1"``.
    """
    for row in PAPER_TASKS:
        if row.isaaclab_task_id == isaaclab_task_id:
            return row
    return None


def paper_actor_settings(paper: PaperTaskHyperparameters) -> dict:
    """Return the flow actor's keys and values for a paper task (names of the rsl_rl 5 ``GenPOActor``).

    Args:
        paper: The task's row of :data:`PAPER_TASKS`.
    """
    shared = PAPER_SHARED_HYPERPARAMETERS
    return {
        "hidden_dims": list(paper.hidden_dims),
        "activation": shared.activation,
        "num_flow_steps": shared.num_flow_steps,
        "mixing_coef": shared.mixing_coef,
        "time_embed_dim": paper.time_embed_dim,
        "time_hidden_dims": list(paper.time_hidden_dims),
    }


def paper_algorithm_settings(paper: PaperTaskHyperparameters) -> dict:
    """Return the GenPO algorithm's keys and values for a paper task (the shared values and the task's row).

    Args:
        paper: The task's row of :data:`PAPER_TASKS`.
    """
    shared = PAPER_SHARED_HYPERPARAMETERS
    return {
        "learning_rate": paper.learning_rate,
        "gamma": paper.gamma,
        "entropy_coef": paper.entropy_coef,
        "lam": shared.lam,
        "clip_param": shared.clip_param,
        "value_loss_coef": shared.value_loss_coef,
        "max_grad_norm": shared.max_grad_norm,
        "desired_kl": shared.desired_kl,
        "compression_coef": shared.compression_coef,
    }
