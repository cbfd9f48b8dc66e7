"""Spec loading, log reading and the summary numbers, on hand-written tensorboard logs."""

from __future__ import annotations

import csv
import json
import pathlib

import numpy as np
import pytest
import yaml
from torch.utils.tensorboard import SummaryWriter

from genpo_ext.evaluation.records import (
    DEFAULT_EPISODES,
    DEFAULT_SEED,
    DETERMINISTIC,
    STOCHASTIC,
    EvalRecord,
    write_records,
)
from genpo_ext.experiments.benchmark import write_benchmark
from genpo_ext.experiments.logs import read_run_log
from genpo_ext.experiments.report import write_report
from genpo_ext.experiments.spec import SpecError, load_spec
from genpo_ext.experiments.sweep import STATUS_FILE

NUM_ITERATIONS = 6
FIRST_RETURN_ITERATION = 2
"""Like rsl_rl, the fake runs log no return before their first finished episode."""
TRAINING_EPISODE_LENGTH = 20.0
"""Mean training episode length the fake runs log at their first iteration; it grows by one per iteration."""


def write_spec(folder: pathlib.Path, **changes) -> pathlib.Path:
    """Write a valid spec (with ``changes`` applied; a None value drops the key) and return its path."""
    spec = {
        "task": "HalfCheetah-v5",
        "algorithms": ["ppo", "genpo"],
        "seeds": [1, 2],
        "num_envs": 4,
        "num_steps_per_env": 8,
        "iterations": NUM_ITERATIONS,
        "log_root": str(folder / "logs"),
        "output_dir": str(folder / "results"),
    }
    spec.update(changes)
    spec = {key: value for key, value in spec.items() if value is not None}
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def write_fake_run(
    run_dir: pathlib.Path, final_return: float, collection_s: float, learning_s: float, first_learning_s: float = None
) -> None:
    """Log what rsl_rl logs per iteration, with a return rising linearly to ``final_return``; mark it finished.

    ``first_learning_s`` replaces the first iteration's update time (a stall such as a kernel compilation).
    """
    writer = SummaryWriter(str(run_dir))
    for it in range(NUM_ITERATIONS):
        writer.add_scalar("Perf/collection_time", collection_s, it)
        writer.add_scalar("Perf/learning_time", first_learning_s if it == 0 and first_learning_s else learning_s, it)
        if it >= FIRST_RETURN_ITERATION:
            writer.add_scalar("Train/mean_reward", final_return * (it + 1) / NUM_ITERATIONS, it)
            writer.add_scalar("Train/mean_episode_length", TRAINING_EPISODE_LENGTH + it, it)
    writer.close()
    (run_dir / STATUS_FILE).write_text(json.dumps({"command": [], "wall_time_s": 1.0}))


def test_env_steps_round_up_to_whole_iterations(tmp_path):
    """A budget in env steps becomes the smallest number of iterations that covers it."""
    spec = load_spec(write_spec(tmp_path, iterations=None, env_steps=100))
    assert spec.iterations == 4  # ceil(100 / (4 * 8))
    assert spec.baseline == "ppo"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"iterations": None}, "exactly one of"),
        ({"env_steps": 10}, "exactly one of"),
        ({"seeds": None}, "missing keys"),
        ({"seed": [1]}, "unknown keys"),
        ({"baseline": "sac"}, "baseline 'sac'"),
        ({"algorithms": {"fast": {"algo": "sac"}}}, "must be one of genpo, genpo_recommended, ppo"),
    ],
)
def test_invalid_specs_name_the_problem(tmp_path, changes, message):
    """Spec mistakes fail at load time with a message naming the fix."""
    with pytest.raises(ValueError, match=message):
        load_spec(write_spec(tmp_path, **changes))


def test_every_algo_choice_is_a_valid_variant(tmp_path):
    """A spec compares any of ``scripts/train.py``'s ``--algo`` choices, the recommended GenPO preset included."""
    spec = load_spec(write_spec(tmp_path, algorithms=["ppo", "genpo", "genpo_recommended"]))
    assert [(variant.label, variant.algo) for variant in spec.variants] == [
        ("ppo", "ppo"),
        ("genpo", "genpo"),
        ("genpo_recommended", "genpo_recommended"),
    ]


def test_read_run_log_returns_the_logged_series(tmp_path):
    """Timings cover every iteration; returns start at the first finished episode."""
    write_fake_run(tmp_path, final_return=60.0, collection_s=0.5, learning_s=0.25)
    log = read_run_log(tmp_path)
    np.testing.assert_array_equal(log.iterations, np.arange(NUM_ITERATIONS))
    np.testing.assert_allclose(log.cumulative_time, 0.75 * np.arange(1, NUM_ITERATIONS + 1))
    np.testing.assert_array_equal(log.return_iterations, np.arange(FIRST_RETURN_ITERATION, NUM_ITERATIONS))
    assert log.returns[-1] == pytest.approx(60.0)


def test_read_run_log_rejects_a_folder_without_events(tmp_path):
    """A run folder without rsl_rl scalars is an error, not an empty curve."""
    with pytest.raises(FileNotFoundError, match="timing scalars"):
        read_run_log(tmp_path)


def test_summary_numbers_and_ratios(tmp_path):
    """Final-return statistics over seeds, throughput and GenPO/PPO ratios follow from the logged scalars."""
    spec = load_spec(write_spec(tmp_path))
    fake = {"ppo": {1: (100.0, 0.5, 0.5), 2: (200.0, 0.5, 0.5)}, "genpo": {1: (300.0, 0.5, 1.5), 2: (300.0, 0.5, 1.5)}}
    for label, seeds in fake.items():
        for seed, values in seeds.items():
            write_fake_run(spec.run_dir(spec.variant(label), seed), *values)
    rows = {row["algorithm"]: row for row in write_report(spec)[0]}
    assert rows["ppo"]["final_return_mean"] == pytest.approx(150.0)
    assert rows["ppo"]["final_return_std"] == pytest.approx(np.std([100.0, 200.0], ddof=1))
    assert rows["ppo"]["env_steps_per_s"] == pytest.approx(4 * 8 / 1.0)
    assert rows["genpo"]["return_ratio"] == pytest.approx(2.0)
    assert rows["genpo"]["time_per_iteration_ratio"] == pytest.approx(2.0)
    # threshold 0.9 x 150 = 135: genpo's runs pass it at iteration 2 (150); PPO's seed 1 never, seed 2 at iteration 4
    assert rows["ppo"]["return_threshold"] == pytest.approx(135.0)
    assert rows["genpo"]["env_steps_to_threshold"] == 3 * 4 * 8
    assert rows["genpo"]["seconds_to_threshold"] == pytest.approx(3 * 2.0)
    assert rows["ppo"]["runs_reaching_threshold"] == 1 and rows["ppo"]["env_steps_to_threshold"] == np.inf
    assert rows["genpo"]["final_return_iqm_low"] <= rows["genpo"]["final_return_iqm"] == pytest.approx(300.0)
    assert rows["genpo"]["deployed_seeds"] == 0 and np.isnan(rows["genpo"]["deployed_return_mean"])
    assert (spec.output_dir / "learning_curves.png").is_file()
    write_benchmark(list(rows.values()), tmp_path / "bench" / "benchmark")
    assert (tmp_path / "bench" / "benchmark.png").is_file()
    assert "| HalfCheetah-v5 | genpo |" in (tmp_path / "bench" / "benchmark.md").read_text()


def test_a_stalled_iteration_does_not_move_the_time_per_iteration(tmp_path):
    """Times are medians over iterations: a first iteration 100x slower (compilation, a pause) leaves them alone."""
    spec = load_spec(write_spec(tmp_path, algorithms=["ppo"], seeds=[1]))
    write_fake_run(spec.run_dir(spec.variant("ppo"), 1), 100.0, 0.5, 0.25, first_learning_s=25.0)
    (row,), _ = write_report(spec)
    assert row["s_per_iteration"] == pytest.approx(0.75)
    assert row["learning_s_per_iteration"] == pytest.approx(0.25)


def test_unfinished_runs_are_left_out(tmp_path):
    """A run without a status record (crashed or still running) does not enter the table."""
    spec = load_spec(write_spec(tmp_path))
    write_fake_run(spec.run_dir(spec.variant("ppo"), 1), 100.0, 0.5, 0.5)
    (spec.run_dir(spec.variant("ppo"), 1) / STATUS_FILE).unlink()
    write_fake_run(spec.run_dir(spec.variant("ppo"), 2), 200.0, 0.5, 0.5)
    rows, _ = write_report(spec)
    assert [(row["algorithm"], row["seeds"], row["final_return_mean"]) for row in rows] == [("ppo", 1, 200.0)]


def write_fake_evaluation(run_dir: pathlib.Path, deployed: dict[int, float], stochastic: float | None = None) -> None:
    """Give a fake run checkpoints and deterministic evaluations at ``{iteration: mean return}`` (episodes as long as
    a tenth of the return), and optionally a stochastic evaluation of the last of them."""
    for iteration in deployed:
        (run_dir / f"model_{iteration}.pt").write_bytes(b"")
    records = [
        EvalRecord(
            f"model_{it}.pt", it, DETERMINISTIC, DEFAULT_EPISODES, DEFAULT_SEED, value, 1.0, value, value, value / 10
        )
        for it, value in deployed.items()
    ]
    if stochastic is not None:
        last = max(deployed)
        records.append(
            EvalRecord(f"model_{last}.pt", last, STOCHASTIC, DEFAULT_EPISODES, DEFAULT_SEED, stochastic, 1.0,
                       stochastic, stochastic, 5.0)
        )
    write_records(run_dir, records)


def test_deployed_returns_come_from_the_last_evaluated_checkpoint(tmp_path):
    """The deployed columns, the per-run table and the deployed curve read each run's eval.csv; a run whose last
    checkpoint is not evaluated yet counts as not evaluated."""
    spec = load_spec(write_spec(tmp_path))
    for label in ("ppo", "genpo"):
        for seed in spec.seeds:
            write_fake_run(spec.run_dir(spec.variant(label), seed), 100.0 * seed, 0.5, 0.5)
    write_fake_evaluation(spec.run_dir(spec.variant("ppo"), 1), {0: 5.0, NUM_ITERATIONS - 1: 40.0}, stochastic=20.0)
    write_fake_evaluation(spec.run_dir(spec.variant("ppo"), 2), {0: 7.0, NUM_ITERATIONS - 1: 60.0}, stochastic=30.0)
    write_fake_evaluation(spec.run_dir(spec.variant("genpo"), 1), {0: 9.0, NUM_ITERATIONS - 1: 100.0})
    unevaluated = spec.run_dir(spec.variant("genpo"), 2)
    write_fake_evaluation(unevaluated, {0: 9.0}, stochastic=70.0)
    (unevaluated / f"model_{NUM_ITERATIONS - 1}.pt").write_bytes(b"")
    rows = {row["algorithm"]: row for row in write_report(spec)[0]}
    assert rows["ppo"]["deployed_return_mean"] == pytest.approx(50.0)
    assert rows["ppo"]["deployed_seeds"] == 2
    assert (rows["genpo"]["deployed_seeds"], rows["genpo"]["deployed_return_mean"]) == (1, pytest.approx(100.0))
    assert rows["genpo"]["deployed_return_ratio"] == pytest.approx(2.0)
    assert (rows["ppo"]["stochastic_seeds"], rows["ppo"]["stochastic_return_mean"]) == (2, pytest.approx(25.0))
    # genpo seed 2's stochastic record is of a checkpoint that is no longer the last one
    assert rows["genpo"]["stochastic_seeds"] == 0 and np.isnan(rows["genpo"]["stochastic_return_mean"])
    with open(spec.output_dir / "runs.csv") as file:
        runs = {(row["algorithm"], int(row["seed"])): row for row in csv.DictReader(file)}
    assert float(runs["ppo", 2]["deployed_return"]) == pytest.approx(60.0)
    assert np.isnan(float(runs["genpo", 2]["deployed_return"]))
    assert float(runs["ppo", 1]["stochastic_return"]) == pytest.approx(20.0)
    assert float(runs["ppo", 2]["deployed_episode_length"]) == pytest.approx(6.0)
    assert float(runs["genpo", 1]["final_episode_length"]) == TRAINING_EPISODE_LENGTH + NUM_ITERATIONS - 1
    assert (rows["ppo"]["deployed_episode_length_mean"], rows["genpo"]["deployed_episode_length_std"]) == (
        pytest.approx(5.0), 0.0
    )
    # the bootstrap means of the two seeds' lengths 4 and 6 span exactly [4, 6]
    assert (rows["ppo"]["deployed_episode_length_mean_low"], rows["ppo"]["deployed_episode_length_mean_high"]) == (
        pytest.approx(4.0), pytest.approx(6.0)
    )
    with open(spec.output_dir / "deployed.csv") as file:
        points = [row for row in csv.DictReader(file) if row["algorithm"] == "ppo" and row["seed"] == "1"]
    assert [int(row["env_steps"]) for row in points] == [4 * 8, NUM_ITERATIONS * 4 * 8]
    lengths = [float(row["deployed_episode_length"]) for row in points]
    assert lengths == pytest.approx([0.5, 4.0]), "episodes as long as a tenth of each return"
    assert (spec.output_dir / "deployed_curves.png").stat().st_size > 0
    markdown = (spec.output_dir / "summary.md").read_text()
    assert "| HalfCheetah-v5 | genpo | 2 (1 evaluated) | 100.0 ± 0.0 |" in markdown
    assert markdown.count("| 25.0 ± 7.1 |") == 1 and "| not evaluated |" in markdown
    assert "| HalfCheetah-v5 | ppo | 5.0 ± 1.4 | 5.0 [4.0, 6.0] | 25.0 ± 0.0 | 25.0 [25.0, 25.0] |" in markdown, (
        "deployed and training episode lengths"
    )


TRACKING_TAG = "Episode_Reward/track_lin_vel_xy_exp"
"""A task-specific scalar that IsaacLab's velocity tasks log, as the fake runs below log it."""


def test_the_spec_metrics_are_tabled_at_each_runs_last_iteration(tmp_path, capsys):
    """Each metric of the spec gets summary columns (mean ± std over seeds), a runs.csv column and a summary.md table;
    a tag no run logged is named, with the logged tags that resemble it."""
    spec = load_spec(write_spec(tmp_path, metrics=[TRACKING_TAG, "Episode_Reward/track_lin_vel"]))
    for label, finals in (("ppo", {1: 0.2, 2: 0.4}), ("genpo", {1: 0.1})):
        for seed, final in finals.items():
            run_dir = spec.run_dir(spec.variant(label), seed)
            write_fake_run(run_dir, 100.0, 0.5, 0.5)
            writer = SummaryWriter(str(run_dir))
            for it in range(NUM_ITERATIONS):
                writer.add_scalar(TRACKING_TAG, final * (it + 1) / NUM_ITERATIONS, it)
            writer.close()
    rows = {row["algorithm"]: row for row in write_report(spec)[0]}
    assert rows["ppo"][f"{TRACKING_TAG}_mean"] == pytest.approx(0.3)
    assert rows["ppo"][f"{TRACKING_TAG}_std"] == pytest.approx(np.std([0.2, 0.4], ddof=1))
    assert rows["genpo"][f"{TRACKING_TAG}_mean"] == pytest.approx(0.1)
    assert np.isnan(rows["genpo"]["Episode_Reward/track_lin_vel_mean"])
    with open(spec.output_dir / "runs.csv") as file:
        runs = {(row["algorithm"], int(row["seed"])): float(row[TRACKING_TAG]) for row in csv.DictReader(file)}
    assert runs == pytest.approx({("ppo", 1): 0.2, ("ppo", 2): 0.4, ("genpo", 1): 0.1})
    markdown = (spec.output_dir / "summary.md").read_text()
    assert f"| task | algorithm | {TRACKING_TAG} | Episode_Reward/track_lin_vel |" in markdown
    assert "| HalfCheetah-v5 | ppo | 0.3 ± 0.14 | not logged |" in markdown
    missing = f"no run logged the metric 'Episode_Reward/track_lin_vel'; close tags: {TRACKING_TAG}"
    assert missing in capsys.readouterr().out


@pytest.mark.parametrize("metrics", ["Episode_Reward/track_lin_vel_xy_exp", [TRACKING_TAG, TRACKING_TAG], [""], [3]])
def test_a_spec_rejects_metrics_that_are_no_list_of_distinct_tags(tmp_path, metrics):
    with pytest.raises(SpecError, match="'metrics' must be a list of distinct TensorBoard tags"):
        load_spec(write_spec(tmp_path, metrics=metrics))


def test_a_table_without_the_baselines_runs_says_so_instead_of_nan(tmp_path):
    """Ratios to a baseline with no finished runs read ``n/a`` in summary.md, with one sentence saying why."""
    spec = load_spec(write_spec(tmp_path, baseline="ppo"))
    for seed in spec.seeds:
        write_fake_run(spec.run_dir(spec.variant("genpo"), seed), 100.0 * seed, 0.5, 0.5)
    (row,), _ = write_report(spec)
    assert np.isnan(row["return_ratio"])
    markdown = (spec.output_dir / "summary.md").read_text()
    assert "No run of ppo is in this table: no ratios." in markdown
    assert "nan" not in markdown and "| n/a |" in markdown


def test_return_ratios_to_a_negative_baseline_return_read_n_a(tmp_path):
    """A ratio to a negative return inverts the ranking (-2 / -20 = 0.1 for the better run), so the return ratios to
    a baseline whose mean return is negative are undefined and summary.md says why; time ratios stay."""
    spec = load_spec(write_spec(tmp_path, baseline="ppo"))
    for label, final_return in (("ppo", -20.0), ("genpo", -2.0)):
        for seed in spec.seeds:
            write_fake_run(spec.run_dir(spec.variant(label), seed), final_return, 0.5, 0.5)
    rows = {row["algorithm"]: row for row in write_report(spec)[0]}
    assert np.isnan(rows["genpo"]["return_ratio"]) and np.isnan(rows["ppo"]["return_ratio"])
    assert rows["genpo"]["time_per_iteration_ratio"] == pytest.approx(1.0)
    markdown = (spec.output_dir / "summary.md").read_text()
    assert "Return ratios to a non-positive mean return of ppo read n/a" in markdown
    assert "0.10" not in markdown
