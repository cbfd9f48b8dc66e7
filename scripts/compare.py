"""Compare GenPO with stock rsl_rl PPO over several seeds: train every run, then plot and tabulate.

Examples:
    python scripts/compare.py config/compare_halfcheetah.yaml
    python scripts/compare.py config/compare_*.yaml --benchmark results/benchmark
    python scripts/compare.py config/compare_ant.yaml --report_only
    python scripts/compare.py config/compare_ant.yaml --only ppo --seeds 1 2   # a slice, e.g. for a second process
    python scripts/compare.py config/study_noise_entropy_*.yaml --report_only --cross_task results/study_noise_final
    python scripts/compare.py config/study_bounded_*.yaml --report_only --deploy_study results/study_bounded \
        --reference "genpo_recommended_1202 [zero]"

Each spec (see ``config/compare_*.yaml``) names a task, the algorithms, the seeds and the budget. Every
(algorithm, seed) runs through ``scripts/train.py`` one after another; runs that finished earlier with the same
command are skipped, and a crashed run is reported without stopping the sweep. Each finished run's checkpoints are
then evaluated with ``scripts/evaluate.py`` (the deployed, deterministic policy, and the last checkpoint's sampled
training policy on the same complete episodes; checkpoints evaluated earlier are skipped, and ``--report_only``
evaluates without training). The spec's ``output_dir`` receives ``summary.md`` and
``summary.csv`` (training and deployed returns with confidence intervals, time per iteration, time to a return),
``runs.csv``, ``deployed.csv``, ``learning_curves.png`` and ``deployed_curves.png``. ``--cross_task`` ranks the
labels of specs on several tasks by return relative to the baseline (``genpo_ext.experiments.cross_task``);
``--deploy_study`` ranks every (label, deployed action) of GenPO runs by deployed return relative to PPO, with the
collapse check and each run's env-action spread and sigma (``genpo_ext.experiments.deploy_study``).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from genpo_ext.experiments.benchmark import write_benchmark
from genpo_ext.experiments.cross_task import check_rankable, write_cross_task
from genpo_ext.experiments.deploy_study import write_deploy_study
from genpo_ext.experiments.deployed import evaluate_run
from genpo_ext.experiments.report import write_report
from genpo_ext.experiments.spec import CompareSpec, Variant, load_spec
from genpo_ext.experiments.sweep import AfterRun, read_status, run_sweep
from genpo_ext.presets import PPO

TRAIN_SCRIPT = pathlib.Path(__file__).resolve().with_name("train.py")
EVALUATE_SCRIPT = pathlib.Path(__file__).resolve().with_name("evaluate.py")


def evaluate_finished_runs(spec: CompareSpec, labels: list[str] | None, seeds: list[int] | None) -> list[str]:
    """Evaluate every finished run of the spec (within ``labels`` and ``seeds``) that has unevaluated checkpoints.

    Returns:
        ``label seed <n>`` of each run whose evaluation failed.
    """
    failed = []
    for variant in spec.variants:
        for seed in spec.seeds:
            selected = (labels is None or variant.label in labels) and (seeds is None or seed in seeds)
            run_dir = spec.run_dir(variant, seed)
            if selected and read_status(run_dir) is not None and not evaluate_variant_run(spec, variant, run_dir):
                failed.append(f"{variant.label} seed {seed}")
    return failed


def evaluation_hook(spec: CompareSpec, failures: list[str]) -> AfterRun:
    """Return the sweep's step after each finished run: evaluate it, adding ``<spec>: <label> seed <n>`` to
    ``failures`` when that fails."""

    def evaluate(variant: Variant, seed: int, run_dir: pathlib.Path) -> None:
        if not evaluate_variant_run(spec, variant, run_dir):
            failures.append(f"{spec.name}: {variant.label} seed {seed}")

    return evaluate


def evaluate_variant_run(spec: CompareSpec, variant: Variant, run_dir: pathlib.Path) -> bool:
    """Evaluate one finished run with the env overrides it was trained with; return whether that succeeded."""
    return evaluate_run(spec, run_dir, spec.overrides + variant.overrides, EVALUATE_SCRIPT)


def main(argv: list[str] | None = None) -> int:
    """Run and report every spec; return 1 if any run failed, else 0."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("specs", nargs="+", type=pathlib.Path, help="Comparison spec YAML files.")
    parser.add_argument(
        "--report_only", action="store_true", help="Skip training; evaluate and report the finished runs."
    )
    parser.add_argument(
        "--no_evaluation", action="store_true", help="Skip the deployed-policy evaluation of finished runs."
    )
    parser.add_argument(
        "--benchmark", type=pathlib.Path, default=None, help="Also write <path>.md/.png of wall time per iteration."
    )
    parser.add_argument(
        "--cross_task",
        type=pathlib.Path,
        default=None,
        help="Also write <path>.md/.csv ranking the labels across the specs' tasks by return / baseline.",
    )
    parser.add_argument(
        "--deploy_study",
        type=pathlib.Path,
        default=None,
        help="Also write <path>.md/.csv ranking every (label, deployed action) across the specs' tasks by deployed "
        "return / PPO, with the collapse check, and <path>_runs.md/.csv with every run's figures.",
    )
    parser.add_argument(
        "--reference",
        default=None,
        help="With --deploy_study: the '<label> [<deployed action>]' a configuration must beat to qualify "
        "(e.g. 'genpo_recommended_1202 [zero]').",
    )
    parser.add_argument("--only", nargs="+", default=None, metavar="LABEL", help="Train only these algorithm labels.")
    parser.add_argument("--seeds", nargs="+", type=int, default=None, help="Train only these seeds of the specs.")
    args = parser.parse_args(argv)

    specs = [load_spec(path) for path in args.specs]
    if args.only is not None:
        known = {variant.label for spec in specs for variant in spec.variants}
        unknown = sorted(set(args.only) - known)
        if unknown:
            parser.error(f"--only: unknown labels {unknown}. Valid: {', '.join(sorted(known))}.")
    if args.reference is not None and args.deploy_study is None:
        parser.error("--reference needs --deploy_study")
    if args.cross_task is not None:
        try:
            check_rankable(specs)
        except ValueError as error:
            parser.error(f"--cross_task: {error}")
    failures, evaluation_failures, rows, reports = [], [], [], []
    for spec in specs:
        if not args.report_only:
            # evaluate each run as soon as it is trained, so that a stopped sweep keeps its evaluations
            after_run = None if args.no_evaluation else evaluation_hook(spec, evaluation_failures)
            outcomes = run_sweep(spec, TRAIN_SCRIPT, args.only, args.seeds, after_run)
            failures += [outcome for outcome in outcomes if outcome.status == "failed"]
        elif not args.no_evaluation:
            evaluation_failures += [f"{spec.name}: {run}" for run in evaluate_finished_runs(spec, args.only, args.seeds)]
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
    for outcome in failures:
        print(f"[compare] FAILED: {outcome.variant} seed {outcome.seed} ({outcome.message.splitlines()[0]})")
    for run in evaluation_failures:
        print(f"[compare] EVALUATION FAILED: {run} (see its eval.log)")
    return 1 if failures or evaluation_failures else 0


if __name__ == "__main__":
    sys.exit(main())
