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

"""Masakari recovers a failed host, with this package's tasks and without.

The cloud of ``tools/run-local-cloud.sh masakari``: masakari-api and
Masakari's segment of every host. Three faults (cloud.json's failures),
each the death of a host's nova-compute followed by the notification
masakari-hostmonitor sends (COMPUTE_HOST, STOPPED), each recovered by
masakari-engine onto another host of the failed host's cell, the only one
enabled there (Nova's fake driver cannot restart a compute in a new
process, so no host comes back; Nova evacuates within a cell). In the
superconductor layout:

1. host4 (cell2) onto host5, with the flow of doc/source/masakari.rst: this
   package's ``report_host_down_task``, Masakari's
   ``prepare_HA_enabled_instances_task``, this package's
   ``recover_instances_task``. Every server must be back on host5 in its
   pre-fault state, and Masakari's records must say so.
2. host1 (cell1) onto host2, with Masakari's stock flow (disable, wait,
   evacuate server by server) and no report: servers back on host2 as they
   were, after the wait, Nova showing them ACTIVE all along.
3. host2 onto host3, stock flow, the host reported down first by a fault
   monitor: Nova is right at once, but the stock flow brings the stopped
   servers back stopped, the running ones included.

Each fault is timed from the kill to the notification's ``finished``::

    python -m local_cloud.masakari_scenario STATE/cloud.json

Exits non-zero if any check fails; the last line says how long the
package's flow took, beside the stock flow's.
"""

import collections
import datetime
import json
import os
import signal
import subprocess
import sys
import time

from keystoneauth1 import adapter
from oslo_config import cfg
import oslo_messaging
import prettytable

from local_cloud import common
from local_cloud import scenario

FLOW_PACKAGE, FLOW_STOCK = 'nova-hoststatus', 'stock'
# Masakari's API: recovery_workflow_details (1.1), vmoves (1.3).
MICROVERSION = 'instance-ha 1.3'
DONE = frozenset(['finished', 'error', 'failed', 'ignored'])

Round = collections.namedtuple('Round', [
    'host', 'destination', 'flow', 'reported', 'seconds', 'nova_true',
    'before', 'after', 'notification', 'vmoves'])

Failure = scenario.Failure
check = scenario.check


class Masakari(object):
    """Masakari's API, as its admin."""

    def __init__(self, cloud):
        self.api = adapter.Adapter(
            common.session(cloud, 'admin'), service_type='instance-ha',
            interface='public', region_name=cloud['region'],
            additional_headers={'OpenStack-API-Version': MICROVERSION})

    def _json(self, method, url, **kwargs):
        answer = self.api.request(url, method, raise_exc=False, **kwargs)
        check(answer.status_code < 300, '%s %s answered %s: %s', method,
              url, answer.status_code, answer.text)
        return answer.json() if answer.text else None

    def create_segment(self, hosts):
        segment = self._json('POST', '/segments', json={'segment': {
            'name': 'hoststatus', 'recovery_method': 'auto',
            'service_type': 'COMPUTE'}})['segment']
        self.segment = segment['uuid']
        self.hosts = {}
        for host in hosts:
            self.hosts[host] = self._json(
                'POST', '/segments/%s/hosts' % self.segment, json={'host': {
                    'name': host, 'type': 'COMPUTE',
                    'control_attributes': 'SSH'}})['host']['uuid']

    def notify_stopped(self, host):
        """What masakari-hostmonitor sends when a host stops."""
        return self._json('POST', '/notifications', json={'notification': {
            'type': 'COMPUTE_HOST', 'hostname': host,
            'generated_time': datetime.datetime.now(
                datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f'),
            'payload': {'event': 'STOPPED', 'host_status': 'NORMAL',
                        'cluster_status': 'OFFLINE'}}})['notification']

    def status(self, uuid):
        """The notification's status (at 1.0: no call to the engine)."""
        return self._json('GET', '/notifications/%s' % uuid, headers={
            'OpenStack-API-Version': 'instance-ha 1.0'})['notification']

    def vmoves(self, uuid):
        return self._json('GET',
                          '/notifications/%s/vmoves' % uuid)['vmoves']


class Engine(object):
    """masakari-engine, started with one flow configuration or the other."""

    def __init__(self, cloud):
        self.conf = cloud['masakari_engine']
        self.log = os.path.join(cloud['logs'], 'masakari-engine.out')
        # The global configuration: oslo.messaging's RPC client reads
        # options it registers only there.
        cfg.CONF([], project='local-cloud')
        self.transport = oslo_messaging.get_rpc_transport(
            cfg.CONF, url=cloud['transport_url'])
        self.process = None

    def start(self, flow):
        command = self.conf['command'] + ['--config-file',
                                          self.conf['flows'][flow]]
        self.process = common.start(command, self.log, self.conf['pidfile'])
        common.wait_for(self._answers, 120, 'masakari-engine consuming',
                        interval=0.5)

    def _answers(self):
        """Whether the engine takes RPC calls: it refuses an unknown one."""
        client = oslo_messaging.get_rpc_client(
            self.transport, oslo_messaging.Target(
                exchange='masakari', topic='ha_engine', version='1.0'),
            timeout=2)
        try:
            client.call({}, 'local_cloud_probe')
        except oslo_messaging.MessagingTimeout:
            check(self.process.poll() is None, 'masakari-engine exited: %s',
                  self.log)
            return False
        except oslo_messaging.RemoteError as e:
            return e.exc_type == 'NoSuchMethod'
        raise Failure('masakari-engine answered an unknown RPC method')

    def stop(self):
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


class MasakariScenario(scenario.Scenario):

    def __init__(self, cloud):
        super().__init__(cloud)
        self.masakari = Masakari(cloud)
        self.engine = Engine(cloud)
        self.monitor_api = self._api('monitor')
        self.rounds = []

    def run(self, path):
        self.boot()
        self.say_servers()
        self.masakari.create_segment(sorted(self.cloud['hosts']))
        first, second, third = self.cloud['failures']
        # The later destinations wait disabled: each recovery has one.
        for _failed, spare in (second, third):
            self._enable(spare, False)
        # Tokens now: the timelines measure the recovery, not logging in.
        self.monitor_api.get('/os-hosts/%s/state' % first[0],
                             raise_exc=False)
        try:
            self.engine.start(FLOW_PACKAGE)
            package = self.fault(*first, FLOW_PACKAGE)
            self.check_restored(package)
            self.check_records(package)
            self.show_notification(package)

            self.engine.stop()
            self.engine.start(FLOW_STOCK)
            stock = self.fault(*second, FLOW_STOCK)
            self.check_restored(stock)
            reported = self.fault(*third, FLOW_STOCK, report=True)
            self.check_left_shutoff(reported)
        finally:
            self.engine.stop()

    def _enable(self, host, enabled=True):
        answer = self.admin.put('/os-hosts/%s' % host, json={'host': {
            'status': 'enable' if enabled else 'disable'}})
        check(answer.status_code == 200, '%s %s answered %s: %s',
              'enable' if enabled else 'disable', host, answer.status_code,
              answer.text)

    # One fault

    def fault(self, host, destination, flow, report=False):
        """Kill ``host``'s nova-compute, notify Masakari; wait the end."""
        self._enable(destination)
        before = {s['id']: s for s in self._all_servers()
                  if s['OS-EXT-SRV-ATTR:host'] == host}
        self.timeline = []
        self.say('\n== %s fails; Masakari recovers it onto %s with the %s '
                 'flow%s' % (host, destination, flow,
                             ', after a report' if report else ''))
        pid = int(open(self.cloud['computes'][host]).read())
        self.start = time.monotonic()
        os.killpg(pid, signal.SIGKILL)
        self.mark("fault: %s's nova-compute killed (SIGKILL)" % host,
                  self.start)
        if report:
            answer = self.monitor_api.put('/os-hosts/%s' % host, json={
                'host': {'host_down_reported': True}})
            check(answer.status_code == 200, 'report answered %s: %s',
                  answer.status_code, answer.text)
            self.mark('a fault monitor reports %s down' % host)
        notification = self.masakari.notify_stopped(host)
        self.mark('Masakari notified: COMPUTE_HOST STOPPED (%s)'
                  % notification['status'])
        notification, nova_true = self._follow(
            notification['notification_uuid'], before)
        seconds = time.monotonic() - self.start
        self.mark('notification %s: %.1f s after the fault' % (
            notification['status'], seconds))
        check(notification['status'] == 'finished',
              'notification %s', notification)
        self.print_timeline()
        after = {s['id']: s for s in self._all_servers() if s['id'] in before}
        result = Round(host, destination, flow, report, seconds, nova_true,
                       before, after, notification, self.masakari.vmoves(
                           notification['notification_uuid']))
        self.say('After the recovery:')
        self.say(self.table(after.values()))
        self.rounds.append(result)
        return result

    def _follow(self, uuid, before):
        """Poll Masakari and Nova until the notification is done.

        Marks the notification's status changes, and each change of what
        Nova shows of the watched server.
        :returns: the notification, and when Nova first showed every server
            of the host SHUTOFF with host_status DOWN (None if never).
        """
        status = view = nova_true = None
        # The server whose view of Nova the timeline follows.
        watched = min(before.values(), key=lambda s: s['name'])['id']
        deadline = time.monotonic() + 300
        while True:
            notification = self.masakari.status(uuid)
            if notification['status'] != status:
                status = notification['status']
                self.mark('notification %s' % status)
            servers = {s['id']: s for s in self._all_servers()
                       if s['id'] in before}
            for server in servers.values():
                if server['id'] == watched:
                    seen = '%s: %s, host_status %s, on %s' % (
                        server['name'], server['status'],
                        server['host_status'],
                        server['OS-EXT-SRV-ATTR:host'])
                    if seen != view:
                        view = seen
                        self.mark(view)
            if nova_true is None and all(
                    (s['status'], s['host_status']) == ('SHUTOFF', 'DOWN')
                    for s in servers.values()):
                nova_true = time.monotonic() - self.start
                self.mark('Nova true: every server of the host SHUTOFF, '
                          'host_status DOWN')
            if status in DONE:
                return notification, nova_true
            check(time.monotonic() < deadline, 'notification %s still %s '
                  'after 300 s', uuid, status)
            time.sleep(0.1)

    # Checks

    def check_restored(self, result):
        """Every server on the destination, in its pre-fault state."""
        for uuid, server in result.after.items():
            before = result.before[uuid]
            check(server['OS-EXT-SRV-ATTR:host'] == result.destination,
                  '%s on %s, not %s', server['name'],
                  server['OS-EXT-SRV-ATTR:host'], result.destination)
            check(server['status'] == before['status'] and
                  server['OS-EXT-STS:task_state'] is None,
                  '%s %s (task %s), %s before the fault', server['name'],
                  server['status'], server['OS-EXT-STS:task_state'],
                  before['status'])

    def check_records(self, result):
        """Masakari's vmoves say where each server went."""
        moves = {vmove['instance_uuid']: vmove for vmove in result.vmoves}
        check(set(moves) == set(result.before), 'vmoves %s, servers %s',
              sorted(moves), sorted(result.before))
        for uuid, vmove in moves.items():
            check((vmove['status'], vmove['dest_host']) == (
                'succeeded', result.after[uuid]['OS-EXT-SRV-ATTR:host']),
                'vmove %s', vmove)

    def check_left_shutoff(self, result):
        """The stock flow after a report: every server back SHUTOFF."""
        for server in result.after.values():
            check(server['status'] == 'SHUTOFF',
                  '%s %s after the stock flow', server['name'],
                  server['status'])

    # Output

    def conclude(self):
        """The three side by side, then the result in one line."""
        self.side_by_side()
        package, stock = self.rounds[0], self.rounds[1]
        wait = self.cloud['masakari_engine']['stock_wait']
        self.say('\nmasakari: %d of %d servers restored to their pre-fault '
                 'state on %s, %.1f s from the fault (stock flow: %.1f s '
                 'with a %d s wait, about %.0f s with its default 180 s)' % (
                     len(package.after), len(package.before),
                     package.destination, package.seconds, stock.seconds,
                     wait, stock.seconds - wait + 180))

    def show_notification(self, result):
        """What ``openstack notification show`` tells of the recovery."""
        venv_bin = self.cloud['masakari_engine']['bin']
        uuid = result.notification['notification_uuid']
        answer = subprocess.run(
            [os.path.join(venv_bin, 'openstack'), '--os-cloud', 'admin',
             'notification', 'show', '-f', 'json', uuid],
            env=dict(os.environ, OS_CLIENT_CONFIG_FILE=os.path.join(
                os.path.dirname(self.cloud['logs']), 'clouds.yaml')),
            capture_output=True, text=True, timeout=120)
        check(answer.returncode == 0, 'openstack notification show: %s',
              answer.stderr)
        shown = json.loads(answer.stdout)
        table = prettytable.PrettyTable(['Task', 'State', 'Progress'])
        table.align = 'l'
        table.max_width['Progress'] = 72
        for task in shown['recovery_workflow_details']:
            table.add_row([task['name'], task['state'], '\n'.join(
                detail['message'] for detail in task['progress_details'])])
        self.say('openstack notification show %s: %s' % (
            uuid, shown['status']))
        self.say(table.get_string())

    def side_by_side(self):
        wait = self.cloud['masakari_engine']['stock_wait']
        table = prettytable.PrettyTable([
            'Flow', 'Host', 'Nova true (s)', 'Recovered (s)',
            'With the 180 s default wait (s)', 'Servers as before'])
        table.align = 'l'
        for result in self.rounds:
            stock = result.flow == FLOW_STOCK
            restored = sum(
                1 for uuid, server in result.after.items()
                if server['status'] == result.before[uuid]['status'])
            table.add_row([
                '%s%s' % (result.flow, ' after a report' if result.reported
                          else ''),
                '%s to %s' % (result.host, result.destination),
                'never' if result.nova_true is None
                else '%.1f' % result.nova_true,
                '%.1f' % result.seconds,
                '%.0f' % (result.seconds - wait + 180) if stock else '-',
                '%d of %d' % (restored, len(result.before))])
        self.say('\nMasakari side by side (stock flow: '
                 'wait_period_after_service_update = %d s, Nova '
                 'service_down_time 10 s):' % wait)
        self.say(table.get_string())


def main():
    return scenario.main(MasakariScenario)


if __name__ == '__main__':
    sys.exit(main())
