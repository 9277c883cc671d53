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

"""Follow host evacuations to their end; then tell of each.

A host evacuation marks each server it sends (a recovery mark,
:func:`nova_hoststatus.prefault.mark`: the host and the request that sent
it) before nova-api hands it to Nova's evacuate. ``nova-hoststatus-watcher``
calls :func:`follow` for each host reported down at each of its checks:
once none of the servers one request sent is still being evacuated (or
``[hoststatus] recovery_timeout`` has passed since), ``host_fault.recover``
tells each one's result; then the records of those recovered and the
marks of all are removed. A report of the host is not cleared while a
recovery is untold (nova_hoststatus.hostfault).

The state is the database's only: nova-api may be restarted or recycled at
any time, and a watcher that restarts, or another that takes over, carries
on where the last one was. A recovery is told once when its watcher is
not killed between sending and removing the marks; at least once otherwise.
"""

import collections
import datetime

from oslo_log import log as logging
from oslo_utils import timeutils


import nova_hoststatus.conf
from nova_hoststatus import db
from nova_hoststatus import host_state
from nova_hoststatus.objects import host_fault as host_fault_obj
from nova_hoststatus.objects import notification
from nova_hoststatus import prefault
from nova_hoststatus.recovery import status as recovery_status

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

Result = notification.HostRecoveryResult

# Statuses of a sent server whose evacuation has not ended: running, or
# not begun yet (the mark is written before the server is handed to Nova).
_UNDER_WAY = frozenset([recovery_status.EVACUATING, recovery_status.PENDING])


def _result(status, timed_out):
    if status == recovery_status.RECOVERED:
        return Result.RECOVERED
    if status == recovery_status.EVACUATING and timed_out:
        return Result.TIMED_OUT
    return Result.FAILED


def follow(context, host):
    """Tell the host evacuations of ``host`` that ended; tidy after them.

    A constant number of statements on indexes: the host's evacuations,
    its servers, the servers evacuated from it.

    :param context: targeted at the host's cell.
    :returns: the request ids of the host evacuations told.
    """
    on_host, gone, evacuations = host_state.servers_of(context, host)
    sent = collections.defaultdict(list)
    unmarked_recovered = []
    for row in on_host + gone:
        status = recovery_status.recovery_status(
            row, host, evacuations.get(row.uuid))
        found = row.recovery and prefault.decode_mark(row.recovery)
        if found and found.host == host:
            sent[found.request_id].append((row, found, status))
        elif (row.host != host and status == recovery_status.RECOVERED and
                prefault.of_host(row, host)):
            # Recovered by a stock evacuate, or told as timed out before
            # its end: nothing left to restore, nothing to tell.
            unmarked_recovered.append(row.uuid)
    if unmarked_recovered:
        db.records_delete(context, unmarked_recovered)

    deadline = timeutils.utcnow() - datetime.timedelta(
        seconds=CONF.hoststatus.recovery_timeout)
    told = []
    for request_id, servers in sent.items():
        timed_out = min(found.sent_at for _row, found, _s in servers) < \
            deadline
        if not timed_out and any(status in _UNDER_WAY
                                 for _row, _found, status in servers):
            continue
        results = {row.uuid: _result(status, timed_out)
                   for row, _found, status in servers}
        _send(context, host, request_id, [row for row, _f, _s in servers],
              results)
        recovered = [uuid for uuid, result in results.items()
                     if result == Result.RECOVERED]
        db.records_delete(context, recovered)
        db.records_delete(context, [uuid for uuid in results
                                    if uuid not in recovered],
                          keys=(db.RECOVERY_KEY,))
        LOG.info('Host %(host)s recovery %(request)s ended: %(recovered)d '
                 'of %(total)d servers recovered.',
                 {'host': host, 'request': request_id,
                  'recovered': len(recovered), 'total': len(results)})
        told.append(request_id)
    return told


def _send(context, host, request_id, rows, results):
    payloads = []
    for row in rows:
        record = prefault.of_host(row, host)
        payloads.append(notification.HostRecoveryServerPayload(
            instance_uuid=row.uuid, project_id=row.project_id,
            host=row.host,
            pre_fault_vm_state=prefault.state_of(row, record).vm_state,
            vm_state=row.vm_state, result=results[row.uuid]))
    notification.emit_host_fault(
        context, notification.HostRecoveryNotification,
        host_fault_obj.HostFaultAction.RECOVER,
        notification.HostRecoveryPayload(
            host=host, request_id=request_id,
            ended_at=timeutils.utcnow(), servers=payloads))
