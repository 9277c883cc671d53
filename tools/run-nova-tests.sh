#!/usr/bin/env bash
# Nova 34's own functional tests, run once with stock Nova's api-paste.ini
# and once with the package's, compared: exits 1 if a test that passes on
# stock does not pass with nova-hoststatus. See tools/nova_tests.py.
#
# Usage: tools/run-nova-tests.sh [--all] [--concurrency N] [REGEX ...]
#   (default)   the selection of tools/nova-tests.txt, a few minutes
#   --all       all of nova.tests.functional.api_sample_tests, ~20 min a run
#   REGEX ...   stestr regexes instead of the selection
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-venv.sh
exec .venv/bin/python tools/nova_tests.py "$@"
