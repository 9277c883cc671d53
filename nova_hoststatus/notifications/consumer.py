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

"""A sample consumer: per project, which servers went down, and when.

It listens to Nova's versioned notifications::

    python -m nova_hoststatus.notifications.consumer \\
        --transport-url rabbit://nova:secret@controller:5672/

and prints a line for each ``host_fault.report`` and ``host_fault.clear``,
for each ``host_status.update`` (a server's host turned DOWN, MAINTENANCE,
UNKNOWN or back UP; told in the name of the server's project), and for each
``instance.update`` that shows a server going down (power state
``shutdown``) or coming back (``running``). A ``host_status.update`` whose
``changed_at`` is older than the one applied last for its server arrived
out of order (each nova-api process and the watcher send in their own
order) and is ignored. On exit (Ctrl-C) it prints,
per project, the servers still down and those whose host is not UP.

It is an operator's tool: Nova's notification bus carries every project's
notifications, read with the bus's credentials (projects are told through
Aodh event alarms instead, doc/source/user/host-status-notifications.rst).
It consumes from its own listener pool (``--pool``), so it gets a copy of
each notification and takes none from other consumers such as Ceilometer;
on exit it deletes the pool's queue, which would keep filling otherwise.
Nova sends versioned notifications only when ``[notifications]
notification_format`` is ``versioned`` or ``both``, and ``instance.update``
only when ``[notifications] notify_on_state_change`` is set.
"""

import argparse
import collections
import sys
import threading
import time

import kombu
from oslo_config import cfg
import oslo_messaging
from oslo_utils import timeutils

DownServer = collections.namedtuple(
    'DownServer', ['project_id', 'uuid', 'name', 'host', 'since', 'fault'])

# Why a server went down, when a host fault report says so.
Fault = collections.namedtuple('Fault', ['host', 'reporter', 'reason'])


class HostFaultEndpoint(object):
    """Keeps, per project, the servers that are down, and prints changes.

    :param out: where to print; None to print nothing.
    :param on_notification: called with ``(event_type, payload data)`` after
        each notification is handled.
    """

    filter_rule = oslo_messaging.NotificationFilter(
        event_type=r'^(instance\.update|host_status\.update|'
                   r'host_fault\.(report|clear))$')

    def __init__(self, out=sys.stdout, on_notification=None):
        self.out = out
        self.on_notification = on_notification
        self._lock = threading.Lock()
        # {project_id: {server uuid: DownServer}}
        self.down = collections.defaultdict(dict)
        # {server uuid: Fault} of the host fault reports received.
        self._faults = {}
        # {project_id: {server uuid: (host, host_status)}}, UP left out.
        self.host_status = collections.defaultdict(dict)
        # {server uuid: changed_at of the host_status.update applied last}
        self._changed_at = {}

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        data = payload['nova_object.data']
        with self._lock:
            if event_type == 'instance.update':
                self._instance_update(data, metadata)
            elif event_type == 'host_status.update':
                self._host_status(ctxt, data)
            else:
                self._host_fault(event_type, data)
        if self.on_notification:
            self.on_notification(event_type, data)
        return oslo_messaging.NotificationResult.HANDLED

    def _print(self, line):
        if self.out is not None:
            print(line, file=self.out, flush=True)

    def _host_fault(self, event_type, data):
        if event_type == 'host_fault.report':
            reporter = '%s/%s' % (data['reporter_user_id'],
                                  data['reporter_project_id'])
            fault = Fault(data['host'], reporter, data['reason'])
            for uuid in data['instance_uuids']:
                self._faults[uuid] = fault
            self._print('host %s reported down at %s by %s%s: %d servers '
                        'stopped' % (data['host'], data['changed_at'],
                                     reporter, _reason(data['reason']),
                                     len(data['instance_uuids'])))
        else:
            self._print('host %s: down report cleared at %s%s' % (
                data['host'], data['changed_at'], _reason(data['reason'])))

    def _host_status(self, ctxt, data):
        # The notification is in the owner's name: its context's project
        # is the server's.
        project = ctxt.get('project_id') or data['project_id']
        # Each nova-api process and the watcher send in their own order: an
        # update that arrives after a later one is old news.
        changed_at = data['changed_at'] and timeutils.parse_isotime(
            data['changed_at'])
        last = self._changed_at.get(data['instance_uuid'])
        if changed_at and last and changed_at < last:
            self._print('project %s: server %s: host %s was %s at %s; '
                        'ignored, a later change was told' % (
                            project, data['instance_uuid'], data['host'],
                            data['host_status'], data['changed_at']))
            return
        if changed_at:
            self._changed_at[data['instance_uuid']] = changed_at
        servers = self.host_status[project]
        if data['host_status'] == 'UP':
            servers.pop(data['instance_uuid'], None)
            if not servers:
                del self.host_status[project]
        else:
            servers[data['instance_uuid']] = (data['host'],
                                              data['host_status'])
        self._print('project %s: server %s: host %s is %s (was %s) since '
                    '%s%s' % (project, data['instance_uuid'], data['host'],
                              data['host_status'],
                              data['previous_host_status'],
                              data['changed_at'], _reason(data['reason'])))

    def _instance_update(self, data, metadata):
        project, uuid = data['tenant_id'], data['uuid']
        servers = self.down[project]
        if data['power_state'] == 'shutdown' and uuid not in servers:
            server = DownServer(
                project, uuid, data['display_name'], data['host'],
                data['updated_at'] or metadata.get('timestamp'),
                self._faults.pop(uuid, None))
            servers[uuid] = server
            self._print('project %s: %s' % (project, _describe(server)))
        elif data['power_state'] == 'running' and uuid in servers:
            server = servers.pop(uuid)
            if not servers:
                del self.down[project]
            self._print('project %s: server %s (%s) is running again' % (
                project, server.name, uuid))

    def summary(self):
        """Per project: servers still down, servers whose host is not UP."""
        with self._lock:
            lines = []
            for project in sorted(set(self.down) | set(self.host_status)):
                servers = self.down.get(project, {}).values()
                lines.append('project %s: %d servers down' % (
                    project, len(servers)))
                lines.extend('  ' + _describe(server) for server in servers)
                for uuid, (host, status) in sorted(
                        self.host_status.get(project, {}).items()):
                    lines.append('  server %s: host %s is %s' % (
                        uuid, host, status))
            return lines


def _reason(reason):
    return ' (%s)' % reason if reason else ''


def _describe(server):
    line = 'server %s (%s) went down at %s on host %s' % (
        server.name, server.uuid, server.since, server.host)
    if server.fault:
        line += ': host fault reported by %s%s' % (
            server.fault.reporter, _reason(server.fault.reason))
    return line


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='python -m nova_hoststatus.notifications.consumer',
        description='Print, per project, which servers went down and when, '
                    'from Nova\'s versioned notifications.')
    parser.add_argument('--transport-url', required=True,
                        help='The oslo.messaging transport URL of Nova\'s '
                             'notifications, e.g. rabbit://user:pass@host/.')
    parser.add_argument('--topic', action='append', dest='topics',
                        help='A topic to listen to; repeat for more. '
                             'Default: versioned_notifications, Nova\'s '
                             '[notifications] versioned_notifications_topics '
                             'default.')
    parser.add_argument('--exchange', default='nova',
                        help='The exchange Nova sends to (its '
                             'control_exchange). Default: %(default)s.')
    parser.add_argument('--pool', default='nova-hoststatus-consumer',
                        help='The listener pool: consumers in one pool share '
                             'the notifications, each pool gets them all. '
                             'Default: %(default)s.')
    parser.add_argument('--config-file', action='append', default=[],
                        help='oslo.messaging driver options, e.g. '
                             '[oslo_messaging_rabbit] TLS settings.')
    args = parser.parse_args(argv)
    args.topics = args.topics or ['versioned_notifications']
    return args


def start_listener(args, endpoint):
    """Start an oslo.messaging notification listener for ``args``."""
    conf = cfg.ConfigOpts()
    conf(['--config-file=%s' % path for path in args.config_file],
         project='nova-hoststatus-consumer', default_config_files=[])
    transport = oslo_messaging.get_notification_transport(
        conf, url=args.transport_url)
    targets = [oslo_messaging.Target(topic=topic, exchange=args.exchange)
               for topic in args.topics]
    listener = oslo_messaging.get_notification_listener(
        transport, targets, [endpoint], executor='threading',
        pool=args.pool)
    # One at a time, in the order Nova sent them: a host fault report
    # before the instance updates it caused.
    listener.start(override_pool_size=1)
    return listener


def delete_pool_queue(listener, args):
    """Delete the queue of the listener's pool; True once deleted.

    oslo.messaging declares the pool's queue and never deletes it: left
    behind, it would keep every notification sent after the exit. With
    RabbitMQ (or kombu's transports), the first host of the transport URL
    that answers deletes it.
    """
    url = oslo_messaging.TransportURL.parse(listener.transport.conf,
                                            args.transport_url)
    kind = {'rabbit': 'pyamqp'}.get(url.transport)
    if kind is None and url.transport.startswith('kombu+'):
        kind = url.transport[len('kombu+'):]
    if kind is None:
        return False
    failures = []
    for host in url.hosts or [None]:
        connection = kombu.Connection(
            transport=kind, hostname=host and host.hostname,
            port=host and host.port, userid=host and host.username,
            password=host and host.password,
            virtual_host=url.virtual_host or '/', connect_timeout=5)
        try:
            with connection:
                kombu.Queue(args.pool, channel=connection.channel()).delete()
            return True
        except Exception as exc:
            failures.append(str(exc))
    print('Could not delete the queue %s (%s); delete it with '
          '"rabbitmqctl delete_queue %s".' % (args.pool, '; '.join(failures),
                                              args.pool), file=sys.stderr)
    return False


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    endpoint = HostFaultEndpoint()
    listener = start_listener(args, endpoint)
    print('Listening to %s on %s; Ctrl-C to stop.' % (
        ', '.join(args.topics), args.exchange), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
        listener.wait()
        delete_pool_queue(listener, args)
        listener.transport.cleanup()
    for line in endpoint.summary():
        print(line)


if __name__ == '__main__':
    main()
