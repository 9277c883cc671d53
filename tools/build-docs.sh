#!/usr/bin/env bash
# Build the documentation, every warning an error:
#   docs          doc/source into doc/build/html, with the configuration,
#                 policy and command references generated from the code
#   api-ref       api-ref/source into api-ref/build/html
#   releasenotes  reno lint, then releasenotes/source into
#                 releasenotes/build/html
#
#   tools/build-docs.sh [docs] [api-ref] [releasenotes]    # default: all
#
# Runs in .venv (tools/setup-venv.sh, plus doc/requirements.txt under
# constraints.txt), or in the environment HOSTSTATUS_VENV names, which must
# have them installed already (tox sets it to its own). The docs do not
# depend on the Nova series: always 2026.2's.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${HOSTSTATUS_VENV-}" ]; then
    bin=$HOSTSTATUS_VENV/bin
else
    HOSTSTATUS_SERIES=2026.2 tools/setup-venv.sh
    bin=.venv/bin
    "$bin/python" -m pip install -q -c constraints.txt \
        -r doc/requirements.txt
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(docs api-ref releasenotes)
fi

sphinx() {
    # From scratch, so that no page or warning of an earlier build stays.
    rm -rf "$2"
    "$bin/python" -m sphinx -W --keep-going -q -b html "$1" "$2"
    echo "built $2/index.html"
}

for target in "${targets[@]}"; do
    case $target in
        docs) sphinx doc/source doc/build/html ;;
        api-ref) sphinx api-ref/source api-ref/build/html ;;
        releasenotes)
            "$bin/reno" -q lint
            sphinx releasenotes/source releasenotes/build/html
            ;;
        *)
            echo "$target: not docs, api-ref or releasenotes" >&2
            exit 2
            ;;
    esac
done
