#!/usr/bin/env bash
# Create the rsl_rl 3 test environment in .venv-rsl3: the Python stack of an IsaacLab 2.3 installation without Isaac
# Sim (Python 3.11, rsl-rl-lib 3.0.1, numpy < 2) plus a CPU-capable torch, genpo_ext (editable, with its gymnasium
# and test extras) and IsaacLab 2.3.2's sources, unpacked from its PyPI wheel and never installed, for the tests of
# the IsaacLab 2.3 configs. Idempotent: a second run with unchanged setup.py and script does nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=.venv-rsl3
# rsl_rl generation of IsaacLab 2.3 (its isaaclab[rsl-rl] extra pins it); genpo_ext's rsl_rl 3 layer is tested on it
rsl_rl_pin="rsl-rl-lib==3.0.1"
# any torch >= 2.7 serves (Isaac Sim 5.1 ships 2.7.0); this machine image keeps a CPU build of 2.13.0 in its wheel cache
torch_pin="torch==2.13.0"
isaaclab2_version="2.3.2"
isaaclab2_sources="$venv/isaaclab-$isaaclab2_version"
stamp="$venv/.genpo_ext_installed"
wanted="$(cat setup.py "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  echo "[setup_rsl_rl3] $venv is up to date"
  exit 0
fi

python_bin="$(command -v python3.11 || true)"
if [[ -z "$python_bin" ]] || ! "$python_bin" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "[setup_rsl_rl3] error: IsaacLab 2.3 runs Python 3.11; install it (e.g. 'pyenv install 3.11') and rerun." >&2
  exit 1
fi

echo "[setup_rsl_rl3] creating $venv with $("$python_bin" --version), $rsl_rl_pin, numpy < 2 and $torch_pin"
[[ -x "$venv/bin/python" ]] || "$python_bin" -m venv "$venv"
"$venv/bin/python" -m pip install --upgrade --quiet pip
"$venv/bin/python" -m pip install --progress-bar off "$torch_pin" "numpy<2" "$rsl_rl_pin" -e ".[gymnasium,test]"

echo "[setup_rsl_rl3] unpacking the sources of isaaclab==$isaaclab2_version into $isaaclab2_sources"
download_dir="$(mktemp -d)"
trap 'rm -rf "$download_dir"' EXIT
"$venv/bin/python" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
  --dest "$download_dir" "isaaclab==$isaaclab2_version"
rm -rf "$isaaclab2_sources"
"$venv/bin/python" -m zipfile -e "$download_dir"/isaaclab-"$isaaclab2_version"-*.whl "$isaaclab2_sources"
echo "$wanted" > "$stamp"
echo "[setup_rsl_rl3] done"
