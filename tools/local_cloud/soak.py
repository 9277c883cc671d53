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
   fault, one instance action per change, pre-fault records of one new
   fault as read before it, every server the fault changed told to its
   owner, no server left in a task;
3. the host evacuation; once ``GET /os-hosts/{host}/state`` shows it
   ended, every server back on the other host as it was before this
   fault;
4. the compute restarted, the report cleared as soon as it may be (as
   doc/source/user/recover-host.rst says); then ``host_fault.recover``
   told exactly once for each server sent, each ``recovered`` with its
   pre-fault vm_state, and no pre-fault record or recovery mark of the
   host left in its cell.

Each cycle injects faults, in turn, each at its moment of the cycle:

* a nova-api worker killed before its report's commit, and the watcher
  killed during the reports; between the last report and the evacuation
  an owner starts and reboots servers of the reported host (409 expected,
  see OWNER_ACTIONS_REFUSED; no server may stay in a task there); the
  monitors report the host again while its servers are being evacuated
  (none of them may be changed: skipped ``being_evacuated``, or gone);
* first a heartbeat lost and back: the host's nova-compute frozen
  (SIGSTOP) and not reported, until the API shows its servers' host
  UNKNOWN; just then MariaDB kills the connection that holds the watcher's
  lock (the soak's watcher takes it with tooz's MySQL driver), so that the
  watcher finds it lost at the check that tells UNKNOWN; then the compute
  thawed, and as soon as the API shows UP the watcher killed (SIGKILL)
  and started again, to tell UP from what the API database says was told;
  each server of the host told each change. Then a worker killed after its
  report's commit and RabbitMQ stopped while notifications are queued;
  every nova-api worker killed (SIGKILL) as soon as the host evacuation
  answered, the recovery then followed by the watcher alone (its records
  and marks gone once it is told);
* a false alarm first: the host reported and cleared while its compute
  runs, its owners then restart their servers, stop one that ran and
  start one that was stopped, and only then the host fails (each must come
  back as it was before this fault); MariaDB restarted during the
  reports; the worker of the host evacuation killed once it has handed
  the servers to Nova, before it answers (the caller calls again).

Then, until the budget is spent, monitors report and clear the first two
failed hosts at a fixed rate, and the latencies are printed. At the end no
service may have answered 5xx (but 503 while MariaDB was down), and, of
every ``host_status.update`` and ``host_fault.recover`` received in the
run:

* told twice (both kinds counted together): a host evacuation told more
  than once; or, for one server and host, one number of the host's
  ``sequence`` received more than once, or two notifications at
  consecutive numbers n and n + 1 with the same ``previous_host_status``
  and ``host_status`` (no change of the host took a number between them:
  the second tells again the change the first told);
* ending false: once every compute runs and no report is left, for each
  server on a host the soak made fail or recovered onto, the notification
  of that host with the greatest ``sequence`` among those it received
  since it last came onto the host (after a host evacuation: numbers
  greater than the host's when the recovery ended), UP if none, says
  another host_status than the API shows for it (``GET /servers/detail``
  as admin). Compared again until it holds, for up to ``[hoststatus]
  watch_interval`` + ``service_down_time`` + 30 s (a change still queued
  in nova-api, or the watcher's next check after a heartbeat came back):
  only a false ending that lasts counts.

The last line::

    soak: C cycles, F faults, R requests, 0 told twice, 0 ending false,
    0 records left, 0 5xx, 0 lost notifications, 0 half-changed

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
import oslo_messaging
import prettytable
import pymysql

from nova_hoststatus.notifications import consumer

from local_cloud import common
from local_cloud import gunicorn_conf
from local_cloud import monitor
from local_cloud import stubs

# What a report leaves a server in, and the vm_states it leaves alone.
TARGET = ('stopped', None, 4)
LEFT_ALONE = frozenset(['error', 'resized', 'soft-delete', 'deleted'])
# The task_states a report leaves to their task: an owner's delete cast to
# the compute before it died, run when it is back (being_deleted).
LEFT_TO_DELETE = frozenset(['deleting', 'soft-deleting'])
# The vm_states a host evacuation sends.
EVACUABLE = frozenset(['active', 'stopped', 'error'])
HOST_DOWN_ACTION = 'host_down_reported'
BEING_EVACUATED = 'being_evacuated'
# The package's keys in a server's system_metadata.
PRE_FAULT_KEY, RECOVERY_KEY = 'hoststatus_pre_fault', 'hoststatus_recovery'
# The faults of each cycle, in turn. false-alarm, watcher-lock-cut and
# watcher-killed-telling (a heartbeat lost and back) come before the fault;
# the api-killed-*-commit, watcher, RabbitMQ and MariaDB faults during the
# reports; owner-start between the last report and the host evacuation;
# the others during the recovery.
FAULT_PLAN = (
    ('api-killed-before-commit', 'watcher-killed', 'owner-start',
     'report-during-evacuation'),
    ('watcher-lock-cut', 'watcher-killed-telling', 'api-killed-after-commit',
     'rabbitmq-stopped', 'api-killed-after-evacuate'),
    ('false-alarm', 'mariadb-restarted', 'api-killed-in-evacuate'),
)
# Whether an owner's start or reboot of a server whose host is reported
# down is refused (409, nova_hoststatus.api.controllers.server_actions).
# Stock Nova accepts it and casts it to the dead host, where the server
# stays in its task: False records that without failing the soak.
OWNER_ACTIONS_REFUSED = True
OWNER_ACTIONS = (('os-start', None), ('reboot', {'type': 'HARD'}))
MONITORS, REPORTS_EACH = 2, 3
# Three of them are the owners' during the reports; the others are left
# for the faults and checks that need servers nobody else touches.
SERVERS_PER_HOST = 5
LOAD_RATE = 4.0
# How long the watcher (a check every [hoststatus] watch_interval, 5 s)
# may take to tell a recovery that ended.
TOLD_WITHIN = 20
# The tooz lock the watchers share (nova_hoststatus.watcher.watcher.LOCK;
# not imported: that imports Nova, which patches the soak with eventlet).
# tooz's MySQL driver takes it with GET_LOCK on a connection of its own.
WATCHER_LOCK = 'nova-hoststatus-watcher'
# What the watcher logs of its lock and of what it tells.
URL_PASSWORD = re.compile(r'//[^/@\s]+@')
WATCHER_SAYS = re.compile(r'lost the lock|now tells owners|host_status of '
                          r'\S+ (changed|is)|told \S+ already|'
                          r'told meanwhile|written down first|Cannot reach')
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


class RecoveryEndpoint(consumer.HostFaultEndpoint):
    """The sample consumer's endpoint, host_fault.recover added."""

    filter_rule = oslo_messaging.NotificationFilter(
        event_type=r'^(instance\.update|host_status\.update|'
                   r'host_fault\.(report|clear|recover))$')

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        if event_type != 'host_fault.recover':
            return super().info(ctxt, publisher_id, event_type, payload,
                                metadata)
        self.on_notification(event_type, payload['nova_object.data'])
        return oslo_messaging.NotificationResult.HANDLED


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

    def children(self):
        """The pids of its processes' children: gunicorn's workers."""
        master = self._pid()
        pids = []
        for stat in glob.glob('/proc/[0-9]*/stat'):
            try:
                with open(stat) as f:
                    # "pid (comm) state ppid ...": comm may hold spaces.
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == master:
                pids.append(int(stat.split('/')[2]))
        return pids

    def loaded(self):
        """How many workers have loaded the application so far."""
        with open(self.out, errors='replace') as f:
            return f.read().count(gunicorn_conf.MODE.split('%')[0])


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
        # Every host_status.update received, in order: (server, host,
        # sequence, previous host_status, host_status).
        self.statuses = []
        # {(server, host): the host's sequence number when the server last
        # came onto it by a host evacuation}
        self.arrived = {}
        options = cloud['nova_options']
        self.watch_interval = float(options.get('hoststatus', {}).get(
            'watch_interval', 5))
        self.service_down_time = float(options.get('DEFAULT', {}).get(
            'service_down_time', 60))
        # host_fault.recover payloads not checked yet, and how many times
        # each host evacuation (its request id) was told.
        self.recoveries = []
        self.recoveries_told = collections.Counter()
        self.told_twice = collections.Counter()
        self.faults = collections.Counter()
        # {host: the fault ids its reports recorded so far}
        self.fault_ids = collections.defaultdict(set)
        # What the faults made happen: skips being_evacuated, owners'
        # answers on a reported host.
        self.seen = collections.Counter()
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

    def get(self, api, kind, url, **params):
        """The JSON of a read, None if it failed (a worker killed...)."""
        response = self.recorder.call(api, kind, 'GET', url, params=params)
        if response is None or response.status_code != 200:
            return None
        return response.json()

    # The database of a host's cell, read as the checks need it.

    def sql(self, host, query, *args, database=None):
        """Rows of ``query`` in ``host``'s cell, or in ``database``."""
        server = self.cloud['database']
        connection = pymysql.connect(
            host='127.0.0.1', port=server['port'], user=server['user'],
            password=server['password'],
            database=host and self.cloud['hosts'][host]['database'] or
            database)
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
            PRE_FAULT_KEY)}

    def records_of(self, host):
        """The (uuid, key) of the records and marks naming ``host``."""
        return [(uuid, key) for uuid, key, value in self.sql(
            host, 'SELECT instance_uuid, `key`, value FROM '
            'instance_system_metadata WHERE deleted = 0 AND `key` IN '
            '(%s, %s)', PRE_FAULT_KEY, RECOVERY_KEY)
            if json.loads(value).get('host') == host]

    def sequence_of(self, host):
        """The last number host_status.update took of ``host``'s sequence.

        nova_hoststatus.db.HOST_STATUS_SEQUENCE, in the API database.
        """
        rows = self.sql(None, 'SELECT value FROM hoststatus_host_attributes '
                        'WHERE host = %s AND name = %s', host,
                        'host_status_sequence', database='nova_api')
        return int(rows[0][0]) if rows and rows[0][0] else 0

    def evacuated_since(self, host, since):
        """The servers with an evacuation from ``host`` since ``since``."""
        return {row[0] for row in self.sql(
            host, 'SELECT instance_uuid FROM migrations WHERE deleted = 0 '
            'AND source_compute = %s AND migration_type = %s AND '
            'created_at >= %s', host, 'evacuation', since)}

    # Notifications

    def start_listener(self):
        def on_notification(event_type, data):
            self.notifications.put((event_type, data))
        args = consumer.parse_args(
            ['--transport-url', self.cloud['notification_url'],
             '--pool', 'local-cloud-soak',
             '--config-file', self.cloud['messaging_config']])
        self.listener = consumer.start_listener(
            args, RecoveryEndpoint(out=None, on_notification=on_notification))

    def drain_notifications(self):
        while True:
            try:
                event_type, data = self.notifications.get_nowait()
            except queue.Empty:
                return
            if event_type == 'host_status.update':
                self.told[data['instance_uuid']].append(
                    ('host_status', data['host_status']))
                # The NFV owner policy of the local cloud lets owners see
                # every field.
                self.statuses.append((
                    data['instance_uuid'], data.get('host'),
                    data['sequence'], data.get('previous_host_status'),
                    data.get('host_status')))
            elif event_type == 'instance.update':
                self.told[data['uuid']].append(
                    ('instance', data['power_state']))
            elif event_type == 'host_fault.recover':
                self.recoveries_told[data['request_id']] += 1
                self.recoveries.append(dict(data, servers=[
                    server['nova_object.data']
                    for server in data['servers']]))

    def recoveries_of(self, host):
        """The host_fault.recover payloads of ``host`` not checked yet."""
        self.drain_notifications()
        found = [r for r in self.recoveries if r['host'] == host]
        self.recoveries = [r for r in self.recoveries if r['host'] != host]
        return found

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

    def settled(self, host, count=0):
        """``host``'s servers once none is in a task (at least ``count``)."""
        def settled():
            servers = self.servers_on(host)
            return len(servers) >= count and all(
                s[1] is None and s[0] in ('active', 'stopped')
                for s in servers.values()) and servers
        return common.wait_for(settled, 180, 'servers of %s settled' % host,
                               interval=0.5)

    def settle(self, host):
        """Enough servers on ``host``, none in a task: one stopped, one not.

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
        on_host = self.settled(host, SERVERS_PER_HOST)
        for vm_state, action in (('stopped', 'os-stop'),
                                 ('active', 'os-start')):
            if any(s[0] == vm_state for s in on_host.values()):
                continue
            uuid = sorted(on_host)[0]
            self.admin.post('/servers/%s/action' % uuid, json={action: None})
            common.wait_for(
                lambda: self.servers_on(host)[uuid][:2] == (vm_state, None),
                60, 'server %s' % vm_state, interval=0.2)
            on_host = self.servers_on(host)
        return on_host

    def cycle(self, number):
        host, spare = self.failures[number % len(self.failures)]
        faults = FAULT_PLAN[number % len(FAULT_PLAN)]
        before = self.settle(host)
        self.say('cycle %d: %s (%s) fails with %d servers; faults: %s' % (
            number + 1, host, self.cloud['hosts'][host]['cell'], len(before),
            ', '.join(faults)))
        # Servers the owners leave alone during the reports.
        kept = ()
        if 'watcher-lock-cut' in faults or \
                'watcher-killed-telling' in faults:
            self.heartbeat_lost(host, before, faults)
        if 'false-alarm' in faults:
            before, kept = self.false_alarm(host, before)
        since = self.now()
        # {uuid: the owners' requests on it}
        touched = collections.Counter()
        answers = self.fail(host, before, faults, touched, kept)
        records = self.check_reported(host, before, since, touched, answers)
        if 'owner-start' in faults:
            self.owner_start(host, before, touched)
        self.check_no_task(host, before)
        self.recover(host, spare, before, touched, faults, records)
        for fault in faults:
            self.faults[fault] += 1
        self.cycles += 1

    def fail(self, host, before, faults, touched, kept):
        """The host fails: reports, owners and faults at once.

        :returns: the answers of the reports, the last one's last.
        """
        owner_uuids = [uuid for uuid in sorted(before)
                       if uuid not in kept][:3]
        compute = Daemon(self.cloud, 'nova-compute-%s' % host)
        watcher = Daemon(self.cloud, 'nova-hoststatus-watcher')
        for fault in faults:
            if fault.endswith('-commit'):
                self.arm(fault)
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
        if 'watcher-killed' in faults:
            watcher.start()
        self.check_taken([f for f in faults if f.endswith('-commit')])

        # The last word: converged.
        last = self.recorder.until_ok(
            self.monitors[0], 'report', 'PUT', '/os-hosts/%s' % host,
            json={'host': {'host_down_reported': True}})
        if last is None or last.status_code != 200:
            raise Violation('the last report of %s failed' % host)
        answers.append(last.json()['host'])
        return answers

    def _monitor(self, api, host, answers, kind='report'):
        for _ in range(REPORTS_EACH):
            time.sleep(random.uniform(0, 0.3))
            response = self.recorder.until_ok(
                api, kind, 'PUT', '/os-hosts/%s' % host,
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
            touched[uuid] += 1
            owner = self.owner_of[before[uuid][3]]
            if action == 'delete':
                self.recorder.call(owner, 'owner', 'DELETE',
                                   '/servers/%s' % uuid)
            else:
                self.recorder.call(owner, 'owner', 'POST',
                                   '/servers/%s/action' % uuid,
                                   json={action: None})
        touched.update(self.boot(host, 1))

    def owner_action(self, uuid, project, action, body=None, kind='owner'):
        return self.recorder.call(self.owner_of[project], kind, 'POST',
                                  '/servers/%s/action' % uuid,
                                  json={action: body})

    # Faults

    def heartbeat_lost(self, host, before, faults):
        """A compute whose heartbeat stops and resumes: the watcher tells.

        nova-compute of ``host`` is frozen (SIGSTOP: its fake servers stay
        as they are) and nobody reports the host: once its heartbeat is
        older than ``service_down_time`` the API shows its servers' host
        UNKNOWN, which the watcher tells at its next check. watcher-lock-cut:
        just then MariaDB kills the connection that holds the watcher's
        lock, so that the check that tells finds the lock lost. The compute
        is thawed (SIGCONT); as soon as the API shows UP again,
        watcher-killed-telling: the watcher is killed (SIGKILL) and started
        again, and the new one tells UP from what the API database says
        was told. Each server of the host must be told each change; told
        twice and ending false are counted at the end.
        """
        uuids = sorted(before)
        compute = Daemon(self.cloud, 'nova-compute-%s' % host)
        watcher = Daemon(self.cloud, 'nova-hoststatus-watcher')
        log = os.path.join(self.cloud['logs'], watcher.name + '.log')
        log_from = os.path.getsize(log)
        self.drain_notifications()
        since = len(self.statuses)
        os.killpg(compute._pid(), signal.SIGSTOP)
        try:
            self.say('heartbeat lost: nova-compute of %s frozen, the host '
                     'not reported' % host)
            self.await_host_status(uuids[0], 'UNKNOWN',
                                   self.service_down_time + 60)
            if 'watcher-lock-cut' in faults:
                self.cut_watcher_lock()
            self.await_told(host, uuids, 'UNKNOWN', since)
        finally:
            os.killpg(compute._pid(), signal.SIGCONT)
        self.await_host_status(uuids[0], 'UP', 60)
        if 'watcher-killed-telling' in faults:
            watcher.stop()
            self.say('%s shown UP again: the watcher killed (SIGKILL) at '
                     'once, started again' % host)
            watcher.start()
        self.await_told(host, uuids, 'UP', since)
        self.say_watcher(log, log_from)

    def await_host_status(self, uuid, status, deadline):
        """Until the API shows ``status`` as the host_status of ``uuid``."""
        def shown():
            server = self.get(self.admin, 'server', '/servers/%s' % uuid)
            return server is not None and \
                server['server'].get('host_status') == status
        common.wait_for(shown, deadline, '%s shown %s' % (uuid, status),
                        interval=0.2)

    def await_told(self, host, uuids, status, since):
        """Until each of ``uuids`` is told ``host`` is ``status``.

        By the host_status.update received from ``since`` (an index of
        ``statuses``) on, within a few checks of the watcher and its start.
        """
        deadline = time.monotonic() + 4 * self.watch_interval + 30
        while True:
            self.drain_notifications()
            told = {uuid for uuid, on, _s, _p, current
                    in self.statuses[since:]
                    if on == host and current == status}
            missing = sorted(set(uuids) - told)
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for uuid in missing:
            self.violation('lost', '%s was not told %s is %s', uuid, host,
                           status)

    def cut_watcher_lock(self):
        """Kill, from MariaDB's side, the connection holding the lock."""
        if self.cloud['coordination'] != 'mysql':
            self.violation('fault', 'the watchers\' lock is %s, not tooz\'s '
                           'MySQL: no connection to cut',
                           self.cloud['coordination'])
            return
        holder = self.sql(None, 'SELECT IS_USED_LOCK(%s)', WATCHER_LOCK)[0][0]
        if holder is None:
            self.violation('fault', 'no connection holds lock %s',
                           WATCHER_LOCK)
            return
        self.sql(None, 'KILL CONNECTION %d' % holder)
        self.say('watcher-lock-cut: connection %d, the holder of lock %s, '
                 'killed' % (holder, WATCHER_LOCK))

    def say_watcher(self, log, since):
        """What the watcher logged of its lock and what it told."""
        with open(log, errors='replace') as f:
            f.seek(since)
            lines = [line.strip() for line in f if WATCHER_SAYS.search(line)]
        for line in lines:
            # "date time pid LEVEL logger [context] message": its time and
            # process, the message; the lock's URL without its password.
            date, clock, pid, _rest = line.split(' ', 3)
            self.say('watcher %s at %s: %s' % (pid, clock, URL_PASSWORD.sub(
                '//', line.split('] ', 1)[-1])))

    def arm(self, fault):
        """Arm a fault of local_cloud.faults: a worker will take it."""
        open(os.path.join(self.cloud['faults'], fault), 'w').close()

    def false_alarm(self, host, before):
        """A false alarm, then the owners change their servers.

        The host is reported and cleared while its compute runs; its
        owners restart their servers, stop one that ran and start one that
        was stopped.

        :returns: the servers as they are now, before the true fault, and
            the two changed (left alone by the owners during the reports).
        """
        since = self.now()
        answer = self.recorder.until_ok(
            self.monitors[0], 'report', 'PUT', '/os-hosts/%s' % host,
            json={'host': {'host_down_reported': True}})
        if answer is None or answer.status_code != 200:
            raise Violation('the false alarm of %s was not reported' % host)
        self.check_reported(host, before, since, collections.Counter(),
                            [answer.json()['host']])
        self.clear(host)
        self.check_cleared(host)
        ran = sorted(u for u, s in before.items() if s[0] == 'active')
        stopped = sorted(u for u, s in before.items() if s[0] == 'stopped')
        for uuid in ran:
            self.owner_action(uuid, before[uuid][3], 'os-start')
        self.settled(host)
        stop, start = ran[0], stopped[0]
        self.owner_action(stop, before[stop][3], 'os-stop')
        self.owner_action(start, before[start][3], 'os-start')
        now = self.settled(host)
        if (now[stop][0], now[start][0]) != ('stopped', 'active'):
            raise Violation('the owners could not stop %s and start %s' % (
                stop, start))
        self.say('false alarm: %s reported and cleared; %s stopped and %s '
                 'started by their owners' % (host, stop, start))
        return now, (stop, start)

    def owner_start(self, host, before, touched):
        """Owners start and reboot their servers of the reported host."""
        on_host = self.servers_on(host)
        uuids = sorted(uuid for uuid in before if uuid not in touched and
                       on_host.get(uuid, (None,))[0] == 'stopped')
        for uuid, (action, body) in zip(uuids, OWNER_ACTIONS):
            response = self.owner_action(uuid, before[uuid][3], action, body,
                                         kind='owner, host reported')
            status = response.status_code if response is not None else None
            self.seen['%s %s' % (action, status)] += 1
            self.check_refused(host, uuid, action, status)
            if not OWNER_ACTIONS_REFUSED:
                self.unstick(host, uuid)

    def unstick(self, host, uuid):
        """Reset a server stock Nova left in a task on its dead host.

        Its pre-fault record is untouched: the host evacuation brings it
        back as it was all the same.
        """
        state = self.servers_on(host).get(uuid)
        if state is not None and state[1] is not None:
            self.recorder.call(self.admin, 'reset state', 'POST',
                               '/servers/%s/action' % uuid,
                               json={'os-resetState': {'state': 'active'}})

    def kill_api_workers(self):
        """SIGKILL every nova-api worker; gunicorn starts new ones.

        :returns: a function that waits for the new ones.
        """
        api = Daemon(self.cloud, 'nova-api')
        loaded = api.loaded()
        workers = api.children()
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        self.say('nova-api workers %s killed' % workers)
        return lambda: common.wait_for(
            lambda: api.loaded() >= loaded + len(workers), 300,
            'nova-api workers started again', interval=0.5)

    def report_again(self, host):
        """The monitors report the host again, racing, meanwhile."""
        answers = []
        threads = [threading.Thread(target=self._monitor, args=(
            api, host, answers, 'report, evacuating'))
            for api in self.monitors]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return answers

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

    # The recovery

    def recover(self, host, spare, before, touched, faults, records):
        """Evacuate, restart the compute, clear; faults meanwhile."""
        since = self.now()
        # Told late, of an earlier recovery: counted at the end.
        self.recoveries_of(host)
        if 'api-killed-in-evacuate' in faults:
            self.arm('api-killed-in-evacuate')
        response = self.recorder.until_ok(
            self.admin, 'evacuate', 'POST', '/os-hosts/%s/evacuate' % host,
            json={'evacuate': {}})
        if response is None or response.status_code != 202:
            raise Violation('evacuation of %s refused' % host)
        workers_back = None
        if 'api-killed-after-evacuate' in faults:
            workers_back = self.kill_api_workers()
        self.check_taken(['api-killed-in-evacuate'])
        # Every server it sent (a killed worker's answer is lost).
        sent = self.evacuated_since(host, since)
        if 'report-during-evacuation' in faults:
            answers = self.report_again(host)
            self.check_repeated(host, sent, records, since, answers)

        def ended():
            # Done, or no longer listed: rebuilt elsewhere (or deleted).
            state = self.get(self.admin, 'state', '/os-hosts/%s/state' % host)
            return state is not None and not any(
                entry['status'] in ('pending', 'evacuating')
                for entry in state['host'].get('recovery') or ()
                if entry['id'] in sent)
        common.wait_for(ended, 180, 'recovery of %s' % host, interval=0.5)
        ended_at = time.monotonic()
        # What the owners are told of the spare from now on is about these.
        sequence = self.sequence_of(spare)
        for uuid in sent:
            self.arrived[(uuid, spare)] = sequence
        self.check_recovered(spare, before, touched, sent)
        if workers_back:
            # nova-api was no part of it: the watcher told it meanwhile,
            # and removed its records and marks.
            told = self.check_told(host, sent, before, touched)
            self.check_tidied(host, told)
            workers_back()
        # As an operator does (doc/source/user/recover-host.rst): the
        # compute restarted, the report cleared as soon as Nova allows.
        Daemon(self.cloud, 'nova-compute-%s' % host).start()
        self.clear(host, deadline=180)
        if not workers_back:
            self.check_told(host, sent, before, touched,
                            cleared_after=time.monotonic() - ended_at)
        self.check_cleared(host)

        # Up again before it is the next cycle's destination.
        def up():
            services = self.get(self.admin, 'services', '/os-services',
                                binary='nova-compute', host=host)
            return services and services['services'][0]['state'] == 'up'
        common.wait_for(up, 120, '%s up' % host, interval=0.5)

    def clear(self, host, deadline=120):
        cleared = self.recorder.until_ok(
            self.admin, 'clear', 'PUT', '/os-hosts/%s' % host,
            json={'host': {'host_down_reported': False, 'status': 'enable'}},
            deadline=deadline)
        if cleared is None or cleared.status_code != 200:
            raise Violation('%s could not be cleared' % host)

    # Checks

    def check_taken(self, armed):
        for fault in armed:
            if os.path.exists(os.path.join(self.cloud['faults'], fault)):
                os.unlink(os.path.join(self.cloud['faults'], fault))
                self.violation('fault', '%s was never taken', fault)

    def check_reported(self, host, before, since, touched, answers):
        """Everything a report (repeated, concurrent) must leave.

        :returns: the pre-fault records read after it.
        """
        on_host = self.servers_on(host)
        for uuid, (vm_state, task_state, power, _p) in on_host.items():
            if ((vm_state, task_state, power) != TARGET and
                    vm_state not in LEFT_ALONE and
                    task_state not in LEFT_TO_DELETE):
                self.violation('half-changed', '%s on %s is %s/%s/%s', uuid,
                               host, vm_state, task_state, power)
        actions = self.actions_since(host, since)
        records = self.pre_fault_records(host)
        changed_in_answers = collections.Counter(
            change['id'] for answer in answers
            for change in answer['instances_changed'])
        # An owner's delete that the report left to the compute.
        self.seen.update('being_deleted' for _uuid in {
            skip['id'] for answer in answers
            for skip in answer['instances_skipped']
            if skip['reason'] == 'being_deleted'})
        faults = set()
        for uuid, (vm_state, task_state, power, _p) in before.items():
            reported = actions[uuid].count(HOST_DOWN_ACTION)
            if uuid in touched:
                # An owner's request may change it with its action lost:
                # its 500 while MariaDB restarts comes after the save.
                owner = max(len(actions[uuid]) - reported, touched[uuid])
                if reported > 1 + owner:
                    self.violation('twice', '%s changed %d times by one '
                                   'fault', uuid, reported)
                continue
            expected = 0 if vm_state == 'stopped' else 1
            if reported != expected:
                self.violation('twice', '%s: %d host down actions, %d '
                               'expected', uuid, reported, expected)
            # As read before this fault, by this fault.
            record = records.get(uuid)
            if record is None or (record['vm_state'], record['power_state'],
                                  record['host']) != (vm_state, power, host):
                self.violation('record', '%s: pre-fault record %s, read '
                               '%s/%s', uuid, record, vm_state, power)
            else:
                faults.add(record.get('fault'))
        if len(faults) > 1 or faults & self.fault_ids[host]:
            self.violation('record', 'the records of one fault of %s name '
                           'faults %s, of which earlier ones: %s', host,
                           sorted(faults), sorted(
                               faults & self.fault_ids[host]))
        self.fault_ids[host].update(faults)
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
        return records

    def check_refused(self, host, uuid, action, status):
        """An owner's action that needs the dead host is refused."""
        if status == 409:
            return
        if OWNER_ACTIONS_REFUSED:
            self.violation('owner', '%s of %s on reported %s answered %s, '
                           'not 409', action, uuid, host, status)
        else:
            self.say('%s of %s on reported %s answered %s (not refused '
                     'yet: OWNER_ACTIONS_REFUSED)' % (action, uuid, host,
                                                      status))

    def check_no_task(self, host, before):
        """Before the evacuation: no server in a task on the dead host.

        Those of ``before``: a boot the scheduler sent there before the
        report may still be arriving.
        """
        for uuid, (vm_state, task_state, _p, _o) in \
                self.servers_on(host).items():
            if uuid in before and task_state is not None and \
                    task_state not in LEFT_TO_DELETE:
                self.violation('task', '%s is %s/%s on reported %s', uuid,
                               vm_state, task_state, host)

    def check_repeated(self, host, sent, records, since, answers):
        """A report repeated during the recovery changed none it sent."""
        for answer in answers:
            for change in answer['instances_changed']:
                if change['id'] in sent:
                    self.violation('repeat', '%s changed by a report of %s '
                                   'while being evacuated', change['id'],
                                   host)
            for skip in answer['instances_skipped']:
                if skip['id'] not in sent:
                    continue
                if skip['reason'] == BEING_EVACUATED:
                    self.seen[BEING_EVACUATED] += 1
                else:
                    self.violation('repeat', '%s skipped as %s while being '
                                   'evacuated', skip['id'], skip['reason'])
        actions = self.actions_since(host, since)
        now = self.pre_fault_records(host)
        for uuid in sent:
            if HOST_DOWN_ACTION in actions[uuid]:
                self.violation('repeat', '%s stopped by a report while '
                               'being evacuated', uuid)
            # Kept, or removed once it was told recovered.
            if uuid in now and now[uuid] != records.get(uuid):
                self.violation('repeat', '%s: record %s rewritten as %s '
                               'while being evacuated', uuid,
                               records.get(uuid), now[uuid])

    def check_recovered(self, spare, before, touched, sent):
        """Every server back as it was before this fault."""
        states = self.servers_on(spare)
        for uuid, (vm_state, *_rest) in before.items():
            if uuid in touched:
                continue
            if uuid not in sent:
                self.violation('recovery', '%s was not evacuated', uuid)
            elif states.get(uuid, (None, None))[:2] != (vm_state, None):
                self.violation('recovery', '%s back as %s, %s before', uuid,
                               states.get(uuid), vm_state)

    def check_told(self, host, sent, before, touched, cleared_after=None):
        """host_fault.recover: each server sent told once, as it ended.

        :param cleared_after: seconds from the end of the recovery (as GET
            state showed it) to the report's clear, if it is cleared.
        :returns: the servers told.
        """
        deadline = time.monotonic() + TOLD_WITHIN
        recoveries = []
        while True:
            recoveries += self.recoveries_of(host)
            told = collections.Counter(
                server['instance_uuid'] for recovery in recoveries
                for server in recovery['servers'])
            if set(told) >= sent or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        untold = sorted(uuid for uuid in sent if not told[uuid])
        if untold and cleared_after is not None:
            self.say('the recovery of %s ended, its report was cleared %.1f '
                     's later, and %d of its %d servers were not told in %d '
                     's' % (host, cleared_after, len(untold), len(sent),
                            TOLD_WITHIN))
        for uuid in untold:
            self.violation('lost', 'the recovery of %s from %s was not told '
                           '(host_fault.recover)', uuid, host)
        for uuid in sent:
            if told[uuid] > 1:
                self.violation('told twice', 'the recovery of %s from %s '
                               'was told %d times', uuid, host, told[uuid])
        for recovery in recoveries:
            for server in recovery['servers']:
                uuid = server['instance_uuid']
                if uuid not in sent:
                    continue
                if server['result'] != 'recovered':
                    self.violation('recovery', '%s told %s by %s', uuid,
                                   server['result'], recovery['request_id'])
                if uuid in before and uuid not in touched and server[
                        'pre_fault_vm_state'] != before[uuid][0]:
                    self.violation('record', '%s told as %s before the '
                                   'fault, %s read', uuid,
                                   server['pre_fault_vm_state'],
                                   before[uuid][0])
        return set(told)

    def check_tidied(self, host, told):
        """The watcher removed the records and marks of those it told."""
        deadline = time.monotonic() + 15
        while True:
            left = [r for r in self.records_of(host) if r[0] in told]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for uuid, key in left:
            self.violation('records left', '%s of %s left after its '
                           'recovery was told', key, uuid)

    def check_cleared(self, host):
        """No record or mark of the host's fault once it is cleared."""
        for uuid, key in self.records_of(host):
            self.violation('records left', '%s of %s left after %s was '
                           'cleared', key, uuid, host)

    def check_told_once(self):
        """Nothing told twice, in the whole run.

        No host evacuation (host_fault.recover) told twice, and no owner
        told one change of a host twice (host_status.update): for one
        server and host, neither one number of the host's sequence received
        twice, nor two notifications at consecutive numbers, n and n + 1,
        that say the same previous and current host_status (no change of
        the host took a number between them: the second tells the change
        the first told).
        """
        self.drain_notifications()
        # What each told twice was, for the line that sums them up.
        kinds = self.told_twice = collections.Counter()
        for request_id, count in self.recoveries_told.items():
            if count > 1:
                kinds['host_fault.recover'] += 1
                self.violation('told twice', 'host evacuation %s told %d '
                               'times', request_id, count)
        told = collections.defaultdict(collections.Counter)
        for uuid, host, sequence, previous, current in self.statuses:
            told[(uuid, host)][(sequence, previous, current)] += 1
        for (uuid, host), changes in sorted(told.items()):
            by_sequence = {}
            for (sequence, previous, current), count in changes.items():
                if count > 1 or sequence in by_sequence:
                    kinds['host_status.update, one number twice'] += 1
                    self.violation('told twice', '%s told %d of %s (%s to '
                                   '%s) %d times', uuid, sequence, host,
                                   previous, current, count + (
                                       sequence in by_sequence))
                by_sequence[sequence] = (previous, current)
            for sequence, change in sorted(by_sequence.items()):
                if by_sequence.get(sequence + 1) == change:
                    kinds['host_status.update, one change at n and n + 1%s'
                          % (', previous = current' if change[0] == change[1]
                             else '')] += 1
                    self.violation('told twice', '%s told %s to %s of %s '
                                   'at %d and %d', uuid, change[0],
                                   change[1], host, sequence, sequence + 1)

    def false_endings(self, hosts):
        """The servers whose owners were last told a false host_status.

        For each server on one of ``hosts``: the host_status.update of its
        host with the greatest sequence among those received since it last
        came onto the host (by a host evacuation: a number greater than
        the host's when the recovery ended; booted there: any), or UP if
        none (the host was up when it came: a boot's, an evacuation's
        destination is), against the host_status the API shows for it.

        :returns: {uuid: (host, told, shown)} and how many servers were
            compared; None and 0 if the servers could not be read.
        """
        self.drain_notifications()
        last = {}
        for uuid, host, sequence, _previous, current in self.statuses:
            if sequence <= self.arrived.get((uuid, host), 0):
                continue
            if last.get((uuid, host), (0,))[0] < sequence:
                last[(uuid, host)] = (sequence, current)
        servers = self.get(self.admin, 'servers', '/servers/detail',
                           all_tenants=1)
        if servers is None:
            return None, 0
        false, compared = {}, 0
        for server in servers['servers']:
            host = server.get('OS-EXT-SRV-ATTR:host')
            if host not in hosts:
                continue
            compared += 1
            told = last.get((server['id'], host), (0, 'UP'))[1]
            if told != server.get('host_status'):
                false[server['id']] = (host, told, server.get('host_status'))
        return false, compared

    def check_ending(self):
        """Every owner last told the truth of its server's host.

        The soak is over: every compute runs and no report is left, so
        the host_status the API shows is final; what is still to be told
        is a change nova-api has queued (sent within a second) or the
        watcher's (at its next check, once a compute's heartbeat, stale
        for up to ``service_down_time``, is back). Compared again until
        it holds, for that long and a margin: a false ending is one that
        lasts.
        """
        hosts = {host for failure in self.failures for host in failure}
        started = time.monotonic()
        deadline = started + self.watch_interval + self.service_down_time + 30
        while True:
            false, compared = self.false_endings(hosts)
            if false == {} or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if false is None:
            self.violation('ending false', 'the servers could not be read')
            return
        for uuid, (host, told, shown) in sorted(false.items()):
            self.violation('ending false', '%s on %s: last told %s, the API '
                           'shows %s', uuid, host, told, shown)
        if not false:
            self.say('ending: what %d servers\' owners were told last is '
                     'what the API shows (after %.1f s)' % (
                         compared, time.monotonic() - started))

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
            self.check_ending()
        finally:
            self.listener.stop()
            self.listener.wait()
            self.listener.transport.cleanup()
        self.check_told_once()
        fivexx, expected = self.count_5xx()
        self.report()
        requests = sum(self.recorder.requests.values())
        counted = collections.Counter({
            kind: self.violations[kind] for kind in (
                'told twice', 'ending false', 'records left', 'lost',
                'half-changed')})
        others = self.violations - counted
        print('faults: %s; seen: %s' % (
            ', '.join('%s %d' % item for item in sorted(self.faults.items())),
            ', '.join('%s %d' % item for item in sorted(self.seen.items()))
            or 'nothing'), flush=True)
        if self.told_twice:
            print('told twice: %s' % ', '.join(
                '%s %d' % item for item in sorted(self.told_twice.items())),
                flush=True)
        print('soak: %d cycles, %d faults, %d requests, %d told twice, %d '
              'ending false, %d records left, %d 5xx, %d lost '
              'notifications, %d half-changed' % (
                  self.cycles, sum(self.faults.values()), requests,
                  counted['told twice'], counted['ending false'],
                  counted['records left'], fivexx, counted['lost'],
                  counted['half-changed']) +
              ('' if not others else ', %d other violations: %s' % (
                  sum(others.values()), dict(others))) +
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
