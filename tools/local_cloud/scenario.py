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

"""The host fault scenario of the demo, across the real local cloud.

Two projects have servers on a host and on the other host of its cell
(cloud.json's first failure: in the superconductor layout a host of cell2),
and one server in each other cell. The host fails: its nova-compute
processes are killed. The sample fault monitor (:mod:`local_cloud.monitor`,
its own process) detects it and reports the host down; the owners see
SHUTOFF and host_status DOWN; versioned notifications arrive over RabbitMQ
(the consumer of :mod:`nova_hoststatus.notifications.consumer`); one more
call (``POST /os-hosts/{host}/evacuate``) brings every server of the host
back on the other host of its cell as it was before the fault, the running
ones ACTIVE, the one stopped before SHUTOFF; the other cells' servers stay
ACTIVE and UP. Every step is checked, and timed in milliseconds from the
fault::

    python -m local_cloud.scenario STATE/cloud.json

Exits non-zero if any check fails.
"""

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time

import prettytable

from nova_hoststatus.notifications import consumer

from local_cloud import common
from local_cloud import stubs

# nova.compute.power_state, without importing Nova here.
POWER_STATES = {0: 'NOSTATE', 1: 'RUNNING', 3: 'PAUSED', 4: 'SHUTDOWN',
                6: 'CRASHED', 7: 'SUSPENDED'}


class Failure(Exception):
    pass


def check(condition, message, *args):
    if not condition:
        raise Failure(message % args)


def plan(cloud):
    """The servers to boot, ``[(name, project, host)]``, and those stopped.

    On the failed host of each of cloud.json's failures that has not
    received servers from an earlier one: two running servers of two
    projects, and one stopped by its owner before the fault (it must come
    back stopped); one on the first failure's spare host; one on the first
    host of every cell that has none yet (no fault touches it).
    """
    servers, stopped = [], set()

    def add(project, host, stop=False):
        name = 'vm%d-%s' % (len(servers) + 1, project)
        servers.append((name, project, host))
        if stop:
            stopped.add(name)
    received = set()
    for number, (failed, spare) in enumerate(cloud['failures']):
        if failed not in received:
            add('project-a', failed)
            add('project-b', failed)
            if not number:
                add('project-a', spare)
            add('project-a', failed, stop=True)
        received.add(spare)
    for hosts in cloud['cells'].values():
        if not any(host in hosts for _n, _p, host in servers):
            add('project-b', hosts[0])
    return servers, stopped


class Scenario(object):

    def __init__(self, cloud):
        self.cloud = cloud
        self.admin = self._api('admin')
        # The admin boots into the owners' projects: only admins may
        # choose a host.
        self.booters = {project: self._api('admin', project)
                        for project in common.ADMIN_PROJECTS}
        self.owners = {'project-a': self._api('owner-a'),
                       'project-b': self._api('owner-b')}
        self.timeline = []
        self.start = None
        self.notifications = queue.Queue()
        self.plan, self.stopped = plan(cloud)
        self.failed, self.spare = cloud['failures'][0]

    def _api(self, user, project=None):
        return common.compute(common.session(self.cloud, user, project),
                              self.cloud)

    def mark(self, event, at=None):
        at = time.monotonic() if at is None else at
        self.timeline.append(((at - self.start) * 1000, event))

    def say(self, text=''):
        print(text, flush=True)

    # Set-up

    def boot(self):
        flavor = common.flavor(self.admin)
        servers = {}
        for name, project, host in self.plan:
            server = self.booters[project].post('/servers', json={'server': {
                'name': name, 'imageRef': stubs.IMAGE_ID,
                'flavorRef': flavor, 'networks': 'none', 'host': host,
            }}).json()['server']
            servers[server['id']] = (name, project, host)
        self.servers = servers

        def all_active():
            states = {s['id']: s['status'] for s in self._all_servers()}
            check('ERROR' not in states.values(),
                  'a server went to ERROR: %s', states)
            return all(states.get(uuid) == 'ACTIVE' for uuid in servers)
        common.wait_for(all_active, 180, 'servers ACTIVE', interval=0.2)
        for server in self._all_servers():
            name, _project, host = servers[server['id']]
            check(server['OS-EXT-SRV-ATTR:host'] == host,
                  '%s is on %s, not %s', name,
                  server['OS-EXT-SRV-ATTR:host'], host)
        stopped = {uuid for uuid, (name, _p, _h) in servers.items()
                   if name in self.stopped}
        for uuid in stopped:
            self.admin.post('/servers/%s/action' % uuid,
                            json={'os-stop': None})
        common.wait_for(
            lambda: all(s['status'] == 'SHUTOFF' and
                        s['OS-EXT-STS:task_state'] is None
                        for s in self._all_servers() if s['id'] in stopped),
            60, 'servers stopped', interval=0.2)

    def say_servers(self):
        self.say('Servers of two projects on %s:' % ', '.join(sorted(
            {host for _n, _p, host in self.plan})))
        self.say(self.table())

    def _all_servers(self):
        return self.admin.get('/servers/detail',
                              params={'all_tenants': 1}).json()['servers']

    def table(self, servers=None):
        table = prettytable.PrettyTable(
            ['Name', 'Project', 'Status', 'Task State', 'Power State',
             'Host', 'Host Status'])
        table.align = 'l'
        if servers is None:
            servers = self._all_servers()
        for server in sorted(servers, key=lambda s: s['name']):
            table.add_row([
                server['name'], self.servers[server['id']][1],
                server['status'], server['OS-EXT-STS:task_state'] or '-',
                POWER_STATES.get(server['OS-EXT-STS:power_state']),
                server['OS-EXT-SRV-ATTR:host'], server.get('host_status')])
        return table.get_string()

    # Watchers

    def start_listener(self):
        """Nova's versioned notifications, as a project's consumer sees."""
        def on_notification(event_type, data):
            self.notifications.put((time.monotonic(), event_type, data))
        args = consumer.parse_args(
            ['--transport-url', self.cloud['notification_url'],
             '--pool', 'local-cloud-scenario'])
        endpoint = consumer.HostFaultEndpoint(
            out=None, on_notification=on_notification)
        self.listener = consumer.start_listener(args, endpoint)

    def stop_listener(self):
        self.listener.stop()
        self.listener.wait()
        self.listener.transport.cleanup()

    def start_monitor(self, path):
        command = [sys.executable, '-m', 'local_cloud.monitor', path]
        for host, pidfile in sorted(self.cloud['computes'].items()):
            command += ['--host', '%s=%s' % (host, pidfile)]
        log = open(os.path.join(self.cloud['logs'], 'monitor.log'), 'w')
        self.monitor = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log, text=True,
            env=dict(os.environ, PYTHONPATH=os.path.dirname(
                os.path.dirname(os.path.abspath(__file__)))))
        self.monitor_events = queue.Queue()

        def read():
            for line in self.monitor.stdout:
                self.monitor_events.put(json.loads(line))
            self.monitor_events.put(None)
        threading.Thread(target=read, daemon=True).start()
        self._monitor_event('ready', 60)

    def _monitor_event(self, name, timeout):
        try:
            event = self.monitor_events.get(timeout=timeout)
        except queue.Empty:
            raise Failure('no "%s" from the fault monitor after %d s' % (
                name, timeout))
        check(event is not None, 'the fault monitor exited (monitor.log)')
        check(event['event'] == name, 'fault monitor: expected %s, got %s',
              name, event)
        return event

    def stop_monitor(self):
        self.monitor.terminate()
        self.monitor.wait(10)

    # The scenario

    def run(self, path):
        self.boot()
        self.say_servers()
        # Tokens now: the timeline measures Nova, not logging in.
        for api in self.owners.values():
            api.get('/servers/detail')
        self.start_listener()
        self.start_monitor(path)
        try:
            self._maintenance()
            self._fault()
        finally:
            self.stop_monitor()
            self.stop_listener()

    def _maintenance(self):
        """The operator maintains the spare host; its owners are told."""
        uuids = {uuid for uuid, (_n, _p, host) in self.servers.items()
                 if host == self.spare}
        for mode, status in (('enable', 'MAINTENANCE'), ('disable', 'UP')):
            sent = time.monotonic()
            answer = self.admin.put('/os-hosts/%s' % self.spare, json={
                'host': {'maintenance_mode': mode,
                         'reason': 'firmware update'}})
            check(answer.status_code == 200, 'maintenance %s answered %s: %s',
                  mode, answer.status_code, answer.text)
            told = self._told(uuids, status)
            self.say('Maintenance of %s %sd: its %d owners told %s %.0f ms '
                     'after the request was sent' % (
                         self.spare, mode, len(uuids), status,
                         (told - sent) * 1000))

    def _told(self, uuids, host_status, timeout=30):
        """When the last of ``uuids`` was told of ``host_status``."""
        waiting = set(uuids)
        deadline = time.monotonic() + timeout
        while waiting:
            try:
                at, event_type, data = self.notifications.get(
                    timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise Failure('host_status.update %s missing after %d s: %s'
                              % (host_status, timeout, sorted(waiting)))
            if (event_type == 'host_status.update' and
                    data['host_status'] == host_status):
                waiting.discard(data['instance_uuid'])
        return at

    def _fault(self):
        failed, spare = self.failed, self.spare
        pid = int(open(self.cloud['computes'][failed]).read())
        # At a random point of the monitor's probe cycle, as a real fault.
        time.sleep(random.uniform(0.5, 1.0))
        self.start = time.monotonic()
        # The host dies: every process of its nova-compute at once.
        os.killpg(pid, signal.SIGKILL)
        self.mark("fault injected: %s's nova-compute killed (SIGKILL)"
                  % failed, self.start)

        detected = self._monitor_event('detected', 30)
        self.mark('fault detected by the monitor (%d missed probes, %d ms '
                  'apart)' % (detected['misses'],
                              detected['interval'] * 1000),
                  detected['t'])
        reported = self._monitor_event('reported', 30)
        check(reported['status'] == 200, 'report answered %s: %s',
              reported['status'], reported['body'])
        self.mark('host down reported: PUT /os-hosts/%s answered 200'
                  % failed, reported['t'])
        host = reported['body']['host']
        changed = {c['id'] for c in host['instances_changed']}
        on_failed = {uuid for uuid, (_n, _p, h) in self.servers.items()
                     if h == failed}
        running = {uuid for uuid in on_failed
                   if self.servers[uuid][0] not in self.stopped}
        check(changed == running, 'changed %s, expected %s', changed,
              running)
        check({s['id'] for s in host['instances_skipped']} ==
              on_failed - running, 'skipped: %s', host['instances_skipped'])

        self.reads = 0
        reported_view = common.wait_for(self._consistent, 30,
                                        'owners see SHUTOFF and DOWN')
        # The report commits before it is answered: the first read after
        # it should see everything.
        self.mark('state consistent: owners see SHUTOFF, host_status DOWN '
                  '(read %d)' % self.reads)

        answer = self.admin.post('/os-hosts/%s/evacuate' % failed,
                                 json={'evacuate': {}})
        check(answer.status_code == 202, 'host evacuate answered %s: %s',
              answer.status_code, answer.text)
        accepted = [server for server in answer.json()['evacuate']['servers']
                    if server['result'] == 'accepted']
        check({server['id'] for server in accepted} == on_failed,
              'evacuation accepted %s', accepted)
        self.mark('evacuation started: POST /os-hosts/%s/evacuate accepted '
                  '%d servers' % (failed, len(accepted)))

        self._wait_notifications(changed, on_failed)
        common.wait_for(lambda: self._recovered(on_failed), 180,
                        'recovery on %s' % spare, interval=0.05)
        self.mark('recovered: %d of %d servers back in their pre-fault '
                  'state on %s' % (len(on_failed), len(on_failed), spare))

        services = self.admin.get('/os-services', params={
            'binary': 'nova-compute', 'host': failed}).json()['services']
        check(services[0]['forced_down'] and services[0]['state'] == 'down',
              'service of %s: %s', failed, services)
        self.say('\n%s failed and was reported down; what Nova showed:'
                 % failed)
        self.say(self.table(reported_view))
        self.say('\nAfter recovery:')
        self.say(self.table())

    def _consistent(self):
        """The admin's view if every view is as the report makes it."""
        self.reads += 1
        views = [(project, api.get('/servers/detail').json()['servers'])
                 for project, api in self.owners.items()]
        views.append((None, self._all_servers()))
        for project, servers in views:
            for server in servers:
                name, owner, host = self.servers[server['id']]
                check(project in (owner, None), '%s sees %s', project, name)
                # host_status reaches owners through the NFV policy.
                check('host_status' in server,
                      '%s does not see host_status', project or 'admin')
                expected = (('SHUTOFF', 'DOWN') if host == self.failed
                            else ('ACTIVE', 'UP'))
                if (server['status'], server['host_status']) != expected:
                    return None
        return views[-1][1]

    def _wait_notifications(self, changed, on_failed):
        """The report's host_fault.report, host_status.update, instance.update.

        host_status.update DOWN for each server on the failed host,
        instance.update SHUTOFF for each server the report changed.
        """
        waiting = {'host_fault.report': {self.failed},
                   'host_status.update': set(on_failed),
                   'instance.update': set(changed)}
        marks = {
            'host_fault.report': 'host_fault.report notification received',
            'host_status.update': 'owners told: host_status.update DOWN, '
                                  '%d of %d servers' % (len(on_failed),
                                                        len(on_failed)),
            'instance.update': 'owners notified: instance.update SHUTOFF, '
                               '%d of %d servers' % (len(changed),
                                                     len(changed))}
        deadline = time.monotonic() + 30
        while any(waiting.values()):
            try:
                at, event_type, data = self.notifications.get(
                    timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise Failure('notifications missing after 30 s: %s'
                              % {k: sorted(v) for k, v in waiting.items()
                                 if v})
            if event_type == 'host_fault.report':
                key = data['host']
            elif event_type == 'host_status.update':
                key = (data['host_status'] == 'DOWN' and
                       data['instance_uuid'])
            elif event_type == 'instance.update':
                key = data['power_state'] == 'shutdown' and data['uuid']
            else:
                continue
            if key in waiting[event_type]:
                waiting[event_type].discard(key)
                if not waiting[event_type]:
                    self.mark(marks[event_type], at)

    def _recovered(self, uuids):
        """Whether every server is on the spare host, as before the fault."""
        for server in self._all_servers():
            if server['id'] not in uuids:
                continue
            name = self.servers[server['id']][0]
            check(server['status'] != 'ERROR', 'evacuation of %s failed',
                  name)
            expected = 'SHUTOFF' if name in self.stopped else 'ACTIVE'
            if (server['OS-EXT-SRV-ATTR:host'] != self.spare or
                    server['OS-EXT-STS:task_state'] is not None or
                    server['status'] != expected):
                return False
        return True

    def print_timeline(self):
        table = prettytable.PrettyTable(['ms', 'event'])
        table.align = 'l'
        table.align['ms'] = 'r'
        for elapsed, event in sorted(self.timeline):
            table.add_row(['%.0f' % elapsed, event])
        self.say('\nTimeline (ms after the fault):')
        self.say(table.get_string())

    def conclude(self):
        """What a run that passed ends with."""
        self.print_timeline()


def main(scenario_class=Scenario):
    path = os.path.abspath(sys.argv[1])
    cloud = common.load(path)
    print(cloud['layout'], flush=True)
    scenario = scenario_class(cloud)
    try:
        scenario.run(path)
    except (Failure, TimeoutError) as e:
        if scenario.start is not None:
            scenario.print_timeline()
        print('\nFAILED: %s' % e, file=sys.stderr)
        return 1
    scenario.conclude()
    return 0


if __name__ == '__main__':
    sys.exit(main())
