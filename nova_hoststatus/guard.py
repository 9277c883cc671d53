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

"""What the package checks for a fault monitor that may be wrong.

* The runaway guard (:func:`check_report`): a monitor that lost its own
  network reports every host down. A new report that would leave more than
  ``[hoststatus] max_down_fraction`` of the deployment's nova-compute
  services forced down (every cell), or more than an aggregate's
  ``hoststatus:max_down`` of its hosts, is refused before anything
  changes, and operators are told (``host_fault.refuse``). Services
  already forced down count, the reported host once.
* Contradiction (:func:`contradiction`): a host whose nova-compute
  heartbeats after it was reported down (its service's ``updated_at``
  moves on past the report) may still run its servers. Host evacuation
  refuses it unless the report attested fencing (:func:`check_evacuation`).

Both may be overridden with ``"force": true`` under their own rule.
"""

import collections
import datetime
import math

from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_utils import timeutils

from nova import context as nova_context
from nova import objects

import nova_hoststatus.conf
from nova_hoststatus import db
from nova_hoststatus import exception
from nova_hoststatus.notifications import refusal

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

# The aggregate metadata key of the largest number of its hosts that may be
# reported down at once.
AGGREGATE_KEY = 'hoststatus:max_down'

# The limits a report may be refused by.
LIMIT_FRACTION = 'max_down_fraction'
LIMIT_AGGREGATE = 'aggregate'

# A refusal, as operators are told of it.
Refusal = collections.namedtuple(
    'Refusal', ['host', 'limit', 'aggregate', 'down', 'total', 'allowed'])

# Floating point slack for fraction * total (0.3 * 10 is 2.9999...).
_EPSILON = 1e-9


def _compute_services(context):
    """``({host}, {forced down host})`` of the whole deployment.

    One statement on the API database (the cells), then one per cell. A
    cell that cannot be reached counts its mapped hosts as not reported
    (what is reported there cannot be read): a cell going down must not
    stop reports in the others.
    """
    hosts, down = set(), set()
    for cell in objects.CellMappingList.get_all(context):
        if cell.is_cell0():
            continue
        try:
            with nova_context.target_cell(context, cell) as cctxt:
                rows = db.compute_services(cctxt)
        except db_exc.DBError:
            LOG.warning('Cell %s cannot be reached: its hosts count as not '
                        'reported down.', cell.identity)
            hosts.update(mapping.host for mapping in
                         objects.HostMappingList.get_by_cell_id(context,
                                                                cell.id))
            continue
        for host, forced_down in rows:
            hosts.add(host)
            if forced_down:
                down.add(host)
    return hosts, down


def _aggregate_limit(aggregate):
    value = aggregate.metadata.get(AGGREGATE_KEY)
    try:
        limit = int(value)
        if limit < 0:
            raise ValueError(value)
        return limit
    except (TypeError, ValueError):
        LOG.warning('Aggregate %(aggregate)s: %(key)s=%(value)r is not a '
                    'number of hosts; ignored.',
                    {'aggregate': aggregate.name, 'key': AGGREGATE_KEY,
                     'value': value})
        return None


def check_report(context, host, reason=None):
    """Refuse a new report of ``host`` that would pass a limit.

    Called before anything changes, outside any cell. A host reported
    already (its service forced down), or that no cell has, is not
    checked: a repeated report is never refused, an unknown host is the
    caller's 404. The refusal is told to operators (``host_fault.refuse``).
    With ``max_down_fraction`` 1.0 and no aggregate limit on the host, no
    cell is read.

    :param context: not targeted at a cell.
    :raises: TooManyHostsDown, TooManyAggregateHostsDown;
        APIDatabaseUnavailable (503: nothing changed, a retry is safe)
        when the API database, which has the cells, the host mappings and
        the aggregates, cannot be reached.
    """
    try:
        _check_report(context, host, reason)
    except db_exc.DBConnectionError:
        # A restarting or failing-over database, as compute_service says.
        raise exception.APIDatabaseUnavailable(host=host)


def _check_report(context, host, reason):
    fraction = CONF.hoststatus.max_down_fraction
    limited = []
    for aggregate in objects.AggregateList.get_by_host(context, host,
                                                       key=AGGREGATE_KEY):
        allowed = _aggregate_limit(aggregate)
        if allowed is not None:
            limited.append((aggregate, allowed))
    if fraction >= 1.0 and not limited:
        return
    hosts, down = _compute_services(context)
    if host in down or host not in hosts:
        return
    after = down | {host}
    allowed = int(math.floor(fraction * len(hosts) + _EPSILON))
    if len(after) > allowed:
        _refuse(context, reason, exception.TooManyHostsDown(
            host=host, down=len(after), total=len(hosts),
            fraction=fraction, allowed=allowed),
            Refusal(host, LIMIT_FRACTION, None, len(after), len(hosts),
                    allowed))
    for aggregate, allowed in limited:
        members = set(aggregate.hosts)
        in_aggregate = len(after & members)
        if in_aggregate > allowed:
            _refuse(context, reason, exception.TooManyAggregateHostsDown(
                host=host, down=in_aggregate, total=len(members),
                aggregate=aggregate.name, allowed=allowed),
                Refusal(host, LIMIT_AGGREGATE, aggregate.name,
                        in_aggregate, len(members), allowed))


def _refuse(context, reason, error, found):
    LOG.warning('Host down report refused: %s', error.format_message())
    refusal.refused(context, found, reason, error.format_message())
    raise error


def contradiction(service, fault):
    """When the host's nova-compute reported after ``fault``, or None.

    ``fault`` is the prefault.Fault of the host's report (None for a host
    with no server records: nothing to evacuate, nothing to tell).

    A heartbeat counts when it is more than ``[DEFAULT] report_interval``
    after the report: its time is the conductor's clock, the report's
    nova-api's, and a heartbeat under way as the report committed is no
    sign of life after it. A compute that runs on reports again within
    one more interval.
    """
    if fault is None or fault.reported_at is None or not service.updated_at:
        return None
    heartbeat = timeutils.normalize_time(service.updated_at)
    since = timeutils.normalize_time(fault.reported_at) + datetime.timedelta(
        seconds=CONF.report_interval)
    if heartbeat > since:
        return heartbeat
    return None


def check_evacuation(service, fault, host, force=False):
    """Refuse to evacuate a host that may still run its servers.

    :raises: HostContradicted when its nova-compute heartbeated after the
        report and the report attested no fencing; HostNotFenced when
        ``[hoststatus] require_fenced`` is set and it did not.
    """
    if force:
        return
    fenced = fault is not None and fault.fenced
    if fenced:
        return
    heartbeat = contradiction(service, fault)
    if heartbeat is not None:
        raise exception.HostContradicted(
            host=host, heartbeat=heartbeat.isoformat(),
            reported_at=timeutils.normalize_time(
                fault.reported_at).isoformat())
    if CONF.hoststatus.require_fenced:
        raise exception.HostNotFenced(host=host)
