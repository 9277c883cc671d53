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

"""openstack compute host evacuate, against the functional Nova."""

import io
import json

import fixtures
from osc_lib import exceptions
from oslo_utils import uuidutils

from nova.tests.functional import integrated_helpers

from nova_hoststatus.cli.v1 import evacuate as evacuate_cli
from nova_hoststatus.demo import cloud
from tests.functional import test_cli


class EvacuateCLITestCase(test_cli.CLITestBase):

    # Evacuations run after the API answers, as in a real cloud, for
    # --wait to follow.
    CAST_AS_CALL = False

    def _evacuate(self, *argv, **kwargs):
        return self._cli(evacuate_cli.EvacuateHost, *argv, **kwargs)

    def test_wait_brings_servers_back_as_they_were(self):
        vm1 = self._boot('host1', name='vm1')
        vm2 = self._stop_server(self._boot('host1', name='vm2'))
        self._report_host_down('host1')
        stderr = self.useFixture(fixtures.MonkeyPatch(
            'sys.stderr', io.StringIO())).new_value

        header, rows = test_cli._table(self._evacuate('host1', '--wait'))

        self.assertEqual(list(evacuate_cli.WAIT_COLUMNS), header)
        by_id = {row['ID']: row for row in rows}
        self.assertEqual(
            {'ID': vm1['id'], 'Result': 'accepted', 'Recovery': 'recovered',
             'Host': 'host2', 'Server Status': 'ACTIVE',
             'Restored State': 'active', 'Reason': '-'},
            by_id[vm1['id']])
        self.assertEqual(
            {'ID': vm2['id'], 'Result': 'accepted', 'Recovery': 'recovered',
             'Host': 'host2', 'Server Status': 'SHUTOFF',
             'Restored State': 'stopped', 'Reason': '-'},
            by_id[vm2['id']])
        for server, status in ((vm1, 'ACTIVE'), (vm2, 'SHUTOFF')):
            server = self.admin_api.get_server(server['id'])
            self.assertEqual(
                (status, 'host2', None),
                (server['status'], server['OS-EXT-SRV-ATTR:host'],
                 server['OS-EXT-STS:task_state']))
        progress = stderr.getvalue().splitlines()
        self.assertEqual('host1: 2 of 2 servers recovered', progress[-1])
        # A line a change.
        for line, next_line in zip(progress, progress[1:]):
            self.assertNotEqual(line, next_line)

    def test_subset_to_a_destination(self):
        vm1 = self._boot('host1', name='vm1')
        vm2 = self._boot('host1', name='vm2')
        self._report_host_down('host1')

        servers = json.loads(self._evacuate(
            'host1', '--server', vm1['id'], '--target-host', 'host2',
            '-f', 'json'))

        self.assertEqual(1, len(servers))
        migration_id = servers[0]['Reason/Migration']['migration_id']
        self.assertTrue(uuidutils.is_uuid_like(migration_id))
        self.assertEqual(
            {'ID': vm1['id'], 'Result': 'accepted',
             'Pre-fault State': {'vm_state': 'active', 'task_state': None,
                                 'power_state': 1},
             'Restored State': 'active',
             'Reason/Migration': {'reason': None, 'message': None,
                                  'migration_id': migration_id}},
            servers[0])
        self._wait_for_server_parameter(
            vm1, {'status': 'ACTIVE', 'OS-EXT-SRV-ATTR:host': 'host2',
                  'OS-EXT-STS:task_state': None})
        self.assertEqual(('SHUTOFF', 'host1'),
                         (self.admin_api.get_server(vm2['id'])['status'],
                          self.admin_api.get_server(vm2['id'])[
                              'OS-EXT-SRV-ATTR:host']))

        # The rest: vm1 is skipped, already evacuated.
        header, rows = test_cli._table(self._evacuate(
            'host1', '--server', vm1['id'], '--server', vm2['id']))
        self.assertEqual(list(evacuate_cli.COLUMNS), header)
        by_id = {row['ID']: row for row in rows}
        self.assertEqual(('skipped', 'already_evacuated'),
                         (by_id[vm1['id']]['Result'],
                          by_id[vm1['id']]['Reason/Migration']))
        self.assertEqual(('accepted', 'active', 'active'),
                         (by_id[vm2['id']]['Result'],
                          by_id[vm2['id']]['Pre-fault State'],
                          by_id[vm2['id']]['Restored State']))
        self._wait_for_server_parameter(
            vm2, {'status': 'ACTIVE', 'OS-EXT-SRV-ATTR:host': 'host2',
                  'OS-EXT-STS:task_state': None})

    def test_host_not_reported_down(self):
        self._boot('host1', name='vm1')
        exc = self.assertRaises(exceptions.CommandError, self._evacuate,
                                'host1', '--wait')
        self.assertIn('Cannot evacuate host host1: ', str(exc))
        self.assertIn('(HTTP 409)', str(exc))

    def test_unknown_server(self):
        self._boot('host1', name='vm1')
        self._report_host_down('host1')
        unknown = uuidutils.generate_uuid()
        exc = self.assertRaises(exceptions.CommandError, self._evacuate,
                                'host1', '--server', unknown)
        self.assertIn('Cannot evacuate host host1: ', str(exc))
        self.assertIn(unknown, str(exc))
        self.assertIn('(HTTP 404)', str(exc))

    def test_non_admin_is_forbidden(self):
        exc = self.assertRaises(exceptions.CommandError, self._evacuate,
                                'host1', api=self.member_api)
        self.assertIn('Not allowed to evacuate host host1 (HTTP 403): ',
                      str(exc))
        self.assertIn('nova_hoststatus:os-hosts:evacuate', str(exc))


class StockNovaEvacuateTestCase(test_cli.CLITestBase):
    """A nova-api that does not load nova-hoststatus: the command says so."""

    def _setup_services(self):
        self.flags(api_paste_config=cloud.stock_paste_config(),
                   group='wsgi')
        integrated_helpers._IntegratedTestBase._setup_services(self)

    def test_evacuate_says_the_api_is_missing(self):
        exc = self.assertRaises(exceptions.CommandError, self._cli,
                                evacuate_cli.EvacuateHost, 'host1')
        self.assertIn('is nova-hoststatus loaded into nova-api?', str(exc))
