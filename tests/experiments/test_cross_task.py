"""The cross-task ranking: return / baseline per task, its mean over tasks, the interquartile mean over runs and the
probability of improvement, with confidence intervals, for the deployed and the training policy."""

from __future__ import annotations

import csv
import importlib.util
import math
import pathlib

import numpy as np
import pytest
from test_report import write_fake_run, write_spec

from genpo_ext.experiments.cross_task import check_rankable, cross_task_markdown, cross_task_rows, write_cross_task
from genpo_ext.experiments.report import write_report
from genpo_ext.experiments.spec import load_spec

COMPARE_SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "compare.py"

RETURNS = {
    "Walker": {"ppo": {1: 100.0, 2: 300.0}, "flow": {1: 100.0, 2: 200.0, 3: 300.0, 4: 1000.0}},
    "Runner": {"ppo": {1: 50.0, 2: 50.0}, "flow": {1: 0.0, 2: 25.0, 3: 50.0, 4: 75.0}, "solo": {1: 10.0}},
}
"""Final returns by task, label and seed; PPO's means are 200 (Walker) and 50 (Runner)."""


def test_ratios_mean_over_tasks_and_interquartile_mean():
    """Each task divides by its own baseline mean; the IQM drops the outer quarter of the eight per-run ratios."""
    rows = {row["algorithm"]: row for row in cross_task_rows(RETURNS, "ppo")}
    flow = rows["flow"]
    assert flow["Walker:return_ratio"] == pytest.approx(400.0 / 200.0)
    assert flow["Runner:return_ratio"] == pytest.approx(37.5 / 50.0)
    assert flow["mean_ratio"] == pytest.approx((2.0 + 0.75) / 2)
    run_ratios = sorted([0.5, 1.0, 1.5, 5.0, 0.0, 0.5, 1.0, 1.5])
    assert flow["iqm_ratio"] == pytest.approx(np.mean(run_ratios[2:-2]))
    assert flow["runs"] == 8
    assert flow["Walker:final_return_std"] == pytest.approx(np.std([100.0, 200.0, 300.0, 1000.0], ddof=1))
    assert rows["ppo"]["mean_ratio"] == pytest.approx(1.0)
    for name in ("mean_ratio", "iqm_ratio", "p_improvement"):
        assert flow[f"{name}_low"] <= flow[name] <= flow[f"{name}_high"], name


def test_probability_of_improvement_against_the_baseline():
    """P(run > baseline run) per task, averaged: the baseline against itself is one half; a configuration whose
    every run beats every baseline run on every task scores one."""
    returns = {
        "Walker": {"ppo": {1: 100.0, 2: 300.0}, "better": {1: 400.0, 2: 500.0}},
        "Runner": {"ppo": {1: 50.0, 2: 60.0}, "better": {1: 70.0, 2: 80.0}},
    }
    rows = {row["algorithm"]: row for row in cross_task_rows(returns, "ppo")}
    assert rows["ppo"]["p_improvement"] == pytest.approx(0.5)
    assert rows["better"]["p_improvement"] == pytest.approx(1.0)
    assert rows["better"]["p_improvement_low"] == pytest.approx(1.0)


def test_a_label_missing_on_a_task_is_not_ranked():
    """A configuration without runs on every task gets its per-task figures but no cross-task figure."""
    rows = cross_task_rows(RETURNS, "ppo")
    solo = next(row for row in rows if row["algorithm"] == "solo")
    assert solo["Walker:seeds"] == 0 and solo["Runner:return_ratio"] == pytest.approx(0.2)
    assert math.isnan(solo["mean_ratio"]) and math.isnan(solo["iqm_ratio"])
    table = cross_task_markdown(rows, list(RETURNS), "ppo")
    assert "| solo | not run | 10 ± 0 (0.20, 1 seed) |  |  |  |" in table
    assert "| flow | 400 ± 408 (2.00) | 38 ± 32 (0.75) | 1.38 [" in table


def test_a_task_without_a_baseline_run_is_an_error():
    """Nothing to divide by is reported with the labels that do have runs."""
    with pytest.raises(ValueError, match=r"Runner: no finished 'ppo' run.*\['flow'\]"):
        cross_task_rows({"Runner": {"flow": {1: 1.0}}}, "ppo")


def _spec_in(folder: pathlib.Path, **changes):
    """A spec written into its own folder (``write_spec`` names the file spec.yaml)."""
    folder.mkdir(parents=True, exist_ok=True)
    return load_spec(write_spec(folder, **changes))


def test_specs_that_cannot_be_ranked_together_are_rejected(tmp_path):
    """Two baselines, or one label of a task in two log roots, would mix runs that do not belong together."""
    first = _spec_in(tmp_path / "a")
    assert check_rankable([first, _spec_in(tmp_path / "b", task="Ant-v5")]) == "ppo"
    with pytest.raises(ValueError, match=r"one baseline label.*\['genpo', 'ppo'\]"):
        check_rankable([first, _spec_in(tmp_path / "c", task="Ant-v5", baseline="genpo")])
    with pytest.raises(ValueError, match="HalfCheetah-v5 'ppo' names runs in both"):
        check_rankable([first, _spec_in(tmp_path / "d")])


def test_write_cross_task_merges_specs_by_task(tmp_path):
    """Specs of one task that share a log root pool their labels; each task is a column of the written table."""
    cheetah = _spec_in(tmp_path / "cheetah", algorithms=["ppo", "genpo"])
    more_variants = {"ppo": {"algo": "ppo"}, "genpo_log": {"algo": "genpo"}}
    cheetah_more = _spec_in(tmp_path / "cheetah_more", algorithms=more_variants, log_root=str(cheetah.log_root))
    ant = _spec_in(tmp_path / "ant", task="Ant-v5", algorithms=["ppo", "genpo"])
    finals = {(cheetah, "ppo"): 100.0, (cheetah, "genpo"): 50.0, (cheetah_more, "genpo_log"): 150.0}
    finals |= {(ant, "ppo"): 10.0, (ant, "genpo"): 20.0}
    for (spec, label), final in finals.items():
        for seed in spec.seeds:
            write_fake_run(spec.run_dir(spec.variant(label), seed), final, collection_s=0.5, learning_s=0.5)
    reports = [(spec, write_report(spec)[1]) for spec in (cheetah, cheetah_more, ant)]
    rows = write_cross_task(reports, tmp_path / "out" / "ranking")
    by_label = {row["algorithm"]: row for row in rows}
    assert list(by_label) == ["ppo", "genpo", "genpo_log"]
    assert by_label["genpo"]["training:mean_ratio"] == pytest.approx((0.5 + 2.0) / 2)
    assert by_label["genpo_log"]["training:HalfCheetah-v5:return_ratio"] == pytest.approx(1.5)
    assert math.isnan(by_label["genpo_log"]["training:mean_ratio"])
    assert not any(key.startswith("deployed:") for key in by_label["genpo"]), "no run was evaluated"
    with open(tmp_path / "out" / "ranking.csv") as file:
        assert [row["algorithm"] for row in csv.DictReader(file)] == ["ppo", "genpo", "genpo_log"]
    assert "| algorithm | HalfCheetah-v5 | Ant-v5 |" in (tmp_path / "out" / "ranking.md").read_text()


def test_compare_rejects_unrankable_specs_before_training(tmp_path, capsys):
    """``--cross_task`` checks the specs first, so a long sweep does not end in a ranking error."""
    module_spec = importlib.util.spec_from_file_location("compare_script", COMPARE_SCRIPT)
    compare = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(compare)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    paths = [str(write_spec(tmp_path / name, name=f"spec {name}")) for name in ("a", "b")]
    assert compare.main([*paths, "--cross_task", str(tmp_path / "ranking"), "--backend", "local"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("[ERROR] compare: --cross_task: HalfCheetah-v5 'ppo' names runs in both")
    assert not (tmp_path / "a" / "logs").exists()
