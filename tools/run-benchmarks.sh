#!/usr/bin/env bash
# The performance tables of the README, measured in one run: host fault
# reports (the arguments go to benchmarks/host_fault.py), then recovery
# (benchmarks/recovery.py, its defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-venv.sh
.venv/bin/python -m pip install -q -c constraints.txt \
    -r benchmarks/requirements.txt
.venv/bin/python -W ignore benchmarks/host_fault.py "$@"
exec .venv/bin/python -W ignore benchmarks/recovery.py
