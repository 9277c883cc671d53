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

"""Evacuate a reported host's servers, each back in its pre-fault state.

Each server goes through Nova's own evacuate (``compute.api.API.evacuate``:
the migration record, the scheduler, conductor and the rebuild on the
destination). What differs from a plain evacuate is the vm_state the
server is evacuated in: the one recovery restores
(``prefault.RESTORED_VM_STATE``), set in the very save with which
evacuate marks the server REBUILDING, so the rebuild spawns it running or
leaves it powered off. Its owner reads REBUILD until it runs elsewhere,
never ACTIVE on the down host.

Nothing is kept of a recovery but Nova's own state, the pre-fault
records, and on each server sent a mark naming the host evacuation (the
request) it belongs to: nova-hoststatus-watcher follows the marked
servers to the end of their evacuation, outside nova-api
(:mod:`nova_hoststatus.recovery.follower`). A recovery cut short is
completed by repeating the call, which evacuates what is still on the host
with no task running.
"""

import collections
from concurrent import futures

from oslo_db import exception as db_exc
from oslo_log import log as logging

from nova.compute import api as compute_api
from nova.compute import vm_states
from nova import exception as nova_exception
from nova import objects
from nova import servicegroup

import nova_hoststatus.conf
from nova_hoststatus import context as hs_context
from nova_hoststatus import db
from nova_hoststatus import exception
from nova_hoststatus import guard
from nova_hoststatus import host_state
from nova_hoststatus import prefault
from nova_hoststatus.recovery import status

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

# Why a server was not evacuated.
SKIP_NOT_EVACUABLE = 'vm_state_not_evacuable'
SKIP_TASK = 'task_in_progress'
SKIP_EVACUATED = 'already_evacuated'
SKIP_STATE_CHANGED = 'state_changed_concurrently'
SKIP_REFUSED = 'evacuate_refused'

ServerRecovery = collections.namedtuple(
    'ServerRecovery', ['uuid', 'project_id', 'host', 'vm_state',
                       'task_state', 'pre_fault', 'restored_vm_state',
                       'status'])
Evacuation = collections.namedtuple(
    'Evacuation', ['uuid', 'project_id', 'pre_fault', 'restored_vm_state',
                   'reason', 'message', 'migration_uuid'])
# The servers of a host's recovery: rows of those on the host and of those
# evacuated from it with a record of its fault, the latest evacuation from
# the host of each, ``{uuid: prefault.Record}`` of its fault, and the
# fault (prefault.Fault, None if no server has a record of one).
Servers = collections.namedtuple(
    'Servers', ['on_host', 'moved', 'evacuations', 'records', 'fault'])
# What a host evacuation will do: skip results, rows to evacuate, servers
# found rebuilt elsewhere whose records are left; ``context`` is targeted at
# the host's cell.
Plan = collections.namedtuple(
    'Plan', ['context', 'skipped', 'to_evacuate', 'recovered', 'records'])

# What stock's evacuate controller loads a server with (common.get_instance
# adds metadata, system_metadata, security_groups and info_cache).
EVACUATE_ATTRS = ['trusted_certs', 'pci_requests', 'pci_devices',
                  'resources', 'migration_context', 'metadata',
                  'system_metadata', 'security_groups', 'info_cache']


def _pre_fault(row, records):
    """``(pre-fault state, restored vm_state)`` of a row."""
    pre_fault = prefault.state_of(row, records.get(row.uuid))
    return pre_fault, prefault.RESTORED_VM_STATE.get(pre_fault.vm_state)


def _skip(row, records, reason, message=None):
    return Evacuation(row.uuid, row.project_id,
                      *_pre_fault(row, records), reason, message, None)


class API(object):
    """Host recovery; callers pass an admin-checked context."""

    def __init__(self):
        self.compute_api = compute_api.API()
        self.servicegroup_api = servicegroup.API()

    @staticmethod
    def _servers(context, host):
        """The Servers of the host's recovery."""
        on_host, gone, evacuations = host_state.servers_of(context, host)
        fault = prefault.current_fault(on_host + gone, host)
        records = {row.uuid: prefault.of_fault(row, host, fault)
                   for row in on_host + gone}
        moved = [row for row in gone if records[row.uuid] is not None]
        return Servers(on_host, moved, evacuations, records, fault)

    def show(self, context, host):
        """The host's state, with the recovery of each of its servers.

        :returns: a HostState whose ``recovery`` lists ServerRecovery
            tuples while the host is reported down or servers evacuated
            from it still have their record; else None.
        """
        with host_state.compute_service(context, host) as compute:
            cctxt, service = compute
            servers = self._servers(cctxt, host)
        recovery = None
        if service.forced_down or servers.moved:
            recovery = [
                ServerRecovery(
                    row.uuid, row.project_id, row.host, row.vm_state,
                    row.task_state, *_pre_fault(row, servers.records),
                    status.recovery_status(
                        row, host, servers.evacuations.get(row.uuid)))
                for row in servers.on_host + servers.moved]
        return host_state.HostState(
            service, self.servicegroup_api.service_is_up(service),
            recovery=recovery, fault=servers.fault)

    def plan(self, context, host, destination=None, servers=None,
             force=False):
        """What a host evacuation of ``host`` would do; nothing changes.

        :returns: a Plan.
        :raises: HostNotFound, HostNotReported, HostContradicted,
            HostNotFenced, ServersNotOnHost, DestinationInvalid,
            DestinationNotFound.
        """
        with host_state.compute_service(context, host) as compute:
            return self._plan_in_cell(*compute, host, destination, servers,
                                      force)

    def _plan_in_cell(self, context, service, host, destination, wanted,
                      force=False):
        if (not service.forced_down or
                self.servicegroup_api.service_is_up(service)):
            raise exception.HostNotReported(host=host)
        if destination is not None:
            self._check_destination(context, host, destination)
        servers = self._servers(context, host)
        if servers.on_host:
            # A host that may still run its servers: see guard.
            guard.check_evacuation(service, servers.fault, host, force)
        skipped, to_evacuate = self._plan(host, servers, wanted)
        # Rebuilt elsewhere and no longer followed (a marked one is the
        # watcher's to tell): nothing left to restore.
        recovered = [
            row.uuid for row in servers.moved
            if row.recovery is None and status.recovery_status(
                row, host, servers.evacuations.get(row.uuid)) ==
            status.RECOVERED]
        return Plan(context, skipped, to_evacuate, recovered,
                    servers.records)

    def evacuate(self, context, host, destination=None, servers=None,
                 force=False):
        """Evacuate the servers of a reported host; return each result.

        :param destination: the host to rebuild them on; None lets the
            scheduler choose, server by server.
        :param servers: the uuids of the servers to evacuate; None for all.
        :param force: evacuate a host whose nova-compute reported after
            the report (contradicted) and whose report did not attest
            fencing, or any unfenced one with ``require_fenced``.
        :returns: Evacuation tuples, accepted ones with their migration.
        :raises: as :meth:`plan`, before anything is evacuated.
        """
        with host_state.compute_service(context, host) as compute:
            plan = self._plan_in_cell(*compute, host, destination, servers,
                                      force)
            cctxt = plan.context
            db.records_delete(cctxt, plan.recovered)
            # Marked before they are sent, so that the watcher follows
            # every evacuation accepted, whatever happens to this process.
            self._mark(cctxt, host, plan.to_evacuate)
        results = plan.skipped + self._evacuate_all(
            cctxt, host, destination, plan.to_evacuate, plan.records)
        sent = {row.uuid for row in plan.to_evacuate}
        self._unmark(cctxt, [r.uuid for r in results
                             if r.reason is not None and r.uuid in sent])
        LOG.info('Host %(host)s recovery: %(accepted)d of %(total)d '
                 'servers evacuating.',
                 {'host': host, 'total': len(results),
                  'accepted': sum(1 for r in results if r.reason is None)})
        return results

    @staticmethod
    def _mark(context, host, rows):
        """Mark ``rows`` as sent by this host evacuation."""
        uuids = [row.uuid for row in rows]
        db.records_delete(context, [row.uuid for row in rows if row.recovery],
                          keys=(db.RECOVERY_KEY,))
        mark = prefault.mark(host, context.request_id)
        db.records_create(context, db.RECOVERY_KEY,
                          {uuid: mark for uuid in uuids})

    @staticmethod
    def _unmark(context, uuids):
        """Unmark the servers this host evacuation did not evacuate."""
        try:
            db.records_delete(context, uuids, keys=(db.RECOVERY_KEY,))
        except db_exc.DBError:
            # The others are evacuating: answer. The watcher tells these
            # as not recovered.
            LOG.warning('Cannot unmark servers %s, not evacuated.', uuids,
                        exc_info=True)

    @classmethod
    def _plan(cls, host, servers, wanted):
        """``(skip results, rows to evacuate)`` of the wanted servers.

        :raises: ServersNotOnHost.
        """
        on_host, moved, records = (servers.on_host, servers.moved,
                                   servers.records)
        results = []
        if wanted is not None:
            wanted = set(wanted)
            moved = {row.uuid: row for row in moved}
            on_host = [row for row in on_host if row.uuid in wanted]
            results = [_skip(moved[uuid], records, SKIP_EVACUATED)
                       for uuid in sorted(wanted) if uuid in moved]
            results.extend(cls._evacuated_before(
                host, wanted - set(moved) - {row.uuid for row in on_host},
                servers.evacuations))
        to_evacuate = []
        for row in on_host:
            if row.vm_state not in status.EVACUABLE_VM_STATES:
                results.append(_skip(row, records, SKIP_NOT_EVACUABLE))
            elif row.task_state is not None:
                results.append(_skip(row, records, SKIP_TASK))
            else:
                to_evacuate.append(row)
        return results, to_evacuate

    @staticmethod
    def _evacuated_before(host, uuids, evacuations):
        """Skip results for servers evacuated from ``host``, records gone.

        :raises: ServersNotOnHost for those never evacuated from it.
        """
        unknown = uuids - set(evacuations)
        if unknown:
            raise exception.ServersNotOnHost(
                host=host, servers=', '.join(sorted(unknown)))
        return [Evacuation(uuid, None, prefault.UNKNOWN, None,
                           SKIP_EVACUATED, None, None)
                for uuid in sorted(uuids)]

    @staticmethod
    def _check_destination(context, host, destination):
        """Nova rebuilds an evacuated server in its own cell only."""
        if destination == host:
            raise exception.DestinationInvalid(
                destination=destination,
                why='it is the host being recovered')
        try:
            mapping = objects.HostMapping.get_by_host(context, destination)
        except nova_exception.HostMappingNotFound:
            raise exception.DestinationNotFound(destination=destination)
        if mapping.cell_mapping.uuid != context.cell_uuid:
            raise exception.DestinationInvalid(
                destination=destination,
                why='it is in cell %s, and Nova evacuates servers within '
                    'their own cell only' % mapping.cell_mapping.identity)
        try:
            objects.ComputeNodeList.get_all_by_host(context, destination)
        except nova_exception.ComputeHostNotFound:
            raise exception.DestinationNotFound(destination=destination)

    def _evacuate_all(self, context, host, destination, rows, records):
        """Evacuate ``rows``, at most ``evacuate_workers`` at a time.

        :param context: targeted at the host's cell, as stock's evacuate
            controller targets the request's context (common.get_instance)
            before it calls evacuate. Each worker gets a copy of its own,
            and loads its server with it.
        """
        if not rows:
            return []

        # The caller's rules were checked; the servers are of other
        # projects, which Nova reads for an admin context only: a fault
        # monitor with a role of its own (doc/source/deploy.rst) is none.
        # The instance actions still name the caller.
        admin = context.elevated()

        def evacuate(row):
            wctxt = hs_context.for_thread(admin)
            wctxt.update_store()
            return self._evacuate_one(wctxt, destination, row, records)

        workers = min(CONF.hoststatus.evacuate_workers, len(rows))
        with futures.ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(evacuate, rows))
        return self._with_migrations(context, host, results)

    def _evacuate_one(self, context, destination, row, records):
        pre_fault, restored = _pre_fault(row, records)
        restored = restored or vm_states.STOPPED
        try:
            instance = objects.Instance.get_by_uuid(
                context, row.uuid, expected_attrs=EVACUATE_ATTRS)
        except nova_exception.InstanceNotFound:
            return _skip(row, records, SKIP_STATE_CHANGED)
        if instance.vm_state != row.vm_state:
            return _skip(row, records, SKIP_STATE_CHANGED)
        # Saved with the REBUILDING task by evacuate itself: see the module
        # docstring.
        instance.vm_state = restored
        try:
            self.compute_api.evacuate(context, instance, destination,
                                      on_shared_storage=None,
                                      force=False if destination else None)
        except (nova_exception.InstanceInvalidState,
                nova_exception.UnexpectedTaskStateError,
                nova_exception.InstanceNotFound):
            return _skip(row, records, SKIP_STATE_CHANGED)
        except nova_exception.NovaException as exc:
            LOG.warning('Evacuation refused: %s', exc, instance=instance)
            return _skip(row, records, SKIP_REFUSED, exc.format_message())
        except Exception as exc:
            # As stock evacuate would answer 500; the other servers' results
            # still need answering.
            LOG.exception('Evacuation failed.', instance=instance)
            return _skip(row, records, SKIP_REFUSED,
                         'Unexpected error: %s' % type(exc).__name__)
        return Evacuation(row.uuid, row.project_id, pre_fault, restored,
                          None, None, None)

    @staticmethod
    def _with_migrations(context, host, results):
        """Give each accepted evacuation the uuid of its migration."""
        if all(r.reason for r in results):
            return results
        try:
            evacuations = host_state.evacuations_from(context, host)
        except db_exc.DBError:
            # The evacuations are under way: answer them, without their
            # migration (GET state shows it).
            LOG.warning('Cannot read the evacuations from host %s.', host,
                        exc_info=True)
            return results
        return [r._replace(migration_uuid=evacuations[r.uuid].uuid)
                if r.reason is None and r.uuid in evacuations else r
                for r in results]
