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

"""The package's SQL searches the cell by index; it never reads all of it.

A report, a GET state, a host evacuation (a subset, then the rest) and a
refused clear run on the embedded Nova. Each statement the package issues
itself (nova_hoststatus.db) or through a Nova object it calls directly
(HostMapping.get_by_host, MigrationList.get_by_filters...) is planned by
SQLite's ``EXPLAIN QUERY PLAN`` on its own connection with its own
parameters, in any thread (the notification worker's are the package's
too). Statements inside Nova's own evacuate or notifications are Nova's
and not checked.

The index each statement uses, and why. SQLite's planner is given the
statistics of a cell of 100k servers (_scale_statistics); MariaDB's
choices are those benchmarks/cell_scale.py measures in cells of 1k to
100k servers; the same unless said:

* HostMapping.get_by_host, Service.get_by_compute_host,
  db.service_compare_and_set:
  host_mappings by its unique host, services by its unique (host, binary,
  deleted) or its id. Neither grows with the servers.
* db.instances_on_host (report, GET state, host evacuation, the watcher's
  follower and the host_status.update worker): instances by
  instances_host_deleted_cleaned_idx (host, deleted, cleaned), the host's
  undeleted rows only; each one's records (system_metadata, joined once
  per key) by its instance_uuid index, about ten rows a server.
* db.instances_with_records(uuids), the servers evacuated from the host,
  found through its evacuation migrations: instances by uuid (SQLite:
  instances_uuid_deleted_idx; MariaDB: uniq_instances0uuid), their
  records as above. Reading every undeleted server with a record instead
  was a whole-cell read on both.
* db.instances_compare_and_set: instances by uuid, through its plain
  ``uuid IN``. With the row constructor alone, ``(uuid, vm_state,
  coalesce(task_state, '')) IN (...)``, SQLite scans every row; MariaDB
  10.11 still took a range of uniq_instances0uuid.
* MigrationList.get_by_filters(source_compute=host, ...) (GET state, host
  evacuation, the follower, the clear): migrations by (deleted,
  source_compute, ...): SQLite takes
  migrations_by_src_host_nodes_and_status_idx, MariaDB
  migrations_by_host_nodes_and_status_idx, which starts with the same two
  columns (and reads a table of a few hundred rows whole: cheaper).
* db.instance_states, InstanceList.get_by_filters(uuid=...) (the
  instance.update worker), Instance.get_by_uuid (each evacuation):
  instances by uuid; their system metadata, metadata, extra, info cache,
  tags and BDMs by their instance_uuid (resource_id) indexes.
* db.records_delete: instance_system_metadata by instance_uuid.
* The multi-row INSERTs (instance actions, records) read nothing.
"""

import collections
import datetime
import re
import sys

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from nova.db.main import api as main_db
from nova.db.main import models

from nova_hoststatus.demo import statements
from nova_hoststatus.notifications import emitter
from tests.functional import base
from tests.functional import watching

# Tables that grow with the cell's servers.
GROWING = frozenset([
    'instances', 'instance_system_metadata', 'instance_metadata',
    'instance_extra', 'instance_info_caches', 'instance_faults',
    'instance_actions', 'instance_actions_events', 'migrations',
    'block_device_mapping', 'virtual_interfaces', 'tags',
])
# The cell whose statistics SQLite's planner is given: the largest that
# benchmarks/cell_scale.py measures on MariaDB.
CELL_SIZE = 100000
# An index search on these columns alone selects nearly every row.
UNSELECTIVE = frozenset(['deleted', 'cleaned', 'hidden'])

# "SEARCH instances USING INDEX x (host=? AND deleted=?)", "SCAN a".
_PLAN_LINE = re.compile(
    r'^(?P<op>SCAN|SEARCH) (?P<name>\S+)(?: AS (?P<alias>\S+))?'
    r'(?: USING (?:COVERING )?(?:INDEX (?P<index>\S+)|'
    r'(?P<pk>INTEGER PRIMARY KEY|PRIMARY KEY)))?(?: \((?P<terms>.*)\))?')
_ALIAS = re.compile(r'\b(\w+) AS (\w+)\b')

# The system_metadata keys Nova writes for a server booted from an image.
SYSTEM_METADATA = {
    'image_base_image_ref': 'a2459075-d96c-40d5-893e-577ff92e721c',
    'image_container_format': 'bare', 'image_disk_format': 'qcow2',
    'image_min_disk': '1', 'image_min_ram': '0',
    'image_hw_rng_model': 'virtio', 'image_os_distro': 'ubuntu',
    'owner_user_name': 'bulk', 'owner_project_name': 'bulk',
    'boot_roles': 'reader,member',
}

Statement = collections.namedtuple('Statement',
                                   ['origin', 'sql', 'plan'])


def _reads(sql):
    """Whether a statement reads rows (what a plan is asked for)."""
    return re.match(r'\s*(SELECT|UPDATE|DELETE)\b', sql, re.I) is not None


def _plan_lines(statement):
    """``(match, table)`` of each plan line that reads a table."""
    tables = {alias: table for table, alias in _ALIAS.findall(statement.sql)}
    for detail in statement.plan:
        match = _PLAN_LINE.match(detail)
        if match is not None:
            name = match.group('alias') or match.group('name')
            yield match, tables.get(name, name)


def tables_read(statement):
    return {table for _match, table in _plan_lines(statement)}


def full_reads(statement):
    """The plan lines that read a growing table whole, if any."""
    found = []
    for match, table in _plan_lines(statement):
        if table not in GROWING:
            continue
        terms = set(re.findall(r'(\w+)[=<>]', match.group('terms') or ''))
        if match.group('op') == 'SCAN' or (
                not match.group('pk') and terms <= UNSELECTIVE):
            # A scan, or an index of (deleted, ...) searched on deleted
            # alone: every undeleted row.
            found.append(match.string)
    return found


def _scale_statistics(conn, factor):
    """sqlite_stat1 of a cell ``factor`` times larger, of the same shape.

    An index keeps its rows per host or per server; what matches about
    every row of a table (``deleted``) matches ``factor`` times more.
    SQLite's planner weighs a sort of the host's servers against reading
    the cell in index order: with the statistics of a cell of a few
    thousand servers, it may read them all in the order of
    instances_deleted_created_at_idx; with those of a real cell it
    searches the host's (or the uuids') index, as MariaDB does.
    """
    stats = conn.exec_driver_sql(
        'SELECT tbl, idx, stat FROM sqlite_stat1').all()
    for table, index, stat in stats:
        if table not in GROWING:
            continue
        numbers = stat.split()
        total = int(numbers[0])
        scaled = [str(total * factor)] + [
            str(int(n) * factor) if n.isdigit() and int(n) * 2 > total else n
            for n in numbers[1:]]
        conn.exec_driver_sql(
            'UPDATE sqlite_stat1 SET stat = ? WHERE tbl = ? AND idx IS ?',
            (' '.join(scaled), table, index))


class SQLPlansTest(base.HostStatusTestBase):

    def setUp(self):
        super().setUp()
        # The report's instance.update worker loads the instances and
        # their BDMs.
        self.flags(notify_on_state_change='vm_and_task_state',
                   bdms_in_notifications=True, group='notifications')
        self.statements = []
        sa.event.listen(sa.engine.Engine, 'before_cursor_execute',
                        self._planned)
        self.addCleanup(sa.event.remove, sa.engine.Engine,
                        'before_cursor_execute', self._planned)

    def _planned(self, conn, cursor, statement, parameters, context,
                 executemany):
        if executemany or not _reads(statement):
            return
        origin = statements.origin(sys._getframe(1))
        if origin is None:
            return
        # Same connection (and transaction), same parameters, through the
        # driver: not seen by this listener again.
        explain = cursor.connection.cursor()
        try:
            explain.execute('EXPLAIN QUERY PLAN ' + statement, parameters)
            plan = [row[3] for row in explain.fetchall()]
        finally:
            explain.close()
        self.statements.append(Statement(origin, statement, plan))

    def _fill_cell(self, hosts=50, per_host=40):
        """The rest of a cell, straight in its database; its statistics.

        Servers on other hosts, some deleted, with the rows Nova keeps for
        each (system metadata, extra, info cache, BDM, actions, some
        metadata and tags) and migrations, among them evacuations from
        host1 completed long ago.
        """
        now = timeutils.utcnow()
        rows = collections.defaultdict(list)
        for index in range(hosts * per_host):
            uuid = uuidutils.generate_uuid()
            host = 'other%d' % (index % hosts)
            common = {'created_at': now - datetime.timedelta(minutes=index),
                      'deleted': 0}
            rows[models.Instance].append(dict(
                common, uuid=uuid, host=host, node=host,
                project_id=base.OTHER_PROJECT_ID, user_id='bulk',
                vm_state='active', power_state=1,
                display_name='bulk-%d' % index, launched_at=now,
                availability_zone='nova', memory_mb=512, vcpus=1,
                root_gb=1))
            rows[models.InstanceSystemMetadata].extend(
                dict(common, instance_uuid=uuid, key=key, value=value)
                for key, value in SYSTEM_METADATA.items())
            rows[models.InstanceExtra].append(dict(
                common, instance_uuid=uuid, flavor='{}'))
            rows[models.InstanceInfoCache].append(dict(
                common, instance_uuid=uuid, network_info='[]'))
            rows[models.BlockDeviceMapping].append(dict(
                common, instance_uuid=uuid, uuid=uuidutils.generate_uuid(),
                source_type='image', destination_type='local',
                boot_index=0, device_name='/dev/vda'))
            rows[models.InstanceMetadata].append(dict(
                common, instance_uuid=uuid, key='role', value='worker'))
            rows[models.InstanceAction].append(dict(
                common, instance_uuid=uuid, action='create',
                request_id='req-%d' % index,
                project_id=base.OTHER_PROJECT_ID, start_time=now))
            if index % 10 == 0:
                rows[models.Tag].append({'resource_id': uuid,
                                         'tag': 'batch'})
                source = 'host1' if index % 100 == 0 else 'other%d' % (
                    (index + 1) % hosts)
                rows[models.Migration].append(dict(
                    common, uuid=uuidutils.generate_uuid(),
                    instance_uuid=uuid, source_compute=source,
                    source_node=source, dest_compute=host, dest_node=host,
                    migration_type='evacuation' if source == 'host1'
                    else 'live-migration', status='completed',
                    hidden=False, cross_cell_move=False))
        with base.cell_context(self) as cctxt:
            engine = main_db.get_engine(context=cctxt)
        with engine.begin() as conn:
            for model, values in rows.items():
                conn.execute(sa.insert(model), values)
            # The statistics MariaDB keeps by itself (InnoDB's), taken
            # before the soft deletes: sqlite_stat1 keeps an average of rows
            # per value, which ``deleted = id`` makes tiny, where MariaDB
            # estimates ``deleted = 0`` itself and finds nearly every row.
            conn.exec_driver_sql('ANALYZE')
            _scale_statistics(conn, CELL_SIZE // (hosts * per_host))
            # This connection reloads them so; the pool's others load them
            # with the schema: change it, so that they read it again.
            conn.exec_driver_sql('ANALYZE sqlite_master')
            conn.exec_driver_sql('CREATE TABLE hoststatus_analyzed (id INT)')
            conn.exec_driver_sql('DROP TABLE hoststatus_analyzed')
            instance = models.Instance
            conn.execute(sa.update(instance)
                         .where(instance.id % 50 == 0,
                                instance.user_id == 'bulk')
                         .values(deleted=instance.id, vm_state='deleted',
                                 power_state=0, deleted_at=now))

    def _wait_until_rebuilt(self, server):
        self._wait_for_server_parameter(
            server, {'OS-EXT-SRV-ATTR:host': 'host2',
                     'OS-EXT-STS:task_state': None})

    def test_no_statement_reads_the_whole_cell(self):
        first = self._boot('host1', name='first')
        second = self._boot('host1', name='second')
        self._fill_cell()

        self._report_host_down('host1')
        self.assertTrue(emitter.EMITTER.join(timeout=60))
        self._get_host_state('host1')
        self._evacuate_host('host1', {'servers': [first['id']]})
        self._wait_until_rebuilt(first)
        # first, rebuilt elsewhere, is found through its evacuation
        # migration from host1.
        recovery = self._get_host_state('host1')['host']['recovery']
        self.assertIn(second['id'], [server['id'] for server in recovery])
        self._evacuate_host('host1')
        self._wait_until_rebuilt(second)
        # The watcher's follower tells both host evacuations.
        watching.follow_recoveries(self, count=2)
        # Refused or not (evacuations done, host1's compute not restarted
        # to complete them), a clear reads them first.
        self.admin_api.api_put('/os-hosts/host1',
                               {'host': {'host_down_reported': False}},
                               check_response_status=[200, 409])
        self.assertTrue(emitter.EMITTER.join(timeout=60))

        # The package's own reads of the servers, their records and the
        # evacuations were seen, and planned.
        read = set()
        for statement in self.statements:
            read.update(tables_read(statement))
        self.assertLessEqual(
            {'instances', 'instance_system_metadata', 'migrations'}, read)
        # Each distinct statement once, with how often it ran.
        scans = collections.Counter(
            '%s: %s\n    plan: %s\n    %s' % (
                s.origin, '; '.join(full_reads(s)), ' / '.join(s.plan),
                re.sub(r'\s+', ' ', s.sql)[:300])
            for s in self.statements if full_reads(s))
        if scans:
            self.fail('%d statements read a whole cell table:\n%s' % (
                sum(scans.values()), '\n'.join(
                    '(%dx) %s' % (count, scan)
                    for scan, count in scans.items())))
