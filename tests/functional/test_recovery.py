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

from nova.compute import power_state

from tests.functional import base


class HostEvacuateTest(base.HostStatusTestBase):

    def _server(self, server):
        server = self.admin_api.get_server(server['id'])
        return (server['status'], server['OS-EXT-SRV-ATTR:host'],
                server['OS-EXT-STS:power_state'])

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
        recovery = self._get_host_state('host1')['host']['recovery']
        self.assertEqual({active['id']: 'recovered',
                          stopped['id']: 'recovered'},
                         {s['id']: s['status'] for s in recovery})
