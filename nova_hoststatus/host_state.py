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

"""A compute host as reports and recovery see it.

The host's cell and its nova-compute service (:func:`compute_service`),
what the API shows of it (:class:`HostState`), and the evacuations from
it. A host fault report and a host evacuation both work on these.
"""

import contextlib

from oslo_db import exception as db_exc

from nova import context as nova_context
from nova import exception as nova_exception
from nova import objects
from nova.objects import fields

from nova_hoststatus import db
from nova_hoststatus import exception
from nova_hoststatus import guard
from nova_hoststatus import prefault

# The disabled_reason that marks a service disabled by maintenance mode, so
# that leaving maintenance undoes only what maintenance did.
MAINTENANCE_REASON = 'maintenance_mode'

# Statuses of an evacuation migration still running, and failed.
MIGRATION_RUNNING = frozenset(['accepted', 'pre-migrating', 'running'])
MIGRATION_FAILED = frozenset(['error', 'failed'])


class HostState(object):
    """What the API shows of a compute host."""

    def __init__(self, service, is_up, changed=None, skipped=None,
                 recovery=None, fault=None):
        self.host = service.host
        self.disabled = service.disabled
        self.disabled_reason = service.disabled_reason
        self.forced_down = service.forced_down
        self.is_up = is_up
        self.maintenance = (service.disabled and
                            service.disabled_reason == MAINTENANCE_REASON)
        # Set only by a host down report.
        self.changed = changed
        self.skipped = skipped
        # Set only when read, while the host is reported or recovering: the
        # ServerRecovery of each of its servers.
        self.recovery = recovery
        # The report's prefault.Fault while the host is reported and its
        # servers have records of it; None when nothing tells.
        self.fault = fault if service.forced_down else None
        # When its nova-compute reported after the report, if it did.
        self.contradicted_at = guard.contradiction(service, self.fault)
        # Set only by a clear with restore: (uuid, project_id, pre-fault
        # vm_state, error) of each server started again.
        self.restored = None


@contextlib.contextmanager
def compute_service(context, host):
    """Yield a context targeted at the host's cell and its compute service.

    A cell whose database cannot be reached, from the start or in the
    middle of the update (whose transaction then rolled back), is a 503:
    nothing changed and a retry is safe. So is an API database that cannot
    be reached for the host's mapping.
    """
    try:
        mapping = objects.HostMapping.get_by_host(context, host)
    except nova_exception.HostMappingNotFound:
        raise exception.HostNotFound(host=host)
    except db_exc.DBConnectionError:
        # A restarting or failing-over database: as a down cell.
        raise exception.APIDatabaseUnavailable(host=host)
    cell = mapping.cell_mapping
    unavailable = exception.CellUnavailable(cell=cell.identity, host=host)
    with contextlib.ExitStack() as stack:
        try:
            cctxt = stack.enter_context(
                nova_context.target_cell(context, cell))
        except db_exc.DBError:
            # How nova's own code (and its DownCellFixture) sees a down cell.
            raise unavailable
        try:
            service = objects.Service.get_by_compute_host(cctxt, host)
        except nova_exception.ComputeHostNotFound:
            raise exception.HostNotFound(host=host)
        except db_exc.DBConnectionError:
            raise unavailable
        try:
            yield cctxt, service
        except db_exc.DBConnectionError:
            raise unavailable


def evacuations_from(context, host):
    """``{instance uuid: its latest evacuation Migration from host}``.

    On nova's index of (deleted, source_compute, ...).
    """
    migrations = objects.MigrationList.get_by_filters(
        context, {'source_compute': host,
                  'migration_type': fields.MigrationType.EVACUATION})
    return {migration.instance_uuid: migration
            for migration in sorted(migrations, key=lambda m: m.id)}


def servers_of(context, host):
    """The servers of a host, and those evacuated from it.

    Servers leave a reported host only through evacuations: those evacuated
    from it are found through its evacuation migrations (on an index of
    ``source_compute``) and read by uuid, never by reading the whole cell.

    :returns: rows (nova_hoststatus.db, with their records) of the servers
        on the host, rows of those evacuated from it and elsewhere now, and
        ``{uuid: latest evacuation Migration from the host}``.
    """
    on_host = db.instances_on_host(context, host)
    evacuations = evacuations_from(context, host)
    here = {row.uuid for row in on_host}
    gone = db.instances_with_records(
        context, [uuid for uuid in evacuations if uuid not in here])
    return on_host, gone, evacuations


def server_on_reported_host(context, server_uuid):
    """``(Instance, host)`` if the server's host is reported down.

    Reported: the host's service is forced down and the server has the
    record of a report of that host. A service forced down through stock's
    os-services alone is not: stock's behaviour is kept. None when it is
    not, or when the server is not found. Statements on indexes: its
    mapping, its row, its host's service, and if forced down, its record.
    """
    try:
        mapping = objects.InstanceMapping.get_by_instance_uuid(context,
                                                               server_uuid)
    except nova_exception.InstanceMappingNotFound:
        return None
    if mapping.cell_mapping is None:
        # Not scheduled yet: on no host.
        return None
    with nova_context.target_cell(context, mapping.cell_mapping) as cctxt:
        try:
            instance = objects.Instance.get_by_uuid(cctxt, server_uuid,
                                                    expected_attrs=[])
        except nova_exception.InstanceNotFound:
            return None
        if not instance.host:
            return None
        try:
            service = objects.Service.get_by_compute_host(cctxt,
                                                          instance.host)
        except nova_exception.ComputeHostNotFound:
            return None
        if not service.forced_down:
            return None
        rows = db.instances_with_records(cctxt, [server_uuid])
    if not (rows and prefault.of_host(rows[0], instance.host)):
        return None
    return instance, instance.host
