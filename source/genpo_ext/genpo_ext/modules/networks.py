"""rsl_rl's network building blocks, imported from where the installed rsl_rl generation keeps them."""

from __future__ import annotations

from genpo_ext.versions import require_rsl_rl_generation

if require_rsl_rl_generation() == 3:
    from rsl_rl.networks import MLP, EmpiricalNormalization
else:
    from rsl_rl.modules import MLP, EmpiricalNormalization

__all__ = ["MLP", "EmpiricalNormalization"]
