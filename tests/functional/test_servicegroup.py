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

"""The forced_down-aware ServiceGroup drivers in running Nova services.

The services run in this process, so installing the drivers before they
start is what the nova-hoststatus entry points do before Nova's own code
runs in each process. The stock test case shows what the assertions would
see without them.
"""

from unittest import mock

import fixtures

from nova import objects
from nova.scheduler.filters import compute_filter
from nova.servicegroup import api as servicegroup_api
from nova.servicegroup.drivers import db as nova_db
from nova.servicegroup.drivers import mc as nova_mc

import nova_hoststatus.servicegroup
from nova_hoststatus.servicegroup.drivers import db
from nova_hoststatus.servicegroup.drivers import mc
from tests.functional import base
from tests.unit.test_servicegroup import FakeMemcacheClient


class _ServiceGroupTestBase(base.HostStatusTestBase):

    servicegroup_driver = 'db'
    install = True
    # What the running services are expected to use.
    driver_class = db.DbDriver
    stock_class = nova_db.DbDriver

    def _setup_services(self):
        self.flags(servicegroup_driver=self.servicegroup_driver)
        # Nova's table comes back as it was after the test.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.servicegroup.api._driver_name_class_mapping',
            dict(servicegroup_api._driver_name_class_mapping)))
        # Each process logs its driver once; here they are one process.
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.servicegroup.drivers.base.ForcedDownMixin.'
            '_announced', False))
        if self.install:
            nova_hoststatus.servicegroup.install()
        super()._setup_services()

    def _running_drivers(self):
        """The driver of every servicegroup API the services hold."""
        scheduler = self.scheduler.manager
        [compute_filter_obj] = [
            f for f in scheduler.host_manager.enabled_filters
            if isinstance(f, compute_filter.ComputeFilter)]
        drivers = {
            'scheduler': scheduler.servicegroup_api,
            'scheduler ComputeFilter': compute_filter_obj.servicegroup_api,
            'conductor': (
                self.conductor.manager.compute_task_mgr.servicegroup_api),
        }
        for host, compute in self.computes.items():
            drivers['%s heartbeat' % host] = compute.servicegroup_api
            drivers['%s compute API' % host] = (
                compute.manager.compute_api.servicegroup_api)
        return {name: api._driver for name, api in drivers.items()}

    def _heartbeat(self, host):
        """One heartbeat of the compute service, as its timer runs it."""
        compute = self.computes[host]
        compute.servicegroup_api._driver._report_state(compute)

    def _db_service(self, host):
        with base.cell_context(self) as cctxt:
            return objects.Service.get_by_compute_host(cctxt, host)

    def _force_down(self, host, forced_down):
        service_id = self._compute_service(host)['id']
        return self.admin_api.put_service_force_down(service_id, forced_down)

    def _host_status(self, server):
        return self.admin_api.get_server(server['id'])['host_status']


class ServiceGroupDriverTest(_ServiceGroupTestBase):
    """The database driver subclass, selected as the entry points do."""

    def test_services_use_the_subclass(self):
        for name, driver in self._running_drivers().items():
            self.assertIs(self.driver_class, type(driver), name)
        # What an operator finds in the log of each process.
        self.assertIn('ServiceGroup driver %s.%s in use' % (
            self.driver_class.__module__, self.driver_class.__name__),
            self.stdlog.logger.output)

    def test_api_uses_the_subclass(self):
        server = self._boot('host1')
        calls = []
        real_is_up = self.driver_class.is_up

        def is_up(driver, service_ref):
            calls.append((type(driver), service_ref['host']))
            return real_is_up(driver, service_ref)

        # Calls while the API serves this request are the API's.
        with mock.patch.object(self.driver_class, 'is_up', is_up):
            self.assertEqual('UP', self._host_status(server))
        self.assertEqual([(self.driver_class, 'host1')], calls)

    def test_heartbeats_do_not_bring_forced_down_service_up(self):
        server = self._boot('host1')
        self._heartbeat('host1')
        before = self._db_service('host1')
        self._force_down('host1', True)
        self._heartbeat('host1')

        service = self._db_service('host1')
        # The heartbeat was recorded, and the service is down anyway.
        self.assertGreater(service.report_count, before.report_count)
        self.assertGreater(service.last_seen_up, before.last_seen_up)
        self.assertTrue(self.stock_class().is_up(service))
        driver = self.scheduler.manager.servicegroup_api._driver
        self.assertFalse(driver.is_up(service))
        self.assertEqual('down', self._compute_service('host1')['state'])
        self.assertEqual('DOWN', self._host_status(server))
        self.assertIn('nova-compute on host host1 is forced down but running',
                      self.stdlog.logger.output)

        # Unset, the fresh heartbeat makes it up at once.
        self._force_down('host1', False)
        self.assertEqual('up', self._compute_service('host1')['state'])
        self.assertEqual('UP', self._host_status(server))
        self._heartbeat('host1')
        self.assertIn('nova-compute on host host1 is no longer forced down',
                      self.stdlog.logger.output)

    def test_scheduler_skips_forced_down_host_with_fresh_heartbeat(self):
        # nova.servicegroup.api.API checks forced_down too, so this holds
        # with Nova's drivers as well; test_services_use_the_subclass shows
        # the scheduler asks the subclass.
        self._force_down('host1', True)
        self._heartbeat('host1')

        body = self._build_server(networks='none', host='host1')
        server = self.admin_api.post_server({'server': body})
        server = self._wait_for_state_change(server, 'ERROR')
        self.assertIn('No valid host', server['fault']['message'])
        server = self._boot(None)
        self.assertEqual('host2', server['OS-EXT-SRV-ATTR:host'])

        self._force_down('host1', False)
        server = self._boot('host1')
        self.assertEqual('host1', server['OS-EXT-SRV-ATTR:host'])


class MemcachedDriverTest(ServiceGroupDriverTest):
    """The memcache driver subclass, on a fake memcache client."""

    servicegroup_driver = 'mc'
    driver_class = mc.MemcachedDriver
    stock_class = nova_mc.MemcachedDriver

    def setUp(self):
        self.mc = FakeMemcacheClient()
        self.useFixture(fixtures.MockPatch(
            'nova.cache_utils.get_memcached_client', return_value=self.mc))
        super().setUp()

    def _setup_compute_service(self):
        super()._setup_compute_service()
        # The scheduler wants a key before the first timed heartbeat.
        for host in self.HOSTS:
            self._heartbeat(host)

    def test_heartbeats_do_not_bring_forced_down_service_up(self):
        server = self._boot('host1')
        self._force_down('host1', True)
        self.mc.cache.clear()
        self._heartbeat('host1')

        service = self._db_service('host1')
        # The key was refreshed, and the service is down anyway.
        self.assertIn('compute:host1', self.mc.cache)
        self.assertTrue(self.stock_class().is_up(service))
        driver = self.scheduler.manager.servicegroup_api._driver
        self.assertFalse(driver.is_up(service))
        self.assertEqual('down', self._compute_service('host1')['state'])
        self.assertEqual('DOWN', self._host_status(server))

        self._force_down('host1', False)
        self.assertEqual('up', self._compute_service('host1')['state'])
        self.assertEqual('UP', self._host_status(server))


class StockServiceGroupDriverTest(_ServiceGroupTestBase):
    """Without install(), what the tests above tell apart."""

    install = False

    def test_services_use_the_stock_driver(self):
        for name, driver in self._running_drivers().items():
            self.assertIs(self.stock_class, type(driver), name)

    def test_stock_driver_reports_forced_down_service_up(self):
        self._force_down('host1', True)
        self._heartbeat('host1')
        driver = self.scheduler.manager.servicegroup_api._driver
        # Only nova.servicegroup.api.API checks forced_down.
        self.assertTrue(driver.is_up(self._db_service('host1')))
        self.assertEqual('down', self._compute_service('host1')['state'])
