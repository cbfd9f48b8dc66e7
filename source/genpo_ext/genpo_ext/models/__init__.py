"""rsl_rl models for GenPO."""

from .export import JitGenPOPolicy, OnnxGenPOPolicy
from .genpo_actor import GenPOActor

__all__ = ["GenPOActor", "JitGenPOPolicy", "OnnxGenPOPolicy"]
