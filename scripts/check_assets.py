"""Check the shipped locomotion robots against the public descriptions they were built from.

Examples:
    python scripts/check_assets.py                     # clones the source repositories from GitHub
    python scripts/check_assets.py --repository newton-physics/newton-assets=/path/to/clone
    python scripts/check_assets.py --recorded          # against the summaries recorded at build time (no sources)

Bodies, movable joints and their limits, the mass and centre of mass of each rigid group, and forward kinematics in
a few joint configurations are compared through newton's own MJCF, URDF and USD importers.
"""

from genpo_ext.isaaclab.asset_build.check import main

if __name__ == "__main__":
    main()
