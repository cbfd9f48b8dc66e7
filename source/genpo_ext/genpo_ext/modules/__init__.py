"""Building blocks of the GenPO flow policy: time embedding, velocity field and the invertible coupled flow."""

from .coupled_flow import CoupledFlow
from .time_embedding import SinusoidalTimeEmbedding, TimeEncoder
from .velocity_field import VelocityField

__all__ = ["CoupledFlow", "SinusoidalTimeEmbedding", "TimeEncoder", "VelocityField"]
