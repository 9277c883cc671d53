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

"""Report a compute host down, clear the report, enable, disable, maintain.

The semantics of a host fault report:

* the host's nova-compute service is forced down;
* every instance on the host that is not deleted and whose vm_state is not
  soft-delete, deleted, resized or error gets the target vm_state
  (``[hoststatus] target_vm_state``), power_state shutdown and no task_state,
  so that evacuate is allowed at once;
* an instance whose state changed since it was read is left alone
  (compare-and-set) and reported as skipped;
* a server being evacuated (its task a rebuild, or its evacuation from
  the host running) is left alone: a report repeated during a recovery
  must not stop what the recovery is starting elsewhere;
* each changed instance gets an instance action record, and each server on
  the host a record of its pre-fault state for recovery
  (nova_hoststatus.prefault), of this fault;
* all of it commits in one transaction on the host's cell, or nothing does;
  repeating a report changes nothing.

Clearing a report unsets forced_down and removes the pre-fault records of
its fault; the servers left on the host stay as they are.
"""

import collections
import datetime

from oslo_db import api as oslo_db_api
from oslo_log import log as logging
from oslo_utils import timeutils

from nova.compute import api as compute_api
from nova.compute import power_state
from nova.compute import task_states
from nova.compute import vm_states
from nova import exception as nova_exception
from nova import objects
from nova.objects import fields
from nova import servicegroup

import nova_hoststatus.conf
from nova_hoststatus import db
from nova_hoststatus import exception
from nova_hoststatus import guard
from nova_hoststatus import host_state
from nova_hoststatus.notifications import host_fault as \
    host_fault_notifications
from nova_hoststatus.notifications import host_status
from nova_hoststatus import prefault

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

# The instance action recorded on each instance a report changes.
HOST_DOWN_ACTION = 'host_down_reported'

UNTOUCHED_VM_STATES = frozenset([vm_states.SOFT_DELETED, vm_states.DELETED,
                                 vm_states.RESIZED, vm_states.ERROR])
# Servers that are not to be recovered.
GONE_VM_STATES = frozenset([vm_states.SOFT_DELETED, vm_states.DELETED])

# Why an instance on a reported host was not changed.
SKIP_UNTOUCHED_VM_STATE = 'untouched_vm_state'
SKIP_ALREADY_IN_TARGET_STATE = 'already_in_target_state'
SKIP_STATE_CHANGED = 'state_changed_concurrently'
SKIP_BEING_EVACUATED = 'being_evacuated'
SKIP_BEING_DELETED = 'being_deleted'

# The tasks of an owner's delete that was cast to the compute: left to it.
DELETE_TASK_STATES = frozenset([task_states.DELETING,
                                task_states.SOFT_DELETING])

# The tasks of Nova's rebuild, which an evacuation runs.
REBUILD_TASK_STATES = frozenset([task_states.REBUILDING,
                                 task_states.REBUILD_BLOCK_DEVICE_MAPPING,
                                 task_states.REBUILD_SPAWNING])

InstanceChange = collections.namedtuple(
    'InstanceChange', ['uuid', 'project_id', 'old_vm_state',
                       'old_task_state', 'old_power_state'])
InstanceSkip = collections.namedtuple(
    'InstanceSkip', ['uuid', 'project_id', 'vm_state', 'task_state',
                     'reason'])


def target_instance_state():
    return {'vm_state': CONF.hoststatus.target_vm_state,
            'task_state': None,
            'power_state': power_state.SHUTDOWN}


def _service_changes(service, enabled, maintenance, host_down_reported,
                     reason=None):
    """The service columns an update sets, applied in a fixed order.

    Maintenance first, then status: ``disable`` with maintenance ``enable``
    leaves the host in maintenance, ``disable`` with maintenance ``disable``
    leaves it disabled with ``reason``.
    """
    if enabled is True and maintenance is True:
        raise exception.ContradictoryHostUpdate()
    in_maintenance = (True, host_state.MAINTENANCE_REASON)
    # (disabled, disabled_reason) as the update leaves them.
    disabled = (service.disabled, service.disabled_reason)
    if maintenance is True and disabled != in_maintenance:
        if service.disabled:
            raise exception.AlreadyDisabled(host=service.host,
                                            reason=service.disabled_reason)
        disabled = in_maintenance
    elif maintenance is False and disabled == in_maintenance:
        disabled = (False, None)
    if enabled is True:
        disabled = (False, None)
    elif enabled is False and not disabled[0]:
        disabled = (True, reason)

    changes = {}
    if disabled != (service.disabled, service.disabled_reason):
        changes.update(disabled=disabled[0], disabled_reason=disabled[1])
    if (host_down_reported is not None and
            host_down_reported != service.forced_down):
        changes['forced_down'] = host_down_reported
    return changes


# How often an update reads the service again when another update of the
# host committed first.
SERVICE_RACE_RETRIES = 3


class _ServiceRaced(Exception):
    """The service changed between its read and the update's commit."""


class API(object):
    """The host fault operations; callers pass an admin-checked context."""

    def __init__(self):
        self.servicegroup_api = servicegroup.API()
        self.host_api = compute_api.HostAPI()
        self.compute_api = compute_api.API()

    def update(self, context, host, host_down_reported=None, enabled=None,
               maintenance=None, reason=None, force=False, fenced=False,
               restore=False):
        """Apply a host update; raise before changing anything if invalid.

        :param host_down_reported: True reports the host down, False clears
            the report, None leaves it.
        :param enabled: True enables the nova-compute service, False
            disables it, None leaves it.
        :param maintenance: True puts the host into maintenance mode, False
            takes it out, None leaves it.
        :param reason: why; the disabled_reason when the update disables
            the service.
        :param force: a report passes the runaway guard (nova_hoststatus
            .guard) whatever the number of hosts reported down.
        :param fenced: the report attests that the host was fenced; kept
            with the fault's records.
        :param restore: a clear starts again, in place, the servers the
            report stopped that were running before it.
        :returns: a HostState; after a report it lists the changed and the
            skipped instances, after a clear with restore the restored.
        """
        if host_down_reported and not force:
            # Before the host's cell is entered: it reads every cell. A
            # host reported already is neither refused nor counted again.
            guard.check_report(context, host, reason)
        # The service read may be stale by the time the update commits
        # (another monitor's report, a clear): read it again then.
        for _attempt in range(SERVICE_RACE_RETRIES):
            with host_state.compute_service(context, host) as compute:
                cctxt, service = compute
                changes = _service_changes(service, enabled, maintenance,
                                           host_down_reported, reason)
                to_restore = []
                if changes.get('forced_down') is False:
                    if restore:
                        to_restore = self._restorable(cctxt, host)
                    self._assert_evacuations_completed(cctxt, host)
                    self._assert_recoveries_told(cctxt, host)
                try:
                    changed, skipped, retold, fault = self._commit(
                        cctxt, service, host, changes, host_down_reported,
                        fenced)
                except _ServiceRaced:
                    continue
                self._service_changed(cctxt, service, changes, changed,
                                      reason, retold,
                                      fenced=bool(fenced or (
                                          fault and fault.fenced)))
                restored = None
                if restore and host_down_reported is False:
                    restored = self._restore(cctxt, to_restore)
                LOG.info('Host %(host)s updated: service %(changes)s, '
                         '%(changed)s instances changed.',
                         {'host': host, 'changes': changes,
                          'changed': len(changed or ())})
                state = host_state.HostState(
                    service, self.servicegroup_api.service_is_up(service),
                    changed, skipped, fault=fault)
                state.restored = restored
                return state
        raise exception.HostUpdatedConcurrently(host=host)

    # A deadlock (frequent on Galera) rolled everything back: run it all
    # again, reading anew, as nova's own DB API does.
    @oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
    def _commit(self, context, service, host, changes, host_down_reported,
                fenced=False):
        """Apply an update in one transaction on the host's cell.

        The service row is compared-and-set first: it is then locked, and
        the service is as read. A report of a host reported already is the
        same fault, told again (see _stop_instances).

        :returns: the changed, the skipped and the retold instances of a
            report and its prefault.Fault, or (None, None, (), None).
        :raises: _ServiceRaced when the service changed since it was read.
        """
        values = dict(changes)
        if host_down_reported is not None:
            # Even when unchanged: a report must find it as read, and the
            # lock keeps a second report of the host waiting for this one.
            values.setdefault('forced_down', host_down_reported)
        changed = skipped = fault = None
        retold = ()
        as_read = {column: getattr(service, column) for column in values}
        with db.writer(context):
            if values and not db.service_compare_and_set(
                    context, service.id, as_read, values):
                raise _ServiceRaced()
            if host_down_reported:
                changed, skipped, retold, fault = self._stop_instances(
                    context, host, repeated=service.forced_down,
                    fenced=fenced)
            elif changes.get('forced_down') is False:
                self._forget_fault(context, host)
        return changed, skipped, retold, fault

    @staticmethod
    def _assert_evacuations_completed(context, host):
        # As stock force-up does: a compute service that has not restarted
        # since its instances were evacuated still has them on its disks, and
        # only its restart (which completes the migrations) deletes them.
        filters = {'source_compute': host,
                   'status': ['accepted', 'pre-migrating', 'running', 'done'],
                   'migration_type': fields.MigrationType.EVACUATION}
        statuses = {migration.status for migration in
                    objects.MigrationList.get_by_filters(context, filters)}
        if statuses - {'done'}:
            # Still running: a compute service back now would find them
            # half done.
            raise exception.RecoveryInProgress(host=host)
        if statuses:
            raise exception.EvacuationsNotCompleted(host=host)

    @staticmethod
    def _assert_recoveries_told(context, host):
        # The watcher follows the recoveries of the hosts reported down
        # only: once cleared, an untold one would never be told. A mark
        # older than recovery_timeout is one no watcher followed.
        on_host, gone, _evacuations = host_state.servers_of(context, host)
        since = timeutils.utcnow() - datetime.timedelta(
            seconds=CONF.hoststatus.recovery_timeout)
        if any(marked.sent_at > since for marked in
               prefault.marks_of(on_host + gone, host).values()):
            raise exception.RecoveryNotTold(
                host=host, interval=CONF.hoststatus.watch_interval)

    @staticmethod
    def _restorable(context, host):
        """The rows a clear with restore starts again, and their records.

        Those of the report's fault still as the report left them (the
        target state) that were running before it (prefault
        .RESTORED_VM_STATE active). Nothing is restored if a server of the
        fault left the host: it may run elsewhere now.

        :raises: ServersLeftHost.
        """
        on_host, gone, evacuations = host_state.servers_of(context, host)
        fault = prefault.current_fault(on_host + gone, host)
        if fault is None:
            return []
        since = timeutils.normalize_time(fault.reported_at)
        left = sorted(
            uuid for uuid, migration in evacuations.items()
            if migration.status not in host_state.MIGRATION_FAILED and
            timeutils.normalize_time(migration.created_at) >= since)
        if left:
            raise exception.ServersLeftHost(host=host,
                                            servers=', '.join(left))
        target = target_instance_state()
        restorable = []
        for row in on_host:
            record = prefault.of_fault(row, host, fault)
            if record is None or (row.vm_state, row.task_state,
                                  row.power_state) != (
                    target['vm_state'], target['task_state'],
                    target['power_state']):
                continue
            restored = prefault.RESTORED_VM_STATE.get(record.state.vm_state)
            if restored == vm_states.ACTIVE:
                restorable.append((row, record))
        return restorable

    def _restore(self, context, restorable):
        """Start the restorable servers again, through Nova's start.

        The report is cleared: the host's nova-compute, which never went
        down, powers each guest on (or finds it running) and Nova's records
        say ACTIVE again. A server whose state changed since (an owner
        started or deleted it) is Nova's to refuse.

        The caller's rule was checked; the servers are of other projects,
        which Nova reads for an admin context only: a fault monitor with a
        role of its own (doc/source/deploy.rst) is none. The instance
        actions still name the caller.

        :returns: ``(uuid, project_id, pre-fault vm_state, error or None)``
            of each.
        """
        context = context.elevated()
        restored = []
        for row, record in restorable:
            error = None
            try:
                instance = objects.Instance.get_by_uuid(context, row.uuid)
                self.compute_api.start(context, instance)
                LOG.info('Started again: its host was wrongly reported '
                         'down.', instance=instance)
            except nova_exception.NovaException as exc:
                error = exc.format_message()
                LOG.warning('Not started again: %s', error,
                            instance_uuid=row.uuid)
            restored.append((row.uuid, row.project_id,
                             record.state.vm_state, error))
        return restored

    @staticmethod
    def _forget_fault(context, host):
        """Remove the records of the host's fault, its report cleared.

        Those of the servers on the host and of those evacuated from it
        (whose recovery was not followed to its end); records that another
        host's fault wrote are not this one's.
        """
        on_host, gone, _evacuations = host_state.servers_of(context, host)
        rows = on_host + gone
        marked = prefault.marks_of(rows, host)
        db.records_delete(context, [row.uuid for row in rows
                                    if prefault.of_host(row, host) or
                                    row.uuid in marked])

    @staticmethod
    def _stop_instances(context, host, repeated=False, fenced=False):
        """Compare-and-set every affected instance on the host.

        Runs inside the caller's transaction.

        :param repeated: whether the host was reported down already: the
            same fault, whose records are kept.
        :returns: the changed and the skipped instances, and, for a repeated
            report, the instances the same fault changed earlier, to be told
            again: the earlier report's notifications are sent after its
            commit and are lost if its nova-api dies before they are. And
            the fault (prefault.Fault).
        :param fenced: the report attests fencing: kept in the fault's
            records; a repeated report that attests it marks the records
            of the same fault fenced.
        """
        target = target_instance_state()
        target_state = (target['vm_state'], target['task_state'],
                        target['power_state'])
        rows = db.instances_on_host(context, host)
        fault = repeated and prefault.current_fault(rows, host)
        fault = fault or prefault.new_fault(fenced)
        evacuating = set()
        if repeated:
            evacuating = {
                uuid for uuid, migration in host_state.evacuations_from(
                    context, host).items()
                if migration.status in host_state.MIGRATION_RUNNING}
        # {uuid: Record} of this fault: a new fault records every server
        # anew (the owner may have changed it since the last one).
        records = {}
        if repeated:
            records = {row.uuid: prefault.of_fault(row, host, fault)
                       for row in rows}
            if fenced and not fault.fenced:
                # Fenced since the fault was first reported.
                fault = fault._replace(fenced=True)
                refenced = {uuid: record for uuid, record in records.items()
                            if record is not None and not record.fenced}
                db.records_delete(context, list(refenced),
                                  keys=(db.PRE_FAULT_KEY,))
                db.records_create(
                    context, db.PRE_FAULT_KEY,
                    {uuid: prefault.encode(host, fault, record.state)
                     for uuid, record in refenced.items()})
        candidates, skipped, unrecorded, retold = [], [], [], []
        for row in rows:
            record = records.get(row.uuid)
            if row.vm_state in UNTOUCHED_VM_STATES:
                reason = SKIP_UNTOUCHED_VM_STATE
            elif row.task_state in DELETE_TASK_STATES:
                # Stopped, its task_state would be gone and a host
                # evacuation would rebuild it, to run on the destination
                # after its delete ran on the compute's return.
                skipped.append(InstanceSkip(
                    row.uuid, row.project_id, row.vm_state, row.task_state,
                    SKIP_BEING_DELETED))
                continue
            elif (row.task_state in REBUILD_TASK_STATES or
                    row.uuid in evacuating):
                # Its recovery runs: neither stopped nor recorded again.
                skipped.append(InstanceSkip(
                    row.uuid, row.project_id, row.vm_state, row.task_state,
                    SKIP_BEING_EVACUATED))
                continue
            elif (row.vm_state, row.task_state,
                  row.power_state) == target_state:
                reason = SKIP_ALREADY_IN_TARGET_STATE
                if record is not None and tuple(record.state) != target_state:
                    retold.append(InstanceChange(row.uuid, row.project_id,
                                                 *record.state))
            else:
                candidates.append(row)
                continue
            skipped.append(InstanceSkip(row.uuid, row.project_id,
                                        row.vm_state, row.task_state, reason))
            if record is None and row.vm_state not in GONE_VM_STATES:
                unrecorded.append(row)

        changed = []
        if candidates:
            candidates = API._compare_and_set(context, candidates, target,
                                              skipped)
            db.instance_actions_create(context, HOST_DOWN_ACTION, candidates)
            changed = [InstanceChange(row.uuid, row.project_id, row.vm_state,
                                      row.task_state, row.power_state)
                       for row in candidates]
        # What recovery restores: the state each server had before this
        # fault. Records of another fault or host are replaced.
        to_record = [row for row in candidates + unrecorded
                     if records.get(row.uuid) is None]
        db.records_delete(context, [row.uuid for row in to_record
                                    if row.pre_fault or row.recovery])
        db.records_create(
            context, db.PRE_FAULT_KEY,
            {row.uuid: prefault.encode(host, fault, row)
             for row in to_record})
        # Kept in the records only: a host with no server keeps no fault.
        return changed, skipped, retold, fault if rows else None

    @staticmethod
    def _compare_and_set(context, candidates, target, skipped):
        """Set ``target`` on the candidates still as read; return those.

        The others were changed by someone else after they were read: not
        ours to change. They are added to ``skipped`` as they are now.
        """
        updated = set(db.instances_compare_and_set(
            context,
            [(row.uuid, row.vm_state, row.task_state) for row in candidates],
            target))
        raced = [row for row in candidates if row.uuid not in updated]
        if raced:
            states = db.instance_states(context, [row.uuid for row in raced])
            for row in raced:
                vm_state, task_state, _power = states.get(
                    row.uuid, (vm_states.DELETED, None, None))
                skipped.append(InstanceSkip(row.uuid, row.project_id,
                                            vm_state, task_state,
                                            SKIP_STATE_CHANGED))
        return [row for row in candidates if row.uuid in updated]

    def _service_changed(self, context, service, changes, changed=None,
                         reason=None, retold=(), fenced=None):
        """Tell the rest of nova about a committed host update.

        Its notifications (nova's service.update and instance.update,
        host_fault.report or host_fault.clear, and host_status.update when
        the servers' host_status changed) are queued now that the
        change is committed and sent after the response, in order: see
        nova_hoststatus.notifications.host_fault. A repeated report tells
        the ``retold`` instances again.
        """
        previous_service = service.obj_clone()
        if changes:
            service.update(changes)
            service.obj_reset_changes()
        try:
            host_statuses = (
                host_status.of(previous_service, self.servicegroup_api),
                host_status.of(service, self.servicegroup_api))
        except Exception:
            # The change is committed: tell the rest of it all the same.
            LOG.exception('Cannot tell the host_status of %s; its owners '
                          'are not told.', service.host)
            host_statuses = None
        host_fault_notifications.host_updated(
            context, service, changes, changed, reason,
            target_instance_state() if changed is not None else None,
            host_statuses, retold, fenced)
        if 'disabled' in changes:
            # Sync the COMPUTE_STATUS_DISABLED trait as stock enable/disable
            # does; it is skipped when the compute service is down.
            self.host_api._update_compute_provider_status(context, service)
