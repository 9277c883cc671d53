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
from oslo_utils import timeutils
from oslo_utils import uuidutils
import tooz
from tooz import coordination

from nova import context as nova_context
from nova import objects
from nova.objects import fields
from nova import servicegroup

import nova_hoststatus.conf
from nova_hoststatus import db
from nova_hoststatus.notifications import host_status
from nova_hoststatus.recovery import follower

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

# The tooz lock whose holder is the watcher that tells owners.
LOCK = b'nova-hoststatus-watcher'


# The host_status changes heartbeats alone make, which the watcher tells of.
# The others (forced down: DOWN, disabled: MAINTENANCE) are made by requests
# to nova-api, which tells of them itself.
HEARTBEAT_STATUSES = frozenset([fields.HostStatus.UP,
                                fields.HostStatus.UNKNOWN])


def _still_held(lock):
    """Whether the backend has ``lock`` held by this process.

    None when the backend cannot say: the lock is then released and
    acquired again, which the backend answers.
    """
    if type(lock).__module__ == 'tooz.drivers.mysql':
        # GET_LOCK belongs to the lock's connection; tooz does not look.
        try:
            cursor = lock._conn.cursor()
            cursor.execute('SELECT IS_USED_LOCK(%s) = CONNECTION_ID()',
                           (lock.name,))
            return bool(cursor.fetchone()[0])
        except Exception:
            LOG.debug('The lock connection failed.', exc_info=True)
            return False
    try:
        return lock.is_still_owner()
    except tooz.NotImplemented:
        return None
    except coordination.ToozError:
        LOG.debug('The coordination backend did not answer.', exc_info=True)
        return False


class HostStatusWatcher(object):
    """Compares each host's host_status with the one its owners were told.

    What owners were last told of each host is kept in the API database
    (:data:`nova_hoststatus.db.HOST_STATUS_TOLD`), written once the
    notifications are sent: a watcher that restarts, or another that takes
    over, carries on from it, and tells a change that happened meanwhile.
    A change between UP and UNKNOWN (a heartbeat gone stale or back) is
    told; any other (a host forced down or disabled) nova-api told when it
    made it, and is only written down. A host never seen before is only
    written down.

    Several watchers may run: with ``[hoststatus] coordination_url`` they
    share a tooz lock and only its holder checks and tells; when the holder
    stops, another takes the lock at its next check.

    The holder also follows the host evacuations of the hosts reported
    down (:mod:`nova_hoststatus.recovery.follower`).
    """

    def __init__(self):
        self.servicegroup_api = servicegroup.API()
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
        """Whether this watcher is the one that tells owners, now.

        Asked of the backend at every check: a lock is not kept by holding
        its object (tooz's MySQL lock dies with its idle connection, an
        etcd3 lease expires), and a watcher that lost it stops telling
        until it has it again.
        """
        if self._lock is None:
            return True
        renewing = False
        if self._leading:
            held = _still_held(self._lock)
            if held:
                return True
            self._leading = False
            self._lock = self._renew(self._lock)
            # None: a backend that cannot say whether it is still held.
            renewing = held is None
            if held is False:
                LOG.warning('This watcher lost the lock of %s; it tells '
                            'owners only once it has it again.',
                            CONF.hoststatus.coordination_url)
        try:
            self._leading = self._lock.acquire(blocking=False)
        except coordination.ToozError:
            LOG.exception('Cannot reach %s; not telling owners this '
                          'time.', CONF.hoststatus.coordination_url)
            return False
        if self._leading and not renewing:
            LOG.info('This watcher now tells owners of heartbeat '
                     'changes.')
        return self._leading

    def _renew(self, lock):
        """A new lock object, the old one released if it can be."""
        try:
            lock.release()
        except Exception:
            # Its connection is gone, with the lock.
            LOG.debug('Releasing a lost lock failed.', exc_info=True)
        # tooz's MySQL lock believes it holds the lock until released.
        return self._coordinator.get_lock(LOCK)

    def check(self, context):
        """Check every cell's compute services once, if leading.

        :returns: the ``(host, previous, current)`` changes told.
        """
        if not self._lead():
            # A standby keeps nothing: the database has what was told.
            return []
        results = nova_context.scatter_gather_skip_cell0(
            context, objects.ServiceList.get_by_binary, 'nova-compute',
            include_disabled=True)
        # The cell mappings nova's scatter-gather loaded once for the
        # process: no query of the API database at each check.
        cells = {cell.uuid: cell for cell in nova_context.CELLS}
        told = db.host_attributes_get(context, db.HOST_STATUS_TOLD)
        found = []
        for cell_uuid, services in results.items():
            if nova_context.is_cell_failure_sentinel(services):
                # Checked again next time, against what was told.
                LOG.warning('Cell %s did not answer: its hosts are not '
                            'checked this time.', cell_uuid)
                continue
            cctxt = nova_context.get_admin_context()
            nova_context.set_target_cell(cctxt, cells[cell_uuid])
            for service in services:
                change = self._tell(cctxt, service, told.get(service.host))
                if change is not None:
                    found.append(change)
            self._follow_recoveries(cctxt, services)
        return found

    def _tell(self, context, service, previous):
        """Tell the owners of a heartbeat change; write down what they know.

        :returns: the ``(host, previous, current)`` change told, or None.
        """
        current = host_status.of(service, self.servicegroup_api)
        if current == previous:
            return None
        change = None
        if previous in HEARTBEAT_STATUSES and current in HEARTBEAT_STATUSES:
            change = (service.host, previous, current)
            try:
                # Here, not queued: written down only once sent.
                host_status.send(context, *change, reason=None,
                                 changed_at=timeutils.utcnow())
            except Exception:
                LOG.exception('Telling the owners of host %s failed; told '
                              'at the next check.', service.host)
                return None
        if not db.host_attribute_set(context, service.host,
                                     db.HOST_STATUS_TOLD, current,
                                     expected=previous):
            # nova-api told of a change since the check read it: the next
            # check compares with that.
            LOG.info('host_status of %s told meanwhile; checked again at '
                     'the next check.', service.host)
        return change

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
