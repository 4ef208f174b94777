#!/usr/bin/env bash
# Creates the project's virtual environment and installs perfloop with its dev, agents and bench extras.
# torch is installed first, pinned, so pip takes the CPU build on disk instead of a CUDA one.
set -euo pipefail
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
"$VENV/bin/python" -m pip install -q -e ".[dev,agents,bench]"
# The benchmarks/ package is not in the wheel (nor in the editable install's package map): put the
# checkout on the venv's path so `perfloop bench ...` finds it.
"$VENV/bin/python" - <<'PY'
import pathlib, sysconfig
pth = pathlib.Path(sysconfig.get_paths()["purelib"]) / "perfloop-checkout.pth"
pth.write_text(str(pathlib.Path.cwd().resolve()) + "\n")
PY
# Headless Chromium for the dashboard's browser test; guarded, never fails set-up (the test skips).
bash "$(dirname "$0")/install_browser.sh" || true
