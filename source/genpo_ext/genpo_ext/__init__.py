"""GenPO: generative flow policies trained on-policy, as a plug-in for rsl_rl and IsaacLab.

genpo_ext plugs into two rsl_rl generations (see :mod:`genpo_ext.versions`). Under rsl_rl 5 (IsaacLab 3) importing
the package imports nothing else: configs name the classes by import path (``"genpo_ext.models:GenPOActor"``). Under
rsl_rl 3 (IsaacLab 2.3) it registers ``GenPOActorCritic``, ``GenPO`` and ``GenPOAlgorithm`` where rsl_rl 3's
``OnPolicyRunner`` resolves class names (:mod:`genpo_ext.rsl_rl3_registration`), as soon as that runner's module is
loaded (:mod:`genpo_ext.rsl_rl3_hook`): the package import itself never imports torch.
"""

from .versions import rsl_rl_generation as _rsl_rl_generation

__version__ = "0.1.0"

if _rsl_rl_generation() == 3:
    from .rsl_rl3_hook import register_with_rsl_rl3_runner

    register_with_rsl_rl3_runner()
