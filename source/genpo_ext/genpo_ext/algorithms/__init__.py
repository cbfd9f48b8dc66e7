"""rsl_rl algorithms for GenPO, for the installed rsl_rl generation.

:class:`GenPO` (alias :data:`GenPOAlgorithm`) subclasses the installed rsl_rl's ``PPO``: rsl_rl 5's with a
:class:`~genpo_ext.models.GenPOActor`, or rsl_rl 3's with a :class:`~genpo_ext.models.GenPOActorCritic`. Both
compute the same loss and learning-rate rule (:mod:`.genpo_loss`, :mod:`.kl_estimators`).
"""

from genpo_ext.versions import require_rsl_rl_generation

from .genpo_loss import COMPRESSION_LOSSES, ENTROPY_TERMS, GenPOLoss, validate_genpo_options
from .kl_estimators import KL_ESTIMATORS, KLEstimator, k3_kl, paper_kl

if require_rsl_rl_generation() == 3:
    from .genpo_rsl_rl3 import GenPO, GenPOAlgorithm
else:
    from .genpo import GenPO, GenPOAlgorithm

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
