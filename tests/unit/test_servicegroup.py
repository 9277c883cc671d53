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

"""The forced_down-aware ServiceGroup drivers, install() and entry points."""

import datetime
import importlib.util
import sys
from unittest import mock

import fixtures
from oslo_utils import timeutils

from nova import objects
from nova import servicegroup
from nova.servicegroup import api as servicegroup_api
from nova.servicegroup.drivers import db as nova_db
from nova.servicegroup.drivers import mc as nova_mc
from nova import test

import nova_hoststatus.servicegroup
from nova_hoststatus.servicegroup import cmd
from nova_hoststatus.servicegroup.drivers import db
from nova_hoststatus.servicegroup.drivers import mc

from tests.unit import test_compat


def _service_ref(forced_down=False, seen_ago=0):
    now = timeutils.utcnow(with_timezone=True)
    return objects.Service(
        id=1, host='host1', binary='nova-compute', topic='compute',
        report_count=3, forced_down=forced_down, disabled=False,
        created_at=now - datetime.timedelta(days=1), updated_at=now,
        last_seen_up=now - datetime.timedelta(seconds=seen_ago))


def _service(service_ref):
    # What nova.service.Service gives the driver: no heartbeat timer.
    return mock.Mock(service_ref=service_ref, report_interval=0,
                     model_disconnected=False)


class FakeMemcacheClient(object):
    """nova.cache_utils.CacheClient without memcached or expiry."""

    def __init__(self):
        self.cache = {}

    def get(self, key):
        return self.cache.get(key)

    def set(self, key, value):
        self.cache[key] = value
        return True


class SelectionFixture(fixtures.Fixture):
    """Give Nova's driver table back as it was, whatever a test does."""

    def _setUp(self):
        self.table = dict(servicegroup_api._driver_name_class_mapping)
        self.useFixture(fixtures.MonkeyPatch(
            'nova.servicegroup.api._driver_name_class_mapping', self.table))


class _DriverTestMixin(object):
    """What both drivers guarantee; subclasses set up driver and stock."""

    def _fresh(self, service_ref):
        """Make service_ref's heartbeat fresh for the driver under test."""
        raise NotImplementedError()

    def test_forced_down_with_fresh_heartbeat_is_down(self):
        ref = _service_ref(forced_down=True)
        self._fresh(ref)
        self.assertFalse(self.driver.is_up(ref))
        # What the subclass changes: Nova's driver reports it up.
        self.assertTrue(self.stock.is_up(ref))

    def test_forced_down_as_dict_is_down(self):
        # Over RPC, members arrive as primitives.
        ref = _service_ref(forced_down=True)
        self._fresh(ref)
        self.assertFalse(self.driver.is_up(dict(ref)))

    def test_fresh_heartbeat_is_up(self):
        ref = _service_ref()
        self._fresh(ref)
        self.assertTrue(self.driver.is_up(ref))

    def test_join_warns_when_forced_down(self):
        self.driver.join('host1', 'compute',
                         _service(_service_ref(forced_down=True)))
        self.assertIn('nova-compute on host host1 is forced down but '
                      'running', self.stdlog.logger.output)

    def test_join_silent_when_not_forced_down(self):
        self.driver.join('host1', 'compute', _service(_service_ref()))
        self.assertNotIn('is forced down but running',
                         self.stdlog.logger.output)

    def test_logs_driver_once_per_process(self):
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.servicegroup.drivers.base.ForcedDownMixin.'
            '_announced', False))
        type(self.driver)()
        type(self.driver)()
        self.assertEqual(1, self.stdlog.logger.output.count(
            'ServiceGroup driver %s.%s in use' % (
                type(self.driver).__module__, type(self.driver).__name__)))


class DbDriverTestCase(_DriverTestMixin, test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.driver = db.DbDriver()
        self.stock = nova_db.DbDriver()

    def _fresh(self, service_ref):
        service_ref.last_seen_up = timeutils.utcnow(with_timezone=True)

    def test_stale_heartbeat_is_down(self):
        ref = _service_ref(seen_ago=self.driver.service_down_time + 1)
        self.assertFalse(self.driver.is_up(ref))

    def _report(self, service, forced_down_in_db):
        """Run a heartbeat; forced_down_in_db is what save() reads back."""
        ref = service.service_ref

        def save():
            ref.forced_down = forced_down_in_db

        with mock.patch.object(ref, 'save', side_effect=save) as mock_save:
            self.driver._report_state(service)
        mock_save.assert_called_once_with()

    def test_report_state_while_forced_down(self):
        ref = _service_ref()
        service = _service(ref)

        self._report(service, forced_down_in_db=True)
        # The heartbeat is still written, and the service is down.
        self.assertEqual(4, ref.report_count)
        self.assertTrue(ref.forced_down)
        self.assertFalse(self.driver.is_up(ref))
        output = self.stdlog.logger.output
        self.assertEqual(1, output.count('is forced down but running'))

        # Warned once, not at every heartbeat.
        self._report(service, forced_down_in_db=True)
        self.assertEqual(5, ref.report_count)
        self.assertEqual(output, self.stdlog.logger.output)

        self._report(service, forced_down_in_db=False)
        self.assertEqual(6, ref.report_count)
        self.assertTrue(self.driver.is_up(ref))
        self.assertIn('nova-compute on host host1 is no longer forced down',
                      self.stdlog.logger.output)

    def test_report_state_failure_changes_nothing(self):
        ref = _service_ref(forced_down=True)
        service = _service(ref)
        with mock.patch.object(ref, 'save', side_effect=ValueError):
            self.driver._report_state(service)
        # Nova's driver handled the error; forced_down is as it was.
        self.assertTrue(service.model_disconnected)
        self.assertTrue(ref.forced_down)
        self.assertNotIn('no longer forced down', self.stdlog.logger.output)


class MemcachedDriverTestCase(_DriverTestMixin, test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.mc = FakeMemcacheClient()
        self.useFixture(fixtures.MockPatch(
            'nova.cache_utils.get_memcached_client', return_value=self.mc))
        self.driver = mc.MemcachedDriver()
        self.stock = nova_mc.MemcachedDriver()

    def _fresh(self, service_ref):
        self.mc.set('compute:host1', timeutils.utcnow())

    def test_no_key_is_down(self):
        self.assertFalse(self.driver.is_up(_service_ref()))

    def test_report_state_refreshes_key_while_forced_down(self):
        # Learning forced_down would cost a database read per heartbeat;
        # is_up ignores the key while forced down instead.
        ref = _service_ref(forced_down=True)
        self.driver._report_state(_service(ref))
        self.assertIsNotNone(self.mc.get('compute:host1'))
        self.assertFalse(self.driver.is_up(ref))
        ref.forced_down = False
        self.assertTrue(self.driver.is_up(ref))


class InstallTestCase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.table = self.useFixture(SelectionFixture()).table
        self.useFixture(fixtures.MockPatch(
            'nova.cache_utils.get_memcached_client',
            return_value=FakeMemcacheClient()))

    def _driver(self, name):
        self.flags(servicegroup_driver=name)
        return servicegroup.API()._driver

    def test_stock_without_install(self):
        self.assertIs(nova_db.DbDriver, type(self._driver('db')))
        self.assertIs(nova_mc.MemcachedDriver, type(self._driver('mc')))

    def test_install(self):
        nova_hoststatus.servicegroup.install()
        self.assertIs(db.DbDriver, type(self._driver('db')))
        self.assertIs(mc.MemcachedDriver, type(self._driver('mc')))
        self.assertEqual(nova_hoststatus.servicegroup.DRIVERS, self.table)

    def test_install_twice(self):
        nova_hoststatus.servicegroup.install()
        nova_hoststatus.servicegroup.install()
        self.assertEqual(nova_hoststatus.servicegroup.DRIVERS, self.table)

    def test_install_leaves_a_driver_it_does_not_extend(self):
        """A Nova upgrade remapped it: the service runs Nova's, warned."""
        mc_path = 'nova.servicegroup.drivers.mc.MemcachedDriver'
        self.table['db'] = mc_path
        log = self.useFixture(fixtures.FakeLogger())

        self.assertEqual(['mc'], nova_hoststatus.servicegroup.install())

        self.assertEqual(mc_path, self.table['db'])
        self.assertIn("running Nova's driver", log.output)

    def test_install_runs_stock_without_the_table(self):
        """A Nova upgrade renamed the table: the service still starts."""
        self.useFixture(fixtures.MonkeyPatch(
            'nova.servicegroup.api._driver_name_class_mapping', None))
        log = self.useFixture(fixtures.FakeLogger())

        self.assertEqual([], nova_hoststatus.servicegroup.install())

        self.assertIn("running Nova's own ServiceGroup drivers", log.output)

    def test_install_skips_a_backend_nova_dropped(self):
        del self.table['mc']
        nova_hoststatus.servicegroup.install()
        self.assertEqual(
            {'db': nova_hoststatus.servicegroup.DRIVERS['db']}, self.table)


class EntryPointTestCase(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.table = self.useFixture(SelectionFixture()).table
        self.stock = dict(self.table)
        # The test runner has monkey patched already; Nova's entry modules
        # must not try to patch again (Nova 31 has no patch(): it patched
        # when the test runner imported it).
        self.useFixture(fixtures.MockPatch('nova.monkey_patch.patch',
                                           create=True))
        # Nova 31's entry modules register command-line options when
        # imported, which the test's parsed configuration refuses.
        if importlib.util.find_spec('nova.conf.remote_debug'):
            self.useFixture(fixtures.MockPatch(
                'nova.conf.remote_debug.register_cli_opts'))

    def _assert_installed(self, *args):
        self.assertEqual(nova_hoststatus.servicegroup.DRIVERS, self.table)
        return mock.sentinel.result

    def test_console_scripts_install_then_run_nova_main(self):
        for script, nova_cmd in ((cmd.compute, 'nova.cmd.compute'),
                                 (cmd.conductor, 'nova.cmd.conductor'),
                                 (cmd.scheduler, 'nova.cmd.scheduler')):
            self.table.update(self.stock)
            with mock.patch(nova_cmd + '.main',
                            side_effect=self._assert_installed) as main:
                self.assertIs(mock.sentinel.result, script())
            main.assert_called_once_with()

    def test_wsgi_installs_then_builds_nova_app(self):
        # Import both modules afresh; the originals come back at cleanup.
        modules = mock.patch.dict(sys.modules)
        modules.start()
        self.addCleanup(modules.stop)
        sys.modules.pop('nova.wsgi.osapi_compute', None)
        sys.modules.pop('nova_hoststatus.servicegroup.wsgi', None)
        init = self.useFixture(fixtures.MockPatch(
            'nova.api.openstack.wsgi_app.init_application',
            side_effect=self._assert_installed)).mock

        from nova_hoststatus.servicegroup import wsgi

        self.assertIs(mock.sentinel.result, wsgi.application)
        init.assert_called_once()
        # Nova 33 and 34 add the program's name, Nova 31 does not.
        self.assertEqual('osapi_compute', init.call_args.args[0])

    def test_entry_points_import_no_nova_module(self):
        # Nova monkey patches in its own entry modules: importing ours must
        # not import nova before them.
        self.assertEqual([], test_compat.nova_modules_imported_by(
            'nova_hoststatus.servicegroup.cmd'))
