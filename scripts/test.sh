#!/usr/bin/env bash
# Set up both test environments (idempotent) and run every test: the default environment (.venv: rsl_rl 5.5.1,
# IsaacLab 3) and the rsl_rl 3 environment (.venv-rsl3: Python 3.11, rsl-rl-lib 3.0.1, IsaacLab 2.3.2's sources
# without Isaac Sim); tests/conftest.py selects each environment's part. Both runs always run; the exit status fails
# if either does. Extra arguments go to both pytest runs (e.g. -x, -k <expression>).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
./scripts/setup_rsl_rl3.sh
status=0
echo "[test] rsl_rl 5.5.1 / IsaacLab 3 environment (.venv)"
.venv/bin/python -m pytest "$@" || status=$?
echo "[test] rsl_rl 3.0.1 / IsaacLab 2.3 environment (.venv-rsl3)"
.venv-rsl3/bin/python -m pytest "$@" || status=$?
exit "$status"
