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
           'host_down_reported', 'reported_at', 'fenced', 'contradicted',
           'contradicted_at', 'instances_changed', 'instances_skipped',
           'instances_restored', 'recovery')

# The options that go with --report-down only, and with --clear-down only,
# as the API takes them (else 400).
_REPORT_ONLY = (('fenced', '--fenced'), ('force', '--force'))
_CLEAR_ONLY = (('restore', '--restore'),)


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


class InstancesRestoredColumn(columns.FormattableColumn):
    """One restored instance a line: started, or skipped and why."""

    def human_readable(self):
        return '\n'.join(
            '%s (%s)' % (i['id'],
                         ': '.join(filter(None, (i['result'], i['message']))))
            for i in self._value)


class RecoveryColumn(columns.FormattableColumn):
    """One server a line: its recovery status, and where it is."""

    def human_readable(self):
        return '\n'.join(
            '%s %s (%s)' % (i['id'], i['status'], i['host'] or '-')
            for i in self._value)


_FORMATTERS = {
    'instances_changed': InstancesChangedColumn,
    'instances_skipped': InstancesSkippedColumn,
    'instances_restored': InstancesRestoredColumn,
    'recovery': RecoveryColumn,
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
                    'state and, after a report, the servers it stopped; '
                    'after a clear with --restore, the servers started '
                    'again.')

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
                 '(nova-compute then syncs their power state), unless '
                 '--restore')
        parser.add_argument(
            '--fenced', action='store_true', default=False,
            help='With --report-down: attest that the host was fenced '
                 '(powered off, or cut from its storage and networks). '
                 'Host evacuation then never refuses it as contradicted. '
                 'Repeating a report with --fenced attests it later')
        parser.add_argument(
            '--force', action='store_true', default=False,
            help='With --report-down: report the host even beyond the '
                 'runaway guard ([hoststatus] max_down_fraction, an '
                 "aggregate's hoststatus:max_down), when those hosts did "
                 'fail (policy rule nova_hoststatus:os-hosts:force, admin '
                 'only by default)')
        parser.add_argument(
            '--restore', action='store_true', default=False,
            help='With --clear-down: the report was false; start again, in '
                 'place, the servers it stopped that were running before '
                 'it. Refused if one of them left the host')
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
        # Refused here rather than by the API's 400, before any request.
        for only, needs, options in (
                (True, '--report-down', _REPORT_ONLY),
                (False, '--clear-down', _CLEAR_ONLY)):
            for key, option in options:
                if getattr(parsed_args, key):
                    if values.get('host_down_reported') is not only:
                        raise exceptions.CommandError(
                            '%s goes with %s only.' % (option, needs))
                    values[key] = True
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
                    'down and, while it is, when, whether the report '
                    'attested fencing, whether its nova-compute contradicted '
                    'the report, and the recovery of its servers.')

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
