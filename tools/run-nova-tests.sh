#!/usr/bin/env bash
# Nova's own functional tests of a series (tools/series.sh, 2026.2 by
# default), run once with stock Nova's api-paste.ini and once with the
# package's, compared: exits 1 if a test that passes on stock does not pass
# with nova-hoststatus. See tools/nova_tests.py.
#
# Usage: [HOSTSTATUS_SERIES=2025.1] tools/run-nova-tests.sh [--all]
#            [--concurrency N] [REGEX ...]
#   (default)   the series' selection: tools/nova-tests.txt for 2026.2,
#               tools/nova-tests-<series>.txt for the others
#   --all       all of nova.tests.functional.api_sample_tests, ~20 min a run
#   REGEX ...   stestr regexes instead of the selection
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/series.sh
tools/setup-venv.sh
exec "$SERIES_VENV/bin/python" tools/nova_tests.py "$@"
