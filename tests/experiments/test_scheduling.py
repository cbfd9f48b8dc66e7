"""The parts of compare.py's scheduling that need no training: the estimate of the time left and the progress bar,
the resources a run takes by default, claims on run folders, and the sequential scheduler's loop (retries, waiting
for a claimed run, follow-up jobs)."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys

import pytest

from genpo_ext.experiments import scheduler as scheduling
from genpo_ext.experiments.progress import Progress, seconds_left
from genpo_ext.experiments.run_claim import RunClaim, is_claimed
from genpo_ext.experiments.scheduler import (
    THREAD_VARIABLES,
    Claimed,
    Interrupted,
    LocalScheduler,
    Resources,
    capacity,
    default_resources,
    thread_environment,
)


def test_the_time_left_spreads_the_mean_durations_over_the_slots():
    """Two kinds with two ended jobs each: 3 training jobs left at 10 s and 2 evaluations at 4 s, one training
    running for 6 s already, over 2 slots: (3 * 10 + 2 * 4 - 6) / 2 = 16 s."""
    durations = {"training": [8.0, 12.0], "evaluation": [3.0, 5.0]}
    assert seconds_left(durations, {"training": 3, "evaluation": 2}, [("training", 6.0)], slots=2) == 16.0


def test_the_time_left_is_unknown_until_each_kind_has_a_duration_and_never_counts_idle_slots():
    assert seconds_left({"training": [10.0]}, {"training": 1, "evaluation": 1}, [], slots=2) is None
    assert seconds_left({"training": [10.0]}, {"training": 1, "evaluation": 0}, [], slots=4) == 10.0
    assert seconds_left({"training": [10.0]}, {"training": 1}, [("training", 25.0)], slots=1) == 0.0
    assert seconds_left({}, {}, [], slots=1) == 0.0


@dataclasses.dataclass
class FakeJob:
    """A job that returns its name: cut off in its first ``interruptions`` attempts, and claimed by another process
    until ``claims`` checks of its claim went by."""

    name: str
    kind: str = "training"
    resources: Resources | None = None
    interruptions: int = 0
    claims: int = 0
    calls: int = 0

    def __call__(self, report):
        self.calls += 1
        report(f"attempt {self.calls}")
        if self.claims > 0:
            raise Claimed("host h, process 1")
        if self.calls <= self.interruptions:
            raise Interrupted(f"cut off in attempt {self.calls}")
        return self.name

    def is_claimed(self) -> bool:
        self.claims -= 1
        return self.claims > 0

    def failure(self, message: str) -> str:
        return f"failed: {message}"


def test_the_progress_prints_job_lines_and_a_bar_with_the_time_left():
    """A log (not a terminal) gets each job's lines, and after each ended job the bar with its counts and estimate."""
    now = [0.0]
    stream = io.StringIO()
    progress = Progress(slots=1, stream=stream, clock=lambda: now[0])
    jobs = [FakeJob("a"), FakeJob("b")]
    progress.add(jobs)
    progress.note(jobs[0], "training")
    now[0] = 60.0
    progress.finish(jobs[0], ["a: finished in 1.0 min"])
    lines = stream.getvalue().splitlines()
    assert lines[:2] == ["[compare] a: training", "[compare] a: finished in 1.0 min"]
    assert lines[2] == (
        "[compare] [############............] 1/2 jobs done, 0 running; 1.0 min so far, 1.0 min left"
    )


def test_resources_fill_gpu_nodes_with_one_run_per_gpu_and_cpu_machines_with_one_run_per_core():
    cpu_node = {"Resources": {"CPU": 16.0}}
    gpu_nodes = [{"Resources": {"CPU": 64.0, "GPU": 8.0}}, {"Resources": {"CPU": 24.0, "GPU": 4.0}}, cpu_node]
    assert default_resources([cpu_node], None, None, None) == Resources(cpus=1.0, gpus=0.0)
    assert default_resources(gpu_nodes, None, None, None) == Resources(cpus=6.0, gpus=1.0)
    assert default_resources(gpu_nodes, "cpu", None, None) == Resources(cpus=1.0, gpus=0.0)
    assert default_resources(gpu_nodes, "cuda:0", 2.0, 0.5) == Resources(cpus=2.0, gpus=0.5)
    assert capacity(gpu_nodes, Resources(cpus=6.0, gpus=1.0)) == 8 + 4
    assert capacity([cpu_node], Resources(cpus=1.0)) == 16
    assert capacity([cpu_node], Resources(cpus=3.0)) == 5


def test_the_thread_variables_follow_the_cores_inside_the_block_only(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    with thread_environment(Resources(cpus=3.5)):
        assert [os.environ[name] for name in THREAD_VARIABLES] == ["3"] * len(THREAD_VARIABLES)
    assert os.environ["OMP_NUM_THREADS"] == "1" and "MKL_NUM_THREADS" not in os.environ
    with thread_environment(None):
        assert os.environ["OMP_NUM_THREADS"] == "1"


def test_a_claim_excludes_other_claims_names_its_holder_and_lives_on_in_a_child(tmp_path):
    """A run claimed by one claim cannot be claimed by another; the claim file names the holder; a child process
    that inherited the claim holds it after its parent let go, until the child ends."""
    run_dir = tmp_path / "ppo" / "seed_1"
    with RunClaim(run_dir) as first, RunClaim(run_dir) as second:
        assert first.acquire() and not second.acquire()
        assert second.holder().startswith("host ") and f"process {os.getpid()}" in second.holder()
        assert is_claimed(run_dir)
        child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE,
                                 pass_fds=(first.fileno(),))  # fmt: skip
    try:
        assert is_claimed(run_dir), "the child holds the claim"
    finally:
        child.communicate(timeout=60)
    assert not is_claimed(run_dir)
    assert run_dir.with_name("seed_1.lock").is_file() and not run_dir.exists()


def test_the_local_scheduler_retries_cut_off_jobs_waits_for_claimed_ones_and_runs_follow_ups_first(monkeypatch):
    """A job cut off twice succeeds in its third attempt; one cut off more often than the retries allow fails; a
    claimed job waits until it is let go and runs last; a job's follow-up runs right after it."""
    monkeypatch.setattr(scheduling, "CLAIM_POLL_S", 0.0)
    flaky, hopeless = FakeJob("flaky", interruptions=2), FakeJob("hopeless", interruptions=5)
    claimed, follow_up = FakeJob("claimed", claims=2), FakeJob("follow-up", kind="evaluation")
    order, results = [], {}

    def on_result(job, result):
        order.append(job.name)
        results[job.name] = result
        return [f"{job.name}: {result}"], [follow_up] if job.name == "flaky" else []

    LocalScheduler(max_retries=2).run([claimed, flaky, hopeless], on_result)
    assert order == ["flaky", "follow-up", "hopeless", "claimed"]
    assert results == {
        "flaky": "flaky", "follow-up": "follow-up", "hopeless": "failed: cut off in attempt 3", "claimed": "claimed"
    }  # fmt: skip
    assert (flaky.calls, hopeless.calls, claimed.calls) == (3, 3, 2)
