"""What a sweep does with a run folder: skip a run that finished with the same configuration (so a changed preset
trains again), continue an attempt of the same configuration from its newest intact checkpoint, and start afresh
otherwise."""

from __future__ import annotations

import json
import os
import pathlib
import sys

import pytest
import torch

from test_report import write_spec

from genpo_ext.experiments.spec import load_spec
from genpo_ext.experiments.sweep import (
    ATTEMPTS_FILE,
    FINISHED,
    SKIPPED,
    STATUS_FILE,
    RunInterrupted,
    algo_changes,
    is_same_run,
    read_attempts,
    read_status,
    resume_command,
    train_command,
    train_run,
    trained_configuration,
)
from genpo_ext.presets import GENPO_PRESETS, preset_changes

RECOMMENDED_CHANGES = preset_changes(GENPO_PRESETS["genpo_recommended"])


def test_only_genpo_presets_with_changes_record_them():
    """The paper's GenPO and PPO change nothing; the recommended preset records its own changes."""
    assert algo_changes("genpo") == [] and algo_changes("ppo") == []
    assert algo_changes("genpo_recommended") == RECOMMENDED_CHANGES != []


def test_a_record_matches_on_command_and_preset_changes():
    """The interpreter may differ; the arguments and the preset's changes may not."""
    command = ["/usr/bin/python", "train.py", "--algo", "genpo_recommended"]
    record = {"command": ["/other/python", *command[1:]], "preset_changes": RECOMMENDED_CHANGES}
    assert is_same_run(record, command, RECOMMENDED_CHANGES)
    assert not is_same_run(record, [*command, "--seed", "2"], RECOMMENDED_CHANGES)
    assert not is_same_run(record, command, ["actor.noise_std_type=scalar"])
    older_record = {"command": command}
    assert is_same_run(older_record, command, [])
    assert not is_same_run(older_record, command, RECOMMENDED_CHANGES)


def test_a_preset_spelled_as_its_key_changes_is_the_same_run():
    """``--algo genpo_recommended`` trains what ``--algo genpo`` with the preset's changes as overrides trains."""
    by_name = ["python", "train.py", "--algo", "genpo_recommended", "--seed", "1"]
    by_keys = ["python", "train.py", "--algo", "genpo", "--seed", "1", *(f"agent.{c}" for c in RECOMMENDED_CHANGES)]
    record = {"command": by_name, "preset_changes": RECOMMENDED_CHANGES}
    assert is_same_run(record, by_keys, [])
    assert is_same_run({"command": by_keys, "preset_changes": []}, by_name, RECOMMENDED_CHANGES)
    assert not is_same_run(record, by_keys[:6], [])
    assert not is_same_run(record, [*by_keys, "agent.algorithm.compression_coef=0.1"], [])


def test_a_later_override_wins_and_the_run_folder_may_move():
    """Overrides are compared by key with the last value winning; ``--log_dir`` names where, not what, a run trains."""
    command = ["python", "train.py", "--algo", "genpo", "--log_dir", "logs/a", "agent.seed=1"]
    moved = ["python", "train.py", "--log_dir", "logs/b", "--algo", "genpo", "agent.seed=2", "agent.seed=1"]
    assert trained_configuration(moved, []) == ({"--algo": "genpo"}, {"agent.seed": "1"})
    assert is_same_run({"command": command}, moved, [])
    assert not is_same_run({"command": command}, [*moved, "agent.seed=3"], [])


def test_a_run_of_an_older_preset_trains_again_then_is_skipped(tmp_path):
    """A finished ``genpo_recommended`` run recorded without today's preset changes is stale: the sweep trains it."""
    fake_train = tmp_path / "train.py"
    fake_train.write_text("import sys\nsys.exit(0)\n")
    spec = load_spec(write_spec(tmp_path, algorithms=["genpo_recommended"], seeds=[1]))
    (variant,) = spec.variants
    run_dir = spec.run_dir(variant, 1)
    run_dir.mkdir(parents=True)
    command = train_command(spec, variant, 1, fake_train)
    (run_dir / STATUS_FILE).write_text(json.dumps({"command": command, "wall_time_s": 1.0}))
    reports = []
    assert train_run(spec, variant, 1, fake_train, reports.append).status == FINISHED
    assert reports[0] == "configuration or preset changed since the finished run, training again"
    assert read_status(run_dir)["preset_changes"] == RECOMMENDED_CHANGES
    assert train_run(spec, variant, 1, fake_train, reports.append).status == SKIPPED
    assert read_status(run_dir)["command"][0] == sys.executable


FAKE_TRAIN = """import pathlib, signal, os, sys
log_dir = pathlib.Path(sys.argv[sys.argv.index("--log_dir") + 1])
(log_dir / "argv.txt").write_text(" ".join(sys.argv[1:]))
for iteration in {saved}:
    (log_dir / f"model_{{iteration}}.pt").write_bytes(pathlib.Path({checkpoint!r}).read_bytes())
if {die}:
    os.kill(os.getpid(), signal.SIGKILL)
"""
"""A stand-in for ``scripts/train.py``: records its arguments, saves copies of an intact checkpoint for the given
iterations, then dies by SIGKILL or exits 0."""


def fake_train_script(folder, checkpoint, saved: list[int], die: bool):
    """Write :data:`FAKE_TRAIN` with its parameters into ``folder`` and return its path."""
    script = folder / f"train_{len(list(folder.glob('train_*.py')))}.py"
    script.write_text(FAKE_TRAIN.format(saved=saved, checkpoint=str(checkpoint), die=die))
    return script


@pytest.fixture
def intact_checkpoint(tmp_path):
    """An intact ``torch.save`` file to copy as checkpoints."""
    path = tmp_path / "intact.pt"
    torch.save({"iter": 0}, path)
    return path


@pytest.mark.parametrize(("task", "iterations_left"), [("HalfCheetah-v5", 4), ("Isaac-Ant-Direct", 5)])
def test_a_killed_attempt_is_continued_from_the_newest_intact_checkpoint(
    tmp_path, intact_checkpoint, task, iterations_left
):
    """An attempt killed after checkpoints 0 and 1 (1 cut short) raises :class:`RunInterrupted`; the next attempt
    names the broken checkpoint, continues from checkpoint 0 for the iterations left, and finishes the run with both
    attempts recorded. A gymnasium run continues after the checkpoint's iteration (1 to 4 of 5 are left); IsaacLab's
    train entry runs the checkpoint's iteration again (0 to 4)."""
    spec = load_spec(write_spec(tmp_path, task=task, algorithms=["ppo"], seeds=[1], iterations=5))
    (variant,) = spec.variants
    run_dir = spec.run_dir(variant, 1)
    dying = fake_train_script(tmp_path, intact_checkpoint, saved=[0, 1], die=True)
    reports = []
    with pytest.raises(RunInterrupted, match="killed by signal 9 in attempt 1"):
        train_run(spec, variant, 1, dying, reports.append)
    assert reports[-1].startswith("its training process was killed by signal 9 after")
    (run_dir / "model_1.pt").write_bytes(b"PK cut short")
    finishing = fake_train_script(tmp_path, intact_checkpoint, saved=[], die=False)
    outcome = train_run(spec, variant, 1, finishing, reports.append)
    assert outcome.status == FINISHED
    assert any(f"checkpoint {run_dir / 'model_1.pt'} is broken" in report for report in reports)
    assert reports[-1].startswith("continuing from model_0.pt (attempt 2), output in")
    argv = (run_dir / "argv.txt").read_text().split()
    assert argv[:3] == ["--resume", "--checkpoint", str(run_dir / "model_0.pt")]
    assert argv[argv.index("--max_iterations") + 1] == str(iterations_left)
    first, second = read_attempts(run_dir)["attempts"]
    assert (first["exit_status"], first["continued_from"]) == (-9, None)
    assert (second["exit_status"], second["continued_from"]) == (0, "model_0.pt")
    assert read_status(run_dir)["attempts"] == [first, second]


def test_an_attempt_of_another_configuration_starts_afresh(tmp_path, intact_checkpoint):
    """Checkpoints of an attempt that trained another configuration are not continued: the folder is emptied."""
    spec = load_spec(write_spec(tmp_path, algorithms=["ppo"], seeds=[1]))
    (variant,) = spec.variants
    run_dir = spec.run_dir(variant, 1)
    run_dir.mkdir(parents=True)
    (run_dir / "model_0.pt").write_bytes(intact_checkpoint.read_bytes())
    other = [*train_command(spec, variant, 1, tmp_path / "train.py"), "agent.algorithm.gamma=0.9"]
    (run_dir / ATTEMPTS_FILE).write_text(json.dumps({"command": other, "preset_changes": [], "attempts": []}))
    script = fake_train_script(tmp_path, intact_checkpoint, saved=[], die=False)
    assert train_run(spec, variant, 1, script, lambda text: None).status == FINISHED
    assert "--resume" not in (run_dir / "argv.txt").read_text()
    assert not (run_dir / "model_0.pt").exists()


def test_a_run_whose_last_checkpoint_is_intact_finishes_without_training(tmp_path, intact_checkpoint):
    """An attempt killed after its last checkpoint (before its status was written) has nothing left to train."""
    spec = load_spec(write_spec(tmp_path, algorithms=["ppo"], seeds=[1], iterations=2))
    (variant,) = spec.variants
    run_dir = spec.run_dir(variant, 1)
    with pytest.raises(RunInterrupted):
        train_run(spec, variant, 1, fake_train_script(tmp_path, intact_checkpoint, [0, 1], die=True), print)
    (run_dir / "argv.txt").unlink()
    assert train_run(spec, variant, 1, tmp_path / "no_such_script.py", print).status == FINISHED
    assert not (run_dir / "argv.txt").exists()


def test_a_resume_command_replaces_the_budget_and_keeps_the_configuration():
    """The command that continues a run differs from the run's own only in the resume flags and the budget."""
    command = ["python", "train.py", "--task", "Hopper-v5", "--max_iterations", "10", "--log_dir", "a", "agent.x=1"]
    resumed = resume_command(command, pathlib.Path("a/model_3.pt"), 6)
    assert resumed == ["python", "train.py", "--resume", "--checkpoint", "a/model_3.pt", "--task", "Hopper-v5",
                       "--max_iterations", "6", "--log_dir", "a", "agent.x=1"]  # fmt: skip


def test_an_attempt_whose_worker_died_ends_at_its_logs_last_write(tmp_path, intact_checkpoint):
    """An attempt recorded at its start only (its worker died with it) is continued, and its end becomes the last
    write of the run's log, so that the run's training time counts it."""
    spec = load_spec(write_spec(tmp_path, algorithms=["ppo"], seeds=[1], iterations=5))
    (variant,) = spec.variants
    run_dir = spec.run_dir(variant, 1)
    run_dir.mkdir(parents=True)
    (run_dir / "model_0.pt").write_bytes(intact_checkpoint.read_bytes())
    command = train_command(spec, variant, 1, tmp_path / "train.py")
    lost = {"host": "h", "start": 1000.0, "end": None, "exit_status": None, "continued_from": None}
    (run_dir / ATTEMPTS_FILE).write_text(json.dumps({"command": command, "preset_changes": [], "attempts": [lost]}))
    (run_dir / "train.log").write_text("output of the lost attempt\n")
    os.utime(run_dir / "train.log", (1060.0, 1060.0))
    script = fake_train_script(tmp_path, intact_checkpoint, saved=[], die=False)
    assert train_run(spec, variant, 1, script, lambda text: None).status == FINISHED
    first, second = read_status(run_dir)["attempts"]
    assert (first["end"], first["exit_status"]) == (1060.0, None)
    assert second["continued_from"] == "model_0.pt"
    assert read_status(run_dir)["wall_time_s"] == 60.0 + second["end"] - second["start"]
