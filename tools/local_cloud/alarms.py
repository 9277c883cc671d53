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

"""Owners alarmed through Ceilometer and Aodh when their servers' host fails.

The cloud of ``tools/run-local-cloud.sh alarms``: the fault scenario's
(:mod:`local_cloud.scenario`), plus Ceilometer's notification agent, whose
event pipeline publishes to Aodh's listener (``notifier://?topic=alarm.all``,
as OPNFV Doctor sets it), and Aodh's API, listener and notifier.

Each owner (``owner-a``, ``owner-b``) creates, with its own credentials,
through Aodh's API, the event alarms an NFV consumer creates:

* ``host-status``: the package's example alarm
  (``etc/nova-hoststatus/ceilometer/alarm-host-status.json``) on
  ``host_status.update``, the host of one of its servers not ``UP``
  (``DOWN``, ``MAINTENANCE``, ``UNKNOWN``);
* ``instance-update``: Doctor's consumer's alarm, on Nova's
  ``compute.instance.update`` with the state the report sets
  (``stopped``);
* ``rebuilt``: ``compute.instance.rebuild.end``, its server running again
  after the host's evacuation.

Each alarm's action posts to the owner's consumer, an HTTP receiver of the
scenario, one per project. Then the host fails, the sample fault monitor
reports it, and the timeline prints when each owner's alarms arrive; no
owner may receive an alarm on another project's server, nor see another
project's alarms through the API::

    python -m local_cloud.alarms STATE/cloud.json

The last line::

    alarms: P of P projects alarmed, last at X ms after the fault \
        (Doctor budget 1000 ms)

Exits non-zero if an owner is not alarmed, or is alarmed of another
project's server.
"""

import collections
import http.server
import json
import os
import queue
import random
import signal
import sys
import threading
import time

from keystoneauth1 import adapter
import prettytable

from local_cloud import common
from local_cloud import monitor
from local_cloud import scenario
from local_cloud import stubs
from local_cloud import topology

Failure = scenario.Failure
check = scenario.check

# OPNFV Doctor's budget from the fault to the consumer's alarm.
BUDGET_MS = 1000
ALARM_FILE = os.path.join(topology.REPO, 'etc', 'nova-hoststatus',
                          'ceilometer', 'alarm-host-status.json')
# The state a host down report sets (nova_hoststatus [hoststatus]
# target_vm_state), which Doctor's consumer alarms on (Doctor's inspector
# sets error).
REPORT_STATE = 'stopped'

Alarm = collections.namedtuple('Alarm', ['at', 'project', 'kind', 'body'])
Round = collections.namedtuple('Round', [
    'way', 'servers', 'host', 'calls', 'acted', 'answered', 'first', 'last',
    'alarms'])
# The package's way, Doctor's way.
PACKAGE, DOCTOR = 'nova-hoststatus', 'Doctor'
# Servers on the failed host in each round of the side by side
# (HOSTSTATUS_ALARMS_SIZES; empty: none).
SIZES = os.environ.get('HOSTSTATUS_ALARMS_SIZES', '3,50')
# The sample monitor's detection: probes this far apart, this many missed.
PROBE_INTERVAL, PROBE_MISSES = 0.05, 2


def owner_alarms(url):
    """The alarms of an owner: ``{kind: request body}``.

    ``url`` is the owner's consumer; each alarm posts to ``url/KIND``.
    """
    with open(ALARM_FILE) as f:
        host_status = json.load(f)
    host_status['alarm_actions'] = [url + '/host-status']
    return {
        'host-status': host_status,
        # As OPNFV Doctor's consumer defines it (its state is error).
        'instance-update': {
            'name': 'instance-update-%s' % REPORT_STATE,
            'type': 'event', 'severity': 'moderate',
            'repeat_actions': True,
            'alarm_actions': [url + '/instance-update'],
            'event_rule': {
                'event_type': 'compute.instance.update',
                'query': [{'field': 'traits.state', 'op': 'eq',
                           'type': 'string', 'value': REPORT_STATE}]}},
        # Doctor's consumer's alarm as Doctor defines it: its inspector
        # resets each server to error (the side by side).
        'instance-error': {
            'name': 'instance-update-error',
            'type': 'event', 'severity': 'moderate',
            'repeat_actions': True,
            'alarm_actions': [url + '/instance-error'],
            'event_rule': {
                'event_type': 'compute.instance.update',
                'query': [{'field': 'traits.state', 'op': 'eq',
                           'type': 'string', 'value': 'error'}]}},
        'rebuilt': {
            'name': 'instance-rebuilt',
            'type': 'event', 'severity': 'low', 'repeat_actions': True,
            'alarm_actions': [url + '/rebuilt'],
            'event_rule': {'event_type': 'compute.instance.rebuild.end',
                           'query': []}},
    }


def traits(body):
    """The traits of the event an Aodh alarm notification carries."""
    event = (body.get('reason_data') or {}).get('event') or {}
    found = {}
    for trait in event.get('traits') or []:
        if isinstance(trait, dict):
            found[trait.get('name')] = trait.get('value')
        else:
            found[trait[0]] = trait[-1]
    return found


class Consumer(object):
    """A project's consumer: the HTTP receiver its alarms' actions call."""

    def __init__(self, project, alarms):
        self.project = project

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(handler):
                at = time.monotonic()
                length = int(handler.headers.get('Content-Length') or 0)
                try:
                    body = json.loads(handler.rfile.read(length) or b'{}')
                except ValueError:
                    body = {}
                alarms.put(Alarm(at, project, handler.path.strip('/'),
                                 body))
                handler.send_response(200)
                handler.end_headers()

            def log_message(handler, *args):
                pass
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class AlarmsScenario(scenario.Scenario):

    def __init__(self, cloud):
        super().__init__(cloud)
        self.alarms = queue.Queue()
        self.received = []
        self.consumers = {}
        self.aodh = {project: self._aodh(user) for project, user in
                     (('project-a', 'owner-a'), ('project-b', 'owner-b'))}
        # {alarm id: (project, kind)}
        self.alarm_ids = {}
        self.foreign = []
        self.last_alarm = {}
        self.rounds = []
        self.sizes = [int(n) for n in SIZES.split(',') if n.strip()]

    def _aodh(self, user):
        return adapter.Adapter(
            common.session(self.cloud, user), service_type='alarming',
            interface='public', region_name=self.cloud['region'])

    # Set-up

    def create_alarms(self):
        table = prettytable.PrettyTable(
            ['Project', 'Alarm', 'Event type', 'Query', 'Action'])
        table.align = 'l'
        for project, aodh in sorted(self.aodh.items()):
            consumer = self.consumers[project] = Consumer(project,
                                                          self.alarms)
            for kind, body in owner_alarms(consumer.url).items():
                answer = aodh.post('/v2/alarms', json=body, raise_exc=False)
                check(answer.status_code == 201,
                      '%s: alarm %s answered %s: %s', project, kind,
                      answer.status_code, answer.text)
                alarm = answer.json()
                check(alarm['project_id'] == self._project_id(project),
                      'alarm of %s in project %s', project,
                      alarm['project_id'])
                self.alarm_ids[alarm['alarm_id']] = (project, kind)
                rule = alarm['event_rule']
                table.add_row([
                    project, alarm['name'], rule['event_type'],
                    '; '.join('%s %s %s' % (q['field'], q['op'], q['value'])
                              for q in rule['query']) or '-',
                    alarm['alarm_actions'][0]])
        self.say('\nEvent alarms the owners created (Aodh API, their own '
                 'credentials):')
        self.say(table.get_string())

    def _project_id(self, project):
        return self.aodh[project].session.get_project_id()

    def check_alarm_isolation(self):
        """Each owner lists only its alarms, and cannot read the other's."""
        for project, aodh in self.aodh.items():
            listed = {a['alarm_id'] for a in aodh.get('/v2/alarms').json()}
            own = {alarm_id for alarm_id, (owner, _k)
                   in self.alarm_ids.items() if owner == project}
            check(listed == own, '%s lists alarms %s, owns %s', project,
                  sorted(listed), sorted(own))
            for alarm_id in set(self.alarm_ids) - own:
                answer = aodh.get('/v2/alarms/%s' % alarm_id,
                                  raise_exc=False)
                check(answer.status_code == 404,
                      "%s reads another project's alarm: %s", project,
                      answer.status_code)
        self.say("Each owner lists its own alarms only; the other's answer "
                 '404.')

    # Alarms

    def _take(self, block_until=None):
        """Record the alarms received; wait until ``block_until``."""
        while True:
            timeout = (None if block_until is None
                       else block_until - time.monotonic())
            if timeout is not None and timeout <= 0:
                return
            try:
                alarm = self.alarms.get(timeout=timeout)
            except queue.Empty:
                return
            self._record(alarm)
            if block_until is None:
                return

    def _record(self, alarm):
        self.received.append(alarm)
        owner, kind = self.alarm_ids.get(alarm.body.get('alarm_id'),
                                         (None, None))
        instance = traits(alarm.body).get('instance_id')
        server = self.servers.get(instance)
        # An alarm on another project's server, or another project's
        # alarm, at this project's consumer.
        if (owner != alarm.project or kind != alarm.kind or
                (server is not None and server[1] != alarm.project)):
            self.foreign.append(alarm)

    def wait_alarms(self, wanted, since, timeout=30):
        """Wait for ``{(project, kind): {server uuid}}``; when each is in.

        Returns ``{(project, kind): monotonic time of its last alarm}``.
        """
        waiting = {key: set(uuids) for key, uuids in wanted.items()}
        done = {}
        deadline = time.monotonic() + timeout
        seen = 0
        while any(waiting.values()):
            for alarm in self.received[seen:]:
                key = (alarm.project, alarm.kind)
                instance = traits(alarm.body).get('instance_id')
                if alarm.at >= since and instance in waiting.get(key, ()):
                    waiting[key].discard(instance)
                    if not waiting[key]:
                        done[key] = alarm.at
            seen = len(self.received)
            if not any(waiting.values()):
                break
            if time.monotonic() > deadline:
                raise Failure('alarms missing after %d s: %s' % (
                    timeout, {'%s %s' % key: sorted(
                        self.servers[u][0] for u in uuids)
                        for key, uuids in waiting.items() if uuids}))
            self._take(min(deadline, time.monotonic() + 0.5))
        return done

    # The scenario

    def run(self, path):
        self.boot()
        self.say_servers()
        for api in self.owners.values():
            api.get('/servers/detail')
        for host in self.side_by_side_hosts()[:2 * len(self.sizes)]:
            self.enable(host, False)
        self.create_alarms()
        self.check_alarm_isolation()
        self.start_monitor(path)
        try:
            self._maintenance_alarm()
            self._fault()
        finally:
            self.stop_monitor()
        try:
            self.side_by_side()
        finally:
            for consumer in self.consumers.values():
                consumer.stop()

    def _maintenance_alarm(self):
        """The spare host into maintenance: its owner's alarm fires."""
        uuids = {uuid for uuid, (_n, _p, host) in self.servers.items()
                 if host == self.spare}
        projects = sorted({self.servers[u][1] for u in uuids})
        sent = time.monotonic()
        answer = self.admin.put('/os-hosts/%s' % self.spare, json={
            'host': {'maintenance_mode': 'enable',
                     'reason': 'firmware update'}})
        check(answer.status_code == 200, 'maintenance answered %s: %s',
              answer.status_code, answer.text)
        done = self.wait_alarms(
            {(p, 'host-status'): {u for u in uuids
                                  if self.servers[u][1] == p}
             for p in projects}, sent)
        self.say('Maintenance of %s: %s alarmed (host_status.update '
                 'MAINTENANCE) %.0f ms after the request was sent' % (
                     self.spare, ', '.join(projects),
                     (max(done.values()) - sent) * 1000))
        answer = self.admin.put('/os-hosts/%s' % self.spare, json={
            'host': {'maintenance_mode': 'disable'}})
        check(answer.status_code == 200, 'maintenance end answered %s: %s',
              answer.status_code, answer.text)

    def _fault(self):
        failed, spare = self.failed, self.spare
        pid = int(open(self.cloud['computes'][failed]).read())
        time.sleep(random.uniform(0.5, 1.0))
        self.start = time.monotonic()
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
        changed = {c['id'] for c in
                   reported['body']['host']['instances_changed']}
        on_failed = {uuid for uuid, (_n, _p, h) in self.servers.items()
                     if h == failed}
        self.projects = sorted({self.servers[u][1] for u in on_failed})
        wanted = {}
        for project in self.projects:
            mine = {u for u in on_failed if self.servers[u][1] == project}
            wanted[(project, 'host-status')] = mine
            wanted[(project, 'instance-update')] = mine & changed
        wanted = {key: uuids for key, uuids in wanted.items() if uuids}
        done = self.wait_alarms(wanted, self.start)
        for (project, kind), at in sorted(done.items()):
            self.mark('%s alarmed: %s, %d of %d servers' % (
                project, {'host-status': 'host_status.update DOWN',
                          'instance-update': 'compute.instance.update %s '
                                             "(Doctor's alarm)"
                                             % REPORT_STATE}[kind],
                len(wanted[(project, kind)]), len(wanted[(project, kind)])),
                at)
            self.last_alarm[project] = max(self.last_alarm.get(project, 0),
                                           at)

        answer = self.admin.post('/os-hosts/%s/evacuate' % failed,
                                 json={'evacuate': {}})
        check(answer.status_code == 202, 'host evacuate answered %s: %s',
              answer.status_code, answer.text)
        self.mark('evacuation started: POST /os-hosts/%s/evacuate accepted '
                  '%d servers' % (failed, len(answer.json()['evacuate'][
                      'servers'])))
        common.wait_for(lambda: self._recovered(on_failed), 180,
                        'recovery on %s' % spare, interval=0.05)
        self.mark('recovered: %d of %d servers back in their pre-fault '
                  'state on %s' % (len(on_failed), len(on_failed), spare))
        rebuilt = {(project, 'rebuilt'): {
            u for u in on_failed if self.servers[u][1] == project}
            for project in self.projects}
        for (project, kind), at in sorted(
                self.wait_alarms(rebuilt, self.start).items()):
            self.mark('%s alarmed: compute.instance.rebuild.end, %d of %d '
                      'servers' % (project, len(rebuilt[(project, kind)]),
                                   len(rebuilt[(project, kind)])), at)
        # Whatever else arrives late.
        self._take(time.monotonic() + 2)

    # Side by side: the package's report, and Doctor's inspector

    def side_by_side(self):
        """Each way, each size, on a host of its own.

        The host's nova-compute is killed; the scenario detects it as the
        sample monitor does (two missed probes 50 ms apart) and acts:

        * the package's way: the fault monitor's one report
          (``PUT /os-hosts/{host}``); the owners' ``host_status.update``
          alarms;
        * Doctor's way, as its sample inspector does: the compute service
          forced down and each server reset to error, each call in a
          thread of its own; the owners' ``compute.instance.update`` state
          ``error`` alarms.
        """
        if not self.sizes:
            return
        spares = self.side_by_side_hosts()
        wanted = 2 * len(self.sizes)
        check(len(spares) >= wanted, 'the side by side needs %d hosts, the '
              'cloud has %s', wanted, spares)
        self.unlimit_quotas()
        self.monitor_api = common.compute(
            common.session(self.cloud, 'monitor'), self.cloud)
        self.monitor_api.get('/flavors')
        for size in self.sizes:
            for way in (PACKAGE, DOCTOR):
                host = spares.pop(0)
                self.say('Side by side: %s way, %d servers on %s: booting'
                         % (way, size, host))
                self.enable(host, True)
                servers = self.boot_on(host, size)
                self.say('  failing %s' % host)
                self.rounds.append(self.fail_round(way, host, servers))
                result = self.rounds[-1]
                self.say('  %d alarms, the last %.0f ms after the fault'
                         % (result.alarms, result.last))

    def side_by_side_hosts(self):
        """The hosts no server and no fault of the scenario touches."""
        used = {host for _n, _p, host in self.plan}
        used.update(host for failure in self.cloud['failures']
                    for host in failure)
        return sorted((h for h in self.cloud['hosts'] if h not in used),
                      key=lambda h: int(h[len('host'):]))

    def enable(self, host, enabled):
        """Enable or disable ``host``'s nova-compute (stock os-services).

        The side by side's hosts are disabled until their round, so that
        the evacuation has one destination, the failed host's spare.
        """
        service = self.admin.get('/os-services', params={
            'binary': 'nova-compute', 'host': host}).json()['services'][0]
        answer = self.admin.put('/os-services/%s' % service['id'], json={
            'status': 'enabled' if enabled else 'disabled'})
        check(answer.status_code == 200, 'os-services %s answered %s',
              host, answer.status_code)

    def unlimit_quotas(self):
        for project in self.aodh:
            self.admin.put('/os-quota-sets/%s' % self._project_id(project),
                           json={'quota_set': {'instances': -1,
                                               'cores': -1, 'ram': -1}})

    def boot_on(self, host, size):
        """``size`` servers on ``host``, of the two projects in turn."""
        flavor = common.flavor(self.admin)
        counts = {'project-a': (size + 1) // 2, 'project-b': size // 2}
        before = {s['id'] for s in self._all_servers()}
        for project, count in counts.items():
            if not count:
                continue
            self.booters[project].post('/servers', json={'server': {
                'name': '%s-%s' % (host, project), 'imageRef':
                stubs.IMAGE_ID, 'flavorRef': flavor, 'networks': 'none',
                'host': host, 'min_count': count, 'max_count': count}})
        project_ids = {self._project_id(p): p for p in counts}

        def active():
            found = {s['id']: s for s in self._all_servers()
                     if s['id'] not in before}
            check(not any(s['status'] == 'ERROR' for s in found.values()),
                  'a server of %s went to ERROR', host)
            if (len(found) == size and
                    all(s['status'] == 'ACTIVE' for s in found.values())):
                return found
            return None
        found = common.wait_for(active, 600, '%d servers ACTIVE on %s'
                                % (size, host), interval=0.5)
        for uuid, server in found.items():
            self.servers[uuid] = (server['name'],
                                  project_ids[server['tenant_id']], host)
        return set(found)

    def fail_round(self, way, host, servers):
        pid = int(open(self.cloud['computes'][host]).read())
        time.sleep(random.uniform(0.5, 1.0))
        start = time.monotonic()
        os.killpg(pid, signal.SIGKILL)
        misses = 0
        while misses < PROBE_MISSES:
            time.sleep(PROBE_INTERVAL)
            misses = 0 if monitor.alive(pid) else misses + 1
        acted = time.monotonic()
        if way == PACKAGE:
            answer = self.monitor_api.put(
                '/os-hosts/%s' % host,
                json={'host': {'host_down_reported': True}})
            check(answer.status_code == 200, 'report answered %s',
                  answer.status_code)
            calls, kind = 1, 'host-status'
        else:
            calls, kind = 1 + len(servers), 'instance-error'
            self.doctor_inspector(host, servers)
        answered = time.monotonic()
        wanted = {}
        for uuid in servers:
            wanted.setdefault((self.servers[uuid][1], kind), set()).add(uuid)
        done = self.wait_alarms(wanted, start, timeout=120)
        got = [a for a in self.received if a.at >= start and
               a.kind == kind and
               traits(a.body).get('instance_id') in servers]
        return Round(way, len(servers), host, calls,
                     (acted - start) * 1000, (answered - start) * 1000,
                     (min(a.at for a in got) - start) * 1000,
                     (max(done.values()) - start) * 1000, len(got))

    def doctor_inspector(self, host, servers):
        """Doctor's sample inspector: force down, reset each to error."""
        service = self.admin.get('/os-services', params={
            'binary': 'nova-compute', 'host': host}).json()['services'][0]
        errors = []

        def call(method, url, body):
            answer = method(url, json=body, raise_exc=False)
            if answer.status_code >= 400:
                errors.append('%s %s' % (url, answer.status_code))
        threads = [threading.Thread(target=call, args=(
            self.admin.put, '/os-services/%s' % service['id'],
            {'forced_down': True}))]
        threads += [threading.Thread(target=call, args=(
            self.admin.post, '/servers/%s/action' % uuid,
            {'os-resetState': {'state': 'error'}})) for uuid in servers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        check(not errors, "Doctor's inspector: %s", errors)

    def side_by_side_table(self):
        table = prettytable.PrettyTable(
            ['Servers', 'Way', 'API calls', 'Acted (ms)', 'Answered (ms)',
             'First alarm (ms)', 'Last alarm (ms)', 'Alarms'])
        table.align = 'r'
        table.align['Way'] = 'l'
        for r in self.rounds:
            table.add_row([r.servers, r.way, r.calls, '%.0f' % r.acted,
                           '%.0f' % r.answered, '%.0f' % r.first,
                           '%.0f' % r.last, r.alarms])
        return table.get_string()

    # Results

    def alarms_table(self):
        table = prettytable.PrettyTable(
            ['Consumer', 'Alarm', 'Received', 'Servers', "Other projects'"])
        table.align = 'l'
        counts = collections.Counter((a.project, a.kind)
                                     for a in self.received)
        servers = collections.defaultdict(set)
        for alarm in self.received:
            instance = traits(alarm.body).get('instance_id')
            if instance in self.servers:
                servers[(alarm.project, alarm.kind)].add(
                    self.servers[instance][0])
        foreign = collections.Counter((a.project, a.kind)
                                      for a in self.foreign)
        for project, kind in sorted(set(self.alarm_ids.values())):
            names = sorted(servers[(project, kind)])
            table.add_row([project, kind, counts[(project, kind)],
                           ', '.join(names) if len(names) <= 3 else
                           '%d servers' % len(names) if names else '-',
                           foreign[(project, kind)]])
        return table.get_string()

    def ceilometer_log(self):
        """Ceilometer's agent's warnings: ``(dropped samples, others)``.

        Its default meter definitions read every compute.instance.*
        notification but create.start and update as an instance's: one
        without its flavor makes samples with no volume, each dropped with
        a warning.
        """
        path = os.path.join(self.cloud['logs'],
                            'ceilometer-agent-notification.log')
        dropped, others = collections.Counter(), []
        with open(path) as f:
            for line in f:
                if ' WARNING ' not in line:
                    continue
                if 'has no volume' in line:
                    dropped[line.split('metering data ')[1].split()[0]] += 1
                else:
                    others.append(line.strip())
        return dropped, others

    def conclude(self):
        # What arrived since the last wait counts too.
        while True:
            try:
                self._record(self.alarms.get_nowait())
            except queue.Empty:
                break
        dropped, others = self.ceilometer_log()
        self.say("Ceilometer's notification agent: %d samples dropped for "
                 'no volume%s, %d other warnings' % (
                     sum(dropped.values()), ' (%s)' % ', '.join(
                         '%s %d' % item for item in sorted(dropped.items()))
                     if dropped else '', len(others)))
        for line in others[:10]:
            self.say('  ' + line)
        self.print_timeline()
        self.say('\nAlarms received by each project\'s consumer (the whole '
                 'run):')
        self.say(self.alarms_table())
        if self.rounds:
            self.say('\nSide by side, fault to the owners\' alarms (one '
                     'alarm per server: host_status.update DOWN for the '
                     'package, compute.instance.update error for Doctor\'s '
                     'way):')
            self.say(self.side_by_side_table())
            by = {(r.way, r.servers): r for r in self.rounds}
            for size in self.sizes:
                self.say('%d servers: Doctor\'s way / the package\'s, last '
                         'alarm: %.1f' % (size, by[(DOCTOR, size)].last /
                                          by[(PACKAGE, size)].last))
        alarmed = [p for p in self.projects if p in self.last_alarm]
        last = max(self.last_alarm.values()) - self.start
        self.say('alarms: %d of %d projects alarmed, last at %.0f ms after '
                 'the fault (Doctor budget %d ms)' % (
                     len(alarmed), len(self.projects), last * 1000,
                     BUDGET_MS))
        check(not self.foreign, "alarms of another project's server or "
              "alarm: %s", [(a.project, a.kind, a.body.get('alarm_name'))
                            for a in self.foreign])
        check(len(alarmed) == len(self.projects), 'projects not alarmed: '
              '%s', sorted(set(self.projects) - set(alarmed)))
        check(not dropped, "Ceilometer's agent dropped samples: %s",
              dict(dropped))


def main():
    path = os.path.abspath(sys.argv[1])
    cloud = common.load(path)
    print(cloud['layout'], flush=True)
    alarms = AlarmsScenario(cloud)
    try:
        alarms.run(path)
        alarms.conclude()
    except (Failure, TimeoutError) as e:
        if alarms.start is not None:
            alarms.print_timeline()
        print('\nFAILED: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
