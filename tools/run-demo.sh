#!/usr/bin/env bash
# The main job: the host fault scenario on an embedded, in-process Nova, of
# the series tools/series.sh names (2026.2 by default).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/series.sh
tools/setup-venv.sh
exec "$SERIES_VENV/bin/python" -W ignore -m nova_hoststatus.demo "$@"
