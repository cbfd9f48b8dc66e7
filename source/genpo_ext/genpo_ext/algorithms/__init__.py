"""rsl_rl algorithms for GenPO."""

from .genpo import GenPO, GenPOAlgorithm
from .kl_estimators import KL_ESTIMATORS, KLEstimator, k3_kl, paper_kl

__all__ = ["GenPO", "GenPOAlgorithm", "KL_ESTIMATORS", "KLEstimator", "k3_kl", "paper_kl"]
