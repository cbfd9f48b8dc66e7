"""Wall time per iteration of every variant across several sweeps: one figure and one table."""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

BAR_GROUP_WIDTH = 0.8
"""Fraction of the space between two tasks filled by their bars."""


def benchmark_markdown(rows: list[dict]) -> str:
    """Markdown table of seconds per iteration (rollout + update) and the ratio to each task's baseline."""
    header = (
        "| task | algorithm | env steps / iteration | s / iteration | rollout s | update s | env steps/s "
        "| time per iteration / baseline |\n|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['task']} | {r['algorithm']} | {r['env_steps_per_iteration']:,} | {r['s_per_iteration']:.3f} | "
        f"{r['collection_s_per_iteration']:.3f} | {r['learning_s_per_iteration']:.3f} | {r['env_steps_per_s']:,.0f} | "
        f"{r['time_per_iteration_ratio']:.2f} |\n"
        for r in rows
    ]
    return header + "".join(lines)


def plot_iteration_times(rows: list[dict], path: pathlib.Path) -> None:
    """Grouped bars per task: seconds per iteration of each algorithm, split into rollout and update."""
    tasks = list(dict.fromkeys(row["task"] for row in rows))
    labels = list(dict.fromkeys(row["algorithm"] for row in rows))
    width = BAR_GROUP_WIDTH / len(labels)
    figure, axis = plt.subplots(figsize=(2.5 + 2.0 * len(tasks), 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, label in enumerate(labels):
        by_task = {row["task"]: row for row in rows if row["algorithm"] == label}
        x = np.arange(len(tasks)) + (index - (len(labels) - 1) / 2) * width
        rollout = np.array([by_task[t]["collection_s_per_iteration"] if t in by_task else np.nan for t in tasks])
        update = np.array([by_task[t]["learning_s_per_iteration"] if t in by_task else np.nan for t in tasks])
        color = colors[index % len(colors)]
        axis.bar(x, rollout, width, color=color, label=f"{label}: rollout")
        axis.bar(x, update, width, bottom=rollout, color=color, alpha=0.5, hatch="//", label=f"{label}: update")
    axis.set_xticks(np.arange(len(tasks)), tasks)
    axis.set_ylabel("wall time per iteration [s]")
    axis.legend(fontsize="small")
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_benchmark(rows: list[dict], prefix: pathlib.Path) -> None:
    """Write ``<prefix>.md`` and ``<prefix>.png`` from the summary rows of several sweeps."""
    if not rows:
        print("[compare] benchmark: no finished runs")
        return
    prefix.parent.mkdir(parents=True, exist_ok=True)
    prefix.with_suffix(".md").write_text(benchmark_markdown(rows))
    plot_iteration_times(rows, prefix.with_suffix(".png"))
    print(f"[compare] benchmark: wrote {prefix.with_suffix('.md')} and {prefix.with_suffix('.png')}")
