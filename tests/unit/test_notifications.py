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

"""The emitter, what a host update queues, and the sample consumer."""

import io
import subprocess
import sys
from unittest import mock

import fixtures
from oslo_db import exception as db_exc

from nova.compute import power_state
from nova import context as nova_context
from nova import objects
from nova import test

from nova_hoststatus.hostfault import api
from nova_hoststatus.notifications import consumer
from nova_hoststatus.notifications import emitter
from nova_hoststatus.notifications import host_fault

UUID = '178b0921-8f85-4257-88b6-2e743b5a975c'
TARGET = {'vm_state': 'stopped', 'task_state': None,
          'power_state': power_state.SHUTDOWN}


class EmitterTest(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.emitter = emitter.Emitter()
        self.sent = []

    def _hold(self):
        held = []
        self.stub_out('nova_hoststatus.compat.spawn',
                      lambda func: held.append(func))
        return held

    def test_one_worker_sends_in_order(self):
        held = self._hold()
        for i in range(3):
            self.emitter.submit(self.sent.append, i)

        self.assertEqual([], self.sent)
        self.assertEqual(1, len(held))
        held.pop()()
        self.assertEqual([0, 1, 2], self.sent)
        # The worker ended with the queue: the next submit starts another.
        self.emitter.submit(self.sent.append, 3)
        self.assertEqual(1, len(held))

    def _waits(self):
        return self.useFixture(fixtures.MockPatch(
            'nova_hoststatus.notifications.emitter._wait_before_retry')).mock

    def test_a_failure_does_not_stop_the_rest(self):
        waits = self._waits()
        held = self._hold()
        failing = mock.Mock(side_effect=ValueError)
        self.emitter.submit(failing)
        self.emitter.submit(self.sent.append, 1)

        held.pop()()

        self.assertEqual([1], self.sent)
        self.assertTrue(self.emitter.join(timeout=0))
        # Tried as often as configured, with a wait between two tries.
        self.assertEqual(3, failing.call_count)
        self.assertEqual([mock.call(1), mock.call(2)], waits.call_args_list)

    def test_a_failed_send_is_tried_again(self):
        waits = self._waits()
        held = self._hold()
        flaky = mock.Mock(side_effect=[ValueError, None])
        self.emitter.submit(flaky, 'batch')
        self.emitter.submit(self.sent.append, 1)

        held.pop()()

        self.assertEqual([mock.call('batch')] * 2, flaky.call_args_list)
        self.assertEqual([1], self.sent)
        waits.assert_called_once_with(1)

    def _not_tried_again(self, error):
        waits = self._waits()
        held = self._hold()
        failing = mock.Mock(side_effect=error)
        self.emitter.submit(failing, 'batch')
        self.emitter.submit(self.sent.append, 1)

        held.pop()()

        failing.assert_called_once_with('batch')
        self.assertEqual([1], self.sent)
        waits.assert_not_called()
        self.assertIn('db sync', self.stdlog.logger.output)

    def test_a_missing_table_is_not_tried_again(self):
        self._not_tried_again(db_exc.DBNonExistentTable(
            ValueError('no such table: hoststatus_host_attributes')))

    def test_a_missing_database_is_not_tried_again(self):
        self._not_tried_again(db_exc.CantStartEngineError(
            'No sql_connection parameter is established'))

    def test_waits_are_bounded(self):
        sleep = self.useFixture(fixtures.MockPatch('time.sleep')).mock
        for attempt in (1, 2, 3, 4, 5, 9):
            emitter._wait_before_retry(attempt)
        self.assertEqual([1, 2, 4, 8, 10, 10],
                         [one.args[0] for one in sleep.call_args_list])

    def test_sends_at_once_without_executor(self):
        self.stub_out('nova_hoststatus.compat.spawn',
                      mock.Mock(side_effect=RuntimeError('shutting down')))

        self.emitter.submit(self.sent.append, 1)

        self.assertEqual([1], self.sent)
        self.assertTrue(self.emitter.join(timeout=0))

    def test_join(self):
        held = self._hold()
        self.emitter.submit(self.sent.append, 1)
        self.assertFalse(self.emitter.join(timeout=0))
        held.pop()()
        self.assertTrue(self.emitter.join(timeout=0))

    def test_real_worker(self):
        self.emitter.submit(self.sent.append, 1)
        self.assertTrue(self.emitter.join(timeout=10))
        self.assertEqual([1], self.sent)

    def test_drain_at_exit(self):
        self.stub_out('nova_hoststatus.notifications.emitter.EMITTER',
                      self.emitter)
        self.flags(notification_drain_timeout=0, group='hoststatus')
        held = self._hold()
        self.emitter.submit(self.sent.append, 1)

        emitter._drain_at_exit()

        self.assertIn('still queued after 0 seconds',
                      self.stdlog.logger.output)
        held.pop()()
        self.assertTrue(self.emitter.join(timeout=0))


class HostUpdatedTest(test.NoDBTestCase):
    """What a committed host update queues."""

    def setUp(self):
        super().setUp()
        self.submit = self.useFixture(fixtures.MockPatchObject(
            emitter.EMITTER, 'submit')).mock
        self.context = nova_context.RequestContext(
            'user', 'project', request_id='req-1')
        self.service = objects.Service(host='host1', forced_down=False,
                                       disabled=False, disabled_reason=None)

    def _change(self, uuid=UUID):
        return api.InstanceChange(uuid, 'project', 'active',
                                  None, power_state.RUNNING)

    def _queued(self):
        self.assertEqual(1, self.submit.call_count)
        (func, context, service, changes, action, reason, changed_at,
         changed, target, _host_statuses,
         _fenced) = self.submit.call_args.args
        self.assertIs(host_fault.send, func)
        # The worker's own copy of the request's context (another thread
        # must not share it), which its service copy is bound to.
        self.assertIsNot(self.context, context)
        self.assertEqual(self.context.to_dict(), context.to_dict())
        self.assertIs(context, service._context)
        # The worker builds the HostFault from what was queued.
        fault = action and host_fault._host_fault(
            context, service.host, action, reason, changed_at, changed,
            target)
        return service, changes, fault, changed

    def test_nothing_changed_queues_nothing(self):
        host_fault.host_updated(self.context, self.service, {}, [],
                                target=TARGET)
        host_fault.host_updated(self.context, self.service, {})
        self.submit.assert_not_called()

    def test_report(self):
        self.service.forced_down = True
        host_fault.host_updated(self.context, self.service,
                                {'forced_down': True}, [self._change()],
                                reason='fenced', target=TARGET)

        service, changes, fault, changed = self._queued()
        self.assertIsNot(self.service, service)
        self.assertTrue(service.forced_down)
        self.assertEqual({'forced_down': True}, changes)
        self.assertEqual([self._change()], changed)
        self.assertEqual(
            ('report', 'host1', 'fenced', 'user', 'project', 'req-1',
             'stopped', 'shutdown', [UUID]),
            (fault.action, fault.host, fault.reason, fault.reporter_user_id,
             fault.reporter_project_id, fault.request_id,
             fault.target_vm_state, fault.target_power_state,
             fault.instance_uuids))

    def test_report_changing_instances_only(self):
        # The service was down already; an instance was not stopped yet.
        host_fault.host_updated(self.context, self.service, {},
                                [self._change()], target=TARGET)

        service, changes, fault, changed = self._queued()
        # No service.update: the service did not change.
        self.assertEqual({}, changes)
        self.assertEqual('report', fault.action)
        self.assertEqual([UUID], fault.instance_uuids)

    def test_repeated_report_tells_the_fault_again(self):
        # Nothing changed; an earlier report of the fault changed one.
        host_fault.host_updated(self.context, self.service, {}, [],
                                target=TARGET, retold=[self._change()])

        service, changes, fault, changed = self._queued()
        self.assertEqual({}, changes)
        self.assertEqual('report', fault.action)
        self.assertEqual([UUID], fault.instance_uuids)
        self.assertEqual([self._change()], changed)

    def test_clear(self):
        host_fault.host_updated(self.context, self.service,
                                {'forced_down': False})

        service, changes, fault, changed = self._queued()
        self.assertEqual('clear', fault.action)
        self.assertEqual([], fault.instance_uuids)
        self.assertIsNone(fault.target_vm_state)
        self.assertEqual([], changed)

    def test_maintenance(self):
        changes = {'disabled': True, 'disabled_reason': 'maintenance_mode'}
        host_fault.host_updated(self.context, self.service, changes)

        service, queued_changes, fault, changed = self._queued()
        self.assertEqual(changes, queued_changes)
        self.assertIsNone(fault)


def _instance_update(uuid, power, name='vm1', project='p1'):
    return {'nova_object.data': {
        'uuid': uuid, 'tenant_id': project, 'display_name': name,
        'host': 'host1', 'power_state': power,
        'updated_at': '2026-01-01T00:00:00Z'}}


class ConsumerEndpointTest(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.out = io.StringIO()
        self.endpoint = consumer.HostFaultEndpoint(out=self.out)

    def _info(self, event_type, payload):
        self.endpoint.info({}, 'nova-api:api1', event_type, payload,
                           {'timestamp': 'now'})

    def _host_status(self, status, previous, changed_at):
        self._info('host_status.update', {'nova_object.data': {
            'instance_uuid': UUID, 'project_id': 'p1', 'user_id': 'u',
            'host': 'host1', 'host_status': status,
            'previous_host_status': previous, 'reason': None,
            'changed_at': changed_at}})

    def test_host_status_arriving_late_is_ignored(self):
        # A clear served by one nova-api worker arrives before the report
        # queued earlier in another.
        self._host_status('UP', 'DOWN', '2026-01-01T00:00:05Z')
        self._host_status('DOWN', 'UP', '2026-01-01T00:00:01Z')

        self.assertEqual({}, dict(self.endpoint.host_status))
        self.assertIn('ignored, a later change was told',
                      self.out.getvalue().splitlines()[-1])

        self._host_status('UNKNOWN', 'UP', '2026-01-01T00:00:09Z')
        self.assertEqual({UUID: ('host1', 'UNKNOWN')},
                         self.endpoint.host_status['p1'])

    def test_smaller_sequence_is_ignored_whatever_changed_at(self):
        def told(status, previous, changed_at, sequence):
            self._info('host_status.update', {'nova_object.data': {
                'instance_uuid': UUID, 'project_id': 'p1', 'user_id': 'u',
                'host_id': 'abc', 'host_status': status,
                'previous_host_status': previous, 'changed_at': changed_at,
                'sequence': sequence}})

        # The clear's batch numbered after the report's, though queued
        # first in its process.
        told('UP', 'DOWN', '2026-01-01T00:00:01Z', 8)
        told('DOWN', 'UP', '2026-01-01T00:00:05Z', 7)
        self.assertEqual({}, dict(self.endpoint.host_status))
        self.assertIn('ignored, a later change was told',
                      self.out.getvalue().splitlines()[-1])
        told('UNKNOWN', 'UP', '2026-01-01T00:00:00Z', 9)
        self.assertEqual({UUID: ('abc', 'UNKNOWN')},
                         self.endpoint.host_status['p1'])

    def test_host_status_of_an_owner_told_unknown_only(self):
        # No host name, no reason, host_status only while UNKNOWN.
        self._info('host_status.update', {'nova_object.data': {
            'instance_uuid': UUID, 'project_id': 'p1', 'user_id': 'u',
            'host_id': 'abc', 'host_status': 'UNKNOWN',
            'changed_at': '2026-01-01T00:00:01Z'}})
        self.assertEqual({UUID: ('abc', 'UNKNOWN')},
                         self.endpoint.host_status['p1'])
        self._info('host_status.update', {'nova_object.data': {
            'instance_uuid': UUID, 'project_id': 'p1', 'user_id': 'u',
            'host_id': 'abc', 'previous_host_status': 'UNKNOWN',
            'changed_at': '2026-01-01T00:00:02Z'}})
        self.assertEqual({}, dict(self.endpoint.host_status))
        self.assertIn('host abc is not UNKNOWN (was UNKNOWN)',
                      self.out.getvalue())

    def test_down_and_up_again(self):
        self._info('host_fault.report', {'nova_object.data': {
            'host': 'host1', 'reporter_user_id': 'u',
            'reporter_project_id': 'p', 'reason': 'fenced',
            'changed_at': '2026-01-01T00:00:00Z', 'instance_uuids': [UUID]}})
        self._info('instance.update', _instance_update(UUID, 'shutdown'))
        self._info('instance.update', _instance_update('other', 'shutdown',
                                                       'vm2', 'p2'))

        self.assertEqual({'p1', 'p2'}, set(self.endpoint.down))
        self.assertEqual('fenced', self.endpoint.down['p1'][UUID].fault.reason)
        self.assertIsNone(self.endpoint.down['p2']['other'].fault)
        self.assertEqual(
            ['host host1 reported down at 2026-01-01T00:00:00Z by u/p '
             '(fenced): 1 servers stopped',
             'project p1: server vm1 (%s) went down at 2026-01-01T00:00:00Z '
             'on host host1: host fault reported by u/p (fenced)' % UUID,
             'project p2: server vm2 (other) went down at '
             '2026-01-01T00:00:00Z on host host1'],
            self.out.getvalue().splitlines())

        self._info('instance.update', _instance_update(UUID, 'running'))

        self.assertEqual({'p2'}, set(self.endpoint.down))
        self.assertEqual(['project p2: 1 servers down',
                          '  server vm2 (other) went down at '
                          '2026-01-01T00:00:00Z on host host1'],
                         self.endpoint.summary())

    def test_filter(self):
        rule = consumer.HostFaultEndpoint.filter_rule
        for event_type in ('instance.update', 'host_fault.report',
                           'host_fault.clear'):
            self.assertTrue(rule.match({}, 'p', event_type, {}, {}))
        self.assertFalse(rule.match({}, 'p', 'service.update', {}, {}))

    def test_parse_args(self):
        args = consumer.parse_args(['--transport-url', 'rabbit://h/'])
        self.assertEqual(['versioned_notifications'], args.topics)
        self.assertEqual('nova', args.exchange)
        self.assertEqual('nova-hoststatus-consumer', args.pool)

    def test_runnable_module(self):
        out = subprocess.run(
            [sys.executable, '-m', 'nova_hoststatus.notifications.consumer',
             '--help'], capture_output=True, text=True, check=True).stdout
        self.assertIn('--transport-url', out)
