"""``scripts/compare.py`` on Ray, run as a subprocess on tiny gymnasium sweeps: runs in parallel within the cores
given, the same returns as the sequential backend, a killed run continued from its newest intact checkpoint to the
uninterrupted run's end, two commands on one spec training each run once, and a cluster of two Ray nodes."""

from __future__ import annotations

import csv
import json
import math
import os
import pathlib
import subprocess
import sys

import pytest
import torch
import yaml

from genpo_ext.experiments.logs import read_run_log
from genpo_ext.experiments.sweep import ATTEMPTS_FILE, STATUS_FILE

HERE = pathlib.Path(__file__).resolve().parent
COMPARE_SCRIPT = HERE.parents[1] / "scripts" / "compare.py"
COMPARE_WITH_TRAIN_SCRIPT = HERE / "compare_with_train_script.py"
KILLING_TRAIN_SCRIPT = HERE / "killing_train.py"

LABELS = ("ppo", "genpo")
SEEDS = (1, 2)
ITERATIONS = 4
"""Iterations per run: a checkpoint after each (``save_interval`` 1), so a run can die between two of them."""
RAY_CPUS = 2
"""CPU cores of the local Ray, one per run: at most two runs at a time."""
KILLED_RUN = ("genpo", 2)
"""The run whose first training process dies while it saves :data:`KILLED_CHECKPOINT`."""
KILLED_CHECKPOINT = "model_2.pt"
TIMEOUT_S = 1800
"""Seconds a compare command may take before the test fails (a hang, not a measurement): on a 2-core machine this
module took 11 minutes beside one training run and a test suite, and its Ray sweep ran past 15 beside two training
runs."""


def write_spec(folder: pathlib.Path, seeds: tuple[int, ...] = SEEDS, iterations: int = ITERATIONS) -> pathlib.Path:
    """Write a spec of :data:`LABELS` x ``seeds`` with five-step episodes (returns are logged every iteration)."""
    spec = {
        "name": "tiny HalfCheetah",
        "task": "HalfCheetah-v5",
        "algorithms": list(LABELS),
        "seeds": list(seeds),
        "num_envs": 4,
        "num_steps_per_env": 8,
        "iterations": iterations,
        "device": "cpu",
        "overrides": ["env.num_workers=0", "env.make_kwargs.max_episode_steps=5", "agent.save_interval=1"],
        "log_root": "logs",
        "output_dir": "results",
        "eval_episodes": 2,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def start_compare(
    spec_path: pathlib.Path, *extra: str, env: dict | None = None, train_script: pathlib.Path | None = None
) -> subprocess.Popen:
    """Start compare.py on ``spec_path`` in the spec's folder (training through ``train_script`` if given)."""
    command = [sys.executable, str(COMPARE_SCRIPT)]
    if train_script is not None:
        command = [sys.executable, str(COMPARE_WITH_TRAIN_SCRIPT), str(train_script)]
    return subprocess.Popen(
        [*command, str(spec_path), *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=spec_path.parent, env=env,
    )  # fmt: skip


def finish(process: subprocess.Popen) -> tuple[str, str]:
    """Wait for a compare command; return its stdout and stderr after checking that it succeeded."""
    stdout, stderr = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 0, stdout[-3000:] + stderr[-3000:]
    return stdout, stderr


def run_dirs(folder: pathlib.Path) -> dict[tuple[str, int], pathlib.Path]:
    """Return the run folder of every (label, seed) of the spec in ``folder``."""
    return {(label, seed): folder / "logs" / label / f"seed_{seed}" for label in LABELS for seed in SEEDS}


def attempts(run_dir: pathlib.Path) -> list[dict]:
    """Return the recorded training attempts of a run."""
    return json.loads((run_dir / ATTEMPTS_FILE).read_text())["attempts"]


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory) -> dict:
    """The same spec trained by the sequential backend and, through :mod:`killing_train`, on a local Ray of two
    cores, where the first training process of :data:`KILLED_RUN` dies while it saves :data:`KILLED_CHECKPOINT`."""
    root = tmp_path_factory.mktemp("ray_sweep")
    local_spec, ray_spec = write_spec(root / "local"), write_spec(root / "ray")
    local = start_compare(local_spec, "--backend", "local", "--no_evaluation")
    finish(local)
    killed_dir = run_dirs(root / "ray")[KILLED_RUN]
    env = {
        **os.environ,
        "GENPO_TEST_KILL_RUN": str(killed_dir),
        "GENPO_TEST_KILL_CHECKPOINT": KILLED_CHECKPOINT,
        "GENPO_TEST_KILL_MARK": str(root / "killed"),
    }
    stdout, stderr = finish(start_compare(ray_spec, "--num_cpus", str(RAY_CPUS), env=env, train_script=KILLING_TRAIN_SCRIPT))
    return {"local": root / "local", "ray": root / "ray", "stdout": stdout, "stderr": stderr, "mark": root / "killed"}


def test_at_most_two_runs_train_at_a_time_and_two_overlap(sweeps):
    """On a local Ray of two cores, with one core per run, no three training processes ever overlap, and two do."""
    intervals = [(a["start"], a["end"]) for run_dir in run_dirs(sweeps["ray"]).values() for a in attempts(run_dir)]
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running, most = 0, 0
    for _, change in events:
        running += change
        most = max(most, running)
    assert most == RAY_CPUS, intervals


def test_every_run_finishes_is_evaluated_and_reported(sweeps):
    """Every run has its status record and its evaluations; the report has both algorithms with deployed returns."""
    for run_dir in run_dirs(sweeps["ray"]).values():
        assert (run_dir / STATUS_FILE).is_file(), run_dir
        assert (run_dir / "eval.csv").is_file(), run_dir
    with open(sweeps["ray"] / "results" / "summary.csv") as file:
        rows = {row["algorithm"]: row for row in csv.DictReader(file)}
    assert set(rows) == set(LABELS)
    for row in rows.values():
        assert int(row["seeds"]) == int(row["deployed_seeds"]) == len(SEEDS)
        assert math.isfinite(float(row["deployed_return_mean"]))
    assert sweeps["stdout"].count(": finished in ") == len(LABELS) * len(SEEDS)
    assert "jobs done" in sweeps["stdout"] and " left" in sweeps["stdout"], "the progress bar with the time left"


@pytest.mark.parametrize("run", [(label, seed) for label in LABELS for seed in SEEDS], ids=str)
def test_returns_and_models_equal_the_sequential_backends(sweeps, run):
    """Each run on Ray logs the sequential backend's training returns and ends with its models, bit for bit."""
    ray_dir, local_dir = run_dirs(sweeps["ray"])[run], run_dirs(sweeps["local"])[run]
    ray_log, local_log = read_run_log(ray_dir), read_run_log(local_dir)
    assert list(ray_log.return_iterations) == list(local_log.return_iterations) == list(range(ITERATIONS))
    assert list(ray_log.returns) == list(local_log.returns)
    final = f"model_{ITERATIONS - 1}.pt"
    ray_models, local_models = (torch.load(d / final, weights_only=False) for d in (ray_dir, local_dir))
    for models in ("actor_state_dict", "critic_state_dict"):
        for name, tensor in local_models[models].items():
            assert torch.equal(ray_models[models][name], tensor), f"{models}.{name}"


def test_a_killed_run_continues_from_its_newest_intact_checkpoint(sweeps):
    """The killed run's first attempt ended by SIGKILL with its checkpoint cut short; the retry named the broken
    checkpoint, continued from the one before and ended with the uninterrupted run's final training return."""
    assert sweeps["mark"].exists(), "the first attempt was killed"
    run_dir = run_dirs(sweeps["ray"])[KILLED_RUN]
    first, second = attempts(run_dir)
    assert first["exit_status"] == -9 and first["continued_from"] is None
    assert second["exit_status"] == 0 and second["continued_from"] == "model_1.pt"
    label, seed = KILLED_RUN
    assert f"{label} seed {seed}: its training process was killed by signal 9" in sweeps["stdout"]
    assert f"checkpoint {run_dir / KILLED_CHECKPOINT} is broken" in sweeps["stdout"]
    assert f"{label} seed {seed}: continuing from model_1.pt (attempt 2)" in sweeps["stdout"]
    resumed, uninterrupted = read_run_log(run_dir), read_run_log(run_dirs(sweeps["local"])[KILLED_RUN])
    assert resumed.returns[-1] == uninterrupted.returns[-1]


def test_two_commands_on_one_spec_train_each_run_once(tmp_path):
    """Two compare commands started together on one spec share its runs: each run trains in one attempt of one
    command, and both commands end with every run finished."""
    spec_path = write_spec(tmp_path, iterations=2)
    processes = [start_compare(spec_path, "--num_cpus", "1", "--no_evaluation") for _ in range(2)]
    outputs = [finish(process)[0] for process in processes]
    for (label, seed), run_dir in run_dirs(tmp_path).items():
        assert len(attempts(run_dir)) == 1, run_dir
        started = sum(output.count(f"{label} seed {seed}: training, output in") for output in outputs)
        assert started == 1, (label, seed)
    for output in outputs:
        for label, seed in run_dirs(tmp_path):
            accounted = ("finished in", "finished earlier, skipped", "claimed by another process")
            assert any(f"{label} seed {seed}: {words}" in output for words in accounted), output


@pytest.fixture(scope="module")
def cluster():
    """A Ray cluster of two nodes with one core each, on this machine."""
    from ray.cluster_utils import Cluster

    two_nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    two_nodes.add_node(num_cpus=1)
    yield two_nodes
    two_nodes.shutdown()


def test_a_cluster_runs_one_run_per_node_core(cluster, tmp_path):
    """With ``--address`` the runs train on the cluster's two one-core nodes at the same time (so on both nodes),
    after the check that every node sees the log root."""
    spec_path = write_spec(tmp_path, seeds=SEEDS, iterations=2)
    stdout, _ = finish(start_compare(spec_path, "--address", cluster.address, "--only", "ppo", "--no_evaluation"))
    assert f"scheduling on the Ray cluster at {cluster.address}: 2 node(s), 2 CPU core(s)" in stdout
    runs = [tmp_path / "logs" / "ppo" / f"seed_{seed}" for seed in SEEDS]
    (first,), (second,) = (attempts(run_dir) for run_dir in runs)
    assert first["start"] < second["end"] and second["start"] < first["end"], "the two runs overlap"


def test_the_log_root_check_names_nodes_that_miss_a_file(cluster, tmp_path):
    """The check of a cluster's log root passes for a folder every node shares and names each node that lacks a
    required file."""
    from genpo_ext.experiments.scheduler import RayScheduler

    missing = tmp_path / "no_such_script.py"
    with RayScheduler(cluster.address, None, None, max_retries=0) as scheduler:
        assert scheduler.unshared_nodes(tmp_path, []) == []
        problems = scheduler.unshared_nodes(tmp_path, [missing])
    assert len(problems) == 2 and all(problem.endswith(f"it has no {missing}") for problem in problems), problems
    assert not any(path.name.startswith(".compare_probe_") for path in tmp_path.iterdir()), "probe files removed"
