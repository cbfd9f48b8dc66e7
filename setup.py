"""Installation script for the genpo_ext package."""

from setuptools import find_packages, setup

RSL_RL_REQUIREMENT = "rsl-rl-lib>=3.0.1,<5.6,!=3.2.*,!=3.3.*,!=4.*,!=5.0.*,!=5.1.*,!=5.2.*,!=5.3.*,!=5.4.*,!=5.5.0"
"""The two rsl_rl generations genpo_ext plugs into (``genpo_ext.versions.SUPPORTED_RSL_RL_RANGES``): 3.0.1-3.1.x
(IsaacLab 2.3) and 5.5.1-5.5.x (IsaacLab 3). An environment that already holds one of them keeps it; a fresh one gets
the newest 5.5."""

CORE_REQUIRES = [
    "torch>=2.7",  # Isaac Sim 5.1 / IsaacLab 2.3 ship 2.7.0, IsaacLab 3 pins 2.11; see the README for what was run
    "numpy>=1.26",  # IsaacLab 2.3 needs numpy < 2, IsaacLab 3 numpy 2
    "tensordict>=0.7",  # rsl_rl's own bound: a higher one could pull a tensordict that upgrades torch
    RSL_RL_REQUIREMENT,
]

EXTRAS_REQUIRE = {
    # IsaacLab 3 integration (pins torch 2.11, warp, newton and rsl-rl-lib 5.5.1 itself).
    "isaaclab": ["isaaclab==3.0.0"],
    # Gymnasium/MuJoCo backend and the comparison tooling.
    # rliable's bootstrap runs on arch, whose releases so far call a pandas helper that pandas 3 removed.
    "gymnasium": [
        "gymnasium[mujoco]>=1.2",
        "matplotlib>=3.8",
        "tensorboard>=2.15",
        "pyyaml>=6.0",
        "scipy>=1.11",
        "rliable>=1.2",
        "pandas<3",
    ],
    # W&B logging (--logger wandb); IsaacLab 3.0 calls wandb.util.generate_id, which wandb 0.28.2 removed.
    "wandb": ["wandb<0.28.2"],
    # compare.py's default backend: its runs as Ray tasks on a local Ray or a cluster (tested with ray 2.60.0).
    "ray": ["ray>=2.60"],
    # Test and export checks.
    "test": ["pytest>=8.0", "onnx>=1.18", "onnxscript", "onnxruntime>=1.20"],
}
EXTRAS_REQUIRE["all"] = sorted({dep for deps in EXTRAS_REQUIRE.values() for dep in deps})

setup(
    name="genpo_ext",
    version="0.1.0",
    description="GenPO: generative flow policies trained on-policy, as an rsl_rl / IsaacLab extension.",
    python_requires=">=3.11,<3.13",  # IsaacLab 2.3 runs 3.11, IsaacLab 3 needs 3.12
    package_dir={"": "source/genpo_ext"},
    packages=find_packages(where="source/genpo_ext"),
    install_requires=CORE_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    entry_points={"isaaclab.tasks": ["genpo_ext = genpo_ext.isaaclab.registration"]},
    zip_safe=False,
)
