"""Where the jobs of a comparison run: one after another in this process (:class:`LocalScheduler`), or as Ray tasks
with the resources each job declares, on a local Ray that the command starts and stops or on a running Ray cluster
(:class:`RayScheduler`).

A job is a picklable callable (:class:`Job`) that does its work wherever it is called and returns its result; what the
work is (training, evaluation) is the job's business. Both schedulers run the same loop (:meth:`Scheduler.run`):
submit the jobs, hand each result to the caller, which may answer with follow-up jobs, and report progress. Two
exceptions carry the only things a scheduler needs to know about a job's fate:

* :class:`Interrupted`: the job's work was cut off (its process killed, its node lost); running the job again
  continues it. The Ray scheduler has Ray retry such jobs (``max_retries``, ``retry_exceptions``), which also
  retries jobs whose worker or node died; the local scheduler retries them itself, as often.
* :class:`Claimed`: another process works on what the job would do. The job waits, without holding resources, until
  :meth:`Job.is_claimed` says the other process let go, then runs again.
"""

from __future__ import annotations

import abc
import collections
import contextlib
import dataclasses
import math
import os
import pathlib
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from genpo_ext.experiments.progress import Progress

CLAIM_POLL_S = 5.0
"""Seconds between two checks whether the process that claimed a waiting job's work let go of it."""

NEWS_POLL_S = 1.0
"""Seconds the Ray scheduler waits for a result before it prints what the running jobs reported."""

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
"""Environment variables that size the thread pools of torch, MKL and OpenBLAS in a job's child processes."""

PROBE_PREFIX = ".compare_probe_"
"""Start of the names of the files that check that every node sees the same log root."""

LOCAL_RAY = "local"
"""Ray's address for a new local Ray instance."""

PROBE_TIMEOUT_S = 120.0
"""Seconds a node has to answer the check of the shared log root before it counts as not seeing it."""


class Interrupted(Exception):
    """A job's work was cut off before its end; running the job again continues it."""


class Claimed(Exception):
    """Another process works on what the job would do; the message says who."""


@dataclasses.dataclass(frozen=True)
class Resources:
    """What one job takes while it runs."""

    cpus: float
    """CPU cores; its child processes get ``max(1, int(cpus))`` threads per pool."""
    gpus: float = 0.0
    """GPUs (a fraction shares one); Ray makes them the only GPUs the job sees, as ``cuda:0`` onwards."""

    @property
    def threads(self) -> int:
        """Threads per pool of the job's child processes: one per CPU core, at least one."""
        return max(1, int(self.cpus))


class Job(Protocol):
    """What a scheduler runs; implementations must be picklable (Ray sends them to its workers)."""

    name: str
    """Names the job in progress lines, unique among the jobs of a run."""
    kind: str
    """Jobs of one kind take about as long as each other; the estimate of the time left averages them."""
    resources: Resources | None
    """What the job takes on Ray; None runs it with what its process has (the local scheduler)."""

    def __call__(self, report: Callable[[str], None]) -> Any:
        """Do the work, passing news for the progress lines to ``report``, and return the result.

        Raises:
            Interrupted: If the work was cut off; the job will continue it when called again.
            Claimed: If another process works on it.
        """

    def is_claimed(self) -> bool:
        """Return whether another process holds the job's work at this moment."""

    def failure(self, message: str) -> Any:
        """Return the result of a job that could not run to its end, for ``message``'s reason."""


ResultHandler = Callable[[Job, Any], tuple[list[str], list[Job]]]
"""Receives each job's result; returns the lines that report it and the jobs that follow from it (e.g. an evaluation
after a training)."""


@contextlib.contextmanager
def thread_environment(resources: Resources | None) -> Iterator[None]:
    """Size the thread pools of the child processes started inside the block to the job's CPU cores.

    Sets :data:`THREAD_VARIABLES` in this process's environment, which child processes inherit, and restores them
    afterwards (a Ray worker runs one job after another). Nothing changes for ``resources`` None.
    """
    if resources is None:
        yield
        return
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: str(resources.threads) for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def default_resources(
    nodes: list[dict], device: str | None, cpus_per_run: float | None, gpus_per_run: float | None
) -> Resources:
    """Return what each run takes unless the command line says otherwise: all of a machine, shared by its runs.

    A run trains on a GPU when the cluster has GPUs and its spec does not ask for the CPU; then each run takes one
    GPU and the CPU cores of its node divided by the node's GPUs (the fewest of any GPU node), so one run per GPU fills
    every node. Without GPUs each run takes one core, so as many runs as cores run at once.

    Args:
        nodes: Ray's alive nodes (``ray.nodes()``), each with its ``Resources``.
        device: The spec's device; ``cpu`` keeps its runs off the GPUs.
        cpus_per_run: CPU cores per run from the command line, or None.
        gpus_per_run: GPUs per run from the command line, or None.
    """
    gpu_nodes = [node["Resources"] for node in nodes if node["Resources"].get("GPU", 0) > 0]
    if gpus_per_run is None:
        gpus_per_run = 1.0 if gpu_nodes and device != "cpu" else 0.0
    if cpus_per_run is None:
        per_gpu = [math.floor(node.get("CPU", 0) / node["GPU"]) for node in gpu_nodes]
        cpus_per_run = float(max(1, min(per_gpu))) if gpus_per_run > 0 and per_gpu else 1.0
    return Resources(cpus=cpus_per_run, gpus=gpus_per_run)


def capacity(nodes: list[dict], resources: Resources | None) -> int:
    """Return how many jobs that each take ``resources`` fit on the nodes at once (at least one)."""
    if resources is None:
        return 1
    fits = 0
    for node in nodes:
        available = node["Resources"]
        counts = [math.floor(available.get("CPU", 0) / resources.cpus)] if resources.cpus > 0 else []
        counts += [math.floor(available.get("GPU", 0) / resources.gpus)] if resources.gpus > 0 else []
        fits += min(counts) if counts else 0
    return max(1, fits)


def cause(error: BaseException) -> str:
    """Return the message of what ended a job: the job's own exception's, also when Ray wraps it, in one line."""
    # Ray raises a job's exception as a RayTaskError that keeps the original as its cause
    message = str(getattr(error, "cause", None) or error).strip()
    return message.splitlines()[-1] if message else type(error).__name__


class Scheduler(abc.ABC):
    """Runs jobs and their follow-ups to the end, printing what they report and the overall progress."""

    job_errors: tuple[type[BaseException], ...] = ()
    """Errors that mean a job could not run to its end (besides :class:`Interrupted` after its retries)."""

    def __init__(self, max_retries: int) -> None:
        """Prepare the scheduler.

        Args:
            max_retries: How often a job is run again after its work was cut off (:class:`Interrupted`).
        """
        self.max_retries = max_retries
        self.progress: Progress | None = None

    def __enter__(self) -> Scheduler:
        """Connect to where the jobs run (nothing to do in this process)."""
        return self

    def __exit__(self, *exception: object) -> None:
        """Disconnect from where the jobs run."""

    def run(self, jobs: list[Job], on_result: ResultHandler) -> None:
        """Run ``jobs`` and every job that ``on_result`` answers with, until none is left.

        A job whose work another process claimed waits without resources and runs again once it is let go.
        """
        self.progress = Progress(self.capacity(jobs[0].resources) if jobs else 1)
        self.progress.add(jobs)
        queue, running, waiting = collections.deque(jobs), {}, []
        last_poll = time.monotonic()
        try:
            while queue or running or waiting:
                while queue and self._has_room(len(running)):
                    job = queue.popleft()
                    running[self._submit(job)] = job
                done = self._wait(list(running)) if running else []
                news = self._news()
                ended = {running[handle].name for handle in done}
                # an ended job's last news comes before its result, the others' after it
                for job, text in [item for item in news if item[0].name in ended]:
                    self.progress.note(job, text)
                for handle in done:
                    job = running.pop(handle)
                    try:
                        result = self._result(handle)
                    except Claimed as claimed:
                        waiting.append(job)
                        self.progress.wait(job, f"claimed by another process ({cause(claimed)}); waiting for it")
                        continue
                    except (Interrupted, *self.job_errors) as error:
                        result = job.failure(cause(error))
                    lines, follow_ups = on_result(job, result)
                    self.progress.add(follow_ups)
                    self.progress.finish(job, lines)
                    # follow-ups first: a run's evaluation right after its training keeps it when the sweep stops
                    queue.extendleft(reversed(follow_ups))
                for job, text in [item for item in news if item[0].name not in ended]:
                    self.progress.note(job, text)
                if waiting and not queue and not running:
                    time.sleep(max(0.0, last_poll + CLAIM_POLL_S - time.monotonic()))
                if waiting and time.monotonic() - last_poll >= CLAIM_POLL_S:
                    last_poll = time.monotonic()
                    released = [job for job in waiting if not job.is_claimed()]
                    waiting = [job for job in waiting if job not in released]
                    queue.extend(released)
        finally:
            self.progress.close()

    def capacity(self, resources: Resources | None) -> int:
        """Return how many jobs that take ``resources`` run at once."""
        return 1

    @abc.abstractmethod
    def _has_room(self, running: int) -> bool:
        """Return whether another job may be submitted while ``running`` jobs are submitted and unfinished."""

    @abc.abstractmethod
    def _submit(self, job: Job) -> Any:
        """Start (or queue) a job; return its handle."""

    @abc.abstractmethod
    def _wait(self, handles: list[Any]) -> list[Any]:
        """Return the handles of the jobs that ended, waiting a little for one to end."""

    @abc.abstractmethod
    def _result(self, handle: Any) -> Any:
        """Return an ended job's result, or raise what ended it."""

    def _news(self) -> list[tuple[Job, str]]:
        """Return what the running jobs reported since the last call, oldest first."""
        return []


class _LocalRun:
    """A job submitted to the local scheduler, and once run, its result or what ended it."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.outcome: Any = None
        self.error: Interrupted | Claimed | None = None


class LocalScheduler(Scheduler):
    """Runs one job at a time in this process, in the order they come (``--backend local``)."""

    def _has_room(self, running: int) -> bool:
        return running == 0

    def _submit(self, job: Job) -> _LocalRun:
        return _LocalRun(job)

    def _wait(self, handles: list[_LocalRun]) -> list[_LocalRun]:
        """Run the submitted job to its end, again after each interruption up to the retries."""
        run = handles[0]
        for _ in range(self.max_retries + 1):
            try:
                run.outcome, run.error = run.job(lambda text: self.progress.note(run.job, text)), None
                break
            except Interrupted as error:
                run.error = error
            except Claimed as error:
                run.error = error
                break
        return [run]

    def _result(self, handle: _LocalRun) -> Any:
        if handle.error is not None:
            raise handle.error
        return handle.outcome


class _NewsBoard:
    """Ray actor: collects what the running jobs report until the scheduler takes it."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def post(self, name: str, text: str) -> None:
        """Keep one report of the job called ``name``."""
        self.items.append((name, text))

    def take(self) -> list[tuple[str, str]]:
        """Return the reports kept since the last call, oldest first."""
        items, self.items = self.items, []
        return items


class _Reporter:
    """A job's ``report`` on Ray: posts its news to the board without waiting for an answer.

    Waiting (``ray.get``) inside a task would make Ray lend the task's CPU to another task meanwhile, and the task
    would continue beside it: more runs at once than cores.
    """

    def __init__(self, board: Any, name: str) -> None:
        self.board = board
        self.name = name

    def __call__(self, text: str) -> None:
        self.board.post.remote(self.name, text)


def _run_job(job: Job, report: Callable[[str], None]) -> Any:
    """Ray task: run one job on the worker Ray chose."""
    return job(report)


def _probe(probe: str, token: str, required: list[str]) -> str | None:
    """Ray task on one node: return why the node does not share the log root or lacks a file, else None.

    The node must read ``token`` from the file ``probe`` that the scheduler wrote, must hold every file in
    ``required``, and leaves ``<probe>.<node id>`` for the scheduler to find.
    """
    import ray

    path = pathlib.Path(probe)
    missing = [file for file in required if not pathlib.Path(file).is_file()]
    if missing:
        return f"it has no {', '.join(missing)}"
    if not path.is_file() or path.read_text() != token:
        return f"it does not see {path.parent} as this machine does"
    path.with_name(f"{path.name}.{ray.get_runtime_context().get_node_id()}").write_text(token)
    return None


class RayScheduler(Scheduler):
    """Runs every job as a Ray task with the job's resources; use as a context manager, which connects to Ray.

    Without an address it starts a local Ray for the command and stops it at the end; with one it connects to that
    cluster (``auto``: the one ``ray start`` runs on this machine) and leaves it running.
    """

    def __init__(self, address: str | None, num_cpus: int | None, num_gpus: int | None, max_retries: int) -> None:
        """Prepare the connection (:meth:`__enter__` connects).

        Args:
            address: Address of a running Ray cluster, or None for a local Ray.
            num_cpus: CPU cores of the local Ray (None: every core of this machine).
            num_gpus: GPUs of the local Ray (None: every GPU of this machine).
            max_retries: How often Ray runs a job again after its work was cut off or its worker or node died.
        """
        super().__init__(max_retries)
        self.address = address
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus

    def __enter__(self) -> RayScheduler:
        """Start the local Ray or connect to the cluster.

        Raises:
            ConnectionError: If no Ray cluster answers at the address.
        """
        import ray
        from ray.exceptions import RayError

        if self.address is None:
            # "local" starts a Ray of this command's own, even where `ray start` or RAY_ADDRESS names a cluster
            ray.init(
                address=LOCAL_RAY, num_cpus=self.num_cpus, num_gpus=self.num_gpus, include_dashboard=False,
                log_to_driver=False,
            )  # fmt: skip
        else:
            ray.init(address=self.address, log_to_driver=False)
        self.job_errors = (RayError,)
        # the board takes no CPU away from the jobs
        self._board = ray.remote(num_cpus=0)(_NewsBoard).remote()
        self._task = ray.remote(_run_job)
        self._jobs: dict[str, Job] = {}
        return self

    def __exit__(self, *exception: object) -> None:
        import ray

        ray.shutdown()

    def nodes(self) -> list[dict]:
        """Return Ray's alive nodes."""
        import ray

        return [node for node in ray.nodes() if node["Alive"]]

    def capacity(self, resources: Resources | None) -> int:
        return capacity(self.nodes(), resources)

    def describe(self) -> str:
        """Return where the jobs run: the cluster's nodes, cores and GPUs."""
        nodes = self.nodes()
        cpus = sum(node["Resources"].get("CPU", 0) for node in nodes)
        gpus = sum(node["Resources"].get("GPU", 0) for node in nodes)
        where = "a local Ray" if self.address is None else f"the Ray cluster at {self.address}"
        return f"{where}: {len(nodes)} node(s), {cpus:g} CPU core(s), {gpus:g} GPU(s)"

    def unshared_nodes(self, folder: pathlib.Path, required: list[pathlib.Path]) -> list[str]:
        """Return, for each node that does not see ``folder`` as this process does or lacks a required file, why.

        A file with a random token is written into ``folder`` here and read on every node; each node writes a reply
        beside it, which must appear here. Both probe files are removed again.
        """
        import ray
        from ray.exceptions import GetTimeoutError, RayError
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        folder.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        probe = folder / f"{PROBE_PREFIX}{token}"
        probe.write_text(token)
        task = ray.remote(num_cpus=0)(_probe)
        answers = {}
        for node in self.nodes():
            strategy = NodeAffinitySchedulingStrategy(node_id=node["NodeID"], soft=False)
            answers[node["NodeManagerAddress"], node["NodeID"]] = task.options(scheduling_strategy=strategy).remote(
                str(probe), token, [str(path) for path in required]
            )
        problems = []
        try:
            for (address, node_id), answer in answers.items():
                try:
                    problem = ray.get(answer, timeout=PROBE_TIMEOUT_S)
                except GetTimeoutError:
                    problem = f"it did not answer within {PROBE_TIMEOUT_S:g} s"
                except RayError as error:
                    problem = f"it could not run genpo_ext ({str(error).strip().splitlines()[-1]})"
                reply = probe.with_name(f"{probe.name}.{node_id}")
                if problem is None and not reply.is_file():
                    problem = f"what it writes into {folder} does not reach this machine"
                reply.unlink(missing_ok=True)
                if problem is not None:
                    problems.append(f"node {address}: {problem}")
        finally:
            probe.unlink(missing_ok=True)
        return problems

    def _has_room(self, running: int) -> bool:
        # Ray queues the tasks until their resources are free
        return True

    def _submit(self, job: Job) -> Any:
        resources = job.resources or Resources(cpus=1.0)
        options = {"num_cpus": resources.cpus, "num_gpus": resources.gpus, "max_retries": self.max_retries}
        self._jobs[job.name] = job
        reporter = _Reporter(self._board, job.name)
        return self._task.options(**options, retry_exceptions=[Interrupted]).remote(job, reporter)

    def _wait(self, handles: list[Any]) -> list[Any]:
        import ray

        done, _ = ray.wait(handles, num_returns=len(handles), timeout=NEWS_POLL_S)
        return done

    def _result(self, handle: Any) -> Any:
        import ray

        return ray.get(handle)

    def _news(self) -> list[tuple[Job, str]]:
        import ray

        return [(self._jobs[name], text) for name, text in ray.get(self._board.take.remote())]


