"""rsl_rl models for GenPO, for the installed rsl_rl generation.

rsl_rl 5: :class:`GenPOActor`, an actor model beside a stock critic. rsl_rl 3: :class:`GenPOActorCritic`, one policy
holding the flow actor and an MLP critic. Both share the flow (:mod:`genpo_ext.modules`) and the export modules.
"""

from genpo_ext.versions import require_rsl_rl_generation

from .export import JitGenPOPolicy, OnnxGenPOPolicy

if require_rsl_rl_generation() == 3:
    from .genpo_actor_critic import GenPOActorCritic

    __all__ = ["GenPOActorCritic", "JitGenPOPolicy", "OnnxGenPOPolicy"]
else:
    from .genpo_actor import GenPOActor

    __all__ = ["GenPOActor", "JitGenPOPolicy", "OnnxGenPOPolicy"]
