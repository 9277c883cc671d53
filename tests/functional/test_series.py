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

"""What differs between the Nova releases the package runs on, end to end.

Runs on every series (tools/run-tests.sh with HOSTSTATUS_SERIES): the
package's own service-or-admin rule, which Nova 31 has no counterpart of,
and its routes at the installed Nova's highest microversion.
"""

from nova.tests.functional.api import client

from nova_hoststatus import compat
from nova_hoststatus.policies import base as base_policies
from nova_hoststatus.policies import hosts as hosts_policies
from tests.functional import base


class ServiceOrAdminRuleTest(base.HostStatusTestBase):

    def setUp(self):
        super().setUp()
        # A fault monitor's user: the service role, nothing else.
        self.service_api = client.TestOpenStackClient(
            'monitor', self.api_fixture.base_url,
            project_id=self.api_fixture.project_id, roles=['service'])
        self.service_api.microversion = self.microversion
        self.server = self._boot('host1')

    def _grant(self):
        self.policy.set_rules(
            {hosts_policies.REPORT_HOST_DOWN:
                'rule:' + base_policies.SERVICE_OR_ADMIN},
            overwrite=False)

    def test_service_user_refused_by_default(self):
        self._report_host_down('host1', api=self.service_api, status=403)

    def test_rule_grants_the_service_role(self):
        self._grant()
        body = self._report_host_down('host1', api=self.service_api)
        self.assertEqual([self.server['id']],
                         [i['id'] for i in body['instances_changed']])

    def test_nova_rule_of_that_name_only_from_nova_33(self):
        # Why the package has its own: on Nova 31 a policy naming Nova's
        # service_or_admin denies everyone, the service user included.
        self.policy.set_rules(
            {hosts_policies.REPORT_HOST_DOWN: 'rule:service_or_admin'},
            overwrite=False)
        status = 200 if compat.nova_version() >= (33,) else 403
        self._report_host_down('host1', api=self.service_api, status=status)

    def test_rule_grants_admins_not_members(self):
        self._grant()
        self._report_host_down('host1', api=self.member_api, status=403)
        self._report_host_down('host1')


class MicroversionTest(base.HostStatusTestBase):

    def test_latest_is_the_installed_nova_highest(self):
        response = self.admin_api.api_get('/os-hosts/host1/state')
        self.assertEqual('compute %s' % compat.max_microversion(),
                         response.headers['OpenStack-API-Version'])
        self.assertEqual('host1', response.body['host']['host'])
