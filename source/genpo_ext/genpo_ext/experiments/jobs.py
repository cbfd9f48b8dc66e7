"""The jobs of a comparison, as the schedulers run them (:class:`~genpo_ext.experiments.scheduler.Job`): train one
run, evaluate one finished run. Each job claims its run folder first (:mod:`genpo_ext.experiments.run_claim`), so
that no two processes work on one run at a time, and sizes its child processes' thread pools to its resources."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import pathlib
from collections.abc import Callable, Iterator

from genpo_ext.experiments.deployed import evaluate_run, missing_checkpoints, missing_deploys, missing_stochastic
from genpo_ext.experiments.run_claim import RunClaim, is_claimed
from genpo_ext.experiments.scheduler import Claimed, Resources, thread_environment
from genpo_ext.experiments.spec import CompareSpec, Variant
from genpo_ext.experiments.sweep import FAILED, RunOutcome, train_run


def has_unevaluated(spec: CompareSpec, run_dir: pathlib.Path) -> bool:
    """Return whether :func:`~genpo_ext.experiments.deployed.evaluate_run` has something left to evaluate in a run:
    a checkpoint, a deployed action of the spec, or the last checkpoint's sampled policy."""
    missing = missing_checkpoints(spec, run_dir) or missing_deploys(spec, run_dir)
    return bool(missing) or missing_stochastic(spec, run_dir)


@dataclasses.dataclass(frozen=True)
class EvaluationOutcome:
    """What the evaluation of one finished run did."""

    variant: str
    seed: int
    succeeded: bool
    """Whether every checkpoint of the run, and its last one stochastically, is evaluated afterwards."""
    lines: tuple[str, ...]
    """What the evaluation printed."""


@dataclasses.dataclass(frozen=True)
class RunJob:
    """A job on one run of a sweep: the run's identity, where it is shown and what it takes."""

    spec: CompareSpec
    variant: Variant
    seed: int
    script: pathlib.Path
    """``scripts/train.py`` or ``scripts/evaluate.py``."""
    resources: Resources | None = None
    """What the job takes on Ray (None: what its process has)."""

    @property
    def run_dir(self) -> pathlib.Path:
        """The run folder."""
        return self.spec.run_dir(self.variant, self.seed)

    @property
    def run_name(self) -> str:
        """The run as the progress lines name it."""
        return f"{self.spec.name} {self.variant.label} seed {self.seed}"

    def is_claimed(self) -> bool:
        """Return whether another process works on the run at this moment."""
        return is_claimed(self.run_dir)

    @contextlib.contextmanager
    def claimed_run(self) -> Iterator[RunClaim]:
        """Hold the run's claim inside the block, with the thread pools of child processes sized to the resources.

        Raises:
            Claimed: If another process holds the run, naming it.
        """
        with RunClaim(self.run_dir) as claim, thread_environment(self.resources):
            if not claim.acquire():
                raise Claimed(claim.holder())
            yield claim


@dataclasses.dataclass(frozen=True)
class TrainJob(RunJob):
    """Train one run to its end (:func:`~genpo_ext.experiments.sweep.train_run`)."""

    @property
    def name(self) -> str:
        """The run, as the progress lines name it."""
        return self.run_name

    @property
    def kind(self) -> str:
        """The trainings of one spec, which take about as long as each other."""
        return f"{self.spec.name} training"

    def __call__(self, report: Callable[[str], None]) -> RunOutcome:
        with self.claimed_run() as claim:
            return train_run(self.spec, self.variant, self.seed, self.script, report, claim.fileno())

    def failure(self, message: str) -> RunOutcome:
        return RunOutcome(self.variant.label, self.seed, FAILED, 0.0, message)


@dataclasses.dataclass(frozen=True)
class EvaluateJob(RunJob):
    """Evaluate the checkpoints of one finished run that are not evaluated yet
    (:func:`~genpo_ext.experiments.deployed.evaluate_run`)."""

    @property
    def name(self) -> str:
        """The run's evaluation, as the progress lines name it."""
        return f"{self.run_name} evaluation"

    @property
    def kind(self) -> str:
        """The evaluations of one spec's runs."""
        return f"{self.spec.name} evaluation"

    def __call__(self, report: Callable[[str], None]) -> EvaluationOutcome:
        output = io.StringIO()
        with self.claimed_run():
            if has_unevaluated(self.spec, self.run_dir):
                report("evaluation started")
            # the evaluation prints its own lines; the scheduler prints them where the command's output goes
            with contextlib.redirect_stdout(output):
                overrides = self.spec.overrides + self.variant.overrides
                succeeded = evaluate_run(self.spec, self.run_dir, overrides, self.script)
        return EvaluationOutcome(self.variant.label, self.seed, succeeded, tuple(output.getvalue().splitlines()))

    def failure(self, message: str) -> EvaluationOutcome:
        return EvaluationOutcome(self.variant.label, self.seed, False, (f"[compare]   evaluation FAILED: {message}",))
