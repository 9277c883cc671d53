#!/bin/bash
#
# Run the devstack plugin the way stack.sh, unstack.sh and clean.sh do
# (settings sourced first, then plugin.sh with mode and phase), with the
# helpers of shim.sh. The environment names the files: see shim.sh and
# tests/unit/test_devstack_plugin.py.
#
# run-phase.sh stack install|post-config|extra | unstack | clean
#     one phase
# run-phase.sh stack
#     stack.sh's part that concerns the plugin, in one shell as stack.sh
#     runs it: install; configure_neutron_nova started in the background;
#     post-config; stack.sh's wait for configure_neutron_nova; start_nova
#     (nova-cpu.conf made from nova.conf, the cell conductors enabled);
#     extra

set -o errexit
set -o nounset

TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
PLUGIN_DIR=$(cd "$TESTS_DIR/../../devstack" && pwd)

# As functions-common's: plugin.sh is sourced from a function of the shell
# that runs every phase.
function run_plugins {
    source "$PLUGIN_DIR/plugin.sh" "$1" "$2"
}

source "$TESTS_DIR/shim.sh"
source "$PLUGIN_DIR/settings"

if [[ "$*" == "stack" ]]; then
    run_plugins stack install
    if is_service_enabled nova; then
        async_runfunc configure_neutron_nova
    fi
    run_plugins stack post-config
    async_wait configure_neutron_nova
    if is_service_enabled nova; then
        start_nova
    fi
    run_plugins stack extra
else
    source "$PLUGIN_DIR/plugin.sh" "$@"
fi
