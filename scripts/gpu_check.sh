#!/usr/bin/env bash
# The GPU verification of genpo_ext as one command, for a fresh CUDA machine (one GPU is enough; network only to the
# package registries): set up .venv, run the CUDA-marked tests, the benchmark on the GPU, and kit-less IsaacLab 3
# Isaac-Ant-Direct with stock PPO, GenPO and the recommended GenPO for a fixed number of iterations each, printing
# every figure as soon as it exists. The whole run, set-up included, is bounded by a time budget (default 9 minutes):
# a stage that would start after it is reported as skipped, and a stage still running at it is stopped.
#
#   scripts/gpu_check.sh                         # cuda:0, 4096 envs, 20 iterations per algorithm
#   scripts/gpu_check.sh --device cuda:1 --iterations 50 --budget_s 900
#   scripts/gpu_check.sh --device cpu            # the same steps with small sizes (what CI runs)
#
# Exit status: 0 when every stage that ran passed, 1 otherwise (a stage skipped for lack of time counts as failed).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

device="cuda:0"
num_envs=""
iterations=""
budget_s=540
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --num_envs) num_envs="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --budget_s) budget_s="$2"; shift 2 ;;
    *) echo "[gpu_check] unknown argument '$1'. Valid: --device, --num_envs, --iterations, --budget_s" >&2; exit 2 ;;
  esac
done
if [[ "$device" == cpu ]]; then
  # small sizes: the check that the script itself works, on a machine without a GPU
  num_envs="${num_envs:-16}"; iterations="${iterations:-2}"
  benchmark_sizes=(--tables activation phases --num_envs 64 --minibatch_size 128 --min_run_time 0.05 --threads 1)
else
  num_envs="${num_envs:-4096}"; iterations="${iterations:-20}"
  benchmark_sizes=(--min_run_time 1.0 --iterations 3)
fi

python=.venv/bin/python
deadline=$((SECONDS + budget_s))
status=0
log_root="logs/gpu_check/$(date +%Y-%m-%d_%H-%M-%S)"
mkdir -p "$log_root"

# run_stage <name> <command...>: run a stage within the remaining budget, its output shown and kept in the log root
run_stage() {
  local name="$1"; shift
  local left=$((deadline - SECONDS))
  if (( left <= 0 )); then
    echo "[gpu_check] SKIPPED $name: the ${budget_s} s budget is spent"; status=1; return 1
  fi
  echo "[gpu_check] $name (at most ${left} s)"
  local start=$SECONDS
  timeout --signal=INT --kill-after=10 "$left" "$@" 2>&1 | tee "$log_root/$name.log"
  local code=${PIPESTATUS[0]}
  if (( code != 0 )); then
    echo "[gpu_check] FAILED $name (exit code $code; 124: out of time) after $((SECONDS - start)) s, log: $log_root/$name.log"
    status=1; return 1
  fi
  echo "[gpu_check] passed $name in $((SECONDS - start)) s"
}

echo "[gpu_check] device $device, Isaac-Ant-Direct with $num_envs envs x $iterations iterations, budget ${budget_s} s"
run_stage setup ./scripts/setup.sh || { echo "[gpu_check] without .venv nothing else can run"; exit 1; }
"$python" -c "import torch; print('[gpu_check] torch', torch.__version__, 'CUDA available:', torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
if [[ "$device" == cuda* ]]; then
  run_stage cuda_tests "$python" -m pytest -m cuda -q -p no:cacheprovider tests
fi
run_stage benchmark "$python" scripts/benchmark.py --device "$device" --sizes ant "${benchmark_sizes[@]}"

baseline=()
for algo in ppo genpo genpo_recommended; do
  run_dir="$log_root/isaac_ant_$algo"
  if run_stage "isaac_ant_$algo" "$python" scripts/train.py --task Isaac-Ant-Direct --algo "$algo" --seed 1 \
      --num_envs "$num_envs" --max_iterations "$iterations" --device "$device" --log_dir "$run_dir"; then
    "$python" -m genpo_ext.experiments.run_summary "$algo=$run_dir" "${baseline[@]}" | sed 's/^/[gpu_check] /'
    [[ "$algo" == ppo ]] && baseline=(--baseline "ppo=$run_dir")
  fi
done
echo "[gpu_check] done in ${SECONDS} s: $([[ $status == 0 ]] && echo 'every stage passed' || echo 'some stages FAILED or were skipped'); logs in $log_root"
exit "$status"
