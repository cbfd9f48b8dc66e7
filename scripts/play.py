"""Play a trained GenPO or PPO checkpoint on an IsaacLab task and export the policy (TorchScript and ONNX).

Examples:
    python scripts/play.py --task Isaac-Cartpole-Direct --num_steps 600
    python scripts/play.py --task Isaac-Ant-Direct --algo ppo --log_dir logs/rsl_rl/ant_direct/2026-01-01_00-00-00
    python scripts/play.py --task Isaac-Cartpole-Direct --video --video_length 200 --viz newton

The latest checkpoint of the task's experiment is played unless --log_dir, --load_run or --checkpoint select one.
Tokens of the form ``env.a.b=value`` / ``agent.a.b=value`` override fields of the environment / agent config.
"""

from __future__ import annotations

import sys

from genpo_ext.isaaclab.play import main

if __name__ == "__main__":
    main(sys.argv[1:])
