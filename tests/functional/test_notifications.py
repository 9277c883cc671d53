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

"""The notifications of host down reports and clears, through REST.

Real API, conductor, scheduler and computes; notifications are caught by
Nova's NotificationFixture (``self.notifier``), or sent over a real
oslo.messaging transport to the sample consumer.
"""

import datetime
import io
import os
import threading
from unittest import mock

import amqp.exceptions
import fixtures
import kombu
from oslo_db import exception as db_exc
import oslo_messaging
from oslo_serialization import jsonutils
from oslo_utils import fixture as utils_fixture

from nova.compute import power_state
import nova.conf
from nova import context as nova_context
from nova.db.main import api as nova_db
from nova import notifications
from nova import objects
from nova import rpc
from nova.tests.functional.notification_sample_tests import \
    notification_sample_base
from nova.tests.unit.api.openstack.compute import test_services

from nova_hoststatus import compat
from nova_hoststatus.notifications import consumer
from nova_hoststatus.notifications import emitter
from nova_hoststatus.notifications import host_fault
from nova_hoststatus.objects import host_status as host_status_obj
from nova_hoststatus.objects import notification as notification_obj
from nova_hoststatus.watcher import watcher
from tests.functional import base
from tests.functional import watching

CONF = nova.conf.CONF
SAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'doc', 'notification_samples')

# The instance.update of a server a report changed, as Nova's own
# InstanceUpdatePayload says it.
STOPPED = {'state': 'stopped', 'task_state': None,
           'power_state': 'shutdown'}


def _data(notification):
    return notification['payload']['nova_object.data']


class NotificationTestBase(base.HostStatusTestBase):

    def setUp(self):
        super().setUp()
        # Nova sends instance.update only with this set, as Ceilometer and
        # Aodh deployments do.
        self.flags(notify_on_state_change='vm_and_task_state',
                   group='notifications')
        # Owners told all of host_status.update (HostStatusPolicyTest
        # checks what else they are told).
        self._let_owners_see()

    def _versioned(self, *event_types):
        return [n for n in self.notifier.versioned_notifications
                if not event_types or n['event_type'] in event_types]

    def _event_types(self):
        return [n['event_type'] for n in self._versioned()]

    def _wait_until_sent(self):
        """Wait until the notifications of every update so far are sent."""
        self.assertTrue(emitter.EMITTER.join(timeout=10))

    def _hold_notifications(self):
        """Keep the emitter's worker from starting; return the held ones.

        Calling a held worker sends what was queued.
        """
        held = []
        spawn = compat.spawn

        def hold(func, *args, **kwargs):
            if func == emitter.EMITTER._drain:
                held.append(func)
                return None
            return spawn(func, *args, **kwargs)

        self.stub_out('nova_hoststatus.compat.spawn', hold)
        # A worker left held would keep the emitter busy for later tests.
        self.addCleanup(lambda: [func() for func in held])
        return held

    def _create_instances(self, host, count, uuids=None):
        """Instances straight in the cell DB: no boot, but a flavor."""
        flavor = objects.Flavor.get_by_flavor_id(
            nova_context.get_admin_context(), '1')
        with base.cell_context(self) as cctxt:
            for i in range(count):
                instance = objects.Instance(
                    context=cctxt, host=host,
                    project_id=self.api_fixture.project_id,
                    user_id='fake', vm_state='active', task_state=None,
                    power_state=power_state.RUNNING,
                    display_name='bulk-%d' % i, flavor=flavor,
                    instance_type_id=flavor.id, system_metadata={},
                    metadata={})
                if uuids:
                    instance.uuid = uuids[i]
                instance.create()


class HostFaultNotificationTest(NotificationTestBase):
    """Servers on host1 in a changed and a skipped state, one on host2."""

    def setUp(self):
        super().setUp()
        self.active = self._boot('host1', 'active')
        self.paused = self._boot('host1', 'paused')
        self.admin_api.post_server_action(self.paused['id'], {'pause': {}})
        self.paused = self._wait_for_state_change(self.paused, 'PAUSED')
        self.other_project = self._boot('host1', 'other-project',
                                        api=self.other_admin_api)
        self.error = self._boot('host1', 'error')
        self.admin_api.post_server_action(
            self.error['id'], {'os-resetState': {'state': 'error'}})
        self.error = self._wait_for_server_parameter(
            self.error, {'OS-EXT-STS:vm_state': 'error'})
        self.on_host2 = self._boot('host2', 'on-host2')
        # The last notifications of the boots and the pause, before the
        # tests count theirs.
        self.notifier.wait_for_versioned_notifications(
            'instance.create.end', n_events=5)
        self.notifier.wait_for_versioned_notifications('instance.pause.end')
        self.notifier.reset()

    def _report(self, reason=None):
        body = {'host_down_reported': True}
        if reason:
            body['reason'] = reason
        return self._put_host('host1', body)['host']

    def test_report(self):
        host = self._report(reason='power supply failure')
        changed = [i['id'] for i in host['instances_changed']]
        self.assertEqual(
            [self.active['id'], self.paused['id'], self.other_project['id']],
            changed)

        updates = self.notifier.wait_for_versioned_notifications(
            'instance.update', n_events=3)
        self._wait_until_sent()
        self.assertEqual(['service.update', 'host_fault.report'] +
                         ['host_status.update'] * 4 +
                         ['instance.update'] * 3, self._event_types())

        # Nova's own instance.update, one per changed server, in order.
        self.assertEqual(changed, [_data(n)['uuid'] for n in updates])
        old_states = {self.active['id']: 'active',
                      self.paused['id']: 'paused',
                      self.other_project['id']: 'active'}
        fault = _data(self._versioned('host_fault.report')[0])
        for update in updates:
            self.assertEqual('InstanceUpdatePayload',
                             update['payload']['nova_object.name'])
            self.assertTrue(update['publisher_id'].startswith('nova-api:'))
            data = _data(update)
            self.assertEqual(STOPPED, {key: data[key] for key in STOPPED})
            self.assertEqual(
                {'old_state': old_states[data['uuid']], 'state': 'stopped',
                 'old_task_state': None, 'new_task_state': None},
                data['state_update']['nova_object.data'])
            self.assertEqual('host1', data['host'])
            self.assertEqual('admin', data['action_initiator_user'])
            self.assertEqual(fault['request_id'], data['request_id'])
        self.assertEqual(
            {self.active['tenant_id'], self.other_project['tenant_id']},
            {_data(n)['tenant_id'] for n in updates})

        # The host notification.
        self.assertEqual(
            {'host': 'host1', 'host_down_reported': True,
             'reason': 'power supply failure',
             'reporter_user_id': 'admin',
             'reporter_project_id': self.api_fixture.project_id,
             'target_vm_state': 'stopped', 'target_power_state': 'shutdown',
             'instance_uuids': changed},
            {key: fault[key] for key in (
                'host', 'host_down_reported', 'reason', 'reporter_user_id',
                'reporter_project_id', 'target_vm_state',
                'target_power_state', 'instance_uuids')})
        self.assertEqual(
            {'forced_down': True, 'host': 'host1'},
            {key: _data(self._versioned('service.update')[0])[key]
             for key in ('forced_down', 'host')})

        # And the legacy compute.instance.update, as notification_format
        # ('both' in Nova's tests) asks.
        legacy = [n for n in self.notifier.notifications
                  if n.event_type == 'compute.instance.update']
        self.assertEqual(changed, [n.payload['instance_id'] for n in legacy])
        for message in legacy:
            self.assertEqual('stopped', message.payload['state'])
            self.assertEqual(old_states[message.payload['instance_id']],
                             message.payload['old_state'])
            self.assertTrue(message.publisher_id.startswith('api.'))

    def test_clear(self):
        self._report()
        self._wait_until_sent()
        self.notifier.reset()

        host = self._put_host('host1', {'host_down_reported': False,
                                        'reason': 'host repaired'})['host']

        self.assertFalse(host['host_down_reported'])
        self.notifier.wait_for_versioned_notifications('host_fault.clear')
        self._wait_until_sent()
        self.assertEqual(['service.update', 'host_fault.clear'] +
                         ['host_status.update'] * 4, self._event_types())
        fault = _data(self._versioned('host_fault.clear')[0])
        self.assertEqual(
            {'host': 'host1', 'host_down_reported': False,
             'reason': 'host repaired', 'target_vm_state': None,
             'target_power_state': None, 'instance_uuids': []},
            {key: fault[key] for key in (
                'host', 'host_down_reported', 'reason', 'target_vm_state',
                'target_power_state', 'instance_uuids')})
        self.assertFalse(_data(self._versioned('service.update')[0])[
            'forced_down'])
        self.assertEqual(
            ['compute.host_status.update'] * 4,
            [n.event_type for n in self.notifier.notifications])

    def _assert_told(self, changed, old_states, previous_host_status=None):
        """host_fault.report, host_status.update, instance.update, once.

        host_status.update only with a ``previous_host_status``.
        """
        self.notifier.wait_for_versioned_notifications(
            'instance.update', n_events=len(changed))
        self._wait_until_sent()
        host_status_updates = 4 if previous_host_status else 0
        self.assertEqual(['host_fault.report'] +
                         ['host_status.update'] * host_status_updates +
                         ['instance.update'] * len(changed),
                         self._event_types())
        self.assertEqual(changed, _data(self._versioned(
            'host_fault.report')[0])['instance_uuids'])
        if previous_host_status:
            self.assertEqual(
                {('DOWN', previous_host_status)},
                {(_data(n)['host_status'], _data(n)['previous_host_status'])
                 for n in self._versioned('host_status.update')})
        updates = self._versioned('instance.update')
        self.assertEqual(changed, [_data(n)['uuid'] for n in updates])
        for update in updates:
            data = _data(update)
            self.assertEqual(STOPPED, {key: data[key] for key in STOPPED})
            self.assertEqual(
                old_states[data['uuid']],
                data['state_update']['nova_object.data']['old_state'])

    def test_report_told_by_its_retry_when_its_notifications_were_lost(self):
        host_watcher = watcher.HostStatusWatcher()
        host_watcher.start()
        self.addCleanup(host_watcher.stop)
        context = nova_context.get_admin_context()
        host_watcher.check(context)
        # The nova-api that committed the report dies before sending its
        # notifications: they are queued nowhere.
        submit = emitter.EMITTER.submit
        lost = []
        self.stub_out('nova_hoststatus.notifications.emitter.EMITTER.submit',
                      lambda *args: lost.append(args))
        changed = [i['id'] for i in self._report()['instances_changed']]
        self.assertEqual(1, len(lost))
        self.stub_out('nova_hoststatus.notifications.emitter.EMITTER.submit',
                      submit)

        # The monitor got no answer and retries: nothing changes, but the
        # servers the fault changed are told, as they were before it.
        retry = self._report()
        self.assertEqual([], retry['instances_changed'])
        self._assert_told(changed, {self.active['id']: 'active',
                                    self.paused['id']: 'paused',
                                    self.other_project['id']: 'active'})

        # The host_status the retry did not change the watcher tells, once
        # no batch told it between two checks.
        self.notifier.reset()
        self.assertEqual([], host_watcher.check(context))
        self.assertEqual([('host1', 'UP', 'DOWN')],
                         host_watcher.check(context))
        self.assertEqual(['host_status.update'] * 4, self._event_types())

    def test_repeated_report_tells_the_fault_again(self):
        changed = [i['id'] for i in self._report()['instances_changed']]
        self._wait_until_sent()
        self.notifier.reset()

        self.assertEqual([], self._report()['instances_changed'])

        # At least once: no service.update (nothing changed), the fault
        # again, but not host_status: owners were told DOWN once.
        self._assert_told(changed, {self.active['id']: 'active',
                                    self.paused['id']: 'paused',
                                    self.other_project['id']: 'active'})
        self.assertEqual(
            ['compute.instance.update'] * 3,
            [n.event_type for n in self.notifier.notifications])

    def test_new_fault_does_not_retell_the_last_one(self):
        self._report()
        self._put_host('host1', {'host_down_reported': False})
        self._wait_until_sent()
        self.notifier.reset()

        # The servers the last fault stopped are stopped already: this
        # fault changes none of them, and tells none of them as changed.
        self.assertEqual([], self._report()['instances_changed'])
        self._wait_until_sent()
        self.assertEqual(['service.update', 'host_fault.report'] +
                         ['host_status.update'] * 4, self._event_types())
        self.assertEqual([], _data(self._versioned('host_fault.report')[0])[
            'instance_uuids'])
        self.assertEqual(
            {('DOWN', 'UP')},
            {(_data(n)['host_status'], _data(n)['previous_host_status'])
             for n in self._versioned('host_status.update')})

    def test_maintenance_sends_service_and_host_status_updates(self):
        self._put_host('host1', {'maintenance_mode': 'enable'})
        self.notifier.wait_for_versioned_notifications('service.update')
        self._wait_until_sent()
        self.assertEqual(['service.update'] + ['host_status.update'] * 4,
                         self._event_types())

    def test_failed_transaction_notifies_nothing(self):
        # The last statement of the report's transaction fails: the service
        # and instance updates before it roll back.
        self.stub_out('nova_hoststatus.db.instance_actions_create',
                      mock.Mock(side_effect=db_exc.DBError('injected')))

        self._put_host('host1', {'host_down_reported': True}, status=500)

        self._wait_until_sent()
        self.assertEqual([], self._versioned())
        self.assertEqual([], self.notifier.notifications)
        self.assertFalse(self._compute_service('host1')['forced_down'])
        self.assertEqual(
            'ACTIVE', self.admin_api.get_server(self.active['id'])['status'])

    def test_queued_after_the_transaction_committed(self):
        queued = []

        def host_updated(context, *args):
            # The transaction is over: its session is gone from the context.
            self.assertRaises(db_exc.NoEngineContextEstablished,
                              getattr, context, 'session')
            queued.append(args[1])
            return real(context, *args)

        real = host_fault.host_updated
        self.stub_out('nova_hoststatus.notifications.host_fault.host_updated',
                      host_updated)

        self._report()

        self.assertEqual([{'forced_down': True}], queued)
        self.notifier.wait_for_versioned_notifications('instance.update', 3)

    def test_response_does_not_wait_for_notifications(self):
        held = self._hold_notifications()

        host = self._report()

        # The API answered with nothing sent: sending is not on its path.
        self.assertEqual(3, len(host['instances_changed']))
        self.assertEqual([], self._versioned())
        self.assertEqual(1, len(held))
        # Nothing is lost: the worker sends all of it.
        held.pop()()
        self.assertEqual(3, len(self._versioned('instance.update')))

    def test_report_then_clear_keep_their_order(self):
        held = self._hold_notifications()

        self._report()
        self._put_host('host1', {'host_down_reported': False})

        # One worker sends both updates, one after the other. The report's
        # host_status.update no longer holds when its batch is sent (the
        # clear has committed): owners are told only the clear's.
        self.assertEqual(1, len(held))
        held.pop()()
        self.assertEqual(
            ['service.update', 'host_fault.report'] +
            ['instance.update'] * 3 +
            ['service.update', 'host_fault.clear'] +
            ['host_status.update'] * 4, self._event_types())

    def test_instance_deleted_before_sending(self):
        held = self._hold_notifications()
        host = self._report()
        with base.cell_context(self) as cctxt:
            objects.Instance.get_by_uuid(cctxt, self.active['id']).destroy()

        held.pop()()

        updates = self._versioned('instance.update')
        self.assertEqual([i['id'] for i in host['instances_changed']],
                         [_data(n)['uuid'] for n in updates])
        deleted = _data(updates[0])
        self.assertEqual(STOPPED, {key: deleted[key] for key in STOPPED})
        self.assertIsNotNone(deleted['deleted_at'])

    def test_no_instance_update_without_notify_on_state_change(self):
        self.flags(notify_on_state_change=None, group='notifications')

        self._report()

        self.notifier.wait_for_versioned_notifications('host_fault.report')
        self._wait_until_sent()
        self.assertEqual(['service.update', 'host_fault.report'] +
                         ['host_status.update'] * 4, self._event_types())

    def test_unversioned_only(self):
        self.flags(notification_format='unversioned', group='notifications')

        self._report()

        self._wait_until_sent()
        self.assertEqual([], self._versioned())
        self.assertEqual(
            ['compute.host_status.update'] * 4 +
            ['compute.instance.update'] * 3,
            [n.event_type for n in self.notifier.notifications])


class EmissionStatementCountTest(NotificationTestBase):
    """Sending N instance.update costs the same statements whatever N is."""

    HOSTS = ('host1',)

    def setUp(self):
        super().setUp()
        # The deployment's only compute: any report of it is over the
        # default [hoststatus] max_down_fraction.
        self.flags(max_down_fraction=1.0, group='hoststatus')
        self.held = self._hold_notifications()
        # The host's first change inserts its rows of what owners were told;
        # every later one updates them.
        self._send_and_count(1)

    def _send_and_count(self, count):
        self._create_instances('host1', count)
        self._report_host_down('host1')
        self.notifier.reset()
        with base.count_sql_statements() as statements:
            self.held.pop()()
        self.assertEqual(count, len(self._versioned('instance.update')))
        self._put_host('host1', {'host_down_reported': False})
        self.held.pop()()
        with base.cell_context(self) as cctxt:
            for instance in objects.InstanceList.get_by_host(cctxt, 'host1'):
                instance.destroy()
        return statements

    def test_statement_count_independent_of_instances(self):
        small = self._send_and_count(3)
        large = self._send_and_count(30)
        self.assertEqual(len(small), len(large), '\n'.join(large))

    def test_statement_count_with_bdms(self):
        self.flags(bdms_in_notifications=True, group='notifications')
        small = self._send_and_count(3)
        large = self._send_and_count(30)
        self.assertEqual(len(small), len(large), '\n'.join(large))


class SampleVerifying(object):
    """Nova's own check of a notification against its documented sample."""

    ANY = notification_sample_base.NotificationSampleTestBase.ANY
    _apply_replacements = (
        notification_sample_base.NotificationSampleTestBase.
        _apply_replacements)
    _verify_notification = (
        notification_sample_base.NotificationSampleTestBase.
        _verify_notification)

    def _get_notification_sample(self, sample):
        return os.path.join(SAMPLES, sample + '.json')

    def _fix_volatile_values(self, request_id=True):
        """The publisher host, the time and the request id of the samples."""
        self.flags(host='fake-mini')
        self.useFixture(fixtures.MockPatch(
            'oslo_utils.timeutils.utcnow',
            return_value=test_services.fake_utcnow()))
        if request_id:
            self.useFixture(fixtures.MockPatch(
                'oslo_context.context.generate_request_id',
                return_value='req-5b6c791d-5709-4f36-8fbe-c3e02869e35d'))


class HostFaultNotificationSampleTest(SampleVerifying, NotificationTestBase):
    """The notifications match doc/notification_samples, as Nova checks.

    Volatile values are fixed the way Nova's notification sample tests fix
    them: the time, the request id, the uuids and the publisher host.
    """

    HOSTS = ('host1',)

    def setUp(self):
        super().setUp()
        # The deployment's only compute: any report of it is over the
        # default [hoststatus] max_down_fraction.
        self.flags(max_down_fraction=1.0, group='hoststatus')
        self._fix_volatile_values()

    def test_report_and_clear(self):
        self._create_instances('host1', 1,
                               uuids=['178b0921-8f85-4257-88b6-2e743b5a975c'])
        self._put_host('host1', {'host_down_reported': True,
                                 'reason': 'power supply failure'})
        self.notifier.wait_for_versioned_notifications('instance.update')
        self._verify_notification(
            'host_fault-report',
            actual=self._versioned('host_fault.report')[0])
        # Years from the fixed time, the host's last heartbeat reads stale:
        # UNKNOWN before the report here, UP in a running cloud.
        self._verify_notification(
            'host_status-update',
            actual=self._versioned('host_status.update')[0],
            replacements={'previous_host_status': self.ANY})

        self._put_host('host1', {'host_down_reported': False})
        self.notifier.wait_for_versioned_notifications('host_fault.clear')
        self._verify_notification(
            'host_fault-clear',
            actual=self._versioned('host_fault.clear')[0])

    def test_samples_are_documented(self):
        self.assertEqual(
            ['host_fault-clear.json', 'host_fault-report.json'],
            sorted(notification_obj.HostFaultNotification.samples))
        self.assertEqual(
            ['host_fault-recover.json'],
            notification_obj.HostRecoveryNotification.samples)
        self.assertEqual(
            ['host_status-update.json'],
            host_status_obj.HostStatusNotification.samples)
        self.assertEqual(
            ['host_fault-refuse.json'],
            notification_obj.HostFaultRefusedNotification.samples)
        self.assertEqual(
            ['host_fault-contradict.json'],
            notification_obj.HostFaultContradictedNotification.samples)
        for sample in (notification_obj.HostFaultNotification.samples +
                       notification_obj.HostFaultRefusedNotification.samples +
                       (notification_obj.HostFaultContradictedNotification.
                        samples) +
                       notification_obj.HostRecoveryNotification.samples +
                       host_status_obj.HostStatusNotification.samples):
            self.assertTrue(os.path.exists(os.path.join(SAMPLES, sample)))


class HostFaultRefuseSampleTest(SampleVerifying, NotificationTestBase):
    """host_fault.refuse matches its sample."""

    HOSTS = ('host1', 'host2', 'host3', 'host4')

    def setUp(self):
        super().setUp()
        self._fix_volatile_values()

    def test_refuse(self):
        self._report_host_down('host1')
        self._report_host_down('host2')
        self._put_host('host3', {'host_down_reported': True,
                                 'reason': 'power supply failure'},
                       status=409)
        self.assertTrue(emitter.EMITTER.join(timeout=10))
        self._verify_notification(
            'host_fault-refuse',
            actual=self._versioned('host_fault.refuse')[0])


class HostFaultContradictSampleTest(SampleVerifying, NotificationTestBase):
    """host_fault.contradict, as the watcher sends it, matches its sample."""

    HOSTS = ('host1', 'host2', 'host3', 'host4')

    def setUp(self):
        super().setUp()
        # Its payload carries no request id.
        self._fix_volatile_values(request_id=False)

    def test_contradict(self):
        self._create_instances('host3', 1,
                               uuids=['178b0921-8f85-4257-88b6-2e743b5a975c'])
        self._put_host('host3', {'host_down_reported': True})
        # host3's nova-compute reports a minute after the report.
        with base.cell_context(self) as cctxt:
            service = objects.Service.get_by_compute_host(cctxt, 'host3')
            service.updated_at = (test_services.fake_utcnow() +
                                  datetime.timedelta(seconds=60))
            # What Service.save() would not write: a heartbeat's time.
            nova_db.service_update(cctxt, service.id,
                                   {'updated_at': service.updated_at})

        watcher.HostStatusWatcher().check(nova_context.get_admin_context())

        self._verify_notification(
            'host_fault-contradict',
            actual=self._versioned('host_fault.contradict')[0])


class HostRecoverNotificationSampleTest(SampleVerifying,
                                        NotificationTestBase):
    """host_fault.recover matches its sample; the time is the run's."""

    def setUp(self):
        super().setUp()
        self.flags(host='fake-mini')

    def test_recover(self):
        server = self._boot('host1', 'vm1')
        self._put_host('host1', {'host_down_reported': True})
        self.admin_api.api_post('/os-hosts/host1/evacuate', {'evacuate': {}})
        watching.follow_recoveries(self)
        actual = self._versioned('host_fault.recover')[0]
        servers = actual['payload']['nova_object.data']['servers']
        self._verify_notification(
            'host_fault-recover', actual=actual,
            replacements={'servers': self.ANY, 'ended_at': self.ANY,
                          'request_id': self.ANY})
        with open(self._get_notification_sample('host_fault-recover')) as f:
            expected = jsonutils.loads(f.read())['payload'][
                'nova_object.data']['servers']
        expected[0]['nova_object.data']['instance_uuid'] = server['id']
        self.assertEqual(expected, servers)


class ConsumerTest(NotificationTestBase):
    """REST report -> Nova's notifier -> oslo.messaging -> the consumer.

    Both ends use the rabbit driver over kombu's in-memory broker, each
    with its own transport, so the notifications are serialized and go
    through a broker exchange and queue as they would with RabbitMQ.
    """

    URL = 'kombu+memory:////'

    def setUp(self):
        super().setUp()
        self.flags(notification_format='versioned', group='notifications')
        self.servers = [self._boot('host1', 'server-%d' % i)
                        for i in range(2)]
        self.other = self._boot('host1', 'other', api=self.other_admin_api)
        # The boots' last notification: none of theirs may reach the
        # consumer.
        self.notifier.wait_for_versioned_notifications(
            'instance.create.end', n_events=3)

        # Nova's versioned notifier, as nova.rpc.init() builds it, on a
        # real transport.
        transport = oslo_messaging.get_notification_transport(
            CONF, url=self.URL)
        self.addCleanup(transport.cleanup)
        self.stub_out('nova.rpc.NOTIFIER', oslo_messaging.Notifier(
            transport,
            serializer=rpc.RequestContextSerializer(
                rpc.JsonPayloadSerializer()),
            driver='messaging',
            topics=CONF.notifications.versioned_notifications_topics))

        self.received = []
        self.cond = threading.Condition()
        self.out = io.StringIO()
        self.endpoint = consumer.HostFaultEndpoint(
            out=self.out, on_notification=self._received)
        # {server: (project, user)} of the host_status.update contexts.
        self.contexts = {}
        info = self.endpoint.info

        def info_seeing_context(ctxt, publisher_id, event_type, payload,
                                metadata):
            if event_type == 'host_status.update':
                self.contexts[payload['nova_object.data'][
                    'instance_uuid']] = (ctxt['project_id'], ctxt['user_id'])
            return info(ctxt, publisher_id, event_type, payload, metadata)

        self.endpoint.info = info_seeing_context
        listener = consumer.start_listener(
            consumer.parse_args(['--transport-url', self.URL]),
            self.endpoint)
        self.addCleanup(listener.transport.cleanup)
        self.addCleanup(listener.wait)
        self.addCleanup(listener.stop)

    def test_the_pools_queue_is_deleted_at_exit(self):
        args = consumer.parse_args(['--transport-url', self.URL,
                                    '--pool', 'gone-at-exit'])
        listener = consumer.start_listener(
            args, consumer.HostFaultEndpoint(out=None))
        listener.stop()
        listener.wait()
        with kombu.Connection('memory://') as connection:
            queue = kombu.Queue('gone-at-exit', channel=connection.channel())
            # Declared by the listener, left by oslo.messaging.
            queue.queue_declare(passive=True)

            self.assertTrue(consumer.delete_pool_queue(listener, args))
            listener.transport.cleanup()

            queue = kombu.Queue('gone-at-exit', channel=connection.channel())
            self.assertRaises(amqp.exceptions.ChannelError,
                              queue.queue_declare, passive=True)

    def _received(self, event_type, data):
        with self.cond:
            self.received.append((event_type, data))
            self.cond.notify_all()

    def _wait_for(self, count):
        with self.cond:
            self.cond.wait_for(lambda: len(self.received) >= count, 30)
            return list(self.received)

    def test_consumer_gets_the_report(self):
        host = self._put_host('host1', {'host_down_reported': True,
                                        'reason': 'fenced'})['host']
        changed = [i['id'] for i in host['instances_changed']]
        self.assertEqual(3, len(changed))
        # service.update is filtered out by the consumer.
        received = self._wait_for(7)

        self.assertEqual(['host_fault.report'] + ['host_status.update'] * 3 +
                         ['instance.update'] * 3,
                         [event_type for event_type, _ in received])
        self.assertEqual(changed, received[0][1]['instance_uuids'])
        self.assertEqual(changed,
                         [data['uuid'] for _, data in received[4:7]])
        down = self.endpoint.down
        by_project = {
            self.api_fixture.project_id: {s['id'] for s in self.servers},
            base.OTHER_PROJECT_ID: {self.other['id']}}
        self.assertEqual(
            by_project,
            {project: set(servers) for project, servers in down.items()})
        for servers in down.values():
            for server in servers.values():
                self.assertEqual('host1', server.host)
                self.assertEqual('fenced', server.fault.reason)
                self.assertIsNotNone(server.since)
        # Each owner is told in its own project's name.
        self.assertEqual(
            by_project,
            {project: set(servers)
             for project, servers in self.endpoint.host_status.items()})
        users = {self.api_fixture.project_id: 'admin',
                 base.OTHER_PROJECT_ID: 'other-admin'}
        self.assertEqual(
            {uuid: (project, users[project])
             for project, uuids in by_project.items() for uuid in uuids},
            self.contexts)
        lines = self.out.getvalue().splitlines()
        self.assertIn('host host1 reported down at', lines[0])
        self.assertIn('project %s: server %s: host host1 is DOWN (was UP) '
                      'since' % (base.OTHER_PROJECT_ID, self.other['id']),
                      lines[3])
        self.assertIn('project %s: server other (%s) went down at' % (
            base.OTHER_PROJECT_ID, self.other['id']), lines[6])
        summary = self.endpoint.summary()
        self.assertIn('project %s: 1 servers down' % base.OTHER_PROJECT_ID,
                      summary)
        self.assertIn('  server %s: host host1 is DOWN' % self.other['id'],
                      summary)

        self._put_host('host1', {'host_down_reported': False})
        received = self._wait_for(11)
        self.assertEqual(['host_fault.clear'] + ['host_status.update'] * 3,
                         [event_type for event_type, _ in received[7:]])
        self.assertEqual({}, self.endpoint.host_status)


class InstanceUpdatePayloadTest(NotificationTestBase):
    """instance.update as Nova's send_update builds it, to the byte.

    The instances are loaded in bulk and share their flavors; the reference
    is Nova's send_update on each instance loaded the way Nova loads one,
    everything lazy-loaded, with the same context and time.
    """

    HOSTS = ('host1',)

    def setUp(self):
        super().setUp()
        # The deployment's only compute: any report of it is over the
        # default [hoststatus] max_down_fraction.
        self.flags(max_down_fraction=1.0, group='hoststatus')
        self.flags(notification_format='both', group='notifications')
        # Booted: a BDM, an info cache, a flavor from the API.
        self._boot('host1', 'booted')
        self.notifier.wait_for_versioned_notifications('instance.create.end')
        # Two flavors, the first shared, metadata and tags.
        flavors = [objects.Flavor.get_by_flavor_id(
            nova_context.get_admin_context(), flavor_id)
            for flavor_id in ('1', '1', '2')]
        with base.cell_context(self) as cctxt:
            for i, flavor in enumerate(flavors):
                instance = objects.Instance(
                    context=cctxt, host='host1',
                    project_id=self.api_fixture.project_id,
                    user_id='fake', vm_state='active', task_state=None,
                    power_state=power_state.RUNNING,
                    display_name='db-%d' % i, flavor=flavor,
                    instance_type_id=flavor.id,
                    system_metadata={'image_os_distro': 'fedora'},
                    metadata={'role': 'db-%d' % i})
                instance.create()
                objects.TagList.create(cctxt, instance.uuid, ['t%d' % i])
        self.sent = []
        send = host_fault.send_instance_updates

        def spy(context, changed, target):
            self.sent.append((context, changed))
            return send(context, changed, target)

        self.stub_out('nova_hoststatus.notifications.host_fault.'
                      'send_instance_updates', spy)
        self.notifier.reset()
        # audit_period_ending is now.
        self.useFixture(utils_fixture.TimeFixture())

    def _instance_updates(self):
        versioned = [jsonutils.dumps(n, sort_keys=True)
                     for n in self._versioned('instance.update')]
        legacy = [jsonutils.dumps(
            [n.publisher_id, n.priority, n.payload, n.context.to_dict()],
            sort_keys=True) for n in self.notifier.notifications
            if n.event_type == 'compute.instance.update']
        return versioned, legacy

    def _assert_as_nova_sends(self):
        self._report_host_down('host1')
        self._wait_until_sent()
        sent = self._instance_updates()
        self.assertEqual(4, len(sent[0]))
        self.assertEqual(4, len(sent[1]))

        self.notifier.reset()
        (context, changed), = self.sent
        for change in changed:
            instance = objects.Instance.get_by_uuid(context, change.uuid)
            old = {'vm_state': change.old_vm_state,
                   'task_state': change.old_task_state,
                   'display_name': instance.display_name}
            notifications.send_update(context, old, instance, service='api')
        self.assertEqual(self._instance_updates(), sent)

    def test_as_nova_sends(self):
        self._assert_as_nova_sends()

    def test_as_nova_sends_with_bdms(self):
        self.flags(bdms_in_notifications=True, group='notifications')
        self._assert_as_nova_sends()
