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

"""Failures injected into a host fault report, and what they leave behind.

Database failures are injected at the statement level, on the cell
database's engine, so that the report's own code runs up to the failing
statement; the notifier and the servicegroup driver fail through nova's own
entry points. Whatever fails, the answer is nova's fault JSON or a success,
the cell database holds all of the report or none of it, nothing is
notified that was not committed, and repeating the request converges.
"""

import contextlib
import threading
from unittest import mock

from oslo_db import exception as db_exc
import oslo_messaging
import sqlalchemy as sa

from nova import context as nova_context
from nova.db.main import api as main_db
from nova import servicegroup

from nova_hoststatus.notifications import emitter
from tests.functional import test_robustness

STOPPED = ('stopped', None, 4)
ACTIVE = ('active', None, 1)
ACTION = 'host_down_reported'

# The statements of a report's transaction, in order.
STATEMENTS = ['UPDATE services', 'SELECT instances.id', 'UPDATE instances',
              'INSERT INTO instance_actions']


class FaultInjectionTest(test_robustness.RobustnessTestBase):

    def setUp(self):
        super().setUp()
        self.flags(notify_on_state_change='vm_and_task_state',
                   group='notifications')
        self.servers = [self._boot('host1', 'active')['id']]
        self.servers += self._create_servers_in_db(
            'host1', 2, project_id=test_robustness.base.OTHER_PROJECT_ID)
        self._boot('host2', 'elsewhere')
        self._wait_until_notified()
        self.notifier.reset()

    def _wait_until_notified(self):
        self.assertTrue(emitter.EMITTER.join(timeout=30))

    def _report_notifications(self):
        """What the API notified about host1 and its servers."""
        self._wait_until_notified()
        return [n for n in self.notifier.versioned_notifications
                if n['event_type'] in ('host_fault.report', 'host_fault.clear',
                                       'instance.update', 'service.update')]

    @contextlib.contextmanager
    def _failing(self, statement, error):
        """Raise ``error`` when cell1 executes ``statement...``."""
        cctxt = nova_context.get_admin_context()
        nova_context.set_target_cell(cctxt, self.cell_mappings['cell1'])
        engine = main_db.get_context_manager(cctxt).writer.get_engine()
        raised = []

        def fail(conn, cursor, sql, *args):
            if sql.lstrip().startswith(statement) and not raised:
                raised.append(sql)
                raise error

        sa.event.listen(engine, 'before_cursor_execute', fail)
        try:
            yield raised
        finally:
            sa.event.remove(engine, 'before_cursor_execute', fail)

    def _assert_report_converges(self):
        report = self._report_host_down('host1')
        self.assertCountEqual(self.servers,
                              [i['id'] for i in report['instances_changed']])
        instances = self._instances()
        for uuid in self.servers:
            self.assertEqual(STOPPED, instances[uuid])
            self.assertEqual(1, self._actions(uuid).count(ACTION))
        self.assertEqual((False, None, True), self._service_row('host1'))
        return report

    def test_database_failure_at_each_statement_rolls_back_all(self):
        initial = self._snapshot()
        for statement in STATEMENTS:
            with self._failing(statement, db_exc.DBError('injected')) as hit:
                response = self._put('host1', test_robustness.REPORT)
            self.assertEqual(1, len(hit), statement)

            # Stock nova's answer to an unexpected database error: a 500
            # in the fault format, telling the error's class and nothing
            # of the statement or the schema.
            message = self.assertFault(response, 500)
            for leak in ('UPDATE', 'SELECT', 'INSERT', 'instances',
                         'services', 'sqlite', 'injected'):
                self.assertNotIn(leak, message, statement)
            # All or nothing: the service row written first rolled back
            # with the rest, and nothing of it was notified.
            self.assertUnchanged(initial, statement)
            self.assertEqual([], self._report_notifications(), statement)

            self._assert_report_converges()
            self._restore(initial)
            self._wait_until_notified()
            self.notifier.reset()

    def test_deadlock_is_retried_or_answered_as_retryable(self):
        initial = self._snapshot()
        with self._failing('UPDATE instances', db_exc.DBDeadlock()) as hit:
            response = self._put('host1', test_robustness.REPORT)
        self.assertEqual(1, len(hit))

        if response.status_code == 200:
            # Retried by the service: the second attempt did it all, once.
            changed = response.json()['host']['instances_changed']
            self.assertCountEqual(self.servers, [i['id'] for i in changed])
            for uuid in self.servers:
                self.assertEqual([ACTION], [a for a in self._actions(uuid)
                                            if a == ACTION])
            self.assertEqual([], self._report_host_down(
                'host1')['instances_changed'])
            return
        # Or answered as retryable, with nothing changed.
        self.assertIn(response.status_code, (409, 503), response.text)
        self.assertFault(response)
        self.assertUnchanged(initial)
        self._assert_report_converges()

    def test_notifier_failing_changes_nothing_of_the_report(self):
        def broken(*args, **kwargs):
            notifier = mock.Mock()
            for priority in ('audit', 'debug', 'info', 'warn', 'warning',
                             'error', 'critical', 'sample'):
                getattr(notifier, priority).side_effect = (
                    oslo_messaging.MessageDeliveryFailure('injected'))
            return notifier

        with mock.patch('nova.rpc.get_versioned_notifier', broken), \
                mock.patch('nova.rpc.get_notifier', broken):
            report = self._report_host_down('host1')
            self._wait_until_notified()

        # The answer is the committed report; nothing was delivered.
        self.assertCountEqual(self.servers,
                              [i['id'] for i in report['instances_changed']])
        self.assertEqual([], self._report_notifications())
        self.assertEqual([], self.notifier.notifications)
        instances = self._instances()
        for uuid in self.servers:
            self.assertEqual(STOPPED, instances[uuid])
        # Repeating the report converges (it changes nothing)...
        retry = self._report_host_down('host1')
        self.assertEqual([], retry['instances_changed'])
        # ...and the worker that met the failures still sends what follows.
        self._put_host('host1', {'host_down_reported': False})
        self._wait_until_notified()
        self.assertIn('host_fault.clear',
                      [n['event_type'] for n in self._report_notifications()])

    def test_failure_after_the_commit(self):
        """The servicegroup driver fails as the API builds its answer."""
        real = servicegroup.API.service_is_up
        me = threading.get_ident()

        def service_is_up(api, member):
            if threading.get_ident() == me and member.host == 'host1':
                # After the commit, for host_status.update and the answer.
                raise oslo_messaging.MessagingTimeout('injected')
            return real(api, member)

        with mock.patch.object(servicegroup.API, 'service_is_up',
                               service_is_up):
            response = self._put('host1', test_robustness.REPORT)

        # The report is committed, and so told, although the answer is an
        # error: the caller retries...
        self.assertFault(response, 500)
        instances = self._instances()
        for uuid in self.servers:
            self.assertEqual(STOPPED, instances[uuid])
        updates = [n for n in self._report_notifications()
                   if n['event_type'] == 'instance.update']
        self.assertEqual(len(self.servers), len(updates))
        # ...and the retry answers the committed state, changing nothing.
        retry = self._report_host_down('host1')
        self.assertEqual([], retry['instances_changed'])
        self.assertEqual(
            {'already_in_target_state'},
            {i['reason'] for i in retry['instances_skipped']})
        for uuid in self.servers:
            self.assertEqual([ACTION], [a for a in self._actions(uuid)
                                        if a == ACTION])
