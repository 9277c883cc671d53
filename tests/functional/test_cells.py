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

"""Two cells as operators run them: host1 in cell1, host2 and host3 in cell2.

nova-api's own database is cell0 (demo.cloud.APIDatabaseIsCell0), as in
devstack's default superconductor layout: a statement made with a context
not targeted at a cell reads or writes cell0. RPC casts are not run as
calls: the conductor and the computes work on their own threads, as in
processes of their own, so the request's thread runs only nova-api's code.
"""

import contextlib
import threading

from oslo_db import exception as db_exc
import sqlalchemy as sa

from nova import context as nova_context
from nova.db.api import api as api_db
from nova.db.main import api as main_db
from nova.tests import fixtures as nova_fixtures

from tests.functional import test_robustness
from tests.functional import watching

STOPPED = ('stopped', None, 4)
ACTIVE = ('active', None, 1)
WRITES = ('INSERT', 'UPDATE', 'DELETE')
# What host1's nova-compute writes to cell1 on its own, at any time.
HEARTBEAT = 'UPDATE services SET report_count='


class TwoCellsTestBase(test_robustness.RobustnessTestBase):

    NUMBER_OF_CELLS = 2
    CAST_AS_CALL = False

    def _setup_compute_service(self):
        self._start_compute('host1')
        self._start_compute('host2', cell_name='cell2')
        self._start_compute('host3', cell_name='cell2')

    # These tests report two of the three hosts down (over the default
    # [hoststatus] max_down_fraction) and assert that a report reads only
    # the host's cell: the runaway guard, which reads every cell, is
    # turned off here and tested across the cells by RunawayGuardCellsTest.
    MAX_DOWN_FRACTION = 1.0

    def setUp(self):
        super().setUp()
        self.flags(max_down_fraction=self.MAX_DOWN_FRACTION,
                   group='hoststatus')
        self.in_cell1 = self._boot('host1', 'in-cell1')['id']
        self.in_cell2 = self._boot('host2', 'in-cell2')['id']
        # Rows of cell1 that name host2, as a host moved to another cell
        # may leave behind: a report of host2 must not touch them.
        self.stale = self._create_servers_in_db('host2', 1, name='stale',
                                                cell_name='cell1')[0]

    def _engine(self, cell_name):
        cctxt = nova_context.get_admin_context()
        nova_context.set_target_cell(cctxt, self.cell_mappings[cell_name])
        return main_db.get_context_manager(cctxt).writer.get_engine()

    @contextlib.contextmanager
    def _statements_by_cell(self):
        """``{cell_name: [(thread, statement)]}`` of the block."""
        engines = {self._engine(name): name for name in self.cell_mappings}
        statements = {name: [] for name in self.cell_mappings}

        def record(conn, cursor, statement, *args):
            if conn.engine in engines:
                statements[engines[conn.engine]].append(
                    (threading.get_ident(), statement))

        sa.event.listen(sa.engine.Engine, 'before_cursor_execute', record)
        try:
            yield statements
        finally:
            sa.event.remove(sa.engine.Engine, 'before_cursor_execute',
                            record)

    def _assert_only_cell2(self, statements):
        """Nothing but cell2 read by the request, nor written by anyone.

        Only the request's thread is nova-api's; of the other threads
        (nova-api's workers, and the conductor and computes), none may
        write to cell0 or cell1. host1's heartbeat is its own business.
        """
        me = threading.get_ident()
        self.assertNotEqual([], statements['cell2'])
        for cell_name in ('cell0', 'cell1'):
            self.assertEqual(
                [], [s for thread, s in statements[cell_name]
                     if thread == me or (s.lstrip().startswith(WRITES) and
                                         not s.startswith(HEARTBEAT))],
                cell_name)

    def _assert_cell2_untouched(self, before):
        after = self._snapshot()
        self.assertEqual(before['cell2'], after['cell2'])


class MultiCellTest(TwoCellsTestBase):

    def test_only_the_host_cell_is_touched(self):
        self.assertEqual(
            'cell2', self.host_mappings['host2'].cell_mapping.name)
        before = self._snapshot()

        with self._statements_by_cell() as statements:
            report = self._report_host_down('host2')

        self.assertEqual([self.in_cell2],
                         [i['id'] for i in report['instances_changed']])
        self.assertEqual([], report['instances_skipped'])
        after = self._snapshot()
        # Not a row of cell0 or cell1 changed, the stale one included.
        self.assertEqual(before['cell0'], after['cell0'])
        self.assertEqual(before['cell1'], after['cell1'])
        self.assertEqual(STOPPED, self._instances(after)[self.in_cell2])
        self.assertEqual((False, None, True),
                         self._service_row('host2', after))
        # The request read and wrote cell2 only; nothing, on any thread
        # (notifications included), wrote to another cell.
        self._assert_only_cell2(statements)
        # The servers of cell1 and their host are as they were.
        server = self.admin_api.get_server(self.in_cell1)
        self.assertEqual(('ACTIVE', 'UP'),
                         (server['status'], server['host_status']))
        server = self.admin_api.get_server(self.in_cell2)
        self.assertEqual(('SHUTOFF', 'DOWN'),
                         (server['status'], server['host_status']))

    def test_host_evacuation_in_the_host_cell(self):
        """Every server of a cell2 host back on host3, as it was."""
        stopped = self._stop_server(self._boot('host2', 'stopped'))
        active = self.admin_api.get_server(self.in_cell2)
        self._report_host_down('host2')
        self.computes['host2'].stop()

        with self._statements_by_cell() as statements:
            body = self._evacuate_host('host2')['evacuate']
            for server, status in ((active, 'ACTIVE'), (stopped, 'SHUTOFF')):
                self._wait_for_server_parameter(
                    server, {'status': status,
                             'OS-EXT-SRV-ATTR:host': 'host3',
                             'OS-EXT-STS:task_state': None})
            watching.follow_recoveries(self)

        self.assertEqual(
            {active['id']: ('accepted', None, None),
             stopped['id']: ('accepted', None, None)},
            {s['id']: (s['result'], s['reason'], s['message'])
             for s in body['servers']})
        self._assert_only_cell2(statements)
        # The stale row of cell1 that names host2 is not a server of it.
        self.assertEqual(ACTIVE, self._instances()[self.stale])

    def test_host_state_reads_the_host_cell(self):
        self._report_host_down('host2')

        with self._statements_by_cell() as statements:
            state = self._get_host_state('host2')['host']

        self.assertEqual([self.in_cell2],
                         [server['id'] for server in state['recovery']])
        self._assert_only_cell2(statements)

    def test_destination_in_another_cell_is_refused(self):
        self._report_host_down('host2')
        self.computes['host2'].stop()
        before = self._snapshot()

        response = self._raw('POST', '/os-hosts/host2/evacuate',
                             {'evacuate': {'host': 'host1'}})

        message = self.assertFault(response, 400)
        self.assertIn('cell1', message)
        self.assertUnchanged(before)

    def _assert_cell_unavailable(self, response):
        """503 naming the cell: nothing changed, retry later."""
        message = self.assertFault(response, 503)
        self.assertIn('cell2', message)

    def test_recovery_while_the_host_cell_is_down(self):
        self._report_host_down('host2')
        before = self._snapshot()
        with nova_fixtures.DownCellFixture([self.cell_mappings['cell2']]):
            evacuate = self._raw('POST', '/os-hosts/host2/evacuate',
                                 {'evacuate': {}})
            show = self._show('host2')
            self._assert_cell2_untouched(before)

        self._assert_cell_unavailable(evacuate)
        self._assert_cell_unavailable(show)
        # Once the cell is back, the server is as the report left it.
        server = self.admin_api.get_server(self.in_cell2)
        self.assertEqual(('SHUTOFF', 'host2'),
                         (server['status'], server['OS-EXT-SRV-ATTR:host']))

    def test_report_while_the_host_cell_is_down(self):
        before = self._snapshot()
        with nova_fixtures.DownCellFixture([self.cell_mappings['cell2']]):
            report = self._put('host2', test_robustness.REPORT)
            show = self._show('host2')
            # Nothing of cell2 was touched.
            self._assert_cell2_untouched(before)
            # Hosts of the cells that are up are not held up by it.
            host1 = self._report_host_down('host1')
            self.assertEqual([self.in_cell1],
                             [i['id'] for i in host1['instances_changed']])

        self._assert_cell_unavailable(report)
        self._assert_cell_unavailable(show)
        # Once the cell is back, retrying completes the report.
        retry = self._report_host_down('host2')
        self.assertEqual([self.in_cell2],
                         [i['id'] for i in retry['instances_changed']])
        self.assertEqual(STOPPED, self._instances()[self.in_cell2])

    def test_api_database_unreachable(self):
        """The host's mapping cannot be read, as while MariaDB restarts."""
        before = self._snapshot()

        def lost(conn, cursor, statement, *args):
            if 'host_mappings' in statement:
                raise db_exc.DBConnectionError('API database unreachable')

        engine = api_db.get_engine()
        sa.event.listen(engine, 'before_cursor_execute', lost)
        try:
            report = self._put('host2', test_robustness.REPORT)
            show = self._show('host2')
        finally:
            sa.event.remove(engine, 'before_cursor_execute', lost)

        for response in (report, show):
            self.assertIn('API database', self.assertFault(response, 503))
        self.assertEqual(before, self._snapshot())
        retry = self._report_host_down('host2')
        self.assertEqual([self.in_cell2],
                         [i['id'] for i in retry['instances_changed']])

    def test_cell_database_lost_in_the_middle_of_a_report(self):
        """cell2's database goes away after the service row is written."""
        before = self._snapshot()
        engine = self._engine('cell2')
        lost_at = []

        def lost(conn, cursor, statement, *args):
            if statement.lstrip().startswith('UPDATE instances'):
                lost_at.append(statement)
                raise db_exc.DBConnectionError('cell2 database unreachable')

        sa.event.listen(engine, 'before_cursor_execute', lost)
        try:
            response = self._put('host2', test_robustness.REPORT)
        finally:
            sa.event.remove(engine, 'before_cursor_execute', lost)

        self.assertEqual(1, len(lost_at))
        self._assert_cell_unavailable(response)
        # The service row written before the failure rolled back with it.
        self.assertEqual(before, self._snapshot())
        retry = self._report_host_down('host2')
        self.assertEqual([self.in_cell2],
                         [i['id'] for i in retry['instances_changed']])
        self.assertEqual((False, None, True), self._service_row('host2'))


class RunawayGuardCellsTest(TwoCellsTestBase):
    """The runaway guard counts the hosts of every cell."""

    MAX_DOWN_FRACTION = 0.5

    def test_reports_of_other_cells_count(self):
        # host1 (cell1) down: 1 of 3, within half.
        self._report_host_down('host1')
        before = self._snapshot()

        with self._statements_by_cell() as statements:
            response = self._put('host2', test_robustness.REPORT)

        message = self.assertFault(response, 409)
        self.assertIn('2 of the 3 nova-compute services', message)
        self.assertUnchanged(before)
        # The request read each cell's services once: a constant number
        # of statements per cell.
        me = threading.get_ident()
        for cell_name in ('cell1', 'cell2'):
            self.assertEqual(
                1, len([s for thread, s in statements[cell_name]
                        if thread == me and s.lstrip().startswith(
                            'SELECT services.host, services.forced_down')]),
                cell_name)
        # A repeated report of host1 is neither refused nor counted again.
        self._report_host_down('host1')
        # Forced, it goes through.
        self._put_host('host2', {'host_down_reported': True, 'force': True})
        self.assertEqual((False, None, True), self._service_row('host2'))
