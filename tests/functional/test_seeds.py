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

"""The seeds stock Nova 34 implements, proven with nova-hoststatus loaded.

One test class per seed: seed 000 ("Get valid server state": host_status),
seed 001 (the user manuals of 000 and 003), seed 002 ("Return hypervisor
node status") and seed 003 ("Mark nova-compute down": force-down). Every
request goes through the REST API built from the package's api-paste.ini,
against real conductor, scheduler, placement and compute services.
"""

import datetime

from oslo_serialization import jsonutils
from oslo_utils import timeutils
import sqlalchemy as sa

import nova.conf
from nova.db.main import api as main_db
from nova.db.main import models
from nova import objects
from nova import utils as nova_utils

from tests.functional import base

CONF = nova.conf.CONF

UP = 'UP'
UNKNOWN = 'UNKNOWN'
DOWN = 'DOWN'
MAINTENANCE = 'MAINTENANCE'
NO_HOST = ''

# The disabled_reason this package's maintenance mode writes.
MAINTENANCE_REASON = 'maintenance_mode'


class SeedTestBase(base.HostStatusTestBase):
    """REST helpers shared by the seed tests."""

    def _raw_request(self, method, path, body=None, version=None,
                     api=None, project_in_url=False):
        """Send a request with only the headers the seed manuals send.

        nova's test client always sends both microversion headers; the
        manuals send ``X-OpenStack-Nova-API-Version`` alone, and so does
        this. Returns the ``requests`` response.
        """
        api = api or self.admin_api
        url = api.base_url
        if project_in_url:
            url += '/' + api.project_id
        headers = {
            'Accept': 'application/json',
            # What keystonemiddleware would set from the token.
            'X-Auth-User': api.auth_user,
            'X-User-Id': api.auth_user,
            'X-Auth-Project-Id': api.project_id,
            'X-Roles': ','.join(api.roles),
        }
        if version:
            headers['X-OpenStack-Nova-API-Version'] = version
        return api.request(url + path, method=method,
                           body=jsonutils.dumps(body) if body else None,
                           headers=headers)

    def _service(self, host, api=None):
        api = api or self.admin_api
        return api.get_services(binary='nova-compute', host=host)[0]

    def _put_service(self, host, body):
        """PUT /os-services/{service_id} (microversion >= 2.53)."""
        service_id = self._service(host)['id']
        return self.admin_api.put_service(service_id, body)

    def _force_down(self, host, forced_down):
        return self._put_service(host, {'forced_down': forced_down})

    def _disable(self, host, reason=None):
        body = {'status': 'disabled'}
        if reason:
            body['disabled_reason'] = reason
        return self._put_service(host, body)

    def _enable(self, host):
        return self._put_service(host, {'status': 'enabled'})

    def _stop_heartbeat(self, host):
        """Stop the compute service and age its last heartbeat.

        The service row keeps forced_down and disabled as they are; only
        ``updated_at`` and ``last_seen_up`` move to twice
        ``service_down_time`` ago, as if the host had gone silent. Stopping
        the service first makes sure no heartbeat refreshes them.
        """
        self.computes[host].stop()
        silent_since = timeutils.utcnow() - datetime.timedelta(
            seconds=2 * CONF.service_down_time)
        with base.cell_context(self) as cctxt:
            with main_db.get_context_manager(cctxt).writer.using(cctxt) as s:
                s.execute(
                    sa.update(models.Service)
                    .where(models.Service.host == host,
                           models.Service.binary == 'nova-compute')
                    .values(updated_at=silent_since,
                            last_seen_up=silent_since))

    def _boot_unschedulable(self):
        """A server that fails scheduling: more RAM than any host has.

        32 GiB is within the default quota and above what a MediumFakeDriver
        host offers (8 GiB, 12 GiB with the default allocation ratio).
        """
        flavor_id = self._create_flavor(memory_mb=32768, vcpu=1, disk=1,
                                        ephemeral=0)
        body = self._build_server(flavor_id=flavor_id, networks='none')
        server = self.admin_api.post_server({'server': body})
        return self._wait_for_state_change(server, 'ERROR')

    def _host_status(self, server_id, api=None):
        """host_status of a server, read from show and from detail.

        Asserts that both endpoints agree and returns the value; a missing
        field is returned as None.
        """
        api = api or self.admin_api
        shown = api.get_server(server_id).get('host_status')
        listed = [server.get('host_status')
                  for server in api.get_servers(detail=True)
                  if server['id'] == server_id]
        self.assertEqual([shown], listed,
                         'GET /servers/{id} and /servers/detail disagree')
        return shown

    def _assert_host_status(self, expected, server_id, api=None):
        self.assertEqual(expected, self._host_status(server_id, api))


class GetValidServerStateTest(SeedTestBase):
    """Seed 000 "Get valid server state".

    host_status on GET /servers/{server_id} and GET /servers/detail from
    microversion 2.16: UP, UNKNOWN, DOWN, MAINTENANCE or "" (no host), DOWN
    beating MAINTENANCE beating UNKNOWN and UP, shown to admins by default.
    """

    def setUp(self):
        super().setUp()
        self.server = self._boot('host1')
        self.other_server = self._boot('host2')

    def test_up(self):
        """Enabled and reporting normally: UP."""
        self._assert_host_status(UP, self.server['id'])
        self._assert_host_status(UP, self.other_server['id'])

    def test_not_shown_before_2_16(self):
        with nova_utils.temporary_mutation(self.admin_api,
                                           microversion='2.15'):
            self.assertNotIn('host_status',
                             self.admin_api.get_server(self.server['id']))
        with nova_utils.temporary_mutation(self.admin_api,
                                           microversion='2.16'):
            self._assert_host_status(UP, self.server['id'])

    def test_not_shown_to_the_owner_by_default(self):
        """Default policy: admin only (the NFV sample changes that)."""
        for api in (self.member_api, self.reader_api):
            self.assertNotIn('host_status',
                             api.get_server(self.server['id']))
            for server in api.get_servers(detail=True):
                self.assertNotIn('host_status', server)

    def test_unknown_when_heartbeat_is_older_than_service_down_time(self):
        """Enabled, but not reporting normally: UNKNOWN."""
        self._stop_heartbeat('host1')
        self._assert_host_status(UNKNOWN, self.server['id'])
        self.assertEqual('down', self._service('host1')['state'])
        # The other host is not affected.
        self._assert_host_status(UP, self.other_server['id'])

    def test_down_when_forced_down_through_os_services(self):
        """Enabled, but forced_down: DOWN; unsetting it brings back UP."""
        self._force_down('host1', True)
        self._assert_host_status(DOWN, self.server['id'])
        self._assert_host_status(UP, self.other_server['id'])
        self._force_down('host1', False)
        self._assert_host_status(UP, self.server['id'])

    def test_down_when_reported_down_through_os_hosts(self):
        """This package's one-call report forces the service down: DOWN."""
        self._report_host_down('host1')
        self._assert_host_status(DOWN, self.server['id'])
        self.assertTrue(self._service('host1')['forced_down'])
        self._assert_host_status(UP, self.other_server['id'])
        self._put_host('host1', {'host_down_reported': False})
        self._assert_host_status(UP, self.server['id'])

    def test_maintenance_when_disabled_through_os_services(self):
        """nova-compute disabled: MAINTENANCE; enabling brings back UP."""
        self._disable('host1', reason='firmware upgrade')
        self._assert_host_status(MAINTENANCE, self.server['id'])
        self._assert_host_status(UP, self.other_server['id'])
        self._enable('host1')
        self._assert_host_status(UP, self.server['id'])

    def test_maintenance_when_in_maintenance_mode_through_os_hosts(self):
        """This package's maintenance mode disables nova-compute."""
        self._put_host('host1', {'maintenance_mode': 'enable'})
        self._assert_host_status(MAINTENANCE, self.server['id'])
        self._put_host('host1', {'maintenance_mode': 'disable'})
        self._assert_host_status(UP, self.server['id'])

    def test_no_host_after_failed_scheduling(self):
        """A server that no host could take: empty string."""
        server = self._boot_unschedulable()
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])
        self._assert_host_status(NO_HOST, server['id'])

    def test_no_host_when_shelved_offloaded(self):
        """A shelved-offloaded server has no host: empty string."""
        server = self._shelve_server(self.server)
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])
        self._assert_host_status(NO_HOST, server['id'])
        # Whatever happens to its former host.
        self._force_down('host1', True)
        self._assert_host_status(NO_HOST, server['id'])

    def test_precedence_with_a_silent_host(self):
        """DOWN beats MAINTENANCE beats UNKNOWN, through os-services."""
        self._stop_heartbeat('host1')
        self._assert_host_status(UNKNOWN, self.server['id'])
        self._disable('host1')
        self._assert_host_status(MAINTENANCE, self.server['id'])
        self._force_down('host1', True)
        self._assert_host_status(DOWN, self.server['id'])
        # And back down the list.
        self._force_down('host1', False)
        self._assert_host_status(MAINTENANCE, self.server['id'])
        self._enable('host1')
        self._assert_host_status(UNKNOWN, self.server['id'])

    def test_precedence_with_maintenance_mode_and_host_down_report(self):
        """DOWN beats MAINTENANCE, which beats UP (this package's API)."""
        self._put_host('host1', {'maintenance_mode': 'enable'})
        self._assert_host_status(MAINTENANCE, self.server['id'])
        self._report_host_down('host1')
        self._assert_host_status(DOWN, self.server['id'])
        self._put_host('host1', {'host_down_reported': False})
        self._assert_host_status(MAINTENANCE, self.server['id'])
        self._put_host('host1', {'maintenance_mode': 'disable'})
        self._assert_host_status(UP, self.server['id'])

    def test_one_detail_list_holds_every_value(self):
        """One /servers/detail response: each server its host's status."""
        maintained = self._boot('host2')
        unscheduled = self._boot_unschedulable()
        self._report_host_down('host1')
        self._put_host('host2', {'maintenance_mode': 'enable'})
        expected = {self.server['id']: DOWN,
                    self.other_server['id']: MAINTENANCE,
                    maintained['id']: MAINTENANCE,
                    unscheduled['id']: NO_HOST}
        listed = {server['id']: server['host_status']
                  for server in self.admin_api.get_servers(detail=True)}
        self.assertEqual(expected, listed)


class ManualsTest(SeedTestBase):
    """Seed 001, the user manuals: their REST examples, as written.

    Hosts are named as in the manuals; requests use the project-scoped URLs
    (/v2.1/{tenant_id}/...) and the one microversion header of the manuals.
    """

    HOSTS = ('compute1', 'compute2')

    def _show_2_16(self, server_id):
        response = self._raw_request('GET', '/servers/%s' % server_id,
                                     version='2.16', project_in_url=True)
        self.assertEqual(200, response.status_code)
        self.assertEqual('2.16',
                         response.headers['X-OpenStack-Nova-API-Version'])
        return response.json()['server']

    def _force_down_2_11(self, forced_down):
        response = self._raw_request(
            'PUT', '/os-services/force-down',
            {'binary': 'nova-compute', 'host': 'compute1',
             'forced_down': forced_down},
            version='2.11', project_in_url=True)
        self.assertEqual(200, response.status_code)
        self.assertEqual('2.11',
                         response.headers['X-OpenStack-Nova-API-Version'])
        return response

    def test_get_valid_server_state_examples(self):
        """The four cases of the get-valid-server-state manual."""
        server_id = self._boot('compute1')['id']
        # Enabled and reporting normally.
        self.assertEqual(UP, self._show_2_16(server_id)['host_status'])
        # Enabled, but forced_down.
        self._force_down_2_11(True)
        self.assertEqual(DOWN, self._show_2_16(server_id)['host_status'])
        self._force_down_2_11(False)
        # Disabled.
        self._disable('compute1')
        self.assertEqual(MAINTENANCE,
                         self._show_2_16(server_id)['host_status'])
        self._enable('compute1')
        # Enabled, but not reporting normally.
        self._stop_heartbeat('compute1')
        self.assertEqual(UNKNOWN, self._show_2_16(server_id)['host_status'])

    def test_mark_host_down_examples(self):
        """Forcing down and disabling forced down, as the curl examples."""
        response = self._force_down_2_11(True)
        self.assertEqual(
            b'{"service": {"host": "compute1", "binary": "nova-compute", '
            b'"forced_down": true}}',
            response.content)
        self.assertEqual('down', self._service('compute1')['state'])

        response = self._force_down_2_11(False)
        self.assertEqual(
            b'{"service": {"host": "compute1", "binary": "nova-compute", '
            b'"forced_down": false}}',
            response.content)
        self.assertEqual('up', self._service('compute1')['state'])


class MarkHostDownTest(SeedTestBase):
    """Seed 003 "Mark nova-compute down".

    PUT /os-services/force-down at microversions 2.11 to 2.52, PUT
    /os-services/{service_id} from 2.53, forced_down in GET /os-services, a
    forced-down service stays down whatever its heartbeats, and evacuation
    can start at once.
    """

    def _force_down_2_11(self, forced_down, host='host1'):
        """The seed's request, as its curl example sends it."""
        return self._raw_request(
            'PUT', '/os-services/force-down',
            {'binary': 'nova-compute', 'host': host,
             'forced_down': forced_down},
            version='2.11', project_in_url=True)

    def _services_2_11(self):
        with nova_utils.temporary_mutation(self.admin_api,
                                           microversion='2.11'):
            return {service['host']: service
                    for service in self.admin_api.get_services(
                        binary='nova-compute')}

    def test_seed_request_and_response_at_2_11(self):
        server = self._boot('host1')

        response = self._force_down_2_11(True)
        self.assertEqual(200, response.status_code)
        self.assertEqual('2.11',
                         response.headers['X-OpenStack-Nova-API-Version'])
        self.assertEqual(
            b'{"service": {"host": "host1", "binary": "nova-compute", '
            b'"forced_down": true}}',
            response.content)
        self.assertEqual(
            {'service': {'host': 'host1', 'binary': 'nova-compute',
                         'forced_down': True}},
            response.json())

        services = self._services_2_11()
        self.assertIs(True, services['host1']['forced_down'])
        self.assertEqual('down', services['host1']['state'])
        self.assertEqual('enabled', services['host1']['status'])
        self.assertIs(False, services['host2']['forced_down'])
        self.assertEqual('up', services['host2']['state'])
        self._assert_host_status(DOWN, server['id'])

        response = self._force_down_2_11(False)
        self.assertEqual(200, response.status_code)
        self.assertEqual(
            b'{"service": {"host": "host1", "binary": "nova-compute", '
            b'"forced_down": false}}',
            response.content)
        services = self._services_2_11()
        self.assertIs(False, services['host1']['forced_down'])
        self.assertEqual('up', services['host1']['state'])
        self._assert_host_status(UP, server['id'])

    def test_forced_down_not_listed_before_2_11(self):
        with nova_utils.temporary_mutation(self.admin_api,
                                           microversion='2.10'):
            service = self._service('host1')
        self.assertNotIn('forced_down', service)

    def test_force_down_action_before_2_11_is_refused(self):
        response = self._raw_request(
            'PUT', '/os-services/force-down',
            {'binary': 'nova-compute', 'host': 'host1', 'forced_down': True},
            version='2.10')
        self.assertEqual(400, response.status_code)
        self.assertEqual(
            "Additional properties are not allowed ('forced_down' was "
            "unexpected)", response.json()['badRequest']['message'])
        self.assertIs(False, self._service('host1')['forced_down'])

    def test_force_down_action_up_to_2_52(self):
        response = self._raw_request(
            'PUT', '/os-services/force-down',
            {'binary': 'nova-compute', 'host': 'host1', 'forced_down': True},
            version='2.52')
        self.assertEqual(200, response.status_code)
        self.assertEqual({'service': {'host': 'host1',
                                      'binary': 'nova-compute',
                                      'forced_down': True}},
                         response.json())
        self.assertIs(True, self._service('host1')['forced_down'])

    def test_force_down_action_is_gone_at_2_53(self):
        """From 2.53 the path segment is a service id (a UUID)."""
        response = self._raw_request(
            'PUT', '/os-services/force-down',
            {'forced_down': True}, version='2.53')
        self.assertEqual(400, response.status_code)
        self.assertEqual('Invalid uuid force-down',
                         response.json()['badRequest']['message'])
        self.assertIs(False, self._service('host1')['forced_down'])

    def test_force_down_by_service_id_from_2_53(self):
        server = self._boot('host1')
        service = self._service('host1')

        updated = self._force_down('host1', True)
        # Stock Nova saves the service row, which moves updated_at.
        self.assertIn('updated_at', updated)
        del updated['updated_at']
        self.assertEqual(
            {'id': service['id'], 'binary': 'nova-compute', 'host': 'host1',
             'zone': 'nova', 'status': 'enabled', 'state': 'down',
             'disabled_reason': None, 'forced_down': True},
            updated)
        self._assert_host_status(DOWN, server['id'])

        updated = self._force_down('host1', False)
        self.assertEqual('up', updated['state'])
        self.assertIs(False, updated['forced_down'])
        self._assert_host_status(UP, server['id'])

    def test_heartbeats_cannot_bring_a_forced_down_service_up(self):
        server = self._boot('host1')
        self._force_down('host1', True)
        compute = self.computes['host1']
        with base.cell_context(self) as cctxt:
            before = objects.Service.get_by_compute_host(cctxt, 'host1')
            # One heartbeat of the running nova-compute, as its timer sends.
            compute.servicegroup_api._driver._report_state(compute)
            after = objects.Service.get_by_compute_host(cctxt, 'host1')
        self.assertEqual(before.report_count + 1, after.report_count)
        self.assertTrue(after.forced_down)
        service = self._service('host1')
        self.assertEqual('down', service['state'])
        self.assertIs(True, service['forced_down'])
        self._assert_host_status(DOWN, server['id'])

    def test_evacuate_at_once_then_unset_after_restart(self):
        """The manual's flow: force down, evacuate, recover, unset."""
        server = self._boot('host1')
        self._force_down('host1', True)
        # No wait for service_down_time: the service is down now.
        server = self._evacuate_server(server, expected_host='host2')
        self._assert_host_status(UP, server['id'])

        # Stock Nova refuses to unset forced_down while the evacuated
        # instance may still be on host1's disks.
        service_id = self._service('host1')['id']
        response = self.admin_api.api_put(
            '/os-services/%s' % service_id, {'forced_down': False},
            check_response_status=[400])
        self.assertIn('done` evacuation migration records remain',
                      response.body['badRequest']['message'])

        # Restarting nova-compute on the recovered host completes the
        # evacuation (it deletes the local copy), then unset works.
        self.computes['host1'] = self.restart_compute_service(
            self.computes['host1'])
        self._wait_for_migration_status(server, ['completed'])
        self.assertIs(False, self._force_down('host1', False)['forced_down'])
        self.assertEqual('up', self._service('host1')['state'])


class HypervisorStatusTest(SeedTestBase):
    """Seed 002 "Return hypervisor node status".

    state and status in the os-hypervisors list, detail and show;
    service.disabled_reason in detail and show.
    """

    def _hypervisors(self, path='/os-hypervisors', version=None):
        api = self.admin_api
        with nova_utils.temporary_mutation(api,
                                           microversion=version or 'latest'):
            hypervisors = api.api_get(path).body['hypervisors']
        return {hypervisor['hypervisor_hostname']: hypervisor
                for hypervisor in hypervisors}

    def _show(self, host, version=None):
        hypervisor_id = self._hypervisors(version=version)[host]['id']
        api = self.admin_api
        with nova_utils.temporary_mutation(api,
                                           microversion=version or 'latest'):
            return api.api_get(
                '/os-hypervisors/%s' % hypervisor_id).body['hypervisor']

    def _assert_status(self, host, state, status, disabled_reason):
        listed = self._hypervisors()[host]
        self.assertEqual((state, status),
                         (listed['state'], listed['status']))
        detailed = self._hypervisors('/os-hypervisors/detail')[host]
        shown = self._show(host)
        service_id = self._service(host)['id']
        for hypervisor in (detailed, shown):
            self.assertEqual((state, status),
                             (hypervisor['state'], hypervisor['status']))
            self.assertEqual({'id': service_id, 'host': host,
                              'disabled_reason': disabled_reason},
                             hypervisor['service'])

    def test_seed_shape_at_2_1(self):
        """The response bodies of the seed, at the first v2.1 version."""
        listed = self._hypervisors(version='2.1')
        self.assertEqual({'host1', 'host2'}, set(listed))
        for host, hypervisor in listed.items():
            self.assertEqual(
                {'id': hypervisor['id'], 'hypervisor_hostname': host,
                 'state': 'up', 'status': 'enabled'},
                hypervisor)
            self.assertIsInstance(hypervisor['id'], int)

        shown = self._show('host1', version='2.1')
        self.assertEqual('up', shown['state'])
        self.assertEqual('enabled', shown['status'])
        with nova_utils.temporary_mutation(self.admin_api,
                                           microversion='2.1'):
            service_id = self._service('host1')['id']
        self.assertEqual({'host': 'host1', 'id': service_id,
                          'disabled_reason': None}, shown['service'])
        for field in ('vcpus', 'memory_mb', 'local_gb', 'vcpus_used',
                      'memory_mb_used', 'local_gb_used', 'free_ram_mb',
                      'free_disk_gb', 'current_workload', 'running_vms',
                      'disk_available_least', 'hypervisor_type',
                      'hypervisor_version', 'host_ip', 'cpu_info'):
            self.assertIn(field, shown)

    def test_up_and_enabled(self):
        self._assert_status('host1', 'up', 'enabled', None)
        self._assert_status('host2', 'up', 'enabled', None)

    def test_disabled_with_a_reason(self):
        self._disable('host1', reason='firmware upgrade')
        self._assert_status('host1', 'up', 'disabled', 'firmware upgrade')
        self._assert_status('host2', 'up', 'enabled', None)
        self._enable('host1')
        self._assert_status('host1', 'up', 'enabled', None)

    def test_maintenance_mode(self):
        self._put_host('host1', {'maintenance_mode': 'enable'})
        self._assert_status('host1', 'up', 'disabled', MAINTENANCE_REASON)
        self._put_host('host1', {'maintenance_mode': 'disable'})
        self._assert_status('host1', 'up', 'enabled', None)

    def test_forced_down(self):
        self._force_down('host1', True)
        self._assert_status('host1', 'down', 'enabled', None)
        self._assert_status('host2', 'up', 'enabled', None)
        self._force_down('host1', False)
        self._assert_status('host1', 'up', 'enabled', None)

    def test_reported_down(self):
        """Seed 004's example: nova-compute state down, status enabled."""
        self._report_host_down('host1')
        self._assert_status('host1', 'down', 'enabled', None)

    def test_reported_down_in_maintenance(self):
        self._put_host('host1', {'maintenance_mode': 'enable'})
        self._report_host_down('host1')
        self._assert_status('host1', 'down', 'disabled', MAINTENANCE_REASON)

    def test_silent_host(self):
        self._stop_heartbeat('host1')
        self._assert_status('host1', 'down', 'enabled', None)
        self._assert_status('host2', 'up', 'enabled', None)
