#!/usr/bin/env bash
# Create the project's environment in .venv (Python 3.12, as .python-version says) and install genpo_ext with its
# IsaacLab, gymnasium and test extras. Idempotent: a second run with an unchanged setup.py does nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=.venv
stamp="$venv/.genpo_ext_installed"
wanted="$(sha256sum setup.py | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  echo "[setup] $venv is up to date"
  exit 0
fi

python_bin="$(command -v python3.12 || command -v python3 || true)"
if [[ -z "$python_bin" ]] || ! "$python_bin" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then
  echo "[setup] error: IsaacLab 3 needs Python 3.12; install it (e.g. 'pyenv install 3.12') and rerun." >&2
  exit 1
fi

echo "[setup] creating $venv with $("$python_bin" --version) and installing genpo_ext[all] (IsaacLab 3 included:" \
  "about 5 minutes and 8 GB on a fresh machine)"
[[ -x "$venv/bin/python" ]] || "$python_bin" -m venv "$venv"
"$venv/bin/python" -m pip install --upgrade --quiet pip
"$venv/bin/python" -m pip install --progress-bar off -e ".[all]"
echo "$wanted" > "$stamp"
echo "[setup] done"
