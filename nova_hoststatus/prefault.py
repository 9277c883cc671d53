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

"""What a server was before its host failed, and what recovery restores.

A host fault report records, for each server on the host, the vm_state,
task_state and power_state it had before the fault: in the server's
system_metadata, in the report's transaction (no Nova schema change). A
host evacuation reads it to bring the server back as it was. Reports and
recovery share these records; so does the follower of recoveries.

A record belongs to one fault of one host: its ``host`` and ``fault`` (an
identity made by the report that turned the host down). A new fault of the
host records every server on it anew (an owner may have changed a server
between two faults); a repeated report of the same fault keeps the records
it finds; clearing the report removes the records of its fault, and a
server recovered elsewhere loses its record. Recovery uses a record only
for the host and the fault that wrote it.

A host evacuation also marks each server it sends (:func:`mark`: the
host and the request), which the watcher's follower of recoveries reads
and removes once it told the recovery (nova_hoststatus.recovery.follower);
a report's clear waits for that.

Records and marks are JSON with a ``version``; the first records had none
(and no ``fault``): they are read as version 1.
"""

import collections

from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import timeutils
from oslo_utils import uuidutils

from nova.compute import vm_states

LOG = logging.getLogger(__name__)

VERSION = 2

PreFaultState = collections.namedtuple(
    'PreFaultState', ['vm_state', 'task_state', 'power_state'])
# Of a server whose record is gone (removed once it was rebuilt elsewhere).
UNKNOWN = PreFaultState(None, None, None)

# A decoded record. ``fault`` and ``reported_at`` are None in version 1.
# ``fenced``: whether the report attested that the host was fenced (False
# in records written before it was kept).
Record = collections.namedtuple(
    'Record', ['version', 'host', 'fault', 'reported_at', 'state',
               'fenced'])

# A fault of a host: its identity, when it was reported, and whether a
# report of it attested fencing. Kept in the records of the servers on the
# host: a host with no server has nothing to evacuate, nothing to keep it
# for.
Fault = collections.namedtuple('Fault', ['id', 'reported_at', 'fenced'],
                               defaults=(False,))

# A server's recovery mark: which host evacuation sent it, and when.
Mark = collections.namedtuple('Mark', ['host', 'request_id', 'sent_at'])

# The vm_state a server is evacuated in, by its pre-fault vm_state: the
# rebuild on the destination leaves it running (active) or powered off
# (stopped). A paused, suspended or rescued server's memory or rescue disk
# was on the failed host: it comes back running, as with Masakari. One in
# error comes back running, as Nova's own evacuate brings it.
RESTORED_VM_STATE = {
    vm_states.ACTIVE: vm_states.ACTIVE,
    vm_states.PAUSED: vm_states.ACTIVE,
    vm_states.SUSPENDED: vm_states.ACTIVE,
    vm_states.RESCUED: vm_states.ACTIVE,
    vm_states.ERROR: vm_states.ACTIVE,
    vm_states.STOPPED: vm_states.STOPPED,
}


def new_fault(fenced=False):
    """The identity of a fault a report turns a host down for."""
    return Fault(uuidutils.generate_uuid(), timeutils.utcnow(), fenced)


def encode(host, fault, row):
    """The record of ``fault`` of ``host`` for a row read before it.

    ``row`` is anything with the pre-fault vm_state, task_state and
    power_state (a row, a PreFaultState).
    """
    return jsonutils.dumps({
        'version': VERSION, 'host': host, 'fault': fault.id,
        'reported_at': fault.reported_at.isoformat(),
        'fenced': bool(fault.fenced),
        'vm_state': row.vm_state, 'task_state': row.task_state,
        'power_state': row.power_state})


def decode(value):
    """The Record of a stored value; None if it is of no known version."""
    try:
        record = jsonutils.loads(value)
        version = record.get('version', 1)
        if version > VERSION:
            raise ValueError('version %s' % version)
        reported_at = record.get('reported_at')
        return Record(version, record['host'], record.get('fault'),
                      reported_at and timeutils.parse_isotime(reported_at),
                      PreFaultState(record['vm_state'],
                                    record['task_state'],
                                    record['power_state']),
                      bool(record.get('fenced', False)))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # Written by a newer release, or not by this package: not ours to
        # use, and left for the operator (nova-hoststatus-manage).
        LOG.warning('Ignoring a pre-fault record this release cannot '
                    'read (%s): %s', exc, value)
        return None


def of_host(row, host):
    """The row's Record if ``host`` wrote it, else None."""
    record = row.pre_fault and decode(row.pre_fault)
    return record if record is not None and record.host == host else None


def current_fault(rows, host):
    """The latest fault of ``host`` that ``rows`` have records of, or None.

    A fault's records are on the servers that were on the host when it was
    reported; some may have been evacuated since.
    """
    faults = [record for record in (of_host(row, host) for row in rows)
              if record is not None and record.fault is not None]
    if not faults:
        return None
    newest = max(faults, key=lambda record: record.reported_at)
    return Fault(newest.fault, newest.reported_at,
                 any(record.fenced for record in faults
                     if record.fault == newest.fault))


def of_fault(row, host, fault):
    """The row's Record if it is of ``fault`` of ``host``, else None.

    A record of the first format names no fault: it counts as one of any
    fault of its host (it was written before an upgrade, for the fault
    still reported).
    """
    record = of_host(row, host)
    if (record is None or record.fault is None or fault is None or
            record.fault == fault.id):
        return record
    return None


def state_of(row, record):
    """The pre-fault state of a row: as recorded, else as it is now."""
    if record is None:
        return PreFaultState(row.vm_state, row.task_state, row.power_state)
    return record.state


def mark(host, request_id):
    """The mark of the servers one host evacuation of ``host`` sends."""
    return jsonutils.dumps({'version': 1, 'host': host,
                            'request_id': request_id,
                            'sent_at': timeutils.utcnow().isoformat()})


def decode_mark(value):
    """The Mark of a stored value; None if it is of no known version."""
    try:
        found = jsonutils.loads(value)
        if found.get('version', 1) > 1:
            raise ValueError('version %s' % found['version'])
        return Mark(found['host'], found['request_id'],
                    timeutils.normalize_time(
                        timeutils.parse_isotime(found['sent_at'])))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        LOG.warning('Ignoring a recovery mark this release cannot read '
                    '(%s): %s', exc, value)
        return None


def marks_of(rows, host):
    """``{uuid: Mark}`` of the rows a host evacuation of ``host`` sent."""
    found = {}
    for row in rows:
        marked = row.recovery and decode_mark(row.recovery)
        if marked and marked.host == host:
            found[row.uuid] = marked
    return found
