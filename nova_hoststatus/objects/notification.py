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

"""The versioned host_fault.report, .clear and .recover notifications.

Built on Nova's notification base classes and registered as Nova registers
its own notification objects, so they serialize, version and document
(``notification_sample``) like Nova's.
"""

from nova.notifications.objects import base as notification
from nova.objects import base
from nova.objects import fields

import nova_hoststatus.conf
from nova_hoststatus.objects import host_fault

CONF = nova_hoststatus.conf.CONF


@base.NovaObjectRegistry.register_notification
class HostFaultEventType(notification.EventType):
    """Nova's EventType, with this package's actions.

    ``object`` is ``host_fault``; the wire format is ``host_fault.report``,
    ``host_fault.clear``, ``host_fault.recover``, ``host_fault.refuse`` and
    ``host_fault.contradict``.
    """

    # Version 1.0: Initial version
    # Version 1.1: The recover action
    # Version 1.2: The refuse action
    # Version 1.3: The contradict action
    VERSION = '1.3'

    fields = {
        'action': host_fault.HostFaultActionField(nullable=False),
    }


@base.NovaObjectRegistry.register_notification
class HostFaultPayload(notification.NotificationPayloadBase):
    SCHEMA = {
        'host': ('host_fault', 'host'),
        'host_down_reported': ('host_fault', 'host_down_reported'),
        'reason': ('host_fault', 'reason'),
        'reporter_user_id': ('host_fault', 'reporter_user_id'),
        'reporter_project_id': ('host_fault', 'reporter_project_id'),
        'request_id': ('host_fault', 'request_id'),
        'changed_at': ('host_fault', 'changed_at'),
        'target_vm_state': ('host_fault', 'target_vm_state'),
        'target_power_state': ('host_fault', 'target_power_state'),
        'instance_uuids': ('host_fault', 'instance_uuids'),
        'fenced': ('host_fault', 'fenced'),
    }

    # Version 1.0: Initial version
    # Version 1.1: fenced
    VERSION = '1.1'

    fields = {
        'host': fields.StringField(),
        'host_down_reported': fields.BooleanField(),
        'reason': fields.StringField(nullable=True),
        'reporter_user_id': fields.StringField(nullable=True),
        'reporter_project_id': fields.StringField(nullable=True),
        'request_id': fields.StringField(nullable=True),
        'changed_at': fields.DateTimeField(),
        'target_vm_state': fields.InstanceStateField(nullable=True),
        'target_power_state': fields.InstancePowerStateField(nullable=True),
        'instance_uuids': fields.ListOfUUIDField(),
        'fenced': fields.BooleanField(nullable=True),
    }

    def __init__(self, host_fault):
        super().__init__()
        self.populate_schema(host_fault=host_fault)


@notification.notification_sample('host_fault-report.json')
@notification.notification_sample('host_fault-clear.json')
@base.NovaObjectRegistry.register_notification
class HostFaultNotification(notification.NotificationBase):
    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        # Nova's ObjectField('EventType') takes no subclass.
        'event_type': fields.ObjectField('HostFaultEventType'),
        'payload': fields.ObjectField('HostFaultPayload'),
    }


class HostRecoveryResult(fields.BaseNovaEnum):
    """How a server of a host evacuation ended."""

    RECOVERED = 'recovered'
    FAILED = 'failed'
    # Still being rebuilt when [hoststatus] recovery_timeout passed.
    TIMED_OUT = 'timed_out'

    ALL = (RECOVERED, FAILED, TIMED_OUT)


class HostRecoveryResultField(fields.BaseEnumField):
    AUTO_TYPE = HostRecoveryResult()


class PayloadOfValues(notification.NotificationPayloadBase):
    """A payload built from its field values (it has no SCHEMA)."""

    def __init__(self, **values):
        super().__init__()
        for name, value in values.items():
            setattr(self, name, value)


@base.NovaObjectRegistry.register_notification
class HostRecoveryServerPayload(PayloadOfValues):
    """One server of a host evacuation, as it ended."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'instance_uuid': fields.UUIDField(),
        'project_id': fields.StringField(nullable=True),
        # Where it is now.
        'host': fields.StringField(nullable=True),
        'pre_fault_vm_state': fields.InstanceStateField(nullable=True),
        'vm_state': fields.InstanceStateField(nullable=True),
        'result': HostRecoveryResultField(),
    }


@base.NovaObjectRegistry.register_notification
class HostRecoveryPayload(PayloadOfValues):
    """A host evacuation that ended, with each server's result."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'host': fields.StringField(),
        'request_id': fields.StringField(nullable=True),
        'ended_at': fields.DateTimeField(),
        'servers': fields.ListOfObjectsField('HostRecoveryServerPayload'),
    }


@notification.notification_sample('host_fault-recover.json')
@base.NovaObjectRegistry.register_notification
class HostRecoveryNotification(notification.NotificationBase):
    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'event_type': fields.ObjectField('HostFaultEventType'),
        'payload': fields.ObjectField('HostRecoveryPayload'),
    }


@base.NovaObjectRegistry.register_notification
class HostFaultRefusedPayload(PayloadOfValues):
    """A host down report the runaway guard refused, and why."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'host': fields.StringField(),
        'reason': fields.StringField(nullable=True),
        'reporter_user_id': fields.StringField(nullable=True),
        'reporter_project_id': fields.StringField(nullable=True),
        'request_id': fields.StringField(nullable=True),
        'refused_at': fields.DateTimeField(),
        # 'max_down_fraction' (the whole deployment) or 'aggregate'.
        'limit': fields.StringField(),
        'aggregate': fields.StringField(nullable=True),
        # Hosts reported down had the report been accepted, of ``total``
        # (the deployment's, or the aggregate's), and how many may be.
        'down': fields.IntegerField(),
        'total': fields.IntegerField(),
        'allowed': fields.IntegerField(),
        'message': fields.StringField(),
    }


@notification.notification_sample('host_fault-refuse.json')
@base.NovaObjectRegistry.register_notification
class HostFaultRefusedNotification(notification.NotificationBase):
    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'event_type': fields.ObjectField('HostFaultEventType'),
        'payload': fields.ObjectField('HostFaultRefusedPayload'),
    }


@base.NovaObjectRegistry.register_notification
class HostFaultContradictedPayload(PayloadOfValues):
    """A reported host whose nova-compute reported after the report."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'host': fields.StringField(),
        # The report's time, and whether it attested fencing.
        'reported_at': fields.DateTimeField(),
        'fenced': fields.BooleanField(),
        # The nova-compute service's last report (heartbeat), read by the
        # watcher; after reported_at and [DEFAULT] report_interval.
        'contradicted_at': fields.DateTimeField(),
        # The servers the report recorded, on the host or evacuated.
        'instance_uuids': fields.ListOfStringsField(),
    }


@notification.notification_sample('host_fault-contradict.json')
@base.NovaObjectRegistry.register_notification
class HostFaultContradictedNotification(notification.NotificationBase):
    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'event_type': fields.ObjectField('HostFaultEventType'),
        'payload': fields.ObjectField('HostFaultContradictedPayload'),
    }


def emit_host_fault(context, notification_cls, action, payload,
                    priority=fields.NotificationPriority.INFO):
    """Emit ``host_fault.<action>``, as nova-api's (source nova-api).

    The watcher sends some of them too, on behalf of the API: the source
    names what the notification is about, not the process.
    """
    notification_cls(
        priority=priority,
        event_type=HostFaultEventType(object='host_fault', action=action),
        publisher=notification.NotificationPublisher(
            host=CONF.host, source=fields.NotificationSource.API),
        payload=payload).emit(context)
