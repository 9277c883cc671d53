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

"""The OSC plugin module, error translation and column formats."""

import argparse
from unittest import mock

import fixtures
from osc_lib import exceptions
import testtools

from nova_hoststatus.cli import client
from nova_hoststatus.cli import plugin
from nova_hoststatus.cli.v1 import common
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
