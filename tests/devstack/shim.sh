#!/bin/bash
#
# Minimal stand-ins for the devstack helpers the plugin calls, so that its
# phases run against files in a temporary directory. Written for these
# tests: each one does what the plugin relies on and records calls that
# would change the system (pip, systemctl) in $SHIM_LOG instead.
#
# Besides the helpers, small models of what devstack and the system do
# around the plugin:
#
# * background jobs (async_run, async_wait), and configure_neutron_nova,
#   which stack.sh runs in the background while the post-config phase
#   runs: it reads Nova's files when it starts and writes them back only
#   once it is waited for, the widest window in which the read, change and
#   rename of devstack's iniset can lose another writer's lines;
# * start_nova: nova-cpu.conf made from nova.conf, the cell conductors
#   enabled, as lib/nova does between post-config and extra;
# * pip: an install whose dependencies include a nova that devstack's git
#   Nova ($SHIM_NOVA_VERSION) does not satisfy fails, as pip would replace
#   that Nova or refuse (nova_requirement.py);
# * systemd: units (re)started record the command they run; is-active and
#   the journal answer from it, so a service runs the package's
#   ServiceGroup driver only if its unit's command is one of the package's
#   console scripts. $SHIM_FAILED_UNITS crash when started,
#   $SHIM_SILENT_UNITS run but never log their driver.

function _shim_log {
    echo "$*" >> "$SHIM_LOG"
}

function die {
    local line=$1
    shift
    echo "[ERROR] plugin.sh:$line $*" >&2
    exit 1
}

function echo_summary {
    echo "summary: $*"
}

function define_plugin {
    _shim_log "define_plugin $*"
}

# As devstack's: what local.conf disabled (DISABLED_SERVICES) stays so.
function enable_service {
    local service
    for service in "$@"; do
        if [[ ",${DISABLED_SERVICES:-}," == *",$service,"* ]]; then
            continue
        fi
        if [[ ",$ENABLED_SERVICES," != *",$service,"* ]]; then
            ENABLED_SERVICES+=",$service"
        fi
    done
    ENABLED_SERVICES=${ENABLED_SERVICES#,}
}

# Enabled if listed, with devstack's two special cases the plugin meets:
# "nova" means any n-* service, n-cpu-N follows n-cpu.
function is_service_enabled {
    local service
    for service in "$@"; do
        if [[ ",$ENABLED_SERVICES," == *",$service,"* ]]; then
            return 0
        fi
        if [[ "$service" == nova && ",$ENABLED_SERVICES" == *,n-* ]]; then
            return 0
        fi
        if [[ "$service" == n-cpu-* && \
                ",$ENABLED_SERVICES," == *",n-cpu,"* ]]; then
            return 0
        fi
    done
    return 1
}

# trueorfalse default VARNAME: True or False from VARNAME's value.
function trueorfalse {
    local default=$1
    local value=${!2:-}
    case "$value" in
        [Tt]rue|[Yy]es|1|[Oo]n) echo True ;;
        [Ff]alse|[Nn]o|0|[Oo]ff) echo False ;;
        *) echo "$default" ;;
    esac
}

# Root runs the tests; what the plugin does with sudo it does as is.
function sudo {
    "$@"
}

# iniset file section option value: as devstack's, add the section at the
# end if missing, add the option right after the section header if
# missing, else replace the value and keep the "option = " part. The new
# content replaces the file by a rename, as sed -i does.
function iniset {
    local file=$1 section=$2 option=$3 value=$4
    local has tmp
    touch "$file"
    if ! grep -qxF "[$section]" "$file"; then
        printf '\n[%s]\n' "$section" >> "$file"
    fi
    has=$(_shim_has_option "$file" "$section" "$option")
    tmp=$(mktemp "$file.XXXXXX")
    awk -v section="$section" -v option="$option" -v value="$value" \
            -v has="$has" '
        /^\[.*\][ \t]*$/ {
            in_section = ($0 == "[" section "]")
            print
            if (in_section && !has) {
                print option " = " value
                has = 1
            }
            next
        }
        in_section && index($0, "=") {
            key = substr($0, 1, index($0, "=") - 1)
            gsub(/[ \t]+$/, "", key)
            if (key == option) {
                match($0, /^[^=]*=[ \t]*/)
                $0 = substr($0, 1, RLENGTH) value
            }
        }
        { print }
    ' "$file" > "$tmp"
    mv -f "$tmp" "$file"
}

# 1 if the option is set in the section, else nothing.
function _shim_has_option {
    awk -v section="$2" -v option="$3" '
        /^\[.*\][ \t]*$/ { in_section = ($0 == "[" section "]"); next }
        in_section && index($0, "=") {
            key = substr($0, 1, index($0, "=") - 1)
            gsub(/[ \t]+$/, "", key)
            if (key == option) { print 1; exit }
        }
    ' "$1"
}

# iniget file section option: the value, blanks around it removed.
function iniget {
    [[ -f "$1" ]] || return 0
    awk -v section="$2" -v option="$3" '
        /^\[.*\][ \t]*$/ { in_section = ($0 == "[" section "]"); next }
        in_section && index($0, "=") {
            key = substr($0, 1, index($0, "=") - 1)
            gsub(/[ \t]+$/, "", key)
            if (key == option) {
                value = substr($0, index($0, "=") + 1)
                gsub(/^[ \t]+|[ \t]+$/, "", value)
                print value
                exit
            }
        }
    ' "$1"
}

# _shim_ini_edit file section option comment|delete
function _shim_ini_edit {
    local file=$1 section=$2 option=$3 action=$4
    local tmp
    tmp=$(mktemp "$file.XXXXXX")
    awk -v section="$section" -v option="$option" -v action="$action" '
        /^\[.*\][ \t]*$/ { in_section = ($0 == "[" section "]") }
        in_section && index($0, "=") {
            key = substr($0, 1, index($0, "=") - 1)
            gsub(/[ \t]+$/, "", key)
            if (key == option) {
                if (action == "delete") { next }
                $0 = "#" $0
            }
        }
        { print }
    ' "$file" > "$tmp"
    mv -f "$tmp" "$file"
}

# inicomment file section option: prefix the option's line with #.
function inicomment {
    _shim_ini_edit "$1" "$2" "$3" comment
}

# inidelete file section option: remove the option's line.
function inidelete {
    _shim_ini_edit "$1" "$2" "$3" delete
}

# lib/nova's name of a cell conductor's file.
function conductor_conf {
    echo "$NOVA_CONF_DIR/nova_cell$1.conf"
}

# Python packages
# ---------------

# _shim_nova_requirement: read requirement lines, fail if one names a nova
# that devstack's git Nova does not satisfy.
function _shim_nova_requirement {
    "$SHIM_PYTHON" "$SHIM_DIR/nova_requirement.py" "$SHIM_NOVA_VERSION"
}

# pip_install args: recorded; as pip, the requirements of a project (its
# requirements.txt, unless --no-deps) and of -r files are resolved against
# the installed Nova.
function pip_install {
    local no_deps=False
    local logged=""
    local projects=""
    local files=""
    local reqs project
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --no-deps)
                no_deps=True
                logged+=" $1"
                ;;
            -r)
                reqs=$(grep -v -E '^[[:space:]]*(#|$)' "$2" | paste -sd, -)
                logged+=" -r $reqs"
                files+=" $2"
                shift
                ;;
            -e)
                logged+=" -e $2"
                projects+=" $2"
                shift
                ;;
            -*)
                logged+=" $1"
                ;;
            *)
                logged+=" $1"
                projects+=" $1"
                ;;
        esac
        shift
    done
    _shim_log "pip_install${logged} PIP_VIRTUAL_ENV=${PIP_VIRTUAL_ENV:-}"
    if [[ "$no_deps" == "False" ]]; then
        for project in $projects; do
            files+=" $project/requirements.txt"
        done
    fi
    for reqs in $files; do
        if [[ -f "$reqs" ]]; then
            _shim_nova_requirement < "$reqs"
        fi
    done
}

# As devstack's (without the constraints edit): pip_install -e project.
function setup_develop {
    pip_install -e "$1"
}

function pip_uninstall {
    _shim_log "pip_uninstall $*"
}

function safe_chown {
    _shim_log "safe_chown $*"
}

# Background jobs
# ---------------

# async_run name command...: in the background with DEVSTACK_PARALLEL, as
# devstack's; async_wait name... waits for each, prints its output and
# fails if it failed; a name never started or waited already is skipped.
function async_run {
    local name=$1
    shift
    mkdir -p "$SHIM_ASYNC_DIR"
    if [[ "$DEVSTACK_PARALLEL" == "True" ]]; then
        "$@" > "$SHIM_ASYNC_DIR/$name.log" 2>&1 &
        echo $! > "$SHIM_ASYNC_DIR/$name.pid"
    else
        echo self > "$SHIM_ASYNC_DIR/$name.pid"
        "$@"
    fi
}

function async_runfunc {
    async_run "$1" "$@"
}

function async_wait {
    local name pid
    local rc=0
    for name in "$@"; do
        if [[ ! -f "$SHIM_ASYNC_DIR/$name.pid" ]]; then
            echo "Not waiting for async task $name that we never started" \
                "or has already been waited for"
            continue
        fi
        pid=$(cat "$SHIM_ASYNC_DIR/$name.pid")
        touch "$SHIM_ASYNC_DIR/$name.waited"
        if [[ "$pid" != "self" ]]; then
            wait "$pid" || rc=$?
            cat "$SHIM_ASYNC_DIR/$name.log"
        fi
        rm -f "$SHIM_ASYNC_DIR/$name.pid"
        if [[ $rc -ne 0 ]]; then
            echo "async job $name failed with $rc"
            break
        fi
    done
    return $rc
}

# _shim_until_waited name: in a background job, block until stack.sh
# waits for it (at most 10 seconds).
function _shim_until_waited {
    local tries=100
    [[ "$BASHPID" != "$$" ]] || return 0
    while [[ ! -e "$SHIM_ASYNC_DIR/$1.waited" && $tries -gt 0 ]]; do
        command sleep 0.1
        tries=$((tries - 1))
    done
}

# lib/neutron's configure_neutron_nova: [neutron] options in nova.conf and,
# with a superconductor, in each cell conductor's file.
function configure_neutron_nova {
    local conf i
    local confs=$NOVA_CONF
    if [[ "$CELLSV2_SETUP" == "superconductor" ]]; then
        for i in $(seq 1 "$NOVA_NUM_CELLS"); do
            confs+=" $(conductor_conf "$i")"
        done
    fi
    for conf in $confs; do
        cp "$conf" "$conf.neutron"
        iniset "$conf.neutron" neutron region_name RegionOne
        iniset "$conf.neutron" DEFAULT vif_plugging_timeout 300
    done
    _shim_until_waited configure_neutron_nova
    if [[ "${SHIM_NEUTRON_FAILS:-}" == "True" ]]; then
        echo "configure_neutron_nova failed"
        return 1
    fi
    for conf in $confs; do
        mv -f "$conf.neutron" "$conf"
    done
}

# lib/nova's start_nova, as far as the plugin sees it: nova-cpu.conf is
# made from nova.conf (on the cell's vhost, without databases) and the
# conductors of the superconductor layout are enabled. The units are the
# test's.
function start_nova {
    local i
    cp "$NOVA_CONF" "$NOVA_CPU_CONF"
    if [[ "$CELLSV2_SETUP" == "superconductor" ]]; then
        iniset "$NOVA_CPU_CONF" DEFAULT transport_url \
            "$SHIM_TRANSPORT_URL/nova_cell$NOVA_CPU_CELL"
        if is_service_enabled n-cond; then
            enable_service n-super-cond
            for i in $(seq 1 "$NOVA_NUM_CELLS"); do
                enable_service "n-cond-cell$i"
            done
        fi
    fi
    inidelete "$NOVA_CPU_CONF" database connection
    inidelete "$NOVA_CPU_CONF" api_database connection
}

# systemd
# -------

function _shim_listed {
    [[ " ${2//,/ } " == *" $1 "* ]]
}

# _shim_started unit [command]: the unit runs its command, or its
# drop-in's, from now on.
function _shim_started {
    local unit=$1 command=${2:-}
    local file=$SYSTEMD_DIR/$1
    if [[ -z "$command" ]]; then
        command=$(iniget "$file" Service ExecStart)
        local dropin
        for dropin in "$file".d/*.conf; do
            [[ -f "$dropin" ]] || continue
            command=$(sed -n 's/^ExecStart=//p' "$dropin" | tail -1)
        done
    fi
    mkdir -p "$SHIM_RUN_DIR"
    echo "$command" > "$SHIM_RUN_DIR/$unit"
}

# State of a unit; as systemctl is-active, 0 only if active.
function _shim_unit_state {
    if _shim_listed "$1" "${SHIM_FAILED_UNITS:-}"; then
        echo failed
        return 3
    fi
    echo active
}

# journalctl _SYSTEMD_INVOCATION_ID=invocation-<unit>: the log of the
# unit's current run.
function journalctl {
    local arg unit command
    for arg in "$@"; do
        if [[ "$arg" == _SYSTEMD_INVOCATION_ID=invocation-* ]]; then
            unit=${arg#_SYSTEMD_INVOCATION_ID=invocation-}
        fi
    done
    [[ -n "${unit:-}" && -f "$SHIM_RUN_DIR/$unit" ]] || return 0
    command=$(cat "$SHIM_RUN_DIR/$unit")
    command=${command%% *}
    if _shim_listed "$unit" "${SHIM_FAILED_UNITS:-}"; then
        echo "CRITICAL nova [-] Unhandled error: ImportError"
    elif _shim_listed "$unit" "${SHIM_SILENT_UNITS:-}"; then
        echo "INFO oslo_service.backend [-] Loading backend: threading"
    elif [[ "${command##*/}" == nova-hoststatus-* ]]; then
        echo "INFO nova_hoststatus.servicegroup.drivers.base [-]" \
            "ServiceGroup driver" \
            "nova_hoststatus.servicegroup.drivers.db.DbDriver in use:" \
            "forced-down services are reported down by the driver."
    else
        echo "INFO nova.service [-] Starting ${command##*/} node"
    fi
}

# Devstack runs "sudo systemctl"; here what changes the system is only
# recorded, and queries answer from what was started.
function shim_systemctl {
    local unit=${!#}
    case "$1" in
        is-active)
            _shim_unit_state "$unit"
            ;;
        show)
            # show --property InvocationID --value <unit>
            echo "invocation-$unit"
            ;;
        status)
            echo "* $unit - $(_shim_unit_state "$unit")"
            ;;
        *)
            _shim_log "systemctl $*"
            if [[ "$1" == "restart" || "$1" == "start" ]]; then
                _shim_started "$unit"
            fi
            ;;
    esac
}
SYSTEMCTL=shim_systemctl

function run_process {
    _shim_log "run_process $*"
    if is_service_enabled "$1"; then
        _shim_started "devstack@$1.service" "$2"
    fi
}

function stop_process {
    _shim_log "stop_process $*"
}

# Variables stack.sh and lib/nova set before plugins run, from the test's
# environment.
NOVA_BIN_DIR=${SHIM_NOVA_BIN_DIR:-/usr/local/bin}
# The package's manage command, logged rather than run.
HOSTSTATUS_MANAGE="_shim_log $NOVA_BIN_DIR/nova-hoststatus-manage"
declare -A GITDIR PROJECT_VENV
GITDIR[nova-hoststatus]=${SHIM_PLUGIN_DIR:?}
if [[ -n "${SHIM_NOVA_VENV:-}" ]]; then
    PROJECT_VENV[nova]=$SHIM_NOVA_VENV
fi
DEST=${DEST:-/opt/stack}
STACK_USER=${STACK_USER:-stack}
USE_VENV=${USE_VENV:-False}
GLOBAL_VENV=${GLOBAL_VENV:-True}
DEVSTACK_PARALLEL=${DEVSTACK_PARALLEL:-True}
CELLSV2_SETUP=${CELLSV2_SETUP:-superconductor}
NOVA_NUM_CELLS=${NOVA_NUM_CELLS:-1}
NOVA_CPU_CELL=${NOVA_CPU_CELL:-1}
NOVA_CONF_DIR=${NOVA_CONF_DIR:?}
NOVA_CONF=${NOVA_CONF:-$NOVA_CONF_DIR/nova.conf}
NOVA_CPU_CONF=${NOVA_CPU_CONF:-$NOVA_CONF_DIR/nova-cpu.conf}
NOVA_API_PASTE_INI=${NOVA_API_PASTE_INI:-$NOVA_CONF_DIR/api-paste.ini}
NOVA_UWSGI_CONF=${NOVA_UWSGI_CONF:-$NOVA_CONF_DIR/nova-api-uwsgi.ini}
NOVA_NOTIFICATION_FORMAT=${NOVA_NOTIFICATION_FORMAT:-unversioned}
SYSTEMD_DIR=${SYSTEMD_DIR:?}
SHIM_LOG=${SHIM_LOG:?}
SHIM_PYTHON=${SHIM_PYTHON:-python3}
SHIM_NOVA_VERSION=${SHIM_NOVA_VERSION:-34.1.0.dev3}
SHIM_TRANSPORT_URL=${SHIM_TRANSPORT_URL:-\
rabbit://stackrabbit:secret@127.0.0.1:5672}
SHIM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SHIM_ASYNC_DIR=$DEST/async
SHIM_RUN_DIR=$DEST/shim-systemd
