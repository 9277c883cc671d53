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

"""``host_fault.contradict``: operators told of a contradicted report.

A warning: the nova-compute of a host reported down reported (heartbeated)
after the report. The host may still run the servers the report stopped in
Nova's records; its evacuation is refused unless the report attested
fencing, and nova-compute's power state sync will power its guests off.
Sent by nova-hoststatus-watcher, once per report
(:mod:`nova_hoststatus.watcher.watcher`).
"""

from oslo_log import log as logging

from nova.objects import fields

from nova_hoststatus.objects import host_fault as host_fault_obj
from nova_hoststatus.objects import notification as host_fault_notification

LOG = logging.getLogger(__name__)


def send(context, host, fault, contradicted_at, instance_uuids):
    """Send ``host_fault.contradict`` of ``host``'s report ``fault``.

    :param fault: the report's prefault.Fault.
    :param contradicted_at: the heartbeat after the report.
    :raises: what emitting raises: the caller tells again later.
    """
    LOG.warning('Host %(host)s was reported down at %(reported)s, but its '
                'nova-compute reported at %(heartbeat)s: it may still run '
                'its servers.',
                {'host': host, 'reported': fault.reported_at.isoformat(),
                 'heartbeat': contradicted_at.isoformat()})
    host_fault_notification.emit_host_fault(
        context, host_fault_notification.HostFaultContradictedNotification,
        host_fault_obj.HostFaultAction.CONTRADICT,
        host_fault_notification.HostFaultContradictedPayload(
            host=host, reported_at=fault.reported_at,
            fenced=bool(fault.fenced), contradicted_at=contradicted_at,
            instance_uuids=sorted(instance_uuids)),
        priority=fields.NotificationPriority.WARN)
