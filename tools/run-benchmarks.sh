#!/usr/bin/env bash
# The performance tables of the README, measured in one run: host fault
# reports (the arguments go to benchmarks/host_fault.py), then recovery
# (benchmarks/recovery.py, its defaults).
#
#   tools/run-benchmarks.sh cell-scale [ARGS]
#
# instead runs benchmarks/cell_scale.py (ARGS go to it): the package's SQL
# in cells of 1k, 10k and 100k instances on a private MariaDB server, which
# it installs first if missing (root, Debian or Ubuntu).
set -euo pipefail
cd "$(dirname "$0")/.."

# install_mariadb: mariadb-server, its packaged service left stopped.
function install_mariadb {
    if dpkg -s mariadb-server > /dev/null 2>&1; then
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        echo "$0: mariadb-server is missing; run as root to install it" >&2
        return 1
    fi
    # The service must not start (it listens on every interface):
    # policy-rc.d is Debian's switch for that.
    local policy=/usr/sbin/policy-rc.d added="" status=0
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        added=$policy
    fi
    {
        apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                --no-install-recommends mariadb-server mariadb-client
    } > /dev/null || status=$?
    rm -f $added
    return $status
}

tools/setup-venv.sh
.venv/bin/python -m pip install -q -c constraints.txt \
    -r benchmarks/requirements.txt
if [[ "${1-}" == cell-scale ]]; then
    shift
    install_mariadb
    exec .venv/bin/python -W ignore benchmarks/cell_scale.py "$@"
fi
.venv/bin/python -W ignore benchmarks/host_fault.py "$@"
exec .venv/bin/python -W ignore benchmarks/recovery.py
