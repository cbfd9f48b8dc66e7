"""The run archive of a spec (``archive_dir``): which files it keeps of a finished run, that archiving again writes
nothing, that a run is restored only where the log folder holds no finished run, and, end to end through
``scripts/compare.py``, that a sweep whose log folder was lost restores its runs and reports the same figures without
training or evaluating anything."""

from __future__ import annotations

import csv
import json
import pathlib

import pytest

from genpo_ext.experiments.run_archive import archive_run, archived_files, restore_run
from genpo_ext.experiments.spec import SpecError, load_spec
from genpo_ext.experiments.sweep import STATUS_FILE

from test_compare import compare, write_tiny_spec

KEPT = [
    "compare_status.json",
    "compare_attempts.json",
    "eval.csv",
    "params/agent.yaml",
    "params/env.yaml",
    "events.out.tfevents.1.host",
    "model_20.pt",
]
"""Files of the fake run folder below that an archive keeps, in the order :func:`archived_files` gives them."""

LEFT_OUT = ["train.log", "eval.log", "model_0.pt", "model_10.pt", "git/genpo_ext.diff"]
"""Files of the same folder that it leaves out: training output and every checkpoint but the newest."""


def make_run(run_dir: pathlib.Path, finished: bool = True) -> pathlib.Path:
    """Write a fake run folder holding every kind of file a trained run has; each file's text is its name."""
    names = KEPT + LEFT_OUT if finished else [name for name in KEPT + LEFT_OUT if name != STATUS_FILE]
    for name in names:
        path = run_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    return run_dir


def files_under(folder: pathlib.Path) -> set[str]:
    """Return the files under a folder, as paths relative to it."""
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


def test_the_archive_keeps_records_configs_logs_and_the_newest_checkpoint_only(tmp_path):
    run_dir = make_run(tmp_path / "run")
    assert [path.as_posix() for path in archived_files(run_dir)] == KEPT
    written = archive_run(run_dir, tmp_path / "archive")
    assert [path.as_posix() for path in written] == KEPT
    assert files_under(tmp_path / "archive") == set(KEPT)
    assert (tmp_path / "archive" / "model_20.pt").read_text() == "model_20.pt"


def test_archiving_again_writes_only_what_changed_and_drops_what_the_run_no_longer_gives(tmp_path):
    run_dir, archive = make_run(tmp_path / "run"), tmp_path / "archive"
    archive_run(run_dir, archive)
    assert archive_run(run_dir, archive) == []
    # the run was trained on: a newer checkpoint and more evaluation records
    (run_dir / "model_30.pt").write_text("model_30.pt")
    (run_dir / "eval.csv").write_text("more records")
    written = archive_run(run_dir, archive)
    assert sorted(path.as_posix() for path in written) == ["eval.csv", "model_30.pt"]
    assert not (archive / "model_20.pt").exists()
    assert (archive / "eval.csv").read_text() == "more records"


def test_an_unfinished_run_is_not_archived(tmp_path):
    with pytest.raises(ValueError, match="only a finished run is archived"):
        archive_run(make_run(tmp_path / "run", finished=False), tmp_path / "archive")
    assert not (tmp_path / "archive").exists()


def test_a_run_is_restored_into_a_missing_folder_or_over_an_unfinished_attempt(tmp_path):
    archive = tmp_path / "archive"
    archive_run(make_run(tmp_path / "run"), archive)
    assert restore_run(archive, tmp_path / "lost" / "seed_1")
    assert files_under(tmp_path / "lost" / "seed_1") == set(KEPT)
    attempt = make_run(tmp_path / "attempt", finished=False)
    assert restore_run(archive, attempt)
    assert files_under(attempt) == set(KEPT)


def test_a_finished_run_is_never_overwritten_and_an_absent_archive_restores_nothing(tmp_path):
    archive = tmp_path / "archive"
    archive_run(make_run(tmp_path / "run"), archive)
    finished = make_run(tmp_path / "finished")
    (finished / "eval.csv").write_text("this machine's records")
    assert not restore_run(archive, finished)
    assert (finished / "eval.csv").read_text() == "this machine's records"
    assert not restore_run(tmp_path / "no_archive", tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("value", [3, "", ["results/runs"]])
def test_a_spec_rejects_an_archive_dir_that_is_no_folder_path(tmp_path, value):
    with pytest.raises(SpecError, match="'archive_dir' must be a folder path"):
        load_spec(write_tiny_spec(tmp_path, archive_dir=value))


def read_report(results: pathlib.Path) -> dict[str, list[dict]]:
    """Return the rows of a report's per-run tables: final figures (``runs.csv``) and deployed curves
    (``deployed.csv``)."""
    report = {}
    for name in ("runs.csv", "deployed.csv"):
        with open(results / name) as file:
            report[name] = list(csv.DictReader(file))
    return report


@pytest.fixture(scope="module")
def lost_logs(tmp_path_factory):
    """A 2-algorithm, 1-seed, 2-iteration sweep with an archive; its log folder is then deleted and the sweep run
    again, with the report of the first call kept aside."""
    folder = tmp_path_factory.mktemp("archived_sweep")
    spec_path = write_tiny_spec(folder, name="tiny HalfCheetah, archived", seeds=[1], archive_dir="archive")
    first = compare(spec_path)
    first_report = read_report(folder / "results")
    for path in (folder / "logs").rglob("*"):
        if path.is_file():
            path.unlink()
    second = compare(spec_path)
    return folder, first, first_report, second


def test_compare_archives_each_run_once_it_is_trained_and_evaluated(lost_logs):
    folder, first, _, _ = lost_logs
    assert first.returncode == 0, first.stdout + first.stderr
    for label in ("ppo", "genpo"):
        archived = folder / "archive" / label / "seed_1"
        assert f"{label} seed 1: archived" in first.stdout
        assert json.loads((archived / STATUS_FILE).read_text())["wall_time_s"] > 0
        assert sorted(path.name for path in archived.glob("model_*.pt")) == ["model_1.pt"]
        assert list(archived.glob("events.out.tfevents.*")) and (archived / "eval.csv").is_file()
        assert not (archived / "train.log").exists()


def test_a_lost_log_folder_is_restored_and_reported_without_training_or_evaluating(lost_logs):
    folder, _, first_report, second = lost_logs
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.count("restored from") == 2
    assert second.stdout.count("finished earlier, skipped") == 2
    assert "evaluating" not in second.stdout and "training, output in" not in second.stdout
    assert ": archived" not in second.stdout  # the restored runs are what the archive holds
    assert read_report(folder / "results") == first_report
    assert len(first_report["deployed.csv"]) == 2 * 2  # both checkpoints of both runs, though one is gone
