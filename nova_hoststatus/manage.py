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

"""nova-hoststatus-manage: the package's table and records in Nova's databases.

The package's one table (what the watcher last told of each host) is in
Nova's API database; create it before starting the services of a new
release, as ``nova-manage api_db sync`` does for Nova's own::

    nova-hoststatus-manage --config-file /etc/nova/nova.conf db sync

It creates only what is missing, and never changes Nova's schema.

A host fault report keeps each server's pre-fault state in its
system_metadata, and a host evacuation marks the servers it sends
(:mod:`nova_hoststatus.prefault`).
They are removed when a report is cleared and when a recovery is told; an
operator lists what is left, and purges what no recovery can use any more
(or everything, before uninstalling the package)::

    nova-hoststatus-manage --config-file /etc/nova/nova.conf records list
    nova-hoststatus-manage --config-file /etc/nova/nova.conf records purge \\
        [--host HOST] [--all] [--dry-run]

It reads the cells from the API database, as nova-manage does, and every
cell's system_metadata (no index serves its key: it reads it all).
"""
# As nova-manage: eventlet or native threads before any other import.
from nova_hoststatus import compat; compat.monkey_patch()  # noqa

import functools  # noqa: E402
import sys  # noqa: E402

from oslo_config import cfg  # noqa: E402
from oslo_log import log as logging  # noqa: E402
import pbr.version  # noqa: E402
import prettytable  # noqa: E402

from nova.cmd import common as cmd_common  # noqa: E402
from nova import config  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova import exception as nova_exception  # noqa: E402
from nova import objects  # noqa: E402

import nova_hoststatus.conf  # noqa: E402
from nova_hoststatus import db  # noqa: E402
from nova_hoststatus import prefault  # noqa: E402

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

KINDS = {db.PRE_FAULT_KEY: 'pre-fault record',
         db.RECOVERY_KEY: 'recovery mark'}


def _cells(context):
    return [cell for cell in objects.CellMappingList.get_all(context)
            if not cell.is_cell0()]


def _describe(row):
    """``(written for host, fault or request, what it says)`` of a row."""
    if row.key == db.PRE_FAULT_KEY:
        record = prefault.decode(row.value)
        if record is None:
            return None, None, 'unreadable: %s' % row.value
        return (record.host, record.fault or '(version 1)',
                '%s/%s/%s' % record.state)
    found = prefault.decode_mark(row.value)
    if found is None:
        return None, None, 'unreadable: %s' % row.value
    return found.host, found.request_id, 'sent %s' % found.sent_at


class DbCommands(object):
    """The package's table in the API database."""

    description = "The package's table in Nova's API database."

    def sync(self):
        """Create the package's table in the API database if missing."""
        db.sync_api_schema()
        print('The API database has the tables of nova-hoststatus.')
        return 0


class RecordCommands(object):
    """Pre-fault records and recovery marks."""

    description = 'The pre-fault records and recovery marks of servers.'

    def _rows(self, host=None):
        """``[(cell, cell context, row, described)]`` of every cell."""
        context = nova_context.get_admin_context()
        found = []
        for cell in _cells(context):
            with nova_context.target_cell(context, cell) as cctxt:
                for row in db.records_in_cell(cctxt):
                    described = _describe(row)
                    if host is None or described[0] == host:
                        found.append((cell, cctxt, row, described))
        return found

    @cmd_common.args('--host', metavar='<host>',
                     help='Only the records written for this host.')
    def list(self, host=None):
        """List the records, cell by cell."""
        table = prettytable.PrettyTable(
            ['Cell', 'Server', 'On host', 'Kind', 'For host',
             'Fault / request', 'Content'])
        table.align = 'l'
        for cell, _cctxt, row, (written_for, fault, content) in \
                self._rows(host):
            table.add_row([cell.identity, row.uuid, row.host,
                           KINDS[row.key], written_for, fault, content])
        print(table)
        return 0

    @cmd_common.args('--host', metavar='<host>',
                     help='Only the records written for this host.')
    @cmd_common.args('--all', dest='purge_all', action='store_true',
                     default=False,
                     help='Every record, in use or not (before the package '
                          'is uninstalled, with no host reported down).')
    @cmd_common.args('--dry-run', action='store_true', default=False,
                     help='Say what would be removed; remove nothing.')
    def purge(self, host=None, purge_all=False, dry_run=False):
        """Remove the records no recovery can use.

        Those of a host whose report was cleared (its compute service is
        not forced down), and those this release cannot read; with --all,
        every one.
        """
        reported = {}
        by_cell = {}
        for cell, cctxt, row, (written_for, _f, _c) in self._rows(host):
            if not purge_all and written_for is not None:
                key = (cell.uuid, written_for)
                if key not in reported:
                    reported[key] = _forced_down(cctxt, written_for)
                if reported[key]:
                    continue
            by_cell.setdefault(cell.uuid, (cell, cctxt, []))[2].append(row)
        verb = 'would remove' if dry_run else 'removed'
        for cell, cctxt, rows in by_cell.values():
            for key in KINDS:
                uuids = [row.uuid for row in rows if row.key == key]
                if uuids and not dry_run:
                    db.records_delete(cctxt, uuids, keys=(key,))
            print('%s: %s %d records' % (cell.identity, verb, len(rows)))
        print('In all, %s %d records.' % (
            verb, sum(len(rows) for _c, _x, rows in by_cell.values())))
        return 0


def _forced_down(context, host):
    """Whether the compute service of ``host`` is reported down."""
    try:
        return objects.Service.get_by_compute_host(context, host).forced_down
    except nova_exception.ComputeHostNotFound:
        # No such service in this cell any more: nothing to recover.
        return False


CATEGORIES = {'db': DbCommands, 'records': RecordCommands}

add_command_parsers = functools.partial(cmd_common.add_command_parsers,
                                        categories=CATEGORIES)


def main():
    CONF.register_cli_opt(cfg.SubCommandOpt(
        'category', title='Command categories', help='Available categories',
        handler=add_command_parsers))
    config.parse_args(sys.argv)
    logging.setup(CONF, 'nova')
    objects.register_all()
    if CONF.category.name == 'bash-completion':
        cmd_common.print_bash_completion(CATEGORIES)
        return 0
    if CONF.category.name == 'version':
        print(pbr.version.VersionInfo('nova-hoststatus').version_string())
        return 0
    fn, fn_args, fn_kwargs = cmd_common.get_action_fn()
    return fn(*fn_args, **fn_kwargs)
