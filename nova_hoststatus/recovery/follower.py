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

"""Follow a host evacuation until it ends; then tell of it.

Off the request path, on nova-api's default executor: the evacuated
servers are read (one query a poll) until none is being rebuilt any more.
Then the records of those rebuilt elsewhere are removed and
``host_fault.recover`` tells each server's result. A nova-api that stops
before that sends nothing: repeating the host evacuation removes the
records of the servers it finds rebuilt.
"""

import time

from oslo_log import log as logging
from oslo_utils import timeutils

from nova.notifications.objects import base as notification_base
from nova.objects import fields
from nova import thread_pool_factory

import nova_hoststatus.conf
from nova_hoststatus import db
from nova_hoststatus.objects import host_fault as host_fault_obj
from nova_hoststatus.objects import notification
from nova_hoststatus.recovery import status as recovery_status

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

Result = notification.HostRecoveryResult


def follow(context, host, evacuations):
    """Follow the accepted ``evacuations`` of ``host``.

    :param context: a context targeted at the host's cell.
    """
    accepted = {e.uuid: e for e in evacuations if e.reason is None}
    if accepted:
        thread_pool_factory.spawn(_logged, context, host, accepted)


def _logged(context, host, accepted):
    # Nothing waits for the future: say what went wrong here.
    try:
        _follow(context, host, accepted)
    except Exception:
        LOG.exception('Following the recovery of host %s failed.', host)


def _result(row, host, evacuation):
    if row is None:
        # Deleted meanwhile.
        return Result.FAILED
    status = recovery_status.recovery_status(row, host, evacuation)
    if status == recovery_status.EVACUATING:
        return Result.TIMED_OUT
    return Result.RECOVERED if status == recovery_status.RECOVERED \
        else Result.FAILED


def _follow(context, host, accepted):
    deadline = time.monotonic() + CONF.hoststatus.recovery_timeout
    while True:
        rows = {row.uuid: row
                for row in db.instances_by_uuid(context, list(accepted))}
        evacuations = recovery_status.evacuations_from(context, host)
        results = {uuid: _result(rows.get(uuid), host,
                                 evacuations.get(uuid))
                   for uuid in accepted}
        if (Result.TIMED_OUT not in results.values() or
                time.monotonic() > deadline):
            break
        time.sleep(CONF.hoststatus.recovery_poll_interval)
    recovered = [uuid for uuid, result in results.items()
                 if result == Result.RECOVERED]
    if recovered:
        db.pre_fault_states_delete(context, recovered)
    LOG.info('Host %(host)s recovery ended: %(recovered)d of %(total)d '
             'servers recovered.',
             {'host': host, 'recovered': len(recovered),
              'total': len(accepted)})
    _send(context, host, accepted, rows, results)


def _send(context, host, accepted, rows, results):
    servers = []
    for uuid, evacuation in accepted.items():
        row = rows.get(uuid)
        servers.append(notification.HostRecoveryServerPayload(
            instance_uuid=uuid, project_id=evacuation.project_id,
            host=row.host if row else None,
            pre_fault_vm_state=evacuation.pre_fault.vm_state,
            vm_state=row.vm_state if row else None,
            result=results[uuid]))
    notification.HostRecoveryNotification(
        priority=fields.NotificationPriority.INFO,
        event_type=notification.HostFaultEventType(
            object='host_fault',
            action=host_fault_obj.HostFaultAction.RECOVER),
        publisher=notification_base.NotificationPublisher(
            host=CONF.host, source=fields.NotificationSource.API),
        payload=notification.HostRecoveryPayload(
            host=host, request_id=context.request_id,
            ended_at=timeutils.utcnow(), servers=servers)).emit(context)
