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

"""The NFV owner sample policy, loaded as nova's policy file.

Seed 000 asks that the owner of a server sees its host_status in the NFV
use case ("rule:admin_or_owner"); policies/nfv-owner-host-status.yaml is
its equivalent with Nova 34's role-based rules. These tests load that file
as the policy file of the API and read servers as each persona.
"""

import os

import fixtures
import yaml

import nova.conf
from nova.tests import fixtures as nova_fixtures

from tests.functional import test_seeds

CONF = nova.conf.CONF

HOST_STATUS = 'os_compute_api:servers:show:host_status'

REPO_ROOT = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
NFV_OWNER_SAMPLE = os.path.join(REPO_ROOT, 'policies',
                                'nfv-owner-host-status.yaml')


class NFVOwnerPolicyFixture(nova_fixtures.RealPolicyFixture):
    """Nova's real policy with the NFV owner sample as the policy file."""

    def _prepare_policy(self):
        self.policy_file = NFV_OWNER_SAMPLE
        # Only the sample: no policy.d of the machine running the tests.
        CONF.set_override('policy_dirs', [], group='oslo_policy')


class NarrowedNFVOwnerPolicyFixture(nova_fixtures.RealPolicyFixture):
    """The NFV owner sample with host_status narrowed to members.

    The variant the sample's comment describes, as an operator would write
    it: a copy of the sample with one rule changed.
    """

    def _prepare_policy(self):
        with open(NFV_OWNER_SAMPLE) as sample:
            rules = yaml.safe_load(sample)
        rules[HOST_STATUS] = 'rule:project_member_or_admin'
        policy_dir = self.useFixture(fixtures.TempDir()).path
        self.policy_file = os.path.join(policy_dir, 'policy.yaml')
        with open(self.policy_file, 'w') as policy_file:
            yaml.safe_dump(rules, policy_file)
        CONF.set_override('policy_dirs', [], group='oslo_policy')


class HostStatusPolicyTestBase(test_seeds.SeedTestBase):
    """A server of the member's project on a host that is reported down."""

    policy_fixture = nova_fixtures.RealPolicyFixture

    def setUp(self):
        super().setUp()
        # As a Nova 34 deployment runs: placement's test fixture turns the
        # deprecated (role-less) rules back on for every test of the
        # process, which would let any role of the project read servers.
        self.flags(enforce_new_defaults=True, group='oslo_policy')
        self.policy = self.useFixture(self.policy_fixture())
        # Booted by its owner: the scheduler picks the host.
        server = self.member_api.post_server({'server': self._build_server(
            name='vnf-active', networks='none')})
        self.server = self._wait_for_state_change(server, 'ACTIVE')
        self.host = self.admin_api.get_server(
            self.server['id'])['OS-EXT-SRV-ATTR:host']
        self.other_server = self.other_member_api.post_server(
            {'server': self._build_server(name='other-project',
                                          networks='none')})
        self.other_server = self._wait_for_state_change(self.other_server,
                                                        'ACTIVE')

    def _host_down(self):
        self._report_host_down(self.host)
        # Admins see it whatever the policy file says.
        self._assert_host_status(test_seeds.DOWN, self.server['id'])


class NFVOwnerPolicyTest(HostStatusPolicyTestBase):
    """policies/nfv-owner-host-status.yaml as policy.yaml."""

    policy_fixture = NFVOwnerPolicyFixture

    def test_sample_is_the_policy_file(self):
        self.assertEqual(NFV_OWNER_SAMPLE, CONF.oslo_policy.policy_file)
        self.assertTrue(CONF.oslo_policy.enforce_new_defaults)

    def test_owner_sees_host_down_after_a_host_down_report(self):
        self._assert_host_status(test_seeds.UP, self.server['id'],
                                 api=self.member_api)
        self._host_down()
        server = self.member_api.get_server(self.server['id'])
        self.assertEqual(test_seeds.DOWN, server['host_status'])
        self.assertEqual('SHUTOFF', server['status'])
        self._assert_host_status(test_seeds.DOWN, self.server['id'],
                                 api=self.member_api)

    def test_owner_sees_maintenance(self):
        self._put_host(self.host, {'maintenance_mode': 'enable'})
        self._assert_host_status(test_seeds.MAINTENANCE, self.server['id'],
                                 api=self.member_api)

    def test_owner_sees_unknown(self):
        self._stop_heartbeat(self.host)
        self._assert_host_status(test_seeds.UNKNOWN, self.server['id'],
                                 api=self.member_api)

    def test_reader_of_the_owning_project_sees_host_status(self):
        """The sample grants project readers, as it grants GET /servers."""
        self._host_down()
        self._assert_host_status(test_seeds.DOWN, self.server['id'],
                                 api=self.reader_api)

    def test_other_project_cannot_see_the_server(self):
        self._host_down()
        response = self.other_member_api.api_get(
            '/servers/%s' % self.server['id'], check_response_status=[404])
        self.assertEqual(404, response.status)
        listed = [server['id']
                  for server in self.other_member_api.get_servers()]
        self.assertEqual([self.other_server['id']], listed)
        # Its own server, wherever it runs, shows its own host's status.
        other_host = self.admin_api.get_server(
            self.other_server['id'])['OS-EXT-SRV-ATTR:host']
        expected = (test_seeds.DOWN if other_host == self.host
                    else test_seeds.UP)
        self._assert_host_status(expected, self.other_server['id'],
                                 api=self.other_member_api)

    def test_user_without_reader_role_is_forbidden(self):
        """The sample does not widen who may read the server."""
        response = self.api_fixture.other_api.api_get(
            '/servers/%s' % self.server['id'], check_response_status=[403])
        self.assertEqual(403, response.status)


class NarrowedNFVOwnerPolicyTest(HostStatusPolicyTestBase):
    """host_status for members, UNKNOWN only for readers."""

    policy_fixture = NarrowedNFVOwnerPolicyFixture

    def test_members_see_every_value(self):
        self._host_down()
        self._assert_host_status(test_seeds.DOWN, self.server['id'],
                                 api=self.member_api)

    def test_readers_see_unknown_only(self):
        self._host_down()
        self._assert_host_status(None, self.server['id'],
                                 api=self.reader_api)
        self._stop_heartbeat(self.host)
        # A forced-down service is DOWN whatever its heartbeat: clearing
        # the report leaves the silent host UNKNOWN.
        self._put_host(self.host, {'host_down_reported': False})
        self._assert_host_status(test_seeds.UNKNOWN, self.server['id'],
                                 api=self.reader_api)
        self._assert_host_status(test_seeds.UNKNOWN, self.server['id'],
                                 api=self.member_api)


class DefaultPolicyTest(HostStatusPolicyTestBase):
    """Without the sample, Nova 34 shows host_status to admins only."""

    def test_owner_does_not_see_host_status(self):
        self._host_down()
        for api in (self.member_api, self.reader_api):
            server = api.get_server(self.server['id'])
            self.assertEqual('SHUTOFF', server['status'])
            self.assertNotIn('host_status', server)
            for server in api.get_servers(detail=True):
                self.assertNotIn('host_status', server)

    def test_owner_does_not_see_unknown(self):
        self._stop_heartbeat(self.host)
        self.assertNotIn('host_status',
                         self.member_api.get_server(self.server['id']))
        self._assert_host_status(test_seeds.UNKNOWN, self.server['id'])
