"""GenPO: generative flow policies trained on-policy, as a plug-in for rsl_rl and IsaacLab."""

__version__ = "0.1.0"
