"""Evaluate the policy a run deploys: complete episodes of its checkpoints on envs seeded apart from training.

Examples:
    python scripts/evaluate.py --run_dir logs/compare/halfcheetah/genpo/seed_1
    python scripts/evaluate.py --run_dir logs/compare/halfcheetah/genpo/seed_1 --all_checkpoints --episodes 32
    python scripts/evaluate.py --run_dir logs/rsl_rl/ant_direct_genpo/2026-12-01_10-00-00 --stochastic
    python scripts/evaluate.py --run_dir <run> --checkpoint model_200.pt --device cuda:0
    python scripts/evaluate.py --run_dir <run> --deploy zero mean16 likeliest16 mean16_t0.5

Works for runs of ``scripts/train.py`` on gymnasium tasks and on IsaacLab 3 tasks (and of IsaacLab's own rsl_rl
train). The agent is the run's own config (``params/agent.yaml``) in a stock rsl_rl ``OnPolicyRunner``; the policy is
the deterministic one that ``scripts/play.py`` exports (the Gaussian's mean for PPO; for GenPO the deployed action its
config names, the zero latent through the flow by default) unless ``--stochastic`` asks for the sampled training
policy. ``--deploy`` scores a GenPO run's other deployed actions on the same episodes: ``zero``, ``mean16`` (the mean
of 16 fixed draws' env actions after the env's clipping), ``likeliest16`` (the most likely of 16 fixed draws under the
exact density), ``mean16_t0.5`` (16 draws at half the noise), any ``<mode>[<K>][_t<temperature>]``. Each environment
runs exactly one complete episode, so ``--episodes`` is also the number of environments. Results are printed per
checkpoint and recorded in the run folder's ``eval.csv`` (one row per checkpoint, policy mode and deployed action; a new
evaluation replaces the old row).
Tokens of the form ``env.a.b=value`` override fields of an IsaacLab task's env config.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from genpo_ext.evaluation.records import DEFAULT_EPISODES, DEFAULT_SEED

ERROR_PREFIX = "[ERROR] genpo_ext: "
"""Start of the one line that ends an evaluation on a mistake in its flags, run folder, task or checkpoint."""


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run_dir", required=True, type=pathlib.Path, help="Run folder of scripts/train.py.")
    parser.add_argument("--task", default=None, help="Task id (default: the one the run folder records).")
    selection = parser.add_mutually_exclusive_group()
    selection.add_argument("--checkpoint", default=None, help="Checkpoint file to evaluate (default: the last one).")
    selection.add_argument("--all_checkpoints", action="store_true", help="Evaluate every checkpoint of the run.")
    parser.add_argument(
        "--episodes", type=int, default=DEFAULT_EPISODES, help=f"Complete episodes per checkpoint ({DEFAULT_EPISODES})."
    )
    parser.add_argument("--stochastic", action="store_true", help="Evaluate the sampled training policy instead.")
    parser.add_argument(
        "--deploy",
        nargs="+",
        default=None,
        metavar="LABEL",
        help="Deployed actions of a GenPO run to score, each '<mode>[<K>][_t<temperature>]' with mode zero, mean or "
        "likeliest (e.g. zero mean16 likeliest16 mean16_t0.5). Default: the one the run's config builds.",
    )
    parser.add_argument(
        "--missing_only",
        action="store_true",
        help="Skip checkpoints that eval.csv already records with the same policy mode, episodes and seed.",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"Seed of the evaluation envs ({DEFAULT_SEED}).")
    parser.add_argument("--device", default=None, help="Device of the envs and the agent (default: cuda:0 or cpu).")
    return parser


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Parse the flags and return them with the ``env.*`` override tokens.

    Raises:
        SystemExit: With one ``[ERROR]`` line for an override that is no ``env.a.b=value`` token, too few episodes, or
            ``--deploy`` with ``--stochastic``.
    """
    parser = build_parser()
    args, overrides = parser.parse_known_args(argv)
    invalid = [token for token in overrides if not (token.startswith("env.") and "=" in token)]
    if invalid:
        raise SystemExit(f"{ERROR_PREFIX}unrecognized arguments {invalid}: overrides must look like 'env.a.b=value'.")
    if args.episodes < 1:
        raise SystemExit(f"{ERROR_PREFIX}--episodes must be at least 1, got {args.episodes}.")
    if args.deploy is not None and args.stochastic:
        raise SystemExit(f"{ERROR_PREFIX}--deploy selects deterministic actions; it cannot go with --stochastic.")
    return args, overrides


def evaluate(args: argparse.Namespace, overrides: list[str]) -> None:
    """Evaluate the selected checkpoints, printing and recording each result as soon as it exists.

    Raises:
        RunFolderError: For a run folder, task or checkpoint that cannot be evaluated.
        ConfigError: For an agent config the installed rsl_rl cannot build.
        CheckpointLoadError: For a checkpoint that cannot be loaded into the run's agent.
        IncompleteEpisodesError: For episodes that do not finish within the task's time limit.
    """
    from genpo_ext.evaluation.deploy import DeploySetting
    from genpo_ext.evaluation.records import (
        DETERMINISTIC, EVAL_FILE, NOT_DEPLOYED, STOCHASTIC, read_records, unevaluated, write_records
    )
    from genpo_ext.evaluation.run_folder import RunFolderError, check_run_folder, read_agent_cfg, read_task, select_checkpoints
    from genpo_ext.experiments.validation import task_problem
    from genpo_ext.gymnasium_backend import is_gymnasium_task

    run_dir = args.run_dir
    check_run_folder(run_dir)
    task = args.task or read_task(run_dir)
    problem = task_problem(task)
    if problem is not None:
        raise RunFolderError(problem)
    checkpoints = select_checkpoints(run_dir, args.checkpoint, args.all_checkpoints)
    mode = STOCHASTIC if args.stochastic else DETERMINISTIC
    try:
        deploys = [DeploySetting.from_label(label) for label in args.deploy] if args.deploy else None
        for deploy in deploys or []:
            deploy.apply_to(read_agent_cfg(run_dir, "cpu"), None)  # checks that the run's policy deploys it
    except ValueError as error:
        raise RunFolderError(str(error)) from None
    if args.missing_only:
        records = read_records(run_dir)
        own = DeploySetting.of_agent(read_agent_cfg(run_dir, "cpu"))
        labels = [NOT_DEPLOYED] if args.stochastic else [deploy.label for deploy in deploys or [own]]
        missing = [unevaluated(checkpoints, records, mode, args.episodes, args.seed, label) for label in labels]
        deploys = None if deploys is None else [d for d, todo in zip(deploys, missing) if todo]
        checkpoints = sorted({c for todo in missing for c in todo}, key=checkpoints.index)
        if not checkpoints:
            print(f"[INFO] genpo_ext: every selected checkpoint of {run_dir} is evaluated already")
            return
    described = "" if deploys is None else f" ({', '.join(deploy.label for deploy in deploys)})"
    print(f"[INFO] genpo_ext: evaluating {len(checkpoints)} checkpoint(s) of {run_dir} on {task}: {mode} policy"
          f"{described}, {args.episodes} episodes each, seed {args.seed}", flush=True)
    if is_gymnasium_task(task):
        if overrides:
            raise RunFolderError(f"env.* overrides apply to IsaacLab tasks only; {task} is a gymnasium task.")
        from genpo_ext.gymnasium_backend.evaluate import evaluate_run
        from genpo_ext.gymnasium_backend.train import resolve_device

        device = resolve_device(args.device)
        records = evaluate_run(run_dir, task, checkpoints, args.episodes, mode, args.seed, device, deploys)
    else:
        from genpo_ext.versions import isaaclab_generation

        if isaaclab_generation() != 3:
            raise RunFolderError(f"'{task}' is no gymnasium task, and evaluation of IsaacLab tasks needs IsaacLab 3.")
        from genpo_ext.isaaclab.evaluate import evaluate_run

        records = evaluate_run(
            run_dir, task, checkpoints, args.episodes, mode, args.seed, args.device, overrides, deploys
        )
    for record in records:
        write_records(run_dir, [record])
        shown = mode if record.deploy in (NOT_DEPLOYED, "zero") else f"{mode} ({record.deploy})"
        print(f"[eval] {record.checkpoint} (iteration {record.iteration}): {shown} return "
              f"{record.mean_return:.2f} ± {record.std_return:.2f} over {record.episodes} episodes "
              f"(min {record.min_return:.2f}, max {record.max_return:.2f}, mean length {record.mean_length:.0f})",
              flush=True)
    print(f"[INFO] genpo_ext: recorded in {run_dir / EVAL_FILE}")


def main(argv: list[str] | None = None) -> None:
    """Evaluate a run; a mistaken run folder, task or checkpoint ends the program with one ``[ERROR]`` line."""
    args, overrides = parse_args(sys.argv[1:] if argv is None else argv)
    from genpo_ext.evaluation.episodes import IncompleteEpisodesError
    from genpo_ext.evaluation.policies import CheckpointLoadError
    from genpo_ext.evaluation.run_folder import RunFolderError
    from genpo_ext.gymnasium_backend.errors import ConfigError

    try:
        evaluate(args, overrides)
    except (RunFolderError, ConfigError, CheckpointLoadError, IncompleteEpisodesError) as error:
        raise SystemExit(f"{ERROR_PREFIX}{error}") from None


if __name__ == "__main__":
    main()
