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

"""Nova's database ServiceGroup driver, honouring forced_down itself."""

from oslo_log import log as logging

from nova.servicegroup.drivers import db

from nova_hoststatus.servicegroup.drivers import base

LOG = logging.getLogger(__name__)


class DbDriver(base.ForcedDownMixin, db.DbDriver):
    """A forced-down service is down, however fresh its heartbeat.

    While forced down the heartbeat is still written (report_count,
    updated_at and last_seen_up), for three reasons:

    * is_up ignores it then, so it cannot bring the service up;
    * a fresh updated_at in os-services is how an operator sees that a host
      reported failed still runs the service (its fencing failed);
    * when forced_down is unset, a running service is up at once, as with
      stock Nova, instead of after its next heartbeat.
    """

    def _report_state(self, service):
        was_forced_down = service.service_ref.forced_down
        super()._report_state(service)
        # Saving the heartbeat refreshed service_ref from the database, so
        # a change of forced_down is seen without a query of its own.
        forced_down = service.service_ref.forced_down
        if forced_down and not was_forced_down:
            base.warn_forced_down(service)
        elif was_forced_down and not forced_down:
            LOG.info('Service %(binary)s on host %(host)s is no longer '
                     'forced down; its heartbeats report it up again.',
                     {'binary': service.service_ref.binary,
                      'host': service.service_ref.host})
