# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The package's SQL at cell scale, on MariaDB with Nova's own schema.

A private MariaDB server (its own temporary datadir, a loopback port from
34000 up) holds Nova's API database and one cell database per size, each
made by Nova's own migrations and filled with bulk SQL: N instances (10%
soft-deleted, about 40 per host), ten system_metadata rows each (the
image_* and owner keys Nova writes at boot), their extra (flavor), info
cache, root BDM, some metadata, instance actions, and migrations history
(resizes, live migrations, evacuations, among them old ones from the
failed host); the API database maps every host and instance.

For each cell size the package's service layer is called as nova-api calls
it, with a context it targets itself through the host's HostMapping and
CellMapping: a host down report of the failed host, with 60 servers on it
(5 stopped) (``hostfault.api.API.update``); then 10 of them are moved to
the hosts their evacuation migrations name, as if rebuilt there (8) or
being rebuilt (2); then GET state (``recovery.api.API.show``) and the
planning of a host evacuation (``recovery.api.API.plan``). In each round
every call runs on every size back to back, the sizes in every order in
turn; the host is as before its fault again between rounds. Every
statement the package issues itself or through a Nova object it calls
directly (in any thread: the report's notification worker too) is
explained by MariaDB on its own connection with its own parameters.

    .venv/bin/python benchmarks/cell_scale.py [--sizes 1000 10000 100000]
        [--rounds 54] [--keep]

or ``tools/run-benchmarks.sh cell-scale``, which installs MariaDB first if
needed. Prints the tables, writes benchmarks/results/cell_scale.json, and
exits 1 if a statement reads a table that grows with the cell whole (in a
cell where it has 10000 rows or more), or if the median report, GET state
or planning is more than 10% slower in the largest cell than in the
smallest (the whole 95% bootstrap interval of the ratio above 1.10). It
takes 1.5 to 3 minutes on a 2-CPU VM: MariaDB and Nova's schema 10-40 s,
filling the 100k cell 20-65 s, the 54 rounds 30-60 s, depending on what
else the machine runs.
"""

import argparse
import collections
import gc
import itertools
import json
import logging
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# As nova's own services do, before anything creates a lock or a thread:
# native threads (Nova 34's default) unless told otherwise.
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', 'true')
from nova import monkey_patch  # noqa: E402,I100
monkey_patch.patch()

from oslo_serialization import jsonutils  # noqa: E402,I100
import prettytable  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from nova import config as nova_config  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova.db import migration  # noqa: E402
from nova.network import model as network_model  # noqa: E402
from nova import objects  # noqa: E402
from nova.objects import service as service_obj  # noqa: E402

import nova_hoststatus.conf  # noqa: E402
from nova_hoststatus.demo import statements  # noqa: E402
from nova_hoststatus.hostfault import api as hostfault_api  # noqa: E402
from nova_hoststatus.notifications import emitter  # noqa: E402
from nova_hoststatus.recovery import api as recovery_api  # noqa: E402

CONF = nova_hoststatus.conf.CONF
NOVA_CONF = """
[DEFAULT]
# Nothing is sent anywhere; the notifications are built all the same.
transport_url = fake:/
[api_database]
connection = %(api)s
[database]
connection = %(cell)s
[oslo_messaging_notifications]
driver = noop
[notifications]
# The report's instance.update worker then loads its instances.
notify_on_state_change = vm_and_task_state
"""
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')

# The failed host, when reported: ON_HOST + MOVED servers, STOPPED of them
# stopped. Then MOVED are evacuated (RECOVERED of them rebuilt elsewhere,
# the others being rebuilt). OLD_EVACUATIONS left it in earlier faults.
ON_HOST = 50
STOPPED = 5
MOVED = 10
RECOVERED = 8
OLD_EVACUATIONS = 30
# Instance ids (= seq) of each group; the rest of the cell comes after.
FIRST_MOVED = ON_HOST + 1
FIRST_OLD = FIRST_MOVED + MOVED
FIRST_OTHER = FIRST_OLD + OLD_EVACUATIONS
PER_HOST = 40
# Larger than the 100k cell's working set: what is measured is the access
# path, not the disk.
BUFFER_POOL = '1G'
PORTS = range(34000, 34100)
# Slower than the smallest cell by more than this fails the run: the
# ratio of the medians, all of its 95% interval (the noise of a busy
# machine moves a 20 ms median by 10% and more).
SLOWER = 1.10
WARMUP_ROUNDS = 2

# Tables that grow with the cell's servers.
GROWING = frozenset([
    'instances', 'instance_system_metadata', 'instance_metadata',
    'instance_extra', 'instance_info_caches', 'instance_faults',
    'instance_actions', 'instance_actions_events', 'migrations',
    'block_device_mapping', 'virtual_interfaces', 'tags',
])
# MariaDB's access types that read a whole table or index.
FULL_SCANS = frozenset(['ALL', 'index'])
# Full reads count on tables of this many rows (in the 10k and 100k cells):
# below, reading a few hundred rows whole is the optimizer's right choice.
MIN_ROWS = 10000
# An access reading more than this share of a table reads it whole, through
# an index or not.
MOST = 0.1

REPORT = 'report'
STATE = 'GET state'
PLAN = 'planning'
CALLS = (REPORT, STATE, PLAN)

IMAGE = 'a2459075-d96c-40d5-893e-577ff92e721c'
# The system_metadata Nova writes for a server booted from an image.
SYSTEM_METADATA = collections.OrderedDict([
    ('image_base_image_ref', IMAGE), ('image_container_format', 'bare'),
    ('image_disk_format', 'qcow2'), ('image_min_disk', '20'),
    ('image_min_ram', '0'), ('image_hw_rng_model', 'virtio'),
    ('image_os_distro', 'ubuntu'), ('owner_user_name', 'demo'),
    ('owner_project_name', 'demo'), ('boot_roles', 'reader,member'),
])

_READS = re.compile(r'\s*(SELECT|UPDATE|DELETE)\b', re.I)
_ALIAS = re.compile(r'\b(\w+) AS (\w+)\b')
_PLACEHOLDERS = re.compile(r'(\(%s(, %s)*\)(, )?)+')


def _progress(line):
    sys.stderr.write('[%s] %s\n' % (time.strftime('%H:%M:%S'), line))
    sys.stderr.flush()


def _label(size):
    return '%dk' % (size // 1000) if size % 1000 == 0 else str(size)


def _uuid(digest):
    """SQL: a version 4 UUID of ``digest``, SQL of 32 hex digits."""
    return ("CONCAT_WS('-', SUBSTR({h}, 1, 8), SUBSTR({h}, 9, 4), "
            "CONCAT('4', SUBSTR({h}, 14, 3)), CONCAT('8', SUBSTR({h}, 18, 3)),"
            " SUBSTR({h}, 21, 12))").format(h=digest)


class MariaDB(object):
    """A private MariaDB server in a directory of its own, on loopback."""

    def __init__(self, workdir, port):
        self.workdir = workdir
        self.port = port
        self.datadir = os.path.join(workdir, 'data')
        self.socket = os.path.join(workdir, 'mysql.sock')
        self.log = os.path.join(workdir, 'mariadb.log')
        self.password = secrets.token_hex(12)
        self.process = None

    @staticmethod
    def free_port():
        for port in PORTS:
            with socket.socket() as probe:
                try:
                    probe.bind(('127.0.0.1', port))
                except OSError:
                    continue
                return port
        raise SystemExit('No free port in %d-%d' % (PORTS[0], PORTS[-1]))

    def _as_root(self, sql):
        subprocess.run(['mariadb', '--no-defaults', '--socket=' + self.socket,
                        '-uroot', '-N', '-B', '-e', sql],
                       check=True, capture_output=True)

    def start(self):
        server = shutil.which('mariadbd') or '/usr/sbin/mariadbd'
        if not (shutil.which('mariadb-install-db') and
                os.path.exists(server)):
            raise SystemExit('MariaDB is not installed; '
                             'tools/run-benchmarks.sh cell-scale installs it')
        user = ['--user=root'] if os.geteuid() == 0 else []
        with open(self.log, 'ab') as log:
            subprocess.run(
                ['mariadb-install-db', '--no-defaults',
                 '--datadir=' + self.datadir, '--skip-test-db',
                 '--auth-root-authentication-method=socket'] + user,
                check=True, stdout=log, stderr=subprocess.STDOUT)
            self.process = subprocess.Popen(
                [server, '--no-defaults', '--datadir=' + self.datadir,
                 '--bind-address=127.0.0.1', '--port=%d' % self.port,
                 '--socket=' + self.socket, '--skip-name-resolve',
                 '--pid-file=' + os.path.join(self.workdir, 'mysql.pid'),
                 '--log-error=' + self.log,
                 '--character-set-server=utf8mb4',
                 '--collation-server=utf8mb4_general_ci',
                 '--innodb-buffer-pool-size=' + BUFFER_POOL,
                 '--innodb-log-file-size=512M',
                 # Commits reach the OS, not the disk: the disk is not what
                 # is compared.
                 '--innodb-flush-log-at-trx-commit=2',
                 '--max-allowed-packet=256M'] + user,
                stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                self._as_root('SELECT 1')
                break
            except subprocess.CalledProcessError:
                if (self.process.poll() is not None or
                        time.monotonic() > deadline):
                    raise SystemExit('MariaDB did not start; see %s'
                                     % self.log)
                time.sleep(0.2)
        self._as_root("CREATE USER 'nova'@'127.0.0.1' IDENTIFIED BY '%s'; "
                      "GRANT ALL PRIVILEGES ON *.* TO 'nova'@'127.0.0.1'"
                      % self.password)

    def create_database(self, name):
        self._as_root('CREATE DATABASE %s' % name)
        return ('mysql+pymysql://nova:%s@127.0.0.1:%d/%s?charset=utf8mb4'
                % (self.password, self.port, name))

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def configure(workdir, api_url, cell_url):
    """Nova's configuration as nova-api's, from a file on these databases."""
    path = os.path.join(workdir, 'nova.conf')
    with open(path, 'w') as conf:
        conf.write(NOVA_CONF % {'api': api_url, 'cell': cell_url})
    nova_config.parse_args(['cell_scale'], default_config_files=[path])
    # Each report and state read logs at INFO: noise here.
    logging.disable(logging.INFO)
    objects.register_all()


class Cell(object):
    """One cell database of ``size`` instances and its failed host."""

    def __init__(self, size, url, mapping):
        self.size = size
        self.label = _label(size)
        self.url = url
        self.mapping = mapping
        self.hosts = max(2, size // PER_HOST)
        self.prefix = 'cell%s-compute-' % self.label
        self.failed_host = self.prefix + '00000'
        self.engine = sa.create_engine(url)
        self.uuids = {}
        self.rows = {}
        self.version = None

    def _sql(self, conn, statement, **params):
        return conn.execute(sa.text(statement), params)

    def fill(self, api_database):
        """Bulk SQL: every row nova would have written, as nova writes it."""
        with self.engine.begin() as conn:
            self._sql(conn, 'SET SESSION foreign_key_checks = 0, '
                            'unique_checks = 0')
            self._services(conn)
            self._instances(conn)
            self._per_instance(conn)
            self._migrations(conn)
            self._sql(
                conn, """
                INSERT INTO {api}.host_mappings (created_at, cell_id, host)
                SELECT NOW(), :cell, CONCAT(:prefix, LPAD(seq, 5, '0'))
                FROM seq_0_to_{last}""".format(
                    api=api_database, last=self.hosts - 1),
                cell=self.mapping.id, prefix=self.prefix)
            self._sql(
                conn, """
                INSERT INTO {api}.instance_mappings (created_at, instance_uuid,
                    cell_id, project_id, user_id, queued_for_delete)
                SELECT created_at, uuid, :cell, project_id, user_id,
                    deleted != 0
                FROM instances ORDER BY id""".format(api=api_database),
                cell=self.mapping.id)
        with self.engine.begin() as conn:
            # Statistics as a cell that has run a while has them.
            tables = [row[0] for row in self._sql(conn, 'SHOW TABLES')]
            self._sql(conn, 'ANALYZE TABLE %s' % ', '.join(tables))
            for table in sorted(GROWING & set(tables)) + ['services']:
                self.rows[table] = self._sql(
                    conn, 'SELECT COUNT(*) FROM %s' % table).scalar()
            self.version = self._sql(conn, 'SELECT VERSION()').scalar()
            self.uuids = dict(self._sql(
                conn, 'SELECT id, uuid FROM instances WHERE id < :first',
                first=FIRST_OTHER).all())

    def _services(self, conn):
        self._sql(
            conn, """
            INSERT INTO services (created_at, updated_at, deleted, uuid, host,
                `binary`, topic, report_count, disabled, forced_down, version,
                last_seen_up)
            SELECT NOW(), NOW(), 0, {uuid}, CONCAT(:prefix, LPAD(seq, 5, '0')),
                'nova-compute', 'compute', 100000, 0, 0, :version, NOW()
            FROM seq_0_to_{last}""".format(
                uuid=_uuid("MD5(CONCAT(:prefix, seq))"), last=self.hosts - 1),
            prefix=self.prefix, version=service_obj.SERVICE_VERSION)

    def _instances(self, conn):
        """Instances with id = seq; see the module constants for groups."""
        self._sql(
            conn, """
            INSERT INTO instances (id, created_at, updated_at, deleted_at,
                deleted, cleaned, uuid, user_id, project_id, image_ref,
                kernel_id, ramdisk_id, hostname, launch_index, key_name,
                power_state, vm_state, task_state, memory_mb, vcpus, root_gb,
                ephemeral_gb, host, node, compute_id, instance_type_id,
                reservation_id, launched_at, terminated_at, availability_zone,
                display_name, launched_on, locked, root_device_name,
                config_drive, progress, auto_disk_config, shutdown_terminate,
                disable_terminate, hidden)
            SELECT seq, created, created + INTERVAL 2 MINUTE,
                IF(gone, created + INTERVAL 1 DAY, NULL), IF(gone, seq, 0),
                IF(gone, 1, 0), {uuid}, MD5(CONCAT('user', seq % 700)),
                MD5(CONCAT('project', seq % 500)), :image, '', '',
                CONCAT('vm-', seq), 0, 'default',
                IF(gone, 0, IF(seq BETWEEN :stopped AND :on_host, 4, 1)),
                IF(gone, 'deleted',
                   IF(seq BETWEEN :stopped AND :on_host, 'stopped', 'active')),
                IF(seq BETWEEN :rebuilding AND :last_moved, 'rebuilding',
                   NULL),
                2048, 1, 20, 0, host, host, host_index + 1, 1,
                CONCAT('r-', SUBSTR(h, 1, 8)), created + INTERVAL 30 SECOND,
                IF(gone, created + INTERVAL 1 DAY, NULL), 'nova',
                CONCAT('vm-', seq), host, 0, '/dev/vda', '', 0, 0, 0, 0, 0
            FROM (
                SELECT seq, h, gone, host_index,
                    CONCAT(:prefix, LPAD(host_index, 5, '0')) AS host,
                    NOW() - INTERVAL (:size - seq) MINUTE AS created
                FROM (
                    SELECT seq, MD5(CONCAT(:prefix, 'vm', seq)) AS h,
                        seq >= :first_other AND seq % 10 = 0 AS gone,
                        IF(seq <= :on_host OR
                           (seq >= :first_other AND seq % 200 = 0), 0,
                           1 + seq % (:hosts - 1)) AS host_index
                    FROM seq_1_to_{size}) numbered) placed
            ORDER BY seq""".format(uuid=_uuid('h'), size=self.size),
            image=IMAGE, prefix=self.prefix, size=self.size,
            hosts=self.hosts, on_host=ON_HOST,
            stopped=ON_HOST - STOPPED + 1,
            rebuilding=FIRST_MOVED + RECOVERED,
            last_moved=FIRST_OLD - 1, first_other=FIRST_OTHER)

    def _per_instance(self, conn):
        keys = ' UNION ALL '.join(
            'SELECT %d AS n, :key%d AS name, :value%d AS value' % (i, i, i)
            for i in range(len(SYSTEM_METADATA)))
        params = {}
        for i, (key, value) in enumerate(SYSTEM_METADATA.items()):
            params.update({'key%d' % i: key, 'value%d' % i: value})
        self._sql(
            conn, """
            INSERT INTO instance_system_metadata (created_at, deleted_at,
                deleted, instance_uuid, `key`, value)
            SELECT i.created_at, i.deleted_at, IF(i.deleted, 1, 0), i.uuid,
                k.name, k.value
            FROM instances i JOIN ({keys}) k
            ORDER BY i.id, k.n""".format(keys=keys), **params)
        # Soft-deleted with their instance, as nova does: deleted = id.
        self._sql(conn, 'UPDATE instance_system_metadata SET deleted = id '
                        'WHERE deleted != 0')
        # Users' own metadata, on a third of the servers.
        self._sql(
            conn, """
            INSERT INTO instance_metadata (created_at, deleted_at, deleted,
                instance_uuid, `key`, value)
            SELECT created_at, deleted_at, deleted, uuid, 'role', 'web'
            FROM instances WHERE id % 3 = 0 ORDER BY id""")
        self._sql(
            conn, """
            INSERT INTO instance_extra (created_at, deleted_at, deleted,
                instance_uuid, flavor, pci_requests)
            SELECT created_at, deleted_at, deleted, uuid, :flavor, '[]'
            FROM instances ORDER BY id""", flavor=_flavor())
        self._sql(
            conn, """
            INSERT INTO instance_info_caches (created_at, deleted_at, deleted,
                instance_uuid, network_info)
            SELECT created_at, deleted_at, deleted, uuid, :network_info
            FROM instances ORDER BY id""", network_info=_network_info())
        self._sql(
            conn, """
            INSERT INTO block_device_mapping (created_at, deleted_at, deleted,
                instance_uuid, uuid, source_type, destination_type,
                device_type, boot_index, device_name, delete_on_termination,
                image_id)
            SELECT created_at, deleted_at, deleted, uuid, {uuid}, 'image',
                'local', 'disk', 0, '/dev/vda', 1, :image
            FROM instances ORDER BY id""".format(
                uuid=_uuid("MD5(CONCAT('bdm', uuid))")), image=IMAGE)
        # Kept for deleted servers too, as nova keeps them.
        self._sql(
            conn, """
            INSERT INTO instance_actions (created_at, action, instance_uuid,
                request_id, user_id, project_id, start_time, finish_time,
                deleted)
            SELECT i.created_at + INTERVAL a.n HOUR, a.action, i.uuid,
                CONCAT('req-', {uuid}), i.user_id, i.project_id,
                i.created_at + INTERVAL a.n HOUR,
                i.created_at + INTERVAL a.n HOUR + INTERVAL 20 SECOND, 0
            FROM instances i JOIN (
                SELECT 0 AS n, 'create' AS action UNION ALL
                SELECT 1, 'stop' UNION ALL SELECT 2, 'start' UNION ALL
                SELECT 3, 'evacuate' UNION ALL SELECT 4, 'delete') a
            ON a.n = 0 OR (a.n = 1 AND i.id % 10 < 3)
                OR (a.n = 2 AND i.id % 10 < 2)
                OR (a.n = 3 AND i.id BETWEEN :first_moved AND :last_old)
                OR (a.n = 4 AND i.deleted != 0)
            ORDER BY i.id, a.n""".format(
                uuid=_uuid("MD5(CONCAT(i.uuid, a.action))")),
            first_moved=FIRST_MOVED, last_old=FIRST_OTHER - 1)

    def _migrations(self, conn):
        """Resizes, live migrations, evacuations, this fault's too."""
        other_host = "CONCAT(:prefix, LPAD(1 + (id * 7) % (:hosts - 1), 5, " \
                     "'0'))"
        groups = [
            # This fault's: to the servers' new hosts.
            (':failed', "IF(id < :rebuilding, 'done', 'accepted')",
             "'evacuation'", 'id BETWEEN :first_moved AND :last_moved'),
            (':failed', "'completed'", "'evacuation'",
             'id BETWEEN :first_old AND :last_old'),
            # The failed host's own history, as long in every cell.
            (':failed', "'completed'", "'live-migration'",
             'id BETWEEN :first_other AND :first_other + 99 AND id % 5 = 2'),
            # Onto the failed host, earlier.
            (other_host, "'completed'", "'live-migration'",
             'id <= :on_host AND id % 5 = 0'),
            (other_host, "'confirmed'", "'resize'",
             'id >= :first_other AND id % 10 = 3'),
            (other_host, "'completed'", "'live-migration'",
             'id >= :first_other AND id % 50 = 7'),
            (other_host, "'completed'", "'evacuation'",
             'id >= :first_other AND id % 100 = 11'),
        ]
        for group, (source, status, kind, where) in enumerate(groups):
            self._sql(
                conn, """
                INSERT INTO migrations (created_at, updated_at, deleted,
                    source_compute, source_node, dest_compute, dest_node,
                    dest_host, old_instance_type_id, new_instance_type_id,
                    instance_uuid, uuid, status, migration_type, hidden,
                    cross_cell_move, user_id, project_id)
                SELECT created_at + INTERVAL 1 DAY,
                    created_at + INTERVAL 1 DAY, 0, {source}, {source}, host,
                    host, '192.0.2.10', 1, 1, uuid, {uuid}, {status}, {kind},
                    0, 0, user_id, project_id
                FROM instances WHERE {where} ORDER BY id""".format(
                    source=source, status=status, kind=kind, where=where,
                    uuid=_uuid("MD5(CONCAT('migration%d', uuid))" % group)),
                failed=self.failed_host, prefix=self.prefix,
                hosts=self.hosts, rebuilding=FIRST_MOVED + RECOVERED,
                first_moved=FIRST_MOVED, last_moved=FIRST_OLD - 1,
                first_old=FIRST_OLD, last_old=FIRST_OTHER - 1,
                first_other=FIRST_OTHER, on_host=ON_HOST)

    def reset(self):
        """The failed host as before its fault, for the next round.

        The servers evacuated in the fault are back on it, the package's
        records (system_metadata keys ``hoststatus_*``) gone.
        """
        uuids = [self.uuids[i] for i in range(1, FIRST_OLD)]
        with self.engine.begin() as conn:
            self._sql(
                conn, "UPDATE services SET forced_down = 0 "
                "WHERE host = :host AND `binary` = 'nova-compute'",
                host=self.failed_host)
            self._sql(
                conn, "UPDATE instances SET host = :host, node = :host, "
                "vm_state = IF(id BETWEEN :stopped AND :on_host, 'stopped', "
                "'active'), power_state = IF(id BETWEEN :stopped AND "
                ":on_host, 4, 1), task_state = NULL WHERE id < :first_old",
                host=self.failed_host, stopped=ON_HOST - STOPPED + 1,
                on_host=ON_HOST, first_old=FIRST_OLD)
            conn.execute(
                sa.text("DELETE FROM instance_system_metadata WHERE "
                        "`key` LIKE 'hoststatus\\_%' AND "
                        "instance_uuid IN :uuids")
                .bindparams(sa.bindparam('uuids', expanding=True)),
                {'uuids': uuids})

    def evacuate_some(self):
        """MOVED servers of the report rebuilt elsewhere, or being rebuilt.

        As their evacuation migrations (made by fill) say; the records the
        report wrote for them stay.
        """
        with self.engine.begin() as conn:
            self._sql(
                conn, """
                UPDATE instances i JOIN migrations m
                    ON m.instance_uuid = i.uuid AND m.source_compute = :host
                    AND m.migration_type = 'evacuation'
                    AND m.status IN ('done', 'accepted')
                SET i.host = m.dest_compute, i.node = m.dest_node,
                    i.vm_state = 'active',
                    i.power_state = IF(m.status = 'done', 1, 4),
                    i.task_state = IF(m.status = 'done', NULL, 'rebuilding')
                WHERE i.id BETWEEN :first AND :last""",
                host=self.failed_host, first=FIRST_MOVED, last=FIRST_OLD - 1)


def _flavor():
    """instance_extra.flavor as nova writes it (Instance._save_flavor)."""
    flavor = objects.Flavor(
        id=1, flavorid='1', name='m1.small', memory_mb=2048, vcpus=1,
        root_gb=20, ephemeral_gb=0, swap=0, rxtx_factor=1.0, vcpu_weight=0,
        disabled=False, is_public=True, extra_specs={}, description=None,
        created_at=None, updated_at=None, deleted_at=None, deleted=False)
    return jsonutils.dumps({'cur': flavor.obj_to_primitive(), 'old': None,
                            'new': None})


def _network_info():
    """A one-port info cache, as nova keeps it for a Neutron port."""
    subnet = network_model.Subnet(
        cidr='10.0.0.0/24', gateway=network_model.IP(address='10.0.0.1'),
        ips=[network_model.FixedIP(address='10.0.0.12')],
        dns=[network_model.IP(address='10.0.0.2')])
    network = network_model.Network(
        id='7f0d2a6e-5d49-4d35-9d1b-0bb6f0e4f3a1', bridge='br-int',
        label='private', subnets=[subnet])
    vif = network_model.VIF(
        id='2c6c4bbe-9a04-4f0a-8b4a-4b5b6b7a9f10',
        address='fa:16:3e:12:34:56', network=network, type='ovs',
        devname='tap2c6c4bbe-9a', ovs_interfaceid=None, active=True,
        details={'port_filter': True, 'connectivity': 'l2'})
    return network_model.NetworkInfo([vif]).json()


Statement = collections.namedtuple(
    'Statement', ['call', 'origin', 'worker', 'sql', 'plan'])


class Explainer(object):
    """EXPLAIN each statement of the package, as it is executed."""

    def __init__(self):
        self.call = None
        self.statements = []

    def __enter__(self):
        sa.event.listen(sa.engine.Engine, 'before_cursor_execute',
                        self._explain)
        return self

    def __exit__(self, *exc):
        sa.event.remove(sa.engine.Engine, 'before_cursor_execute',
                        self._explain)

    def _explain(self, conn, cursor, statement, parameters, context,
                 executemany):
        if self.call is None or executemany or not _READS.match(statement):
            return
        origin = statements.origin(sys._getframe(1))
        if origin is None:
            return
        # On its own connection, in its transaction, with its parameters,
        # through the driver (this listener does not see it).
        explain = cursor.connection.cursor()
        try:
            explain.execute('EXPLAIN ' + statement, parameters)
            columns = [column[0] for column in explain.description]
            plan = [dict(zip(columns, row)) for row in explain.fetchall()]
        finally:
            explain.close()
        self.statements.append(Statement(
            self.call, origin,
            threading.current_thread() is not threading.main_thread(),
            statement, plan))


def _tables(sql):
    """``{name in EXPLAIN: table}`` of a statement's aliases."""
    return {alias: table for table, alias in _ALIAS.findall(sql)}


def _full_read(access, table, table_rows):
    """``{counted, why}`` if an EXPLAIN row reads a growing table whole.

    Not counted on a table of fewer than MIN_ROWS rows.
    """
    if table not in GROWING:
        return None
    rows = int(access.get('rows') or 0)
    if access['type'] in FULL_SCANS:
        why = 'full scan (type %s, %d rows)' % (access['type'], table_rows)
    elif table_rows >= MIN_ROWS and rows > MOST * table_rows:
        why = 'reads %d of %d rows' % (rows, table_rows)
    else:
        return None
    return {'counted': table_rows >= MIN_ROWS, 'why': why}


class CellScaleBenchmark(object):

    def __init__(self, sizes, rounds):
        self.sizes = sorted(sizes)
        self.rounds = rounds
        self.cells = []
        self.wall = collections.OrderedDict()
        self.context = nova_context.RequestContext(
            user_id='fault-monitor', project_id='service',
            roles=['admin', 'service'], is_admin=True)
        self.hostfault = self.recovery = None

    def _timed(self, step, function, *args):
        start = time.perf_counter()
        result = function(*args)
        self.wall[step] = self.wall.get(step, 0) + (
            time.perf_counter() - start)
        return result

    def setup(self, server):
        api_url = server.create_database('nova_api')
        cell_urls = [server.create_database('nova_cell_%s' % _label(size))
                     for size in self.sizes]
        configure(server.workdir, api_url, cell_urls[0])
        self.hostfault = hostfault_api.API()
        self.recovery = recovery_api.API()
        _progress('Nova schema: API database')
        self._timed('schema', migration.db_sync, None, 'api')
        admin = nova_context.get_admin_context()
        for size, url in zip(self.sizes, cell_urls):
            mapping = objects.CellMapping(
                admin, uuid=secrets.token_hex(16), name='cell%s' % _label(
                    size), transport_url='fake:/', database_connection=url)
            mapping.create()
            _progress('Nova schema: the %s cell' % _label(size))
            with nova_context.target_cell(admin, mapping) as cctxt:
                self._timed('schema', migration.db_sync, None, 'main',
                            cctxt)
            cell = Cell(size, url, mapping)
            _progress('Filling the %s cell' % cell.label)
            self._timed('fill %s' % cell.label, cell.fill, 'nova_api')
            self.cells.append(cell)

    def _report(self, cell):
        host = self.hostfault.update(self.context, cell.failed_host,
                                     host_down_reported=True)
        assert len(host.changed) == ON_HOST + MOVED - STOPPED, host.changed
        return host

    def _state(self, cell):
        host = self.recovery.show(self.context, cell.failed_host)
        assert len(host.recovery) == ON_HOST + MOVED, host.recovery
        return host

    def _plan(self, cell):
        plan = self.recovery.plan(self.context, cell.failed_host)
        assert len(plan.to_evacuate) == ON_HOST, plan
        assert len(plan.recovered) == RECOVERED, plan
        return plan

    def _round(self, cells, explainer=None):
        """Each call on every cell, back to back: ``{size: seconds}``.

        One call on the cells one after the other, then the next call: the
        measures compared are a few milliseconds apart.
        """
        for cell in cells:
            cell.reset()
        # A collection would fall in one measure or another, by chance.
        gc.collect()
        gc.disable()
        times = {cell.size: [] for cell in cells}
        try:
            for call, function in ((REPORT, self._report),
                                   (STATE, self._state), (PLAN, self._plan)):
                if explainer:
                    explainer.call = call
                for cell in cells:
                    start = time.perf_counter()
                    function(cell)
                    times[cell.size].append(time.perf_counter() - start)
                    # The report's notifications are built on a worker:
                    # done before the next measure (and explained as the
                    # report's).
                    assert emitter.EMITTER.join(timeout=120)
                if call == REPORT:
                    for cell in cells:
                        cell.evacuate_some()
        finally:
            gc.enable()
            if explainer:
                explainer.call = None
        return times

    def measure(self):
        _progress('Explaining every statement')
        explained = {}
        for cell in self.cells:
            with Explainer() as explainer:
                self._round([cell], explainer)
            explained[cell.size] = explainer.statements
        for _ in range(WARMUP_ROUNDS):
            self._round(self.cells)
        _progress('Measuring %d rounds' % self.rounds)
        times = {cell.size: [] for cell in self.cells}
        start = time.perf_counter()
        # Every order of the sizes in turn: none is measured first, or
        # after another one, more often than the others.
        orders = list(itertools.permutations(self.cells))
        for number in range(self.rounds):
            measured = self._round(orders[number % len(orders)])
            for size, seconds in measured.items():
                times[size].append(seconds)
        self.wall['measures'] = time.perf_counter() - start
        return times, explained

    def results(self, times, explained):
        sizes = []
        for cell in self.cells:
            per_call = {call: [t[i] * 1000 for t in times[cell.size]]
                        for i, call in enumerate(CALLS)}
            sizes.append({
                'size': cell.size, 'label': cell.label,
                'hosts': cell.hosts, 'rows': cell.rows,
                'median_ms': {call: statistics.median(values)
                              for call, values in per_call.items()},
                'iqr_ms': {call: _iqr(values)
                           for call, values in per_call.items()},
                'ms': per_call})
        smallest, largest = sizes[0], sizes[-1]
        ratios = {call: largest['median_ms'][call] /
                  smallest['median_ms'][call] for call in CALLS}
        intervals = {call: _ratio_interval(smallest['ms'][call],
                                           largest['ms'][call])
                     for call in CALLS}
        return {
            'machine': {'python': platform.python_version(),
                        'platform': platform.platform(),
                        'cpus': os.cpu_count(),
                        'mariadb': self.cells[0].version,
                        'concurrency': 'eventlet' if
                        monkey_patch.MONKEY_PATCHED else 'native threads'},
            'rounds': self.rounds, 'reported': ON_HOST + MOVED,
            'evacuated': MOVED,
            'sizes': sizes, 'ratios': ratios,
            'ratio_intervals': intervals,
            'slower': [call for call, (low, _high) in intervals.items()
                       if low > SLOWER],
            'statements': _statements(self.cells, explained),
            'wall_s': dict(self.wall)}


def _ratio_interval(small, big, resamples=2000):
    """95% interval of median(big) / median(small), by bootstrap.

    Rounds are resampled whole: a round's measures of each size were taken
    together.
    """
    rng = random.Random(0)
    count = len(small)
    ratios = []
    for _ in range(resamples):
        rounds = [rng.randrange(count) for _ in range(count)]
        ratios.append(statistics.median(big[i] for i in rounds) /
                      statistics.median(small[i] for i in rounds))
    ratios.sort()
    return (ratios[int(0.025 * resamples)],
            ratios[int(0.975 * resamples) - 1])


def _iqr(values):
    if len(values) < 2:
        return [values[0], values[0]]
    quartiles = statistics.quantiles(values, n=4)
    return [quartiles[0], quartiles[2]]


def _statements(cells, explained):
    """Each distinct statement with its EXPLAIN rows per cell size."""
    found = collections.OrderedDict()
    for cell in cells:
        for statement in explained[cell.size]:
            key = (statement.call, statement.origin, statement.worker,
                   _PLACEHOLDERS.sub('(...)', statement.sql))
            entry = found.setdefault(key, {
                'call': statement.call, 'origin': statement.origin,
                'worker': statement.worker, 'sql': key[3], 'access': {}})
            tables = _tables(statement.sql)
            access = []
            for row in statement.plan:
                table = tables.get(row['table'], row['table'])
                access.append({
                    'table': table, 'type': row['type'], 'key': row['key'],
                    'rows': None if row['rows'] is None else int(row['rows']),
                    'extra': row.get('Extra'),
                    'full_read': _full_read(row, table,
                                            cell.rows.get(table, 0))})
            # The same statement more than once in a call: keep the worst.
            previous = entry['access'].get(cell.label)
            if previous is None or sum(a['rows'] or 0 for a in access) > \
                    sum(a['rows'] or 0 for a in previous):
                entry['access'][cell.label] = access
    return list(found.values())


def _print(results):
    labels = [s['label'] for s in results['sizes']]
    table = prettytable.PrettyTable(
        ['cell', 'instances', 'hosts', 'report ms', 'GET state ms',
         'planning ms'])
    for size in results['sizes']:
        table.add_row([size['label'], size['rows']['instances'],
                       size['hosts']] +
                      ['%.1f (%.1f-%.1f)' % ((size['median_ms'][call],) +
                                             tuple(size['iqr_ms'][call]))
                       for call in CALLS])
    table.add_row(['%s/%s' % (labels[-1], labels[0]), '', ''] +
                  ['%.2fx (%.2f-%.2f)' % ((results['ratios'][call],) +
                                          tuple(results['ratio_intervals']
                                                [call]))
                   for call in CALLS])
    print('Failed host: %d servers (%d stopped) reported, then %d of them '
          'evacuated (%d rebuilt\nelsewhere). MariaDB %s, Nova in %s; '
          'medians (IQR) of %d rounds.'
          % (ON_HOST + MOVED, STOPPED, MOVED, RECOVERED,
             results['machine']['mariadb'],
             results['machine']['concurrency'], results['rounds']))
    print(table)

    table = prettytable.PrettyTable(
        ['call', 'statement', 'table'] +
        ['%s: type key rows' % label for label in labels] + ['whole cell'])
    table.align = 'l'
    for statement in results['statements']:
        origin = statement['origin'] + (' (worker)' if statement['worker']
                                        else '')
        accesses = statement['access']
        for index in range(max(len(a) for a in accesses.values())):
            cells, counted, small = [], set(), []
            table_name = None
            for label in labels:
                access = accesses.get(label, [])
                if index >= len(access):
                    cells.append('')
                    continue
                one = access[index]
                table_name = one['table']
                cells.append('%s %s %s' % (one['type'], one['key'] or '-',
                                           one['rows']))
                if one['full_read'] and one['full_read']['counted']:
                    counted.add(one['full_read']['why'])
                elif one['full_read']:
                    small.append('%s (%s)' % (label, one['type']))
            verdict = '; '.join(sorted(counted)) or (
                'no; small table read whole in %s' % ', '.join(small)
                if small else 'no')
            table.add_row([statement['call'] if index == 0 else '',
                           origin if index == 0 else '', table_name] +
                          cells + [verdict])
    print('\nEvery statement of the package, EXPLAINed by MariaDB:')
    print(table)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+',
                        default=[1000, 10000, 100000],
                        help='instances per cell (1000 10000 100000)')
    parser.add_argument('--rounds', type=int, default=54,
                        help='measured rounds, best a multiple of the '
                             'orders of the sizes (54)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the MariaDB datadir and log')
    args = parser.parse_args()
    if min(args.sizes) < FIRST_OTHER * 2:
        parser.error('cells need at least %d instances' % (FIRST_OTHER * 2))
    # Stopped, it stops its MariaDB server first.
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    start = time.perf_counter()
    workdir = tempfile.mkdtemp(prefix='nova-hoststatus-cell-scale.')
    server = MariaDB(workdir, MariaDB.free_port())
    try:
        _progress('MariaDB on 127.0.0.1:%d, in %s' % (server.port, workdir))
        server.start()
        benchmark = CellScaleBenchmark(args.sizes, args.rounds)
        benchmark.setup(server)
        times, explained = benchmark.measure()
        results = benchmark.results(times, explained)
    finally:
        server.stop()
        if args.keep:
            _progress('Kept %s' % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results['wall_s']['total'] = time.perf_counter() - start
    _print(results)
    print('\nWall time: %s' % ', '.join(
        '%s %.0f s' % item for item in results['wall_s'].items()))
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, 'cell_scale.json'), 'w') as out:
        json.dump(results, out, indent=2, default=str)
    failed = False
    for statement in results['statements']:
        for label, access in statement['access'].items():
            for one in access:
                if one['full_read'] and one['full_read']['counted']:
                    failed = True
                    print('FAIL: %s in %s (%s cell): %s of %s'
                          % (statement['origin'], statement['call'], label,
                             one['full_read']['why'], one['table']))
    for call in results['slower']:
        failed = True
        low, high = results['ratio_intervals'][call]
        print('FAIL: %s %.2fx (%.2f-%.2f) as long in the %s cell as in the '
              '%s one' % (call, results['ratios'][call], low, high,
                          results['sizes'][-1]['label'],
                          results['sizes'][0]['label']))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
