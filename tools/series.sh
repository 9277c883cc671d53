#!/usr/bin/env bash
# Sourced by the tools/ scripts, from the top of the checkout: the Nova
# series they run against, chosen with HOSTSTATUS_SERIES.
#
#   HOSTSTATUS_SERIES  stock Nova  environment    constraints
#   2026.2 (default)   34.0.0      .venv          constraints.txt
#   2026.1             33.0.2      .venv-2026.1   constraints/2026.1.txt
#   2025.1             31.3.1      .venv-2025.1   constraints/2025.1.txt
#
# Sets SERIES, SERIES_VENV, SERIES_CONSTRAINTS and SERIES_MODES (the
# threading modes Nova's own test fixtures run in on that series).
SERIES=${HOSTSTATUS_SERIES:-2026.2}
case $SERIES in
    2026.2)
        SERIES_VENV=.venv
        SERIES_CONSTRAINTS=constraints.txt
        SERIES_MODES="native eventlet"
        ;;
    2026.1 | 2025.1)
        SERIES_VENV=.venv-$SERIES
        SERIES_CONSTRAINTS=constraints/$SERIES.txt
        # Nova 33's test fixtures walk eventlet's greenthreads, Nova 31 has
        # no native threads at all.
        SERIES_MODES=eventlet
        ;;
    *)
        echo "HOSTSTATUS_SERIES=$SERIES: not 2026.2, 2026.1 or 2025.1" >&2
        exit 2
        ;;
esac
export HOSTSTATUS_SERIES=$SERIES
