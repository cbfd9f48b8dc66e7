"""Print each run's median time per iteration, its ratio to a baseline run and its final training return.

Usage: ``python -m genpo_ext.experiments.run_summary <label>=<run folder> ... [--baseline <label>=<run folder>]``;
the figures come from rsl_rl's tensorboard events, so any run of ``scripts/train.py`` (or IsaacLab's own train) can
be read.
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np

from genpo_ext.experiments.logs import read_run_log


def summary_line(label: str, run_dir: pathlib.Path, baseline: tuple[str, float] | None) -> tuple[str, float]:
    """Return a run's summary line and its median seconds per iteration (rollout + update).

    Args:
        label: Name of the run in the line.
        run_dir: The run folder.
        baseline: Label and median seconds per iteration of the run the time ratio divides by; None for no ratio.
    """
    log = read_run_log(run_dir)
    seconds = float(np.median(log.iteration_time))
    parts = [
        f"{label}: {seconds:.3f} s/iteration (median of {len(log.iterations)}: rollout "
        f"{np.median(log.collection_time):.3f} + update {np.median(log.learning_time):.3f})"
    ]
    if baseline is not None:
        parts.append(f"{seconds / baseline[1]:.2f}x {baseline[0]}")
    parts.append(f"final mean training return {log.returns[-1]:.2f}" if len(log.returns) else "no episode finished")
    return ", ".join(parts), seconds


def labelled_run(value: str) -> tuple[str, pathlib.Path]:
    """Parse ``<label>=<run folder>``."""
    label, separator, run_dir = value.partition("=")
    if not separator or not label or not run_dir:
        raise argparse.ArgumentTypeError(f"'{value}' is not <label>=<run folder>")
    return label, pathlib.Path(run_dir)


def main(argv: list[str] | None = None) -> None:
    """Print one line per run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=labelled_run, help="<label>=<run folder>")
    parser.add_argument("--baseline", type=labelled_run, default=None, help="<label>=<run folder> the ratios divide by.")
    args = parser.parse_args(argv)
    baseline = None
    if args.baseline is not None:
        label, run_dir = args.baseline
        baseline = (label, summary_line(label, run_dir, None)[1])
    for label, run_dir in args.runs:
        print(summary_line(label, run_dir, baseline)[0])


if __name__ == "__main__":
    main()
