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

"""The versioned host_status.update notification.

One is sent to each server's owner when the host_status of the server's host
changes, whatever changed it: a host down report or its clear, maintenance,
enabling or disabling the compute service (through this package's API or
stock os-services), or a compute service that stops or resumes heartbeating.
"""

from nova.notifications.objects import base as notification
from nova.objects import base
from nova.objects import fields

from nova_hoststatus.objects import notification as host_fault_notification


class HostStatusField(fields.BaseEnumField):
    """Nova's HostStatus values (it has the enum, not the field)."""

    AUTO_TYPE = fields.HostStatus()


@base.NovaObjectRegistry.register_notification
class HostStatusPayload(host_fault_notification.PayloadOfValues):
    """A server whose host's host_status changed, as its owner may see it.

    ``host_status`` and ``previous_host_status`` take the values the API
    shows in a server's ``host_status``: UP, UNKNOWN, DOWN, MAINTENANCE.

    ``host_id`` is the API's ``hostId`` of the server: the host's name
    hashed with the owner's project (``nova.utils.generate_hostid``).
    What else is set follows Nova's policy for the owner, as nova-api shows
    a server to it (:func:`nova_hoststatus.notifications.host_status.send`):
    with ``os_compute_api:servers:show:host_status`` every field; with only
    ``os_compute_api:servers:show:host_status:unknown-only``,
    ``host_status`` and ``previous_host_status`` only when UNKNOWN, and
    neither ``host`` nor ``reason``. A field not set is absent from the
    payload, as ``host_status`` is from the server in the API.
    """

    # Version 1.0: Initial version
    # Version 1.1: host_id, sequence; host, reason, host_status and
    #              previous_host_status absent unless the owner may see them
    VERSION = '1.1'

    fields = {
        'instance_uuid': fields.UUIDField(),
        'project_id': fields.StringField(nullable=True),
        'user_id': fields.StringField(nullable=True),
        'host_id': fields.StringField(),
        'host': fields.StringField(),
        'host_status': HostStatusField(),
        'previous_host_status': HostStatusField(),
        # What the request that changed it said, when it said something.
        'reason': fields.StringField(nullable=True),
        'changed_at': fields.DateTimeField(),
        # The number of the host's change told, greater for a later one.
        'sequence': fields.IntegerField(),
    }


@notification.notification_sample('host_status-update.json')
@base.NovaObjectRegistry.register_notification
class HostStatusNotification(notification.NotificationBase):
    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'payload': fields.ObjectField('HostStatusPayload'),
    }
