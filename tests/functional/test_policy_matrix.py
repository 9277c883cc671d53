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

"""Every route of the package, as every persona, under each policy.

A refused request answers 403 in nova's fault format and leaves every row
of every cell database as it was; an allowed one does what it says.
"""

import os

from oslo_serialization import jsonutils

import nova.conf
from nova.tests import fixtures as nova_fixtures

from nova_hoststatus.policies import hosts as hosts_policies
from tests.functional import test_robustness

CONF = nova.conf.CONF

REPO_ROOT = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
NFV_OWNER_SAMPLE = os.path.join(REPO_ROOT, 'policies',
                                'nfv-owner-host-status.yaml')

# (name, method, body) of each route and body key the package adds.
ROUTES = [
    ('report', 'PUT', {'host': {'host_down_reported': True}}),
    ('clear', 'PUT', {'host': {'host_down_reported': False}}),
    ('status', 'PUT', {'host': {'status': 'disable'}}),
    ('maintenance_mode', 'PUT', {'host': {'maintenance_mode': 'enable'}}),
    ('report and status', 'PUT', {'host': {'host_down_reported': True,
                                           'status': 'disable'}}),
    ('state', 'GET', None),
]


class NFVOwnerPolicyFixture(nova_fixtures.RealPolicyFixture):
    """nova's real policy with the NFV owner sample as its policy file."""

    def _prepare_policy(self):
        self.policy_file = NFV_OWNER_SAMPLE
        CONF.set_override('policy_dirs', [], group='oslo_policy')


class PolicyMatrixTest(test_robustness.RobustnessTestBase):

    def setUp(self):
        super().setUp()
        # Servers of both projects on the host, and one elsewhere: created
        # in the database, a matrix does not need them booted.
        self.servers = (
            self._create_servers_in_db('host1', 2) +
            self._create_servers_in_db(
                'host1', 1, project_id=test_robustness.base.OTHER_PROJECT_ID,
                name='other') +
            self._create_servers_in_db('host2', 1, name='elsewhere'))

    def _request(self, route, host, api):
        _name, method, body = route
        path = '/os-hosts/%s' % host
        if method == 'GET':
            path += '/state'
        return self._raw(method, path, body, api=api)

    def _assert_matrix(self):
        allowed, denied = self._personas()
        initial = self._snapshot()
        for persona, api in sorted(denied.items()):
            for route in ROUTES:
                for host in ('host1', test_robustness.NO_SUCH_HOST):
                    response = self._request(route, host, api)
                    what = '%s: %s on %s' % (persona, route[0], host)
                    self.assertFault(response, 403)
                    self.assertUnchanged(initial, what)

        for persona, api in sorted(allowed.items()):
            for route in ROUTES:
                what = '%s: %s' % (persona, route[0])
                response = self._request(route, test_robustness.NO_SUCH_HOST,
                                         api)
                self.assertFault(response, 404)
                self.assertUnchanged(initial, what)

                response = self._request(route, 'host1', api)
                self.assertEqual(200, response.status_code,
                                 '%s: %s' % (what, response.text))
                host = response.json()['host']
                self.assertEqual('host1', host['host'])
                self._assert_route_applied(route, host, initial)
                self._restore(initial)
                self.assertUnchanged(initial, what)

    def _assert_route_applied(self, route, host, initial):
        name, _method, body = route
        disabled, reason, forced_down = self._service_row('host1')
        changed = {i['id'] for i in host.get('instances_changed', [])}
        instances = self._instances()
        stopped = {uuid for uuid, state in instances.items()
                   if state == ('stopped', None, 4)}
        if name == 'state':
            self.assertEqual(self._snapshot(), initial)
            return
        self.assertEqual(body['host'].get('status') == 'disable' or
                         name == 'maintenance_mode', disabled, name)
        self.assertEqual(body['host'].get('host_down_reported') is True,
                         forced_down, name)
        if name == 'maintenance_mode':
            self.assertEqual('maintenance_mode', reason)
        if body['host'].get('host_down_reported') is True:
            # Every server on host1, of both projects; none elsewhere.
            self.assertEqual(set(self.servers[:3]), changed, name)
            self.assertEqual(set(self.servers[:3]), stopped, name)
        else:
            self.assertEqual(set(), changed | stopped, name)

    def test_default_policy_as_tests_run_it(self):
        # nova's and placement's fixtures leave enforce_new_defaults off:
        # the package's rules have no deprecated fallback either way.
        self.assertFalse(CONF.oslo_policy.enforce_new_defaults)
        self._assert_matrix()

    def test_default_policy_as_nova_34_deploys_it(self):
        self.flags(enforce_new_defaults=True, group='oslo_policy')
        self.useFixture(nova_fixtures.RealPolicyFixture())
        self._assert_matrix()

    def test_nfv_owner_sample_keeps_the_routes_admin_only(self):
        if not os.path.exists(NFV_OWNER_SAMPLE):
            self.skipTest('policies/nfv-owner-host-status.yaml does not '
                          'exist yet')
        self.flags(enforce_new_defaults=True, group='oslo_policy')
        self.useFixture(NFVOwnerPolicyFixture())
        self.assertEqual(NFV_OWNER_SAMPLE, CONF.oslo_policy.policy_file)
        self._assert_matrix()

        # What the sample does widen: owners see host_status, still not
        # the host's name, and only of their own servers.
        self._report_host_down('host1')
        own, others = self.servers[0], self.servers[2]
        server = self.member_api.get_server(own)
        self.assertEqual(('SHUTOFF', 'DOWN'),
                         (server['status'], server['host_status']))
        self.assertNotIn('OS-EXT-SRV-ATTR:host', server)
        self.assertNotIn('host1', jsonutils.dumps(server))
        self.member_api.api_get('/servers/%s' % others,
                                check_response_status=[404])


class RulesSetBeforeFirstUseTest(test_robustness.RobustnessTestBase):
    """Rules set with set_rules() before the package's first request.

    As nova's own tests set them (RealPolicyFixture.set_rules), which turns
    off loading the policy file, and with it the merging of defaults.
    """

    def test_defaults_still_apply(self):
        self.policy.set_rules(
            {'os_compute_api:servers:show:host_status': 'rule:admin_api'},
            overwrite=False)

        self.assertEqual(200, self._put('host1', ROUTES[0][2]).status_code)
        self.assertEqual(200, self._show('host1').status_code)
        self.assertFault(self._show('host1', api=self.member_api), 403)

    def test_a_rule_set_for_the_package_is_kept(self):
        self.policy.set_rules({hosts_policies.SHOW: '!'}, overwrite=False)

        self.assertFault(self._show('host1'), 403)
        self.assertEqual(200, self._put('host1', ROUTES[0][2]).status_code)


class EvacuatePolicyTest(test_robustness.RobustnessTestBase):
    """POST /os-hosts/{host}/evacuate is for admins only, by default."""

    def test_only_admins_evacuate(self):
        self._report_host_down('host1')
        initial = self._snapshot()
        allowed, denied = self._personas()
        for persona, api in sorted(denied.items()):
            for host in ('host1', test_robustness.NO_SUCH_HOST):
                response = self._raw('POST', '/os-hosts/%s/evacuate' % host,
                                     {'evacuate': {}}, api=api)
                self.assertFault(response, 403)
                self.assertUnchanged(initial, persona)
        for persona, api in sorted(allowed.items()):
            response = self._raw('POST', '/os-hosts/host1/evacuate',
                                 {'evacuate': {}}, api=api)
            self.assertEqual(202, response.status_code, persona)
            self.assertEqual([], response.json()['evacuate']['servers'])

    def test_nova_evacuate_rule_applies_too(self):
        """A deployer who restricted Nova's evacuate restricts this too."""
        self._boot('host1')
        self._report_host_down('host1')
        self.policy.set_rules({'os_compute_api:os-evacuate': '!'},
                              overwrite=False)
        initial = self._snapshot()

        response = self._raw('POST', '/os-hosts/host1/evacuate',
                             {'evacuate': {}})

        self.assertIn('os_compute_api:os-evacuate',
                      self.assertFault(response, 403))
        self.assertUnchanged(initial)


class ServicesObserverPolicyTest(test_robustness.RobustnessTestBase):
    """Stock PUT /os-services, observed only for those stock lets in."""

    def test_refused_caller_costs_no_cell_query(self):
        service_id = self._compute_service('host1')['id']
        for api in (self.member_api, self.other_member_api):
            with test_robustness.base.count_sql_statements() as statements:
                response = self._raw(
                    'PUT', '/os-services/%s' % service_id,
                    {'status': 'disabled'}, api=api,
                    headers={'OpenStack-API-Version': 'compute 2.53'})
            self.assertFault(response, 403)
            # Stock reads nothing before its 403: neither does the
            # observer, for whoever asks.
            self.assertEqual([], [s for s in statements
                                  if 'services' in s or 'cell' in s], api)
