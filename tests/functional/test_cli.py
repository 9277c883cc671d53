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

"""The OpenStackClient commands, against the functional Nova.

The commands run on a keystoneauth session whose auth plugin sends the
identity headers nova's functional API stub builds its request context from
(nova.tests.fixtures.OSAPIFixture._stub_keystone) in place of a token; the
requests go through wsgi-intercept to the real API, conductor and computes.
"""

import io
import json
import logging
import os
import types
import warnings

import fixtures
from keystoneauth1 import noauth
from keystoneauth1 import plugin as ksa_plugin
from keystoneauth1 import session as ksa_session
from openstackclient import shell
from osc_lib import exceptions

from nova.tests.fixtures import neutron as neutron_fixture
from nova.tests.functional import integrated_helpers

from nova_hoststatus.cli import plugin
from nova_hoststatus.cli.v1 import host as host_cli
from nova_hoststatus.cli.v1 import server as server_cli
from nova_hoststatus.demo import cloud
from tests.functional import base

SEED_COLUMNS = ['ID', 'Name', 'Status', 'Task State', 'Power State',
                'Networks', 'Host Status']


def _identity_headers(api):
    """What nova's keystone stub reads, for a TestOpenStackClient persona."""
    return {'X-Auth-User': api.auth_user,
            'X-User-Id': api.auth_user,
            'X-Auth-Project-Id': api.project_id,
            'X-Roles': ','.join(api.roles)}


class FunctionalNovaAuth(ksa_plugin.FixedEndpointPlugin):
    """The functional API's endpoint and a persona's identity headers."""

    def __init__(self, endpoint, api):
        super().__init__(endpoint)
        self.headers = _identity_headers(api)

    def get_headers(self, session, **kwargs):
        return dict(self.headers)


class FakeClientManager(object):
    """What make_client() reads of OSC's ClientManager."""

    region_name = None
    interface = 'public'

    def __init__(self, session):
        self.session = session

    def get_configuration(self):
        return {}


def _table(output):
    """The rows of a cliff table as dicts; values continue on next lines."""
    lines = [line for line in output.splitlines() if line.startswith('|')]
    header = [cell.strip() for cell in lines[0].strip('|').split('|')]
    rows = []
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip('|').split('|')]
        if cells[0] or not rows:
            rows.append(dict(zip(header, cells)))
        else:
            for name, cell in zip(header, cells):
                if cell:
                    rows[-1][name] += '\n' + cell
    return header, rows


def _fields(output):
    """A ShowOne table ('Field | Value') as a dict."""
    _header, rows = _table(output)
    return {row['Field']: row['Value'] for row in rows}


class CLITestBase(base.HostStatusTestBase):

    def _cli(self, command_class, *argv, api=None):
        """Run a command as OSC would; return what it printed."""
        session = ksa_session.Session(auth=FunctionalNovaAuth(
            self.api_fixture.base_url, api or self.admin_api))
        app = types.SimpleNamespace(
            client_manager=types.SimpleNamespace(
                hoststatus=plugin.make_client(FakeClientManager(session))),
            stdout=io.StringIO(),
            options=types.SimpleNamespace(debug=False))
        cmd = command_class(app, None)
        parsed_args = cmd.get_parser('openstack').parse_args(list(argv))
        self.assertEqual(0, cmd.run(parsed_args))
        return app.stdout.getvalue()

    def _set(self, *argv, **kwargs):
        return self._cli(host_cli.SetHostStatus, *argv, **kwargs)

    def _show(self, *argv, **kwargs):
        return self._cli(host_cli.ShowHostStatus, *argv, **kwargs)

    def _list(self, *argv, **kwargs):
        return self._cli(server_cli.ListServerHostStatus, *argv, **kwargs)

    def _host_statuses(self, *argv, **kwargs):
        _header, rows = _table(self._list(*argv, **kwargs))
        return {row['Name']: row['Host Status'] for row in rows}

    def _boot_on_port(self, host, name):
        port = neutron_fixture.NeutronFixture.port_1['id']
        body = self._build_server(name=name, networks=[{'port': port}],
                                  host=host)
        server = self.admin_api.post_server({'server': body})
        return self._wait_for_state_change(server, 'ACTIVE')


class CLITestCase(CLITestBase):

    def test_server_list_seed_columns_and_report_down(self):
        vm1 = self._boot_on_port('host1', 'vm1')
        vm2 = self._boot('host2', name='vm2')

        header, rows = _table(self._list())
        self.assertEqual(SEED_COLUMNS, header)
        by_name = {row['Name']: row for row in rows}
        self.assertEqual(
            {'ID': vm1['id'], 'Name': 'vm1', 'Status': 'ACTIVE',
             'Task State': '-', 'Power State': 'RUNNING',
             'Networks': 'private=192.168.1.3', 'Host Status': 'UP'},
            by_name['vm1'])
        self.assertEqual(
            {'ID': vm2['id'], 'Name': 'vm2', 'Status': 'ACTIVE',
             'Task State': '-', 'Power State': 'RUNNING', 'Networks': '',
             'Host Status': 'UP'},
            by_name['vm2'])

        shown = _fields(self._set('host1', '--report-down'))
        self.assertEqual('True', shown['host_down_reported'])
        self.assertEqual('down', shown['state'])
        self.assertEqual('%s (was active)' % vm1['id'],
                         shown['instances_changed'])
        self.assertEqual('', shown['instances_skipped'])

        _header, rows = _table(self._list())
        by_name = {row['Name']: row for row in rows}
        self.assertEqual(
            {'ID': vm1['id'], 'Name': 'vm1', 'Status': 'SHUTOFF',
             'Task State': '-', 'Power State': 'SHUTDOWN',
             'Networks': 'private=192.168.1.3', 'Host Status': 'DOWN'},
            by_name['vm1'])
        self.assertEqual('UP', by_name['vm2']['Host Status'])

        # Filtered to the host, as a fault monitor would look.
        self.assertEqual({'vm1': 'DOWN'},
                         self._host_statuses('--host', 'host1'))

    def test_update_flow(self):
        self._boot('host1', name='vm1')

        shown = _fields(self._set('host1', '--disable'))
        self.assertEqual(('disabled', 'disabled', 'False'),
                         (shown['status'], shown['maintenance_mode'],
                          shown['host_down_reported']))
        self.assertNotIn('instances_changed', shown)
        self.assertEqual({'vm1': 'MAINTENANCE'}, self._host_statuses())

        shown = _fields(self._set('host1', '--enable'))
        self.assertEqual('enabled', shown['status'])
        self.assertEqual({'vm1': 'UP'}, self._host_statuses())

        shown = _fields(self._set('host1', '--maintenance'))
        self.assertEqual(('disabled', 'enabled', 'maintenance_mode'),
                         (shown['status'], shown['maintenance_mode'],
                          shown['disabled_reason']))
        self.assertEqual({'vm1': 'MAINTENANCE'}, self._host_statuses())
        self.assertEqual(shown, _fields(self._show('host1')))

        shown = _fields(self._set('host1', '--no-maintenance'))
        self.assertEqual(('enabled', 'disabled'),
                         (shown['status'], shown['maintenance_mode']))
        self.assertEqual({'vm1': 'UP'}, self._host_statuses())

        self._set('host1', '--report-down')
        self.assertEqual({'vm1': 'DOWN'}, self._host_statuses())
        shown = _fields(self._set('host1', '--clear-down'))
        self.assertEqual(('False', 'up'),
                         (shown['host_down_reported'], shown['state']))
        self.assertNotIn('instances_changed', shown)
        self.assertEqual({'vm1': 'UP'}, self._host_statuses())

    def test_fenced_report_and_clear_with_restore(self):
        vm1 = self._boot('host1', name='vm1')

        shown = _fields(self._set('host1', '--report-down', '--fenced'))
        self.assertEqual(('True', 'True', 'False', 'None'),
                         (shown['host_down_reported'], shown['fenced'],
                          shown['contradicted'], shown['contradicted_at']))
        self.assertEqual(shown['reported_at'],
                         _fields(self._show('host1'))['reported_at'])
        self.assertEqual('%s pending (host1)' % vm1['id'],
                         _fields(self._show('host1'))['recovery'])

        # host1 never went down: its servers are started again, in place.
        host = json.loads(self._set('host1', '--clear-down', '--restore',
                                    '-f', 'json'))
        self.assertFalse(host['host_down_reported'])
        self.assertEqual([(vm1['id'], 'active', 'started')],
                         [(i['id'], i['pre_fault_vm_state'], i['result'])
                          for i in host['instances_restored']])
        self._wait_for_server_parameter(
            vm1, {'status': 'ACTIVE', 'OS-EXT-SRV-ATTR:host': 'host1'})

    def test_disable_with_a_reason(self):
        shown = _fields(self._set('host1', '--disable', '--reason',
                                  'firmware update'))

        self.assertEqual(('disabled', 'firmware update'),
                         (shown['status'], shown['disabled_reason']))

    def test_json_output(self):
        vm1 = self._boot('host1', name='vm1')

        host = json.loads(self._show('host1', '-f', 'json'))
        self.assertEqual(
            {'host': 'host1', 'status': 'enabled', 'state': 'up',
             'disabled_reason': None, 'maintenance_mode': 'disabled',
             'host_down_reported': False}, host)

        host = json.loads(self._set('host1', '--report-down', '--disable',
                                    '-f', 'json'))
        self.assertTrue(host['host_down_reported'])
        self.assertEqual('disabled', host['status'])
        self.assertEqual(
            [{'id': vm1['id'], 'project_id': vm1['tenant_id'],
              'old_vm_state': 'active', 'old_task_state': None,
              'old_power_state': 1}],
            host['instances_changed'])
        self.assertEqual([], host['instances_skipped'])

        # Reporting again changes nothing and says why.
        host = json.loads(self._set('host1', '--report-down', '-f', 'json'))
        self.assertEqual([], host['instances_changed'])
        self.assertEqual(['already_in_target_state'],
                         [i['reason'] for i in host['instances_skipped']])

        servers = json.loads(self._list('-f', 'json'))
        self.assertEqual(
            [{'ID': vm1['id'], 'Name': 'vm1', 'Status': 'SHUTOFF',
              'Task State': None, 'Power State': 4, 'Networks': {},
              'Host Status': 'DOWN'}],
            servers)

    def test_non_admin_is_forbidden(self):
        for argv in (('host1', '--report-down'), ('host1', '--disable')):
            exc = self.assertRaises(exceptions.CommandError, self._set,
                                    *argv, api=self.member_api)
            self.assertIn('Not allowed to update host host1 (HTTP 403): ',
                          str(exc))
            self.assertIn("Policy doesn't allow nova_hoststatus:os-hosts:",
                          str(exc))
        exc = self.assertRaises(exceptions.CommandError, self._show,
                                'host1', api=self.member_api)
        self.assertIn('Not allowed to show host host1 (HTTP 403): Policy',
                      str(exc))
        self.assertEqual('False',
                         _fields(self._show('host1'))['host_down_reported'])

    def test_unknown_host(self):
        for run in (lambda: self._show('host9'),
                    lambda: self._set('host9', '--report-down')):
            exc = self.assertRaises(exceptions.CommandError, run)
            self.assertIn('host host9: No nova-compute service runs on '
                          'host host9', str(exc))
            self.assertIn('(HTTP 404)', str(exc))

    def test_bad_request_and_conflict(self):
        exc = self.assertRaises(exceptions.CommandError, self._set, 'host1',
                                '--enable', '--maintenance')
        self.assertIn('Cannot update host host1: ', str(exc))
        self.assertIn('contradict each other', str(exc))
        self.assertIn('(HTTP 400)', str(exc))

        self._set('host1', '--disable')
        exc = self.assertRaises(exceptions.CommandError, self._set, 'host1',
                                '--maintenance')
        self.assertIn('cannot enter maintenance mode', str(exc))
        self.assertIn('(HTTP 409)', str(exc))

    def test_nothing_to_update(self):
        exc = self.assertRaises(exceptions.CommandError, self._set, 'host1')
        self.assertIn('Nothing to update', str(exc))

    def test_member_sees_no_host_status(self):
        # Members cannot pick a host.
        server = self.member_api.post_server(
            {'server': self._build_server(name='mine', networks='none')})
        self._wait_for_state_change(server, 'ACTIVE')
        with self.assertLogs(level=logging.WARNING) as logs:
            statuses = self._host_statuses(api=self.member_api)
        self.assertEqual({'mine': '-'}, statuses)
        self.assertIn('os_compute_api:servers:show:host_status',
                      '\n'.join(logs.output))
        exc = self.assertRaises(exceptions.CommandError, self._list,
                                '--all-projects', api=self.member_api)
        self.assertIn('Not allowed to list servers (HTTP 403): ', str(exc))


class StockNovaTestCase(CLITestBase):
    """A nova-api that does not load nova-hoststatus: the commands say so."""

    def _setup_services(self):
        self.flags(api_paste_config=cloud.stock_paste_config(),
                   group='wsgi')
        integrated_helpers._IntegratedTestBase._setup_services(self)

    def test_host_commands_say_the_api_is_missing(self):
        for run in (lambda: self._show('host1'),
                    lambda: self._set('host1', '--report-down'),
                    lambda: self._set('host1', '--disable')):
            exc = self.assertRaises(exceptions.CommandError, run)
            self.assertIn('is nova-hoststatus loaded into nova-api?',
                          str(exc))
        # Stock os-hosts update did not run either.
        service = self._compute_service('host1')
        self.assertEqual(('enabled', False),
                         (service['status'], service['forced_down']))
        # Listing servers needs stock Nova only.
        self._boot('host1', name='vm1')
        self.assertEqual({'vm1': 'UP'}, self._host_statuses())


class ShellTestBase(base.HostStatusTestBase):
    """The real `openstack` shell and its entry points, in process."""

    def setUp(self):
        super().setUp()
        for name in [n for n in os.environ if n.startswith('OS_')]:
            self.useFixture(fixtures.EnvironmentVariable(name))
        # Auth type 'none' takes the endpoint from --os-endpoint; the
        # headers stand in for a token.
        self.useFixture(fixtures.MockPatchObject(
            noauth.NoAuth, 'get_headers',
            return_value=_identity_headers(self.admin_api)))
        # The shell configures loggers and warning filters for the process.
        root = logging.getLogger()
        self.addCleanup(setattr, root, 'handlers', root.handlers[:])
        for name in ('', 'requests', 'cliff', 'stevedore', 'iso8601'):
            logger = logging.getLogger(name)
            self.addCleanup(logger.setLevel, logger.level)
        self.addCleanup(setattr, warnings, 'filters', warnings.filters[:])

    def _openstack(self, *argv):
        stdout = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                      io.StringIO())).new_value
        stderr = self.useFixture(fixtures.MonkeyPatch('sys.stderr',
                                                      io.StringIO())).new_value
        code = shell.main(['--os-auth-type', 'none',
                           '--os-endpoint', self.api_fixture.base_url] +
                          list(argv))
        return code, stdout.getvalue(), stderr.getvalue()


class OpenStackShellTestCase(ShellTestBase):
    """The plugin's commands through the real `openstack` shell."""

    def test_report_down_and_list(self):
        server = self._boot('host1', name='vm1')
        code, out, err = self._openstack('compute', 'host', 'status', 'set',
                                         'host1', '--report-down',
                                         '-f', 'json')
        self.assertEqual(0, code, err)
        self.assertEqual([server['id']],
                         [i['id'] for i in json.loads(out)
                          ['instances_changed']])

        code, out, err = self._openstack('server', 'host', 'status', 'list')
        self.assertEqual(0, code, err)
        header, rows = _table(out)
        self.assertEqual(SEED_COLUMNS, header)
        self.assertEqual([('vm1', 'SHUTOFF', 'SHUTDOWN', 'DOWN')],
                         [(r['Name'], r['Status'], r['Power State'],
                           r['Host Status']) for r in rows])

    def test_error_is_a_message_not_a_traceback(self):
        code, out, err = self._openstack('compute', 'host', 'status', 'show',
                                         'host9')
        self.assertEqual(1, code)
        self.assertEqual('', out)
        self.assertIn('Cannot show host host9: No nova-compute service runs '
                      'on host host9', err)
        self.assertNotIn('Traceback', err)


class StockHostCommandsTest(ShellTestBase):
    """OpenStackClient's own host commands, with and without the package.

    ``openstack host set`` sends stock os-hosts' flat body at 2.1: the same
    commands against a nova-api without the package, on the same services,
    print the same.
    """

    def test_same_results_with_and_without_the_package(self):
        self._boot('host1', name='vm1')
        commands = [
            ('host', 'list', '-f', 'json'),
            ('host', 'show', 'host1', '-f', 'json'),
            ('host', 'set', '--disable', 'host1'),
            ('host', 'set', '--enable', 'host1'),
            ('host', 'set', '--disable', 'no-such-host'),
            ('host', 'show', 'no-such-host'),
        ]
        ours = [self._openstack(*argv) for argv in commands]
        self._serve_stock_api_instead()
        stock = [self._openstack(*argv) for argv in commands]

        for argv, with_package, without in zip(commands, ours, stock):
            self.assertEqual(without, with_package, argv)
        hosts, show, disable, enable, disable_unknown, show_unknown = ours
        self.assertEqual(0, hosts[0], hosts)
        self.assertIn({'Host Name': 'host1', 'Service': 'compute',
                       'Zone': 'nova'}, json.loads(hosts[1]))
        self.assertEqual(0, show[0], show)
        self.assertEqual('(total)', json.loads(show[1])[0]['Project'])
        self.assertEqual((0, 0), (disable[0], enable[0]))
        self.assertEqual((1, 1), (disable_unknown[0], show_unknown[0]))
        self.assertIn("Host 'no-such-host' is not mapped", show_unknown[2])
        # Stock os-hosts asked the hypervisor; the service's flags are the
        # package's alone.
        service = self._compute_service('host1')
        self.assertEqual(('enabled', False),
                         (service['status'], service['forced_down']))
