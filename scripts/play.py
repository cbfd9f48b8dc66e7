"""Play a trained GenPO or PPO checkpoint on an IsaacLab task and export the policy (TorchScript and ONNX).

Examples:
    python scripts/play.py --task Isaac-Cartpole-Direct --num_steps 600
    python scripts/play.py --task Isaac-Ant-Direct --algo ppo --log_dir logs/rsl_rl/ant_direct/2026-01-01_00-00-00
    python scripts/play.py --task Isaac-Cartpole-Direct --algo genpo_recommended
    python scripts/play.py --task Isaac-Cartpole-Direct --video --video_length 200 --viz newton

In an IsaacLab 2.3 installation (Isaac Sim 5.1, rsl_rl 3) the IsaacLab 2.3 backend plays, with IsaacLab's
``AppLauncher`` flags:
    ./isaaclab.sh -p scripts/play.py --task Isaac-Ant-v0 --headless --num_steps 1000

The latest checkpoint of the task's experiment is played unless --log_dir, --load_run or --checkpoint select one.
Tokens of the form ``env.a.b=value`` / ``agent.a.b=value`` override fields of the environment / agent config.
"""

from __future__ import annotations

import sys

from genpo_ext.versions import isaaclab_generation

if __name__ == "__main__":
    if isaaclab_generation() == 2:
        from genpo_ext.isaaclab2.play import main
    else:
        from genpo_ext.isaaclab.play import main
    main(sys.argv[1:])
