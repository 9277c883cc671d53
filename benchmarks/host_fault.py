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

"""Fault to consistent state, side by side with what operators do today.

Runs on the embedded cloud (stock Nova 34 in process, with this package):

* one host down report vs the OPNFV Doctor sample inspector's way: force the
  compute service down and reset the state of each server, one thread per
  server, in parallel;
* the SQL statements of a report and where its time goes;
* from the report sent until every owner got its instance.update;
* GET /servers/detail with host_status through this package's router vs
  stock Nova's, and stock's vs stock's again for the noise floor.

    .venv/bin/python benchmarks/host_fault.py [--sizes 10 100 1000]
        [--only {reports,detail}]

Prints tables and writes benchmarks/results/host_fault.json.
"""

import argparse
import collections
import functools
import itertools
import json
import logging
import os
import platform
import statistics
import sys
import threading
import time
import unittest

# First, as nova's own services do, native threads (Nova 34's default) or
# eventlet, as OS_NOVA_DISABLE_EVENTLET_PATCHING says, before anything
# creates a lock or a thread-local. Unset, it is set here: nova's test
# fixtures read it again.
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', 'true')
from nova import monkey_patch  # noqa: E402,I100
monkey_patch.patch()

# The embedded cloud next: it loads nova's test packages, which
# nova.api.wsgi needs loaded first.
from nova_hoststatus.demo import cloud  # noqa: E402,I100

import prettytable  # noqa: E402

from nova.api import wsgi as nova_wsgi  # noqa: E402

from nova_hoststatus.api import router as router_module  # noqa: E402
from nova_hoststatus import db  # noqa: E402
from nova_hoststatus.hostfault import api as hostfault_api  # noqa: E402
from nova_hoststatus.notifications import emitter  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')

STOCK = 'stock nova'
STOCK_AGAIN = 'stock nova again (A/A control)'
PACKAGE = 'nova-hoststatus'

# CPython 3.11 keeps frames in 16 KiB chunks and frees a chunk as soon as
# the call that opened it returns, so a loop whose calls cross a chunk
# boundary maps and unmaps memory on every call (python/cpython#142183,
# fixed from 3.13 on). Whether a boundary falls in the hot loops of GET
# /servers/detail depends on the depth the request starts at, which a few
# frames more or less (this package's router, the WSGI server) move: called
# from one depth, an app ran twice as slow as another doing the same calls.
# 136 frames of _deeper (120 bytes each) span a chunk.
CHUNK_FRAMES = 136


def _ms(seconds):
    return seconds * 1000.0


def _deeper(frames, function):
    """Call function from ``frames`` frames further down the stack."""
    if frames:
        return _deeper(frames - 1, function)
    return function()


def _summary(values):
    """Median, interquartile range and extremes of values."""
    quartiles = statistics.quantiles(values, n=4)
    return {'median': statistics.median(values),
            'iqr': [quartiles[0], quartiles[2]],
            'min': min(values), 'max': max(values)}


class Timer(object):
    """Accumulate wall time per phase of a report, in this thread only.

    The computes run in other threads of the process and call some of the
    same functions.
    """

    def __init__(self):
        self.phases = collections.OrderedDict()
        self.thread = threading.get_ident()

    def wrap(self, phase, function):
        def timed(*args, **kwargs):
            if threading.get_ident() != self.thread:
                return function(*args, **kwargs)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.phases[phase] = self.phases.get(phase, 0.0) + (
                    time.perf_counter() - start)
        return timed


class HostFaultBenchmark(cloud.EmbeddedNova):

    HOSTS = ('host1',)
    # host_status is there from 2.16 on; force-down as Doctor calls it needs
    # 2.11 to 2.52.
    microversion = '2.16'
    sizes = (10, 100, 1000)
    # Many short rounds rather than a few long ones: the ratio is taken
    # per round, and the router's cost does not grow with the servers.
    detail_servers = 300
    # Each size this many times, one size after the other in each round.
    notified_rounds = 3
    # Six times each order of the three apps.
    detail_rounds = 36
    parts = ('reports', 'detail')
    profile = False
    results = None

    def _none_active(self):
        """Whether no server on host1 reads ACTIVE through the API.

        Every server starts ACTIVE, so none ACTIVE means each one reads its
        new state. Asking for at most one server keeps the read itself
        cheap; listing N servers would mostly time nova's view of them.
        """
        return not self.admin_api.api_get(
            '/servers?all_tenants=1&host=host1&status=ACTIVE&limit=1'
        ).body['servers']

    def _until_consistent(self):
        while not self._none_active():
            time.sleep(0.001)

    def _restore(self, uuids):
        """Back to ACTIVE on an up host, for the next run."""
        self._put_host('host1', {'host_down_reported': False})
        with cloud.nova_context.target_cell(
                cloud.nova_context.get_admin_context(),
                self.cell_mappings['cell1']) as cctxt:
            db.instances_compare_and_set(
                cctxt,
                [(u, s, None) for u in uuids
                 for s in ('stopped', 'error')],
                {'vm_state': 'active', 'power_state': 1})

    def _ours(self):
        start = time.perf_counter()
        self._report_host_down('host1')
        api_done = time.perf_counter()
        self._until_consistent()
        return _ms(api_done - start), _ms(time.perf_counter() - start)

    def _doctor(self, uuids):
        """The Doctor sample inspector's way, on the same servers.

        Force-down and one reset-state per server, each in its own thread,
        all at once.
        """
        api = self.admin_api
        threads = [threading.Thread(
            target=api.api_put,
            args=('/os-services/force-down',
                  {'host': 'host1', 'binary': 'nova-compute',
                   'forced_down': True}))]
        threads += [threading.Thread(
            target=api.post_server_action,
            args=(uuid, {'os-resetState': {'state': 'error'}}))
            for uuid in uuids]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        api_done = time.perf_counter()
        self._until_consistent()
        return _ms(api_done - start), _ms(time.perf_counter() - start)

    def _phases(self, uuids):
        timer = Timer()
        wrapped = []
        for name, owner, attr in (
                ('lookup', hostfault_api.objects.HostMapping, 'get_by_host'),
                ('lookup', hostfault_api.objects.Service,
                 'get_by_compute_host'),
                ('read instances', hostfault_api.db, 'instances_on_host'),
                ('update instances', hostfault_api.db,
                 'instances_compare_and_set'),
                ('service update', hostfault_api.db,
                 'service_compare_and_set'),
                ('action records', hostfault_api.db,
                 'instance_actions_create'),
                ('queue notifications', hostfault_api.API,
                 '_service_changed')):
            original = owner.__dict__[attr]
            setattr(owner, attr, timer.wrap(name, getattr(owner, attr)))
            wrapped.append((owner, attr, original))
        try:
            with cloud.count_sql_statements() as statements:
                start = time.perf_counter()
                self._report_host_down('host1')
                total = time.perf_counter() - start
        finally:
            for owner, attr, original in wrapped:
                setattr(owner, attr, original)
        self._restore(uuids)
        phases = {name: _ms(t) for name, t in timer.phases.items()}
        phases['API and the rest'] = _ms(total) - sum(phases.values())
        return len(statements), phases

    def _wait_told(self, start, uuids):
        """ms from start to the last host_status.update, instance.update.

        host_status.update is sent first: waiting for it, then for the
        instance updates, times each.
        """
        times = []
        for event_type in ('host_status.update', 'instance.update'):
            told = self.notifier.wait_for_versioned_notifications(
                event_type, n_events=len(uuids), timeout=120)
            times.append(_ms(time.perf_counter() - start))
            key = 'instance_uuid' if event_type[0] == 'h' else 'uuid'
            assert {n['payload']['nova_object.data'][key]
                    for n in told} >= set(uuids), event_type
        return times

    def _notified(self, uuids):
        """Detected until every owner is told, by a report and Doctor's way.

        Notifications reach nova's in-process notifier fixture, which
        serializes each one as the oslo.messaging driver would.
        """
        self.notifier.reset()
        start = time.perf_counter()
        self._report_host_down('host1')
        api_ms = _ms(time.perf_counter() - start)
        host_status_ms, instance_update_ms = self._wait_told(start, uuids)
        self._restore(uuids)
        # The clear's notifications are not part of the next measure.
        self.assertTrue(emitter.EMITTER.join(timeout=60))

        self.notifier.reset()
        start = time.perf_counter()
        self._doctor(uuids)
        # Stock force-down on this Nova sends host_status.update too; what
        # Doctor's way tells owners is the reset-states' instance.update.
        doctor_ms = self._wait_told(start, uuids)[1]
        self._restore(uuids)
        self.assertTrue(emitter.EMITTER.join(timeout=60))
        return api_ms, host_status_ms, instance_update_ms, doctor_ms

    def _notified_sizes(self):
        """Report to every owner told, per size, rounds interleaved.

        Each round measures every size once, so drift (other processes on
        the machine) hits all sizes alike.
        """
        self.flags(notify_on_state_change='vm_and_task_state',
                   group='notifications')
        servers = {}
        for size in self.sizes:
            servers[size] = self._create_servers_in_db(
                'host1', size, name='notified%d' % size)
            self._park(servers[size])
        times = {size: [] for size in self.sizes}
        for _round in range(self.notified_rounds):
            for size in self.sizes:
                uuids = servers[size]
                self._unpark(uuids)
                times[size].append(self._notified(uuids))
                self._park(uuids)
        rows = []
        for size, measures in times.items():
            api, host_status, instance_update, doctor = (
                [statistics.median(values) for values in zip(*measures)])
            rows.append({
                'n': size, 'rounds': self.notified_rounds, 'api_ms': api,
                'host_status_update_ms': host_status,
                'instance_update_ms': instance_update,
                'doctor_instance_update_ms': doctor,
                'doctor_ratio': statistics.median(
                    m[3] / m[2] for m in measures),
                'per_server_ms': instance_update / size,
                'measures': measures})
        return rows

    def _park(self, uuids, host='parked'):
        """Move servers off host1: the next measure starts alone on it."""
        with cloud.nova_context.target_cell(
                cloud.nova_context.get_admin_context(),
                self.cell_mappings['cell1']) as cctxt:
            db.instances_compare_and_set(
                cctxt, [(u, 'active', None) for u in uuids],
                {'host': host})

    def _unpark(self, uuids):
        """Back on host1, ACTIVE, for the next measure."""
        self._park(uuids, host='host1')

    def _profile(self, size):
        """Where the time of one report with ``size`` servers goes."""
        import pyinstrument

        uuids = self._create_servers_in_db('host1', size, name='profile')
        profiler = pyinstrument.Profiler(interval=0.0002)
        with profiler:
            self._report_host_down('host1')
        self._restore(uuids)
        self._park(uuids)
        return profiler.output_text(unicode=False, color=False)

    def _detail_overhead(self):
        """GET /servers/detail, host_status included, both routers.

        Stock Nova's paste file is loaded twice: how far the second app
        instance is from the first is the noise floor of the comparison. It
        meets the chunk boundaries where the first does, so its spread is
        timing noise alone.
        """
        self._create_servers_in_db('host1', self.detail_servers,
                                   name='detail')
        stock_paste = os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')
        apps = collections.OrderedDict(
            (name, nova_wsgi.Loader(paste).load_app('osapi_compute'))
            for name, paste in ((STOCK, stock_paste),
                                (STOCK_AGAIN, stock_paste),
                                (PACKAGE, cloud.paste_config())))
        headers = {'X-Auth-User': 'admin',
                   'X-Auth-Project-Id': self.api_fixture.project_id,
                   'X-Roles': 'reader,member,admin',
                   'X-OpenStack-Nova-API-Version': '2.16'}
        url = ('/v2.1/servers/detail?all_tenants=1&host=host1&limit=%d'
               % self.detail_servers)

        def timed_get(app):
            request = nova_wsgi.Request.blank(url, headers=headers)
            start = time.perf_counter()
            response = request.get_response(app)
            elapsed = time.perf_counter() - start
            assert response.status_int == 200, response.body
            body = json.loads(response.body)
            assert len(body['servers']) == self.detail_servers
            assert body['servers'][0]['host_status'] == 'UP'
            return elapsed

        # The first request of an app loads policies and fills caches.
        for app in apps.values():
            timed_get(app)
        orders = list(itertools.permutations(apps))
        depths = []
        times = {name: [] for name in apps}
        for round_number in range(self.detail_rounds):
            # All apps of a round start at the same depth, one step further
            # into the chunk each round.
            depth = round_number * CHUNK_FRAMES // self.detail_rounds
            depths.append(depth)
            # Each order in turn: each app is first, and before each other
            # one, as often as the others, so drift hits all alike.
            for name in orders[round_number % len(orders)]:
                times[name].append(_deeper(
                    depth, functools.partial(timed_get, apps[name])))
        result = {'servers': self.detail_servers, 'depths': depths,
                  'apps': {}}
        for name, seconds in times.items():
            ms = [_ms(t) for t in seconds]
            # Against the stock request of the same round: same depth,
            # seconds apart.
            ratios = [t / stock for t, stock in zip(seconds, times[STOCK])]
            result['apps'][name] = dict(_summary(ms), ms=ms,
                                        ratio_to_stock=_summary(ratios))
        # What the router adds to a request it does not claim: one match
        # attempt on the extension mapper. Timed directly, it does not
        # depend on how the app instances above happen to run.
        router = router_module.APIRouterV21()
        environ = nova_wsgi.Request.blank(
            '/v2.1/servers/detail', headers=headers).environ
        rounds = 10000
        start = time.perf_counter()
        for _ in range(rounds):
            router.map.routematch(environ=environ)
        result['router_miss_us'] = (
            time.perf_counter() - start) / rounds * 1e6
        return result

    def _reports(self, results):
        """A report vs Doctor's way per size, then owner notification."""
        # Warm up the API paths both sides use.
        self._none_active()
        for size in self.sizes:
            uuids = self._create_servers_in_db('host1', size,
                                               name='n%d' % size)
            ours_api, ours_state = self._ours()
            self._restore(uuids)
            doctor_api, doctor_state = self._doctor(uuids)
            self._restore(uuids)
            statements, phases = self._phases(uuids)
            results['reports'].append({
                'n': size,
                'ours_api_ms': ours_api, 'ours_consistent_ms': ours_state,
                'doctor_api_ms': doctor_api,
                'doctor_consistent_ms': doctor_state,
                'ratio': doctor_state / ours_state,
                'statements': statements, 'phases_ms': phases})
            self._park(uuids)
        results['notified'] = self._notified_sizes()
        if self.profile:
            results['profile'] = self._profile(self.sizes[-1])

    def run_benchmark(self):
        results = {'machine': {'python': platform.python_version(),
                               'platform': platform.platform(),
                               'cpus': os.cpu_count()},
                   'reports': [], 'detail': None}
        self.flags(service_down_time=3600)
        if 'reports' in self.parts:
            self._reports(results)
        if 'detail' in self.parts:
            results['detail'] = self._detail_overhead()
        type(self).results = results


def _print_reports(results):
    table = prettytable.PrettyTable(
        ['N', 'report API ms', 'report consistent ms',
         'Doctor API ms', 'Doctor consistent ms', 'Doctor/report',
         'SQL statements'])
    for row in results['reports']:
        table.add_row([row['n'], '%.1f' % row['ours_api_ms'],
                       '%.1f' % row['ours_consistent_ms'],
                       '%.1f' % row['doctor_api_ms'],
                       '%.1f' % row['doctor_consistent_ms'],
                       '%.1fx' % row['ratio'], row['statements']])
    print('Host fault to consistent state (in-process stock Nova 34)')
    print(table)

    phases = prettytable.PrettyTable(
        ['N'] + list(results['reports'][0]['phases_ms']))
    for row in results['reports']:
        phases.add_row([row['n']] + ['%.1f' % v
                                     for v in row['phases_ms'].values()])
    print('\nWhere a report spends its time (ms)')
    print(phases)

    table = prettytable.PrettyTable(
        ['N', 'report API ms', 'last host_status.update ms',
         'last instance.update ms', 'ms per server',
         "Doctor's last instance.update ms", 'Doctor/report'])
    for row in results['notified']:
        table.add_row([row['n'], '%.1f' % row['api_ms'],
                       '%.1f' % row['host_status_update_ms'],
                       '%.1f' % row['instance_update_ms'],
                       '%.2f' % row['per_server_ms'],
                       '%.1f' % row['doctor_instance_update_ms'],
                       '%.1fx' % row['doctor_ratio']])
    print('\nDetected (report sent) to every owner told, median of %d '
          '(Doctor/report: of instance.update, per round)'
          % results['notified'][0]['rounds'])
    print(table)


def _print_detail(detail):
    table = prettytable.PrettyTable(
        ['app', 'median ms', 'IQR ms', 'min-max ms',
         'ratio to stock: median (IQR)'])
    for name in (STOCK, STOCK_AGAIN, PACKAGE):
        app = detail['apps'][name]
        ratio = app['ratio_to_stock']
        table.add_row([
            name, '%.1f' % app['median'], '%.1f-%.1f' % tuple(app['iqr']),
            '%.1f-%.1f' % (app['min'], app['max']),
            'reference' if name == STOCK else '%.3f (%.3f-%.3f)' % (
                (ratio['median'],) + tuple(ratio['iqr']))])
    miss_ms = detail['router_miss_us'] / 1000
    table.add_row(['router added (measured alone)', '%.4f' % miss_ms, '', '',
                   '%.7f' % (1 + miss_ms / detail['apps'][STOCK]['median'])])
    print('\nGET /servers/detail, %d servers with host_status, %d rounds'
          % (detail['servers'], len(detail['depths'])))
    print(table)
    print('Ratio: to the stock request of the same round. The A/A control is '
          'stock\nNova loaded twice: its spread is the noise floor.')


def _print(results):
    if results['reports']:
        _print_reports(results)
    if results['detail']:
        _print_detail(results['detail'])
    print('\nMachine: %(platform)s, Python %(python)s, %(cpus)s CPUs'
          % results['machine'])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=None,
                        help='servers on the failed host (10 100 1000)')
    parser.add_argument('--detail-servers', type=int, default=None,
                        help='servers listed by GET /servers/detail '
                             '(%d)' % HostFaultBenchmark.detail_servers)
    parser.add_argument('--detail-rounds', type=int, default=None,
                        help='rounds of GET /servers/detail, each app once '
                             'a round (%d)' % HostFaultBenchmark.detail_rounds)
    parser.add_argument('--notified-rounds', type=int, default=None,
                        help='reports per size timed until every owner is '
                             'notified (%d)'
                             % HostFaultBenchmark.notified_rounds)
    parser.add_argument('--profile', action='store_true',
                        help='profile a report at the largest size '
                             '(needs pyinstrument)')
    parser.add_argument('--only', choices=HostFaultBenchmark.parts,
                        help='run one part: the host fault reports, or GET '
                             '/servers/detail')
    args = parser.parse_args()
    if args.sizes:
        HostFaultBenchmark.sizes = tuple(args.sizes)
    if args.detail_servers:
        HostFaultBenchmark.detail_servers = args.detail_servers
    if args.detail_rounds:
        HostFaultBenchmark.detail_rounds = args.detail_rounds
    if args.notified_rounds:
        HostFaultBenchmark.notified_rounds = args.notified_rounds
    if args.only:
        HostFaultBenchmark.parts = (args.only,)
    HostFaultBenchmark.profile = args.profile
    # The services log into a fixture; what escapes it is noise here.
    logging.disable(logging.INFO)
    result = unittest.TestResult()
    HostFaultBenchmark('run_benchmark').run(result)
    for _case, trace in result.errors + result.failures:
        sys.stderr.write(trace)
    if not result.wasSuccessful():
        return 1
    _print(HostFaultBenchmark.results)
    os.makedirs(RESULTS, exist_ok=True)
    results = dict(HostFaultBenchmark.results)
    profile = results.pop('profile', None)
    with open(os.path.join(RESULTS, 'host_fault.json'), 'w') as out:
        json.dump(results, out, indent=2)
    if profile:
        with open(os.path.join(RESULTS, 'profile.txt'), 'w') as out:
            out.write(profile)
        print('\nProfile of a report: benchmarks/results/profile.txt')
    return 0


if __name__ == '__main__':
    sys.exit(main())
