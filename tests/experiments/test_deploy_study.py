"""The deploy study: deployed-action labels, recorded runs, and the rule that decides a recommended configuration."""

from __future__ import annotations

import math
import pathlib
import dataclasses
import pytest

from genpo_ext.evaluation.deploy import DeploySetting, genpo_model_cfg
from genpo_ext.evaluation.records import read_records, write_records
from genpo_ext.experiments.deploy_study import StudyRun, recorded_runs, spec_runs, study_rows, write_deploy_study
from genpo_ext.experiments.spec import CompareSpec, RecordedRuns, Variant, load_spec

from test_report import write_fake_evaluation, write_fake_run


@pytest.mark.parametrize(
    "label,setting",
    [
        ("zero", DeploySetting("zero")),
        ("mean16", DeploySetting("mean", 16)),
        ("likeliest8", DeploySetting("likeliest", 8)),
        ("mean16_t0.5", DeploySetting("mean", 16, 0.5)),
        ("mean", DeploySetting("mean", 16)),
    ],
)
def test_deploy_labels_round_trip(label: str, setting: DeploySetting) -> None:
    assert DeploySetting.from_label(label) == setting
    assert DeploySetting.from_label(setting.label) == setting


@pytest.mark.parametrize("label", ["median16", "zero16", "mean16_t2", "mean0", "mean16_t"])
def test_invalid_deploy_labels_name_the_valid_form(label: str) -> None:
    with pytest.raises(ValueError, match="mean|K must be"):
        DeploySetting.from_label(label)


def test_a_deploy_setting_writes_the_genpo_actor_keys_and_refuses_a_gaussian_policy() -> None:
    agent = {"actor": {"class_name": "genpo_ext.models:GenPOActor"}, "critic": {"class_name": "MLPModel"}}
    DeploySetting("likeliest", 4, 0.5).apply_to(agent, action_clip=1.0)
    assert agent["actor"] | {} == {
        "class_name": "genpo_ext.models:GenPOActor",
        "action_clip": 1.0,
        "deterministic_mode": "likeliest",
        "deterministic_samples": 4,
        "deterministic_temperature": 0.5,
    }
    assert DeploySetting.of_agent(agent).label == "likeliest4_t0.5"
    rsl_rl3_agent = {"policy": {"class_name": "GenPOActorCritic", "action_clip": 0.3}}
    DeploySetting("mean").apply_to(rsl_rl3_agent, action_clip=1.0)
    assert rsl_rl3_agent["policy"]["action_clip"] == 0.3, "a recorded clip is kept"
    gaussian = {"actor": {"class_name": "MLPModel"}}
    assert genpo_model_cfg(gaussian) is None and DeploySetting.of_agent(gaussian).label == "zero"
    with pytest.raises(ValueError, match="needs a GenPO flow policy"):
        DeploySetting("mean").apply_to(gaussian, action_clip=None)


def run(task: str, label: str, seed: int, deployed: dict[str, float], sampled: float = 100.0) -> StudyRun:
    return StudyRun(task, label, seed, training_return=sampled, deployed=deployed, stochastic_return=sampled)


def study(candidate_zero: list[float], candidate_mean: list[float]) -> list[StudyRun]:
    """Two tasks, three seeds: PPO at 100, the reference at 90 (zero latent), a candidate with two deployed actions."""
    runs = []
    for task in ("A", "B"):
        for seed in (1, 2, 3):
            runs.append(run(task, "ppo", seed, {"zero": 100.0}))
            runs.append(run(task, "reference", seed, {"zero": 90.0}))
            runs.append(
                run(task, "candidate", seed, {"zero": candidate_zero[seed - 1], "mean16": candidate_mean[seed - 1]})
            )
    return runs


def test_a_candidate_qualifies_only_if_it_beats_the_reference_without_a_collapse() -> None:
    runs = study([95, 96, 30], [97, 98, 99])
    rows = {row["algorithm"]: row for row in study_rows(runs, "ppo", "reference [zero]", 3)}
    assert set(rows) == {"ppo", "reference [zero]", "candidate [zero]", "candidate [mean16]"}
    assert rows["candidate [mean16]"]["qualifies"]
    assert rows["candidate [mean16]"]["mean_ratio"] == pytest.approx(0.98)
    assert rows["candidate [zero]"]["collapses"] == 2, "seed 3 deploys 30 against a sampled 100 on both tasks"
    assert rows["candidate [zero]"]["lowest_deployed_over_sampled"] == pytest.approx(0.3)
    assert not rows["candidate [zero]"]["qualifies"]
    assert not rows["reference [zero]"]["qualifies"] and not rows["ppo"]["qualifies"]


def test_a_candidate_missing_on_a_task_does_not_qualify() -> None:
    runs = [r for r in study([95, 96, 97], [97, 98, 99]) if not (r.task == "B" and r.label == "candidate")]
    rows = {row["algorithm"]: row for row in study_rows(runs, "ppo", "reference [zero]", 3)}
    assert math.isnan(rows["candidate [mean16]"]["mean_ratio"]) and not rows["candidate [mean16]"]["qualifies"]


def test_a_screen_below_the_study_seeds_ranks_but_does_not_qualify() -> None:
    runs = [r for r in study([95, 96, 97], [97, 98, 99]) if not (r.label == "candidate" and r.seed == 3)]
    rows = {row["algorithm"]: row for row in study_rows(runs, "ppo", "reference [zero]", 3)}
    assert rows["candidate [mean16]"]["mean_ratio"] == pytest.approx(0.975)
    assert not rows["candidate [mean16]"]["qualifies"]
    assert {row["algorithm"]: row for row in study_rows(runs, "ppo", "reference [zero]", 2)}["candidate [mean16]"][
        "qualifies"
    ]


def test_recorded_runs_enter_under_the_spec_labels(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text(
        "task,algorithm,seed,final_return,deployed_return,stochastic_return\n"
        "Hopper-v5,ppo,1,1000,1400,1100\n"
        "Hopper-v5,genpo_recommended,1,1700,1900,1500\n"
        "Hopper-v5,genpo_log,1,900,1000,950\n"
        "Ant-v5,ppo,1,2000,2800,2200\n"
    )
    spec = CompareSpec(
        name="study", task="Hopper-v5", variants=(Variant("genpo_cap", "genpo"),), baseline="genpo_cap", seeds=(1,),
        num_envs=2, num_steps_per_env=2, iterations=1, device="cpu", overrides=(), log_root=tmp_path / "logs",
        output_dir=tmp_path / "out",
        recorded_runs=RecordedRuns(path, (("ppo", "ppo"), ("genpo_recommended_1202", "genpo_recommended"))),
    )
    runs = recorded_runs(spec)
    assert [(r.label, r.deployed, r.stochastic_return, r.recorded) for r in runs] == [
        ("ppo", {"zero": 1400.0}, 1100.0, True),
        ("genpo_recommended_1202", {"zero": 1900.0}, 1500.0, True),
    ]


def test_a_spec_with_recorded_runs_loads_hashable(tmp_path: pathlib.Path) -> None:
    """The sweep keys its resources by spec, so a spec that counts recorded runs must hash."""
    path = tmp_path / "study.yaml"
    path.write_text(
        "task: Hopper-v5\nalgorithms: [ppo]\nseeds: [1]\nnum_envs: 2\nnum_steps_per_env: 2\niterations: 1\n"
        "log_root: logs\noutput_dir: out\n"
        "recorded_runs: {path: runs.csv, labels: {genpo_recommended_1202: genpo_recommended}}\n"
    )
    spec = load_spec(path)
    assert dict.fromkeys([spec]) == {spec: None}
    assert spec.recorded_runs.labels == (("genpo_recommended_1202", "genpo_recommended"),)


def study_spec(tmp_path: pathlib.Path, recorded: RecordedRuns | None) -> CompareSpec:
    """A Hopper study of PPO and one GenPO candidate at seeds 1 and 2, counting ``recorded`` runs."""
    return CompareSpec(
        name="study", task="Hopper-v5", variants=(Variant("ppo", "ppo"), Variant("genpo_cap", "genpo")),
        baseline="ppo", seeds=(1, 2), num_envs=2, num_steps_per_env=2, iterations=1, device="cpu", overrides=(),
        log_root=tmp_path / "logs", output_dir=tmp_path / "out", recorded_runs=recorded,
    )


def test_a_study_recorded_in_its_own_runs_table_comes_back_with_every_deployed_action(tmp_path: pathlib.Path) -> None:
    """A study continued after its run folders were lost: its ``<prefix>_runs.csv`` stands in for them with every
    deployed action, the sampled policy, spread and sigma, and a run folder that finished again replaces its figure."""
    first = study_spec(tmp_path / "first", None)
    for label, seed, final in (("ppo", 1, 100.0), ("genpo_cap", 1, 80.0), ("genpo_cap", 2, 60.0)):
        run_dir = first.run_dir(first.variant(label), seed)
        run_dir.mkdir(parents=True)
        write_fake_run(run_dir, final, 0.5, 0.5)
        write_fake_evaluation(run_dir, {5: final}, stochastic=final + 10.0)
    scored = first.run_dir(first.variant("genpo_cap"), 1)
    zero = next(record for record in read_records(scored) if record.deploy == "zero")
    write_records(scored, [dataclasses.replace(zero, deploy="mean16", mean_return=70.0)])
    write_deploy_study([first], tmp_path / "study", ("zero", "mean16"), "ppo", "genpo_cap [zero]")
    recorded_path = tmp_path / "study_runs.csv"

    labels = (("ppo", "ppo"), ("genpo_cap", "genpo_cap"))
    continued = study_spec(tmp_path / "continued", RecordedRuns(recorded_path, labels))
    by_run = {(run.label, run.seed): run for run in recorded_runs(continued)}
    assert set(by_run) == {("ppo", 1), ("genpo_cap", 1), ("genpo_cap", 2)}
    assert by_run["genpo_cap", 1].deployed == {"zero": 80.0, "mean16": 70.0}
    assert by_run["genpo_cap", 2].deployed == {"zero": 60.0}, "an empty or NaN cell is no figure"
    assert by_run["genpo_cap", 1].stochastic_return == 90.0 and by_run["genpo_cap", 1].recorded

    again = continued.run_dir(continued.variant("genpo_cap"), 2)
    again.mkdir(parents=True)
    write_fake_run(again, 75.0, 0.5, 0.5)
    write_fake_evaluation(again, {5: 75.0}, stochastic=85.0)
    runs = {(run.label, run.seed): run for run in spec_runs(continued)}
    assert len(runs) == 3 and runs["genpo_cap", 2].deployed == {"zero": 75.0} and not runs["genpo_cap", 2].recorded
    assert runs["genpo_cap", 1].recorded and runs["ppo", 1].recorded


def test_a_recorded_file_of_another_kind_is_refused_with_the_columns_it_needs(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text("task,algorithm,seed,final_return_mean\nHopper-v5,ppo,1,100\n")
    with pytest.raises(ValueError, match="deployed_return.*deployed:<deployed action>"):
        recorded_runs(study_spec(tmp_path, RecordedRuns(path, (("ppo", "ppo"),))))
