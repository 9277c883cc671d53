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

"""A sample fault monitor: probe each compute host, report a dead one.

As the monitor of OPNFV Doctor pings compute hosts, this one probes the
nova-compute process of each host of the local cloud (all hosts share
this machine) every ``--interval`` seconds. After ``--misses`` failed
probes in a row it reports the host down with the one call of
nova-hoststatus::

    PUT /v2.1/os-hosts/{host}  {"host": {"host_down_reported": true}}

It does not attest fencing (no ``"fenced": true``): it sees a process
gone, it does not stop it. A monitor that powers the host off, or kills its
nova-compute itself, before reporting may attest it
(doc/source/user/when-the-monitor-is-wrong.rst).

It runs as a user with only the ``host_fault_monitor`` role (the local
cloud's policy.d grants it the rules of the fault monitor,
``nova_hoststatus:os-hosts:report-host-down`` among them; never
``nova_hoststatus:os-hosts:force``, admin only), authenticates once when it
starts and sends one warm-up request, so that a report costs one API call.
Events go to stdout as JSON lines with CLOCK_MONOTONIC times (the same clock
in every process of the machine)::

    python -m local_cloud.monitor STATE/cloud.json --host host1=PIDFILE ...
"""

import argparse
import json
import sys
import time

from local_cloud import common


def emit(event, **fields):
    fields.update(event=event, t=time.monotonic())
    print(json.dumps(fields), flush=True)


def alive(pid):
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            # "pid (comm) state ...": comm may hold spaces or parentheses.
            state = f.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ('Z', 'X')


def read_pid(path):
    with open(path) as f:
        return int(f.read().strip())


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('cloud', help='cloud.json of the local cloud')
    parser.add_argument('--host', action='append', required=True,
                        metavar='HOST=PIDFILE',
                        help='a compute host and the pid file of its '
                             'nova-compute; repeat for each host')
    parser.add_argument('--interval', type=float, default=0.05,
                        help='seconds between probes (%(default)s)')
    parser.add_argument('--misses', type=int, default=2,
                        help='failed probes in a row that make a host '
                             'down (%(default)s)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    cloud = common.load(args.cloud)
    api = common.compute(common.session(cloud, 'monitor'), cloud)
    # Token and catalog now, and nova-api caches the token's validation.
    api.get('/flavors')
    hosts = {}
    for spec in args.host:
        host, pidfile = spec.split('=', 1)
        hosts[host] = read_pid(pidfile)
    misses = dict.fromkeys(hosts, 0)
    reported = set()
    emit('ready', hosts=hosts)
    while True:
        for host, pid in hosts.items():
            if alive(pid):
                misses[host] = 0
                reported.discard(host)
                continue
            misses[host] += 1
            if misses[host] != args.misses or host in reported:
                continue
            emit('detected', host=host, misses=misses[host],
                 interval=args.interval)
            response = api.put('/os-hosts/%s' % host,
                               json={'host': {'host_down_reported': True}},
                               raise_exc=False)
            body = response.json() if response.content else None
            emit('reported', host=host, status=response.status_code,
                 body=body)
            reported.add(host)
        time.sleep(args.interval)


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
