#!/bin/bash
#
# Minimal stand-ins for the devstack helpers the plugin calls, so that its
# phases run against files in a temporary directory. Written for these
# tests: each one does what the plugin relies on and records calls that
# would change the system (pip, systemctl) in $SHIM_LOG instead.

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
# missing, else replace the value and keep the "option = " part.
function iniset {
    local file=$1 section=$2 option=$3 value=$4
    local has tmp
    touch "$file"
    if ! grep -qxF "[$section]" "$file"; then
        printf '\n[%s]\n' "$section" >> "$file"
    fi
    has=$(_shim_has_option "$file" "$section" "$option")
    tmp=$(mktemp)
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
    cat "$tmp" > "$file"
    rm -f "$tmp"
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

# inicomment file section option: prefix the option's line with #.
function inicomment {
    local file=$1 section=$2 option=$3
    local tmp
    tmp=$(mktemp)
    awk -v section="$section" -v option="$option" '
        /^\[.*\][ \t]*$/ { in_section = ($0 == "[" section "]") }
        in_section && index($0, "=") {
            key = substr($0, 1, index($0, "=") - 1)
            gsub(/[ \t]+$/, "", key)
            if (key == option) { $0 = "#" $0 }
        }
        { print }
    ' "$file" > "$tmp"
    cat "$tmp" > "$file"
    rm -f "$tmp"
}

function setup_develop {
    _shim_log "setup_develop $* PIP_VIRTUAL_ENV=${PIP_VIRTUAL_ENV:-}"
}

function pip_uninstall {
    _shim_log "pip_uninstall $*"
}

function run_process {
    _shim_log "run_process $*"
}

function stop_process {
    _shim_log "stop_process $*"
}

# Devstack runs "sudo systemctl"; here systemctl calls are only recorded.
function shim_systemctl {
    _shim_log "systemctl $*"
}
SYSTEMCTL=shim_systemctl

# Variables stack.sh and lib/nova set before plugins run, from the test's
# environment.
NOVA_BIN_DIR=${SHIM_NOVA_BIN_DIR:-/usr/local/bin}
declare -A GITDIR PROJECT_VENV
GITDIR[nova-hoststatus]=${SHIM_PLUGIN_DIR:?}
if [[ -n "${SHIM_NOVA_VENV:-}" ]]; then
    PROJECT_VENV[nova]=$SHIM_NOVA_VENV
fi
DEST=${DEST:-/opt/stack}
USE_VENV=${USE_VENV:-False}
NOVA_CONF_DIR=${NOVA_CONF_DIR:?}
NOVA_CONF=${NOVA_CONF:-$NOVA_CONF_DIR/nova.conf}
NOVA_API_PASTE_INI=${NOVA_API_PASTE_INI:-$NOVA_CONF_DIR/api-paste.ini}
NOVA_UWSGI_CONF=${NOVA_UWSGI_CONF:-$NOVA_CONF_DIR/nova-api-uwsgi.ini}
NOVA_NOTIFICATION_FORMAT=${NOVA_NOTIFICATION_FORMAT:-unversioned}
SYSTEMD_DIR=${SYSTEMD_DIR:?}
SHIM_LOG=${SHIM_LOG:?}
