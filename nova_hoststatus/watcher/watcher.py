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

"""What the watcher does at each interval."""

from oslo_log import log as logging
from oslo_utils import uuidutils
from tooz import coordination

from nova import context as nova_context
from nova import objects
from nova.objects import fields
from nova import servicegroup

import nova_hoststatus.conf
from nova_hoststatus.notifications import host_status
from nova_hoststatus.recovery import follower

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

# The tooz lock whose holder is the watcher that tells owners.
LOCK = b'nova-hoststatus-watcher'


def heartbeating(servicegroup_api, service):
    """Whether the service's heartbeat is fresh, forced down or not."""
    if service.forced_down:
        service = service.obj_clone()
        service.forced_down = False
    return servicegroup_api.service_is_up(service)


class HostStatusWatcher(object):
    """Compares each compute service's heartbeat with the last check.

    A host whose heartbeat went stale or came back while it is neither
    forced down nor disabled changed from UP to UNKNOWN or back: its owners
    are told. Forced down (DOWN) or disabled (MAINTENANCE), the host_status
    does not depend on the heartbeat; nova-api told of those changes when
    it made them. The first check only takes note.

    Several watchers may run: with ``[hoststatus] coordination_url`` they
    share a tooz lock, every one checks, and only its holder tells owners;
    when the holder stops, another takes the lock at its next check.

    The holder also follows the host evacuations of the hosts reported
    down (:mod:`nova_hoststatus.recovery.follower`).
    """

    def __init__(self):
        self.servicegroup_api = servicegroup.API()
        # {(cell uuid, host): whether it heartbeated at the last check}
        self._heartbeating = {}
        self._coordinator = self._lock = None
        self._leading = False

    def start(self):
        url = CONF.hoststatus.coordination_url
        if url:
            member = ('%s-%s' % (CONF.host, uuidutils.generate_uuid()))
            self._coordinator = coordination.get_coordinator(
                url, member.encode())
            self._coordinator.start(start_heart=True)
            self._lock = self._coordinator.get_lock(LOCK)

    def stop(self):
        if self._coordinator is not None:
            if self._leading:
                self._lock.release()
                self._leading = False
            self._coordinator.stop()
            self._coordinator = None

    def _lead(self):
        """Whether this watcher is the one that tells owners."""
        if self._lock is None:
            return True
        if not self._leading:
            try:
                self._leading = self._lock.acquire(blocking=False)
            except coordination.ToozError:
                LOG.exception('Cannot reach %s; not telling owners this '
                              'time.', CONF.hoststatus.coordination_url)
                return False
            if self._leading:
                LOG.info('This watcher now tells owners of heartbeat '
                         'changes.')
        return self._leading

    def check(self, context):
        """Check every cell's compute services once.

        :returns: the ``(host, previous, current)`` changes found.
        """
        results = nova_context.scatter_gather_skip_cell0(
            context, objects.ServiceList.get_by_binary, 'nova-compute',
            include_disabled=True)
        # The cell mappings nova's scatter-gather loaded once for the
        # process: no query of the API database at each check.
        cells = {cell.uuid: cell for cell in nova_context.CELLS}
        leading = self._lead()
        found = []
        for cell_uuid, services in results.items():
            if nova_context.is_cell_failure_sentinel(services):
                # Checked again next time, against what was known.
                LOG.warning('Cell %s did not answer: its hosts are not '
                            'checked this time.', cell_uuid)
                continue
            cctxt = nova_context.get_admin_context()
            nova_context.set_target_cell(cctxt, cells[cell_uuid])
            for service in services:
                change = self._changed(cell_uuid, service)
                if change is None:
                    continue
                found.append(change)
                if leading:
                    host_status.changed(cctxt, *change)
            if leading:
                self._follow_recoveries(cctxt, services)
        return found

    @staticmethod
    def _follow_recoveries(context, services):
        """Follow the host evacuations of the reported hosts of a cell."""
        for service in services:
            if not service.forced_down:
                continue
            try:
                follower.follow(context, service.host)
            except Exception:
                # Followed again at the next check, from the database.
                LOG.exception('Following the recovery of host %s failed.',
                              service.host)

    def _changed(self, cell_uuid, service):
        key = (cell_uuid, service.host)
        alive = heartbeating(self.servicegroup_api, service)
        before = self._heartbeating.get(key)
        self._heartbeating[key] = alive
        if before is None or before == alive:
            return None
        if service.forced_down or service.disabled:
            return None
        if alive:
            return (service.host, fields.HostStatus.UNKNOWN,
                    fields.HostStatus.UP)
        return (service.host, fields.HostStatus.UP, fields.HostStatus.UNKNOWN)
