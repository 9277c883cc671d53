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

"""PUT /os-hosts/{host_name} with host_down_reported, through REST."""

from nova.compute import power_state

from tests.functional import base


class HostFaultReportTest(base.HostStatusTestBase):

    def test_report_smoke(self):
        server = self._boot('host1')
        host = self._report_host_down('host1')
        self.assertTrue(host['host_down_reported'])
        self.assertEqual([server['id']],
                         [i['id'] for i in host['instances_changed']])
        server = self.admin_api.get_server(server['id'])
        self.assertEqual('SHUTOFF', server['status'])
        self.assertEqual(power_state.SHUTDOWN,
                         server['OS-EXT-STS:power_state'])
        self.assertEqual('DOWN', server['host_status'])
