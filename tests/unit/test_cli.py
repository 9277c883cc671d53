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

"""The OSC plugin module, error translation, column formats and evacuate."""

import argparse
import io
import json
import types
from unittest import mock

import fixtures
from osc_lib import exceptions
import testtools

from nova_hoststatus.cli import client
from nova_hoststatus.cli import plugin
from nova_hoststatus.cli.v1 import common
from nova_hoststatus.cli.v1 import evacuate
from nova_hoststatus.cli.v1 import host as host_cli
from nova_hoststatus.cli.v1 import server


def _response(status, body=None, text='', reason='Error'):
    response = mock.Mock(status_code=status, text=text, reason=reason)
    if body is None:
        response.json.side_effect = ValueError('not JSON')
    else:
        response.json.return_value = body
    return response


class PluginModuleTest(testtools.TestCase):

    def test_interface(self):
        self.assertEqual('hoststatus', plugin.API_NAME)
        self.assertIn(plugin.DEFAULT_API_VERSION, plugin.API_VERSIONS)
        parser = plugin.build_option_parser(argparse.ArgumentParser())
        args = parser.parse_args(['--os-hoststatus-api-version', '1'])
        self.assertEqual('1', getattr(args, plugin.API_VERSION_OPTION))

    def test_make_client(self):
        instance = mock.Mock(region_name='RegionTwo', interface='internal')
        instance.get_configuration.return_value = {
            'compute_endpoint_override': 'http://nova:8774/v2.1'}
        api = plugin.make_client(instance).api
        self.assertIs(instance.session, api.session)
        self.assertEqual(
            ('compute', 'RegionTwo', 'internal', 'http://nova:8774/v2.1'),
            (api.service_type, api.region_name, api.interface,
             api.endpoint_override))


class ClientTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.client = client.Client(mock.Mock())
        self.request = self.useFixture(
            fixtures.MockPatchObject(self.client.api, 'request')).mock

    def test_microversions_and_quoting(self):
        self.request.return_value = _response(200, {'host': {}})
        self.client.update_host('host/1', host_down_reported=True)
        self.request.assert_called_once_with(
            '/os-hosts/host%2F1', 'PUT', microversion='2.43',
            json={'host': {'host_down_reported': True}})
        self.request.reset_mock()
        self.client.show_host('host1')
        self.request.assert_called_once_with(
            '/os-hosts/host1/state', 'GET', microversion='2.43')

    def test_evacuate_body(self):
        self.request.return_value = _response(202, {'evacuate': {
            'host': 'host/1', 'destination': None, 'servers': []}})
        self.assertEqual(
            {'host': 'host/1', 'destination': None, 'servers': []},
            self.client.evacuate_host('host/1'))
        self.request.assert_called_once_with(
            '/os-hosts/host%2F1/evacuate', 'POST', microversion='2.43',
            json={'evacuate': {}})
        self.request.reset_mock()
        self.client.evacuate_host('host1', destination='host2',
                                  servers=('a', 'b'))
        self.request.assert_called_once_with(
            '/os-hosts/host1/evacuate', 'POST', microversion='2.43',
            json={'evacuate': {'host': 'host2', 'servers': ['a', 'b']}})
        self.request.reset_mock()
        self.client.evacuate_host('host1', force=True)
        self.request.assert_called_once_with(
            '/os-hosts/host1/evacuate', 'POST', microversion='2.43',
            json={'evacuate': {'force': True}})

    def test_show_server(self):
        self.request.return_value = _response(200, {'server': {'id': 'a'}})
        self.assertEqual({'id': 'a'}, self.client.show_server('a'))
        self.request.assert_called_once_with('/servers/a', 'GET',
                                             microversion='2.16')

    def test_list_servers_follows_pages(self):
        self.request.side_effect = [
            _response(200, {'servers': [{'id': 'a'}, {'id': 'b'}],
                            'servers_links': [{'rel': 'next',
                                               'href': 'ignored'}]}),
            _response(200, {'servers': [{'id': 'c'}]}),
        ]
        servers = self.client.list_servers(host='host1', all_projects=True)
        self.assertEqual(['a', 'b', 'c'], [s['id'] for s in servers])
        params = {'host': 'host1', 'all_tenants': 'True'}
        self.assertEqual(
            [mock.call('/servers/detail', 'GET', microversion='2.16',
                       params=params),
             mock.call('/servers/detail', 'GET', microversion='2.16',
                       params=dict(params, marker='b'))],
            self.request.call_args_list)

    def test_errors(self):
        for status, body, error, message in (
                (403, {'forbidden': {'message': 'No.', 'code': 403}},
                 exceptions.Forbidden, 'No.'),
                (404, None, exceptions.NotFound, 'Not found'),
                (409, {'conflict': {'message': 'Busy.', 'code': 409}},
                 exceptions.Conflict, 'Busy.'),
                (500, None, exceptions.ClientException, 'Error')):
            self.request.return_value = _response(status, body,
                                                  text='<html/>')
            exc = self.assertRaises(error, self.client.show_host, 'host1')
            self.assertEqual((status, message), (exc.code, exc.message))


class CommandErrorsTest(testtools.TestCase):

    def _raise(self, exc, **kwargs):
        def run():
            with common.command_errors('show host h1', **kwargs):
                raise exc
        return str(self.assertRaises(exceptions.CommandError, run))

    def test_not_found(self):
        self.assertEqual(
            'Cannot show host h1: No host h1. (HTTP 404)',
            self._raise(exceptions.NotFound(404, 'No host h1.'),
                        host_api=True))

    def test_host_api_not_loaded(self):
        for message in (None, 'The resource could not be found.'):
            self.assertIn(
                'is nova-hoststatus loaded into nova-api?',
                self._raise(exceptions.NotFound(404, message),
                            host_api=True))
        self.assertNotIn(
            'nova-hoststatus',
            self._raise(exceptions.NotFound(404, None)))

    def test_forbidden_and_others(self):
        self.assertIn('Not allowed to show host h1 (HTTP 403): Policy says '
                      'no.',
                      self._raise(exceptions.Forbidden(403,
                                                       'Policy says no.')))
        self.assertEqual('Cannot show host h1: Busy. (HTTP 409)',
                         self._raise(exceptions.Conflict(409, 'Busy.')))


class ColumnsTest(testtools.TestCase):

    def test_power_state(self):
        self.assertEqual(
            ['NOSTATE', 'RUNNING', 'PAUSED', 'SHUTDOWN', 'CRASHED',
             'SUSPENDED', 'N/A', 'N/A'],
            [server.PowerStateColumn(v).human_readable()
             for v in (0, 1, 3, 4, 6, 7, 2, None)])
        self.assertEqual(4, server.PowerStateColumn(4).machine_readable())

    def test_networks(self):
        column = server.NetworksColumn({
            'private': [{'addr': '10.0.0.3'}, {'addr': 'fd00::3'}],
            'ext': [{'addr': '172.24.4.9'}]})
        self.assertEqual('ext=172.24.4.9; private=10.0.0.3, fd00::3',
                         column.human_readable())
        self.assertEqual({'ext': ['172.24.4.9'],
                          'private': ['10.0.0.3', 'fd00::3']},
                         column.machine_readable())
        self.assertEqual('', server.NetworksColumn({}).human_readable())

    def test_dash(self):
        self.assertEqual('-', server.DashColumn(None).human_readable())
        self.assertIsNone(server.DashColumn(None).machine_readable())
        self.assertEqual('', server.DashColumn('').human_readable())

    def test_sort_as_shown(self):
        values = [server.DashColumn(v) for v in ('UP', None, '', 'DOWN')]
        self.assertEqual(['', '-', 'DOWN', 'UP'],
                         [c.human_readable() for c in sorted(values)])
        networks = [server.NetworksColumn(v) for v in (
            {'b': [{'addr': '10.0.0.2'}]}, {}, {'a': [{'addr': '10.0.0.9'}]})]
        self.assertEqual(['', 'a=10.0.0.9', 'b=10.0.0.2'],
                         [c.human_readable() for c in sorted(networks)])


VM1 = '11111111-1111-4111-8111-111111111111'
VM2 = '22222222-2222-4222-8222-222222222222'
VM3 = '33333333-3333-4333-8333-333333333333'
MIGRATION = '44444444-4444-4444-8444-444444444444'


def _evacuated(uuid, vm_state='active', restored='active', reason=None,
               message=None, migration_id=None):
    return {'id': uuid, 'project_id': 'p1',
            'result': 'skipped' if reason else 'accepted',
            'pre_fault': {'vm_state': vm_state, 'task_state': None,
                          'power_state': 1},
            'restored_vm_state': restored, 'migration_id': migration_id,
            'reason': reason, 'message': message}


def _state(*recovery):
    """A host state whose recovery has (id, status, host, vm_state)."""
    return {'host': 'host1', 'host_down_reported': True, 'recovery': [
        {'id': uuid, 'project_id': 'p1', 'host': host, 'vm_state': vm_state,
         'task_state': None, 'pre_fault': {}, 'restored_vm_state': vm_state,
         'status': status}
        for uuid, status, host, vm_state in recovery]}


def _wait_row(server):
    return tuple(server[column] for column in evacuate.WAIT_COLUMNS[:-1])


class EvacuateCommandTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.client = mock.Mock(spec=client.Client)
        self.client.evacuate_host.return_value = {
            'host': 'host1', 'destination': None, 'servers': [
                _evacuated(VM1, migration_id=MIGRATION),
                _evacuated(VM2, 'stopped', 'stopped',
                           migration_id=MIGRATION),
                _evacuated(VM3, 'resized', None,
                           reason='evacuate_refused',
                           message='No valid host.')]}
        # Server details by id; None for a deleted server.
        self.details = {
            VM1: {'status': 'ACTIVE', 'OS-EXT-SRV-ATTR:host': 'host2'},
            VM2: {'status': 'SHUTOFF', 'OS-EXT-SRV-ATTR:host': 'host2'},
            VM3: {'status': 'VERIFY_RESIZE', 'OS-EXT-SRV-ATTR:host': 'host1'}}
        self.client.show_server.side_effect = self._show_server
        self.stderr = self.useFixture(fixtures.MonkeyPatch(
            'sys.stderr', io.StringIO())).new_value
        self.sleep = self.useFixture(fixtures.MockPatchObject(
            evacuate.time, 'sleep')).mock
        self.app = types.SimpleNamespace(
            client_manager=types.SimpleNamespace(hoststatus=self.client),
            stdout=io.StringIO(),
            options=types.SimpleNamespace(debug=False))

    def _show_server(self, uuid):
        if self.details[uuid] is None:
            raise exceptions.NotFound(404, 'No server %s.' % uuid)
        return self.details[uuid]

    def _parse(self, *argv):
        cmd = evacuate.EvacuateHost(self.app, None)
        return cmd, cmd.get_parser('openstack').parse_args(list(argv))

    def _run(self, *argv):
        cmd, parsed_args = self._parse(*argv)
        self.assertEqual(0, cmd.run(parsed_args))
        return self.app.stdout.getvalue()

    def test_parser(self):
        _cmd, args = self._parse('host1')
        self.assertEqual(('host1', None, None, False, None),
                         (args.host, args.target_host, args.servers,
                          args.wait, args.timeout))
        _cmd, args = self._parse('host1', '--target-host', 'host2',
                                 '--server', VM1, '--server', VM2, '--wait',
                                 '--timeout', '30')
        self.assertEqual(('host1', 'host2', [VM1, VM2], True, 30),
                         (args.host, args.target_host, args.servers,
                          args.wait, args.timeout))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', io.StringIO()))
        self.assertRaises(SystemExit, self._parse, 'host1', '--wait',
                          '--timeout', '-1')

    def test_request(self):
        self._run('host1', '--target-host', 'host2', '--server', VM1,
                  '--server', VM2)
        self.client.evacuate_host.assert_called_once_with(
            'host1', destination='host2', servers=[VM1, VM2], force=False)
        self._run('host1')
        self.client.evacuate_host.assert_called_with(
            'host1', destination=None, servers=None, force=False)
        self._run('host1', '--force')
        self.client.evacuate_host.assert_called_with(
            'host1', destination=None, servers=None, force=True)
        self.client.show_host.assert_not_called()

    def test_timeout_needs_wait(self):
        cmd, parsed_args = self._parse('host1', '--timeout', '5')
        exc = self.assertRaises(exceptions.CommandError, cmd.run,
                                parsed_args)
        self.assertEqual('--timeout applies to --wait.', str(exc))
        self.client.evacuate_host.assert_not_called()

    def test_table(self):
        self.assertEqual(
            '+--------------------------------------+----------+'
            '-----------------+----------------+'
            '--------------------------------------+\n'
            '| ID                                   | Result   | '
            'Pre-fault State | Restored State | '
            'Reason/Migration                     |\n'
            '+--------------------------------------+----------+'
            '-----------------+----------------+'
            '--------------------------------------+\n'
            '| %s | accepted | active          | active         | '
            '%s |\n'
            '| %s | accepted | stopped         | stopped        | '
            '%s |\n'
            '| %s | skipped  | resized         | -              | '
            'evacuate_refused                     |\n'
            '|                                      |          | '
            '                |                | '
            'No valid host.                       |\n'
            '+--------------------------------------+----------+'
            '-----------------+----------------+'
            '--------------------------------------+\n'
            % (VM1, MIGRATION, VM2, MIGRATION, VM3),
            self._run('host1'))

    def test_json(self):
        servers = json.loads(self._run('host1', '-f', 'json'))
        self.assertEqual(
            {'ID': VM3, 'Result': 'skipped',
             'Pre-fault State': {'vm_state': 'resized', 'task_state': None,
                                 'power_state': 1},
             'Restored State': None,
             'Reason/Migration': {'reason': 'evacuate_refused',
                                  'message': 'No valid host.',
                                  'migration_id': None}},
            servers[2])
        self.assertEqual({'reason': None, 'message': None,
                          'migration_id': MIGRATION},
                         servers[0]['Reason/Migration'])

    def test_wait(self):
        self.client.show_host.side_effect = [
            _state((VM1, 'evacuating', 'host1', 'active'),
                   (VM2, 'evacuating', 'host1', 'stopped'),
                   (VM3, 'not_evacuable', 'host1', 'resized')),
            _state((VM1, 'recovered', 'host2', 'active'),
                   (VM2, 'evacuating', 'host1', 'stopped'),
                   (VM3, 'not_evacuable', 'host1', 'resized')),
            # Nova's rebuild clears the task before it moves the server.
            _state((VM1, 'recovered', 'host2', 'active'),
                   (VM2, 'pending', 'host1', 'stopped'),
                   (VM3, 'not_evacuable', 'host1', 'resized')),
            _state((VM1, 'recovered', 'host2', 'active'),
                   (VM2, 'recovered', 'host2', 'stopped'),
                   (VM3, 'not_evacuable', 'host1', 'resized')),
        ]

        servers = json.loads(self._run('host1', '--wait', '-f', 'json'))

        self.assertEqual(
            'host1: 0 of 2 servers recovered, 2 evacuating\n'
            'host1: 1 of 2 servers recovered, 1 evacuating\n'
            'host1: 1 of 2 servers recovered, 1 pending\n'
            'host1: 2 of 2 servers recovered\n',
            self.stderr.getvalue())
        self.assertEqual([mock.call(evacuate.POLL_INTERVAL)] * 3,
                         self.sleep.call_args_list)
        self.client.show_host.assert_called_with('host1')
        self.assertEqual(
            [(VM1, 'accepted', 'recovered', 'host2', 'ACTIVE', 'active'),
             (VM2, 'accepted', 'recovered', 'host2', 'SHUTOFF', 'stopped'),
             (VM3, 'skipped', 'not_evacuable', 'host1', 'VERIFY_RESIZE',
              None)],
            [_wait_row(server) for server in servers])
        self.assertEqual(
            [{'reason': None, 'message': None}] * 2 +
            [{'reason': 'evacuate_refused', 'message': 'No valid host.'}],
            [server['Reason'] for server in servers])

    def test_wait_table(self):
        self.client.evacuate_host.return_value['servers'].pop()
        self.client.show_host.return_value = _state(
            (VM1, 'recovered', 'host2', 'active'),
            (VM2, 'recovered', 'host2', 'stopped'))
        self.assertEqual(
            '+--------------------------------------+----------+'
            '-----------+-------+---------------+----------------+'
            '--------+\n'
            '| ID                                   | Result   | '
            'Recovery  | Host  | Server Status | Restored State | '
            'Reason |\n'
            '+--------------------------------------+----------+'
            '-----------+-------+---------------+----------------+'
            '--------+\n'
            '| %s | accepted | recovered | host2 | ACTIVE        | '
            'active         | -      |\n'
            '| %s | accepted | recovered | host2 | SHUTOFF       | '
            'stopped        | -      |\n'
            '+--------------------------------------+----------+'
            '-----------+-------+---------------+----------------+'
            '--------+\n' % (VM1, VM2),
            self._run('host1', '--wait'))
        self.sleep.assert_not_called()

    def test_wait_failed_and_deleted(self):
        self.details[VM1] = {'status': 'ERROR'}
        # VM2 was deleted during its recovery: gone from the host's too.
        self.details[VM2] = None
        self.client.show_host.return_value = _state(
            (VM1, 'failed', 'host2', 'error'),
            (VM3, 'not_evacuable', 'host1', 'resized'))
        cmd, parsed_args = self._parse('host1', '--wait', '-f', 'json')

        exc = self.assertRaises(exceptions.CommandError, cmd.run,
                                parsed_args)

        self.assertEqual(
            'Host host1: 2 of 2 servers not recovered: %s (failed), '
            '%s (deleted)' % (VM1, VM2), str(exc))
        self.assertEqual('host1: 0 of 2 servers recovered, 1 failed, '
                         '1 deleted\n', self.stderr.getvalue())
        # The table is printed all the same.
        self.assertEqual(
            [(VM1, 'accepted', 'failed', 'host2', 'ERROR', 'active'),
             (VM2, 'accepted', 'deleted', None, None, 'stopped')],
            [_wait_row(server) for server in
             json.loads(self.app.stdout.getvalue())[:2]])

    def test_wait_record_dropped(self):
        # The recovery stops listing servers rebuilt elsewhere once the
        # evacuation ends.
        self.client.show_host.side_effect = [
            _state((VM1, 'evacuating', 'host1', 'active'),
                   (VM2, 'recovered', 'host2', 'stopped'),
                   (VM3, 'not_evacuable', 'host1', 'resized')),
            _state((VM3, 'not_evacuable', 'host1', 'resized')),
        ]
        servers = json.loads(self._run('host1', '--wait', '-f', 'json'))
        self.assertEqual(
            'host1: 1 of 2 servers recovered, 1 evacuating\n'
            'host1: 2 of 2 servers recovered\n', self.stderr.getvalue())
        self.assertEqual(
            [(VM1, 'accepted', 'recovered', 'host2', 'ACTIVE', 'active'),
             (VM2, 'accepted', 'recovered', 'host2', 'SHUTOFF', 'stopped'),
             (VM3, 'skipped', 'not_evacuable', 'host1', 'VERIFY_RESIZE',
              None)],
            [_wait_row(server) for server in servers])
        # Once each during the wait, then for the table.
        self.assertEqual([VM1, VM2, VM1, VM2, VM3],
                         [c.args[0] for c in
                          self.client.show_server.call_args_list])

    def test_wait_timeout(self):
        self.useFixture(fixtures.MockPatchObject(
            evacuate.time, 'monotonic', side_effect=[100, 100, 105, 110]))
        self.client.show_host.return_value = _state(
            (VM1, 'recovered', 'host2', 'active'),
            (VM2, 'evacuating', 'host1', 'stopped'))
        cmd, parsed_args = self._parse('host1', '--wait', '--timeout', '10')

        exc = self.assertRaises(exceptions.CommandError, cmd.run,
                                parsed_args)

        self.assertEqual('Timed out after 10 s. Host host1: 1 of 2 servers '
                         'not recovered: %s (evacuating)' % VM2, str(exc))
        self.assertEqual(3, self.client.show_host.call_count)
        self.assertEqual(2, self.sleep.call_count)
        self.assertEqual('host1: 1 of 2 servers recovered, 1 evacuating\n',
                         self.stderr.getvalue())

    def test_wait_nothing_accepted(self):
        self.client.evacuate_host.return_value['servers'] = [
            _evacuated(VM1, reason='already_evacuated')]
        self.client.show_host.return_value = _state(
            (VM1, 'recovered', 'host2', 'active'))
        servers = json.loads(self._run('host1', '--wait', '-f', 'json'))
        self.assertEqual(
            [(VM1, 'skipped', 'recovered', 'host2', 'ACTIVE', 'active')],
            [_wait_row(server) for server in servers])
        self.assertEqual({'reason': 'already_evacuated', 'message': None},
                         servers[0]['Reason'])
        self.assertEqual('', self.stderr.getvalue())

    def test_errors(self):
        self.client.evacuate_host.side_effect = exceptions.Conflict(
            409, 'Host host1 is not reported down.')
        cmd, parsed_args = self._parse('host1', '--wait')
        exc = self.assertRaises(exceptions.CommandError, cmd.run,
                                parsed_args)
        self.assertEqual('Cannot evacuate host host1: Host host1 is not '
                         'reported down. (HTTP 409)', str(exc))
        self.client.show_host.assert_not_called()

        self.client.evacuate_host.side_effect = exceptions.NotFound(404,
                                                                    None)
        exc = self.assertRaises(exceptions.CommandError, cmd.run,
                                parsed_args)
        self.assertIn('is nova-hoststatus loaded into nova-api?', str(exc))

    def test_progress(self):
        self.assertEqual(
            'host1: 3 of 10 servers recovered, 1 failed, 6 evacuating',
            evacuate.progress('host1', dict(
                [(i, 'recovered') for i in range(3)] + [(3, 'failed')] +
                [(i, 'evacuating') for i in range(4, 10)])))
        self.assertEqual(
            'h: 0 of 4 servers recovered, 1 evacuating, 1 pending, '
            '1 deleted, 1 zzz',
            evacuate.progress('h', {1: 'zzz', 2: 'deleted', 3: 'pending',
                                    4: 'evacuating'}))


def _fields(table):
    """A ShowOne table as {field: value}; a value's lines joined by \\n."""
    fields, name = {}, None
    for line in table.splitlines()[3:-1]:
        field, value = (cell.strip() for cell in line.strip('|').split('|'))
        if field:
            name = field
            fields[name] = value
        else:
            fields[name] += '\n' + value
    return fields


def _host(**fields):
    """A host state of the API, with ``fields`` added."""
    return dict({'host': 'host1', 'status': 'enabled', 'state': 'down',
                 'disabled_reason': None, 'maintenance_mode': 'disabled',
                 'host_down_reported': True}, **fields)


class HostStatusCommandTest(testtools.TestCase):
    """compute host status set: options to the request body; the table."""

    def setUp(self):
        super().setUp()
        self.client = mock.Mock(spec=client.Client)
        self.client.update_host.return_value = _host()
        self.app = types.SimpleNamespace(
            client_manager=types.SimpleNamespace(hoststatus=self.client),
            stdout=io.StringIO(),
            options=types.SimpleNamespace(debug=False))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', io.StringIO()))

    def _run(self, command_class, *argv):
        cmd = command_class(self.app, None)
        parsed_args = cmd.get_parser('openstack').parse_args(list(argv))
        self.assertEqual(0, cmd.run(parsed_args))
        return self.app.stdout.getvalue()

    def _refused(self, *argv):
        cmd = host_cli.SetHostStatus(self.app, None)
        parsed_args = cmd.get_parser('openstack').parse_args(
            ['host1'] + list(argv))
        exc = self.assertRaises(exceptions.CommandError, cmd.run,
                                parsed_args)
        self.client.update_host.assert_not_called()
        return str(exc)

    def test_body(self):
        for argv, body in (
                (['--report-down'], {'host_down_reported': True}),
                (['--report-down', '--fenced'],
                 {'host_down_reported': True, 'fenced': True}),
                (['--report-down', '--force', '--reason', 'rack1 lost'],
                 {'host_down_reported': True, 'force': True,
                  'reason': 'rack1 lost'}),
                (['--report-down', '--fenced', '--force', '--disable'],
                 {'host_down_reported': True, 'fenced': True,
                  'force': True, 'status': 'disable'}),
                (['--clear-down'], {'host_down_reported': False}),
                (['--clear-down', '--restore', '--no-maintenance'],
                 {'host_down_reported': False, 'restore': True,
                  'maintenance_mode': 'disable'}),
                (['--enable'], {'status': 'enable'})):
            self.client.update_host.reset_mock()
            self._run(host_cli.SetHostStatus, 'host1', *argv)
            self.client.update_host.assert_called_once_with('host1', **body)

    def test_options_that_go_with_a_report_or_a_clear(self):
        for argv, message in (
                (['--fenced'], '--fenced goes with --report-down only.'),
                (['--force', '--enable'],
                 '--force goes with --report-down only.'),
                (['--clear-down', '--fenced'],
                 '--fenced goes with --report-down only.'),
                (['--restore'], '--restore goes with --clear-down only.'),
                (['--report-down', '--restore'],
                 '--restore goes with --clear-down only.'),
                (['--maintenance', '--restore'],
                 '--restore goes with --clear-down only.')):
            self.assertEqual(message, self._refused(*argv), argv)
        self.assertIn('Nothing to update', self._refused())

    def test_report_and_clear_exclude_each_other(self):
        cmd = host_cli.SetHostStatus(self.app, None)
        self.assertRaises(SystemExit, cmd.get_parser('openstack').parse_args,
                          ['host1', '--report-down', '--clear-down'])

    def test_state_table(self):
        self.client.show_host.return_value = _host(
            reported_at='2026-12-05T05:00:00Z', fenced=False,
            contradicted=True, contradicted_at='2026-12-05T05:00:30Z',
            recovery=[{'id': VM1, 'project_id': 'p1', 'host': 'host1',
                       'vm_state': 'stopped', 'task_state': None,
                       'pre_fault': {}, 'restored_vm_state': 'active',
                       'status': 'pending'}])
        fields = _fields(self._run(host_cli.ShowHostStatus, 'host1'))
        self.assertEqual(
            ['host', 'status', 'state', 'disabled_reason',
             'maintenance_mode', 'host_down_reported', 'reported_at',
             'fenced', 'contradicted', 'contradicted_at', 'recovery'],
            list(fields))
        self.assertEqual(
            ('2026-12-05T05:00:00Z', 'False', 'True', '2026-12-05T05:00:30Z',
             '%s pending (host1)' % VM1),
            (fields['reported_at'], fields['fenced'], fields['contradicted'],
             fields['contradicted_at'], fields['recovery']))

    def test_restored_table_and_json(self):
        restored = [
            {'id': VM1, 'project_id': 'p1', 'pre_fault_vm_state': 'active',
             'result': 'started', 'message': None},
            {'id': VM2, 'project_id': 'p1', 'pre_fault_vm_state': 'active',
             'result': 'skipped', 'message': 'Instance is locked.'}]
        self.client.update_host.return_value = _host(
            state='up', host_down_reported=False,
            instances_restored=restored)
        fields = _fields(self._run(host_cli.SetHostStatus, 'host1',
                                   '--clear-down', '--restore'))
        self.assertEqual('%s (started)\n%s (skipped: Instance is locked.)'
                         % (VM1, VM2), fields['instances_restored'])
        self.app.stdout = io.StringIO()
        output = self._run(host_cli.SetHostStatus, 'host1', '--clear-down',
                           '--restore', '-f', 'json')
        self.assertEqual(restored, json.loads(output)['instances_restored'])
