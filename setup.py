"""Installation script for the genpo_ext package."""

from setuptools import find_packages, setup

CORE_REQUIRES = [
    "torch>=2.11",  # verified with 2.11 (IsaacLab 3) and 2.13
    "numpy>=1.26",
    "tensordict>=0.9",
    "rsl-rl-lib>=5.5.1,<5.6",
]

EXTRAS_REQUIRE = {
    # IsaacLab 3 integration (pins torch 2.11, warp, newton and rsl-rl-lib 5.5.1 itself).
    "isaaclab": ["isaaclab==3.0.0"],
    # Gymnasium/MuJoCo backend and the comparison tooling.
    "gymnasium": ["gymnasium[mujoco]>=1.2", "matplotlib>=3.8", "tensorboard>=2.15", "pyyaml>=6.0"],
    # W&B logging (--logger wandb); IsaacLab 3.0 calls wandb.util.generate_id, which wandb 0.28.2 removed.
    "wandb": ["wandb<0.28.2"],
    # Test and export checks.
    "test": ["pytest>=8.0", "onnx>=1.18", "onnxscript", "onnxruntime>=1.20"],
}
EXTRAS_REQUIRE["all"] = sorted({dep for deps in EXTRAS_REQUIRE.values() for dep in deps})

setup(
    name="genpo_ext",
    version="0.1.0",
    description="GenPO: generative flow policies trained on-policy, as an rsl_rl / IsaacLab extension.",
    python_requires=">=3.11",  # core verified on 3.11 and 3.12; IsaacLab 3 needs 3.12
    package_dir={"": "source/genpo_ext"},
    packages=find_packages(where="source/genpo_ext"),
    install_requires=CORE_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    entry_points={"isaaclab.tasks": ["genpo_ext = genpo_ext.isaaclab.registration"]},
    zip_safe=False,
)
