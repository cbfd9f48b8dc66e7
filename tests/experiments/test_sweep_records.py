"""Which finished runs a sweep skips: those that trained the same configuration, so a changed preset trains again."""

from __future__ import annotations

import json
import sys

from test_report import write_spec

from genpo_ext.experiments.spec import load_spec
from genpo_ext.experiments.sweep import (
    STATUS_FILE,
    algo_changes,
    is_same_run,
    read_status,
    run_sweep,
    train_command,
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
    (outcome,) = run_sweep(spec, fake_train)
    assert outcome.status == "finished"
    assert read_status(run_dir)["preset_changes"] == RECOMMENDED_CHANGES
    (outcome,) = run_sweep(spec, fake_train)
    assert outcome.status == "skipped"
    assert read_status(run_dir)["command"][0] == sys.executable
