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
"""

import types

from oslo_log import log as logging
from oslo_utils import timeutils

from nova.compute import api as compute_api
from nova import context as nova_context
from nova.notifications.objects import base as notification_base
from nova.objects import fields
from nova import rpc

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
    emitter.EMITTER.submit(_send_and_record, hs_context.for_thread(context),
                           host, previous, current, reason,
                           timeutils.utcnow())


def _send_and_record(context, host, previous, current, reason, changed_at):
    send(context, host, previous, current, reason, changed_at)
    # What owners were told, for the watcher to compare the host with.
    try:
        db.host_attribute_set(context, host, db.HOST_STATUS_TOLD, current)
    except Exception:
        LOG.exception('Could not write down that the owners of %s were '
                      'told %s; has nova-hoststatus-manage db sync run?',
                      host, current)


def send(context, host, previous, current, reason, changed_at):
    """Send host_status.update to the owner of each server on ``host``.

    One query reads the servers, whatever their number. Runs on the
    emitter's worker.
    """
    servers = db.instances_on_host(context, host)
    LOG.info('host_status of %(host)s changed from %(previous)s to '
             '%(current)s: telling the owners of %(count)d servers.',
             {'host': host, 'previous': previous, 'current': current,
              'count': len(servers)})
    publisher = notification_base.NotificationPublisher(
        host=CONF.host, source=fields.NotificationSource.API)
    event_type = notification_base.EventType(
        object='host_status', action=fields.NotificationAction.UPDATE)
    legacy = _legacy_notifier()
    owners = {}
    for server in servers:
        key = (server.project_id, server.user_id)
        if key not in owners:
            owners[key] = _owner_context(context, *key)
        payload = host_status_obj.HostStatusPayload(
            instance_uuid=server.uuid, project_id=server.project_id,
            user_id=server.user_id, host=host, host_status=current,
            previous_host_status=previous, reason=reason,
            changed_at=changed_at)
        host_status_obj.HostStatusNotification(
            priority=fields.NotificationPriority.INFO,
            event_type=event_type, publisher=publisher,
            payload=payload).emit(owners[key])
        if legacy is not None:
            legacy.info(owners[key], LEGACY_EVENT_TYPE, {
                'instance_id': server.uuid, 'tenant_id': server.project_id,
                'user_id': server.user_id, 'host': host,
                'host_status': current, 'previous_host_status': previous,
                'reason': reason, 'changed_at': changed_at.isoformat()})


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
