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

"""The host fault scenario (OPNFV Doctor's), run on the embedded cloud.

Two projects have servers on host1 and host2. host1 fails: its
nova-compute stops. Stock Nova keeps showing the servers ACTIVE with
host_status UP until service_down_time passes. A sample fault monitor
probing the computes detects it and makes one call; at once the owners see
SHUTOFF and DOWN (the NFV owner policy is in force), the sample consumer
receives their instance.update notifications over oslo.messaging. One more
call evacuates host1: every server comes back on host2 as it was before the
fault, the running ones ACTIVE, the one stopped before SHUTOFF.
"""

import io
import os
import sys
import threading
import time

from cliff import columns
import prettytable

import oslo_messaging

from nova import context as nova_context
from nova import rpc
from nova.tests import fixtures as nova_fixtures

import nova_hoststatus.conf
from nova_hoststatus.cli.v1 import server as server_cli
from nova_hoststatus.demo import cloud
from nova_hoststatus.demo import monitor
from nova_hoststatus.notifications import consumer

CONF = nova_hoststatus.conf.CONF

# oslo.messaging's rabbit driver on kombu's in-memory broker: notifications
# are serialized and go through an exchange and a queue, with no server.
TRANSPORT_URL = 'kombu+memory:////'


# What the sample monitor's report is worth, told after it.
MONITOR_STANDS_FOR = (
    'The sample monitor only probes nova-compute and fences nothing: it\n'
    'would report a host whose nova-compute alone died, guests still\n'
    'running, so its report does not attest fencing ("fenced": true).\n'
    'Here host1 is a fake-driver compute whose guests exist only inside\n'
    'its nova-compute: the whole host stopped. A real monitor fences the\n'
    'host before it reports it (doc/source/user/'
    'when-the-monitor-is-wrong.rst).')


class NFVOwnerPolicy(nova_fixtures.RealPolicyFixture):
    """Nova's policy with policies/nfv-owner-host-status.yaml."""

    def _prepare_policy(self):
        self.policy_file = cloud.data_file(
            os.path.join('policies', 'nfv-owner-host-status.yaml'))
        CONF.set_override('policy_dirs', [], group='oslo_policy')


def server_table(servers):
    """The seed's server list table, and the host when policy shows it."""
    table = prettytable.PrettyTable(server_cli.COLUMNS + ('Host',))
    table.align = 'l'
    for server in sorted(servers, key=lambda s: s['name']):
        row = [value.human_readable()
               if isinstance(value, columns.FormattableColumn) else value
               for value in server_cli.seed_row(server)]
        row[0] = row[0][:8]
        table.add_row(row + [server.get('OS-EXT-SRV-ATTR:host', '-')])
    return table.get_string()


class HostFaultScenario(cloud.EmbeddedNova):

    # RPC casts stay casts: "evacuation started" is the API's answer, not
    # the end of the rebuild.
    CAST_AS_CALL = False

    def setUp(self):
        # The computes answer the monitor's pings.
        monitor.register_ping_option(CONF)
        self.flags(rpc_ping_enabled=True)
        super().setUp()
        # Stock liveness: a host that stops heartbeating looks up for a
        # minute; the report does not wait for that.
        self.flags(service_down_time=60)
        self.flags(enforce_new_defaults=True, group='oslo_policy')
        self.useFixture(NFVOwnerPolicy())
        self.flags(notification_format='versioned',
                   notify_on_state_change='vm_and_task_state',
                   group='notifications')
        self._start_consumer()
        # The real stdout: nova's fixtures may capture sys.stdout.
        self.out = sys.__stdout__

    def _start_consumer(self):
        """Nova's notifier and the sample consumer on a real transport."""
        transport = oslo_messaging.get_notification_transport(
            CONF, url=TRANSPORT_URL)
        self.addCleanup(transport.cleanup)
        self.stub_out('nova.rpc.NOTIFIER', oslo_messaging.Notifier(
            transport, driver='messaging',
            serializer=rpc.RequestContextSerializer(
                rpc.JsonPayloadSerializer()),
            topics=CONF.notifications.versioned_notifications_topics))
        self.received = []
        self.received_changed = threading.Condition()
        self.consumer_output = io.StringIO()
        endpoint = consumer.HostFaultEndpoint(
            out=self.consumer_output, on_notification=self._received)
        listener = consumer.start_listener(
            consumer.parse_args(['--transport-url', TRANSPORT_URL]),
            endpoint)
        self.addCleanup(listener.transport.cleanup)
        self.addCleanup(listener.wait)
        self.addCleanup(listener.stop)

    def _received(self, event_type, data):
        with self.received_changed:
            self.received.append((time.monotonic(), event_type, data))
            self.received_changed.notify_all()

    def _notified_at(self, uuids, event_type='instance.update',
                     **expected):
        """When the consumer had the notification of each of ``uuids``.

        The one of ``event_type`` whose payload has the ``expected`` values.
        """
        key = 'instance_uuid' if event_type == 'host_status.update' else \
            'uuid'

        def arrivals():
            return {data[key]: at for at, received, data in self.received
                    if received == event_type and data[key] in uuids and
                    all(data[name] == value
                        for name, value in expected.items())}
        with self.received_changed:
            self.received_changed.wait_for(
                lambda: len(arrivals()) == len(uuids), 30)
            return max(arrivals().values())

    def _consumer_printed(self):
        """What the consumer printed since the last call."""
        printed = self.consumer_output.getvalue().rstrip()
        self.consumer_output.seek(0)
        self.consumer_output.truncate()
        return printed

    def _maintenance(self, host, uuids):
        """The operator maintains ``host``: its owners are told, twice."""
        self._put_host(host, {'maintenance_mode': 'enable',
                              'reason': 'firmware update'})
        self._notified_at(uuids, 'host_status.update',
                          host_status='MAINTENANCE')
        self._put_host(host, {'maintenance_mode': 'disable'})
        self._notified_at(uuids, 'host_status.update', host_status='UP')
        self._say('\nThe operator put %s into maintenance and back; the '
                  'sample consumer printed:' % host)
        self._say(self._consumer_printed())

    def _say(self, text=''):
        self.out.write(text + '\n')
        self.out.flush()

    def _servers(self, api=None):
        if api is None:
            return self.admin_api.get_servers(
                search_opts={'all_tenants': 1})
        return api.get_servers()

    def _owners_see_it(self, owners, uuids):
        servers = [s for api in owners for s in self._servers(api)
                   if s['id'] in uuids]
        return len(servers) == len(uuids) and all(
            (s['status'], s.get('host_status')) == ('SHUTOFF', 'DOWN')
            for s in servers)

    def run_scenario(self):
        owners = (self.member_api, self.other_member_api)
        self._boot('host1', 'vm1-project-a')
        self._boot('host1', 'vm2-project-b', api=self.other_admin_api)
        on_host2 = self._boot('host2', 'vm3-project-a')
        self._stop_server(self._boot('host1', 'vm4-project-a'))
        self._say('Servers of two projects on host1 and host2:')
        self._say(server_table(self._servers()))
        # What the consumer printed of the boots and the stop.
        self._consumer_printed()
        self._maintenance('host2', [on_host2['id']])

        fault_monitor = monitor.FaultMonitor(
            nova_context.get_admin_context())
        assert fault_monitor.probe('host1') and fault_monitor.probe('host2')
        timeline = []

        def mark(event, at=None):
            timeline.append((((at or time.monotonic()) - start) * 1000,
                             event))

        self.computes['host1'].stop()
        start = time.monotonic()
        mark('fault injected: nova-compute on host1 stopped')
        fault_monitor.wait_for_failure('host1')
        mark('fault detected: host1 missed %d probes, %d ms apart'
             % (fault_monitor.misses, fault_monitor.interval * 1000))
        self._say('\nhost1 failed. Without a report, the owner of project B '
                  'still sees:')
        self._say(server_table(self._servers(self.other_member_api)))

        host = self._report_host_down('host1')
        mark('host down reported: PUT /os-hosts/host1 answered')
        changed = [change['id'] for change in host['instances_changed']]
        while not self._owners_see_it(owners, changed):
            time.sleep(0.005)
        mark('state consistent: both owners see SHUTOFF and DOWN')
        on_host1 = changed + [skipped['id']
                              for skipped in host['instances_skipped']]
        mark('owners told: the consumer has %d host_status.update DOWN'
             % len(on_host1), at=self._notified_at(
                 on_host1, 'host_status.update', host_status='DOWN'))
        mark('owners notified: the consumer has %d instance.update'
             % len(changed), at=self._notified_at(
                 changed, power_state='shutdown'))
        self._say('\nThe monitor reported host1 down: %d changed, '
                  '%d skipped.' % (len(changed),
                                   len(host['instances_skipped'])))
        self._say(MONITOR_STANDS_FOR)
        self._say('The owner of project B now sees:')
        self._say(server_table(self._servers(self.other_member_api)))
        self._say('\nThe sample consumer printed:')
        self._say(self._consumer_printed())

        recovery = self._evacuate_host('host1')['evacuate']['servers']
        mark('evacuation started: POST /os-hosts/host1/evacuate accepted %d '
             'servers' % len(recovery))
        restored = {'active': 'ACTIVE', 'stopped': 'SHUTOFF'}
        for server in recovery:
            self._wait_for_server_parameter(
                server, {'OS-EXT-SRV-ATTR:host': 'host2',
                         'OS-EXT-STS:task_state': None,
                         'status': restored[server['restored_vm_state']]})
        mark('recovered: %d of %d servers back in their pre-fault state'
             % (len(recovery), len(recovery)))
        self._say('\nAfter recovery:')
        self._say(server_table(self._servers()))

        self._say('\nTimeline (ms after the fault):')
        table = prettytable.PrettyTable(['ms', 'event'])
        table.align = 'l'
        for elapsed, event in sorted(timeline):
            table.add_row(['%.0f' % elapsed, event])
        self._say(table.get_string())
