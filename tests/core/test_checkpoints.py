"""Checkpoint selection: a save cut short (or damaged bytes) is recognised, skipped with a warning when the newest
checkpoint was not chosen explicitly, and an error naming the file when it was."""

from __future__ import annotations

import pathlib
import pytest
import torch
from checkpoint_files import resave_as_saved_on_gpu, truncate

from genpo_ext.checkpoints import (
    CheckpointError,
    checkpoint_problem,
    find_run_checkpoint,
    latest_run_dir,
    resolve_checkpoint,
    select_checkpoint,
)

CHECKPOINT_STATE = {"model_state_dict": {"weight": torch.arange(600.0).reshape(20, 30)}, "iter": 3, "infos": None}
"""A small stand-in for the dict rsl_rl's runners save."""

TRUNCATION_STEP = 37
"""Every this many bytes the checkpoint is cut in :func:`test_a_save_cut_short_anywhere_is_broken`."""


def save_checkpoint(path: pathlib.Path) -> pathlib.Path:
    """Write :data:`CHECKPOINT_STATE` with ``torch.save`` (creating the folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(CHECKPOINT_STATE, path)
    return path


def test_intact_checkpoints_pass_and_loadable_is_what_passes(tmp_path: pathlib.Path) -> None:
    path = save_checkpoint(tmp_path / "model_3.pt")
    assert checkpoint_problem(path) is None
    expected = CHECKPOINT_STATE["model_state_dict"]["weight"]
    torch.testing.assert_close(torch.load(path)["model_state_dict"]["weight"], expected)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU machine loads GPU checkpoints without a map_location")
def test_a_checkpoint_saved_on_a_gpu_needs_a_map_location_here(tmp_path: pathlib.Path) -> None:
    """The test helper that the resume and play tests use makes a checkpoint as a GPU run saves it."""
    path = resave_as_saved_on_gpu(save_checkpoint(tmp_path / "model_3.pt"))
    assert checkpoint_problem(path) is None
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        torch.load(path, weights_only=False)
    assert torch.load(path, weights_only=False, map_location="cpu")["iter"] == 3


def test_a_save_cut_short_anywhere_is_broken(tmp_path: pathlib.Path) -> None:
    data = save_checkpoint(tmp_path / "full.pt").read_bytes()
    cut = tmp_path / "cut.pt"
    for length in [*range(0, len(data), TRUNCATION_STEP), len(data) - 1]:
        cut.write_bytes(data[:length])
        assert checkpoint_problem(cut) is not None, f"cut at {length} of {len(data)} bytes"
        # what torch.load itself makes of it: not a message that says the save was cut short
        with pytest.raises((OSError, RuntimeError, EOFError)):
            torch.load(cut, weights_only=False)


def test_damaged_bytes_that_torch_load_accepts_are_broken(tmp_path: pathlib.Path) -> None:
    path = save_checkpoint(tmp_path / "model_1.pt")
    data = bytearray(path.read_bytes())
    weight_bytes = CHECKPOINT_STATE["model_state_dict"]["weight"].numpy().tobytes()
    data[bytes(data).index(weight_bytes) + len(weight_bytes) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    torch.load(path, weights_only=False)
    assert "CRC" in checkpoint_problem(path)


def test_checkpoints_saved_without_crcs_are_intact(tmp_path: pathlib.Path) -> None:
    serialization = pytest.importorskip("torch.utils.serialization")
    if not hasattr(serialization.config.save, "compute_crc32"):
        pytest.skip("this torch always records CRCs")
    serialization.config.save.compute_crc32 = False
    try:
        path = save_checkpoint(tmp_path / "model_1.pt")
    finally:
        serialization.config.save.compute_crc32 = True
    assert checkpoint_problem(path) is None


def test_other_files_are_not_checkpoints(tmp_path: pathlib.Path) -> None:
    empty = tmp_path / "empty.pt"
    empty.touch()
    assert "truncated" in checkpoint_problem(empty)
    assert "unreadable" in checkpoint_problem(tmp_path / "missing.pt")


def test_without_an_explicit_choice_the_newest_intact_checkpoint_is_taken(tmp_path: pathlib.Path) -> None:
    paths = [save_checkpoint(tmp_path / f"model_{iteration}.pt") for iteration in (9, 10, 100)]
    truncate(paths[2])
    skipped: list[str] = []
    assert select_checkpoint(paths, explicit=False, on_skip=skipped.append) == str(paths[1])
    assert len(skipped) == 1 and str(paths[2]) in skipped[0] and str(paths[1]) in skipped[0]


def test_an_explicitly_chosen_broken_checkpoint_is_an_error_naming_it(tmp_path: pathlib.Path) -> None:
    paths = [save_checkpoint(tmp_path / f"model_{iteration}.pt") for iteration in (1, 2)]
    truncate(paths[1])
    with pytest.raises(CheckpointError, match=f"Checkpoint {paths[1]} is broken"):
        select_checkpoint(paths, explicit=True)
    with pytest.raises(CheckpointError, match=f"Checkpoint {paths[1]} is broken"):
        resolve_checkpoint(None, str(paths[1]))
    with pytest.raises(CheckpointError, match=f"Checkpoint {paths[1]} is broken"):
        resolve_checkpoint(tmp_path, r"model_2\.pt")


def test_every_checkpoint_broken_is_an_error_listing_them(tmp_path: pathlib.Path, capsys) -> None:
    for iteration in (1, 2):
        truncate(save_checkpoint(tmp_path / f"model_{iteration}.pt"))
    with pytest.raises(CheckpointError, match="No intact checkpoint in .*: model_2.pt, model_1.pt are broken"):
        resolve_checkpoint(tmp_path)
    assert capsys.readouterr().err == "", "no fallback was taken, so nothing is reported as skipped"


def test_resolve_checkpoint_reads_the_run_folder_and_warns_on_stderr(tmp_path: pathlib.Path, capsys) -> None:
    save_checkpoint(tmp_path / "model_50.pt")
    truncate(save_checkpoint(tmp_path / "model_100.pt"))
    (tmp_path / "model_200.pt.tmp").touch()
    (tmp_path / "exported").mkdir()
    assert resolve_checkpoint(tmp_path) == str(tmp_path / "model_50.pt")
    (warning,) = capsys.readouterr().err.splitlines()
    assert warning.startswith("[WARNING] genpo_ext: checkpoint ") and "model_100.pt is broken (truncated" in warning
    with pytest.raises(CheckpointError, match=r"No checkpoint matching 'model_7' in .* Pick a file with"):
        resolve_checkpoint(tmp_path, "model_7")
    with pytest.raises(CheckpointError, match=r"--checkpoint '\[' is not a valid regex"):
        resolve_checkpoint(tmp_path, "[")
    with pytest.raises(CheckpointError, match="does not exist"):
        resolve_checkpoint(tmp_path / "missing")


def test_runs_are_selected_as_isaaclab_selects_them(tmp_path: pathlib.Path) -> None:
    for run in ("2024-01-01_10-00-00", "2024-01-02_10-00-00_fast", "2024-01-03_10-00-00"):
        save_checkpoint(tmp_path / run / "model_0.pt")
    assert latest_run_dir(tmp_path) == str(tmp_path / "2024-01-03_10-00-00")
    assert latest_run_dir(tmp_path, "2024-01-02") == str(tmp_path / "2024-01-02_10-00-00_fast")
    with pytest.raises(CheckpointError, match="No run folder matching '2025' in"):
        latest_run_dir(tmp_path, "2025")
    with pytest.raises(CheckpointError, match="No run folder matching"):
        latest_run_dir(tmp_path / "missing")
    expected = str(tmp_path / "2024-01-01_10-00-00" / "model_0.pt")
    assert find_run_checkpoint(tmp_path, load_run="2024-01-01") == expected
    assert find_run_checkpoint(None, run_dir=tmp_path / "2024-01-01_10-00-00") == expected
    assert find_run_checkpoint(None, checkpoint=expected) == expected
