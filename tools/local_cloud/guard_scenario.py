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

"""The fault monitor is wrong, on the real local cloud.

The cloud of ``tools/run-local-cloud.sh guard``: the runaway guard at the
package's default (``[hoststatus] max_down_fraction`` 0.5), nova-compute
heartbeating every 2 s and syncing power states every 8 s
(``sync_power_state_interval``), so that both happen within the scenario.
Servers of two projects on every host, one stopped by its owner on the host
of the false report (cloud.json's first failure: host3, of cell2).

a. A false report. The monitor (its user has only the
   ``host_fault_monitor`` role) reports host3 down while its nova-compute
   keeps running, as a monitor cut off from the host does. Checked:
   ``GET /os-hosts/host3/state`` reads it contradicted once the compute
   heartbeats; the host evacuation, the monitor's and the admin's, answers
   409 and names the heartbeat; every server is on the host it was booted
   on and no evacuation migration exists (no server runs on two hosts);
   the watcher tells operators ``host_fault.contradict`` once for the
   report; nova-compute's power state sync powers off the guests the
   report marked stopped; the clear with ``"restore": true`` starts them
   again where they are, every server ACTIVE (the stopped one SHUTOFF) on
   the same host, and still so after two more power state syncs.
b. A runaway monitor. It reports every compute host of both cells in
   turn: as many as the guard allows are reported, the others answered
   409 with the numbers, operators told ``host_fault.refuse`` of each, and
   the servers of the refused hosts untouched; the monitor's ``"force":
   true`` is forbidden (403, an admin's rule); the admin's goes through;
   once the reports are cleared (restored), a refused host may be reported
   again.

A timeline and tables are printed, the last line a summary::

    python -m local_cloud.guard_scenario STATE/cloud.json

Exits non-zero if any check fails.
"""

import collections
import queue
import sys
import time

import prettytable

import nova_hoststatus.conf
from nova_hoststatus.notifications import consumer

from local_cloud import common
from local_cloud import scenario

CONF = nova_hoststatus.conf.CONF
Failure = scenario.Failure
check = scenario.check

# An answer of the monitor's runaway loop.
Answer = collections.namedtuple('Answer', ['host', 'cell', 'status',
                                           'message'])


class OperatorEndpoint(object):
    """The package's host_fault.* notifications, as an operator's tool."""

    def __init__(self, notifications):
        self.notifications = notifications

    def _put(self, priority, event_type, payload):
        if event_type.startswith('host_fault.'):
            self.notifications.put((time.monotonic(), priority, event_type,
                                    payload['nova_object.data']))

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._put('INFO', event_type, payload)

    def warn(self, ctxt, publisher_id, event_type, payload, metadata):
        self._put('WARN', event_type, payload)


def plan(cloud):
    """The servers to boot, ``[(name, project, host)]``, and those stopped.

    One of project-a on every host; on the false report's host, one of
    project-b and one of project-a its owner stopped.
    """
    false_host = cloud['failures'][0][0]
    servers, stopped = [], set()
    for hosts in cloud['cells'].values():
        for host in hosts:
            servers.append(('vm%d-project-a' % (len(servers) + 1),
                            'project-a', host))
            if host == false_host:
                servers.append(('vm%d-project-b' % (len(servers) + 1),
                                'project-b', host))
                name = 'vm%d-project-a' % (len(servers) + 1)
                servers.append((name, 'project-a', host))
                stopped.add(name)
    return servers, stopped


class GuardScenario(scenario.Scenario):

    def __init__(self, cloud):
        super().__init__(cloud)
        self.plan, self.stopped = plan(cloud)
        self.monitor_api = self._api('monitor')
        self.operator = queue.Queue()
        # Every host_fault.* notification received, in order.
        self.received = []
        self.false_host = cloud['failures'][0][0]
        options = cloud['nova_options']['DEFAULT']
        self.sync_interval = options['sync_power_state_interval']
        self.report_interval = options['report_interval']
        self.summary = {}

    def mark(self, event, at=None):
        at = time.monotonic() if at is None else at
        self.timeline.append((at - self.start, event))

    # Operators' notifications

    def start_operator_listener(self):
        args = consumer.parse_args(
            ['--transport-url', self.cloud['notification_url'],
             '--pool', 'local-cloud-guard-operator'])
        self.operator_listener = consumer.start_listener(
            args, OperatorEndpoint(self.operator))

    def stop_operator_listener(self):
        self.operator_listener.stop()
        self.operator_listener.wait()
        self.operator_listener.transport.cleanup()

    def _drain(self):
        while True:
            try:
                self.received.append(self.operator.get_nowait())
            except queue.Empty:
                return

    def wait_operator(self, event_type, hosts, timeout=60):
        """Wait for ``event_type`` of each of ``hosts``; when the last came."""
        waiting = set(hosts)
        seen = [n for n in self.received
                if n[2] == event_type and n[3]['host'] in waiting]
        for at, _p, _e, data in seen:
            waiting.discard(data['host'])
        last = max([n[0] for n in seen], default=None)
        deadline = time.monotonic() + timeout
        while waiting:
            try:
                notification = self.operator.get(
                    timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise Failure('%s of %s not received after %d s' % (
                    event_type, sorted(waiting), timeout))
            self.received.append(notification)
            at, _priority, kind, data = notification
            if kind == event_type and data['host'] in waiting:
                waiting.discard(data['host'])
                last = at
        return last

    def count(self, event_type, host):
        self._drain()
        return len([n for n in self.received
                    if n[2] == event_type and n[3]['host'] == host])

    # Reads

    def servers_by_host(self):
        """``{uuid: server}`` of every server, checked on its own host.

        No server may have left the host it was booted on, and none may
        have an evacuation migration: none runs on two hosts.
        """
        servers = {s['id']: s for s in self._all_servers()}
        check(set(servers) == set(self.servers), 'servers: %s, booted %s',
              sorted(servers), sorted(self.servers))
        for uuid, server in servers.items():
            name, _project, host = self.servers[uuid]
            check(server['OS-EXT-SRV-ATTR:host'] == host,
                  '%s is on %s, booted on %s', name,
                  server['OS-EXT-SRV-ATTR:host'], host)
            check(server['status'] != 'ERROR', '%s is in ERROR', name)
        migrations = self.admin.get('/os-migrations', params={
            'migration_type': 'evacuation'}).json()['migrations']
        check(not migrations, 'evacuations: %s', migrations)
        return servers

    def on(self, host):
        return {uuid for uuid, (_n, _p, h) in self.servers.items()
                if h == host}

    def running(self, host):
        return {uuid for uuid in self.on(host)
                if self.servers[uuid][0] not in self.stopped}

    def as_booted(self, hosts=None):
        """Whether the servers of ``hosts`` (all) run as booted, UP."""
        for uuid, server in self.servers_by_host().items():
            name, _project, host = self.servers[uuid]
            if hosts is not None and host not in hosts:
                continue
            expected = ('SHUTOFF' if name in self.stopped else 'ACTIVE',
                        'UP', None)
            if (server['status'], server.get('host_status'),
                    server['OS-EXT-STS:task_state']) != expected:
                return False
            if (name not in self.stopped and
                    server['OS-EXT-STS:power_state'] != 1):
                return False
        return True

    def state(self, host):
        answer = self.monitor_api.get('/os-hosts/%s/state' % host,
                                      raise_exc=False)
        check(answer.status_code == 200, 'GET state of %s answered %s: %s',
              host, answer.status_code, answer.text)
        return answer.json()['host']

    def report(self, api, host, **extra):
        body = {'host_down_reported': True}
        body.update(extra)
        return api.put('/os-hosts/%s' % host, json={'host': body},
                       raise_exc=False)

    def clear(self, api, host):
        answer = api.put('/os-hosts/%s' % host, json={'host': {
            'host_down_reported': False, 'restore': True}}, raise_exc=False)
        check(answer.status_code == 200, 'clear of %s answered %s: %s',
              host, answer.status_code, answer.text)
        return answer.json()['host']

    @staticmethod
    def message(answer):
        try:
            body = answer.json()
            return next(iter(body.values()))['message']
        except (ValueError, StopIteration, KeyError, TypeError):
            return answer.text

    def wait_synced(self, uuids):
        """Wait until nova-compute's power state sync stopped ``uuids``.

        The guests a report marked stopped still run on a host that did
        not fail: at its next sync nova-compute powers them off (Nova's
        force_stop, an instance action ``stop``). A clear made while it
        does would find them in a task, and leave them stopped.
        """
        def synced():
            for uuid in uuids:
                actions = self.admin.get(
                    '/servers/%s/os-instance-actions' % uuid).json()[
                    'instanceActions']
                if not any(a['action'] == 'stop' for a in actions):
                    return False
            servers = self.servers_by_host()
            return all(servers[uuid]['OS-EXT-STS:task_state'] is None and
                       servers[uuid]['OS-EXT-STS:power_state'] == 4
                       for uuid in uuids)
        common.wait_for(synced, self.sync_interval * 3 + 30,
                        'the power state sync of %d servers' % len(uuids),
                        interval=0.5)

    # The scenario

    def run(self, path):
        self.began = time.monotonic()
        self.boot()
        self.say_servers()
        self.monitor_api.get('/flavors')
        self.start_operator_listener()
        try:
            self.start = time.monotonic()
            self.false_report()
            self.runaway()
        finally:
            self.stop_operator_listener()

    def false_report(self):
        host = self.false_host
        running = self.running(host)
        self.say('\n== a. A false report: the monitor reports %s down while '
                 'its nova-compute runs' % host)
        answer = self.report(self.monitor_api, host)
        check(answer.status_code == 200, 'report answered %s: %s',
              answer.status_code, answer.text)
        body = answer.json()['host']
        reported = time.monotonic()
        check({c['id'] for c in body['instances_changed']} == running,
              'changed: %s', body['instances_changed'])
        self.mark('the monitor reports %s down (no "fenced"): 200, %d '
                  'servers stopped in Nova' % (host, len(running)), reported)

        state = common.wait_for(
            lambda: (lambda s: s if s.get('contradicted') else None)(
                self.state(host)),
            self.report_interval * 3 + 30, '%s contradicted' % host,
            interval=0.5)
        check(state['fenced'] is False, 'fenced: %s', state)
        self.mark('GET /os-hosts/%s/state: contradicted (heartbeat at %s, '
                  'reported at %s)' % (host, state['contradicted_at'],
                                       state['reported_at']))
        self.summary['contradicted'] = time.monotonic() - reported

        for who, api in (('monitor', self.monitor_api),
                         ('admin', self.admin)):
            answer = api.post('/os-hosts/%s/evacuate' % host,
                              json={'evacuate': {}}, raise_exc=False)
            message = self.message(answer)
            check(answer.status_code == 409 and 'reported at' in message and
                  'fencing' in message,
                  'evacuation by the %s answered %s: %s', who,
                  answer.status_code, answer.text)
            self.mark('POST /os-hosts/%s/evacuate (%s): 409' % (host, who))
        self.say('Host evacuation refused: %s' % message)
        self.servers_by_host()
        self.mark('every server on the host it was booted on, no '
                  'evacuation migration')

        told = self.wait_operator('host_fault.contradict', [host])
        self.mark('operators told: host_fault.contradict of %s' % host, told)

        self.wait_synced(running)
        self.mark("nova-compute's power state sync powered off the %d "
                  "guests the report marked stopped" % len(running))

        # Another watcher check: told once for the report.
        time.sleep(CONF.hoststatus.watch_interval + 1)
        told = self.count('host_fault.contradict', host)
        check(told == 1, 'host_fault.contradict of %s told %d times', host,
              told)

        cleared = self.clear(self.monitor_api, host)
        restored = {s['id'] for s in cleared['instances_restored']
                    if s['result'] == 'started'}
        check(restored == running, 'restored: %s',
              cleared['instances_restored'])
        self.mark('PUT /os-hosts/%s {"host_down_reported": false, '
                  '"restore": true}: 200, %d servers started' % (
                      host, len(restored)))
        common.wait_for(lambda: self.as_booted([host]), 60,
                        'the servers of %s as booted' % host, interval=0.5)
        self.mark('every server of %s as booted, on %s' % (host, host))
        # Two more syncs: nothing may stop them again.
        time.sleep(self.sync_interval * 2 + 2)
        check(self.as_booted(), 'after the power state sync:\n%s',
              self.table())
        for uuid in running:
            stops = [a for a in self.admin.get(
                '/servers/%s/os-instance-actions' % uuid).json()[
                'instanceActions'] if a['action'] == 'stop']
            check(len(stops) == 1, '%s stopped %d times',
                  self.servers[uuid][0], len(stops))
        self.mark('%d s later (two power state syncs): every server still '
                  'as booted' % (self.sync_interval * 2 + 2))
        self.summary['restored'] = len(restored)
        self.say(self.table())

    def runaway(self):
        self.say('\n== b. A runaway monitor reports every compute host')
        allowed = self.cloud['max_down']
        hosts = [(host, cell) for cell, cell_hosts in
                 sorted(self.cloud['cells'].items()) for host in cell_hosts]
        answers = []
        sent = time.monotonic()
        for host, cell in hosts:
            answer = self.report(self.monitor_api, host)
            answers.append(Answer(host, cell, answer.status_code,
                                  self.message(answer)
                                  if answer.status_code != 200 else ''))
        reported = [a.host for a in answers if a.status == 200]
        refused = [a.host for a in answers if a.status == 409]
        self.mark('the monitor reports %d hosts: %d answered 200, %d 409'
                  % (len(hosts), len(reported), len(refused)), sent)
        check(reported == [h for h, _c in hosts[:allowed]],
              'reported: %s', answers)
        check(refused == [h for h, _c in hosts[allowed:]],
              'refused: %s', answers)
        total = len(hosts)
        for answer in answers:
            if answer.status == 409:
                numbers = '%d of the %d nova-compute services' % (
                    allowed + 1, total)
                check(numbers in answer.message and
                      'allows (%d)' % allowed in answer.message,
                      'refusal of %s: %s', answer.host, answer.message)

        told = self.wait_operator('host_fault.refuse', refused)
        self.mark('operators told: host_fault.refuse of %s' %
                  ', '.join(refused), told)
        check(self.as_booted(refused), 'servers of refused hosts:\n%s',
              self.table())
        for host in refused:
            service = self.admin.get('/os-services', params={
                'binary': 'nova-compute', 'host': host}).json()['services']
            check(not service[0]['forced_down'], '%s forced down', host)
        self.mark('servers of the refused hosts untouched: ACTIVE, UP')

        table = prettytable.PrettyTable(['Host', 'Cell', 'Answer',
                                         'Message'])
        table.align = 'l'
        for answer in answers:
            table.add_row([answer.host, answer.cell, answer.status,
                           answer.message])
        table.max_width['Message'] = 90
        self.say(table.get_string())

        forced = refused[0]
        answer = self.report(self.monitor_api, forced, force=True)
        check(answer.status_code == 403, 'the monitor\'s force answered '
              '%s: %s', answer.status_code, answer.text)
        self.mark('the monitor reports %s with "force": true: 403' % forced)
        answer = self.report(self.admin, forced, force=True)
        check(answer.status_code == 200, 'the admin\'s force answered %s: '
              '%s', answer.status_code, answer.text)
        self.mark('the admin reports %s with "force": true: 200' % forced)

        # Clear once their power state sync has stopped the guests.
        self.wait_synced(set().union(*[self.running(h)
                                       for h in reported + [forced]]))
        self.mark("nova-compute's power state sync powered off the guests "
                  "of %s" % ', '.join(reported + [forced]))
        for host in reported + [forced]:
            self.clear(self.admin, host)
        self.mark('reports of %s cleared with "restore": true' %
                  ', '.join(reported + [forced]))
        again = refused[-1]
        answer = self.report(self.monitor_api, again)
        check(answer.status_code == 200, 'report of %s after the clears '
              'answered %s: %s', again, answer.status_code, answer.text)
        self.mark('the monitor reports %s again: 200' % again)
        self.clear(self.monitor_api, again)
        common.wait_for(self.as_booted, 60, 'every server as booted',
                        interval=0.5)
        self.mark('cleared; every server as booted, on its host')
        self.say(self.table())
        self.summary.update(reported=len(reported), refused=len(refused),
                            hosts=total)

    def print_timeline(self):
        table = prettytable.PrettyTable(['s', 'event'])
        table.align = 'l'
        table.align['s'] = 'r'
        for elapsed, event in sorted(self.timeline):
            table.add_row(['%.1f' % elapsed, event])
        self.say('\nTimeline (s after the false report):')
        self.say(table.get_string())

    def conclude(self):
        self.print_timeline()
        s = self.summary
        self.say('\nguard: false report of %s contradicted %.1f s after it, '
                 'host evacuation refused (409), told once, %d servers '
                 'restored and ACTIVE after the power state sync; runaway: '
                 '%d of %d hosts reported, %d refused (409), force 403 for '
                 'the monitor, 200 for the admin; no server on two hosts; '
                 '%.0f s' % (self.false_host, s['contradicted'],
                             s['restored'], s['reported'], s['hosts'],
                             s['refused'], time.monotonic() - self.began))


def main():
    return scenario.main(GuardScenario)


if __name__ == '__main__':
    sys.exit(main())
