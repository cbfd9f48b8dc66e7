#!/usr/bin/env bash
# Build the offline locomotion robots (Unitree H1, ANYmal-C and its actuator network) from their public descriptions
# into assets/, then check each against its description and record the descriptions' summaries (assets/robots.json).
#
# The conversion runs in its own environment, .venv-assets: IsaacLab's converters (isaaclab.sim.converters) need the
# importers of isaacsim-asset-isolated, whose USD packages conflict with .venv's. That environment sees .venv's
# packages after its own (a .pth file), so IsaacLab itself and the torch its config classes import come from .venv
# without a second install. The source repositories are cloned from GitHub into assets_cache/ unless given:
#   ./scripts/build_assets.sh --repository newton-physics/newton-assets=/path/to/clone \
#                             --repository leggedrobotics/legged_gym=/path/to/clone
# PROJECT_VENV names the project's environment (default .venv, created by scripts/setup.sh when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

importer_requirement="isaacsim-asset-isolated==6.2.0.0"
project_venv="${PROJECT_VENV:-.venv}"
asset_venv=.venv-assets
stamp="$asset_venv/.genpo_ext_installed"

[[ -x "$project_venv/bin/python" ]] || ./scripts/setup.sh
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$importer_requirement" ]]; then
  echo "[build_assets] creating $asset_venv with $importer_requirement (about 1.4 GB)"
  python_bin="$(command -v python3.12 || command -v python3)"
  [[ -x "$asset_venv/bin/python" ]] || "$python_bin" -m venv "$asset_venv"
  "$asset_venv/bin/python" -m pip install --upgrade --quiet pip
  "$asset_venv/bin/python" -m pip install --progress-bar off "$importer_requirement"
  echo "$importer_requirement" > "$stamp"
fi
project_site="$("$project_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
asset_site="$("$asset_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$project_site" > "$asset_site/zz_genpo_project_packages.pth"

export PYTHONPATH="$PWD/source/genpo_ext${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
"$asset_venv/bin/python" -m genpo_ext.isaaclab.asset_build.build "$@"
"$project_venv/bin/python" scripts/check_assets.py --write "$@"
