#!/usr/bin/env bash
# Style: flake8 with hacking on the Python code and bashate on the shell
# scripts. tools/run-tests.sh starts with it.
#
# Runs in .venv (tools/setup-venv.sh), or in the environment
# HOSTSTATUS_VENV names, which must have test-requirements.txt installed
# (tox sets it to its own).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${HOSTSTATUS_VENV-}" ]; then
    bin=$HOSTSTATUS_VENV/bin
else
    # .venv is 2026.2's, whatever series the caller set.
    HOSTSTATUS_SERIES=2026.2 tools/setup-venv.sh
    bin=.venv/bin
fi

"$bin/flake8" nova_hoststatus tests tools benchmarks
# Every rule an error, as tests/unit/test_devstack_plugin.py runs it.
"$bin/bashate" --error E tools/*.sh .ci/run devstack/plugin.sh \
    devstack/settings tests/devstack/*.sh
