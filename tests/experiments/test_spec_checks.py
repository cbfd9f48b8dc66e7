"""Every mistake in a comparison spec or in compare.py's flags is found before anything trains: one ``[ERROR]`` line
per bad spec, naming what is valid, and no run folder, no Ray, no training."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest
import yaml
from test_report import write_spec

COMPARE_SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "compare.py"
ERROR_PREFIX = "[ERROR] compare: "


@pytest.fixture(scope="module")
def compare():
    """``scripts/compare.py`` as a module, so that its ``main`` runs in this process."""
    spec = importlib.util.spec_from_file_location("compare", COMPARE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def error_lines(compare, capsys, *argv: str) -> list[str]:
    """Run compare.py's ``main`` on ``argv``; return its ``[ERROR]`` lines after checking that it failed and that no
    job line was printed."""
    assert compare.main([*argv, "--backend", "local"]) == 1
    out, err = capsys.readouterr()
    assert not [line for line in out.splitlines() if line.startswith("[compare]")], out
    return [line for line in err.splitlines() if line.startswith(ERROR_PREFIX)]


def genpo_overrides(*overrides: str) -> dict:
    """Return ``algorithms`` with PPO and a GenPO variant that has ``overrides``."""
    return {"ppo": {"algo": "ppo"}, "genpo": {"algo": "genpo", "overrides": list(overrides)}}


BAD_SPECS = {
    "gymnasium_task": ({"task": "HalfCheetah-v9"}, "Close matches: HalfCheetah-v5"),
    "isaaclab_task": ({"task": "Isaac-Ant-Dirct"}, "Close matches: Isaac-Ant-Direct"),
    "discrete_task": ({"task": "CartPole-v1"}, "action space Discrete(2)"),
    "algorithm": ({"algorithms": ["ppo", "sac"]}, "'algo' must be one of genpo, genpo_recommended, ppo, got 'sac'"),
    "preset": (
        {"algorithms": {"rec": {"algo": "genpo_recomended"}}},
        "Algorithm 'rec': 'algo' must be one of genpo, genpo_recommended, ppo, got 'genpo_recomended'",
    ),
    "baseline": ({"baseline": "sac"}, "baseline 'sac' is not an algorithm label. Valid: ppo, genpo"),
    "agent_section": (
        {"overrides": ["agent.algorithmm.gamma=0.9"]},
        "'agent.algorithmm' is not a section. Valid: obs_groups, actor, critic, algorithm",
    ),
    "agent_key": (
        {"algorithms": genpo_overrides("agent.algorithm.compresion_coef=0.1")},
        "algorithm 'genpo': Override 'agent.algorithm.compresion_coef=0.1': genpo_ext.algorithms:GenPO takes no key"
        " 'compresion_coef'. Valid: class_name, compression_coef,",
    ),
    "env_keyword": (
        {"overrides": ["env.make_kwargs.ctrl_cost=0.1"]},
        "gymnasium.make('HalfCheetah-v5') takes no keyword 'ctrl_cost'. Valid: max_episode_steps,",
    ),
    "override_shape": ({"overrides": ["num_envs=3"]}, "'num_envs=3' must look like 'env.a.b=value' or 'agent.a.b=value'"),
    "isaaclab_override": (
        {"task": "Isaac-Ant-Direct", "overrides": ["env.scene.num_env=3"]},
        "AntDirectSceneCfg 'env.scene' has no field 'num_env'. Valid: class_type, num_envs,",
    ),
    "no_seeds": ({"seeds": []}, "'seeds' must be a non-empty list of distinct whole numbers of at least 0, got []"),
    "repeated_seed": ({"seeds": [1, 1]}, "'seeds' must be a non-empty list of distinct whole numbers"),
    "no_iterations": ({"iterations": 0}, "'iterations' must be a whole number of at least 1, got 0"),
    "negative_env_steps": ({"iterations": None, "env_steps": -5}, "'env_steps' must be a whole number of at least 1"),
    "two_budgets": ({"env_steps": 1000}, "set exactly one of 'iterations' and 'env_steps'"),
    "missing_key": ({"task": None}, "missing keys ['task']"),
}
"""Spec changes that each make one mistake, and what its ``[ERROR]`` line says."""


@pytest.mark.parametrize(("changes", "message"), BAD_SPECS.values(), ids=BAD_SPECS.keys())
def test_a_bad_spec_is_one_error_line_and_trains_nothing(compare, capsys, tmp_path, changes, message):
    path = write_spec(tmp_path, **changes)
    (line,) = error_lines(compare, capsys, str(path))
    assert line.startswith(f"{ERROR_PREFIX}{path}: ") and message in line, line
    assert not (tmp_path / "logs").exists()


def test_each_bad_spec_of_several_is_one_line_and_no_spec_trains(compare, capsys, tmp_path):
    """Of three specs, the two bad ones (one with two mistakes) give one line each, and the good one does not train."""
    for name in ("good", "bad", "worse"):
        (tmp_path / name).mkdir()
    good = write_spec(tmp_path / "good")
    bad = write_spec(tmp_path / "bad", overrides=["agent.algorithm.gama=0.9", "env.num_worker=1"])
    worse = write_spec(tmp_path / "worse", task="Hopper-v9")
    lines = error_lines(compare, capsys, str(good), str(bad), str(worse))
    assert [line.split(": ")[1] for line in lines] == [str(bad), str(worse)]
    assert "'agent.algorithm.gama=0.9'" in lines[0] and "'env.num_worker=1'" in lines[0]
    assert not (tmp_path / "good" / "logs").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--only", "sac"], "--only: unknown labels ['sac']. Valid: genpo, ppo."),
        (["--seeds", "7"], "--seeds: [7] are no seeds of the specs. Valid: [1, 2]."),
        (["--num_cpus", "2"], "--num_cpus configure the Ray backend; --backend local trains in this process."),
        (["--max_retries", "-1"], "--max_retries must be at least 0, got -1."),
    ],
    ids=["only", "seeds", "ray_flag", "retries"],
)
def test_a_mistaken_flag_is_one_error_line(compare, capsys, tmp_path, flags, message):
    (line,) = error_lines(compare, capsys, str(write_spec(tmp_path)), *flags)
    assert line == f"{ERROR_PREFIX}{message}"


def test_two_specs_of_one_name_are_one_error_line(compare, capsys, tmp_path):
    path = str(write_spec(tmp_path))
    (line,) = error_lines(compare, capsys, path, path)
    assert line == f"{ERROR_PREFIX}specs share the names ['HalfCheetah-v5']: give each spec its own 'name' (its runs'" \
        " lines carry it)."


def test_every_shipped_spec_passes_the_checks():
    """The specs in ``config/`` are free of the mistakes the checks look for (their tasks, overrides included)."""
    from genpo_ext.experiments.validation import load_checked_specs

    paths = sorted((COMPARE_SCRIPT.parents[1] / "config").glob("*.yaml"))
    specs, errors = load_checked_specs(paths)
    assert errors == [] and len(specs) == len(paths)
    assert all(yaml.safe_load(path.read_text())["task"] for path in paths)


def test_a_device_that_a_run_on_ray_cannot_see_is_named(compare, tmp_path):
    """On Ray each run sees only its own GPUs as ``cuda:0`` onwards: a CUDA device without a GPU per run, or beyond
    the run's GPUs, is a mistake; ``cuda:0`` with one GPU per run and the CPU without GPUs are not."""
    from genpo_ext.experiments.scheduler import Resources
    from genpo_ext.experiments.spec import load_spec

    def spec(device: str):
        folder = tmp_path / device.replace(":", "_")
        folder.mkdir()
        return load_spec(write_spec(folder, device=device))

    one_gpu, no_gpu = Resources(cpus=4.0, gpus=1.0), Resources(cpus=1.0)
    fine = {spec("cuda:0"): one_gpu, spec("cpu"): no_gpu}
    assert compare.device_errors(fine) == []
    (beyond,) = compare.device_errors({spec("cuda:1"): one_gpu})
    assert "each run sees only its own 1 GPU(s), as cuda:0 onwards. Use device cuda:0" in beyond
    (without,) = compare.device_errors({spec("cuda"): no_gpu})
    assert "device cuda, but its runs take no GPU" in without
