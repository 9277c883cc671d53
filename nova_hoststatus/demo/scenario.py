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

"""The host fault scenario, run on the embedded cloud.

Two projects have servers on host1 and host2. host1 fails: its
nova-compute stops. Stock Nova keeps showing the servers ACTIVE with
host_status UP until service_down_time passes. A fault monitor makes one
call; at once the owners see SHUTOFF and DOWN, and evacuation to host2
starts.
"""

import sys
import time

from cliff import columns
import prettytable

from nova_hoststatus.cli.v1 import server as server_cli
from nova_hoststatus.demo import cloud


def server_table(servers):
    """The seed's server list table, and the host of each server."""
    table = prettytable.PrettyTable(server_cli.COLUMNS + ('Host',))
    table.align = 'l'
    for server in sorted(servers, key=lambda s: s['name']):
        row = [value.human_readable()
               if isinstance(value, columns.FormattableColumn) else value
               for value in server_cli.seed_row(server)]
        row[0] = row[0][:8]
        table.add_row(row + [server['OS-EXT-SRV-ATTR:host']])
    return table.get_string()


class HostFaultScenario(cloud.EmbeddedNova):

    # RPC casts stay casts: "evacuation accepted" is the API's answer, not
    # the end of the rebuild.
    CAST_AS_CALL = False

    def setUp(self):
        super().setUp()
        # Stock liveness: a host that stops heartbeating looks up for a
        # minute; the report does not wait for that.
        self.flags(service_down_time=60)
        # The real stdout: nova's fixtures may capture sys.stdout.
        self.out = sys.__stdout__

    def _say(self, text=''):
        self.out.write(text + '\n')
        self.out.flush()

    def _servers(self):
        return self.admin_api.get_servers(search_opts={'all_tenants': 1})

    def run_scenario(self):
        self._boot('host1', 'vm1-project-a')
        self._boot('host1', 'vm2-project-b', api=self.other_admin_api)
        self._boot('host2', 'vm3-project-a')
        self._say('Servers of two projects on host1 and host2:')
        self._say(server_table(self._servers()))

        timeline = []
        start = time.monotonic()

        def mark(event):
            timeline.append((event, (time.monotonic() - start) * 1000))

        self.computes['host1'].stop()
        mark('fault injected: nova-compute on host1 stopped')
        self._say('\nhost1 failed. Without a report Nova still shows:')
        self._say(server_table(self._servers()))

        host = self._report_host_down('host1')
        mark('host down reported (PUT /os-hosts/host1)')
        self._say('\nThe fault monitor reported host1 down: %d changed, '
                  '%d skipped.' % (len(host['instances_changed']),
                                   len(host['instances_skipped'])))
        owner_view = self.other_member_api.get_servers()
        assert {s['status'] for s in owner_view} == {'SHUTOFF'}, owner_view
        mark("owner of project B sees SHUTOFF")
        self._say(server_table(self._servers()))

        for change in host['instances_changed']:
            self.admin_api.post_server_action(change['id'],
                                              {'evacuate': {}})
        mark('evacuation of %d servers accepted'
             % len(host['instances_changed']))
        for change in host['instances_changed']:
            self._wait_for_server_parameter(
                {'id': change['id']},
                {'OS-EXT-SRV-ATTR:host': 'host2', 'status': 'SHUTOFF'})
        mark('evacuation to host2 completed')
        self._say('\nAfter evacuation:')
        self._say(server_table(self._servers()))

        self._say('\nTimeline (ms after the fault):')
        table = prettytable.PrettyTable(['ms', 'event'])
        table.align = 'l'
        for event, elapsed in timeline:
            table.add_row(['%.0f' % elapsed, event])
        self._say(table.get_string())
