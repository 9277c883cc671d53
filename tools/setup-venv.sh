#!/usr/bin/env bash
# Create .venv (once) and install nova-hoststatus with stock Nova 34 and
# everything the tests need, pinned by constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c constraints.txt \
    -r requirements.txt -r test-requirements.txt -e .
