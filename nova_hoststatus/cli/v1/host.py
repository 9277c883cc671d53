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

"""compute host status set / show."""

from cliff import columns
from osc_lib.command import command
from osc_lib import exceptions

from nova_hoststatus.cli.v1 import common

_FIELDS = ('host', 'status', 'state', 'disabled_reason', 'maintenance_mode',
           'host_down_reported', 'instances_changed', 'instances_skipped')


class InstancesChangedColumn(columns.FormattableColumn):
    """One changed instance a line, with the vm_state it had."""

    def human_readable(self):
        return '\n'.join('%s (was %s)' % (i['id'], i['old_vm_state'])
                         for i in self._value)


class InstancesSkippedColumn(columns.FormattableColumn):
    """One skipped instance a line, with why it was left alone."""

    def human_readable(self):
        return '\n'.join('%s (%s)' % (i['id'], i['reason'])
                         for i in self._value)


_FORMATTERS = {
    'instances_changed': InstancesChangedColumn,
    'instances_skipped': InstancesSkippedColumn,
}


def _format_host(host):
    # The documented fields in their order, then any the API adds.
    names = [f for f in _FIELDS if f in host]
    names += sorted(set(host) - set(_FIELDS))
    return (tuple(names),
            tuple(_FORMATTERS[n](host[n]) if n in _FORMATTERS else host[n]
                  for n in names))


class SetHostStatus(command.ShowOne):
    _description = ('Update the state of a compute host: enable or disable '
                    'it, put it into or take it out of maintenance, report '
                    'it down or clear that report. Shows the resulting '
                    'state and, after a report, the servers it stopped.')

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'host', metavar='<host>',
            help='Compute host (the host of its nova-compute service)')
        status = parser.add_mutually_exclusive_group()
        status.add_argument(
            '--enable', dest='status', action='store_const', const='enable',
            help='Enable the nova-compute service of the host')
        status.add_argument(
            '--disable', dest='status', action='store_const',
            const='disable',
            help='Disable the nova-compute service of the host: no new '
                 'servers are scheduled to it (host status MAINTENANCE)')
        maintenance = parser.add_mutually_exclusive_group()
        maintenance.add_argument(
            '--maintenance', dest='maintenance_mode', action='store_const',
            const='enable',
            help='Put the host into maintenance mode (disables it)')
        maintenance.add_argument(
            '--no-maintenance', dest='maintenance_mode',
            action='store_const', const='disable',
            help='Take the host out of maintenance mode (enables it again '
                 'if maintenance disabled it)')
        down = parser.add_mutually_exclusive_group()
        down.add_argument(
            '--report-down', dest='host_down_reported', action='store_const',
            const=True,
            help='Report the host down: force its nova-compute service down '
                 'and stop its servers at once, so that they can be '
                 'evacuated (host status DOWN)')
        down.add_argument(
            '--clear-down', dest='host_down_reported', action='store_const',
            const=False,
            help='Clear a host down report; the servers stay as they are '
                 'until nova-compute syncs their power state')
        parser.add_argument(
            '--reason', metavar='<reason>',
            help='Why (1 to 255 printable characters), with one of the '
                 'options above: the disabled reason of --disable, and '
                 'carried by the notifications of the change')
        return parser

    def take_action(self, parsed_args):
        values = {key: getattr(parsed_args, key)
                  for key in ('status', 'maintenance_mode',
                              'host_down_reported')
                  if getattr(parsed_args, key) is not None}
        if not values:
            raise exceptions.CommandError(
                'Nothing to update: give at least one of --enable, '
                '--disable, --maintenance, --no-maintenance, --report-down '
                'or --clear-down.')
        if parsed_args.reason is not None:
            values['reason'] = parsed_args.reason
        client = self.app.client_manager.hoststatus
        with common.command_errors('update host %s' % parsed_args.host,
                                   host_api=True):
            host = client.update_host(parsed_args.host, **values)
        return _format_host(host)


class ShowHostStatus(command.ShowOne):
    _description = ('Show the state of a compute host: enabled or disabled, '
                    'up or down, maintenance mode, whether it was reported '
                    'down.')

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'host', metavar='<host>',
            help='Compute host (the host of its nova-compute service)')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.hoststatus
        with common.command_errors('show host %s' % parsed_args.host,
                                   host_api=True):
            host = client.show_host(parsed_args.host)
        return _format_host(host)
