#!/usr/bin/env bash
#
# The host fault scenario on a real local cloud: Keystone, Placement,
# nova-api under gunicorn with this package's api-paste.ini, nova-conductor,
# nova-scheduler and two fake-driver nova-computes (hosts host1 and host2)
# started through the package's console scripts, RabbitMQ and MariaDB, all
# on 127.0.0.1. Then tools/local_cloud/scenario.py kills host1's
# nova-compute, a sample fault monitor reports it, owners see SHUTOFF/DOWN,
# notifications arrive over RabbitMQ, the servers are evacuated to host2,
# and a timeline is printed. Everything is stopped at the end, whatever
# happens. See doc/source/local-cloud.rst.
#
#   tools/run-local-cloud.sh [fault|masakari|soak]
#
# masakari: the same cloud with four hosts and Masakari's API and engine,
# which recover host1 with this package's tasks, then host2 and host3 with
# Masakari's stock flow, without and after a report, side by side
# (tools/local_cloud/masakari_scenario.py, doc/source/masakari.rst).
#
# soak: cycles of host faults with concurrent monitors and owners, two
# nova-api workers, killed processes, MariaDB and RabbitMQ restarted, then
# load, for HOSTSTATUS_SOAK_SECONDS (180) (tools/local_cloud/soak.py).
#
# Needs root (apt-get) on Debian or Ubuntu, and PyPI.
#
# HOSTSTATUS_CLOUD_PORT_BASE  first of 10 loopback ports (default: the
#                             first free 311N0..311N9 from 31100,
#                             below Linux's ephemeral ports)
# HOSTSTATUS_CLOUD_CACHE      where the Keystone and Masakari venvs are
#                             kept (~/.cache/nova-hoststatus)
# HOSTSTATUS_CLOUD_KEEP       True: keep the state directory (configuration,
#                             logs; not the databases) after a success too

set -o errexit
set -o nounset
set -o pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
SCENARIO=${1:-fault}
case "$SCENARIO" in
    fault | masakari | soak) ;;
    *)
        echo "usage: $0 [fault|masakari|soak]" >&2
        exit 2
        ;;
esac
# Nova's fake virt driver cannot restart a compute in a new process (its
# node gets a new uuid): the Masakari scenario fails a new host each time.
HOSTS=(host1 host2)
if [[ "$SCENARIO" == masakari ]]; then
    HOSTS=(host1 host2 host3 host4)
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "$0: run it as root (apt-get; MariaDB runs as root)" >&2
    exit 1
fi
RUN_START=$(date +%s)

PORT_BASE=${HOSTSTATUS_CLOUD_PORT_BASE:-}
CACHE=${HOSTSTATUS_CLOUD_CACHE:-$HOME/.cache/nova-hoststatus}
KEEP=${HOSTSTATUS_CLOUD_KEEP:-False}

# port_open PORT: whether something listens on it.
function port_open {
    (echo > "/dev/tcp/127.0.0.1/$1") 2> /dev/null
}

# free_ports BASE: whether BASE..BASE+9 are all free.
function free_ports {
    local port
    for port in $(seq "$1" $(($1 + 9))); do
        if port_open "$port"; then
            return 1
        fi
    done
}

if [[ -z "$PORT_BASE" ]]; then
    # Below Linux's ephemeral ports (32768-60999): a port found free there
    # may be taken as the source port of a connection before its service
    # binds it.
    for PORT_BASE in $(seq 31100 10 31990) ""; do
        if [[ -n "$PORT_BASE" ]] && free_ports "$PORT_BASE"; then
            break
        fi
    done
fi
if [[ -z "$PORT_BASE" ]] || ! free_ports "$PORT_BASE"; then
    echo "No 10 free loopback ports at ${PORT_BASE:-31100..31999}:" \
        "set HOSTSTATUS_CLOUD_PORT_BASE" >&2
    exit 1
fi
KEYSTONE_PORT=$PORT_BASE
PLACEMENT_PORT=$((PORT_BASE + 1))
NOVA_PORT=$((PORT_BASE + 2))
IMAGE_PORT=$((PORT_BASE + 3))
NETWORK_PORT=$((PORT_BASE + 4))
RABBIT_PORT=$((PORT_BASE + 5))
RABBIT_DIST_PORT=$((PORT_BASE + 6))
EPMD_PORT=$((PORT_BASE + 7))
DB_PORT=$((PORT_BASE + 8))
MASAKARI_PORT=$((PORT_BASE + 9))
# Masakari's stock flow waits this long for Nova to see a failed host down
# (180 s by default); Nova's liveness is shortened to match (liveness).
MASAKARI_STOCK_WAIT=15

STATE=$(mktemp -d /tmp/nova-hoststatus-cloud.XXXXXX)
LOGS=$STATE/logs
RUN=$STATE/run
ETC=$STATE/etc
mkdir -p "$LOGS" "$RUN" "$ETC"

VENV=$REPO/.venv
KEYSTONE_VENV=$CACHE/keystone-venv
MASAKARI_VENV=$CACHE/masakari-venv
PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
ADMIN_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
DB_URL=mysql+pymysql://openstack:$PASSWORD@127.0.0.1:$DB_PORT
TRANSPORT_URL=rabbit://nova:$PASSWORD@127.0.0.1:$RABBIT_PORT/
KEYSTONE_URL=http://127.0.0.1:$KEYSTONE_PORT

STEP_NAME=""
STEP_START=0
STEPS=""


# Output
# ------

function say {
    printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"
}

# step NAME: time the previous step, start this one.
function step {
    local now
    now=$(date +%s)
    if [[ -n "$STEP_NAME" ]]; then
        STEPS+=$(printf '%5d s  %s' $((now - STEP_START)) "$STEP_NAME")$'\n'
    fi
    STEP_NAME=$1
    STEP_START=$now
    if [[ -n "$STEP_NAME" ]]; then
        say "== $STEP_NAME"
    fi
}


# Processes
# ---------

# start NAME COMMAND...: in its own session (so that its process group
# is all of it), output to $LOGS/NAME.out, pid in $RUN/NAME.pid, the
# command in $RUN/NAME.cmd (for the soak, which restarts some).
function start {
    local name=$1
    shift
    printf '%s\0' "$@" > "$RUN/$name.cmd"
    setsid "$@" > "$LOGS/$name.out" 2>&1 < /dev/null 3>&- 4>&- &
    echo $! > "$RUN/$name.pid"
    # No job notice when the scenario kills one.
    disown $!
}

# stop NAME...: TERM their process groups, KILL what is left after 30 s.
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

# alive NAME: whether its process runs.
function alive {
    kill -0 "$(cat "$RUN/$1.pid")" 2> /dev/null
}

# wait_until SECONDS WHAT COMMAND...: retry COMMAND every 0.2 s.
function wait_until {
    local timeout=$1 what=$2
    shift 2
    local deadline
    deadline=$(($(date +%s) + timeout))
    until "$@" > /dev/null 2>&1; do
        if (($(date +%s) > deadline)); then
            say "$what: not after $timeout s"
            return 1
        fi
        sleep 0.2
    done
}

function http_ok {
    "$VENV/bin/python" -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=5)' "$1"
}

function sql {
    mariadb --no-defaults --socket="$STATE/mysql.sock" -uroot -N -B -e "$1"
}

# db_has SQL: whether the query returns at least as many rows as $2.
function db_has {
    [[ $(sql "$1" | wc -l) -ge $2 ]]
}

function teardown {
    local status=$?
    local name
    trap - EXIT INT TERM
    set +o errexit
    # The trap may run inside a command whose output goes to a log.
    exec 1>&3 2>&4
    step "stop everything"
    # The services together, then what they use.
    stop masakari-engine masakari-api "${HOSTS[@]/#/nova-compute-}" \
        nova-scheduler nova-conductor nova-hoststatus-watcher nova-api \
        placement keystone stubs
    stop rabbitmq mariadb
    # epmd daemonizes out of rabbitmq's process group.
    if [[ -x /usr/bin/epmd ]] && port_open "$EPMD_PORT"; then
        ERL_EPMD_PORT=$EPMD_PORT /usr/bin/epmd -kill > /dev/null 2>&1
        wait_until 10 "epmd to stop" eval "! port_open $EPMD_PORT"
    fi
    # The databases' files are of no use after the run.
    rm -rf "$STATE/mysql" "$STATE/rabbitmq/mnesia"
    step ""
    say "Steps:"
    printf '%s' "$STEPS"
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
    "$VENV/bin/pip" install -q -c constraints.txt gunicorn PyMySQL \
        > "$LOGS/pip.log" 2>&1
    # Keystone in its own venv, as in a real deployment: nothing of it in
    # Nova's environment.
    cached_venv "$KEYSTONE_VENV" 'import keystone, gunicorn' \
        keystone gunicorn PyMySQL
}

# cached_venv DIR IMPORTS PACKAGE...: a venv of the PACKAGEs (constrained)
# in DIR, which must import IMPORTS. Kept between runs; one run builds it at
# a time.
function cached_venv {
    local dir=$1 imports=$2
    shift 2
    mkdir -p "$CACHE"
    (
        flock 9
        if [[ ! -f "$dir/.complete" ]]; then
            rm -rf "$dir"
            python3 -m venv "$dir"
            "$dir/bin/pip" install -q --upgrade pip
            "$dir/bin/pip" install -q -c constraints.txt "$@"
            "$dir/bin/python" -c "$imports"
            touch "$dir/.complete"
        fi
    ) 9> "$dir.lock" > "$LOGS/$(basename "$dir").log" 2>&1
}

# Masakari in its own venv, with this package and its masakari extra: the
# engine loads the package's tasks from it. The package is reinstalled at
# every run.
function install_masakari {
    cached_venv "$MASAKARI_VENV" 'import masakari, masakariclient' \
        "$REPO[masakari]" PyMySQL python-masakariclient python-openstackclient
    {
        "$MASAKARI_VENV/bin/pip" install -q --no-deps --force-reinstall \
            "$REPO"
        "$MASAKARI_VENV/bin/python" -c 'import nova_hoststatus.masakari.tasks'
    } >> "$LOGS/masakari-venv.log" 2>&1
}

# Infrastructure
# --------------

function start_mariadb {
    mariadb-install-db --no-defaults --datadir="$STATE/mysql" --user=root \
        --auth-root-authentication-method=socket --skip-test-db \
        > "$LOGS/mariadb-install.log" 2>&1
    start mariadb /usr/sbin/mariadbd --no-defaults \
        --datadir="$STATE/mysql" --user=root \
        --bind-address=127.0.0.1 --port="$DB_PORT" \
        --socket="$STATE/mysql.sock" --pid-file="$STATE/mysql.pid" \
        --log-error="$LOGS/mariadb.log" --skip-name-resolve \
        --character-set-server=utf8mb4 \
        --collation-server=utf8mb4_general_ci \
        --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=0 \
        --innodb-doublewrite=0 --max-connections=1000
    wait_until 60 "MariaDB" sql 'SELECT 1'
    local db
    for db in keystone placement nova_api nova_cell0 nova_cell1 masakari; do
        sql "CREATE DATABASE $db"
    done
    sql "CREATE USER 'openstack'@'127.0.0.1' IDENTIFIED BY '$PASSWORD'"
    sql "GRANT ALL PRIVILEGES ON *.* TO 'openstack'@'127.0.0.1'"
}

function start_rabbitmq {
    local dir=$STATE/rabbitmq
    mkdir -p "$dir/mnesia"
    cat > "$dir/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$RABBIT_PORT
distribution.listener.interface = 127.0.0.1
distribution.listener.port_range.min = $RABBIT_DIST_PORT
distribution.listener.port_range.max = $RABBIT_DIST_PORT
default_user = nova
default_pass = $PASSWORD
log.file.level = info
EOF
    echo '[].' > "$dir/enabled_plugins"
    # A private node: its own name, files, cookie ($HOME) and epmd.
    start rabbitmq env HOME="$dir" \
        RABBITMQ_NODENAME=hoststatus@localhost \
        RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$LOGS" \
        RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
        RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config" \
        ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$EPMD_PORT" \
        /usr/lib/rabbitmq/bin/rabbitmq-server
}


# OpenStack services
# ------------------

function configure_keystone {
    local dir=$ETC/keystone
    mkdir -p "$dir"
    cat > "$dir/keystone.conf" <<EOF
[DEFAULT]
log_file = $LOGS/keystone.log
[database]
connection = $DB_URL/keystone?charset=utf8mb4
[token]
provider = fernet
[fernet_tokens]
key_repository = $dir/fernet-keys
[credential]
key_repository = $dir/credential-keys
[identity]
# Fastest bcrypt: every token request hashes a password.
password_hash_rounds = 4
EOF
    local manage="$KEYSTONE_VENV/bin/keystone-manage --config-file"
    manage+=" $dir/keystone.conf"
    $manage db_sync
    $manage fernet_setup --keystone-user root --keystone-group root
    $manage credential_setup --keystone-user root --keystone-group root
    $manage bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
        --bootstrap-admin-url "$KEYSTONE_URL/v3" \
        --bootstrap-internal-url "$KEYSTONE_URL/v3" \
        --bootstrap-public-url "$KEYSTONE_URL/v3" \
        --bootstrap-region-id RegionOne
}

# start_wsgi NAME VENV PORT MODULE ENV...: a WSGI application under
# gunicorn, on loopback.
function start_wsgi {
    local name=$1 venv=$2 port=$3 module=$4
    shift 4
    start "$name" env "$@" "$venv/bin/gunicorn" \
        --config "$REPO/tools/local_cloud/gunicorn_conf.py" \
        --bind "127.0.0.1:$port" --access-logfile "$LOGS/$name-access.log" \
        "$module"
}

function authtoken {
    cat <<EOF
[keystone_authtoken]
www_authenticate_uri = $KEYSTONE_URL
auth_url = $KEYSTONE_URL
auth_type = password
username = $1
password = $PASSWORD
project_name = service
user_domain_id = default
project_domain_id = default
EOF
}

# service_auth SECTION: how Nova talks to another service, as nova.
function service_auth {
    cat <<EOF
[$1]
auth_type = password
auth_url = $KEYSTONE_URL
username = nova
password = $PASSWORD
project_name = service
user_domain_id = default
project_domain_id = default
region_name = RegionOne
valid_interfaces = public
EOF
}

function configure_placement {
    local dir=$ETC/placement
    mkdir -p "$dir"
    {
        cat <<EOF
[DEFAULT]
log_file = $LOGS/placement.log
[placement_database]
connection = $DB_URL/placement?charset=utf8mb4
[api]
auth_strategy = keystone
EOF
        authtoken placement
    } > "$dir/placement.conf"
    "$VENV/bin/placement-manage" --config-file "$dir/placement.conf" \
        db sync
}

function configure_nova {
    local dir=$ETC/nova host
    mkdir -p "$dir/policy.d" "$STATE/nova"
    {
        cat <<EOF
[DEFAULT]
host = controller
my_ip = 127.0.0.1
transport_url = $TRANSPORT_URL
state_path = $STATE/nova
compute_driver = $(compute_driver)
# There is no Neutron to heal the network cache from.
heal_instance_info_cache_interval = -1
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = $dir/api-paste.ini
[api_database]
connection = $DB_URL/nova_api?charset=utf8mb4
[database]
connection = $DB_URL/nova_cell1?charset=utf8mb4
[conductor]
workers = 1
[scheduler]
workers = 1
[notifications]
notification_format = both
notify_on_state_change = vm_state
[oslo_messaging_notifications]
driver = messagingv2
$(messaging | tee "$ETC/messaging.conf")
[oslo_concurrency]
lock_path = $STATE/nova/lock
$(liveness)
[hoststatus]
# The watchers of this one machine agree through a lock file.
coordination_url = file://$STATE/nova/coordination
EOF
        authtoken nova
        service_auth placement
        service_auth glance
        service_auth neutron
    } > "$dir/nova.conf"
    printf '[DEFAULT]\nlog_file = %s/nova-api.log\n' "$LOGS" \
        > "$dir/nova-api.conf"
    for host in "${HOSTS[@]}"; do
        mkdir -p "$STATE/nova/$host"
        printf '[DEFAULT]\nhost = %s\nstate_path = %s\n' \
            "$host" "$STATE/nova/$host" > "$dir/nova-$host.conf"
    done
    # This package's file: stock Nova's with the one line changed. Under
    # WSGI, Nova reads the first of OS_NOVA_CONFIG_FILES as its paste file.
    cp etc/nova-hoststatus/api-paste.ini "$dir/api-paste.ini"
    # Owners read host_status (the NFV sample); the fault monitor reports
    # with the service role (doc/source/deploy.rst).
    cp policies/nfv-owner-host-status.yaml "$dir/policy.d/"
    cat > "$dir/policy.d/fault-monitor.yaml" <<EOF
"nova_hoststatus:os-hosts:report-host-down": "rule:service_or_admin"
EOF

    local manage="$VENV/bin/nova-manage --config-file $dir/nova.conf"
    $manage api_db sync
    $manage cell_v2 map_cell0 \
        --database_connection "$DB_URL/nova_cell0?charset=utf8mb4"
    $manage db sync
    $manage cell_v2 create_cell --name cell1
}

# The soak stops RabbitMQ: durable queues keep what was sent before, and
# what nova-api sends again once it is back (and its own listener reads it
# with this, messaging.conf).
function messaging {
    if [[ "$SCENARIO" == soak ]]; then
        printf '[oslo_messaging_rabbit]\namqp_durable_queues = true\n'
    fi
}

# The soak restarts computes: Nova's fake driver that keeps its node's
# identity across restarts, as a real one does.
function compute_driver {
    if [[ "$SCENARIO" == soak ]]; then
        echo fake.FakeDriverWithoutFakeNodes
    else
        echo fake.FakeDriver
    fi
}

# Nova's liveness: stock, except under Masakari's stock flow, which waits
# for Nova to see a host down; a shorter one keeps that wait short.
function liveness {
    if [[ "$SCENARIO" == masakari ]]; then
        printf '[DEFAULT]\nreport_interval = 2\nservice_down_time = 10\n'
    fi
}

function configure_masakari {
    local dir=$ETC/masakari
    mkdir -p "$dir"
    {
        cat <<EOF
[DEFAULT]
transport_url = $TRANSPORT_URL
auth_strategy = keystone
masakari_api_listen = 127.0.0.1
masakari_api_listen_port = $MASAKARI_PORT
masakari_api_workers = 1
# With one API worker there are no concurrent duplicates to spread out:
# no random delay (up to 5 s) before each notification is created.
notification_delay_max = 0
# The scenario's notifications come seconds apart.
duplicate_notification_detection_interval = 5
os_privileged_user_name = masakari
os_privileged_user_password = $PASSWORD
os_privileged_user_tenant = service
os_privileged_user_auth_url = $KEYSTONE_URL
os_user_domain_name = Default
os_project_domain_name = Default
os_region_name = RegionOne
[wsgi]
api_paste_config = $MASAKARI_VENV/etc/masakari/api-paste.ini
[database]
connection = $DB_URL/masakari?charset=utf8mb4
[taskflow]
connection = $DB_URL/masakari?charset=utf8mb4
[oslo_concurrency]
lock_path = $STATE/masakari-lock
EOF
        authtoken masakari
    } > "$dir/masakari.conf"
    # The engine's two flows, chosen by the scenario: this package's tasks
    # (doc/source/masakari.rst), and Masakari's stock ones with a short
    # wait for Nova to see the host down.
    cat > "$dir/flow-nova-hoststatus.conf" <<EOF
[taskflow_driver_recovery_flows]
host_auto_failure_recovery_tasks = pre:['report_host_down_task'],main:['prepare_HA_enabled_instances_task'],post:['recover_instances_task']
EOF
    printf '[DEFAULT]\nwait_period_after_service_update = %s\n' \
        "$MASAKARI_STOCK_WAIT" > "$dir/flow-stock.conf"
    "$MASAKARI_VENV/bin/masakari-manage" --config-file "$dir/masakari.conf" \
        db sync
}

function start_nova {
    local dir=$ETC/nova host
    local app=nova_hoststatus.servicegroup.wsgi:application workers=1
    if [[ "$SCENARIO" == soak ]]; then
        # The same application, and the faults the soak arms.
        app=local_cloud.faults:application workers=2
        mkdir -p "$STATE/faults"
    fi
    start_wsgi nova-api "$VENV" "$NOVA_PORT" "$app" \
        HOSTSTATUS_WSGI_WORKERS=$workers \
        HOSTSTATUS_SOAK_FAULTS="$STATE/faults" \
        OS_NOVA_CONFIG_DIR="$dir" \
        OS_NOVA_CONFIG_FILES="api-paste.ini;nova.conf;nova-api.conf"
    start nova-conductor "$VENV/bin/nova-hoststatus-conductor" \
        --config-file "$dir/nova.conf" \
        --log-file "$LOGS/nova-conductor.log"
    start nova-scheduler "$VENV/bin/nova-hoststatus-scheduler" \
        --config-file "$dir/nova.conf" \
        --log-file "$LOGS/nova-scheduler.log"
    start nova-hoststatus-watcher "$VENV/bin/nova-hoststatus-watcher" \
        --config-file "$dir/nova.conf" \
        --log-file "$LOGS/nova-hoststatus-watcher.log"
    for host in "${HOSTS[@]}"; do
        start "nova-compute-$host" "$VENV/bin/nova-hoststatus-compute" \
            --config-file "$dir/nova.conf" \
            --config-file "$dir/nova-$host.conf" \
            --log-file "$LOGS/nova-compute-$host.log"
    done
}

# Every Nova process must run the drivers of nova-hoststatus.
function check_drivers {
    local log
    for log in nova-api nova-conductor nova-scheduler \
            "${HOSTS[@]/#/nova-compute-}"; do
        if ! grep -q "nova_hoststatus.servicegroup.drivers.db.DbDriver in" \
                "$LOGS/$log.log"; then
            say "$log does not run the ServiceGroup driver of" \
                "nova-hoststatus"
            return 1
        fi
    done
}

function write_cloud_json {
    local masakari=""
    if [[ "$SCENARIO" == masakari ]]; then
        masakari="\"instance-ha\": \"http://127.0.0.1:$MASAKARI_PORT/v1\","
    fi
    cat > "$STATE/cloud.json" <<EOF
{
    "auth_url": "$KEYSTONE_URL/v3",
    "region": "RegionOne",
    "admin_password": "$ADMIN_PASSWORD",
    "password": "$PASSWORD",
    "transport_url": "$TRANSPORT_URL",
    "endpoints": {
        "compute": "http://127.0.0.1:$NOVA_PORT/v2.1",
        "placement": "http://127.0.0.1:$PLACEMENT_PORT",
        "image": "http://127.0.0.1:$IMAGE_PORT",
        $masakari
        "network": "http://127.0.0.1:$NETWORK_PORT"
    },
    "computes": {
$(for host in "${HOSTS[@]}"; do
    printf '        "%s": "%s",\n' "$host" "$RUN/nova-compute-$host.pid"
done | sed '$ s/,$//')
    },
    "masakari_engine": {
        "command": ["$MASAKARI_VENV/bin/masakari-engine", "--config-file",
                    "$ETC/masakari/masakari.conf", "--log-file",
                    "$LOGS/masakari-engine.log"],
        "flows": {
            "nova-hoststatus": "$ETC/masakari/flow-nova-hoststatus.conf",
            "stock": "$ETC/masakari/flow-stock.conf"
        },
        "stock_wait": $MASAKARI_STOCK_WAIT,
        "pidfile": "$RUN/masakari-engine.pid"
    },
    "run": "$RUN",
    "faults": "$STATE/faults",
    "database": {"port": $DB_PORT, "user": "openstack",
                 "password": "$PASSWORD"},
    "messaging_config": "$ETC/messaging.conf",
    "rabbitmqctl": {
        "command": "/usr/lib/rabbitmq/bin/rabbitmqctl",
        "env": {"HOME": "$STATE/rabbitmq",
                "RABBITMQ_NODENAME": "hoststatus@localhost",
                "ERL_EPMD_PORT": "$EPMD_PORT",
                "RABBITMQ_CONF_ENV_FILE": "$STATE/rabbitmq/rabbitmq-env.conf"}
    },
    "logs": "$LOGS"
}
EOF
}


# Main
# ----

say "State, configuration and logs: $STATE"
step "install RabbitMQ, MariaDB (apt) and Keystone, gunicorn (pip)"
install_packages
if [[ "$SCENARIO" == masakari ]]; then
    install_masakari &
    masakari_install=$!
fi
install_python
if [[ "$SCENARIO" == masakari ]]; then
    wait "$masakari_install"
fi
export PYTHONPATH=$REPO/tools
PYTHON=$VENV/bin/python

step "start MariaDB and RabbitMQ"
start_rabbitmq
start_mariadb
wait_until 90 "RabbitMQ" port_open "$RABBIT_PORT"

step "configure Keystone, Placement and Nova, sync their databases"
write_cloud_json
# Keystone's set-up runs while Nova's and Placement's databases sync.
configure_keystone > "$LOGS/keystone-manage.log" 2>&1 &
keystone_setup=$!
configure_placement > "$LOGS/placement-manage.log" 2>&1
configure_nova > "$LOGS/nova-manage.log" 2>&1
if [[ "$SCENARIO" == masakari ]]; then
    configure_masakari > "$LOGS/masakari-manage.log" 2>&1
fi
wait "$keystone_setup"

step "start Keystone, Placement, the Glance/Neutron stubs"
start_wsgi keystone "$KEYSTONE_VENV" "$KEYSTONE_PORT" \
    keystone.wsgi.api:application OS_KEYSTONE_CONFIG_DIR="$ETC/keystone"
start_wsgi placement "$VENV" "$PLACEMENT_PORT" \
    placement.wsgi.api:application OS_PLACEMENT_CONFIG_DIR="$ETC/placement"
start stubs "$PYTHON" -m local_cloud.stubs --image-port "$IMAGE_PORT" \
    --network-port "$NETWORK_PORT"
wait_until 120 "Keystone" http_ok "$KEYSTONE_URL/v3"
PYTHONWARNINGS=ignore "$PYTHON" -m local_cloud.bootstrap "$STATE/cloud.json"

step "start nova-api, conductor, scheduler, the watcher, the computes"
start_nova
wait_until 120 "nova-api" http_ok "http://127.0.0.1:$NOVA_PORT/"
wait_until 120 "Placement" http_ok "http://127.0.0.1:$PLACEMENT_PORT/"
# Every compute registered in the cell and in Placement.
wait_until 120 "compute nodes" db_has \
    "SELECT host FROM nova_cell1.compute_nodes WHERE deleted = 0" \
    ${#HOSTS[@]}
wait_until 120 "resource providers" db_has \
    "SELECT name FROM placement.resource_providers" ${#HOSTS[@]}
"$VENV/bin/nova-manage" --config-file "$ETC/nova/nova.conf" \
    cell_v2 discover_hosts --verbose > "$LOGS/discover-hosts.log" 2>&1
for name in nova-conductor nova-scheduler nova-hoststatus-watcher \
        "${HOSTS[@]/#/nova-compute-}"; do
    alive "$name" || { say "$name exited"; exit 1; }
done
check_drivers

if [[ "$SCENARIO" == masakari ]]; then
    step "start masakari-api"
    start masakari-api "$MASAKARI_VENV/bin/masakari-api" \
        --config-file "$ETC/masakari/masakari.conf" \
        --log-file "$LOGS/masakari-api.log"
    wait_until 120 "masakari-api" http_ok "http://127.0.0.1:$MASAKARI_PORT/"
    step "scenario: Masakari recovers hosts, with and without the package"
    PYTHONWARNINGS=ignore "$PYTHON" -m local_cloud.masakari_scenario \
        "$STATE/cloud.json"
elif [[ "$SCENARIO" == soak ]]; then
    step "soak: ${HOSTSTATUS_SOAK_SECONDS:-180} s of faults and load"
    PYTHONWARNINGS=ignore "$PYTHON" -m local_cloud.soak "$STATE/cloud.json"
else
    step "scenario: host1 fails"
    PYTHONWARNINGS=ignore "$PYTHON" -m local_cloud.scenario \
        "$STATE/cloud.json"
fi
