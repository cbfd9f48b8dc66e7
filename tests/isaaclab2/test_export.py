"""JIT and ONNX export of a trained GenPO policy through IsaacLab 2.3.2's own exporter (the path of its play
script), against the policy's deterministic inference."""

from __future__ import annotations

import copy
import numpy as np
import onnxruntime
import pathlib
import pytest
import torch
from rsl_rl3_train_cfgs import genpo_train_cfg
from toy_envs import PointReachEnv

from rsl_rl.runners import OnPolicyRunner


DEPLOYED_ACTIONS = [
    {},
    {"deterministic_mode": "mean", "action_clip": 0.5, "noise_std_type": "log"},
    {"deterministic_mode": "likeliest", "noise_std_type": "state", "init_noise_std": 0.5, "action_bound": 1.0},
]
"""Policy keys of the exported policies: the zero latent, and the two modes that push K fixed draws."""


@pytest.mark.parametrize("deployed_action", DEPLOYED_ACTIONS)
def test_isaaclab_exporter_matches_deterministic_inference(
    isaaclab2_task_ids: list[str], tmp_path: pathlib.Path, deployed_action: dict
):
    from isaaclab_rl.rsl_rl import export_policy_as_jit, export_policy_as_onnx

    cfg = genpo_train_cfg()
    cfg["policy"].update(actor_obs_normalization=True, critic_obs_normalization=True, **deployed_action)
    runner = OnPolicyRunner(PointReachEnv(num_envs=32), copy.deepcopy(cfg), log_dir=str(tmp_path), device="cpu")
    runner.learn(num_learning_iterations=1)
    policy = runner.get_inference_policy()
    obs = runner.env.get_observations()
    with torch.no_grad():
        expected = policy(obs)
    flat_obs = obs["policy"]

    # what IsaacLab 2.3's play script does: the policy module, and its actor normalizer applied before the actor
    policy_nn = runner.alg.policy
    assert policy_nn.actor_obs_normalizer.count > 0, "the normalizer must be non-trivial for this check to mean much"
    export_policy_as_jit(policy_nn, normalizer=policy_nn.actor_obs_normalizer, path=str(tmp_path), filename="policy.pt")
    export_policy_as_onnx(policy_nn, normalizer=policy_nn.actor_obs_normalizer, path=str(tmp_path), filename="p.onnx")

    jit_policy = torch.jit.load(str(tmp_path / "policy.pt"))
    torch.testing.assert_close(jit_policy(flat_obs), expected, atol=1e-5, rtol=0)
    jit_policy.reset()
    session = onnxruntime.InferenceSession(str(tmp_path / "p.onnx"))
    assert [node.name for node in session.get_inputs()] == ["obs"]
    onnx_actions = np.concatenate([session.run(None, {"obs": row[None].numpy()})[0] for row in flat_obs])
    np.testing.assert_allclose(onnx_actions, expected.numpy(), atol=1e-5)
