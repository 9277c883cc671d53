#!/usr/bin/env bash
# Create the environment of a Nova series (once) and install nova-hoststatus
# into it with that series' stock Nova and everything the tests need, pinned
# by the series' constraints (tools/series.sh):
#
#   tools/setup-venv.sh                            # .venv, Nova 34 (2026.2)
#   HOSTSTATUS_SERIES=2025.1 tools/setup-venv.sh   # .venv-2025.1, Nova 31
#
# The checkout is installed editable; HOSTSTATUS_WHEEL=dist/<wheel> installs
# that built wheel instead, as a deployer does (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/series.sh
PYTHON=${PYTHON:-python3}
# A .venv *file* is a PEP 832 redirect, written by a tox that has no
# "venv_redirect = false" (tox.ini sets it); it only points at a tox
# environment, so the environment of the series takes its place.
if [ -f "$SERIES_VENV" ] && [ ! -L "$SERIES_VENV" ]; then
    echo "$SERIES_VENV is a redirect file ($(head -1 "$SERIES_VENV")):" \
        "replacing it with an environment" >&2
    rm -f "$SERIES_VENV"
fi
if [ ! -x "$SERIES_VENV/bin/python" ]; then
    "$PYTHON" -m venv "$SERIES_VENV"
    # Out of git's sight, as Python 3.13's venv does.
    echo '*' > "$SERIES_VENV/.gitignore"
fi
pip=("$SERIES_VENV/bin/python" -m pip)
"${pip[@]}" install -q --upgrade pip
if [ -n "${HOSTSTATUS_WHEEL-}" ]; then
    "${pip[@]}" install -q -c "$SERIES_CONSTRAINTS" \
        -r test-requirements.txt "$HOSTSTATUS_WHEEL"
    # The wheel, not an editable checkout of the same version.
    "${pip[@]}" install -q --force-reinstall --no-deps "$HOSTSTATUS_WHEEL"
else
    "${pip[@]}" install -q -c "$SERIES_CONSTRAINTS" \
        -r requirements.txt -r test-requirements.txt -e .
fi
