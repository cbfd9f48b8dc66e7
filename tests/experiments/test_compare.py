"""``scripts/compare.py`` end to end on a tiny gymnasium sweep with the sequential backend (``--backend local``), run
as a subprocess: training, skipping, crashes, the deployed-policy evaluation of every finished run, and the report.
``test_compare_ray.py`` runs the Ray backend."""

from __future__ import annotations

import csv
import math
import pathlib
import subprocess
import sys

import pytest
import yaml

from genpo_ext.evaluation.records import read_records

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
COMPARE_SCRIPT = REPO_ROOT / "scripts" / "compare.py"
SEEDS = [1, 2]


def compare(spec_path: pathlib.Path, *extra: str) -> subprocess.CompletedProcess:
    """Run compare.py on ``spec_path`` from the spec's folder, one run after another in its process."""
    return subprocess.run(
        [sys.executable, str(COMPARE_SCRIPT), str(spec_path), "--backend", "local", *extra],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=spec_path.parent,
    )


def write_tiny_spec(folder: pathlib.Path, **changes) -> pathlib.Path:
    """Write a spec of PPO and GenPO on HalfCheetah, 2 seeds x 2 iterations of 4 envs x 8 steps with five-step
    episodes (so that returns are logged within two iterations), with ``changes`` applied; return its path."""
    spec = {
        "name": "tiny HalfCheetah",
        "task": "HalfCheetah-v5",
        "algorithms": ["ppo", "genpo"],
        "seeds": SEEDS,
        "num_envs": 4,
        "num_steps_per_env": 8,
        "iterations": 2,
        "device": "cpu",
        "overrides": ["env.num_workers=0", "env.make_kwargs.max_episode_steps=5"],
        "log_root": "logs",
        "output_dir": "results",
        "eval_episodes": 2,
        **changes,
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> tuple[pathlib.Path, subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """A 2-algorithm x 2-seed x 2-iteration sweep plus a variant that crashes, run twice."""
    folder = tmp_path_factory.mktemp("sweep")
    algorithms = {
        "ppo": {"algo": "ppo"},
        # a valid key with a value that only the run itself rejects, after the spec passed its checks
        "broken": {"algo": "ppo", "overrides": ["agent.actor.activation=no_such_activation"]},
        "genpo": {"algo": "genpo"},
    }
    spec_path = write_tiny_spec(folder, algorithms=algorithms)
    first = compare(spec_path)
    status_times = {path: path.stat().st_mtime_ns for path in (folder / "logs").rglob("compare_status.json")}
    second = compare(spec_path)
    for path, mtime in status_times.items():
        assert path.stat().st_mtime_ns == mtime, f"{path} was trained again"
    return folder, first, second


def test_crashed_runs_are_reported_and_the_sweep_goes_on(sweep):
    """The broken variant fails for every seed, the others finish, and the exit code flags the failure."""
    folder, first, _ = sweep
    assert first.returncode == 1
    assert first.stdout.count("FAILED: broken seed") == len(SEEDS)
    assert first.stdout.count(" finished in ") == 2 * len(SEEDS)
    assert "Invalid activation function" in (folder / "logs" / "broken" / "seed_1" / "train.log").read_text()


def test_second_call_skips_finished_runs_and_retries_failed_ones(sweep):
    """Resuming trains nothing that finished; only the failed runs are tried again."""
    _, _, second = sweep
    assert second.stdout.count("finished earlier, skipped") == 2 * len(SEEDS)
    assert second.stdout.count("FAILED: broken seed") == len(SEEDS)


def test_report_has_plot_and_table_rows_for_finished_algorithms(sweep):
    """The PNG and the tables exist; rows cover the finished algorithms with finite numbers, and ratios wherever the
    baseline's mean is positive."""
    folder, _, _ = sweep
    results = folder / "results"
    assert (results / "learning_curves.png").stat().st_size > 0
    with open(results / "summary.csv") as file:
        rows = {row["algorithm"]: row for row in csv.DictReader(file)}
    assert set(rows) == {"ppo", "genpo"}
    for row in rows.values():
        assert int(row["seeds"]) == len(SEEDS)
        assert int(row["env_steps"]) == 2 * 4 * 8
        for key in ("final_return_mean", "env_steps_per_s", "s_per_iteration", "time_per_iteration_ratio"):
            assert math.isfinite(float(row[key])), key
    # the baseline's ratio to itself: 1, or undefined where its mean return is not positive (two iterations often end
    # below zero)
    expected_return_ratio = 1.0 if float(rows["ppo"]["final_return_mean"]) > 0 else math.nan
    assert float(rows["ppo"]["return_ratio"]) == pytest.approx(expected_return_ratio, nan_ok=True)
    assert float(rows["ppo"]["time_per_iteration_ratio"]) == pytest.approx(1.0)
    markdown = (results / "summary.md").read_text()
    assert "| genpo |" in markdown and "| ppo |" in markdown


EXPECTED_RECORDS = [
    ("model_0.pt", "deterministic", 2),
    ("model_1.pt", "deterministic", 2),
    ("model_1.pt", "stochastic", 2),
]
"""(checkpoint, policy, episodes) of every evaluation of a finished run of the sweep below."""


def test_every_finished_run_is_evaluated_once(sweep):
    """Each finished run's checkpoints are evaluated right after it trains (the last one also with the stochastic
    policy); the second call evaluates nothing."""
    folder, first, second = sweep
    for status in (folder / "logs").rglob("compare_status.json"):
        records = read_records(status.parent)
        assert [(r.checkpoint, r.policy, r.episodes) for r in records] == EXPECTED_RECORDS, status.parent
    assert first.stdout.count("evaluating 2 checkpoint(s)") == 2 * len(SEEDS)
    assert "evaluating" not in second.stdout


def test_the_report_has_deployed_returns_and_curves(sweep):
    folder, _, _ = sweep
    results = folder / "results"
    with open(results / "summary.csv") as file:
        rows = {row["algorithm"]: row for row in csv.DictReader(file)}
    for row in rows.values():
        assert int(row["deployed_seeds"]) == int(row["stochastic_seeds"]) == len(SEEDS)
        assert math.isfinite(float(row["deployed_return_mean"]))
        assert math.isfinite(float(row["stochastic_return_mean"]))
    assert (results / "deployed_curves.png").stat().st_size > 0
    with open(results / "runs.csv") as file:
        assert len(list(csv.DictReader(file))) == 2 * len(SEEDS)


def test_report_only_evaluates_an_unevaluated_run_without_training(sweep):
    """A run trained before evaluation existed (no eval.csv) is evaluated by --report_only, and nothing trains."""
    folder, _, _ = sweep
    run_dir = folder / "logs" / "genpo" / "seed_2"
    (run_dir / "eval.csv").unlink()
    status_time = (run_dir / "compare_status.json").stat().st_mtime_ns
    result = compare(folder / "spec.yaml", "--report_only")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("evaluating 2 checkpoint(s)") == 1
    assert f"evaluating 2 checkpoint(s) of {run_dir}" in result.stdout
    assert len(read_records(run_dir)) == len(EXPECTED_RECORDS)
    assert (run_dir / "compare_status.json").stat().st_mtime_ns == status_time
    assert "training" not in result.stdout
