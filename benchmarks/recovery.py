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

"""Report to every server back as it was, side by side with stock evacuate.

Runs on the embedded cloud (stock Nova 34 in process, with this package),
N real booted servers on the failed host, half active and half stopped, from
the report answered to every server back in its pre-fault state elsewhere:

* (a) one host evacuation, POST /os-hosts/{host}/evacuate;
* (b) what a user does today: one stock evacuate per server, then a start
  for each formerly active server once it is rebuilt (stock evacuate brings
  a reported server back SHUTOFF);
* the bare evacuations, what (a) is to be within 10% of: the stock evacuate
  calls alone, until every server is rebuilt. That is the first part of
  (b), timed in the same run: its starts come after.

    .venv/bin/python benchmarks/recovery.py [--sizes 10 100] [--rounds 1]
        [--workers 4 1]

Nova runs under eventlet, or in native threads with
OS_NOVA_DISABLE_EVENTLET_PATCHING=true, as its services and tests do.

The servers are booted once (one POST /servers for all of a size) and go
back and forth between host1 and host2: each measure reports the host they
are on down and evacuates them to the other one; the failed host's compute
is then restarted, which completes the evacuations, and its report
cleared. Each round runs the variants in one order then in the reverse one,
so that drift hits them alike.

Prints tables and writes benchmarks/results/recovery.json.
"""

import argparse
import collections
import importlib
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
# fixtures read it again. (The evacuations of a host run on a pool of
# workers: under eventlet, a thread-local made before the patching, such as
# oslo.db's transaction context, would be shared by all of them.)
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', 'true')
from nova import monkey_patch  # noqa: E402,I100
monkey_patch.patch()

import fixtures  # noqa: E402
import prettytable  # noqa: E402

from nova_hoststatus.demo import cloud  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')

HOST = 'host evacuate'
STOCK = 'stock evacuate + start'

ACTIVE = 'ACTIVE'
SHUTOFF = 'SHUTOFF'

# Where the evacuations spend their time, inclusive, summed over servers.
# With CastAsCall every cast below runs before its caller returns, so each
# one nests in the one above it.
PHASES = (
    ('nova evacuate', 'nova.compute.api.API.evacuate'),
    ('conductor rebuild',
     'nova.conductor.manager.ComputeTaskManager.rebuild_instance'),
    ('scheduler', 'nova.scheduler.manager.SchedulerManager.'
                  'select_destinations'),
    ('compute rebuild', 'nova.compute.manager.ComputeManager.'
                        'rebuild_instance'),
    ('nova start', 'nova.compute.api.API.start'),
)

# Servers a POST /servers creates.
BOOT_BATCH = 5

# How long a measure may wait for the servers before it fails.
TIMEOUT = 300


def _ms(seconds):
    return seconds * 1000.0


def _host_variant(workers):
    return '%s (%d worker%s)' % (HOST, workers, '' if workers == 1 else 's')


class PhaseTimer(object):
    """Accumulate wall time per phase, over every thread, while on."""

    def __init__(self):
        self.lock = threading.Lock()
        self.on = False
        self.phases = collections.OrderedDict(
            (name, 0.0) for name, _path in PHASES)

    def wrap(self, phase, function):
        def timed(*args, **kwargs):
            if not self.on:
                return function(*args, **kwargs)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                with self.lock:
                    self.phases[phase] += time.perf_counter() - start
        return timed

    def start(self):
        for name in self.phases:
            self.phases[name] = 0.0
        self.on = True

    def stop(self):
        self.on = False
        return {name: _ms(t) for name, t in self.phases.items()}


class RecoveryBenchmark(cloud.EmbeddedNova):

    # 1000 VCPUs and 800 GB of RAM a host: every server fits on either.
    compute_driver = 'fake.FakeDriver'
    HOSTS = ('host1', 'host2')
    sizes = (10, 100)
    rounds = 1
    workers = (4,)
    results = None

    def setUp(self):
        super().setUp()
        self.timer = PhaseTimer()
        for name, path in PHASES:
            module, cls, attr = path.rsplit('.', 2)
            owner = getattr(importlib.import_module(module), cls)
            self.useFixture(fixtures.MonkeyPatch(
                path, self.timer.wrap(name, owner.__dict__[attr])))
        # Servers by uuid, with the status each is to come back in.
        self.servers = collections.OrderedDict()
        # The host the servers are on.
        self.home = self.HOSTS[0]

    def _other(self, host):
        return self.HOSTS[1 - self.HOSTS.index(host)]

    def _listing(self, host):
        """``{uuid: (status, task_state)}`` of the servers on ``host``."""
        servers = self.admin_api.api_get(
            '/servers/detail?all_tenants=1&host=%s&limit=1000' % host
        ).body['servers']
        return {s['id']: (s['status'], s['OS-EXT-STS:task_state'])
                for s in servers}

    def _all_on(self, host, statuses):
        """Whether every server reads its status on ``host``, no task."""
        listing = self._listing(host)
        return all(listing.get(uuid) == (status, None)
                   for uuid, status in statuses.items())

    def _until(self, predicate, what):
        deadline = time.monotonic() + TIMEOUT
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError('timed out waiting for %s' % what)
            time.sleep(0.001)

    def _boot(self, count):
        """Boot ``count`` servers on the home host, ACTIVE: their uuids.

        One POST /servers creates them all (min_count = max_count).
        """
        body = self._build_server(name='r%d' % len(self.servers),
                                  networks='none', host=self.home)
        body.update(min_count=count, max_count=count,
                    return_reservation_id=True)
        reservation = self.admin_api.post_server(
            {'server': body})['reservation_id']
        booted = []

        def all_booted():
            servers = self.admin_api.api_get(
                '/servers/detail?all_tenants=1&reservation_id=%s'
                '&limit=1000' % reservation).body['servers']
            booted[:] = [s['id'] for s in servers
                         if (s['status'], s['OS-EXT-STS:task_state']) == (
                             ACTIVE, None)]
            return len(booted) == count

        self._until(all_booted, 'the boot of %d servers' % count)
        return booted

    def _add_servers(self, size):
        """Boot servers on the home host up to ``size``, half stopped.

        The servers of a smaller size are kept. They boot BOOT_BATCH at a
        time: the more builds a compute has at once, the longer each takes
        (they wait on each other's database writes); 90 at once took more
        than 5 minutes here, 5 at a time half a second a server.
        """
        new = []
        while len(self.servers) + len(new) < size:
            new += self._boot(min(BOOT_BATCH,
                                  size - len(self.servers) - len(new)))
        stopped = sum(1 for s in self.servers.values() if s == SHUTOFF)
        to_stop = size // 2 - stopped
        for index, uuid in enumerate(sorted(new)):
            if index < to_stop:
                self.admin_api.post_server_action(uuid, {'os-stop': None})
                self.servers[uuid] = SHUTOFF
            else:
                self.servers[uuid] = ACTIVE
        self._until(lambda: self._all_on(self.home, self.servers),
                    'the servers to stop')

    def _host(self, failed, destination):
        body = self._evacuate_host(failed)['evacuate']
        api_done = time.perf_counter()
        results = collections.Counter(s['result'] for s in body['servers'])
        assert results == {'accepted': len(self.servers)}, body
        self._until(lambda: self._all_on(destination, self.servers),
                    'the host evacuation')
        return api_done

    def _stock(self, failed, destination):
        """Evacuate each server, then start each active one once rebuilt.

        Returns when the evacuations alone were done: the first look that
        finds every server rebuilt (on the destination, no task). Up to
        there this is what N stock evacuate calls alone take, the bare
        evacuations, whose end the starts do not move: the calls return
        with their rebuild done, casts running as calls, before the first
        look.
        """
        for uuid in self.servers:
            self.admin_api.post_server_action(uuid, {'evacuate': {}})
        to_start = [uuid for uuid, status in self.servers.items()
                    if status == ACTIVE]
        rebuilt_at = None
        deadline = time.monotonic() + TIMEOUT
        while rebuilt_at is None or to_start:
            if time.monotonic() > deadline:
                raise AssertionError('timed out waiting for the rebuilds')
            listing = self._listing(destination)
            if rebuilt_at is None and all(
                    listing.get(uuid, (None, 'not there'))[1] is None
                    for uuid in self.servers):
                rebuilt_at = time.perf_counter()
            rebuilt = [uuid for uuid in to_start
                       if listing.get(uuid) == (SHUTOFF, None)]
            for uuid in rebuilt:
                self.admin_api.post_server_action(uuid, {'os-start': None})
            to_start = [uuid for uuid in to_start if uuid not in rebuilt]
            if rebuilt_at is None or to_start:
                time.sleep(0.001)
        self._until(lambda: self._all_on(destination, self.servers),
                    'the stock evacuations and starts')
        return rebuilt_at

    def _measure(self, variant):
        """Report the home host down and recover its servers elsewhere."""
        failed = self.home
        destination = self._other(failed)
        if variant != STOCK:
            self.flags(evacuate_workers=self.workers[
                [_host_variant(w) for w in self.workers].index(variant)],
                group='hoststatus')
        start = time.perf_counter()
        self._report_host_down(failed)
        reported = time.perf_counter()
        self.timer.start()
        if variant == STOCK:
            api_done, rebuilt = None, self._stock(failed, destination)
        else:
            api_done, rebuilt = self._host(failed, destination), None
        restored = time.perf_counter()
        phases = self.timer.stop()
        self._repair(failed, destination)
        measure = {'report_ms': _ms(reported - start),
                   'total_ms': _ms(restored - reported), 'phases_ms': phases}
        if api_done:
            measure['api_ms'] = _ms(api_done - reported)
        if rebuilt:
            measure['bare_ms'] = _ms(rebuilt - reported)
        return measure

    def _repair(self, failed, destination):
        """Complete the evacuations and clear the report, for the next.

        The restart of the failed host's compute cleans the evacuated
        servers up there, as after a real repair.
        """
        self.computes[failed] = self.restart_compute_service(
            self.computes[failed])
        self._put_host(failed, {'host_down_reported': False})
        self.home = destination

    def _check_cost(self):
        """What one look at every server costs: each variant ends with one."""
        times = []
        for _ in range(5):
            start = time.perf_counter()
            self._all_on(self.home, self.servers)
            times.append(time.perf_counter() - start)
        return _ms(statistics.median(times))

    def run_benchmark(self):
        results = {'machine': {'python': platform.python_version(),
                               'platform': platform.platform(),
                               'cpus': os.cpu_count(),
                               'concurrency': 'eventlet' if
                               monkey_patch.MONKEY_PATCHED else
                               'native threads'},
                   'workers': list(self.workers), 'rounds': self.rounds,
                   'sizes': []}
        self.flags(service_down_time=3600)
        for option in ('instances', 'cores', 'ram'):
            self.flags(**{option: -1, 'group': 'quota'})
        variants = [_host_variant(w) for w in self.workers] + [STOCK]
        # The servers of a size are kept for the next, larger one.
        for size in sorted(self.sizes):
            start = time.perf_counter()
            self._add_servers(size)
            setup = time.perf_counter() - start
            _progress('N=%d: %d servers booted in %.0f s'
                      % (size, size, setup))
            measures = collections.OrderedDict((v, []) for v in variants)
            order = []
            for _ in range(self.rounds):
                for names in (variants, variants[::-1]):
                    for variant in names:
                        measure = self._measure(variant)
                        measures[variant].append(measure)
                        order.append(variant)
                        _progress('N=%d: %s %.1f s' % (
                            size, variant, measure['total_ms'] / 1000))
            results['sizes'].append({
                'n': size, 'active': sum(1 for s in self.servers.values()
                                         if s == ACTIVE),
                'setup_s': setup, 'check_ms': self._check_cost(),
                'order': order, 'variants': measures})
        type(self).results = results


def _progress(line):
    sys.stderr.write(line + '\n')
    sys.stderr.flush()


def _median(measures, key):
    return statistics.median(m[key] for m in measures)


def _ratio(numerators, denominators):
    """Median of the ratios of the measures of the same pass."""
    return statistics.median(n / d for n, d in zip(numerators, denominators))


def _summarize(results):
    host = _host_variant(results['workers'][0])
    for size in results['sizes']:
        variants = size['variants']
        hosts = [m['total_ms'] for m in variants[host]]
        stocks = [m['total_ms'] for m in variants[STOCK]]
        bares = [m['bare_ms'] for m in variants[STOCK]]
        size['summary'] = {
            'host_api_ms': _median(variants[host], 'api_ms'),
            'host_total_ms': statistics.median(hosts),
            'stock_total_ms': statistics.median(stocks),
            'bare_total_ms': statistics.median(bares),
            'stock_to_host': _ratio(stocks, hosts),
            'host_to_bare': _ratio(hosts, bares),
            'workers': {
                str(w): {
                    'api_ms': _median(variants[_host_variant(w)], 'api_ms'),
                    'total_ms': _median(variants[_host_variant(w)],
                                        'total_ms'),
                    'to_bare': _ratio([m['total_ms'] for m in
                                       variants[_host_variant(w)]], bares)}
                for w in results['workers']},
        }


def _print(results):
    table = prettytable.PrettyTable(
        ['N', '(a) host call API ms', '(a) host evacuate ms',
         '(b) stock evacuate + start ms', 'bare stock evacuate ms',
         '(b)/(a)', '(a)/bare'])
    for size in results['sizes']:
        s = size['summary']
        table.add_row([size['n'], '%.0f' % s['host_api_ms'],
                       '%.0f' % s['host_total_ms'],
                       '%.0f' % s['stock_total_ms'],
                       '%.0f' % s['bare_total_ms'],
                       '%.2fx' % s['stock_to_host'],
                       '%.2f' % s['host_to_bare']])
    print('Report answered to every server back in its pre-fault state, half '
          'active,\nhalf stopped (in-process stock Nova 34, evacuate_workers '
          '%d; medians of %d)' % (results['workers'][0],
                                  2 * results['rounds']))
    print(table)
    print('Bare: the stock evacuate calls alone, until every server is '
          'rebuilt: the\nfirst part of (b). Ratios: medians of those of '
          'the measures of a pass.')

    if len(results['workers']) > 1:
        table = prettytable.PrettyTable(
            ['N', 'evacuate_workers', 'host call API ms',
             'host evacuate ms', '/bare'])
        for size in results['sizes']:
            for workers, s in size['summary']['workers'].items():
                table.add_row([size['n'], workers, '%.0f' % s['api_ms'],
                               '%.0f' % s['total_ms'],
                               '%.2f' % s['to_bare']])
        print('\nHost evacuation by evacuate_workers')
        print(table)

    names = [name for name, _path in PHASES]
    table = prettytable.PrettyTable(
        ['N', 'variant', 'min-max ms', 'report ms'] + names)
    for size in results['sizes']:
        for variant, measures in size['variants'].items():
            totals = [m['total_ms'] for m in measures]
            table.add_row(
                [size['n'], variant,
                 '%.0f-%.0f' % (min(totals), max(totals)),
                 '%.0f' % _median(measures, 'report_ms')] +
                ['%.0f' % statistics.median(m['phases_ms'][name]
                                            for m in measures)
                 for name in names])
    print('\nWhere the time goes (ms, medians, inclusive, summed over the '
          'servers and\nthe workers). Nova evacuate holds the conductor '
          'rebuild, which holds the\nscheduler and the compute rebuild: '
          'casts run as calls here. Report ms: the\nreport itself, before '
          'the clock starts.')
    print(table)
    for size in results['sizes']:
        print('N=%d: setup (boot, stop) %.0f s; one look at every server '
              '%.0f ms' % (size['n'], size['setup_s'], size['check_ms']))
    print('\nMachine: %(platform)s, Python %(python)s, %(cpus)s CPUs, '
          'Nova in %(concurrency)s' % results['machine'])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=None,
                        help='servers on the failed host (10 100)')
    parser.add_argument('--rounds', type=int, default=None,
                        help='rounds, each every variant in one order then '
                             'the reverse (%d)' % RecoveryBenchmark.rounds)
    parser.add_argument('--workers', type=int, nargs='+', default=None,
                        help='[hoststatus] evacuate_workers of the host '
                             'evacuation, one variant each; the first is '
                             'compared (4)')
    args = parser.parse_args()
    if args.sizes:
        RecoveryBenchmark.sizes = tuple(args.sizes)
    if args.rounds:
        RecoveryBenchmark.rounds = args.rounds
    if args.workers:
        RecoveryBenchmark.workers = tuple(args.workers)
    # The services log into a fixture; what escapes it is noise here.
    logging.disable(logging.INFO)
    start = time.perf_counter()
    result = unittest.TestResult()
    RecoveryBenchmark('run_benchmark').run(result)
    for _case, trace in result.errors + result.failures:
        sys.stderr.write(trace)
    if not result.wasSuccessful():
        return 1
    results = RecoveryBenchmark.results
    results['wall_s'] = time.perf_counter() - start
    _summarize(results)
    _print(results)
    print('Wall time: %.0f s' % results['wall_s'])
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, 'recovery.json'), 'w') as out:
        json.dump(results, out, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
