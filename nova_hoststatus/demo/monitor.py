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

"""A sample fault monitor: probes nova-compute, reports a failed host.

It pings each nova-compute through Nova's own RPC bus with oslo.messaging's
health check (``[DEFAULT] rpc_ping_enabled = True`` in the computes), with a
short timeout: a probe that times out is a miss, ``misses`` misses in a row
make a host failed.

It sees nova-compute only: a host whose nova-compute died while its guests
run looks the same as a host that is off. It fences nothing, so its report
does not attest fencing. The demo's host is a fake-driver compute, whose
guests exist only inside its nova-compute: stopping that stops the whole
host. A real monitor must fence the host (power it off through its BMC, or
cut it from its storage and networks) before it reports it, and say so with
``"fenced": true``: see doc/source/user/when-the-monitor-is-wrong.rst.
"""

import time

import oslo_messaging as messaging
import oslo_messaging.opts  # noqa: F401  (messaging.opts)

from nova.compute import rpcapi as compute_rpcapi
from nova import rpc


def register_ping_option(conf):
    """Register oslo.messaging's ``rpc_ping_enabled`` on ``conf``.

    oslo.messaging registers it only when it builds an RPC server, which
    reads it then: set it before the computes start.
    """
    for group, opts in messaging.opts.list_opts():
        if group is None:
            conf.register_opts([opt for opt in opts
                                if opt.name == 'rpc_ping_enabled'])


class FaultMonitor(object):

    def __init__(self, context, interval=0.02, timeout=0.1, misses=2):
        self.context = context
        self.interval = interval
        self.timeout = timeout
        self.misses = misses

    def probe(self, host):
        """Whether nova-compute on ``host`` answers within the timeout."""
        # The ping endpoint answers at the default version, 1.0.
        client = rpc.get_client(messaging.Target(
            topic=compute_rpcapi.RPC_TOPIC, server=host))
        try:
            client.prepare(timeout=self.timeout).call(
                self.context, 'oslo_rpc_server_ping')
        except messaging.MessagingTimeout:
            return False
        return True

    def wait_for_failure(self, host, deadline=30):
        """Probe ``host`` until it misses ``misses`` probes in a row."""
        missed = 0
        stop = time.monotonic() + deadline
        while time.monotonic() < stop:
            missed = 0 if self.probe(host) else missed + 1
            if missed >= self.misses:
                return
            time.sleep(self.interval)
        raise RuntimeError('%s did not fail within %s s' % (host, deadline))
