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

"""server host status list: servers with the status of their host."""

from cliff import columns
from osc_lib.command import command

from nova_hoststatus.cli.v1 import common

# Power states by value, as nova defines them, in novaclient's words.
POWER_STATES = {0: 'NOSTATE', 1: 'RUNNING', 3: 'PAUSED', 4: 'SHUTDOWN',
                6: 'CRASHED', 7: 'SUSPENDED'}


class _TextColumn(columns.FormattableColumn):
    """Sorted (--sort-column) as shown: raw None/str/dict do not compare."""

    def __lt__(self, other):
        if not isinstance(other, columns.FormattableColumn):
            return NotImplemented
        return self.human_readable() < other.human_readable()


class PowerStateColumn(_TextColumn):
    """The power state as a word in tables, its number in -f json/yaml."""

    def human_readable(self):
        return POWER_STATES.get(self._value, 'N/A')


class NetworksColumn(_TextColumn):
    """'net=addr, addr; net2=addr' in tables, {net: [addr]} otherwise."""

    def human_readable(self):
        return '; '.join('%s=%s' % (net, ', '.join(addrs))
                         for net, addrs in sorted(
                             self.machine_readable().items()))

    def machine_readable(self):
        return {net: [a['addr'] for a in addrs if 'addr' in a]
                for net, addrs in (self._value or {}).items()}


class DashColumn(_TextColumn):
    """'-' in tables for a value that is not set, as novaclient prints it."""

    def human_readable(self):
        return '-' if self._value is None else self._value


# (column, server detail field, formatter)
_COLUMNS = (
    ('ID', 'id', None),
    ('Name', 'name', None),
    ('Status', 'status', None),
    ('Task State', 'OS-EXT-STS:task_state', DashColumn),
    ('Power State', 'OS-EXT-STS:power_state', PowerStateColumn),
    ('Networks', 'addresses', NetworksColumn),
    # Absent when policy hides it; '' when the server has no host.
    ('Host Status', 'host_status', DashColumn),
)


COLUMNS = tuple(column for column, _field, _formatter in _COLUMNS)


def seed_row(server):
    """A server detail as a row of the seed's table."""
    return tuple(formatter(server.get(field)) if formatter
                 else server.get(field)
                 for _column, field, formatter in _COLUMNS)


class ListServerHostStatus(command.Lister):
    _description = ('List servers with the status of their compute host: '
                    'UP, UNKNOWN (nova-compute stopped reporting), DOWN '
                    '(reported or forced down), MAINTENANCE (nova-compute '
                    'disabled), or empty when a server has no host.')

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--host', metavar='<host>',
            help='Only servers on this compute host (admin only: nova '
                 'ignores it for others)')
        parser.add_argument(
            '--all-projects', action='store_true', default=False,
            help='Servers of all projects (admin only)')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.hoststatus
        with common.command_errors('list servers'):
            servers = client.list_servers(
                host=parsed_args.host, all_projects=parsed_args.all_projects)
        if any('host_status' not in server for server in servers):
            self.log.warning(
                'Host Status is hidden by policy: nova shows it to '
                'administrators only unless policy rule '
                'os_compute_api:servers:show:host_status allows it.')
        return COLUMNS, [seed_row(server) for server in servers]
