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

"""When the monitor is wrong: the runaway guard, fencing, contradiction.

Real API, conductor, scheduler and computes; see nova_hoststatus.guard.
"""

import datetime
from unittest import mock

from oslo_db import exception as db_exc

from oslo_utils import timeutils
import sqlalchemy as sa

from nova import context as nova_context
from nova.db.main import models
from nova.tests.functional.api import client

from nova_hoststatus.notifications import emitter
from nova_hoststatus.watcher import watcher
from tests.functional import test_robustness

REPORT = test_robustness.REPORT


class RunawayGuardTest(test_robustness.RobustnessTestBase):
    """Four computes: at most two may be reported down by default."""

    HOSTS = ('host1', 'host2', 'host3', 'host4')

    def setUp(self):
        super().setUp()
        self.server = self._create_servers_in_db('host3', 1)[0]

    def _refusals(self):
        self.assertTrue(emitter.EMITTER.join(timeout=10))
        return [n for n in self.notifier.versioned_notifications
                if n['event_type'] == 'host_fault.refuse']

    def test_over_the_limit_nothing_changes(self):
        self._report_host_down('host1')
        self._report_host_down('host2')
        before = self._snapshot()

        response = self._put('host3', REPORT)

        message = self.assertFault(response, 409)
        self.assertIn('3 of the 4 nova-compute services', message)
        self.assertIn('max_down_fraction (0.5) allows (2)', message)
        self.assertUnchanged(before)
        refusals = self._refusals()
        self.assertEqual(1, len(refusals))
        payload = refusals[0]['payload']['nova_object.data']
        self.assertEqual(
            ('host3', 'max_down_fraction', 3, 4, 2),
            (payload['host'], payload['limit'], payload['down'],
             payload['total'], payload['allowed']))
        self.assertEqual('WARN', refusals[0]['priority'])

    def test_repeated_report_is_not_counted_twice(self):
        self._report_host_down('host1')
        self._report_host_down('host2')

        self._report_host_down('host1')

        self.assertEqual([], self._refusals())
        # host1 still counts once: host3 would be the third of four.
        self.assertIn('3 of the 4', self.assertFault(
            self._put('host3', REPORT), 409))

    def test_a_clear_releases_one(self):
        self._report_host_down('host1')
        self._report_host_down('host2')
        self.assertFault(self._put('host3', REPORT), 409)
        self._put_host('host2', {'host_down_reported': False})

        self._report_host_down('host3')

        self.assertEqual((False, None, True), self._service_row('host3'))

    def test_force_overrides_the_guard(self):
        self._report_host_down('host1')
        self._report_host_down('host2')

        host = self._put_host('host3', {'host_down_reported': True,
                                        'force': True})['host']

        self.assertEqual([self.server],
                         [i['id'] for i in host['instances_changed']])

    def test_force_has_its_own_rule(self):
        # A monitor allowed to report, not to force.
        self.policy.set_rules({
            'nova_hoststatus:os-hosts:report-host-down': '@'},
            overwrite=False)
        before = self._snapshot()

        response = self._put('host3', {'host': {'host_down_reported': True,
                                                'force': True}},
                             api=self.member_api)

        self.assertFault(response, 403)
        self.assertUnchanged(before)
        self._report_host_down('host3', api=self.member_api)

    def test_aggregate_limit(self):
        aggregate = self.admin_api.post_aggregate(
            {'aggregate': {'name': 'rack1'}})
        for host in ('host1', 'host2'):
            self.admin_api.add_host_to_aggregate(aggregate['id'], host)
        self.admin_api.post_aggregate_action(
            aggregate['id'], {'set_metadata': {'metadata': {
                'hoststatus:max_down': '1'}}})
        self._report_host_down('host1')
        before = self._snapshot()

        response = self._put('host2', REPORT)

        message = self.assertFault(response, 409)
        self.assertIn('2 of the 2 hosts of aggregate rack1', message)
        self.assertUnchanged(before)
        payload = self._refusals()[0]['payload']['nova_object.data']
        self.assertEqual(('aggregate', 'rack1'),
                         (payload['limit'], payload['aggregate']))
        # Hosts outside it are limited by the deployment's fraction only.
        self._report_host_down('host3')

    def test_api_database_lost_while_checking_is_a_503(self):
        # A cell lost first, then the API database as the guard reads the
        # cell's host mappings: the database restarting, not a bug.
        lost = db_exc.DBConnectionError('lost')
        with mock.patch('nova_hoststatus.db.compute_services',
                        side_effect=lost), \
                mock.patch('nova.objects.HostMappingList.get_by_cell_id',
                           side_effect=lost):
            response = self._raw('PUT', '/os-hosts/host1', REPORT)

        self.assertIn('API database', self.assertFault(response, 503))

    def test_fraction_one_turns_it_off(self):
        self.flags(max_down_fraction=1.0, group='hoststatus')
        for host in self.HOSTS:
            self._report_host_down(host)


class FencingTest(test_robustness.RobustnessTestBase):
    """host1's nova-compute may keep running after it was reported."""

    HOSTS = ('host1', 'host2', 'host3', 'host4')

    def setUp(self):
        super().setUp()
        self.server = self._boot('host1', 'on-host1')

    def _heartbeat(self, host):
        """What host's nova-compute does every report_interval."""
        # Past [DEFAULT] report_interval after the report.
        later = timeutils.utcnow() + datetime.timedelta(seconds=60)
        with self._cell_session('cell1', writer=True) as session:
            session.execute(sa.update(models.Service)
                            .where(models.Service.host == host)
                            .values(updated_at=later))

    def _report(self, **extra):
        host = self._put_host('host1', dict(host_down_reported=True,
                                            **extra))['host']
        # Its heartbeats are the test's to make.
        self.computes['host1'].stop()
        return host

    def test_contradicted_host_is_not_evacuated(self):
        report = self._report()
        self.assertFalse(report['fenced'])
        self._heartbeat('host1')
        state = self._get_host_state('host1')['host']
        self.assertEqual((False, True),
                         (state['fenced'], state['contradicted']))
        before = self._snapshot()

        response = self._raw('POST', '/os-hosts/host1/evacuate',
                             {'evacuate': {}})

        message = self.assertFault(response, 409)
        self.assertIn('did not attest fencing', message)
        self.assertUnchanged(before)
        # Forced, it is.
        body = self._evacuate_host('host1', {'force': True})['evacuate']
        self.assertEqual(['accepted'],
                         [s['result'] for s in body['servers']])

    def test_fenced_host_is_evacuated_though_contradicted(self):
        self._report(fenced=True)
        self._heartbeat('host1')

        body = self._evacuate_host('host1')['evacuate']

        self.assertEqual(['accepted'],
                         [s['result'] for s in body['servers']])
        self._wait_for_server_parameter(
            self.server, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None})

    def test_require_fenced(self):
        self.flags(require_fenced=True, group='hoststatus')
        self._report()
        before = self._snapshot()

        response = self._raw('POST', '/os-hosts/host1/evacuate',
                             {'evacuate': {}})

        self.assertIn('require_fenced', self.assertFault(response, 409))
        self.assertUnchanged(before)
        # Fenced since: a repeated report attests it.
        again = self._put_host('host1', {'host_down_reported': True,
                                         'fenced': True})['host']
        self.assertTrue(again['fenced'])
        self.assertTrue(self._get_host_state('host1')['host']['fenced'])
        self._evacuate_host('host1')

    def test_fenced_in_the_notification(self):
        self._report(fenced=True)
        self.assertTrue(emitter.EMITTER.join(timeout=10))
        reports = [n for n in self.notifier.versioned_notifications
                   if n['event_type'] == 'host_fault.report']
        self.assertTrue(reports[0]['payload']['nova_object.data']['fenced'])

    def test_fault_monitor_evacuates(self):
        # A monitor of its own role, in its own project, as deploy.rst
        # grants it the rules: not an admin, the servers not its project's.
        monitor = client.TestOpenStackClient(
            'monitor', self.api_fixture.base_url, project_id='service',
            roles=['host_fault_monitor'])
        monitor.microversion = self.microversion
        rule = 'role:host_fault_monitor'
        self.policy.set_rules({
            'nova_hoststatus:os-hosts:report-host-down': rule,
            'nova_hoststatus:os-hosts:evacuate': rule,
            'os_compute_api:os-evacuate': rule}, overwrite=False)
        self._put_host('host1', {'host_down_reported': True,
                                 'fenced': True}, api=monitor)
        self.computes['host1'].stop()

        body = monitor.api_post('/os-hosts/host1/evacuate',
                                {'evacuate': {}}).body['evacuate']

        self.assertEqual([(self.server['id'], 'accepted')],
                         [(s['id'], s['result']) for s in body['servers']])
        self._wait_for_server_parameter(
            self.server, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None})

    def _contradictions(self):
        return [n['payload']['nova_object.data']
                for n in self.notifier.versioned_notifications
                if n['event_type'] == 'host_fault.contradict']

    def test_watcher_tells_a_contradiction_once_per_report(self):
        watching = watcher.HostStatusWatcher()
        context = nova_context.get_admin_context()
        report = self._report()
        watching.check(context)
        # No heartbeat after the report yet: nothing to tell.
        self.assertEqual([], self._contradictions())
        self._heartbeat('host1')

        told = [change for change in watching.check(context)
                if change[1] == 'contradicted']
        # Told once, whatever the checks, the watchers.
        watching.check(context)
        watcher.HostStatusWatcher().check(context)

        self.assertEqual(1, len(told))
        contradictions = self._contradictions()
        self.assertEqual(1, len(contradictions))
        payload = contradictions[0]
        self.assertEqual(('host1', False, [self.server['id']]),
                         (payload['host'], payload['fenced'],
                          payload['instance_uuids']))
        # Notifications' times are to the second.
        self.assertEqual(report['reported_at'][:19],
                         payload['reported_at'][:19])
        warnings = [n for n in self.notifier.versioned_notifications
                    if n['event_type'] == 'host_fault.contradict']
        self.assertEqual('WARN', warnings[0]['priority'])

        # A new report is told again.
        self._put_host('host1', {'host_down_reported': False})
        self._put_host('host1', {'host_down_reported': True})
        watching.check(context)
        self._heartbeat('host1')
        watching.check(context)
        self.assertEqual(2, len(self._contradictions()))

    def test_force_needs_its_rule(self):
        self._report()
        self._heartbeat('host1')
        self.policy.set_rules({
            'nova_hoststatus:os-hosts:evacuate': '@',
            'os_compute_api:os-evacuate': '@'}, overwrite=False)
        before = self._snapshot()

        response = self._raw('POST', '/os-hosts/host1/evacuate',
                             {'evacuate': {'force': True}},
                             api=self.member_api)

        self.assertFault(response, 403)
        self.assertUnchanged(before)


class RestoreTest(test_robustness.RobustnessTestBase):
    """A false report of host1, whose nova-compute never went down."""

    def setUp(self):
        super().setUp()
        self.active = self._boot('host1', 'active')
        self.stopped = self._stop_server(self._boot('host1', 'stopped'))

    def test_clear_with_restore(self):
        self._report_host_down('host1')

        host = self._put_host('host1', {'host_down_reported': False,
                                        'restore': True})['host']

        self.assertEqual(
            [{'id': self.active['id'],
              'project_id': self.active['tenant_id'],
              'pre_fault_vm_state': 'active', 'result': 'started',
              'message': None}],
            host['instances_restored'])
        self._wait_for_server_parameter(
            self.active, {'status': 'ACTIVE', 'OS-EXT-SRV-ATTR:host': 'host1',
                          'OS-EXT-STS:task_state': None})
        self.assertEqual('SHUTOFF',
                         self.admin_api.get_server(self.stopped['id'])
                         ['status'])

    def test_clear_with_restore_by_a_fault_monitor(self):
        # A monitor of its own role, in its own project, as deploy.rst
        # grants it the package's rules: not an admin.
        monitor = client.TestOpenStackClient(
            'monitor', self.api_fixture.base_url, project_id='service',
            roles=['host_fault_monitor'])
        monitor.microversion = self.microversion
        self.policy.set_rules({
            'nova_hoststatus:os-hosts:report-host-down':
                'role:host_fault_monitor'}, overwrite=False)
        self._put_host('host1', {'host_down_reported': True}, api=monitor)

        host = self._put_host('host1', {'host_down_reported': False,
                                        'restore': True},
                              api=monitor)['host']

        self.assertEqual([(self.active['id'], 'started', None)],
                         [(s['id'], s['result'], s['message'])
                          for s in host['instances_restored']])
        self._wait_for_server_parameter(
            self.active, {'status': 'ACTIVE', 'OS-EXT-SRV-ATTR:host': 'host1',
                          'OS-EXT-STS:task_state': None})

    def test_restore_refused_when_a_server_left(self):
        self._put_host('host1', {'host_down_reported': True, 'fenced': True})
        self.computes['host1'].stop()
        self._evacuate_host('host1', {'servers': [self.active['id']]})
        self._wait_for_server_parameter(
            self.active, {'OS-EXT-SRV-ATTR:host': 'host2',
                          'OS-EXT-STS:task_state': None})
        before = self._snapshot()

        response = self._put('host1', {'host': {
            'host_down_reported': False, 'restore': True}})

        message = self.assertFault(response, 409)
        self.assertIn(self.active['id'], message)
        self.assertUnchanged(before)

    def test_restore_only_with_a_clear(self):
        response = self._put('host1', {'host': {
            'host_down_reported': True, 'restore': True}})
        self.assertFault(response, 400)
