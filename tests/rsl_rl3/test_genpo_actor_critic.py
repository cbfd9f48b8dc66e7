"""The rsl_rl 3 GenPO actor-critic: actions, exact log-probs, noise types, checkpoints and error messages."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict

from rsl_rl.modules import ActorCritic
from rsl_rl.runners import OnPolicyRunner

from genpo_ext.models import GenPOActorCritic

OBS_DIM, CRITIC_OBS_DIM, ACTION_DIM = 6, 2, 3

OBS_GROUPS = {"policy": ["policy"], "critic": ["policy", "privileged"]}
"""The actor reads the policy group, the critic also a privileged group."""


def make_obs(batch_size: int = 32) -> TensorDict:
    """Observations with a policy group and a privileged group only the critic reads."""
    return TensorDict(
        {"policy": torch.randn(batch_size, OBS_DIM), "privileged": torch.randn(batch_size, CRITIC_OBS_DIM)},
        batch_size=[batch_size],
    )


def make_policy(**kwargs) -> GenPOActorCritic:
    """A small GenPO actor-critic."""
    kwargs.setdefault("actor_hidden_dims", [32, 32])
    kwargs.setdefault("critic_hidden_dims", [16])
    kwargs.setdefault("time_hidden_dims", [16])
    return GenPOActorCritic(make_obs(), OBS_GROUPS, ACTION_DIM, **kwargs)


def test_actions_are_the_doubled_latent_and_inference_returns_env_actions() -> None:
    policy = make_policy()
    obs = make_obs()
    actions = policy.act(obs)
    assert actions.shape == (32, 2 * ACTION_DIM) and policy.latent_dim == 2 * ACTION_DIM
    torch.testing.assert_close(policy.to_env_action(actions), 0.5 * (actions[:, :ACTION_DIM] + actions[:, ACTION_DIM:]))
    assert policy.act_inference(obs).shape == (32, ACTION_DIM)
    torch.testing.assert_close(policy.action_mean, policy.act_inference(obs))
    assert policy.evaluate(obs).shape == (32, 1)
    assert policy.critic[0].in_features == OBS_DIM + CRITIC_OBS_DIM
    assert policy.action_std.shape == (ACTION_DIM,) and bool((policy.action_std > 0).all())
    assert policy.is_recurrent is False


@pytest.mark.parametrize("noise_std_type", ["fixed", "scalar", "log", "state"])
def test_recorded_log_prob_is_reproduced_by_inverting_the_stored_actions(noise_std_type: str) -> None:
    init_noise_std = 1.0 if noise_std_type == "fixed" else 0.5
    policy = make_policy(actor_obs_normalization=True, noise_std_type=noise_std_type, init_noise_std=init_noise_std)
    obs = make_obs(256)
    policy.update_normalization(obs)
    actions = policy.act(obs).detach()
    recorded = policy.actions_log_prob.detach().clone()
    policy.act(make_obs(256))  # a later pass on other observations; re-scoring must condition on obs again
    policy.condition_on(obs)
    torch.testing.assert_close(policy.get_actions_log_prob(actions), recorded, atol=1e-4, rtol=0)


def test_entropy_is_exact_and_learned_noise_gets_its_gradient() -> None:
    fixed = make_policy()
    fixed.condition_on(make_obs())
    # 2d-dimensional standard normal entropy plus the flow's constant log-determinant 2 N d log p
    expected = ACTION_DIM * (1.0 + torch.log(torch.tensor(2 * torch.pi))) + 2 * 5 * ACTION_DIM * torch.log(
        torch.tensor(0.9)
    )
    torch.testing.assert_close(fixed.entropy, torch.full((32,), expected.item()))
    learned = make_policy(noise_std_type="log", init_noise_std=0.5)
    learned.condition_on(make_obs())
    learned.entropy.mean().backward()
    assert learned.flow.noise.log_std.grad is not None and bool((learned.flow.noise.log_std.grad != 0).all())
    torch.testing.assert_close(learned.noise_std, torch.full((1, ACTION_DIM), 0.5))


def test_state_dict_holds_the_flow_and_critic_and_loading_resumes_training() -> None:
    policy = make_policy(actor_obs_normalization=True)
    keys = list(policy.state_dict())
    assert any(key.startswith("flow.") for key in keys) and any(key.startswith("critic.") for key in keys)
    assert not any(key.startswith("actor.") for key in keys), "the exported actor is a copy, not a parameter owner"
    other = make_policy(actor_obs_normalization=True)
    assert other.load_state_dict(policy.state_dict()) is True
    obs = make_obs()
    torch.testing.assert_close(other.act_inference(obs), policy.act_inference(obs))


def test_gaussian_actor_critic_checkpoint_is_refused_with_an_explanation() -> None:
    gaussian = ActorCritic(make_obs(), OBS_GROUPS, ACTION_DIM, actor_hidden_dims=[8], critic_hidden_dims=[8])
    with pytest.raises(RuntimeError, match="Gaussian PPO actor-critic"):
        make_policy().load_state_dict(gaussian.state_dict())


def test_checkpoint_of_another_noise_type_names_the_setting_that_loads_it() -> None:
    learned = make_policy(noise_std_type="log", init_noise_std=0.5)
    with pytest.raises(RuntimeError, match="noise_std_type 'log'"):
        make_policy().load_state_dict(learned.state_dict())


def test_non_finite_values_are_recorded_and_reported_later_with_their_origin() -> None:
    policy = make_policy()
    obs = make_obs()
    obs["policy"][3, 0] = float("nan")
    policy.act(obs)
    policy.act(make_obs())  # the first problem is the one reported
    message = (
        r"GenPOActorCritic: 6 of 192 flow samples are not finite after sampling the flow "
        r"\(observations finite: False\)"
    )
    with pytest.raises(FloatingPointError, match=message):
        policy.raise_if_non_finite()
    policy.raise_if_non_finite()  # reported once, then forgotten
    policy.act(make_obs())
    policy.get_actions_log_prob(torch.full((32, 2 * ACTION_DIM), float("inf")))
    with pytest.raises(FloatingPointError, match="log-probs are not finite after inverting stored samples"):
        policy.raise_if_non_finite()


def test_invalid_arguments_fail_clearly() -> None:
    image_obs = TensorDict({"policy": torch.zeros(4, 2, 3)}, batch_size=[4])
    with pytest.raises(ValueError, match="one-dimensional observations"):
        GenPOActorCritic(image_obs, {"policy": ["policy"], "critic": ["policy"]}, ACTION_DIM)
    with pytest.raises(ValueError, match="Valid options"):
        make_policy(noise_std_type="gaussian")
    # rsl_rl 3's ActorCritic prints and ignores unknown arguments; a GenPO policy refuses them
    with pytest.raises(TypeError, match="state_dependent_std"):
        make_policy(state_dependent_std=True)


def test_stock_runner_resolves_the_registered_class_names(point_reach_runner: OnPolicyRunner) -> None:
    from genpo_ext.algorithms import GenPO

    assert isinstance(point_reach_runner.alg.policy, GenPOActorCritic)
    assert type(point_reach_runner.alg) is GenPO
