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

"""compute host evacuate: recover the servers of a host reported down."""

import collections
import sys
import time

from osc_lib.cli import parseractions
from osc_lib.command import command
from osc_lib import exceptions

from nova_hoststatus.cli.v1 import common
from nova_hoststatus.cli.v1 import server as server_cli

DEFAULT_TIMEOUT = 600
POLL_INTERVAL = 1

ACCEPTED = 'accepted'
RECOVERED = 'recovered'
FAILED = 'failed'
DELETED = 'deleted'
# Where the wait for a server ends. Not at 'pending' or 'not_evacuable':
# Nova's rebuild on the destination clears the task for a moment while the
# server is still on the failed host.
DONE = frozenset([RECOVERED, FAILED, DELETED])
# How progress lines order the statuses after 'recovered'.
_PROGRESS_ORDER = (FAILED, 'evacuating', 'pending', 'not_evacuable',
                   DELETED)

COLUMNS = ('ID', 'Result', 'Pre-fault State', 'Restored State',
           'Reason/Migration')
WAIT_COLUMNS = ('ID', 'Result', 'Recovery', 'Host', 'Server Status',
                'Restored State', 'Reason')


class PreFaultColumn(server_cli._TextColumn):
    """The pre-fault vm_state in tables, the API's whole record otherwise."""

    def human_readable(self):
        return self._value['vm_state'] or '-'


class ReasonColumn(server_cli._TextColumn):
    """Why a server was skipped (with any message), else its migration."""

    def human_readable(self):
        if self._value.get('reason'):
            return '\n'.join(filter(None, (self._value['reason'],
                                           self._value.get('message'))))
        return self._value.get('migration_id') or '-'


def _reason(server, *keys):
    return ReasonColumn({key: server.get(key)
                         for key in ('reason', 'message') + keys})


def evacuate_row(server):
    """A server of the evacuate answer as a row of the table."""
    return (server['id'], server['result'],
            PreFaultColumn(server['pre_fault']),
            server_cli.DashColumn(server['restored_vm_state']),
            _reason(server, 'migration_id'))


def recovery_status(recovery, server_id, details):
    """A server's status in the host's recovery ({id: entry}).

    The recovery drops the record of a server once it is rebuilt
    elsewhere: a server it no longer lists was recovered, unless it is gone
    (``details`` None).
    """
    if server_id in recovery:
        return recovery[server_id]['status']
    return RECOVERED if details else DELETED


def wait_row(server, recovery, details):
    """A row of the table after --wait.

    :param server: the server in the evacuate answer.
    :param recovery: the host's recovery, {id: entry}.
    :param details: the server's details, or None if it is gone.
    """
    host = ((details or {}).get('OS-EXT-SRV-ATTR:host') or
            recovery.get(server['id'], {}).get('host'))
    return (server['id'], server['result'],
            recovery_status(recovery, server['id'], details),
            server_cli.DashColumn(host),
            server_cli.DashColumn((details or {}).get('status')),
            server_cli.DashColumn(server['restored_vm_state']),
            _reason(server))


def progress(host, statuses):
    """'host1: 3 of 10 servers recovered, 1 failed, 6 evacuating'."""
    counts = collections.Counter(statuses.values())
    recovered = counts.pop(RECOVERED, 0)
    ordered = sorted(counts, key=lambda status: (
        _PROGRESS_ORDER.index(status) if status in _PROGRESS_ORDER
        else len(_PROGRESS_ORDER), status))
    return ', '.join(
        ['%s: %d of %d servers recovered' % (host, recovered, len(statuses))]
        + ['%d %s' % (counts[status], status) for status in ordered])


class EvacuateHost(command.Lister):
    _description = ('Evacuate the servers of a compute host reported down, '
                    'each back in the state it had before the fault: '
                    'running servers come back running, stopped ones '
                    'stopped. Lists what was accepted and what was skipped; '
                    'with --wait, waits for the servers to be rebuilt.')

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'host', metavar='<host>',
            help='Compute host reported down (compute host status set '
                 '--report-down)')
        parser.add_argument(
            '--target-host', metavar='<host>',
            help='Rebuild the servers on this compute host (default: the '
                 'scheduler chooses, server by server)')
        parser.add_argument(
            '--server', metavar='<server>', dest='servers',
            action='append',
            help='Evacuate this server only (ID; repeat for more): by '
                 'default every server of the host')
        parser.add_argument(
            '--force', action='store_true', default=False,
            help='Evacuate even a host that may still run its servers: '
                 'one whose nova-compute reported after the report '
                 '(contradicted), or whose report did not attest fencing '
                 'under [hoststatus] require_fenced. Make sure the host is '
                 'off first, or its servers run twice (policy rule '
                 'nova_hoststatus:os-hosts:force, admin only by default)')
        parser.add_argument(
            '--wait', action='store_true', default=False,
            help='Wait until every accepted server is recovered, failed '
                 'or deleted, showing progress on stderr; fail unless all '
                 'are recovered')
        parser.add_argument(
            '--timeout', metavar='<seconds>', type=int,
            action=parseractions.NonNegativeAction,
            help='With --wait, give up after this many seconds '
                 '(default: %d)' % DEFAULT_TIMEOUT)
        return parser

    def take_action(self, parsed_args):
        if parsed_args.timeout is not None and not parsed_args.wait:
            raise exceptions.CommandError('--timeout applies to --wait.')
        client = self.app.client_manager.hoststatus
        host = parsed_args.host
        with common.command_errors('evacuate host %s' % host,
                                   host_api=True):
            servers = client.evacuate_host(
                host, destination=parsed_args.target_host,
                servers=parsed_args.servers,
                force=parsed_args.force)['servers']
        if not parsed_args.wait:
            return COLUMNS, [evacuate_row(server) for server in servers]

        timeout = (DEFAULT_TIMEOUT if parsed_args.timeout is None
                   else parsed_args.timeout)
        accepted = [server['id'] for server in servers
                    if server['result'] == ACCEPTED]
        recovery, timed_out = self._wait(client, host, accepted, timeout)
        details = {server['id']: self._details(client, server['id'])
                   for server in servers}
        rows = [wait_row(server, recovery, details[server['id']])
                for server in servers]
        statuses = {uuid: recovery_status(recovery, uuid, details[uuid])
                    for uuid in accepted}
        not_recovered = ['%s (%s)' % (uuid, statuses[uuid])
                         for uuid in accepted
                         if statuses[uuid] != RECOVERED]
        if not_recovered or timed_out:
            # The table says where each server is; the error, that some
            # are not back.
            self.produce_output(parsed_args, WAIT_COLUMNS, rows)
            raise exceptions.CommandError(
                '%sHost %s: %d of %d servers not recovered: %s' % (
                    'Timed out after %d s. ' % timeout if timed_out else '',
                    host, len(not_recovered), len(accepted),
                    ', '.join(not_recovered)))
        return WAIT_COLUMNS, rows

    @staticmethod
    def _recovery(client, host):
        with common.command_errors('show host %s' % host, host_api=True):
            state = client.show_host(host)
        return {server['id']: server for server in state.get('recovery', ())}

    def _wait(self, client, host, accepted, timeout):
        """Poll the host's recovery until each accepted server is done.

        :returns: the last recovery, {id: entry}, and whether time ran out.
        """
        deadline = time.monotonic() + timeout
        shown = None
        # The details of the servers the recovery stopped listing.
        gone = {}
        while True:
            recovery = self._recovery(client, host)
            for uuid in accepted:
                if uuid not in recovery and uuid not in gone:
                    gone[uuid] = self._details(client, uuid)
            statuses = {uuid: recovery_status(recovery, uuid, gone.get(uuid))
                        for uuid in accepted}
            line = progress(host, statuses)
            if accepted and line != shown:
                print(line, file=sys.stderr)
                shown = line
            if DONE.issuperset(statuses.values()):
                return recovery, False
            if time.monotonic() >= deadline:
                return recovery, True
            time.sleep(POLL_INTERVAL)

    @staticmethod
    def _details(client, server_id):
        with common.command_errors('show server %s' % server_id):
            try:
                return client.show_server(server_id)
            except exceptions.NotFound:
                # Deleted by its owner during the recovery.
                return None
