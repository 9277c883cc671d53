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
"""Where each server of a reported host is in its recovery.

Derived from Nova's own state, nothing else: the server's host, vm_state
and task_state, and its latest evacuation migration from the host.
"""

from nova.compute import vm_states

from nova_hoststatus import host_state

# The vm_states Nova's evacuate accepts.
EVACUABLE_VM_STATES = frozenset([vm_states.ACTIVE, vm_states.STOPPED,
                                 vm_states.ERROR])

# Where a server of a reported host is in its recovery.
# - on the failed host, can be evacuated:
PENDING = 'pending'
# - on the failed host, in a state or task evacuate refuses (resized...):
NOT_EVACUABLE = 'not_evacuable'
# - its evacuation runs:
EVACUATING = 'evacuating'
# - rebuilt elsewhere:
RECOVERED = 'recovered'
# - its evacuation left it in error:
FAILED = 'failed'


def recovery_status(row, failed_host, evacuation=None):
    """Where the server of ``row`` is in the recovery of ``failed_host``.

    :param evacuation: its latest evacuation Migration from
        ``failed_host``, if any: Nova's rebuild changes the server's host
        and task more than once before it is done.
    """
    migration_status = evacuation.status if evacuation else None
    if migration_status in host_state.MIGRATION_RUNNING or (
            row.task_state or '').startswith('rebuild'):
        return EVACUATING
    if row.host == failed_host:
        if migration_status in host_state.MIGRATION_FAILED:
            return FAILED
        if row.task_state is None and row.vm_state in EVACUABLE_VM_STATES:
            return PENDING
        return NOT_EVACUABLE
    if row.task_state is not None:
        # Powering off after the rebuild, to restore a stopped server.
        return EVACUATING
    return FAILED if row.vm_state == vm_states.ERROR else RECOVERED
