"""Checkpoint files as a run can leave them: cut short by a kill or a full disk, or saved on a GPU."""

from __future__ import annotations

import pathlib
from unittest import mock

import torch

SAVING_GPU = "cuda:0"
"""Device tag written into a checkpoint by :func:`resave_as_saved_on_gpu`."""


def truncate(path: pathlib.Path, fraction: float = 0.5) -> pathlib.Path:
    """Cut a file to a fraction of its length, as a kill or a full disk during ``torch.save`` leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def resave_as_saved_on_gpu(path: pathlib.Path) -> pathlib.Path:
    """Rewrite a checkpoint so that its tensors are tagged with :data:`SAVING_GPU`, exactly as ``torch.save`` tags
    tensors that live on that GPU: on a machine without it, ``torch.load`` then needs a ``map_location``."""
    state = torch.load(path, weights_only=False, map_location="cpu")
    with mock.patch("torch.serialization.location_tag", lambda storage: SAVING_GPU):
        torch.save(state, path)
    return path
