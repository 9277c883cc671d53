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

"""The notifications of a committed host update.

In this order, for one update:

1. Nova's ``service.update`` when the service's disabled, disabled_reason
   or forced_down changed;
2. ``host_fault.report`` when a host down report changed something (the
   service or an instance), ``host_fault.clear`` when a clear unset
   forced_down;
3. ``host_status.update`` for each server on the host when its
   host_status changed (:mod:`nova_hoststatus.notifications.host_status`),
   or when a repeated report tells the fault again;
4. Nova's own ``instance.update`` for each instance the report changed, in
   the order of the report's response, built by
   ``nova.notifications.send_update`` as ``Instance.save()`` builds it:
   versioned and, as ``[notifications] notification_format`` asks, legacy
   ``compute.instance.update``, both subject to ``[notifications]
   notify_on_state_change``. Skipped instances get none.

:func:`host_updated` is called only after the transaction committed, so no
notification ever tells of a state that was not committed. It queues the
sending on :data:`nova_hoststatus.notifications.emitter.EMITTER` and
returns: the API answers without waiting for them.

A nova-api that dies between the commit and the sending sends nothing. So
the notifications of a report are sent at least once: a repeated report of
the same fault (the host reported down already), which is what a fault
monitor sends when it got no answer, sends ``host_fault.report``,
``host_status.update`` and ``instance.update`` again for the servers the
fault changed, as they were told the first time (``host_status.update``
with ``previous_host_status`` DOWN, as the host was before the repeated
report). A consumer may see a report's notifications twice.
"""

import functools

from oslo_log import log as logging
from oslo_utils import timeutils

from nova import notifications
from nova import objects

import nova_hoststatus.conf
from nova_hoststatus import context as hs_context
from nova_hoststatus.notifications import emitter
from nova_hoststatus.notifications import host_status
from nova_hoststatus.objects import host_fault as host_fault_obj
from nova_hoststatus.objects import notification as host_fault_notification

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

# The legacy notifier's service name: the change is made by nova-api.
SERVICE = 'api'

# What Nova's InstanceUpdatePayload and legacy info_from_instance read from
# an instance, joined in the one query that loads them all.
INSTANCE_UPDATE_ATTRS = ['metadata', 'system_metadata', 'info_cache',
                         'flavor', 'tags']


def host_updated(context, service, changes, changed=None, reason=None,
                 target=None, host_statuses=None, retold=(), fenced=None):
    """Queue the notifications of a committed host update.

    Only plain values are captured here: the notification objects are
    built on the worker, so a report of N instances costs the request no
    more than a list copy.

    :param context: the request context, targeted at the host's cell.
    :param service: the nova-compute Service, with ``changes`` applied.
    :param changes: the service columns the update set.
    :param changed: the InstanceChange tuples of a host down report, None
        when the update was no report.
    :param reason: the reason the caller gave, if any.
    :param target: the instance state a report sets
        (``hostfault.api.target_instance_state()``).
    :param host_statuses: the host's host_status before and after the
        update.
    :param retold: the InstanceChange tuples of the instances an earlier
        report of the same fault changed, told again after the changed
        ones.
    :param fenced: whether the report's fault was attested fenced.
    """
    if retold:
        changed = list(changed or ()) + list(retold)
    fault = _host_fault_action(changes, changed)
    if not changes and fault is None:
        return
    # Copies: the caller goes on using its context and service object.
    context = hs_context.for_thread(context)
    service = service.obj_clone()
    service._context = context
    emitter.EMITTER.submit(
        send, context, service, changes, fault, reason,
        timeutils.utcnow(), list(changed or ()), target, host_statuses,
        fenced)


def _host_fault_action(changes, changed):
    """'report' or 'clear' when a report or a clear changed something."""
    if changed is not None and (changes.get('forced_down') or changed):
        return host_fault_obj.HostFaultAction.REPORT
    if changes.get('forced_down') is False:
        return host_fault_obj.HostFaultAction.CLEAR
    return None


def _host_fault(context, host, action, reason, changed_at, changed, target,
                fenced=None):
    """The HostFault object of a committed report or clear."""
    if action == host_fault_obj.HostFaultAction.REPORT:
        state = dict(host_down_reported=True, fenced=bool(fenced),
                     target_vm_state=target['vm_state'],
                     target_power_state=target['power_state'],
                     instance_uuids=[change.uuid for change in changed])
    else:
        state = dict(host_down_reported=False, fenced=None,
                     target_vm_state=None,
                     target_power_state=None, instance_uuids=[])
    return host_fault_obj.HostFault(
        host=host, reason=reason, reporter_user_id=context.user_id,
        reporter_project_id=context.project_id,
        request_id=context.request_id, changed_at=changed_at, **state)


def send(context, service, changes, fault, reason, changed_at, changed,
         target, host_statuses=None, fenced=None):
    """Send the notifications of one host update, in order.

    Runs on the emitter's worker. A step that fails is logged and the
    next one still runs. host_status.update goes before instance.update:
    it is what tells every owner of the host's servers, changed or not.
    A repeated report tells no host_status: the host's did not change,
    and one the first report did not tell (its nova-api died) the watcher
    tells.
    """
    if changes:
        # Nova's own service.update, which Service.save() would have sent
        # before the transaction committed.
        _logged(service._send_status_update_notification, changes)
    if fault is not None:
        _logged(send_host_fault, context,
                _host_fault(context, service.host, fault, reason,
                            changed_at, changed, target, fenced))
    if host_statuses and host_statuses[0] != host_statuses[1]:
        _logged(host_status.send_and_record, context, service.host,
                *host_statuses, reason, changed_at)
    if changed:
        _logged(send_instance_updates, context, changed, target)


def _logged(func, *args):
    try:
        func(*args)
    except Exception:
        LOG.exception('Failed to send the notifications of %s', func.__name__)


def send_host_fault(context, host_fault):
    """Emit ``host_fault.report`` or ``host_fault.clear``."""
    host_fault_notification.emit_host_fault(
        context, host_fault_notification.HostFaultNotification,
        host_fault.action,
        host_fault_notification.HostFaultPayload(host_fault))


def send_instance_updates(context, changed, target):
    """Emit Nova's instance.update for each instance a report changed.

    The instances are loaded in one query (plus one for their BDMs when
    ``[notifications] bdms_in_notifications`` is set), whatever their
    number.
    """
    if not CONF.notifications.notify_on_state_change:
        # send_update() would send nothing: spare the query.
        return
    instances = load_instances(context, [change.uuid for change in changed])
    for change in changed:
        instance = instances.get(change.uuid)
        if instance is None:
            LOG.warning('Instance %s was purged before its instance.update '
                        'notification was sent.', change.uuid)
            continue
        # Tell of the state this report committed, even if the instance
        # changed again since.
        instance.update(target)
        instance.obj_reset_changes(target.keys())
        old = {'vm_state': change.old_vm_state,
               'task_state': change.old_task_state,
               'display_name': instance.display_name}
        notifications.send_update(context, old, instance, service=SERVICE)


def load_instances(context, uuids):
    """``{uuid: Instance}`` with what instance.update needs, in bulk."""
    instances = objects.InstanceList.get_by_filters(
        context, {'uuid': uuids}, expected_attrs=INSTANCE_UPDATE_ATTRS)
    found = {instance.uuid: instance for instance in instances}
    missing = [uuid for uuid in uuids if uuid not in found]
    if missing:
        # Deleted since the report committed: the report changed them all
        # the same.
        deleted = objects.InstanceList.get_by_filters(
            context.elevated(read_deleted='yes'), {'uuid': missing},
            expected_attrs=INSTANCE_UPDATE_ATTRS)
        found.update((instance.uuid, instance) for instance in deleted)
    if CONF.notifications.bdms_in_notifications:
        bdms = objects.BlockDeviceMappingList.bdms_by_instance_uuid(
            context, list(found))
        for uuid, instance in found.items():
            # Nova's payload asks each instance for its BDMs, one query
            # each: answer from the bulk read instead.
            instance.get_bdms = functools.partial(bdms.get, uuid, [])
    return found
