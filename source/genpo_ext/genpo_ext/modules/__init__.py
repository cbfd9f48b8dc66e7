"""Building blocks of the GenPO flow policy: time embedding, velocity field, latent noise, the invertible coupled
flow, a faster Mish, full-precision likelihood matmuls and a device-side record of non-finite values."""

from .activations import FastMish, use_fast_activations, use_native_activations
from .coupled_flow import CoupledFlow, FlowCondition
from .latent_noise import NOISE_STD_TYPES, LatentNoise
from .non_finite import NonFiniteRecord, non_finite_message
from .precision import full_precision_matmul
from .time_embedding import SinusoidalTimeEmbedding, TimeEncoder
from .velocity_field import VelocityField

__all__ = [
    "NOISE_STD_TYPES",
    "CoupledFlow",
    "FastMish",
    "FlowCondition",
    "LatentNoise",
    "NonFiniteRecord",
    "SinusoidalTimeEmbedding",
    "TimeEncoder",
    "VelocityField",
    "full_precision_matmul",
    "non_finite_message",
    "use_fast_activations",
    "use_native_activations",
]
