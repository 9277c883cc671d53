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

"""The soak: host faults under concurrency, injected faults and load.

On the cloud of ``tools/run-local-cloud.sh soak`` (two nova-api workers,
computes that can be restarted), for ``HOSTSTATUS_SOAK_SECONDS`` (180 by
default), cycles of, on each of cloud.json's failures in turn (in the
superconductor layout host1 onto host2 in cell1, host3 onto host4 in
cell2, and back):

1. the host's nova-compute is killed; two fault monitors report the host
   down at once, three times each, retrying what fails; meanwhile owners
   stop, start and delete servers on it and the admin boots one there;
2. a last report, then the checks: every server on the host in the target
   state or left alone for a true reason, no server changed twice by the
   fault, one instance action per change, pre-fault records as read
   before the fault, every server the fault changed told to its owner;
3. the host evacuation, and every server back as it was;
4. the compute restarted, the report cleared.

Each cycle injects faults, in turn: a nova-api worker killed before its
report's commit and the watcher killed; a worker killed after its commit
and RabbitMQ stopped while notifications are queued; MariaDB restarted
during the reports. Then, until the budget is spent, monitors report and
clear the first two failed hosts at a fixed rate, and the latencies are
printed. At the
end no service may have answered 5xx (but 503 while MariaDB was down).
The last line::

    soak: C cycles, F faults, R requests, 0 5xx, 0 lost notifications,
    0 half-changed

    python -m local_cloud.soak STATE/cloud.json
"""

import collections
import datetime
import glob
import json
import os
import queue
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

from keystoneauth1 import exceptions as ksa_exceptions
import prettytable
import pymysql

from nova_hoststatus.notifications import consumer

from local_cloud import common
from local_cloud import monitor
from local_cloud import stubs

# What a report leaves a server in, and the vm_states it leaves alone.
TARGET = ('stopped', None, 4)
LEFT_ALONE = frozenset(['error', 'resized', 'soft-delete', 'deleted'])
HOST_DOWN_ACTION = 'host_down_reported'
FAULT_PLAN = (
    ('api-killed-before-commit', 'watcher-killed'),
    ('api-killed-after-commit', 'rabbitmq-stopped'),
    ('mariadb-restarted',),
)
MONITORS, REPORTS_EACH = 2, 3
SERVERS_PER_HOST = 4
LOAD_RATE = 4.0
ACCESS_LINE = re.compile(
    r'\[(?P<t>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+)[^"]*" '
    r'(?P<status>\d{3})')


class Violation(Exception):
    pass


class Recorder(object):
    """Every request the soak makes: its latency and outcome."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = collections.Counter()
        self.latencies = collections.defaultdict(list)
        self.outcomes = collections.defaultdict(collections.Counter)

    def call(self, api, kind, method, url, **kwargs):
        start = time.monotonic()
        try:
            response = api.request(url, method, raise_exc=False,
                                   connect_retries=0, **kwargs)
            outcome = response.status_code
        except ksa_exceptions.ClientException as e:
            response, outcome = None, type(e).__name__
        elapsed = time.monotonic() - start
        with self.lock:
            self.requests[kind] += 1
            self.latencies[kind].append(elapsed)
            self.outcomes[kind][outcome] += 1
        return response

    def until_ok(self, api, kind, method, url, deadline=120, **kwargs):
        """Send until it is answered, as a monitor retries.

        A cut connection, a 5xx and a 409 (not yet: the compute has not
        restarted) are sent again, backing off, for up to ``deadline``
        seconds. Returns the last answer, None if none came.
        """
        end = time.monotonic() + deadline
        pause = 0.1
        while True:
            response = self.call(api, kind, method, url, **kwargs)
            if response is not None and response.status_code < 500 and \
                    response.status_code != 409:
                return response
            if time.monotonic() >= end:
                return response
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


class Daemon(object):
    """A process of the cloud, killed and started again as it was."""

    def __init__(self, cloud, name):
        self.name = name
        self.pidfile = os.path.join(cloud['run'], name + '.pid')
        self.out = os.path.join(cloud['logs'], name + '.out')
        # As tools/run-local-cloud.sh started it.
        with open(os.path.join(cloud['run'], name + '.cmd'), 'rb') as f:
            self.command = f.read().split(b'\0')[:-1]

    def _pid(self):
        with open(self.pidfile) as f:
            return int(f.read())

    def stop(self, sig=signal.SIGKILL, timeout=60):
        pid = self._pid()
        os.killpg(pid, sig)
        common.wait_for(lambda: not monitor.alive(pid), timeout,
                        '%s to stop' % self.name, interval=0.1)

    def start(self):
        common.start(self.command, self.out, self.pidfile)


class Soak(object):

    def __init__(self, cloud, budget):
        self.cloud = cloud
        self.budget = budget
        self.started = time.monotonic()
        self.recorder = Recorder()
        self.admin = self._api('admin')
        self.booters = {project: self._api('admin', project)
                        for project in common.ADMIN_PROJECTS}
        owners = [self._api('owner-a'), self._api('owner-b')]
        self.owner_of = {api.get_project_id(): api for api in owners}
        self.monitors = [self._api('monitor') for _ in range(MONITORS)]
        self.notifications = queue.Queue()
        self.told = collections.defaultdict(list)
        self.faults = collections.Counter()
        self.unavailable = []
        self.violations = collections.Counter()
        self.cycles = 0
        self.failures = [tuple(f) for f in cloud['failures']]
        # Loaded: the first two hosts that fail (one per cell).
        self.load_hosts = list(dict.fromkeys(
            failed for failed, _spare in self.failures))[:2]

    def _api(self, user, project=None):
        return common.compute(common.session(self.cloud, user, project),
                              self.cloud)

    def say(self, text):
        print('[%6.1f s] %s' % (time.monotonic() - self.started, text),
              flush=True)

    def violation(self, kind, message, *args):
        self.violations[kind] += 1
        self.say('VIOLATION (%s): %s' % (kind, message % args))

    # The database of a host's cell, read as the checks need it.

    def sql(self, host, query, *args):
        database = self.cloud['database']
        connection = pymysql.connect(
            host='127.0.0.1', port=database['port'], user=database['user'],
            password=database['password'],
            database=host and self.cloud['hosts'][host]['database'])
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, args)
                return cursor.fetchall()
        finally:
            connection.close()

    def now(self):
        # In whole seconds, as Nova's DATETIME columns keep them.
        return self.sql(None, 'SELECT UTC_TIMESTAMP()')[0][0]

    def servers_on(self, host):
        """{uuid: (vm_state, task_state, power_state, project)}."""
        return {row[0]: row[1:] for row in self.sql(
            host, 'SELECT uuid, vm_state, task_state, power_state, '
            'project_id FROM instances WHERE deleted = 0 AND host = %s',
            host)}

    def actions_since(self, host, since):
        """{uuid: [action, ...]} recorded in host's cell since ``since``."""
        actions = collections.defaultdict(list)
        for uuid, action in self.sql(
                host, 'SELECT instance_uuid, action FROM instance_actions '
                'WHERE created_at >= %s ORDER BY id', since):
            actions[uuid].append(action)
        return actions

    def pre_fault_records(self, host):
        return {uuid: json.loads(value) for uuid, value in self.sql(
            host, 'SELECT instance_uuid, value FROM '
            'instance_system_metadata WHERE deleted = 0 AND `key` = %s',
            'hoststatus_pre_fault')}

    # Notifications

    def start_listener(self):
        def on_notification(event_type, data):
            self.notifications.put((event_type, data))
        args = consumer.parse_args(
            ['--transport-url', self.cloud['notification_url'],
             '--pool', 'local-cloud-soak',
             '--config-file', self.cloud['messaging_config']])
        self.listener = consumer.start_listener(
            args, consumer.HostFaultEndpoint(
                out=None, on_notification=on_notification))

    def drain_notifications(self):
        while True:
            try:
                event_type, data = self.notifications.get_nowait()
            except queue.Empty:
                return
            if event_type == 'host_status.update':
                self.told[data['instance_uuid']].append(
                    ('host_status', data['host_status']))
            elif event_type == 'instance.update':
                self.told[data['uuid']].append(
                    ('instance', data['power_state']))

    # A cycle

    def boot(self, host, count):
        uuids = []
        for i in range(count):
            project = common.ADMIN_PROJECTS[i % 2]
            response = self.recorder.call(
                self.booters[project], 'boot', 'POST', '/servers',
                json={'server': {'name': 'soak-%d' % i,
                                 'imageRef': stubs.IMAGE_ID,
                                 'flavorRef': self.flavor,
                                 'networks': 'none',
                                 'host': host}})
            if response is not None and response.status_code == 202:
                uuids.append(response.json()['server']['id'])
        return uuids

    def settle(self, host):
        """Enough servers on ``host``, none in a task: one stopped.

        Servers in error (a boot onto a host reported down meanwhile) are
        deleted first: they count against the projects' quotas.
        """
        failed = self.admin.get('/servers', params={
            'all_tenants': 1, 'status': 'ERROR'}).json()['servers']
        for server in failed:
            self.admin.delete('/servers/%s' % server['id'])
        common.wait_for(lambda: not self.admin.get('/servers', params={
            'all_tenants': 1, 'status': 'ERROR'}).json()['servers'],
            60, 'servers in error deleted', interval=0.5)
        on_host = self.servers_on(host)
        missing = SERVERS_PER_HOST - len(on_host)
        if missing > 0:
            self.boot(host, missing)

        def settled():
            servers = self.servers_on(host).values()
            return len(servers) >= SERVERS_PER_HOST and all(
                s[1] is None and s[0] in ('active', 'stopped')
                for s in servers)
        common.wait_for(settled, 180, 'servers of %s settled' % host,
                        interval=0.5)
        on_host = self.servers_on(host)
        if not any(s[0] == 'stopped' for s in on_host.values()):
            uuid = sorted(on_host)[0]
            self.admin.post('/servers/%s/action' % uuid,
                            json={'os-stop': None})
            common.wait_for(
                lambda: self.servers_on(host)[uuid][:2] == ('stopped', None),
                60, 'server stopped', interval=0.2)
        return self.servers_on(host)

    def cycle(self, number):
        host, spare = self.failures[number % len(self.failures)]
        faults = FAULT_PLAN[number % len(FAULT_PLAN)]
        before = self.settle(host)
        self.say('cycle %d: %s (%s) fails with %d servers; faults: %s' % (
            number + 1, host, self.cloud['hosts'][host]['cell'], len(before),
            ', '.join(faults)))
        since = self.now()
        touched = set()
        owner_uuids = sorted(before)[:3]
        compute = Daemon(self.cloud, 'nova-compute-%s' % host)
        watcher = Daemon(self.cloud, 'nova-hoststatus-watcher')

        for fault in faults:
            if fault.startswith('api-killed'):
                open(os.path.join(self.cloud['faults'], fault), 'w').close()
            elif fault == 'watcher-killed':
                watcher.stop()
        compute.stop()

        answers = []
        threads = [threading.Thread(target=self._monitor,
                                    args=(api, host, answers))
                   for api in self.monitors]
        threads.append(threading.Thread(
            target=self._owners, args=(host, before, owner_uuids, touched)))
        if 'mariadb-restarted' in faults:
            threads.append(threading.Thread(target=self._restart_mariadb))
        if 'rabbitmq-stopped' in faults:
            threads.append(threading.Thread(target=self._stop_rabbitmq,
                                            args=(answers,)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for fault in faults:
            self.faults[fault] += 1
        if 'watcher-killed' in faults:
            watcher.start()
        if glob.glob(os.path.join(self.cloud['faults'], 'api-killed-*[a-z]')):
            self.violation('fault', 'a nova-api fault was never taken')

        # The last word: converged.
        last = self.recorder.until_ok(
            self.monitors[0], 'report', 'PUT', '/os-hosts/%s' % host,
            json={'host': {'host_down_reported': True}})
        if last is None or last.status_code != 200:
            raise Violation('the last report of %s failed' % host)
        answers.append(last.json()['host'])
        self.check_reported(host, before, since, touched, answers)
        self.recover(host, spare, before, touched)
        compute.start()
        cleared = self.recorder.until_ok(
            self.admin, 'clear', 'PUT', '/os-hosts/%s' % host,
            json={'host': {'host_down_reported': False, 'status': 'enable'}},
            deadline=180)
        if cleared is None or cleared.status_code != 200:
            raise Violation('%s could not be cleared' % host)
        # Up again before it is the next cycle's destination.
        common.wait_for(
            lambda: self.admin.get('/os-services', params={
                'binary': 'nova-compute', 'host': host}).json()[
                    'services'][0]['state'] == 'up',
            120, '%s up' % host, interval=0.5)
        self.cycles += 1

    def _monitor(self, api, host, answers):
        for _ in range(REPORTS_EACH):
            time.sleep(random.uniform(0, 0.3))
            response = self.recorder.until_ok(
                api, 'report', 'PUT', '/os-hosts/%s' % host,
                json={'host': {'host_down_reported': True}})
            if response is None:
                self.violation('report', 'a report of %s never succeeded',
                               host)
            elif response.status_code == 200:
                answers.append(response.json()['host'])

    def _owners(self, host, before, uuids, touched):
        """Owners act on their servers of the failing host meanwhile."""
        actions = [(uuid, 'os-start' if before[uuid][0] == 'stopped'
                    else 'os-stop') for uuid in uuids[:-1]]
        actions.append((uuids[-1], 'delete'))
        for uuid, action in actions:
            time.sleep(random.uniform(0, 0.4))
            touched.add(uuid)
            owner = self.owner_of[before[uuid][3]]
            if action == 'delete':
                self.recorder.call(owner, 'owner', 'DELETE',
                                   '/servers/%s' % uuid)
            else:
                self.recorder.call(owner, 'owner', 'POST',
                                   '/servers/%s/action' % uuid,
                                   json={action: None})
        touched.update(self.boot(host, 1))

    def _restart_mariadb(self):
        time.sleep(random.uniform(0.2, 0.6))
        mariadb = Daemon(self.cloud, 'mariadb')
        down = time.time()
        mariadb.stop(signal.SIGTERM)
        mariadb.start()
        common.wait_for(lambda: self._db_up(), 60, 'MariaDB back',
                        interval=0.2)
        self.unavailable.append((down, time.time() + 5))

    def _db_up(self):
        try:
            self.now()
        except pymysql.MySQLError:
            return False
        return True

    def _stop_rabbitmq(self, answers):
        common.wait_for(lambda: answers, 60, 'a first answer', interval=0.02)
        ctl = self.cloud['rabbitmqctl']
        env = dict(os.environ, **ctl['env'])
        subprocess.run([ctl['command'], 'stop_app'], env=env, check=True,
                       capture_output=True, timeout=60)
        time.sleep(5)
        subprocess.run([ctl['command'], 'start_app'], env=env, check=True,
                       capture_output=True, timeout=60)

    # Checks

    def check_reported(self, host, before, since, touched, answers):
        on_host = self.servers_on(host)
        for uuid, (vm_state, task_state, power, _p) in on_host.items():
            if ((vm_state, task_state, power) != TARGET and
                    vm_state not in LEFT_ALONE):
                self.violation('half-changed', '%s on %s is %s/%s/%s', uuid,
                               host, vm_state, task_state, power)
        actions = self.actions_since(host, since)
        records = self.pre_fault_records(host)
        changed_in_answers = collections.Counter(
            change['id'] for answer in answers
            for change in answer['instances_changed'])
        for uuid, (vm_state, task_state, power, _p) in before.items():
            reported = actions[uuid].count(HOST_DOWN_ACTION)
            if uuid in touched:
                owner = len(actions[uuid]) - reported
                if reported > 1 + owner:
                    self.violation('twice', '%s changed %d times by one '
                                   'fault', uuid, reported)
                continue
            expected = 0 if vm_state == 'stopped' else 1
            if reported != expected:
                self.violation('twice', '%s: %d host down actions, %d '
                               'expected', uuid, reported, expected)
            record = records.get(uuid)
            if record is None or (record['vm_state'], record['power_state'],
                                  record['host']) != (vm_state, power, host):
                self.violation('record', '%s: pre-fault record %s, read '
                               '%s/%s', uuid, record, vm_state, power)
        for uuid, actions_of in actions.items():
            reported = actions_of.count(HOST_DOWN_ACTION)
            if changed_in_answers[uuid] > reported:
                self.violation('action', '%s answered changed %d times, %d '
                               'actions', uuid, changed_in_answers[uuid],
                               reported)
        # Every owner told: at least once, whatever was killed.
        changed = {uuid for uuid, actions_of in actions.items()
                   if HOST_DOWN_ACTION in actions_of}
        deadline = time.monotonic() + 90
        while True:
            self.drain_notifications()
            missing = [uuid for uuid in changed
                       if ('instance', 'shutdown') not in self.told[uuid]]
            missing += [uuid for uuid in on_host
                        if ('host_status', 'DOWN') not in self.told[uuid]]
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for uuid in missing:
            self.violation('lost', '%s was not told', uuid)
        for uuid in set(self.told):
            self.told[uuid] = []

    def recover(self, host, spare, before, touched):
        response = self.recorder.until_ok(
            self.admin, 'evacuate', 'POST', '/os-hosts/%s/evacuate' % host,
            json={'evacuate': {}})
        if response is None or response.status_code != 202:
            raise Violation('evacuation of %s refused' % host)
        accepted = {s['id'] for s in response.json()['evacuate']['servers']
                    if s['result'] == 'accepted'}

        def ended():
            # Done, or no longer listed: rebuilt elsewhere (or deleted).
            recovery = self.admin.get('/os-hosts/%s/state' % host).json()[
                'host'].get('recovery') or ()
            return not any(entry['status'] in ('pending', 'evacuating')
                           for entry in recovery if entry['id'] in accepted)
        common.wait_for(ended, 180, 'recovery of %s' % host, interval=0.5)
        states = self.servers_on(spare)
        for uuid, (vm_state, *_rest) in before.items():
            if uuid in touched:
                continue
            if states.get(uuid, (None,))[0] != vm_state:
                self.violation('recovery', '%s back as %s, %s before', uuid,
                               states.get(uuid), vm_state)

    # Load

    def load(self, seconds):
        hosts = self.load_hosts
        self.say('load: reports and clears of %s at %.0f/s for %.0f s' % (
            ' and '.join(hosts), LOAD_RATE, seconds))
        end = time.monotonic() + seconds

        def run(api, host, offset):
            time.sleep(offset)
            report = True
            while time.monotonic() < end:
                start = time.monotonic()
                self.recorder.call(
                    api, 'load ' + ('report' if report else 'clear'), 'PUT',
                    '/os-hosts/%s' % host,
                    json={'host': {'host_down_reported': report}})
                report = not report
                time.sleep(max(0, len(hosts) / LOAD_RATE -
                               (time.monotonic() - start)))
        threads = [threading.Thread(target=run, args=(
            self.monitors[i], host, i / LOAD_RATE))
            for i, host in enumerate(hosts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for host in hosts:
            self.recorder.until_ok(
                self.admin, 'clear', 'PUT', '/os-hosts/%s' % host,
                json={'host': {'host_down_reported': False}})

    # The end

    def count_5xx(self):
        """5xx in the access logs, and apart those of the MariaDB restart.

        While MariaDB restarts the host API must answer 503 (nothing
        changed, retry), Keystone and stock Nova's routes answer what they
        answer to a lost database.
        """
        errors = collections.Counter()
        expected = 0
        for path in glob.glob(os.path.join(self.cloud['logs'],
                                           '*-access.log')):
            service = os.path.basename(path)[:-len('-access.log')]
            with open(path) as f:
                for line in f:
                    match = ACCESS_LINE.search(line)
                    if not match or match['status'][0] != '5':
                        continue
                    at = datetime.datetime.strptime(
                        match['t'], '%d/%b/%Y:%H:%M:%S %z').timestamp()
                    host_api = match['path'].split('?')[0].startswith(
                        ('/v2.1/os-hosts', '/os-hosts'))
                    if any(start - 1 <= at <= end
                           for start, end in self.unavailable) and (
                               match['status'] == '503' or not host_api):
                        expected += 1
                        continue
                    errors[service] += 1
                    self.say('5xx: %s %s' % (service, line.strip()))
        return sum(errors.values()), expected

    def report(self):
        table = prettytable.PrettyTable(['Requests', 'n', 'p50 ms', 'p99 ms',
                                         'outcomes'])
        table.align = 'l'
        for kind in sorted(self.recorder.latencies):
            latencies = sorted(self.recorder.latencies[kind])
            p99 = latencies[min(len(latencies) - 1,
                                int(len(latencies) * 0.99))]
            table.add_row([kind, len(latencies),
                           '%.0f' % (statistics.median(latencies) * 1000),
                           '%.0f' % (p99 * 1000),
                           ', '.join('%s: %d' % item for item in sorted(
                               self.recorder.outcomes[kind].items(),
                               key=str))])
        print(table.get_string(), flush=True)

    def run(self):
        # Once: the owners boot while MariaDB restarts.
        self.flavor = common.flavor(self.admin)
        self.start_listener()
        try:
            number = 0
            while (number < len(FAULT_PLAN) or
                   time.monotonic() - self.started < self.budget * 0.6):
                self.cycle(number)
                number += 1
            self.load(max(20, self.budget - (time.monotonic() -
                                             self.started)))
        finally:
            self.listener.stop()
            self.listener.wait()
            self.listener.transport.cleanup()
        fivexx, expected = self.count_5xx()
        self.report()
        requests = sum(self.recorder.requests.values())
        half = self.violations['half-changed']
        lost = self.violations['lost']
        others = sum(self.violations.values()) - half - lost
        print('soak: %d cycles, %d faults, %d requests, %d 5xx, %d lost '
              'notifications, %d half-changed' % (
                  self.cycles, sum(self.faults.values()), requests, fivexx,
                  lost, half) +
              ('' if not others else ', %d other violations: %s' % (
                  others, dict(self.violations))) +
              (' (and %d while MariaDB restarted: the host API\'s 503, '
               'stock routes\' errors)' % expected if expected else ''),
              flush=True)
        return 1 if fivexx or self.violations else 0


def main():
    cloud = common.load(os.path.abspath(sys.argv[1]))
    print(cloud['layout'], flush=True)
    soak = Soak(cloud, float(os.environ.get('HOSTSTATUS_SOAK_SECONDS', 180)))
    try:
        return soak.run()
    except (Violation, TimeoutError) as e:
        print('\nFAILED: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
