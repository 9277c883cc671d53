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

"""Host fault reports racing each other and instance actions.

A report reads the instances of the host, then compare-and-sets them in
the same transaction. To race it deterministically, these tests let a
real operation (a REST call through the real API, conductor and compute)
commit between the report's read and its write: the report's read returns
what it would have read before the operation (``_report_racing``). That is
what a concurrent transaction looks like to the report's compare-and-set
under READ COMMITTED (PostgreSQL, MySQL configured so): the UPDATE sees the
committed change, the read did not. (Running the operation from inside the
report's transaction instead, e.g. from a wrapper of
``db.instances_compare_and_set``, does not work with nova's fixtures: every
session shares one in-memory SQLite connection, so the operation's commits
and rollbacks would end the report's own transaction.)

The invariant: every instance ends in a state explained by one serial
order of the report's read, the racing operation and the report's
conditional write; an instance the report did not change is listed as
skipped with ``state_changed_concurrently``, gets no instance action from
it, and a retried report converges.
"""

import threading
from unittest import mock

import fixtures

from nova.compute import power_state
from nova import objects

from nova_hoststatus import db
from tests.functional import test_robustness

STOPPED = ('stopped', None, power_state.SHUTDOWN)
ACTIVE = ('active', None, power_state.RUNNING)
RACED = 'state_changed_concurrently'
ACTION = 'host_down_reported'


class ConcurrencyTest(test_robustness.RobustnessTestBase):

    def _report_racing(self, host, operation, api=None):
        """Report ``host`` down with ``operation`` between read and write.

        The report reads the instances on the host as they are now; then
        ``operation`` runs to its end (committed); then the report writes.
        """
        real_read = db.instances_on_host
        with test_robustness.base.cell_context(self) as cctxt:
            as_read = real_read(cctxt, host)
        operation()

        def read_before_the_operation(context, host_, *args, **kwargs):
            self.assertEqual(host, host_)
            return as_read

        with mock.patch.object(db, 'instances_on_host',
                               read_before_the_operation):
            return self._report_host_down(host, api=api)

    def _changed(self, report):
        return {i['id']: i for i in report['instances_changed']}

    def _skipped(self, report):
        return {i['id']: i for i in report['instances_skipped']}

    def _assert_raced(self, report, server_id, vm_state, task_state=None):
        """``server_id`` is skipped as raced, in the state it is in now."""
        self.assertNotIn(server_id, self._changed(report))
        skip = self._skipped(report).get(server_id)
        self.assertIsNotNone(skip, report)
        self.assertEqual((RACED, vm_state, task_state),
                         (skip['reason'], skip['vm_state'],
                          skip['task_state']))

    def test_reports_at_once_change_each_instance_once(self):
        """Four reports of one host on four greenthreads.

        Under nova's fixtures (eventlet, one in-memory SQLite connection)
        their transactions run one after the other, whatever order the
        greenthreads start in; test_report_racing_a_report interleaves two
        reports deterministically.
        """
        servers = set(self._create_servers_in_db('host1', 8))
        reports, errors = [], []

        def report():
            try:
                reports.append(self._report_host_down('host1'))
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=report) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        self.assertEqual([], errors)
        self.assertEqual(4, len(reports))
        changes = [uuid for report in reports
                   for uuid in self._changed(report)]
        # Each instance changed by exactly one report; the others skipped
        # it, as already stopped or as raced.
        self.assertCountEqual(servers, changes)
        for report in reports:
            self.assertTrue(report['host_down_reported'])
            self.assertEqual(servers, set(self._changed(report)) |
                             set(self._skipped(report)))
            for skip in report['instances_skipped']:
                self.assertIn(skip['reason'],
                              ('already_in_target_state', RACED))
        instances = self._instances()
        for uuid in servers:
            self.assertEqual(STOPPED, instances[uuid])
            self.assertEqual([ACTION], self._actions(uuid))

    def test_report_racing_a_report(self):
        servers = self._create_servers_in_db('host1', 3)
        first = []

        report = self._report_racing(
            'host1', lambda: first.append(self._report_host_down('host1')))

        self.assertEqual(set(servers), set(self._changed(first[0])))
        instances = self._instances()
        for uuid in servers:
            self.assertEqual(STOPPED, instances[uuid])
        self.assertEqual({}, self._changed(report), report)
        for uuid in servers:
            self._assert_raced(report, uuid, 'stopped')
            # One report, one action record, one instance.update.
            self.assertEqual([ACTION], self._actions(uuid))

    def test_two_first_reports_keep_the_pre_fault_records(self):
        """Both read the host up; one commits before the other writes.

        The second is the same fault: it keeps the records the first made,
        of the servers as they were before it.
        """
        server = self._boot('host1')
        real_read = objects.Service.get_by_compute_host
        with test_robustness.base.cell_context(self) as cctxt:
            reads = [real_read(cctxt, 'host1')]
        first = self._report_host_down('host1')

        def read_before_the_first(context, host):
            # Read before the first report, the first time only.
            return reads.pop() if reads else real_read(context, host)

        with mock.patch.object(objects.Service, 'get_by_compute_host',
                               side_effect=read_before_the_first):
            second = self._report_host_down('host1')

        self.assertEqual([server['id']], list(self._changed(first)))
        self.assertEqual({}, self._changed(second))
        body = self._evacuate_host('host1')['evacuate']
        self.assertEqual([('active', 'active')],
                         [(s['pre_fault']['vm_state'], s['restored_vm_state'])
                          for s in body['servers']])

    def test_report_racing_a_stop(self):
        """The owner's stop commits between the report's read and write."""
        stopping = self._boot('host1', 'stopping')
        bystander = self._boot('host1', 'bystander')

        report = self._report_racing(
            'host1', lambda: self._stop_server(stopping))

        instances = self._instances()
        self.assertEqual(STOPPED, instances[stopping['id']])
        self.assertEqual(STOPPED, instances[bystander['id']])
        self.assertIn(bystander['id'], self._changed(report))
        # The stop is the owner's, not the report's: the report must not
        # claim it, record an action for it or notify it.
        self._assert_raced(report, stopping['id'], 'stopped')
        self.assertEqual(['create', 'stop'], self._actions(stopping['id']))
        self.assertEqual({bystander['id']}, set(self._changed(report)))

    def test_report_racing_an_unpause(self):
        """Raced into a state the report would stop: skipped, then retried."""
        server = self._boot('host1')
        self.admin_api.post_server_action(server['id'], {'pause': {}})
        server = self._wait_for_state_change(server, 'PAUSED')

        def unpause():
            self.admin_api.post_server_action(server['id'],
                                              {'unpause': {}})
            self._wait_for_state_change(server, 'ACTIVE')

        report = self._report_racing('host1', unpause)

        # Not clobbered: the unpause happened after the report read.
        self._assert_raced(report, server['id'], 'active')
        self.assertNotIn(ACTION, self._actions(server['id']))
        self.assertEqual(ACTIVE, self._instances()[server['id']])
        # The skip says so; reporting again converges.
        retry = self._report_host_down('host1')
        self.assertEqual([server['id']], list(self._changed(retry)))
        self.assertEqual(STOPPED, self._instances()[server['id']])

    def test_report_racing_a_start(self):
        server = self._stop_server(self._boot('host1'))

        def start():
            self.admin_api.post_server_action(server['id'],
                                              {'os-start': None})
            self._wait_for_state_change(server, 'ACTIVE')

        report = self._report_racing('host1', start)

        # Already stopped when read: the report wrote nothing to it.
        skip = self._skipped(report)[server['id']]
        self.assertEqual('already_in_target_state', skip['reason'])
        self.assertNotIn(ACTION, self._actions(server['id']))
        # Serial order: the report, then the start.
        self.assertEqual(ACTIVE, self._instances()[server['id']])

    def test_report_racing_a_delete(self):
        deleted = self._boot('host1', 'deleted')
        kept = self._boot('host1', 'kept')

        report = self._report_racing(
            'host1', lambda: self._delete_server(deleted))

        self._assert_raced(report, deleted['id'], 'deleted')
        self.assertNotIn(ACTION, self._actions(deleted['id']))
        self.assertNotIn(deleted['id'], self._instances())
        self.assertEqual({kept['id']}, set(self._changed(report)))

    def test_report_racing_a_resize_confirm(self):
        # Resized from host2 onto host1, confirmed between read and write.
        server = self._boot('host2')
        flavor = self.admin_api.get_flavors()[1]
        server = self._resize_server(server, flavor['id'])
        self.assertEqual('host1', server['OS-EXT-SRV-ATTR:host'])

        report = self._report_racing(
            'host1', lambda: self._confirm_resize(server))

        # Read as resized, which a report never touches: serial order is
        # the report, then the confirm.
        skip = self._skipped(report)[server['id']]
        self.assertEqual(('untouched_vm_state', 'resized'),
                         (skip['reason'], skip['vm_state']))
        self.assertEqual(ACTIVE, self._instances()[server['id']])
        self.assertNotIn(ACTION, self._actions(server['id']))

    def test_report_racing_a_boot_landing_on_the_host(self):
        before = self._boot('host1', 'before')
        landed = []

        report = self._report_racing(
            'host1', lambda: landed.append(self._boot('host1', 'landing')))

        # Not there when the report read the host: not in the report, not
        # changed by it (serial order: the report, then the boot).
        landing = landed[0]
        self.assertEqual({before['id']}, set(self._changed(report)))
        self.assertNotIn(landing['id'], self._skipped(report))
        self.assertEqual(ACTIVE, self._instances()[landing['id']])
        # A retry reports the host again and converges.
        retry = self._report_host_down('host1')
        self.assertEqual([landing['id']], list(self._changed(retry)))

    def test_report_during_a_build(self):
        """The report lands while the compute is spawning a server."""
        compute = self.computes['host1']
        spawning, release = threading.Event(), threading.Event()
        real_spawn = compute.driver.spawn

        def spawn(*args, **kwargs):
            spawning.set()
            release.wait()
            return real_spawn(*args, **kwargs)

        self.useFixture(fixtures.MockPatchObject(compute.driver, 'spawn',
                                                 spawn))
        # Never leave the build hanging, whatever happens below.
        self.addCleanup(release.set)
        body = self._build_server(name='building', networks='none',
                                  host='host1')
        server = self.admin_api.post_server({'server': body})
        # A bound on the wait, not a timing assertion: the build reaches
        # spawn or the test fails instead of hanging.
        self.assertTrue(spawning.wait(timeout=60))

        report = self._report_host_down('host1')

        old = self._changed(report)[server['id']]
        self.assertEqual(('building', 'spawning'),
                         (old['old_vm_state'], old['old_task_state']))
        release.set()
        # The compute finds the task_state it expected gone and aborts
        # the build: the server ends in ERROR, not running on a host that
        # is reported down, and not half stopped.
        server = self._wait_for_state_change(server, 'ERROR')
        self.assertEqual(('error', None),
                         self._instances()[server['id']][:2])
