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

"""``host_fault.refuse``: operators told of a report the guard refused.

A warning: a monitor reporting more hosts than the limits allow has most
likely lost its own view of the cloud, or the cloud is failing at large;
either way an operator has to look.
"""

from oslo_log import log as logging
from oslo_utils import timeutils

from nova.objects import fields

from nova_hoststatus import context as hs_context
from nova_hoststatus.notifications import emitter
from nova_hoststatus.objects import host_fault as host_fault_obj
from nova_hoststatus.objects import notification as host_fault_notification

LOG = logging.getLogger(__name__)


def refused(context, found, reason, message):
    """Queue ``host_fault.refuse`` of a refused report.

    :param found: the guard's Refusal (host, limit, aggregate, down,
        total, allowed).
    """
    values = dict(found._asdict(), reason=reason, message=message,
                  reporter_user_id=context.user_id,
                  reporter_project_id=context.project_id,
                  request_id=context.request_id,
                  refused_at=timeutils.utcnow())
    emitter.EMITTER.submit(send, hs_context.for_thread(context), values)


def send(context, values):
    try:
        host_fault_notification.emit_host_fault(
            context, host_fault_notification.HostFaultRefusedNotification,
            host_fault_obj.HostFaultAction.REFUSE,
            host_fault_notification.HostFaultRefusedPayload(**values),
            priority=fields.NotificationPriority.WARN)
    except Exception:
        LOG.exception('Failed to send host_fault.refuse for host %s.',
                      values.get('host'))
