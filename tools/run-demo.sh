#!/usr/bin/env bash
# The main job: the host fault scenario on an embedded, in-process Nova.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-venv.sh
exec .venv/bin/python -W ignore -m nova_hoststatus.demo "$@"
