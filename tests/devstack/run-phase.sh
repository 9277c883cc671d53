#!/bin/bash
#
# Run one phase of the devstack plugin the way stack.sh, unstack.sh and
# clean.sh do (settings sourced first, then plugin.sh with mode and
# phase), with the helpers of shim.sh. The environment names the files:
# see shim.sh and tests/unit/test_devstack_plugin.py.
#
# run-phase.sh stack install|post-config|extra | unstack | clean

set -o errexit
set -o nounset

TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
PLUGIN_DIR=$(cd "$TESTS_DIR/../../devstack" && pwd)

source "$TESTS_DIR/shim.sh"
source "$PLUGIN_DIR/settings"
source "$PLUGIN_DIR/plugin.sh" "$@"
