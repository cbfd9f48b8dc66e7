"""Building blocks of the GenPO flow policy: time embedding, velocity field, latent noise, the invertible coupled
flow and a faster Mish."""

from .activations import FastMish, use_fast_activations, use_native_activations
from .coupled_flow import CoupledFlow, FlowCondition
from .latent_noise import NOISE_STD_TYPES, LatentNoise
from .time_embedding import SinusoidalTimeEmbedding, TimeEncoder
from .velocity_field import VelocityField

__all__ = [
    "NOISE_STD_TYPES",
    "CoupledFlow",
    "FastMish",
    "FlowCondition",
    "LatentNoise",
    "SinusoidalTimeEmbedding",
    "TimeEncoder",
    "VelocityField",
    "use_fast_activations",
    "use_native_activations",
]
