"""Run ``scripts/compare.py`` with another training script in place of ``scripts/train.py``.

Usage: ``python compare_with_train_script.py <training script> <compare.py arguments>``. The tests use it to train
through :mod:`killing_train`, whose first attempt at one run dies the way a killed process dies.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys

COMPARE_SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "compare.py"
"""The script that runs, with its training script replaced."""

if __name__ == "__main__":
    spec = importlib.util.spec_from_file_location("compare", COMPARE_SCRIPT)
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    compare.TRAIN_SCRIPT = pathlib.Path(sys.argv[1]).resolve()
    sys.exit(compare.main(sys.argv[2:]))
