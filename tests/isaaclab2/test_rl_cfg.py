"""The IsaacLab 2.3 config classes: defaults, and a stock rsl_rl 3 runner training GenPO from their ``to_dict()``."""

from __future__ import annotations

import pathlib

from rsl_rl3_train_cfgs import genpo_train_cfg
from toy_envs import PointReachEnv

from rsl_rl.runners import OnPolicyRunner


def make_runner_cfg():
    """An IsaacLab 2.3 runner config built from GenPO's config classes, sized like the rsl_rl 3 tests' config."""
    from isaaclab.utils import configclass
    from isaaclab_rl.rsl_rl import RslRlOnPolicyRunnerCfg

    from genpo_ext.isaaclab2.rl_cfg import RslRlGenPOActorCriticCfg, RslRlGenPOAlgorithmCfg

    reference = genpo_train_cfg()
    ppo_keys = ("num_learning_epochs", "num_mini_batches", "learning_rate", "entropy_coef", "desired_kl", "schedule")

    @configclass
    class PointReachGenPORunnerCfg(RslRlOnPolicyRunnerCfg):
        num_steps_per_env = reference["num_steps_per_env"]
        max_iterations = 2
        save_interval = 1000
        experiment_name = "point_reach_genpo"
        obs_groups = reference["obs_groups"]
        policy = RslRlGenPOActorCriticCfg(
            actor_obs_normalization=True,
            critic_obs_normalization=True,
            actor_hidden_dims=reference["policy"]["actor_hidden_dims"],
            critic_hidden_dims=reference["policy"]["critic_hidden_dims"],
            time_embed_dim=reference["policy"]["time_embed_dim"],
            time_hidden_dims=reference["policy"]["time_hidden_dims"],
            noise_std_type="log",
            init_noise_std=0.8,
        )
        algorithm = RslRlGenPOAlgorithmCfg(
            **{key: reference["algorithm"][key] for key in ppo_keys},
            gamma=0.99,
            lam=0.95,
            max_grad_norm=1.0,
            value_loss_coef=1.0,
            use_clipped_value_loss=True,
            clip_param=0.2,
            entropy_term="exact",
        )

    return PointReachGenPORunnerCfg()


def test_config_classes_default_to_the_paper_and_name_the_registered_classes(isaaclab2_task_ids: list[str]) -> None:
    from genpo_ext.isaaclab2.rl_cfg import RslRlGenPOActorCriticCfg, RslRlGenPOAlgorithmCfg

    policy = RslRlGenPOActorCriticCfg()
    assert (policy.class_name, policy.activation, policy.noise_std_type) == ("GenPOActorCritic", "mish", "fixed")
    assert (policy.num_flow_steps, policy.mixing_coef, policy.time_embed_dim) == (5, 0.9, 32)
    algorithm = RslRlGenPOAlgorithmCfg()
    assert (algorithm.class_name, algorithm.compression_coef, algorithm.kl_estimator) == ("GenPO", 0.01, "paper")
    assert algorithm.symmetry_cfg is None and algorithm.rnd_cfg is None


def test_stock_runner_trains_genpo_from_the_config_classes(
    isaaclab2_task_ids: list[str], tmp_path: pathlib.Path
) -> None:
    agent_cfg = make_runner_cfg()
    runner = OnPolicyRunner(PointReachEnv(num_envs=16), agent_cfg.to_dict(), log_dir=str(tmp_path), device="cpu")
    assert type(runner.alg).__name__ == "GenPO" and runner.alg.entropy_term == "exact"
    assert runner.alg.policy.actor_obs_normalization and runner.alg.policy.flow.noise.noise_std_type == "log"
    runner.learn(num_learning_iterations=agent_cfg.max_iterations)
    assert (tmp_path / "model_1.pt").is_file()
