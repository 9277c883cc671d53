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

"""The host fault object: a committed host down report, or its clearing.

It is registered in Nova's object registry (``nova.objects.HostFault``) so
that it travels like any Nova object; its names are prefixed ``HostFault``
so that they never clash with Nova's own.
"""

from nova.objects import base
from nova.objects import fields


class HostFaultAction(fields.BaseNovaEnum):
    """The actions of the ``host_fault`` notifications.

    Nova's NotificationAction enum is closed, so the package has its own.
    """

    REPORT = 'report'
    CLEAR = 'clear'
    # A host evacuation ended: each server recovered or not.
    RECOVER = 'recover'
    # A report was refused by the runaway guard.
    REFUSE = 'refuse'

    ALL = (REPORT, CLEAR, RECOVER, REFUSE)


class HostFaultActionField(fields.BaseEnumField):
    AUTO_TYPE = HostFaultAction()


@base.NovaObjectRegistry.register
class HostFault(base.NovaObject):
    """A host down report, or its clearing, as it was committed.

    Not stored: the service's forced_down flag and the instances are the
    state. This is what the notifications say about the change.
    """

    # Version 1.0: Initial version
    # Version 1.1: fenced
    VERSION = '1.1'

    fields = {
        'host': fields.StringField(),
        # True: the host was reported down; False: the report was cleared.
        'host_down_reported': fields.BooleanField(),
        'reason': fields.StringField(nullable=True),
        'reporter_user_id': fields.StringField(nullable=True),
        'reporter_project_id': fields.StringField(nullable=True),
        'request_id': fields.StringField(nullable=True),
        # When the change committed.
        'changed_at': fields.DateTimeField(),
        # The state a report gave to the instances it changed; None when
        # cleared, which changes no instance.
        'target_vm_state': fields.InstanceStateField(nullable=True),
        'target_power_state': fields.InstancePowerStateField(nullable=True),
        # The instances the change moved to the target state.
        'instance_uuids': fields.ListOfUUIDField(),
        # Whether the report attested that the host was fenced; None when
        # cleared.
        'fenced': fields.BooleanField(nullable=True),
    }

    @property
    def action(self):
        return (HostFaultAction.REPORT if self.host_down_reported
                else HostFaultAction.CLEAR)
