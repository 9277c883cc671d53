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

Then Masakari on its worst day, with the package's flow again
(doc/source/masakari.rst, "When it goes wrong"), each onto the host the
previous one recovered onto:

4. host5 onto host6, a retried notification: Nova answers the first host
   evacuation 503 (a fault armed in nova-api), Masakari retries the
   notification, which ends finished; each server evacuated once.
5. host6 onto host7, masakari-engine killed once Nova accepted the
   evacuation: Nova recovers the servers anyway, the notification stays
   running; then the documented steps.
6. host7 onto host8 in a reserved_host segment, host8 its reserved host,
   disabled in Nova until the flow enables it.

The package's check (``python -m nova_hoststatus.masakari.check``) runs in
masakari-engine's venv before the engine first starts. Each fault is timed
from the kill to the notification's ``finished``::

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
        # {host: (segment uuid, host uuid)}
        self.hosts = {}

    def _json(self, method, url, **kwargs):
        answer = self.api.request(url, method, raise_exc=False, **kwargs)
        check(answer.status_code < 300, '%s %s answered %s: %s', method,
              url, answer.status_code, answer.text)
        return answer.json() if answer.text else None

    def create_segment(self, hosts, name='hoststatus', method='auto',
                       reserved=()):
        segment = self._json('POST', '/segments', json={'segment': {
            'name': name, 'recovery_method': method,
            'service_type': 'COMPUTE'}})['segment']
        for host in hosts:
            self.hosts[host] = (segment['uuid'], self._json(
                'POST', '/segments/%s/hosts' % segment['uuid'],
                json={'host': {
                    'name': host, 'type': 'COMPUTE',
                    'control_attributes': 'SSH',
                    'reserved': host in reserved}})['host']['uuid'])

    def host(self, name):
        return self._json('GET', '/segments/%s/hosts/%s' % self.hosts[name])[
            'host']

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

    def _command(self, flow):
        return self.conf['command'] + ['--config-file',
                                       self.conf['flows'][flow]]

    def check_tasks(self, flow):
        """The package's check that the engine will load the tasks.

        Run in masakari-engine's environment with its configuration, as
        doc/source/masakari.rst tells an operator to.
        """
        engine = self._command(flow)
        command = [os.path.join(self.conf['bin'], 'python'), '-m',
                   'nova_hoststatus.masakari.check']
        for option, value in zip(engine, engine[1:]):
            if option == '--config-file':
                command += [option, value]
        answer = subprocess.run(command, capture_output=True, text=True,
                                timeout=120)
        return answer.returncode, (answer.stdout + answer.stderr).strip()

    def start(self, flow):
        command = self._command(flow)
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

    def kill(self):
        """As a crash: SIGKILL, no chance to record anything."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

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
        # The worst-day cases: (case, hosts, outcome, seconds).
        self.outcomes = []

    def run(self, path):
        self.boot()
        self.say_servers()
        (first, second, third, retried, killed,
         reserved) = self.cloud['failures']
        # The reserved-host segment: the failed host and its reserved host.
        self.masakari.create_segment(sorted(
            set(self.cloud['hosts']) - set(reserved)))
        self.masakari.create_segment(
            reserved, name='hoststatus-reserved',
            method='reserved_host', reserved=reserved[1:])
        # The later destinations wait disabled: each recovery has one. The
        # reserved host stays disabled: Masakari's flow enables it.
        for _failed, spare in self.cloud['failures'][1:]:
            self._enable(spare, False)
        # Tokens now: the timelines measure the recovery, not logging in.
        self.monitor_api.get('/os-hosts/%s/state' % first[0],
                             raise_exc=False)
        try:
            self.check_tasks()
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

            # Masakari on its worst day, with the package's flow.
            self.engine.stop()
            self.engine.start(FLOW_PACKAGE)
            self.retried_notification(*retried)
            self.engine_killed(*killed)
            self.reserved_host(*reserved)
        finally:
            self.engine.stop()

    def check_tasks(self):
        """The check doc/source/masakari.rst runs before the engine."""
        flows = self.cloud['masakari_engine']['flows'][FLOW_PACKAGE]
        status, output = self.engine.check_tasks(FLOW_PACKAGE)
        self.say('\npython -m nova_hoststatus.masakari.check (%s): exit %d'
                 % (os.path.basename(flows), status))
        self.say(output)
        check(status == 0, 'masakari-engine would not load the tasks')

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
        before, notification = self._kill_and_notify(
            host, '%s fails; Masakari recovers it onto %s with the %s '
            'flow%s' % (host, destination, flow,
                        ', after a report' if report else ''), report)
        notification, nova_true = self._follow(
            notification['notification_uuid'], before)
        result = self._finished(host, destination, notification, before,
                                flow, report, nova_true)
        self.say('After the recovery:')
        self.say(self.table(result.after.values()))
        self.rounds.append(result)
        return result

    def _kill_and_notify(self, host, title, report=False):
        """Kill ``host``'s nova-compute, notify Masakari.

        :returns: the host's servers before, and the notification.
        """
        before = {s['id']: s for s in self._all_servers()
                  if s['OS-EXT-SRV-ATTR:host'] == host}
        self.timeline = []
        self.say('\n== %s' % title)
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
        return before, notification

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

    # Masakari on its worst day

    def retried_notification(self, host, destination):
        """A first run ends in error, Masakari's retry recovers the host.

        Nova answers the first host evacuation 503 (a fault armed in
        nova-api, local_cloud.faults); Masakari re-runs the notification
        (``process_unfinished_notifications_interval``).
        """
        self._enable(destination)
        armed = os.path.join(self.cloud['faults'],
                             'api-evacuate-cell-unavailable')
        open(armed, 'w').close()
        # The servers' earlier faults evacuated them too.
        evacuated = {server: self._evacuations(server) for server in (
            s['id'] for s in self._all_servers()
            if s['OS-EXT-SRV-ATTR:host'] == host)}
        before, notification = self._kill_and_notify(
            host, '%s fails; Nova answers the first evacuation 503, '
            'Masakari retries the notification' % host)
        uuid = notification['notification_uuid']
        # Until the retry ends: a retry quick enough may hide the error.
        notification, _ = self._follow(uuid, before)
        if notification['status'] == 'error':
            common.wait_for(lambda: self.masakari.status(uuid)['status'] !=
                            'error', 60, 'the retry', interval=0.1)
            notification, _ = self._follow(uuid, before)
        check(not os.path.exists(armed), 'the 503 was never answered')
        result = self._ended(host, destination, notification, before)
        # Each server sent once per run: the first run's POST was refused
        # whole, so Nova evacuated each once.
        for server in before:
            times = self._evacuations(server) - evacuated[server]
            check(times == 1, '%s evacuated %d times', before[server]['name'],
                  times)
        runs = self.show_vmoves(result)
        check(set(runs) == set(before) and all(
            len(moves) == 2 and moves[0]['status'] == 'failed' and
            (moves[1]['status'], moves[1]['dest_host']) == (
                'succeeded', destination) for moves in runs.values()),
            'not a failed vmove, then a succeeded one of the retry, per '
            'server: %s', runs)
        self.outcomes.append((
            'retried notification', '%s to %s' % (host, destination),
            'error, then finished on the retry; each server evacuated '
            'once, %d of %d as before' % (self._as_before(result),
                                          len(before)),
            '%.1f' % result.seconds))

    def _evacuations(self, server):
        """How many times Nova evacuated ``server``."""
        return sum(1 for action in self.admin.get(
            '/servers/%s/os-instance-actions' % server).json()[
            'instanceActions'] if action['action'] == 'evacuate')

    def engine_killed(self, host, destination):
        """masakari-engine killed once Nova accepted the evacuation.

        Nova recovers the servers anyway; the notification stays running.
        Then what doc/source/masakari.rst tells an operator to do.
        """
        self._enable(destination)
        before, notification = self._kill_and_notify(
            host, '%s fails; masakari-engine is killed once Nova accepted '
            'the evacuation' % host)
        uuid = notification['notification_uuid']
        deadline = time.monotonic() + 120
        while not any(vmove['status'] == 'ongoing'
                      for vmove in self.masakari.vmoves(uuid)):
            status = self.masakari.status(uuid)['status']
            check(status not in DONE and time.monotonic() < deadline,
                  'notification %s before any evacuation was accepted',
                  status)
            time.sleep(0.05)
        self.engine.kill()
        self.mark('evacuation accepted: masakari-engine killed (SIGKILL)')

        def recovery():
            return [server for server in self.admin.get(
                '/os-hosts/%s/state' % host).json()['host'].get(
                'recovery') or () if server['id'] in before]

        def back():
            return all(
                server['OS-EXT-SRV-ATTR:host'] == destination and
                server['OS-EXT-STS:task_state'] is None and
                server['status'] == before[server['id']]['status']
                for server in self._all_servers() if server['id'] in before)
        common.wait_for(back, 120, 'Nova recovering %s' % host,
                        interval=0.2)
        seconds = time.monotonic() - self.start
        self.mark('Nova: every server of %s back on %s, no engine' % (
            host, destination))
        status = self.masakari.status(uuid)['status']
        check(status == 'running', 'notification %s, not left running',
              status)
        self.mark('notification still %s' % status)
        self.print_timeline()
        names = {server_id: server['name']
                 for server_id, server in before.items()}
        table = prettytable.PrettyTable(['Server', 'Recovery', 'On'])
        table.align = 'l'
        listed = {server['id']: server for server in recovery()}
        for server_id in sorted(before, key=names.get):
            server = listed.get(server_id, {'status': '(not listed)',
                                            'host': '-'})
            table.add_row([names[server_id], server['status'],
                           server['host']])
        self.say('1. GET /os-hosts/%s/state, the host\'s recovery:' % host)
        self.say(table.get_string())
        answer = self.admin.post('/os-hosts/%s/evacuate' % host,
                                 json={'evacuate': {}})
        check(answer.status_code == 202, 'evacuate answered %s: %s',
              answer.status_code, answer.text)
        sent = answer.json()['evacuate']['servers']
        check(not any(server['result'] == 'accepted' for server in sent),
              'evacuated again: %s', sent)
        self.say('2. POST /os-hosts/%s/evacuate: %s' % (host, ', '.join(
            sorted('%s %s' % (names[server['id']], server['reason'])
                   for server in sent)) or 'nothing left to evacuate'))
        self.engine.start(FLOW_PACKAGE)
        # Masakari refuses to change a host of a segment with a
        # notification running: until it expires.
        answer = self.masakari.api.request(
            '/segments/%s/hosts/%s' % self.masakari.hosts[host], 'PUT',
            json={'host': {'on_maintenance': False}}, raise_exc=False)
        check(answer.status_code == 409, 'on_maintenance False answered '
              '%s: %s', answer.status_code, answer.text)
        self.say('3. masakari-engine restarted; %s on maintenance in '
                 'Masakari until the notification expires (PUT '
                 'on_maintenance=False answers 409: %s); notification %s, '
                 'its vmoves as the engine left them:' % (
                     host, answer.json()['conflictingRequest']['message'],
                     self.masakari.status(uuid)['status']))
        after = {s['id']: s for s in self._all_servers() if s['id'] in before}
        result = Round(host, destination, FLOW_PACKAGE, False, seconds,
                       None, before, after, self.masakari.status(uuid),
                       self.masakari.vmoves(uuid))
        self.show_vmoves(result)
        self.check_restored(result)
        self.outcomes.append((
            'engine killed mid-flow', '%s to %s' % (host, destination),
            'notification left running; Nova recovered %d of %d as before'
            % (self._as_before(result), len(before)), '%.1f' % seconds))

    def reserved_host(self, host, reserved):
        """A reserved_host segment: the reserved host is the destination.

        It waits disabled in Nova and reserved in Masakari until the flow
        enables it.
        """
        before, notification = self._kill_and_notify(
            host, '%s fails in a reserved_host segment; its reserved host '
            '%s waits disabled' % (host, reserved))
        notification, _ = self._follow(notification['notification_uuid'],
                                       before)
        result = self._ended(host, reserved, notification, before)
        self.show_vmoves(result)
        self.check_records(result)
        state = self.admin.get('/os-hosts/%s/state' % reserved).json()[
            'host']
        in_masakari = self.masakari.host(reserved)
        check(state['status'] == 'enabled' and not in_masakari['reserved'],
              '%s %s in Nova, reserved %s in Masakari', reserved,
              state['status'], in_masakari['reserved'])
        self.say('%s: %s in Nova, reserved %s in Masakari' % (
            reserved, state['status'], in_masakari['reserved']))
        self.outcomes.append((
            'reserved_host segment', '%s to %s' % (host, reserved),
            '%s enabled, no longer reserved; %d of %d as before' % (
                reserved, self._as_before(result), len(before)),
            '%.1f' % result.seconds))

    def _finished(self, host, destination, notification, before, flow,
                  report, nova_true):
        """The Round of a notification that must have finished."""
        seconds = time.monotonic() - self.start
        self.mark('notification %s: %.1f s after the fault' % (
            notification['status'], seconds))
        check(notification['status'] == 'finished',
              'notification %s', notification)
        self.print_timeline()
        after = {s['id']: s for s in self._all_servers() if s['id'] in before}
        return Round(host, destination, flow, report, seconds, nova_true,
                     before, after, notification, self.masakari.vmoves(
                         notification['notification_uuid']))

    def _ended(self, host, destination, notification, before):
        """The case's notification finished, its servers as before."""
        result = self._finished(host, destination, notification, before,
                                FLOW_PACKAGE, False, None)
        self.check_restored(result)
        return result

    def show_vmoves(self, result):
        """Each server's vmoves, oldest first; ``{server: [vmove]}``."""
        runs = collections.defaultdict(list)
        for vmove in sorted(result.vmoves, key=lambda v: (
                v.get('id') or 0, v.get('created_at') or '')):
            runs[vmove['instance_uuid']].append(vmove)
        table = prettytable.PrettyTable(['Server', 'Vmove', 'Status',
                                         'Destination', 'Message'])
        table.align = 'l'
        table.max_width['Message'] = 60
        for uuid, moves in sorted(runs.items(), key=lambda item:
                                  result.before[item[0]]['name']):
            for number, vmove in enumerate(moves, 1):
                table.add_row([result.before[uuid]['name'], number,
                               vmove['status'], vmove['dest_host'] or '-',
                               vmove['message'] or ''])
        self.say('Vmoves of notification %s:' % (
            result.notification['notification_uuid']))
        self.say(table.get_string())
        return runs

    @staticmethod
    def _as_before(result):
        return sum(1 for uuid, server in result.after.items()
                   if server['status'] == result.before[uuid]['status'] and
                   server['OS-EXT-SRV-ATTR:host'] == result.destination)

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
        """The worst-day cases, the three side by side, then the result."""
        table = prettytable.PrettyTable(['Case (nova-hoststatus flow)',
                                         'Host', 'Outcome', 'Seconds'])
        table.align = 'l'
        for outcome in self.outcomes:
            table.add_row(outcome)
        self.say('\nMasakari on its worst day:')
        self.say(table.get_string())
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
