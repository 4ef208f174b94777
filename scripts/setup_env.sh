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
# compat mode puts the checkout on sys.path, so the benchmarks/ package (not in the wheel) is
# importable by the `perfloop` script too.
"$VENV/bin/python" -m pip install -q -e ".[dev,agents,bench]" --config-settings editable_mode=compat
# Headless Chromium for the dashboard's browser test; guarded, never fails set-up (the test skips).
bash "$(dirname "$0")/install_browser.sh" || true
