#!/bin/bash
#
# plugin.sh - DevStack plugin of nova-hoststatus
#
# stack install      install the package into Nova's Python environment
# stack post-config  api-paste.ini, nova-api's WSGI module, notifications
#                    in nova.conf and in each cell conductor's file, the
#                    NFV policy sample; the Nova services start after this
# stack extra        the package's table in the API database (db sync);
#                    nova-compute, nova-conductor and nova-scheduler run
#                    the package's console scripts (systemd drop-ins);
#                    hs-watcher (nova-hoststatus-watcher) starts; each must
#                    come up with the package's ServiceGroup driver
# unstack            stop hs-watcher, remove the drop-ins
# clean              remove the drop-ins and the policy file, uninstall
#
# Nothing of Nova's code is changed: see devstack/README.rst.

# Save trace setting
_XTRACE_HOSTSTATUS=$(set +o | grep xtrace)
set +o xtrace

HOSTSTATUS_POLICY_FILE=nfv-owner-host-status.yaml
HOSTSTATUS_DROPIN=nova-hoststatus.conf
# Logged once by each process that runs the package's ServiceGroup driver.
HOSTSTATUS_DRIVER_LOG="ServiceGroup driver nova_hoststatus."


# Functions
# ---------

# install_nova_hoststatus - into Nova's environment: its own venv with
# USE_VENV, else the one pip_install picks (the global venv).
function install_nova_hoststatus {
    local venv=""
    local requirements egg_info
    if [[ "$USE_VENV" == "True" && -n "${PROJECT_VENV[nova]:-}" ]]; then
        venv=${PROJECT_VENV[nova]}
    fi
    # Nova here is devstack's git checkout, whose version (a pre-release
    # on master) may be below the package's floor on nova: pip would then
    # replace it with a released Nova, or refuse. setup_develop cannot pass
    # --no-deps, so its pip_install is called directly: the package's other
    # requirements first (under devstack's constraints, as setup_develop
    # would), then the package itself without resolving its dependencies.
    requirements=$(mktemp)
    grep -v -i -E '^[[:space:]]*nova[[:space:]]*([<>=!~;[]|$)' \
        "$NOVA_HOSTSTATUS_DIR/requirements.txt" > "$requirements" || true
    PIP_VIRTUAL_ENV=$venv pip_install -r "$requirements"
    rm -f "$requirements"
    PIP_VIRTUAL_ENV=$venv pip_install --no-deps -e "$NOVA_HOSTSTATUS_DIR"
    # As setup_develop: pip run through sudo leaves root's egg-info.
    if [[ -z "$venv" && "$GLOBAL_VENV" == "False" ]]; then
        for egg_info in "$NOVA_HOSTSTATUS_DIR"/*.egg-info; do
            if [[ -d "$egg_info" ]]; then
                safe_chown -R "$STACK_USER" "$egg_info"
            fi
        done
    fi
}

# _hoststatus_notify_option file option - what Nova reads for a
# [notifications] option: its own group first, then its deprecated group
# [DEFAULT] (where lib/nova puts notify_on_state_change for Ceilometer).
function _hoststatus_notify_option {
    local value
    value=$(iniget "$1" notifications "$2")
    if [[ -z "$value" ]]; then
        value=$(iniget "$1" DEFAULT "$2")
    fi
    echo "$value"
}

# _hoststatus_notifications file format state_change - make the file send
# at least the given notifications, keeping what devstack and other
# plugins chose: an unset option is set, a set one only widened
# (versioned and unversioned make both; vm_and_task_state includes
# vm_state). [notifications] overrides [DEFAULT], so it is written only
# when the result differs from what Nova reads now.
function _hoststatus_notifications {
    local conf=$1 format=$2 state=$3
    local current
    current=$(_hoststatus_notify_option "$conf" notification_format)
    if [[ -n "$current" && "$current" != "$format" ]]; then
        format=both
    fi
    if [[ "$format" != "$current" ]]; then
        iniset "$conf" notifications notification_format "$format"
    fi
    current=$(_hoststatus_notify_option "$conf" notify_on_state_change)
    if [[ "$current" != "vm_and_task_state" && "$current" != "$state" ]]; then
        iniset "$conf" notifications notify_on_state_change "$state"
    fi
}

# _hoststatus_cell_conductors - in devstack's superconductor layout (its
# default) each cell conductor reads only nova_cell<N>.conf, its database
# and RabbitMQ vhost, with nothing about notifications. It runs
# Instance.save() for the computes of its cell, so the instance.update of
# compute-side changes (power state sync, an evacuated server running
# again) is sent from there: it gets nova.conf's notification settings.
# Its notifications go where nova.conf's go, where consumers listen, not
# to the cell's vhost. A file that is missing belongs to a conductor on
# another node.
function _hoststatus_cell_conductors {
    local i conf option value
    if [[ "$CELLSV2_SETUP" == "singleconductor" ]]; then
        return
    fi
    for i in $(seq 1 "$NOVA_NUM_CELLS"); do
        conf=$(conductor_conf "$i")
        if [[ ! -f "$conf" ]]; then
            continue
        fi
        for option in driver transport_url; do
            value=$(iniget "$NOVA_CONF" oslo_messaging_notifications \
                "$option")
            if [[ -n "$value" && -z "$(iniget "$conf" \
                    oslo_messaging_notifications "$option")" ]]; then
                iniset "$conf" oslo_messaging_notifications "$option" \
                    "$value"
            fi
        done
        _hoststatus_notifications "$conf" \
            "$(_hoststatus_notify_option "$NOVA_CONF" notification_format)" \
            "$(_hoststatus_notify_option "$NOVA_CONF" \
                notify_on_state_change)"
    done
}

# configure_nova_hoststatus - before devstack starts any Nova service, so
# that each starts with all of it and nova-api needs no restart.
function configure_nova_hoststatus {
    case "$HOSTSTATUS_NOTIFICATION_FORMAT" in
        versioned|both) ;;
        *) die $LINENO "HOSTSTATUS_NOTIFICATION_FORMAT must be versioned" \
            "or both, not '$HOSTSTATUS_NOTIFICATION_FORMAT'" ;;
    esac
    case "$HOSTSTATUS_NOTIFY_ON_STATE_CHANGE" in
        vm_state|vm_and_task_state) ;;
        *) die $LINENO "HOSTSTATUS_NOTIFY_ON_STATE_CHANGE must be" \
            "vm_state or vm_and_task_state," \
            "not '$HOSTSTATUS_NOTIFY_ON_STATE_CHANGE'" ;;
    esac

    # stack.sh runs configure_neutron_nova in the background from before
    # this phase until its async_wait just before nova-api starts; it
    # writes nova.conf and the cell conductors' files with iniset, and two
    # iniset's at once can lose either one's lines. No plugin phase runs
    # between that wait and the start of the services (extra comes after
    # they started), so wait for it here. stack.sh's own wait then has
    # nothing left to wait for: a failure of the job is reported here.
    if ! async_wait configure_neutron_nova; then
        die $LINENO "configure_neutron_nova failed"
    fi

    # nova-api, the scheduler, the super-conductor and the watcher read
    # nova.conf; lib/nova makes nova-cpu.conf from it when it starts the
    # computes, after this phase.
    _hoststatus_notifications "$NOVA_CONF" \
        "$HOSTSTATUS_NOTIFICATION_FORMAT" "$HOSTSTATUS_NOTIFY_ON_STATE_CHANGE"
    # [hoststatus] is read by nova-api only.
    if [[ -n "$HOSTSTATUS_TARGET_VM_STATE" ]]; then
        iniset "$NOVA_CONF" hoststatus target_vm_state \
            "$HOSTSTATUS_TARGET_VM_STATE"
    fi
    _hoststatus_cell_conductors

    if ! is_service_enabled n-api; then
        return
    fi
    iniset "$NOVA_API_PASTE_INI" app:osapi_compute_app_v21 \
        paste.app_factory "$HOSTSTATUS_PASTE_APP_FACTORY"
    if [[ "$HOSTSTATUS_SERVICEGROUP_DRIVERS" == "True" ]]; then
        # Older devstack wrote wsgi-file instead of module.
        inicomment "$NOVA_UWSGI_CONF" uwsgi wsgi-file
        iniset "$NOVA_UWSGI_CONF" uwsgi module "$HOSTSTATUS_WSGI_MODULE"
    fi

    # Nova reads policy.d (the default [oslo_policy] policy_dirs) from its
    # configuration directory; removing the file undoes it.
    local policy_dir=$NOVA_CONF_DIR/policy.d
    if [[ "$HOSTSTATUS_NFV_POLICY" == "True" ]]; then
        mkdir -p "$policy_dir"
        cp "$NOVA_HOSTSTATUS_DIR/policies/$HOSTSTATUS_POLICY_FILE" \
            "$policy_dir/$HOSTSTATUS_POLICY_FILE"
    else
        rm -f "$policy_dir/$HOSTSTATUS_POLICY_FILE"
    fi
}

# _hoststatus_script - the package's console script replacing a Nova
# command, or nothing
function _hoststatus_script {
    case "${1##*/}" in
        nova-compute) echo nova-hoststatus-compute ;;
        nova-conductor) echo nova-hoststatus-conductor ;;
        nova-scheduler) echo nova-hoststatus-scheduler ;;
    esac
}

# start_nova_hoststatus - give each Nova unit devstack started a drop-in
# that runs the package's console script with the unit's own arguments,
# then restart it. lib/nova starts these with run_process and absolute
# paths, and builds their arguments per cell and per fake compute, so the
# command is read back from the unit rather than rebuilt here.
function start_nova_hoststatus {
    local unit name command binary script args dropin_dir
    local units=""
    for unit in "$SYSTEMD_DIR"/devstack@n-*.service; do
        [[ -f "$unit" ]] || continue
        name=${unit##*/devstack@}
        name=${name%.service}
        # Units of services disabled since an earlier stack.sh stay behind.
        is_service_enabled "$name" || continue
        command=$(iniget "$unit" Service ExecStart)
        binary=${command%% *}
        script=$(_hoststatus_script "$binary")
        [[ -n "$script" ]] || continue
        script=${binary%/*}/$script
        if [[ ! -x "$script" ]]; then
            die $LINENO "$script not found: nova-hoststatus is not" \
                "installed in Nova's environment"
        fi
        args=""
        if [[ "$command" == *" "* ]]; then
            args=" ${command#* }"
        fi
        dropin_dir=$unit.d
        sudo mkdir -p "$dropin_dir"
        # An empty ExecStart= clears the unit's own before replacing it.
        printf '[Service]\nExecStart=\nExecStart=%s%s\n' "$script" "$args" \
            | sudo tee "$dropin_dir/$HOSTSTATUS_DROPIN" > /dev/null
        units+=" devstack@$name.service"
    done
    $SYSTEMCTL daemon-reload
    for unit in $units; do
        echo "Restarting $unit with the drivers of nova-hoststatus"
        $SYSTEMCTL restart "$unit"
        _HOSTSTATUS_STARTED+=" $unit"
    done
}

# start_hoststatus_watcher - nova-hoststatus-watcher, a devstack service
# (hs-watcher) of its own, beside nova-api
function start_hoststatus_watcher {
    run_process hs-watcher \
        "$NOVA_BIN_DIR/nova-hoststatus-watcher --config-file $NOVA_CONF"
    _HOSTSTATUS_STARTED+=" devstack@hs-watcher.service"
}

# _hoststatus_driver_logged unit - whether the unit's current run has
# logged that it runs the package's ServiceGroup driver
function _hoststatus_driver_logged {
    local id log
    id=$($SYSTEMCTL show --property InvocationID --value "$1" || true)
    [[ -n "$id" ]] || return 1
    log=$(sudo journalctl --no-pager --output cat \
        "_SYSTEMD_INVOCATION_ID=$id" || true)
    [[ "$log" == *"$HOSTSTATUS_DRIVER_LOG"* ]]
}

# wait_for_nova_hoststatus units... - systemctl restart and run_process
# return once the process is forked, so stack.sh would succeed with a
# service that dies at start. Each unit must stay running until it has
# logged, in this run, that it runs the package's ServiceGroup driver
# (which every service logs once it has started); fail otherwise.
function wait_for_nova_hoststatus {
    local unit state left deadline
    local pending="$*"
    deadline=$((SECONDS + HOSTSTATUS_SERVICE_TIMEOUT))
    while [[ -n "$pending" ]]; do
        left=""
        for unit in $pending; do
            state=$($SYSTEMCTL is-active "$unit" || true)
            case "$state" in
                active)
                    if _hoststatus_driver_logged "$unit"; then
                        continue
                    fi
                    ;;
                activating|reloading)
                    ;;
                *)
                    $SYSTEMCTL status --no-pager "$unit" || true
                    die $LINENO "$unit is $state after its start with" \
                        "nova-hoststatus"
                    ;;
            esac
            left+=" $unit"
        done
        pending=${left# }
        if [[ -n "$pending" && $SECONDS -ge $deadline ]]; then
            for unit in $pending; do
                $SYSTEMCTL status --no-pager "$unit" || true
            done
            die $LINENO "${pending// /, }: no \"$HOSTSTATUS_DRIVER_LOG\"" \
                "in its log after $HOSTSTATUS_SERVICE_TIMEOUT seconds"
        fi
        if [[ -n "$pending" ]]; then
            sleep 1
        fi
    done
}

# cleanup_nova_hoststatus_units - back to devstack's own commands
function cleanup_nova_hoststatus_units {
    local dropin
    local dropins=$SYSTEMD_DIR/devstack@n-*.service.d/$HOSTSTATUS_DROPIN
    for dropin in $dropins; do
        [[ -f "$dropin" ]] || continue
        sudo rm -f "$dropin"
        sudo rmdir --ignore-fail-on-non-empty "${dropin%/*}"
    done
    $SYSTEMCTL daemon-reload
}

# cleanup_nova_hoststatus - what clean.sh does not remove itself
function cleanup_nova_hoststatus {
    cleanup_nova_hoststatus_units
    rm -f "$NOVA_CONF_DIR/policy.d/$HOSTSTATUS_POLICY_FILE"
    pip_uninstall nova-hoststatus
}


# Dispatch
# --------

if is_service_enabled nova-hoststatus; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing nova-hoststatus"
        install_nova_hoststatus
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring nova-hoststatus"
        configure_nova_hoststatus
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        _HOSTSTATUS_STARTED=""
        # The package's table in the API database, which nova-api and the
        # watcher write what owners were told to.
        ${HOSTSTATUS_MANAGE:-$NOVA_BIN_DIR/nova-hoststatus-manage} \
            --config-file $NOVA_CONF db sync
        if [[ "$HOSTSTATUS_SERVICEGROUP_DRIVERS" == "True" ]]; then
            echo_summary "Starting Nova services with nova-hoststatus"
            start_nova_hoststatus
        fi
        if is_service_enabled hs-watcher; then
            echo_summary "Starting nova-hoststatus-watcher"
            start_hoststatus_watcher
        fi
        if [[ -n "$_HOSTSTATUS_STARTED" ]]; then
            echo_summary "Waiting for the services of nova-hoststatus"
            wait_for_nova_hoststatus $_HOSTSTATUS_STARTED
        fi
    fi

    if [[ "$1" == "unstack" ]]; then
        stop_process hs-watcher
        cleanup_nova_hoststatus_units
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_nova_hoststatus
    fi
fi

# Restore trace setting
$_XTRACE_HOSTSTATUS
