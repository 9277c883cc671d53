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

import urllib.parse

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
from nova_hoststatus import guard
from nova_hoststatus import host_state
from nova_hoststatus.notifications import contradiction
from nova_hoststatus.notifications import host_status
from nova_hoststatus import prefault
from nova_hoststatus.recovery import follower

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

# The tooz lock whose holder is the watcher that tells owners.
LOCK = b'nova-hoststatus-watcher'


# The host_status changes heartbeats alone make, which the watcher tells of
# at once. The others (forced down: DOWN, disabled: MAINTENANCE) are made by
# requests to nova-api, which tells of them itself, or by a nova-compute that
# disables itself.
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


def backend():
    """``[hoststatus] coordination_url`` for the logs: no credentials.

    It names a database user and password (``mysql://``); the logs name
    the backend's scheme, host, port and path only.
    """
    url = urllib.parse.urlsplit(CONF.hoststatus.coordination_url)
    netloc = url.hostname or ''
    if url.port:
        netloc = '%s:%d' % (netloc, url.port)
    return urllib.parse.urlunsplit((url.scheme, netloc, url.path, '', ''))


class HostStatusWatcher(object):
    """Compares each host's host_status with the one its owners were told.

    What owners were last told of each host is kept in the API database
    (:data:`nova_hoststatus.db.HOST_STATUS_TOLD`), written once the
    notifications are sent: a watcher that restarts, or another that takes
    over, carries on from it, and tells a change that happened meanwhile.
    A change between UP and UNKNOWN (a heartbeat gone stale or back) is
    told at once. Any other (a host forced down or disabled) nova-api
    tells when it makes it; the watcher tells it only if it is still
    untold at two consecutive checks and no batch of the host took a
    sequence number between them: the nova-api that made it died before
    telling or could not send, or a nova-compute disabled itself. A host
    never seen before is only written down.

    Several watchers may run: with ``[hoststatus] coordination_url`` they
    share a tooz lock and only its holder checks and tells; when the holder
    stops, another takes the lock at its next check.

    The holder also follows the host evacuations of the hosts reported
    down (:mod:`nova_hoststatus.recovery.follower`), and tells operators,
    once per report, of a reported host whose nova-compute reported after
    the report (``host_fault.contradict``; what was told is kept in the
    API database too, :data:`nova_hoststatus.db.CONTRADICTION_TOLD`).
    """

    def __init__(self):
        self.servicegroup_api = servicegroup.API()
        self._coordinator = self._lock = None
        self._leading = False
        # {cell uuid: hosts whose UNKNOWN was held at the last check}
        self._held = {}
        # {host: (Told, host_status, sequence)} of the changes made by
        # requests that were untold at the last check.
        self._untold = {}

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
                            'owners only once it has it again.', backend())
        try:
            self._leading = self._lock.acquire(blocking=False)
        except coordination.ToozError:
            LOG.exception('Cannot reach %s; not telling owners this '
                          'time.', backend())
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

        :returns: the ``(host, previous, current)`` changes told, and
            ``(host, 'contradicted', fault id)`` of each contradiction told.
        """
        if not self._lead():
            # A standby keeps nothing: the database has what was told.
            self._held, self._untold = {}, {}
            return []
        # The cell mappings loaded once for the process, as nova's
        # scatter-gather loads them: no query of the API database at each
        # check.
        nova_context.load_cells()
        cells = {cell.uuid: cell for cell in nova_context.CELLS
                 if not cell.is_cell0()}
        # A cell that has not answered within about an interval is checked
        # again next time: a hung cell must not hold up the others' checks
        # (nova's own timeout is a minute).
        results = nova_context.scatter_gather_cells(
            context, list(cells.values()), self.cell_timeout(),
            objects.ServiceList.get_by_binary, 'nova-compute',
            include_disabled=True)
        told = db.told_host_statuses(context)
        sequences = db.host_attributes_get(context, db.HOST_STATUS_SEQUENCE)
        contradictions = db.host_attributes_get(context,
                                                db.CONTRADICTION_TOLD)
        found = []
        for cell_uuid, services in results.items():
            if nova_context.is_cell_failure_sentinel(services):
                # Checked again next time, against what was told.
                LOG.warning('Cell %s did not answer: its hosts are not '
                            'checked this time.', cell_uuid)
                continue
            cctxt = nova_context.get_admin_context()
            nova_context.set_target_cell(cctxt, cells[cell_uuid])
            held = self._damp(cell_uuid, services, told)
            for service in services:
                if service.host in held:
                    continue
                change = self._tell(cctxt, service, told.get(service.host),
                                    sequences.get(service.host))
                if change is not None:
                    found.append(change)
            for service in services:
                if service.forced_down:
                    change = self._tell_contradiction(
                        cctxt, service, contradictions.get(service.host))
                    if change is not None:
                        found.append(change)
            self._follow_recoveries(cctxt, services)
        return found

    @staticmethod
    def _tell_contradiction(context, service, told):
        """Tell operators of a reported host whose nova-compute reports.

        Once per report: ``told`` is the fault last told of for the host.
        Its records are read once per check of a reported host (statements
        on indexes, as the follower's).

        :returns: ``(host, 'contradicted', fault id)`` if told, else None.
        """
        host = service.host
        try:
            on_host, gone, _evacuations = host_state.servers_of(context,
                                                                host)
            fault = prefault.current_fault(on_host + gone, host)
            heartbeat = guard.contradiction(service, fault)
            if heartbeat is None or fault.id == told:
                return None
            uuids = [row.uuid for row in on_host + gone
                     if prefault.of_fault(row, host, fault) is not None]
            contradiction.send(context, host, fault, heartbeat, uuids)
        except Exception:
            LOG.exception('Telling operators that host %s is contradicted '
                          'failed; told at the next check.', host)
            return None
        if not db.host_attribute_set(context, host, db.CONTRADICTION_TOLD,
                                     fault.id, expected=told):
            # Another watcher told it meanwhile (a lock lost and taken).
            LOG.info('The contradiction of host %s was told meanwhile.',
                     host)
        return (host, 'contradicted', fault.id)

    def _damp(self, cell_uuid, services, told):
        """The hosts of a cell whose UNKNOWN is not told at this check.

        When more than ``[hoststatus] unknown_damper_fraction`` of a cell's
        hosts (two at least) turn UNKNOWN at once, the cause is more likely
        the cell's database or message bus than its hosts: the change is
        told only if it is seen at two consecutive checks. Hosts held at
        the previous check and still UNKNOWN are told now.
        """
        flipped = {service.host for service in services
                   if told.get(service.host, db.Told(None, 0)).host_status ==
                   fields.HostStatus.UP and
                   host_status.of(service, self.servicegroup_api) ==
                   fields.HostStatus.UNKNOWN}
        fraction = CONF.hoststatus.unknown_damper_fraction
        if len(flipped) < 2 or len(flipped) <= fraction * len(services):
            self._held.pop(cell_uuid, None)
            return set()
        seen_before = self._held.get(cell_uuid, set())
        self._held[cell_uuid] = held = flipped - seen_before
        if held:
            LOG.warning('%(count)d of the %(total)d hosts of cell %(cell)s '
                        'turned UNKNOWN at once: told only if they still '
                        'are at the next check.',
                        {'count': len(held), 'total': len(services),
                         'cell': cell_uuid})
        return held

    @staticmethod
    def cell_timeout():
        """Seconds a check waits for the cells: the interval, 1 at least."""
        return max(CONF.hoststatus.watch_interval, 1.0)

    def _tell(self, context, service, told, sequence):
        """Tell the owners of a change they were not told; write it down.

        :param told: the Told of the host, None if never written down.
        :param sequence: the host's sequence, as the check read it.
        :returns: the ``(host, previous, current)`` change told, or None.
        """
        host = service.host
        current = host_status.of(service, self.servicegroup_api)
        previous = told and told.host_status
        if current == previous:
            self._untold.pop(host, None)
            return None
        if previous is None:
            db.record_told(context, host, current, 0)
            return None
        if not (previous in HEARTBEAT_STATUSES and
                current in HEARTBEAT_STATUSES):
            # Made by a request: its nova-api tells it, unless it is still
            # untold at the next check and no batch of the host was sent
            # meanwhile.
            untold = (told, current, sequence)
            if self._untold.get(host) != untold:
                self._untold[host] = untold
                return None
            LOG.warning('host_status of %(host)s changed from %(previous)s '
                        'to %(current)s and its owners were not told: '
                        'telling them.', {'host': host, 'previous': previous,
                                          'current': current})
        self._untold.pop(host, None)
        change = (host, previous, current)
        try:
            # Here, not queued: written down only once sent.
            sent = host_status.send_if_current(
                context, *change, reason=None, changed_at=timeutils.utcnow())
        except Exception:
            LOG.exception('Telling the owners of host %s failed; told at the '
                          'next check.', host)
            return None
        if sent is None:
            # Changed since the check read it, or told meanwhile: checked
            # again next time.
            return None
        if not db.record_told(context, host, current, sent):
            LOG.info('A later host_status.update batch of %s was written '
                     'down first.', host)
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
