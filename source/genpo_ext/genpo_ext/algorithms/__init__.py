"""rsl_rl algorithms for GenPO."""

from .genpo import GenPO, GenPOAlgorithm
from .genpo_loss import COMPRESSION_LOSSES, ENTROPY_TERMS, GenPOLoss, validate_genpo_options
from .kl_estimators import KL_ESTIMATORS, KLEstimator, k3_kl, paper_kl

__all__ = [
    "COMPRESSION_LOSSES",
    "ENTROPY_TERMS",
    "GenPO",
    "GenPOAlgorithm",
    "GenPOLoss",
    "KL_ESTIMATORS",
    "KLEstimator",
    "k3_kl",
    "paper_kl",
    "validate_genpo_options",
]
