"""Compare GenPO with stock rsl_rl PPO over several seeds: train every run, evaluate it, then plot and tabulate.

Examples:
    python scripts/compare.py config/compare_halfcheetah.yaml                       # on a local Ray, every core busy
    python scripts/compare.py config/compare_*.yaml --benchmark results/benchmark
    python scripts/compare.py config/compare_ant.yaml --report_only
    python scripts/compare.py config/compare_ant.yaml --backend local                # one run after another, no Ray
    python scripts/compare.py config/compare_isaac_ant.yaml --address auto           # the cluster of `ray start`
    python scripts/compare.py config/compare_ant.yaml --cpus_per_run 3 --only ppo --seeds 1 2
    python scripts/compare.py config/study_noise_entropy_*.yaml --report_only --cross_task results/study_noise_final
    python scripts/compare.py config/study_bounded_*.yaml --report_only --deploy_study results/study_bounded \
        --reference "genpo_recommended_1202 [zero]"

Each spec (see ``config/compare_*.yaml``) names a task, the algorithms, the seeds and the budget; every spec is
checked before anything trains (task ids, algorithms, overrides, baseline, seeds, budget), and each one with mistakes
is one ``[ERROR]`` line. Every (algorithm, seed) trains through ``scripts/train.py`` in its run folder
``<log_root>/<label>/seed_<n>``, and each finished run's checkpoints are then evaluated with ``scripts/evaluate.py``
(the deployed, deterministic policy, and the last checkpoint's sampled training policy on the same complete
episodes; checkpoints evaluated earlier are skipped, and ``--report_only`` evaluates without training).

Where runs train (``--backend``): by default as Ray tasks, on a local Ray that the command starts and stops (every
core or GPU of this machine) or on a running Ray cluster (``--address``), each run with its own CPU cores and GPUs
(``--cpus_per_run``, ``--gpus_per_run``) and training on the device Ray gives it; ``--backend local`` trains one run
after another in this process. On both: runs that finished earlier with the same configuration are skipped; a run
whose training process dies is retried (``--max_retries``) and continues from its newest intact checkpoint; a
crashed run is reported without stopping the sweep; two compare commands on the same log root never work on the same
run at once (a run claimed by another command is left to it and waited for). A spec's ``archive_dir`` keeps a compact
copy of each trained and evaluated run, from which a machine whose log root lacks the run restores it first
(``genpo_ext.experiments.run_archive``), so that a sweep can span machines. Progress: one line per run started and
finished, and an overall bar with an estimate of the time left.

Once every run is done, the spec's ``output_dir`` receives ``summary.md`` and ``summary.csv`` (training and deployed
returns with confidence intervals, time per iteration, time to a return), ``runs.csv``, ``deployed.csv``,
``learning_curves.png`` and ``deployed_curves.png``. ``--cross_task`` ranks the labels of specs on several tasks by
return relative to the baseline (``genpo_ext.experiments.cross_task``); ``--deploy_study`` ranks every (label,
deployed action) of GenPO runs by deployed return relative to PPO, with the collapse check and each run's env-action
spread and sigma (``genpo_ext.experiments.deploy_study``).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import pathlib
import re
import sys

from genpo_ext.experiments.benchmark import write_benchmark
from genpo_ext.experiments.cross_task import check_rankable, write_cross_task
from genpo_ext.experiments.deploy_study import write_deploy_study
from genpo_ext.experiments.jobs import EvaluateJob, EvaluationOutcome, TrainJob, has_unevaluated
from genpo_ext.experiments.report import write_report
from genpo_ext.experiments.run_archive import archive_run, restore_run
from genpo_ext.experiments.scheduler import LocalScheduler, RayScheduler, Resources, Scheduler, default_resources
from genpo_ext.experiments.spec import CompareSpec, Variant
from genpo_ext.experiments.sweep import FAILED, SKIPPED, RunOutcome, finished_earlier, read_status
from genpo_ext.experiments.validation import load_checked_specs
from genpo_ext.presets import PPO

TRAIN_SCRIPT = pathlib.Path(__file__).resolve().with_name("train.py")
EVALUATE_SCRIPT = pathlib.Path(__file__).resolve().with_name("evaluate.py")

BACKENDS = ("ray", "local")
"""Where runs train: Ray tasks (the default), or one after another in this process."""

DEFAULT_MAX_RETRIES = 3
"""How often a run whose training process died is retried by default."""

RAY_FLAGS = ("address", "num_cpus", "num_gpus", "cpus_per_run", "gpus_per_run")
"""Flags that only the Ray backend reads."""

LOCAL_RAY_FLAGS = ("num_cpus", "num_gpus")
"""Flags that size the local Ray; a cluster's resources are set where it starts."""

CUDA_INDEX = re.compile(r"cuda:(\d+)")
"""A numbered CUDA device."""

ERROR_PREFIX = "[ERROR] compare: "
"""Start of each line that names a mistake found before anything trains."""

LINE_PREFIX = "[compare]"
"""Start of the lines the evaluation prints, which the progress lines replace by their own."""

SECONDS_PER_MINUTE = 60.0


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("specs", nargs="+", type=pathlib.Path, help="Comparison spec YAML files.")
    parser.add_argument(
        "--report_only", action="store_true", help="Skip training; evaluate and report the finished runs."
    )
    parser.add_argument(
        "--no_evaluation", action="store_true", help="Skip the deployed-policy evaluation of finished runs."
    )
    parser.add_argument(
        "--benchmark",
        type=pathlib.Path,
        default=None,
        help="Also write <path>.md/.png of wall time per iteration (default: none).",
    )
    parser.add_argument(
        "--cross_task",
        type=pathlib.Path,
        default=None,
        help="Also write <path>.md/.csv ranking the labels across the specs' tasks by return / baseline"
        " (default: none).",
    )
    parser.add_argument(
        "--deploy_study",
        type=pathlib.Path,
        default=None,
        help="Also write <path>.md/.csv ranking every (label, deployed action) across the specs' tasks by deployed "
        "return / PPO, with the collapse check, and <path>_runs.md/.csv with every run's figures (default: none).",
    )
    parser.add_argument(
        "--reference",
        default=None,
        help="With --deploy_study: the '<label> [<deployed action>]' a configuration must beat to qualify "
        "(e.g. 'genpo_recommended_1202 [zero]'; default: none).",
    )
    parser.add_argument(
        "--only", nargs="+", default=None, metavar="LABEL", help="Train only these algorithm labels (default: all)."
    )
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=None, help="Train only these seeds of the specs (default: all)."
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="ray",
        help="Where runs train: 'ray' (default), Ray tasks on a local Ray or the cluster at --address; 'local', one"
        " run after another in this process.",
    )
    parser.add_argument(
        "--max_retries",
        type=int,
        default=DEFAULT_MAX_RETRIES,
        help=f"How often a run whose process died is retried, continuing from its newest intact checkpoint"
        f" (default {DEFAULT_MAX_RETRIES}).",
    )
    ray_group = parser.add_argument_group("Ray backend")
    ray_group.add_argument(
        "--address",
        default=None,
        help="Address of a running Ray cluster ('auto': the one 'ray start' runs on this machine; or host:port)."
        " Default: none, the command starts a local Ray and stops it at the end.",
    )
    ray_group.add_argument(
        "--num_cpus", type=int, default=None, help="CPU cores of the local Ray (default: every core of this machine)."
    )
    ray_group.add_argument(
        "--num_gpus", type=int, default=None, help="GPUs of the local Ray (default: every GPU of this machine)."
    )
    ray_group.add_argument(
        "--cpus_per_run",
        type=float,
        default=None,
        help="CPU cores each run (and each evaluation) takes; its processes get as many threads. Default: 1 without"
        " GPUs; with GPUs, a GPU node's cores divided by its GPUs.",
    )
    ray_group.add_argument(
        "--gpus_per_run",
        type=float,
        default=None,
        help="GPUs each run takes (a fraction shares one). Default: 1 where the cluster has GPUs and the spec's device"
        " is not cpu, else 0.",
    )
    return parser


def flag_errors(args: argparse.Namespace, specs: list[CompareSpec]) -> list[str]:
    """Return one sentence per mistake in the flags, given the specs they select from."""
    errors = []
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        errors.append(f"specs share the names {repeated}: give each spec its own 'name' (its runs' lines carry it).")
    labels = sorted({variant.label for spec in specs for variant in spec.variants})
    seeds = sorted({seed for spec in specs for seed in spec.seeds})
    if args.only is not None and set(args.only) - set(labels):
        errors.append(f"--only: unknown labels {sorted(set(args.only) - set(labels))}. Valid: {', '.join(labels)}.")
    if args.seeds is not None and set(args.seeds) - set(seeds):
        errors.append(f"--seeds: {sorted(set(args.seeds) - set(seeds))} are no seeds of the specs. Valid: {seeds}.")
    if args.reference is not None and args.deploy_study is None:
        errors.append("--reference needs --deploy_study.")
    if args.max_retries < 0:
        errors.append(f"--max_retries must be at least 0, got {args.max_retries}.")
    if args.cross_task is not None:
        try:
            check_rankable(specs)
        except ValueError as error:
            errors.append(f"--cross_task: {error}")
    given = [f"--{name}" for name in RAY_FLAGS if getattr(args, name) is not None]
    if args.backend == "local" and given:
        errors.append(f"{', '.join(given)} configure the Ray backend; --backend local trains in this process.")
    if args.address is not None and any(getattr(args, name) is not None for name in LOCAL_RAY_FLAGS):
        errors.append("--num_cpus and --num_gpus size the local Ray; 'ray start' sets a cluster's cores and GPUs.")
    for name, lowest in (("num_cpus", 1), ("num_gpus", 0), ("gpus_per_run", 0)):
        value = getattr(args, name)
        if value is not None and value < lowest:
            errors.append(f"--{name} must be at least {lowest}, got {value}.")
    if args.cpus_per_run is not None and args.cpus_per_run <= 0:
        errors.append(f"--cpus_per_run must be above 0, got {args.cpus_per_run}.")
    if args.backend == "ray" and importlib.util.find_spec("ray") is None:
        errors.append("the Ray backend needs the 'ray' package: pip install -e '.[ray]', or use --backend local.")
    return errors


def device_errors(resources: dict[CompareSpec, Resources]) -> list[str]:
    """Return one sentence per spec whose device its runs cannot see on Ray, where each run sees only its own GPUs."""
    errors = []
    for spec, taken in resources.items():
        gpus = max(1, int(taken.gpus))
        index = CUDA_INDEX.fullmatch(spec.device or "")
        if (spec.device or "").startswith("cuda") and taken.gpus == 0:
            errors.append(f"{spec.name}: device {spec.device}, but its runs take no GPU (the cluster has none, or"
                          " --gpus_per_run is 0).")  # fmt: skip
        elif index is not None and int(index[1]) >= gpus:
            errors.append(f"{spec.name}: device {spec.device}, but each run sees only its own {gpus} GPU(s), as"
                          " cuda:0 onwards. Use device cuda:0, or give each run more GPUs.")  # fmt: skip
    return errors


def cluster_errors(args: argparse.Namespace, scheduler: RayScheduler, resources: dict[CompareSpec, Resources]) -> list:
    """Return the mistakes that show once Ray runs: devices the runs cannot see, and on a cluster, a log root that
    not every node shares (one sentence per log root)."""
    errors = device_errors(resources)
    for root in sorted({spec.log_root for spec in resources}) if args.address is not None else []:
        problems = scheduler.unshared_nodes(root, [TRAIN_SCRIPT, EVALUATE_SCRIPT])
        if problems:
            errors.append(f"log root {root} is not storage that every node shares ({'; '.join(problems)}): mount"
                          " the same storage at the same path on every node, with the same checkout.")  # fmt: skip
    return errors


def describe_resources(resources: dict[CompareSpec, Resources]) -> str:
    """Return what each run takes, per spec where the specs differ."""
    takes = {spec.name: f"{r.cpus:g} CPU core(s) and {r.gpus:g} GPU(s)" for spec, r in resources.items()}
    if len(set(takes.values())) == 1:
        return f"each run takes {takes.popitem()[1]}"
    return "each run takes " + "; ".join(f"{taken} in {name}" for name, taken in takes.items())


def absolute(spec: CompareSpec) -> CompareSpec:
    """Return the spec with absolute folders, which mean the same on every node and in every worker."""
    archive_dir = spec.archive_dir.absolute() if spec.archive_dir is not None else None
    return dataclasses.replace(
        spec, log_root=spec.log_root.absolute(), output_dir=spec.output_dir.absolute(), archive_dir=archive_dir
    )


class Sweep:
    """The jobs of the specs and what their results lead to: an evaluation after each finished run."""

    def __init__(self, args: argparse.Namespace, resources: dict[CompareSpec, Resources | None]) -> None:
        """Keep what the jobs need.

        Args:
            args: The parsed flags.
            resources: What each run of each spec takes (None: what this process has).
        """
        self.args = args
        self.resources = resources
        self.failures: list[RunOutcome] = []
        self.evaluation_failures: list[str] = []

    def selected(self, spec: CompareSpec) -> list[tuple[Variant, int]]:
        """Return the (variant, seed) pairs that ``--only`` and ``--seeds`` select, seed-major (an interrupted sweep
        leaves every variant with the same seeds done)."""
        variants = [v for v in spec.variants if self.args.only is None or v.label in self.args.only]
        seeds = [seed for seed in spec.seeds if self.args.seeds is None or seed in self.args.seeds]
        return [(variant, seed) for seed in seeds for variant in variants]

    def first_jobs(self, specs: list[CompareSpec]) -> list[TrainJob | EvaluateJob]:
        """Return the jobs to start with: a training of each unfinished run (printing the finished ones), or, with
        ``--report_only``, an evaluation of each finished run with checkpoints left to evaluate."""
        jobs = []
        for spec in specs:
            for variant, seed in self.selected(spec):
                train = TrainJob(spec, variant, seed, TRAIN_SCRIPT, self.resources[spec])
                self.print_lines(self.restore(train))
                if self.args.report_only:
                    if read_status(train.run_dir) is not None:
                        lines, evaluations = self.after_training(train)
                        self.print_lines(lines)
                        jobs += evaluations
                    continue
                if finished_earlier(spec, variant, seed, TRAIN_SCRIPT) is None:
                    jobs.append(train)
                    continue
                lines, evaluations = self.after_training(train)
                self.print_lines([f"{train.name}: finished earlier, skipped", *lines])
                jobs += evaluations
        return jobs

    @staticmethod
    def print_lines(lines: list[str]) -> None:
        """Print progress lines of this command."""
        for line in lines:
            print(f"{LINE_PREFIX} {line}", flush=True)

    @staticmethod
    def restore(job: TrainJob | EvaluateJob) -> list[str]:
        """Restore a run that the log folder lacks from the spec's archive (none while another command works on it);
        return the line that says so."""
        archived = job.spec.archived_run_dir(job.variant, job.seed)
        if archived is None or job.is_claimed() or not restore_run(archived, job.run_dir):
            return []
        return [f"{job.run_name}: restored from {archived}"]

    def archive(self, job: TrainJob | EvaluateJob) -> list[str]:
        """Copy a finished run with nothing left to evaluate into the spec's archive; return the line that says what
        changed there (none when nothing did)."""
        archived = job.spec.archived_run_dir(job.variant, job.seed)
        if archived is None or read_status(job.run_dir) is None or has_unevaluated(job.spec, job.run_dir):
            return []
        written = archive_run(job.run_dir, archived)
        return [f"{job.run_name}: archived {len(written)} file(s) in {archived}"] if written else []

    def after_training(self, train: TrainJob) -> tuple[list[str], list[EvaluateJob]]:
        """Return the lines that say what was archived and the evaluation of a finished run; a run with nothing left
        to evaluate is archived at once."""
        jobs = self.evaluation_after(train)
        return (self.archive(train) if not jobs and not self.args.no_evaluation else []), jobs

    def evaluation_after(self, train: TrainJob) -> list[EvaluateJob]:
        """Return the evaluation of a finished run, unless evaluation is off or nothing is left to evaluate."""
        if self.args.no_evaluation:
            return []
        if not has_unevaluated(train.spec, train.run_dir):
            return []
        return [EvaluateJob(train.spec, train.variant, train.seed, EVALUATE_SCRIPT, train.resources)]

    def on_result(self, job: TrainJob | EvaluateJob, result: RunOutcome | EvaluationOutcome) -> tuple[list, list]:
        """Return the lines that report a job's result and the jobs that follow from it."""
        if isinstance(result, EvaluationOutcome):
            if not result.succeeded:
                self.evaluation_failures.append(f"{job.spec.name}: {result.variant} seed {result.seed}")
            lines = [f"{job.name}: {line.removeprefix(LINE_PREFIX).strip()}" for line in result.lines]
            return lines + (self.archive(job) if result.succeeded else []), []
        if result.status == FAILED:
            self.failures.append(result)
            return [f"{job.name}: FAILED ({result.message.splitlines()[0]})"], []
        minutes = result.wall_time_s / SECONDS_PER_MINUTE
        line = "finished earlier, skipped" if result.status == SKIPPED else f"finished in {minutes:.1f} min"
        archived, jobs = self.after_training(job)
        return [f"{job.name}: {line}", *archived], jobs


def make_scheduler(args: argparse.Namespace) -> Scheduler:
    """Return the scheduler that ``--backend`` names."""
    if args.backend == "local":
        return LocalScheduler(args.max_retries)
    return RayScheduler(args.address, args.num_cpus, args.num_gpus, args.max_retries)


def run(args: argparse.Namespace, specs: list[CompareSpec], scheduler: Scheduler) -> tuple[Sweep, list[str]]:
    """Schedule every job of the specs; return the sweep, and the mistakes that showed once Ray ran (then nothing
    was scheduled).

    Args:
        args: The parsed flags.
        specs: The checked specs, with absolute folders.
        scheduler: The scheduler, entered (connected) already.
    """
    resources: dict[CompareSpec, Resources | None] = dict.fromkeys(specs)
    if isinstance(scheduler, RayScheduler):
        nodes = scheduler.nodes()
        per_run = (args.cpus_per_run, args.gpus_per_run)
        resources = {spec: default_resources(nodes, spec.device, *per_run) for spec in specs}
        errors = cluster_errors(args, scheduler, resources)
        if errors:
            return Sweep(args, resources), errors
        print(f"{LINE_PREFIX} scheduling on {scheduler.describe()}; {describe_resources(resources)}", flush=True)
    else:
        print(f"{LINE_PREFIX} running one job after another in this process", flush=True)
    sweep = Sweep(args, resources)
    jobs = sweep.first_jobs(specs)
    if jobs:
        scheduler.run(jobs, sweep.on_result)
    return sweep, []


def main(argv: list[str] | None = None) -> int:
    """Check, run and report every spec; return 1 if a spec or flag is mistaken or any run failed, else 0."""
    args = build_parser().parse_args(argv)
    specs, errors = load_checked_specs(args.specs)
    # the flags select among the specs' labels and seeds: checked once the specs are
    errors += flag_errors(args, specs) if not errors else []
    if errors:
        for error in errors:
            print(f"{ERROR_PREFIX}{error}", file=sys.stderr)
        return 1
    specs = [absolute(spec) for spec in specs]
    try:
        with make_scheduler(args) as scheduler:
            sweep, errors = run(args, specs, scheduler)
    except ConnectionError as error:
        print(f"{ERROR_PREFIX}no Ray cluster at --address {args.address}: {error}", file=sys.stderr)
        return 1
    if errors:
        for error in errors:
            print(f"{ERROR_PREFIX}{error}", file=sys.stderr)
        return 1
    rows, reports = [], []
    for spec in specs:
        spec_rows, summaries = write_report(spec)
        rows += spec_rows
        reports.append((spec, summaries))
    if args.benchmark is not None:
        write_benchmark(rows, args.benchmark)
    if args.cross_task is not None:
        write_cross_task(reports, args.cross_task)
    if args.deploy_study is not None:
        deploys = tuple(dict.fromkeys(label for spec in specs for label in ("zero", *spec.deploys)))
        write_deploy_study(specs, args.deploy_study, deploys, PPO, args.reference or "")
    for outcome in sweep.failures:
        print(f"{LINE_PREFIX} FAILED: {outcome.variant} seed {outcome.seed} ({outcome.message.splitlines()[0]})")
    for run_name in sweep.evaluation_failures:
        print(f"{LINE_PREFIX} EVALUATION FAILED: {run_name} (see its eval.log)")
    return 1 if sweep.failures or sweep.evaluation_failures else 0


if __name__ == "__main__":
    sys.exit(main())
