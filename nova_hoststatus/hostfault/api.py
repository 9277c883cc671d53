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
* each changed instance gets an instance action record, and a record of
  its pre-fault state for recovery (nova_hoststatus.recovery.prefault);
* all of it commits in one transaction on the host's cell, or nothing does;
  repeating a report changes nothing.

Clearing a report unsets forced_down only: the compute service syncs the
power state of its instances when it reports again.
"""

import collections
import contextlib

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_log import log as logging

from nova.compute import api as compute_api
from nova.compute import power_state
from nova.compute import vm_states
from nova import context as nova_context
from nova import exception as nova_exception
from nova import objects
from nova.objects import fields
from nova import servicegroup

import nova_hoststatus.conf
from nova_hoststatus import db
from nova_hoststatus import exception
from nova_hoststatus.notifications import host_fault as \
    host_fault_notifications
from nova_hoststatus.notifications import host_status
from nova_hoststatus.recovery import prefault

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

# The disabled_reason that marks a service disabled by maintenance mode, so
# that leaving maintenance undoes only what maintenance did.
MAINTENANCE_REASON = 'maintenance_mode'

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

InstanceChange = collections.namedtuple(
    'InstanceChange', ['uuid', 'project_id', 'old_vm_state',
                       'old_task_state', 'old_power_state'])
InstanceSkip = collections.namedtuple(
    'InstanceSkip', ['uuid', 'project_id', 'vm_state', 'task_state',
                     'reason'])


class HostState(object):
    """What the API shows of a compute host."""

    def __init__(self, service, is_up, changed=None, skipped=None,
                 recovery=None):
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
    in_maintenance = (True, MAINTENANCE_REASON)
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


class API(object):
    """The host fault operations; callers pass an admin-checked context."""

    def __init__(self):
        self.servicegroup_api = servicegroup.API()
        self.host_api = compute_api.HostAPI()

    def update(self, context, host, host_down_reported=None, enabled=None,
               maintenance=None, reason=None):
        """Apply a host update; raise before changing anything if invalid.

        :param host_down_reported: True reports the host down, False clears
            the report, None leaves it.
        :param enabled: True enables the nova-compute service, False
            disables it, None leaves it.
        :param maintenance: True puts the host into maintenance mode, False
            takes it out, None leaves it.
        :param reason: why; the disabled_reason when the update disables
            the service.
        :returns: a HostState; after a report it lists the changed and the
            skipped instances.
        """
        with compute_service(context, host) as (cctxt, service):
            changes = _service_changes(service, enabled, maintenance,
                                       host_down_reported, reason)
            if changes.get('forced_down') is False:
                self._assert_evacuations_completed(cctxt, host)

            # A report of a host reported already: the same fault, told
            # again (see _stop_instances).
            repeated = bool(host_down_reported and service.forced_down)
            changed, skipped, retold = self._commit(
                cctxt, service.id, host, changes, host_down_reported,
                repeated)

            self._service_changed(cctxt, service, changes, changed, reason,
                                  retold)
            LOG.info('Host %(host)s updated: service %(changes)s, '
                     '%(changed)s instances changed.',
                     {'host': host, 'changes': changes,
                      'changed': len(changed) if changed is not None else 0})
            return HostState(service,
                             self.servicegroup_api.service_is_up(service),
                             changed, skipped)

    # A deadlock (frequent on Galera) rolled everything back: run it all
    # again, reading anew, as nova's own DB API does.
    @oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
    def _commit(self, context, service_id, host, changes, host_down_reported,
                repeated=False):
        """Apply an update in one transaction on the host's cell.

        :returns: the changed, the skipped and the retold instances of a
            report, or (None, None, ()).
        """
        changed = skipped = None
        retold = ()
        with db.writer(context):
            if changes:
                db.service_update(context, service_id, changes)
            if host_down_reported:
                changed, skipped, retold = self._stop_instances(
                    context, host, repeated)
        return changed, skipped, retold

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
    def _stop_instances(context, host, repeated=False):
        """Compare-and-set every affected instance on the host.

        Runs inside the caller's transaction.

        :param repeated: whether the host was reported down already.
        :returns: the changed and the skipped instances, and, for a repeated
            report, the instances the same fault changed earlier, to be told
            again: the earlier report's notifications are sent after its
            commit and are lost if its nova-api dies before they are.
        """
        target = target_instance_state()
        target_state = (target['vm_state'], target['task_state'],
                        target['power_state'])
        candidates, skipped, unchanged, retold = [], [], [], []
        for row in db.instances_on_host(context, host):
            if row.vm_state in UNTOUCHED_VM_STATES:
                reason = SKIP_UNTOUCHED_VM_STATE
            elif (row.vm_state, row.task_state,
                  row.power_state) == target_state:
                reason = SKIP_ALREADY_IN_TARGET_STATE
                if repeated and row.pre_fault is not None:
                    before = prefault.of(row)
                    if (prefault.failed_host(row) == host and
                            tuple(before) != target_state):
                        retold.append(InstanceChange(
                            row.uuid, row.project_id, *before))
            else:
                candidates.append(row)
                continue
            skipped.append(InstanceSkip(row.uuid, row.project_id,
                                        row.vm_state, row.task_state, reason))
            if row.pre_fault is None and row.vm_state not in GONE_VM_STATES:
                unchanged.append(row)

        changed = []
        if candidates:
            candidates = API._compare_and_set(context, candidates, target,
                                              skipped)
            db.instance_actions_create(context, HOST_DOWN_ACTION, candidates)
            changed = [InstanceChange(row.uuid, row.project_id, row.vm_state,
                                      row.task_state, row.power_state)
                       for row in candidates]
        # What recovery restores: the state each server had until now. A
        # changed server's record left by an earlier fault is replaced (it
        # changed since); an unchanged one's is kept (a repeated report).
        db.pre_fault_states_delete(
            context, [row.uuid for row in candidates if row.pre_fault])
        db.pre_fault_states_create(
            context, {row.uuid: prefault.encode(host, row)
                      for row in candidates + unchanged})
        return changed, skipped, retold

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
                         reason=None, retold=()):
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
            host_statuses, retold)
        if 'disabled' in changes:
            # Sync the COMPUTE_STATUS_DISABLED trait as stock enable/disable
            # does; it is skipped when the compute service is down.
            self.host_api._update_compute_provider_status(context, service)
