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

"""Object fingerprints, checked as Nova checks its own objects."""

from oslo_utils import timeutils
from oslo_versionedobjects import fixture

from nova import objects
from nova.objects import base
from nova.objects import fields
from nova import test
from nova.tests.unit.notifications.objects import test_notification

from nova_hoststatus.objects import host_fault
from nova_hoststatus.objects import host_status
from nova_hoststatus.objects import notification

# A field, a field's type or a payload's SCHEMA changed: bump the object's
# VERSION (with a line in its version history), then update its hash here.
object_data = {
    'HostFault': '1.1-27bd09677f27062ef85e1182c93c940a',
    'HostFaultEventType': '1.2-df3cf8f72cc484a902040d2e70c7baf2',
    'HostFaultNotification': '1.0-a73147b93b520ff0061865849d3dfa56',
    'HostFaultPayload': '1.1-3c49afa72263a6702c9fa84f929634fd',
    'HostFaultRefusedNotification': '1.0-a73147b93b520ff0061865849d3dfa56',
    'HostFaultRefusedPayload': '1.0-53ae070661cf64118dd20cf333914f52',
    'HostRecoveryNotification': '1.0-a73147b93b520ff0061865849d3dfa56',
    'HostRecoveryPayload': '1.0-264e95f1b37d34b06821b2c9691baabc',
    'HostRecoveryServerPayload': '1.0-3beee7d5f4bbc400f7265a140f9cad4f',
    'HostStatusNotification': '1.0-a73147b93b520ff0061865849d3dfa56',
    'HostStatusPayload': '1.0-33a73242bb3a3d391213d4aef41d51d0',
}

CLASSES = (host_fault.HostFault, notification.HostFaultEventType,
           notification.HostFaultPayload, notification.HostFaultNotification,
           notification.HostFaultRefusedPayload,
           notification.HostFaultRefusedNotification,
           notification.HostRecoveryNotification,
           notification.HostRecoveryPayload,
           notification.HostRecoveryServerPayload,
           host_status.HostStatusNotification, host_status.HostStatusPayload)


def _host_fault(**updates):
    values = dict(
        host='host1', host_down_reported=True, reason='fenced',
        reporter_user_id='user', reporter_project_id='project',
        request_id='req-1', changed_at=timeutils.utcnow(),
        target_vm_state='stopped', target_power_state=4,
        instance_uuids=['178b0921-8f85-4257-88b6-2e743b5a975c'],
        fenced=True)
    values.update(updates)
    return host_fault.HostFault(**values)


def _checker(*classes):
    return fixture.ObjectVersionChecker(
        {cls.obj_name(): [cls] for cls in classes})


class TestObjectVersions(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        # As Nova's own test does; the registry is restored after the test.
        base.NovaObjectRegistry.register_notification_objects()

    def test_versions(self):
        expected, actual = _checker(*CLASSES).test_hashes(
            object_data, extra_data_func=test_notification.get_extra_data)
        self.assertEqual(expected, actual,
                         'Some objects have changed; please make sure the '
                         'versions have been bumped, and then update their '
                         'hashes here.')

    def test_changed_field_without_version_bump_fails(self):
        @base.NovaObjectRegistry.register_if(False)
        class HostFaultPayload(notification.HostFaultPayload):
            fields = {'extra': fields.StringField()}

        expected, actual = _checker(HostFaultPayload).test_hashes(
            object_data, extra_data_func=test_notification.get_extra_data)

        self.assertNotEqual(expected, actual)

    def test_obj_make_compatible(self):
        # Backports to every older version run once there are some.
        init_kwargs = {
            notification.HostFaultEventType: {'object': 'host_fault',
                                              'action': 'report'},
            notification.HostFaultPayload: {
                'host_fault': _host_fault()},
        }
        _checker(*CLASSES).test_compatibility_routines(
            use_manifest=True, init_kwargs=init_kwargs)

    def test_host_fault_in_novas_registry(self):
        self.assertIs(host_fault.HostFault, objects.HostFault)
        self.assertIn(notification.HostFaultNotification,
                      base.NovaObjectRegistry.notification_classes)


class HostFaultNotificationObjectsTest(test.NoDBTestCase):

    def test_event_types(self):
        for action in ('report', 'clear'):
            event_type = notification.HostFaultEventType(
                object='host_fault', action=action)
            self.assertEqual('host_fault.' + action,
                             event_type.to_notification_event_type_field())
        self.assertRaises(ValueError, notification.HostFaultEventType,
                          object='host_fault', action='update')

    def test_action(self):
        self.assertEqual('report', _host_fault().action)
        self.assertEqual('clear',
                         _host_fault(host_down_reported=False).action)

    def test_payload_from_host_fault(self):
        fault = _host_fault()
        payload = notification.HostFaultPayload(fault)
        for name in notification.HostFaultPayload.SCHEMA:
            self.assertEqual(getattr(fault, name), getattr(payload, name))
        # The power state is named as in Nova's instance payloads.
        self.assertEqual('shutdown', payload.target_power_state)
        self.assertEqual(set(notification.HostFaultPayload.fields),
                         set(notification.HostFaultPayload.SCHEMA))
