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

A host fault report records, for each server it changes, the vm_state,
task_state and power_state the server had (in the server's
system_metadata, in the report's transaction: no Nova schema change). A
host evacuation reads it to bring the server back as it was. Servers the
report did not change (stopped or in error already) were as they are now.
"""

import collections

from oslo_serialization import jsonutils

from nova.compute import vm_states

PreFaultState = collections.namedtuple(
    'PreFaultState', ['vm_state', 'task_state', 'power_state'])
# Of a server whose record is gone (removed once it was rebuilt elsewhere).
UNKNOWN = PreFaultState(None, None, None)

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


def encode(host, row):
    """The record of a row of nova_hoststatus.db read before the fault."""
    return jsonutils.dumps({'host': host, 'vm_state': row.vm_state,
                            'task_state': row.task_state,
                            'power_state': row.power_state})


def of(row):
    """The pre-fault state of a row: as recorded, else as it is now."""
    if row.pre_fault is None:
        return PreFaultState(row.vm_state, row.task_state, row.power_state)
    record = jsonutils.loads(row.pre_fault)
    return PreFaultState(record['vm_state'], record['task_state'],
                         record['power_state'])


def failed_host(row):
    """The host whose fault a recorded row's state is from."""
    return jsonutils.loads(row.pre_fault)['host']
