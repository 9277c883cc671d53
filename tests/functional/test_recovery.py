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

"""Recovery: POST /os-hosts/{host_name}/evacuate against real services."""

import collections
import threading
import time
from unittest import mock

import fixtures
from oslo_db.sqlalchemy import enginefacade
from oslo_utils.fixture import uuidsentinel

from nova.compute import api as compute_api
from nova.compute import power_state
from nova.conductor import manager as conductor_manager
from nova import context as nova_context
from nova import objects
from nova import test
from nova.virt import fake

from nova_hoststatus import db
from nova_hoststatus.watcher import watcher
from tests.functional import base
from tests.functional import watching


class HostEvacuateTest(base.HostStatusTestBase):

    def _server(self, server):
        server = self.admin_api.get_server(server['id'])
        return (server['status'], server['OS-EXT-SRV-ATTR:host'],
                server['OS-EXT-STS:power_state'])

    def _recover_notification(self):
        """``{uuid: (result, vm_state, host)}`` of host_fault.recover."""
        payload, = watching.follow_recoveries(self)
        self.assertEqual('host1', payload['host'])
        return {server['nova_object.data']['instance_uuid']:
                (server['nova_object.data']['result'],
                 server['nova_object.data']['vm_state'],
                 server['nova_object.data']['host'])
                for server in payload['servers']}

    def _wait_until_recovered(self, servers, expected):
        for server, status in zip(servers, expected):
            self._wait_for_server_parameter(
                server, {'status': status, 'OS-EXT-SRV-ATTR:host': 'host2',
                         'OS-EXT-STS:task_state': None})

    def test_servers_come_back_as_they_were(self):
        active = self._boot('host1', name='active')
        stopped = self._stop_server(self._boot('host1', name='stopped'))
        self._report_host_down('host1')

        body = self._evacuate_host('host1')['evacuate']

        self.assertEqual({active['id'], stopped['id']},
                         {s['id'] for s in body['servers']})
        self.assertEqual(['accepted', 'accepted'],
                         [s['result'] for s in body['servers']])
        by_id = {s['id']: s for s in body['servers']}
        self.assertEqual('active', by_id[active['id']]['restored_vm_state'])
        self.assertEqual('stopped', by_id[stopped['id']]['restored_vm_state'])
        self.assertEqual('active',
                         by_id[active['id']]['pre_fault']['vm_state'])
        self._wait_until_recovered([active, stopped], ['ACTIVE', 'SHUTOFF'])
        self.assertEqual(('ACTIVE', 'host2', power_state.RUNNING),
                         self._server(active))
        self.assertEqual(('SHUTOFF', 'host2', power_state.SHUTDOWN),
                         self._server(stopped))
        self.assertEqual({active['id']: ('recovered', 'active', 'host2'),
                          stopped['id']: ('recovered', 'stopped', 'host2')},
                         self._recover_notification())
        # Rebuilt elsewhere: their records are gone.
        self.assertEqual(
            [], self._get_host_state('host1')['host']['recovery'])

    def _threads_by_context(self):
        """``{context: {threads}}``: who began a transaction with it.

        oslo.db keeps a context's transaction state on the context: one
        used by two threads (or greenthreads) mixes their transactions.
        """
        used = collections.defaultdict(set)
        real = enginefacade._transaction_contexts_by_thread

        def record(context):
            used[context].add(threading.get_ident())
            return real(context)

        self.useFixture(fixtures.MonkeyPatch(
            'oslo_db.sqlalchemy.enginefacade._transaction_contexts_by_thread',
            record))
        return used

    def test_several_servers_each_on_a_context_of_its_own(self):
        """More servers than evacuate_workers, under either threading."""
        servers = [self._boot('host1', name='s%d' % i) for i in range(6)]
        for server in servers[4:]:
            self._stop_server(server)
        self._report_host_down('host1')
        used = self._threads_by_context()
        evacuated = []
        real_evacuate = compute_api.API.evacuate

        def evacuate(self, context, instance, *args, **kwargs):
            evacuated.append((context, instance))
            return real_evacuate(self, context, instance, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.compute.api.API.evacuate', evacuate))

        body = self._evacuate_host('host1')['evacuate']
        self._wait_until_recovered(servers, ['ACTIVE'] * 4 + ['SHUTOFF'] * 2)

        self.assertEqual(['accepted'] * 6,
                         [s['result'] for s in body['servers']])
        self.assertEqual(6, len({id(context) for context, _ in evacuated}))
        for context, instance in evacuated:
            # The server was loaded with the context it is evacuated with,
            # and no other thread used that context.
            self.assertIs(context, instance._context)
            self.assertEqual(1, len(used[context]), instance.uuid)

    def test_paused_suspended_rescued_and_error_come_back_running(self):
        paused = self._boot('host1', name='paused')
        self.admin_api.post_server_action(paused['id'], {'pause': None})
        self._wait_for_state_change(paused, 'PAUSED')
        suspended = self._suspend_server(self._boot('host1', name='susp'))
        rescued = self._rescue_server(self._boot('host1', name='rescued'))
        error = self._boot('host1', name='error')
        self.admin_api.post_server_action(
            error['id'], {'os-resetState': {'state': 'error'}})
        self._report_host_down('host1')

        body = self._evacuate_host('host1')['evacuate']

        by_id = {s['id']: s for s in body['servers']}
        self.assertEqual(
            {paused['id']: ('paused', 'active'),
             suspended['id']: ('suspended', 'active'),
             rescued['id']: ('rescued', 'active'),
             error['id']: ('error', 'active')},
            {uuid: (s['pre_fault']['vm_state'], s['restored_vm_state'])
             for uuid, s in by_id.items()})
        servers = [paused, suspended, rescued, error]
        self._wait_until_recovered(servers, ['ACTIVE'] * 4)

    def _evacuations(self):
        return [migration for migration in self.admin_api.get_migrations()
                if migration['migration_type'] == 'evacuation']

    def _assert_still_down(self, server):
        self.assertEqual(('SHUTOFF', 'host1', power_state.SHUTDOWN),
                         self._server(server))
        self.assertEqual([], self._evacuations())

    def test_refusals_change_nothing(self):
        server = self._boot('host1')
        other = self._boot('host2')
        # Not reported down.
        error = self._evacuate_host('host1', status=409)
        self.assertIn('not reported down',
                      error['conflictingRequest']['message'])
        self._report_host_down('host1')
        refusals = [
            ('no-such-host', {}, 404),
            ('host1', {'servers': [other['id']]}, 404),
            ('host1', {'host': 'host1'}, 400),
            ('host1', {'host': 'host9'}, 404),
            ('host1', {'servers': []}, 400),
            ('host1', {'servers': ['not-a-uuid']}, 400),
            # force is a boolean; stock evacuate's other fields are not
            # this API's.
            ('host1', {'force': 'maybe'}, 400),
            ('host1', {'onSharedStorage': True}, 400),
        ]
        for host, body, status in refusals:
            fault = self._evacuate_host(host, body, status=status)
            self.assertEqual(status, list(fault.values())[0]['code'],
                             (host, body))
        self.admin_api.api_post('/os-hosts/host1/evacuate', {'evac': {}},
                                check_response_status=[400])
        for api in (self.member_api, self.reader_api, self.other_member_api):
            self._evacuate_host('host1', api=api, status=403)
        self._assert_still_down(server)

    def test_subset_to_a_destination_then_the_rest(self):
        first = self._boot('host1', name='first')
        second = self._boot('host1', name='second')
        self._report_host_down('host1')

        body = self._evacuate_host(
            'host1', {'servers': [first['id']], 'host': 'host2'})['evacuate']

        self.assertEqual('host2', body['destination'])
        self.assertEqual([(first['id'], 'accepted')],
                         [(s['id'], s['result']) for s in body['servers']])
        self.assertIsNotNone(body['servers'][0]['migration_id'])
        self._wait_until_recovered([first], ['ACTIVE'])
        self.assertEqual({first['id']: ('recovered', 'active', 'host2')},
                         self._recover_notification())
        recovery = {s['id']: s['status'] for s in self._get_host_state(
            'host1')['host']['recovery']}
        self.assertEqual({second['id']: 'pending'}, recovery)
        self.assertEqual(('SHUTOFF', 'host1', power_state.SHUTDOWN),
                         self._server(second))

        # Repeating the call evacuates the rest, not the first again.
        body = self._evacuate_host(
            'host1', {'servers': [first['id'], second['id']]})['evacuate']
        self.assertEqual(
            {first['id']: ('skipped', 'already_evacuated'),
             second['id']: ('accepted', None)},
            {s['id']: (s['result'], s['reason']) for s in body['servers']})
        self._wait_until_recovered([second], ['ACTIVE'])
        self.assertEqual(2, len(self._evacuations()))
        # Each host evacuation is told, the first one too.
        self.assertEqual(
            [[first['id']], [second['id']]],
            [[s['nova_object.data']['instance_uuid'] for s in n['servers']]
             for n in watching.follow_recoveries(self, count=2)])
        # Nothing is left to recover: the records are gone.
        self.assertEqual([], self._evacuate_host('host1')['evacuate'][
            'servers'])

    def test_owner_deletes_a_server_before_recovery(self):
        mine = self._boot('host1', name='mine')
        kept = self._boot('host1', name='kept')
        self._report_host_down('host1')
        self.admin_api.delete_server(mine['id'])
        self._wait_until_deleted(mine)

        body = self._evacuate_host('host1')['evacuate']

        self.assertEqual([kept['id']], [s['id'] for s in body['servers']])
        self._wait_until_recovered([kept], ['ACTIVE'])

    def test_server_being_deleted_is_left_to_its_delete(self):
        mine = self._boot('host1', name='mine')
        kept = self._boot('host1', name='kept')
        # The owner's delete was cast to host1's nova-compute just before
        # it died (its service still up): task_state deleting, the cast
        # queued for the compute's return.
        with base.cell_context(self) as cctxt:
            instance = objects.Instance.get_by_uuid(cctxt, mine['id'])
            instance.task_state = 'deleting'
            instance.save()

        host = self._report_host_down('host1')

        self.assertEqual({mine['id']: 'being_deleted'},
                         {s['id']: s['reason']
                          for s in host['instances_skipped']})
        self.assertEqual([kept['id']],
                         [s['id'] for s in host['instances_changed']])
        server = self.admin_api.get_server(mine['id'])
        self.assertEqual(('ACTIVE', 'deleting'),
                         (server['status'], server['OS-EXT-STS:task_state']))
        # Not evacuated: its delete would leave its rebuilt guest running
        # on the destination.
        body = self._evacuate_host('host1')['evacuate']
        self.assertEqual({mine['id']: 'task_in_progress'},
                         {s['id']: s.get('reason') for s in body['servers']
                          if s['id'] == mine['id']})
        self._wait_until_recovered([kept], ['ACTIVE'])

    def test_report_repeated_during_recovery_changes_nothing(self):
        server = self._boot('host1')
        self._report_host_down('host1')
        self._evacuate_host('host1')
        self._wait_until_recovered([server], ['ACTIVE'])

        host = self._report_host_down('host1')

        self.assertEqual([], host['instances_changed'])
        self.assertEqual(('ACTIVE', 'host2', power_state.RUNNING),
                         self._server(server))

    def test_clear_is_refused_while_evacuations_run(self):
        self._boot('host1')
        self._report_host_down('host1')
        with base.cell_context(self) as cctxt:
            objects.Migration(
                cctxt, source_compute='host1', source_node='host1',
                instance_uuid=uuidsentinel.evacuating, status='accepted',
                migration_type='evacuation').create()

        error = self._put_host('host1', {'host_down_reported': False},
                               status=409)

        self.assertIn('being evacuated',
                      error['conflictingRequest']['message'])
        self.assertTrue(self._compute_service('host1')['forced_down'])


class StockEvacuateTest(base.HostStatusTestBase):
    """Stock per-server evacuate keeps Nova's meaning after a report.

    Masakari (2.53) and InstanceHA (2.73) confirm an evacuation by the
    vm_state they read before it: a reported server comes back SHUTOFF.
    """

    def test_reported_server_comes_back_shutoff(self):
        for microversion in ('2.53', '2.73'):
            server = self._boot('host1', name=microversion)
            self._report_host_down('host1')
            self.admin_api.microversion = microversion

            self._evacuate_server(server, expected_host='host2',
                                  expected_state='SHUTOFF')

            self.admin_api.microversion = 'latest'
            self.restart_compute_service(self.computes['host1'])
            self._put_host('host1', {'host_down_reported': False})


class FailedRebuildTest(base.HostStatusTestBase):

    # The rebuild fails on the destination, after the API answered.
    CAST_AS_CALL = False

    def test_a_failed_rebuild_is_failed_and_can_be_retried(self):
        server = self._boot('host1')
        self._report_host_down('host1')
        with mock.patch.object(fake.FakeDriver, 'spawn',
                               side_effect=test.TestingException('no')):
            self._evacuate_host('host1')
            recover, = watching.follow_recoveries(self)

        result = recover['servers'][0]
        self.assertEqual('failed', result['nova_object.data']['result'])
        self.assertEqual(
            {server['id']: 'failed'},
            {s['id']: s['status'] for s in self._get_host_state(
                'host1')['host']['recovery']})

        # Repeating the call retries it.
        body = self._evacuate_host('host1')['evacuate']
        self.assertEqual(['accepted'], [s['result'] for s in body['servers']])
        self._wait_for_server_parameter(
            server, {'status': 'ACTIVE', 'OS-EXT-SRV-ATTR:host': 'host2',
                     'OS-EXT-STS:task_state': None})


class FaultScopedRecordsTest(base.HostStatusTestBase):
    """Recovery restores the state a server had before *this* fault."""

    def _clear(self, host):
        self._put_host(host, {'host_down_reported': False})

    def test_a_record_of_an_earlier_fault_is_not_used(self):
        server = self._boot('host1')
        self._report_host_down('host1')
        self._clear('host1')
        # host1's compute never stopped: its owner can start and stop the
        # server again.
        self._start_server(server)
        self._stop_server(server)

        self._report_host_down('host1')
        body = self._evacuate_host('host1')['evacuate']

        self.assertEqual(
            [('stopped', 'stopped')],
            [(s['pre_fault']['vm_state'], s['restored_vm_state'])
             for s in body['servers']])
        self._wait_for_server_parameter(
            server, {'status': 'SHUTOFF', 'OS-EXT-SRV-ATTR:host': 'host2',
                     'OS-EXT-STS:task_state': None})

    def test_clear_removes_the_records_of_its_fault(self):
        self._boot('host1')
        self._report_host_down('host1')
        with base.cell_context(self) as cctxt:
            self.assertEqual(1, len([
                row for row in db.instances_on_host(cctxt, 'host1')
                if row.pre_fault]))

        self._clear('host1')

        with base.cell_context(self) as cctxt:
            self.assertEqual([], [
                row.uuid for row in db.instances_on_host(cctxt, 'host1')
                if row.pre_fault or row.recovery])

    def _recovered_host1(self):
        server = self._boot('host1')
        self._report_host_down('host1')
        self._evacuate_host('host1')
        self._wait_for_server_parameter(
            server, {'status': 'ACTIVE', 'OS-EXT-SRV-ATTR:host': 'host2'})
        self.restart_compute_service(self.computes['host1'])
        return server

    def _records_of(self, server):
        with base.cell_context(self) as cctxt:
            row, = db.instances_with_records(cctxt, [server['id']])
        return row.pre_fault, row.recovery

    def test_clear_waits_until_the_recovery_is_told(self):
        """Once cleared, a host's recovery would never be told."""
        server = self._recovered_host1()

        error = self._put_host('host1', {'host_down_reported': False},
                               status=409)

        self.assertIn('nova-hoststatus-watcher',
                      error['conflictingRequest']['message'])
        self.assertTrue(self._compute_service('host1')['forced_down'])
        watching.follow_recoveries(self)
        self._clear('host1')
        self.assertEqual((None, None), self._records_of(server))

    def test_marks_no_watcher_followed_expire(self):
        server = self._recovered_host1()
        self.flags(recovery_timeout=1, group='hoststatus')
        time.sleep(1.1)

        self._clear('host1')

        self.assertEqual((None, None), self._records_of(server))
        self.assertEqual([], watching.recover_notifications(self))


class FollowedOutsideTheAPITest(base.HostStatusTestBase):
    """host_fault.recover comes from the watcher, once, whoever it is."""

    def test_told_once_by_whichever_watcher_follows(self):
        servers = [self._boot('host1', name='s%d' % i) for i in range(2)]
        self._report_host_down('host1')
        self._evacuate_host('host1')
        for server in servers:
            self._wait_for_server_parameter(
                server, {'status': 'ACTIVE', 'OS-EXT-SRV-ATTR:host': 'host2',
                         'OS-EXT-STS:task_state': None})
        # nova-api keeps nothing of it: only a watcher tells.
        self.assertEqual([], watching.recover_notifications(self))

        # A watcher, then another one (as after a restart or a take-over).
        recover, = watching.follow_recoveries(self)
        first = watcher.HostStatusWatcher()
        for check in range(3):
            first.check(nova_context.get_admin_context())
            watcher.HostStatusWatcher().check(
                nova_context.get_admin_context())

        self.assertEqual(1, len(watching.recover_notifications(self)))
        self.assertEqual(
            {s['id']: 'recovered' for s in servers},
            {s['nova_object.data']['instance_uuid']:
             s['nova_object.data']['result'] for s in recover['servers']})
        with base.cell_context(self) as cctxt:
            self.assertEqual(
                [(None, None)] * 2,
                [(row.pre_fault, row.recovery) for row in
                 db.instances_with_records(cctxt, [s['id']
                                                   for s in servers])])


class RepeatedReportDuringRecoveryTest(base.HostStatusTestBase):
    """A monitor repeats its report while the evacuations run."""

    # The rebuilds run on the conductor's and computes' own threads.
    CAST_AS_CALL = False

    def setUp(self):
        super().setUp()
        # The conductor holds each rebuild until the test lets it go: the
        # servers wait on host1 with the REBUILDING task.
        self.go = threading.Event()
        self.addCleanup(self.go.set)
        rebuild = conductor_manager.ComputeTaskManager.rebuild_instance

        def held(manager, context, instance, *args, **kwargs):
            self.go.wait(60)
            return rebuild(manager, context, instance, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.conductor.manager.ComputeTaskManager.rebuild_instance',
            held))

    def test_servers_being_evacuated_are_left_alone(self):
        active = self._boot('host1', name='active')
        stopped = self._stop_server(self._boot('host1', name='stopped'))
        self._report_host_down('host1')
        self._evacuate_host('host1')
        for server in (active, stopped):
            self._wait_for_server_parameter(
                server, {'OS-EXT-SRV-ATTR:host': 'host1',
                         'OS-EXT-STS:task_state': 'rebuilding'})

        host = self._report_host_down('host1')

        self.assertEqual([], host['instances_changed'])
        self.assertEqual(
            {active['id']: 'being_evacuated',
             stopped['id']: 'being_evacuated'},
            {s['id']: s['reason'] for s in host['instances_skipped']})
        self.go.set()
        for server, status in ((active, 'ACTIVE'), (stopped, 'SHUTOFF')):
            self._wait_for_server_parameter(
                server, {'status': status, 'OS-EXT-SRV-ATTR:host': 'host2',
                         'OS-EXT-STS:task_state': None})
        recover, = watching.follow_recoveries(self)
        self.assertEqual(
            ['recovered', 'recovered'],
            [s['nova_object.data']['result'] for s in recover['servers']])
