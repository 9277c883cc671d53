#!/bin/bash
#
# plugin.sh - DevStack plugin of nova-hoststatus
#
# stack install      install the package into Nova's Python environment
# stack post-config  api-paste.ini, nova-api's WSGI module, notifications,
#                    the NFV policy sample; nova-api starts after this
# stack extra        nova-compute, nova-conductor and nova-scheduler run
#                    the package's console scripts (systemd drop-ins);
#                    hs-watcher (nova-hoststatus-watcher) starts
# unstack            stop hs-watcher, remove the drop-ins
# clean              remove the drop-ins and the policy file, uninstall
#
# Nothing of Nova's code is changed: see devstack/README.rst.

# Save trace setting
_XTRACE_HOSTSTATUS=$(set +o | grep xtrace)
set +o xtrace

HOSTSTATUS_POLICY_FILE=nfv-owner-host-status.yaml
HOSTSTATUS_DROPIN=nova-hoststatus.conf


# Functions
# ---------

# install_nova_hoststatus - into Nova's environment: its own venv with
# USE_VENV, else the one setup_develop picks (the global venv).
function install_nova_hoststatus {
    local venv=""
    if [[ "$USE_VENV" == "True" && -n "${PROJECT_VENV[nova]:-}" ]]; then
        venv=${PROJECT_VENV[nova]}
    fi
    PIP_VIRTUAL_ENV=$venv setup_develop "$NOVA_HOSTSTATUS_DIR"
}

# configure_nova_hoststatus - before devstack starts any Nova service, so
# nova-api starts with all of it and needs no restart.
function configure_nova_hoststatus {
    if [[ "$HOSTSTATUS_NOTIFICATION_FORMAT" != "versioned" && \
            "$HOSTSTATUS_NOTIFICATION_FORMAT" != "both" ]]; then
        die $LINENO "HOSTSTATUS_NOTIFICATION_FORMAT must be versioned or" \
            "both, not '$HOSTSTATUS_NOTIFICATION_FORMAT'"
    fi
    # nova-cpu.conf is copied from nova.conf when n-cpu starts.
    iniset "$NOVA_CONF" notifications notification_format \
        "$HOSTSTATUS_NOTIFICATION_FORMAT"
    if [[ -z "$(iniget "$NOVA_CONF" notifications \
            notify_on_state_change)" ]]; then
        iniset "$NOVA_CONF" notifications notify_on_state_change \
            "$HOSTSTATUS_NOTIFY_ON_STATE_CHANGE"
    fi
    if [[ -n "$HOSTSTATUS_TARGET_VM_STATE" ]]; then
        iniset "$NOVA_CONF" hoststatus target_vm_state \
            "$HOSTSTATUS_TARGET_VM_STATE"
    fi

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
    done
}

# start_hoststatus_watcher - nova-hoststatus-watcher, a devstack service
# (hs-watcher) of its own, beside nova-api
function start_hoststatus_watcher {
    run_process hs-watcher \
        "$NOVA_BIN_DIR/nova-hoststatus-watcher --config-file $NOVA_CONF"
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
        if [[ "$HOSTSTATUS_SERVICEGROUP_DRIVERS" == "True" ]]; then
            echo_summary "Starting Nova services with nova-hoststatus"
            start_nova_hoststatus
        fi
        if is_service_enabled hs-watcher; then
            echo_summary "Starting nova-hoststatus-watcher"
            start_hoststatus_watcher
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
