#!/usr/bin/env bash
#
# A scenario on a real local cloud, all on 127.0.0.1: Keystone, Placement,
# Nova in devstack's default cells layout (nova-api, the scheduler and the
# super-conductor on nova_cell0 and the top RabbitMQ vhost; cells cell1 and
# cell2, each with its own database, vhost and conductor, and fake-driver
# computes) started through this package's console scripts, RabbitMQ and
# MariaDB. Everything is stopped at the end, whatever happens. See
# doc/source/local-cloud.rst.
#
#   tools/run-local-cloud.sh [fault|masakari|guard|soak|alarms]
#
# fault: a host of cell2 fails, a sample fault monitor reports it, owners
# see SHUTOFF/DOWN, notifications arrive over RabbitMQ, the servers are
# evacuated within the cell, and a timeline is printed
# (tools/local_cloud/scenario.py).
#
# masakari: Masakari's API and engine recover a host with this package's
# tasks, then two with Masakari's stock flow, without and after a report,
# side by side; then, with the package's tasks, a retried notification, an
# engine killed mid-flow and a reserved_host segment
# (tools/local_cloud/masakari_scenario.py).
#
# guard: the fault monitor is wrong: a host reported down while its
# nova-compute runs (contradicted, its evacuation refused, the report
# cleared with restore), then every host reported (the runaway guard)
# (tools/local_cloud/guard_scenario.py).
#
# soak: cycles of host faults with concurrent monitors and owners, two
# nova-api workers, killed processes, MariaDB and RabbitMQ restarted, then
# load, for HOSTSTATUS_SOAK_SECONDS (180) (tools/local_cloud/soak.py).
#
# alarms: the fault scenario with Ceilometer's notification agent and Aodh;
# the owners of two projects are alarmed through event alarms of their own,
# timed from the fault (tools/local_cloud/alarms.py).
#
# What runs where is data, tools/local_cloud/topology.py, the Nova series
# included; this script installs the system packages and the series' venv,
# runs tools/local_cloud/deploy.py and stops everything it started.
#
# Needs root (apt-get) on Debian or Ubuntu, and PyPI.
#
# HOSTSTATUS_SERIES           2026.2 (default), 2026.1 or 2025.1: the Nova
#                             series, its venv and constraints
#                             (tools/series.sh)
# HOSTSTATUS_CLOUD_LAYOUT     superconductor (default) or single: one cell,
#                             whose database is also nova-api's
# HOSTSTATUS_CLOUD_PORT_BASE  first of 11 loopback ports (default: the
#                             first free block of 20 from 31100,
#                             below Linux's ephemeral ports)
# HOSTSTATUS_CLOUD_CACHE      where the Keystone, Masakari, Ceilometer and
#                             Aodh venvs are kept (~/.cache/nova-hoststatus;
#                             all but Keystone's one per series)
# HOSTSTATUS_CLOUD_KEEP       True: keep the state directory (configuration,
#                             logs; not the databases) after a success too

set -o errexit
set -o nounset
set -o pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
SCENARIO=${1:-fault}
LAYOUT=${HOSTSTATUS_CLOUD_LAYOUT:-superconductor}
# SERIES_VENV, SERIES_CONSTRAINTS; HOSTSTATUS_SERIES exported for the
# deployment.
source tools/series.sh
export PYTHONPATH=$REPO/tools${PYTHONPATH:+:$PYTHONPATH}
# The topology is standard library only: it checks the arguments before
# anything is installed.
if ! python3 -m local_cloud.topology "$SCENARIO" "$LAYOUT" > /dev/null; then
    echo "usage: $0 [fault|masakari|guard|soak|alarms]" >&2
    exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "$0: run it as root (apt-get; MariaDB runs as root)" >&2
    exit 1
fi
RUN_START=$(date +%s)
KEEP=${HOSTSTATUS_CLOUD_KEEP:-False}

STATE=$(mktemp -d /tmp/nova-hoststatus-cloud.XXXXXX)
LOGS=$STATE/logs
RUN=$STATE/run
mkdir -p "$LOGS" "$RUN"
VENV=$REPO/$SERIES_VENV

STEP_NAME=""
STEP_START=0


# Output
# ------

function say {
    printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"
}

# step NAME: time the previous step, start this one. The deployment adds
# its own steps to the same file.
function step {
    local now
    now=$(date +%s)
    if [[ -n "$STEP_NAME" ]]; then
        printf '%5d s  %s\n' $((now - STEP_START)) "$STEP_NAME" \
            >> "$STATE/steps"
    fi
    STEP_NAME=$1
    STEP_START=$now
    if [[ -n "$STEP_NAME" ]]; then
        say "== $STEP_NAME"
    fi
}


# Processes
# ---------

function port_open {
    (echo > "/dev/tcp/127.0.0.1/$1") 2> /dev/null
}

# stop NAME...: TERM their process groups ($RUN/NAME.pid), KILL what is
# left after 30 s.
function stop {
    local name pid i left
    local pids=()
    for name in "$@"; do
        [[ -f "$RUN/$name.pid" ]] || continue
        pid=$(cat "$RUN/$name.pid")
        rm -f "$RUN/$name.pid"
        if kill -TERM -- "-$pid" 2> /dev/null; then
            pids+=("$pid")
        fi
    done
    for i in $(seq 150); do
        left=""
        for pid in "${pids[@]}"; do
            if kill -0 -- "-$pid" 2> /dev/null; then
                left=$pid
            fi
        done
        [[ -n "$left" ]] || break
        sleep 0.2
    done
    for pid in "${pids[@]}"; do
        kill -KILL -- "-$pid" 2> /dev/null || true
    done
}

function teardown {
    local status=$?
    local name port services=()
    trap - EXIT INT TERM
    set +o errexit
    # The trap may run inside a command whose output goes to a log.
    exec 1>&3 2>&4
    step "stop everything"
    # The deployment and its scenario, the services together, then what
    # they use.
    stop deploy
    for name in "$RUN"/*.pid; do
        name=$(basename "$name" .pid)
        [[ "$name" == rabbitmq || "$name" == mariadb ]] ||
            services+=("$name")
    done
    stop "${services[@]}"
    stop rabbitmq mariadb
    # epmd daemonizes out of rabbitmq's process group.
    if [[ -x /usr/bin/epmd && -f "$RUN/epmd.port" ]]; then
        port=$(cat "$RUN/epmd.port")
        if port_open "$port"; then
            ERL_EPMD_PORT=$port /usr/bin/epmd -kill > /dev/null 2>&1
            for i in $(seq 50); do
                port_open "$port" || break
                sleep 0.2
            done
        fi
    fi
    # The databases' files are of no use after the run.
    rm -rf "$STATE/mysql" "$STATE/mysql-tmp" "$STATE/rabbitmq/mnesia"
    step ""
    say "Steps:"
    cat "$STATE/steps"
    say "Total: $(($(date +%s) - RUN_START)) s"
    if ((status != 0)); then
        say "FAILED (status $status). Logs: $LOGS"
        for name in "$LOGS"/*; do
            echo "---- $name (last lines)"
            tail -n 15 "$name"
        done
    elif [[ "$KEEP" == "True" ]]; then
        say "Configuration and logs kept in $STATE"
    else
        rm -rf "$STATE"
    fi
    exit "$status"
}
exec 3>&1 4>&2
trap teardown EXIT
trap 'exit 130' INT TERM


# Installation
# ------------

function install_packages {
    local missing="" package
    for package in rabbitmq-server mariadb-server; do
        dpkg -s "$package" > /dev/null 2>&1 || missing+=" $package"
    done
    [[ -n "$missing" ]] || return 0
    # The packages' own services must not start (they listen on every
    # interface); policy-rc.d is Debian's switch for that.
    local policy=/usr/sbin/policy-rc.d added=""
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        added=$policy
    fi
    local status=0
    {
        apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                --no-install-recommends $missing
    } > "$LOGS/apt.log" 2>&1 || status=$?
    rm -f $added
    return $status
}

function install_python {
    tools/setup-venv.sh > "$LOGS/setup-venv.log" 2>&1
    # The WSGI server and database driver of this deployment.
    "$VENV/bin/pip" install -q -c "$SERIES_CONSTRAINTS" gunicorn PyMySQL \
        > "$LOGS/pip.log" 2>&1
}


# Main
# ----

say "State, configuration and logs: $STATE"
step "install RabbitMQ, MariaDB (apt), gunicorn and PyMySQL (pip)"
install_packages
install_python
step ""

# In a session of its own, which the teardown stops first; waited for here
# so that a signal reaches the trap at once.
setsid "$VENV/bin/python" -m local_cloud.deploy "$SCENARIO" "$LAYOUT" \
    "$STATE" < /dev/null &
echo $! > "$RUN/deploy.pid"
wait $!
