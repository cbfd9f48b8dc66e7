"""Registration of GenPO's class names where rsl_rl 3's ``OnPolicyRunner`` resolves them.

rsl_rl 3.0 and 3.1 turn ``policy.class_name`` and ``algorithm.class_name`` into classes with ``eval`` inside the
runner's module, so a plug-in class is found only under a name in that module's namespace. Importing this module puts
:data:`RUNNER_CLASS_NAMES` there; ``import genpo_ext`` under rsl_rl 3 has it imported as soon as the runner's module
is loaded (:mod:`genpo_ext.rsl_rl3_hook`). A stock runner then trains GenPO from a config that says::

    train_cfg["policy"]["class_name"] = "GenPOActorCritic"
    train_cfg["algorithm"]["class_name"] = "GenPO"           # or "GenPOAlgorithm"

rsl_rl itself is not modified: only names it does not define are added to the runner module.
"""

from __future__ import annotations

import rsl_rl.runners.on_policy_runner as on_policy_runner

from genpo_ext.algorithms import GenPO, GenPOAlgorithm
from genpo_ext.models import GenPOActorCritic

RUNNER_CLASS_NAMES: dict[str, type] = {
    "GenPOActorCritic": GenPOActorCritic,
    "GenPO": GenPO,
    "GenPOAlgorithm": GenPOAlgorithm,
}
"""Class names a config may use under rsl_rl 3, and the classes they resolve to."""


def register_runner_class_names() -> None:
    """Put :data:`RUNNER_CLASS_NAMES` into the namespace of rsl_rl 3's runner module.

    Raises:
        RuntimeError: If rsl_rl already defines one of the names as something else.
    """
    for name, cls in RUNNER_CLASS_NAMES.items():
        existing = vars(on_policy_runner).get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise RuntimeError(f"rsl_rl's runner already defines '{name}' ({existing!r}); genpo_ext cannot register.")
        setattr(on_policy_runner, name, cls)


register_runner_class_names()
