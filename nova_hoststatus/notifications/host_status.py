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

"""host_status.update: each owner told when their server's host changed.

A server's ``host_status`` in the API is its host's: UP, UNKNOWN (the compute
service stopped heartbeating), DOWN (forced down) or MAINTENANCE (disabled).
Whatever changes it, nova-api (for a request: this package's PUT /os-hosts,
stock os-services) or the watcher (for a heartbeat that stops or resumes,
:mod:`nova_hoststatus.watcher`) calls :func:`changed` once the change is
committed; one notification per server on the host is then sent off the
request path, in the order of the changes (see
:mod:`nova_hoststatus.notifications.emitter`); then the host_status told is
written down in the API database, where the watcher compares with it.

Each is sent in the name of the server's owner (the notification context's
project and user are the server's), so that a consumer of that project, an
Aodh event alarm among them, matches it; and in the legacy format too when
``[notifications] notification_format`` asks for it.

Each owner is told only what Nova's policy lets it see of its server
(:func:`owner_sees`): the host's name and the request's reason only if
``os_compute_api:servers:show:host_status`` allows, host_status UNKNOWN
only if only its ``unknown-only`` variant does, nothing if neither does
(Nova's default: admins only). The API's per-project ``hostId`` stands for
the host.
"""

import types

from oslo_log import log as logging
from oslo_utils import timeutils

from nova.compute import api as compute_api
from nova import context as nova_context
from nova.notifications.objects import base as notification_base
from nova import objects
from nova.objects import fields
from nova import rpc
from nova import servicegroup
from nova import utils

import nova_hoststatus.conf
from nova_hoststatus import context as hs_context
from nova_hoststatus import db
from nova_hoststatus.notifications import emitter
from nova_hoststatus.objects import host_status as host_status_obj

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

# The legacy event type, with Nova's legacy keys (tenant_id, user_id,
# instance_id): Ceilometer's default event traits read the first two as the
# event's project and user. Not under compute.instance.*: Ceilometer's
# default meter definitions take every compute.instance.* notification but
# create.start and update for one with the instance's flavor (memory_mb,
# vcpus...), and drop each sample of this one with a warning, several per
# server.
LEGACY_EVENT_TYPE = 'compute.host_status.update'


def of(service, servicegroup_api):
    """The host_status the API shows for the servers of ``service``'s host.

    Nova's own rule, compute.api.API.get_instance_host_status, applied to
    the host rather than to one of its servers.
    """
    host = types.SimpleNamespace(servicegroup_api=servicegroup_api)
    server = types.SimpleNamespace(host=service.host, services=[service])
    return compute_api.API.get_instance_host_status(host, server)


def changed(context, host, previous, current, reason=None):
    """Queue host_status.update for the servers of ``host``, if it changed.

    :param context: a context targeted at the host's cell; the change it
        made is committed.
    :param previous: the host_status before the change.
    :param current: the host_status after it.
    :param reason: what the request that made the change said, if anything.
    """
    if previous == current:
        return
    emitter.EMITTER.submit(send_and_record, hs_context.for_thread(context),
                           host, previous, current, reason,
                           timeutils.utcnow())


def send_and_record(context, host, previous, current, reason, changed_at):
    """:func:`send_if_current`, then write down what owners were told.

    nova-api's changes (a report, a clear, maintenance, os-services) are
    written down once told, so that the watcher compares a host with what
    owners know, not with its own last check.
    """
    sequence = send_if_current(context, host, previous, current, reason,
                               changed_at)
    if sequence is None:
        return
    # What owners were told, for the watcher to compare the host with.
    try:
        db.record_told(context, host, current, sequence)
    except Exception:
        LOG.exception('Could not write down that the owners of %s were '
                      'told %s; has nova-hoststatus-manage db sync run?',
                      host, current)


_SERVICEGROUP_API = []


def current_of(context, host):
    """The host_status of ``host`` now: one read of its compute service.

    By the services table's (host, binary) index, in the cell ``context``
    targets.
    """
    if not _SERVICEGROUP_API:
        _SERVICEGROUP_API.append(servicegroup.API())
    service = objects.Service.get_by_compute_host(context, host)
    return of(service, _SERVICEGROUP_API[0])


def send_if_current(context, host, previous, current, reason, changed_at):
    """:func:`send`, unless the host's host_status is no longer ``current``.

    A batch queued in one process may be sent after the batch of a later
    change queued in another (each nova-api worker and the watcher send in
    their own order). So each batch first takes the next number of the
    host's sequence (:func:`nova_hoststatus.db.host_sequence_next`), then
    reads the host again, and is dropped if its change no longer holds: a
    later change was committed, and the batch that tells it takes a greater
    number after that commit, so it reads what holds. The last
    notification an owner is told of a host is then the truth, and its
    ``sequence`` the greatest; a consumer discards a smaller one arriving
    late.

    It is dropped too if owners were told ``current`` already (the watcher
    told a change whose nova-api had not told it, or a later change told
    it first): an owner is told each host_status once.

    :returns: the batch's sequence number if it was sent, else None.
    """
    sequence = db.host_sequence_next(context, host)
    now = current_of(context, host)
    if now != current:
        LOG.info('host_status of %(host)s is %(now)s, no longer '
                 '%(current)s: not telling that it changed from '
                 '%(previous)s (a later change is told).',
                 {'host': host, 'now': now, 'current': current,
                  'previous': previous})
        return None
    told = db.told_host_status(context, host)
    if told is not None and told.host_status == current:
        LOG.info('The owners of the servers of %(host)s were told '
                 '%(current)s already (batch %(told)d).',
                 {'host': host, 'current': current, 'told': told.sequence})
        return None
    send(context, host, previous, current, reason, changed_at, sequence)
    return sequence


# Nova's rules for showing a server's host_status, and how much of the
# change an owner they allow it is told.
SHOW_HOST_STATUS = 'os_compute_api:servers:show:host_status'
SHOW_UNKNOWN_ONLY = 'os_compute_api:servers:show:host_status:unknown-only'
SEES_ALL, SEES_UNKNOWN_ONLY, SEES_NOTHING = 'all', 'unknown-only', None


def owner_sees(project_id, user_id):
    """How much of a host_status change the owner of a server may see.

    Nova's rules, decided as nova-api decides them for a GET of the server
    (its views.servers: the server's project as the target, the first rule
    before the second), with credentials made up for the owner, since no
    request of the owner's is at hand: its project and user, the roles of
    ``[hoststatus] owner_roles``, not admin, no system scope.

    :returns: SEES_ALL, SEES_UNKNOWN_ONLY or SEES_NOTHING.
    """
    owner = nova_context.RequestContext(
        user_id=user_id, project_id=project_id,
        roles=list(CONF.hoststatus.owner_roles), is_admin=False,
        overwrite=False)
    target = {'project_id': project_id}
    if owner.can(SHOW_HOST_STATUS, target=target, fatal=False):
        return SEES_ALL
    if owner.can(SHOW_UNKNOWN_ONLY, target=target, fatal=False):
        return SEES_UNKNOWN_ONLY
    return SEES_NOTHING


def _told(sees, host, previous, current, reason):
    """The values of the change an owner that ``sees`` is told, or None.

    None when the owner may see nothing of it: with UNKNOWN only, a change
    between two other values looks to it like no change at all.
    """
    if sees == SEES_ALL:
        return {'host': host, 'reason': reason, 'host_status': current,
                'previous_host_status': previous}
    if sees == SEES_UNKNOWN_ONLY:
        unknown = fields.HostStatus.UNKNOWN
        told = {name: value for name, value in
                (('host_status', current), ('previous_host_status', previous))
                if value == unknown}
        return told or None
    return None


def send(context, host, previous, current, reason, changed_at, sequence):
    """Send host_status.update to the owner of each server on ``host``.

    Each owner is told what Nova's policy lets it see (:func:`owner_sees`):
    the server's ``hostId`` always, the host's name and the reason only
    with ``os_compute_api:servers:show:host_status``. One query reads the
    servers, whatever their number. Runs on the emitter's worker.
    """
    servers = db.instances_on_host(context, host)
    publisher = notification_base.NotificationPublisher(
        host=CONF.host, source=fields.NotificationSource.API)
    event_type = notification_base.EventType(
        object='host_status', action=fields.NotificationAction.UPDATE)
    legacy = _legacy_notifier()
    owners = {}
    told = 0
    for server in servers:
        key = (server.project_id, server.user_id)
        if key not in owners:
            values = _told(owner_sees(*key), host, previous, current, reason)
            owners[key] = (
                values and _owner_context(context, *key), values)
        owner, values = owners[key]
        if values is None:
            continue
        told += 1
        host_id = utils.generate_hostid(host, str(server.project_id))
        payload = host_status_obj.HostStatusPayload(
            instance_uuid=server.uuid, project_id=server.project_id,
            user_id=server.user_id, host_id=host_id, changed_at=changed_at,
            sequence=sequence, **values)
        host_status_obj.HostStatusNotification(
            priority=fields.NotificationPriority.INFO,
            event_type=event_type, publisher=publisher,
            payload=payload).emit(owner)
        if legacy is not None:
            legacy.info(owner, LEGACY_EVENT_TYPE, dict(
                values, instance_id=server.uuid,
                tenant_id=server.project_id, user_id=server.user_id,
                host_id=host_id, changed_at=changed_at.isoformat(),
                sequence=sequence))
    LOG.info('host_status of %(host)s changed from %(previous)s to '
             '%(current)s: told the owners of %(told)d of its %(count)d '
             'servers (the others may not see it).',
             {'host': host, 'previous': previous, 'current': current,
              'told': told, 'count': len(servers)})


def _owner_context(context, project_id, user_id):
    """A context in the server owner's name, tracing back to the change."""
    return nova_context.RequestContext(
        user_id=user_id, project_id=project_id,
        request_id=context.request_id,
        global_request_id=context.global_request_id, overwrite=False)


def _legacy_notifier():
    if CONF.notifications.notification_format not in ('unversioned', 'both'):
        return None
    # Not rpc.get_notifier(): its list of allowed legacy event types is
    # Nova's own, closed to new ones, and would warn at every notification.
    return rpc.LEGACY_NOTIFIER.prepare(publisher_id='api.%s' % CONF.host)
