#!/usr/bin/env bash
# Every check of a Nova series (tools/series.sh, 2026.2 by default): style,
# then the unit and functional tests against real Nova services in native
# threading (Nova 34's default for its services), then under eventlet
# (deprecated, still supported by Nova 34) the tests whose code runs on
# threads or greenthreads: notifications, races, recovery, servicegroup
# drivers, the demo. Then the tasks for Masakari's engine, in a process of
# their own (tests/masakari/__init__.py). On 2026.1 and 2025.1 every test
# runs under eventlet only: their Nova's test fixtures know nothing else.
#
#   tools/run-tests.sh [STESTR_ARGS...]     # both passes, on these tests
#   HOSTSTATUS_SERIES=2025.1 tools/run-tests.sh   # on Nova 31, .venv-2025.1
#   OS_NOVA_DISABLE_EVENTLET_PATCHING=true tools/run-tests.sh    # native only
#   OS_NOVA_DISABLE_EVENTLET_PATCHING=false tools/run-tests.sh   # eventlet,
#                                                                # everything
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/series.sh
tools/setup-venv.sh
bin=$SERIES_VENV/bin
# The default series' stestr repository is .stestr; the others' are in
# their environment ($SERIES_VENV/.stestr), so that series never read each
# other's last run.
stestr=("$bin/stestr")
if [ "$SERIES" != 2026.2 ]; then
    stestr+=(--repo-url "$SERIES_VENV")
fi

# Style does not depend on the series: checked with the default one.
if [ "$SERIES" = 2026.2 ]; then
    HOSTSTATUS_VENV=$PWD/$SERIES_VENV tools/run-pep8.sh
fi

case "${OS_NOVA_DISABLE_EVENTLET_PATCHING-}" in
    "") modes=$SERIES_MODES ;;
    true) modes=native ;;
    *) modes=eventlet ;;
esac

# What differs between the modes: the emitter's worker, concurrent
# requests, the evacuation pool, heartbeats.
EVENTLET_MODULES='notifications|concurrency|recovery|servicegroup'
EVENTLET_MODULES+='|host_fault_report|demo|watcher|cells'
EVENTLET_TESTS="tests\.unit|tests\.functional\.test_($EVENTLET_MODULES)"

status=0
summary=()
all_passed=0 all_failed=0 all_skipped=0

# count NAME: add the last run's counts to the summary.
function count {
    local counts passed failed skipped
    # subunit-stats exits 1 when a test failed: the counts say it.
    counts=$({ "${stestr[@]}" last --subunit |
        "$bin/subunit-stats" 2>/dev/null || true; } |
        awk '/^Passed tests:/ {p=$3} /^Failed tests:/ {f=$3}
            /^Skipped tests:/ {s=$3} END {print p+0, f+0, s+0}')
    read -r passed failed skipped <<<"$counts"
    summary+=("$SERIES $1: $passed passed, $failed failed, $skipped skipped")
    all_passed=$((all_passed + passed))
    all_failed=$((all_failed + failed))
    all_skipped=$((all_skipped + skipped))
}

for mode in $modes; do
    echo "== $SERIES: tests under $mode threading"
    patching=true
    selection=("$@")
    if [ "$mode" = eventlet ]; then
        patching=false
        if [ $# -eq 0 ] && [ "$modes" != eventlet ]; then
            selection=("$EVENTLET_TESTS")
        fi
    fi
    OS_NOVA_DISABLE_EVENTLET_PATCHING=$patching \
        "${stestr[@]}" run "${selection[@]}" || status=$?
    count "$mode"
done
if [ $# -eq 0 ]; then
    echo "== $SERIES: the tasks for Masakari's engine"
    # Under eventlet, as masakari-engine runs.
    NOVA_HOSTSTATUS_MASAKARI_TESTS=1 OS_NOVA_DISABLE_EVENTLET_PATCHING=false \
        "${stestr[@]}" --test-path ./tests/masakari run || status=$?
    count masakari
fi
printf '%s\n' "${summary[@]}"
# One closing line, whatever the runner printed above it.
echo "$all_passed passed, $all_failed failed, $all_skipped skipped"
exit $status
