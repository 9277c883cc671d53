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

"""Errors of the host fault service layer; the API maps them by HTTP code."""

from nova import exception


class HostNotFound(exception.NotFound):
    msg_fmt = ("No nova-compute service runs on host %(host)s, or the host "
               "is not mapped to a cell (see 'nova-manage cell_v2 "
               "discover_hosts').")


class CellUnavailable(exception.NovaException):
    code = 503
    msg_fmt = ("The database of cell %(cell)s, where host %(host)s is, "
               "cannot be reached; nothing was changed. Retry when it is "
               "back.")


class APIDatabaseUnavailable(CellUnavailable):
    msg_fmt = ("The API database, which maps host %(host)s to its cell, "
               "cannot be reached; nothing was changed. Retry when it is "
               "back.")


class ContradictoryHostUpdate(exception.Invalid):
    msg_fmt = ("'status': 'enable' and 'maintenance_mode': 'enable' "
               "contradict each other: maintenance mode disables the host.")


class HostConflict(exception.NovaException):
    code = 409


class AlreadyDisabled(HostConflict):
    msg_fmt = ("Host %(host)s cannot enter maintenance mode: its nova-compute "
               "service is already disabled (reason: %(reason)s). Enable it "
               "first, or leave it disabled.")


class EvacuationsNotCompleted(HostConflict):
    msg_fmt = ("The host down report of %(host)s cannot be cleared yet: "
               "evacuations from it are 'done' but not 'completed'. Restart "
               "its nova-compute service, which completes them, then retry.")


class HostNotReported(HostConflict):
    msg_fmt = ("Host %(host)s is not reported down, or its nova-compute "
               "service is up: its servers cannot be evacuated. Report it "
               "down first.")


class ServersNotOnHost(exception.NotFound):
    msg_fmt = ("Servers %(servers)s are not on host %(host)s, nor were they "
               "evacuated from it.")


class DestinationInvalid(exception.Invalid):
    msg_fmt = "Host %(destination)s cannot be the destination: %(why)s."


class DestinationNotFound(exception.NotFound):
    msg_fmt = "No compute host %(destination)s to evacuate to."


class HostUpdatedConcurrently(HostConflict):
    msg_fmt = ("Host %(host)s was updated by other requests while this one "
               "was; nothing was changed by it. Retry.")


class RecoveryNotTold(HostConflict):
    msg_fmt = ("The host down report of %(host)s cannot be cleared until "
               "nova-hoststatus-watcher has told the end of its recovery "
               "(host_fault.recover), within %(interval)s seconds; retry "
               "then. Without a watcher running, the recovery's marks "
               "expire after [hoststatus] recovery_timeout.")


class RecoveryInProgress(HostConflict):
    msg_fmt = ("The host down report of %(host)s cannot be cleared while its "
               "servers are being evacuated; retry when they are.")


class TooManyHostsDown(HostConflict):
    msg_fmt = ("Host %(host)s was not reported down: %(down)d of the "
               "%(total)d nova-compute services of the deployment would "
               "then be reported down, more than [hoststatus] "
               "max_down_fraction (%(fraction)s) allows (%(allowed)d). "
               "Nothing was changed. A monitor that reports this many "
               "hosts may have lost its own network; if the hosts did "
               "fail, report with \"force\": true.")


class TooManyAggregateHostsDown(HostConflict):
    msg_fmt = ("Host %(host)s was not reported down: %(down)d of the "
               "%(total)d hosts of aggregate %(aggregate)s would then be "
               "reported down, more than its hoststatus:max_down "
               "(%(allowed)d) allows. Nothing was changed. If the hosts "
               "did fail, report with \"force\": true.")


class HostContradicted(HostConflict):
    msg_fmt = ("The servers of host %(host)s were not evacuated: its "
               "nova-compute service reported at %(heartbeat)s, after the "
               "host was reported down at %(reported_at)s, and the report "
               "did not attest fencing. The host may still run its "
               "servers. Fence it and report it again with \"fenced\": "
               "true, evacuate with \"force\": true, or clear the report "
               "(with \"restore\": true to restore its servers).")


class HostNotFenced(HostConflict):
    msg_fmt = ("The servers of host %(host)s were not evacuated: "
               "[hoststatus] require_fenced is set and the report did not "
               "attest fencing. Fence the host and report it again with "
               "\"fenced\": true, or evacuate with \"force\": true.")


class ServersLeftHost(HostConflict):
    msg_fmt = ("The report of host %(host)s was not cleared: servers "
               "%(servers)s left the host since it was reported, and "
               "cannot be restored in place. Nothing was changed. Clear "
               "it without \"restore\".")
