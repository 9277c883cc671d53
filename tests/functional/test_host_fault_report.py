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

"""PUT /os-hosts/{host_name} with host_down_reported, through REST.

Real API, conductor, scheduler and two computes; the package is loaded from
its api-paste.ini line only.
"""

from nova.compute import power_state
from nova import objects

from tests.functional import base


class HostFaultReportTest(base.HostStatusTestBase):
    """A report on host1 with servers in every relevant vm_state."""

    def setUp(self):
        super().setUp()
        # Soft delete needs a reclaim interval; reclaiming itself never runs.
        self.flags(reclaim_instance_interval=3600)
        self.active = self._boot('host1', 'active')
        self.stopped = self._stop_server(self._boot('host1', 'stopped'))
        self.paused = self._boot('host1', 'paused')
        self.admin_api.post_server_action(self.paused['id'], {'pause': {}})
        self.paused = self._wait_for_state_change(self.paused, 'PAUSED')
        self.error = self._boot('host1', 'error')
        self.admin_api.post_server_action(
            self.error['id'], {'os-resetState': {'state': 'error'}})
        self.error = self._wait_for_server_parameter(
            self.error, {'OS-EXT-STS:vm_state': 'error'})
        self.soft_deleted = self._boot('host1', 'soft-deleted')
        self.admin_api.delete_server(self.soft_deleted['id'])
        self.soft_deleted = self._wait_for_state_change(
            self.soft_deleted, 'SOFT_DELETED')
        # A resize from host2 lands on host1 (no resize to the same host).
        self.resized = self._boot('host2', 'resized')
        flavor = self.admin_api.get_flavors()[1]
        self.resized = self._resize_server(self.resized, flavor['id'])
        self.assertEqual('host1', self.resized['OS-EXT-SRV-ATTR:host'])
        self.other_project = self._boot('host1', 'other-project',
                                        api=self.other_admin_api)
        self.on_host2 = self._boot('host2', 'on-host2')

    def _server(self, server, api=None):
        return (api or self.admin_api).get_server(server['id'])

    def _assert_shutoff_by_report(self, server):
        server = self._server(server)
        self.assertEqual('SHUTOFF', server['status'])
        self.assertEqual('stopped', server['OS-EXT-STS:vm_state'])
        self.assertEqual(power_state.SHUTDOWN,
                         server['OS-EXT-STS:power_state'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])
        self.assertEqual('DOWN', server['host_status'])

    def test_report_host_down(self):
        host = self._report_host_down('host1')

        self.assertEqual('host1', host['host'])
        self.assertTrue(host['host_down_reported'])
        self.assertEqual('down', host['state'])
        self.assertEqual('enabled', host['status'])
        self.assertEqual('disabled', host['maintenance_mode'])
        changed = {i['id']: i for i in host['instances_changed']}
        self.assertEqual({self.active['id'], self.paused['id'],
                          self.other_project['id']}, set(changed))
        self.assertEqual(
            {'id': self.paused['id'], 'project_id': self.paused['tenant_id'],
             'old_vm_state': 'paused', 'old_task_state': None,
             'old_power_state': self.paused['OS-EXT-STS:power_state']},
            changed[self.paused['id']])
        skipped = {i['id']: i['reason'] for i in host['instances_skipped']}
        self.assertEqual(
            {self.stopped['id']: 'already_in_target_state',
             self.error['id']: 'untouched_vm_state',
             self.soft_deleted['id']: 'untouched_vm_state',
             self.resized['id']: 'untouched_vm_state'}, skipped)

        for server in (self.active, self.paused, self.other_project,
                       self.stopped):
            self._assert_shutoff_by_report(server)
        # Untouched states keep their status; the host shows DOWN to all.
        self.assertEqual('ERROR', self._server(self.error)['status'])
        self.assertEqual('VERIFY_RESIZE', self._server(self.resized)['status'])
        self.assertEqual('SOFT_DELETED',
                         self._server(self.soft_deleted)['status'])
        self.assertEqual('DOWN', self._server(self.error)['host_status'])
        # Nothing on host2 changed.
        on_host2 = self._server(self.on_host2)
        self.assertEqual('ACTIVE', on_host2['status'])
        self.assertEqual('UP', on_host2['host_status'])

        service = self._compute_service('host1')
        self.assertTrue(service['forced_down'])
        self.assertEqual('down', service['state'])
        self.assertEqual('enabled', service['status'])
        self.assertFalse(self._compute_service('host2')['forced_down'])

    def test_owner_sees_shutoff_and_the_action(self):
        self._report_host_down('host1')
        server = self._server(self.other_project, self.other_member_api)
        self.assertEqual('SHUTOFF', server['status'])
        # host_status is admin-only under nova's default policy.
        self.assertNotIn('host_status', server)
        actions = self.other_member_api.get_instance_actions(
            self.other_project['id'])
        self.assertEqual('host_down_reported', actions[0]['action'])
        # Skipped servers get no action record.
        actions = self.admin_api.get_instance_actions(self.error['id'])
        self.assertNotIn('host_down_reported',
                         [action['action'] for action in actions])

    def test_repeated_report_changes_nothing(self):
        self._report_host_down('host1')
        before = {s['id']: (s['updated'], s['status'])
                  for s in self.admin_api.get_servers(
                      search_opts={'all_tenants': 1})}

        host = self._report_host_down('host1')

        self.assertEqual([], host['instances_changed'])
        self.assertEqual(
            {self.active['id'], self.paused['id'], self.other_project['id'],
             self.stopped['id']},
            {i['id'] for i in host['instances_skipped']
             if i['reason'] == 'already_in_target_state'})
        after = {s['id']: (s['updated'], s['status'])
                 for s in self.admin_api.get_servers(
                     search_opts={'all_tenants': 1})}
        self.assertEqual(before, after)
        actions = self.admin_api.get_instance_actions(self.active['id'])
        self.assertEqual(1, [a['action'] for a in actions].count(
            'host_down_reported'))

    def test_clear_unsets_forced_down_only(self):
        self._report_host_down('host1')

        host = self._put_host('host1', {'host_down_reported': False})['host']

        self.assertFalse(host['host_down_reported'])
        self.assertEqual('up', host['state'])
        self.assertNotIn('instances_changed', host)
        self.assertFalse(self._compute_service('host1')['forced_down'])
        server = self._server(self.active)
        self.assertEqual('SHUTOFF', server['status'])
        self.assertEqual('UP', server['host_status'])

    def test_get_host_state(self):
        state = self._get_host_state('host1')['host']
        self.assertEqual(
            {'host': 'host1', 'status': 'enabled', 'state': 'up',
             'disabled_reason': None, 'maintenance_mode': 'disabled',
             'host_down_reported': False}, state)
        self._report_host_down('host1')
        state = self._get_host_state('host1')['host']
        self.assertTrue(state['host_down_reported'])
        self.assertEqual('down', state['state'])


class EvacuateAfterReportTest(base.HostStatusTestBase):

    def test_evacuate_starts_at_once(self):
        # A heartbeat could take an hour to go stale: only the report can
        # make the source look down.
        self.flags(service_down_time=3600)
        server = self._boot('host1')
        # Before the report, evacuate is refused: the source is up.
        self.admin_api.api_post(
            '/servers/%s/action' % server['id'], {'evacuate': {}},
            check_response_status=[400])

        self._report_host_down('host1')

        server = self._evacuate_server(server, expected_host='host2',
                                       expected_state='SHUTOFF')
        self.assertEqual('host2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('UP', server['host_status'])


class TargetStateErrorTest(base.HostStatusTestBase):

    def test_target_vm_state_error(self):
        self.flags(target_vm_state='error', group='hoststatus')
        server = self._boot('host1')

        host = self._report_host_down('host1')

        self.assertEqual([server['id']],
                         [i['id'] for i in host['instances_changed']])
        server = self.admin_api.get_server(server['id'])
        self.assertEqual('ERROR', server['status'])
        self.assertEqual(power_state.SHUTDOWN,
                         server['OS-EXT-STS:power_state'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])


class ReportStatementCountTest(base.HostStatusTestBase):
    """A report costs the same number of SQL statements whatever N is."""

    # host2 keeps the report of host1 within [hoststatus]
    # max_down_fraction: the runaway guard's statements are counted too.
    HOSTS = ('host1', 'host2')

    def _report_and_count(self, count):
        self._create_servers_in_db('host1', count)
        with base.count_sql_statements() as statements:
            host = self._report_host_down('host1')
        self.assertEqual(count, len(host['instances_changed']))
        self._put_host('host1', {'host_down_reported': False})
        self._delete_instances('host1')
        return statements

    def _delete_instances(self, host):
        with base.cell_context(self) as cctxt:
            for instance in objects.InstanceList.get_by_host(cctxt, host):
                instance.destroy()

    def test_statement_count_independent_of_instances(self):
        small = self._report_and_count(3)
        large = self._report_and_count(30)
        self.assertEqual(len(small), len(large),
                         '\n'.join(large))
