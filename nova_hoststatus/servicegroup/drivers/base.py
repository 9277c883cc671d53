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

"""What both drivers add to Nova's: forced_down wins over any heartbeat."""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class ForcedDownMixin(object):
    """Put before a Nova driver class in the bases of a subclass.

    Heartbeats are still recorded while a service is forced down (see the
    drivers for why); they cannot make it look up because :meth:`is_up`
    answers from ``forced_down`` before it looks at any heartbeat.
    """

    # Whether this process has logged the driver it runs; nova-api creates
    # one per API controller, so once per process is enough.
    _announced = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not ForcedDownMixin._announced:
            ForcedDownMixin._announced = True
            # install() runs before logging is set up: tell operators here
            # which driver the process really runs.
            LOG.info('ServiceGroup driver %s.%s in use: forced-down '
                     'services are reported down by the driver.',
                     type(self).__module__, type(self).__name__)

    def is_up(self, service_ref):
        # No logging: the scheduler calls this for every host.
        if service_ref.get('forced_down'):
            return False
        return super().is_up(service_ref)

    def join(self, member, group, service=None):
        super().join(member, group, service)
        # A service restarted on a host still reported down stays down,
        # however it heartbeats: say so where its operator looks.
        if service.service_ref.forced_down:
            warn_forced_down(service)


def warn_forced_down(service):
    LOG.warning('Service %(binary)s on host %(host)s is forced down but '
                'running. It is reported down until forced_down is unset. '
                'If its host was reported failed, check that the host is '
                'really fenced.',
                {'binary': service.service_ref.binary,
                 'host': service.service_ref.host})
