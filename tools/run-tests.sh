#!/usr/bin/env bash
# Every check: style, unit and functional tests against real Nova services.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-venv.sh
.venv/bin/flake8 nova_hoststatus tests tools benchmarks
status=0
.venv/bin/stestr run "$@" || status=$?
# One closing line, whatever the runner printed above it.
.venv/bin/stestr last --subunit | .venv/bin/subunit-stats 2>/dev/null |
    awk '/^Passed tests:/ {p=$3} /^Failed tests:/ {f=$3}
         /^Skipped tests:/ {s=$3}
         END {printf "%d passed, %d failed, %d skipped\n", p, f, s}'
exit $status
