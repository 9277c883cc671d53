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

"""PUT /os-hosts/{host_name}: enable/disable, maintenance, errors, routes."""

from oslo_serialization import jsonutils

from tests.functional import base


class HostUpdateTest(base.HostStatusTestBase):

    def setUp(self):
        super().setUp()
        self.server = self._boot('host1')

    def _host_status(self):
        return self.admin_api.get_server(self.server['id'])['host_status']

    def _assert_host_unchanged(self):
        service = self._compute_service('host1')
        self.assertEqual(('enabled', False, None),
                         (service['status'], service['forced_down'],
                          service['disabled_reason']))
        server = self.admin_api.get_server(self.server['id'])
        self.assertEqual(('ACTIVE', 'UP'),
                         (server['status'], server['host_status']))

    def test_disable_and_enable(self):
        host = self._put_host('host1', {'status': 'disable'})['host']
        self.assertEqual(('disabled', 'disabled', None),
                         (host['status'], host['maintenance_mode'],
                          host['disabled_reason']))
        self.assertEqual('disabled', self._compute_service('host1')['status'])
        self.assertEqual('MAINTENANCE', self._host_status())

        host = self._put_host('host1', {'status': 'Enable'})['host']
        self.assertEqual('enabled', host['status'])
        self._assert_host_unchanged()

    def test_disable_with_reason(self):
        host = self._put_host('host1', {'status': 'disable',
                                        'reason': 'bad disk'})['host']
        self.assertEqual(('disabled', 'bad disk'),
                         (host['status'], host['disabled_reason']))
        self.assertEqual('bad disk',
                         self._compute_service('host1')['disabled_reason'])

    def test_maintenance_mode(self):
        host = self._put_host('host1', {'maintenance_mode': 'enable'})['host']
        self.assertEqual(('disabled', 'enabled', 'maintenance_mode'),
                         (host['status'], host['maintenance_mode'],
                          host['disabled_reason']))
        self.assertEqual('MAINTENANCE', self._host_status())
        # Entering it twice is a no-op.
        self._put_host('host1', {'maintenance_mode': 'enable'})

        host = self._put_host('host1',
                              {'maintenance_mode': 'disable'})['host']
        self.assertEqual(('enabled', 'disabled'),
                         (host['status'], host['maintenance_mode']))
        self._assert_host_unchanged()

    def test_maintenance_leaves_an_operator_disable_alone(self):
        service = self._compute_service('host1')
        self.admin_api.put_service(service['id'], {
            'status': 'disabled', 'disabled_reason': 'bad disk'})

        host = self._put_host('host1',
                              {'maintenance_mode': 'disable'})['host']
        self.assertEqual(('disabled', 'bad disk', 'disabled'),
                         (host['status'], host['disabled_reason'],
                          host['maintenance_mode']))

        error = self._put_host('host1', {'maintenance_mode': 'enable'},
                               status=409)
        self.assertIn('bad disk', error['conflictingRequest']['message'])
        self.assertEqual('bad disk',
                         self._compute_service('host1')['disabled_reason'])

    def test_disable_keeps_maintenance(self):
        self._put_host('host1', {'maintenance_mode': 'enable'})
        host = self._put_host('host1', {'status': 'disable'})['host']
        self.assertEqual('enabled', host['maintenance_mode'])

    def test_report_and_disable_in_one_request(self):
        host = self._put_host('host1', {'host_down_reported': 'yes',
                                        'status': 'disable'})['host']
        self.assertEqual((True, 'disabled'),
                         (host['host_down_reported'], host['status']))
        self.assertEqual([self.server['id']],
                         [i['id'] for i in host['instances_changed']])
        # Forced down wins over disabled, as in the seed's precedence.
        self.assertEqual('DOWN', self._host_status())

    def test_contradictory_update_changes_nothing(self):
        error = self._put_host('host1', {'status': 'enable',
                                         'maintenance_mode': 'enable',
                                         'host_down_reported': True},
                               status=400)
        self.assertIn('contradict', error['badRequest']['message'])
        self._assert_host_unchanged()

    def test_bad_bodies_change_nothing(self):
        bad_bodies = [
            {'host': {}},
            {'host': 'host1'},
            {'host': {'host_down_reported': 'maybe'}},
            {'host': {'host_down_reported': None}},
            {'host': {'host_down_reported': True, 'unknown': 1}},
            {'host': {'status': 'on'}},
            {'host': {'maintenance_mode': True}},
            {'host': {'host_down_reported': True}, 'extra': {}},
            {'host': {'reason': 'why'}},
            {'host': {'status': 'disable', 'reason': ''}},
            {'host': {'status': 'disable', 'reason': 'x' * 256}},
        ]
        for body in bad_bodies:
            response = self.admin_api.api_put(
                '/os-hosts/host1', body, check_response_status=[400])
            self.assertEqual(400, response.body['badRequest']['code'], body)
        self._assert_host_unchanged()

    def test_unknown_host(self):
        for host in ('no-such-host', 'host1.example', 'h%C3%B6st'):
            error = self._put_host(host, {'host_down_reported': True},
                                   status=404)
            self.assertEqual(404, error['itemNotFound']['code'])
            self._get_host_state(host, status=404)
        self._assert_host_unchanged()

    def test_non_admin_forbidden(self):
        for api in (self.member_api, self.reader_api, self.other_member_api):
            for body in ({'host_down_reported': True}, {'status': 'disable'},
                         {'maintenance_mode': 'enable'}):
                error = self._put_host('host1', body, api=api, status=403)
                self.assertEqual(403, error['forbidden']['code'])
            self._get_host_state('host1', api=api, status=403)
        self._assert_host_unchanged()

    def test_every_microversion(self):
        for version in ('2.1', '2.11', '2.42', '2.43', '2.53', 'latest'):
            self.admin_api.microversion = version
            host = self._report_host_down('host1')
            self.assertTrue(host['host_down_reported'], version)
            state = self._get_host_state('host1')['host']
            self.assertTrue(state['host_down_reported'], version)
            host = self._put_host('host1', {'host_down_reported': False})
            self.assertFalse(host['host']['host_down_reported'], version)

    def test_stock_os_hosts_unchanged(self):
        self.admin_api.microversion = '2.1'
        hosts = self.admin_api.api_get('/os-hosts').body['hosts']
        self.assertIn('host1', [h['host_name'] for h in hosts])
        resources = self.admin_api.api_get('/os-hosts/host1').body['host']
        self.assertEqual('host1', resources[0]['resource']['host'])
        self.admin_api.microversion = '2.43'
        self.admin_api.api_get('/os-hosts', check_response_status=[404])
        self.admin_api.api_get('/os-hosts/host1',
                               check_response_status=[404])


class StockRequestTest(base.HostStatusTestBase):
    """What is not the seed's ``{"host": {...}}`` is stock os-hosts'."""

    # Headers that differ from one request to the next.
    PER_REQUEST = {'x-openstack-request-id', 'x-compute-request-id', 'date'}

    def setUp(self):
        super().setUp()
        self.stock_url = self._start_stock_api()

    def _both(self, method, path, body, microversion):
        """The answers of the package's API and of stock's, comparable."""
        answers = []
        for base_url in (self.api_fixture.base_url, self.stock_url):
            response = self.admin_api.request(
                base_url + path, method=method, body=body,
                headers={'X-Auth-User': 'admin', 'X-User-Id': 'admin',
                         'X-Auth-Project-Id': self.admin_api.project_id,
                         'X-Roles': 'reader,member,admin',
                         'Content-Type': 'application/json',
                         'X-OpenStack-Nova-API-Version': microversion})
            headers = {name.lower(): value
                       for name, value in response.headers.items()
                       if name.lower() not in self.PER_REQUEST}
            answers.append((response.status_code, headers, response.content))
        return answers

    def test_stock_bodies_get_stock_answers(self):
        requests = [
            # What `openstack host set --disable|--enable` sends.
            ('2.1', 'host1', '{"status": "disable"}'),
            ('2.1', 'host1', '{"status": "enable"}'),
            ('2.1', 'host1', '{"maintenance_mode": "enable"}'),
            ('2.42', 'host1', '{"status": "Disable"}'),
            ('2.1', 'no-such-host', '{"status": "disable"}'),
            ('2.1', 'host1', '{"status": "on"}'),
            ('2.1', 'host1', '{}'),
            ('2.1', 'host1', '[]'),
            ('2.1', 'host1', ''),
            ('2.1', 'host1', '{"host": '),
            ('2.1', 'host1', 'not json'),
            # Gone from stock at 2.43.
            ('2.43', 'host1', '{"status": "disable"}'),
            ('latest', 'host1', '{"status": "disable"}'),
            ('latest', 'host1', '{}'),
        ]
        for microversion, host, body in requests:
            ours, stock = self._both('PUT', '/os-hosts/%s' % host, body,
                                     microversion)
            self.assertEqual(stock, ours, (microversion, host, body))
        # Stock os-hosts calls the hypervisor driver; the service's own
        # flags are the package's alone.
        service = self._compute_service('host1')
        self.assertEqual(('enabled', False),
                         (service['status'], service['forced_down']))

    def test_flat_disable_answers_as_stock(self):
        ours, stock = self._both('PUT', '/os-hosts/host1',
                                 '{"status": "disable"}', '2.1')
        self.assertEqual(200, ours[0])
        self.assertEqual({'host': 'host1', 'status': 'disabled'},
                         jsonutils.loads(ours[2]))
        self.assertEqual(stock, ours)

    def test_seed_body_is_the_package_at_every_microversion(self):
        for microversion in ('2.1', '2.42', '2.43', 'latest'):
            ours, stock = self._both(
                'PUT', '/os-hosts/host1',
                '{"host": {"maintenance_mode": "enable"}}', microversion)
            self.assertEqual(200, ours[0], microversion)
            self.assertEqual('enabled', jsonutils.loads(
                ours[2])['host']['maintenance_mode'])
            self.assertNotEqual(stock, ours)
            self._put_host('host1', {'maintenance_mode': 'disable'})


class ClearAfterEvacuationTest(base.HostStatusTestBase):

    def test_clear_waits_for_the_compute_restart(self):
        server = self._boot('host1')
        self._report_host_down('host1')
        self._evacuate_server(server, expected_host='host2',
                              expected_state='SHUTOFF')

        error = self._put_host('host1', {'host_down_reported': False},
                               status=409)
        self.assertIn('Restart', error['conflictingRequest']['message'])
        self.assertTrue(self._compute_service('host1')['forced_down'])

        # The restart completes the evacuation; then the report clears.
        self.restart_compute_service(self.computes['host1'])
        host = self._put_host('host1', {'host_down_reported': False})
        self.assertFalse(host['host']['host_down_reported'])
