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

"""What nova-hoststatus-watcher does at each check, run by a test.

The watcher follows host evacuations to their end (host_fault.recover);
tests run its checks themselves instead of its service's timer.
"""

import time

from nova import context as nova_context

from nova_hoststatus.watcher import watcher

RECOVER = 'host_fault.recover'


def recover_notifications(test):
    """The payloads of the host_fault.recover sent so far."""
    return [n['payload']['nova_object.data']
            for n in test.notifier.versioned_notifications
            if n['event_type'] == RECOVER]


def follow_recoveries(test, count=1, timeout=20, host_watcher=None):
    """Run the watcher's checks until ``count`` recoveries were told.

    :returns: the payloads of every host_fault.recover sent.
    """
    host_watcher = host_watcher or watcher.HostStatusWatcher()
    deadline = time.monotonic() + timeout
    while len(recover_notifications(test)) < count:
        if time.monotonic() > deadline:
            test.fail('%d %s after %d s, not %d' % (
                len(recover_notifications(test)), RECOVER, timeout, count))
        host_watcher.check(nova_context.get_admin_context())
        time.sleep(0.05)
    return recover_notifications(test)
