#!/usr/bin/env bash
# The performance tables of the README, measured in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-venv.sh
.venv/bin/python -m pip install -q -c constraints.txt -r benchmarks/requirements.txt
exec .venv/bin/python -W ignore benchmarks/host_fault.py "$@"
