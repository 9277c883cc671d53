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

"""Stock PUT /os-services/{id}: owners told when it changed host_status.

Stock Nova enables, disables and forces down compute services through
``PUT /os-services/{service_id}`` (2.53 on) and ``PUT /os-services/enable``,
``/disable``, ``/disable-log-reason``, ``/force-down`` (before 2.53, the
service named by ``host`` and ``binary`` in the body). Stock answers them
as it always has; this observer reads the compute service before and after,
and when its host_status changed, queues host_status.update for the servers
on its host (the change is committed once stock answered).
"""

import collections

from oslo_serialization import jsonutils
from oslo_utils import uuidutils

from nova.compute import api as compute_api
from nova import exception as nova_exception
from nova import objects
from nova.policies import services as services_policies
from nova import servicegroup

from nova_hoststatus.api import router
from nova_hoststatus.notifications import host_status

COMPUTE = 'nova-compute'

Seen = collections.namedtuple('Seen', ['context', 'service', 'host_status'])


def _lookup(req):
    """How the request names its service: Nova's _find_service_in_cell args.

    None when it names no compute service.
    """
    service_id = req.environ['wsgiorg.routing_args'][1]['id']
    if uuidutils.is_uuid_like(service_id):
        return {'service_id': service_id}
    try:
        body = jsonutils.loads(req.body)
    except (ValueError, TypeError, RecursionError):
        return None
    if (isinstance(body, dict) and body.get('binary') == COMPUTE and
            isinstance(body.get('host'), str)):
        return {'service_host': body['host']}
    return None


class ServicesObserver(router.StockObserver):

    def __init__(self):
        self.servicegroup_api = servicegroup.API()

    def before(self, req):
        lookup = _lookup(req)
        if lookup is None:
            return None
        context = req.environ['nova.context']
        # Stock refuses the others before it reads anything: so does this.
        if not context.can(services_policies.BASE_POLICY_NAME % 'update',
                           target={}, fatal=False):
            return None
        # Reading the service is this observer's business; stock decides
        # what the caller may change.
        context = context.elevated()
        try:
            # Targets the context at the service's cell, for after().
            service = compute_api._find_service_in_cell(context, **lookup)
        except (nova_exception.NotFound, nova_exception.ServiceNotUnique):
            return None
        if service.binary != COMPUTE:
            return None
        return Seen(context, service,
                    host_status.of(service, self.servicegroup_api))

    def after(self, req, response, seen):
        if seen is None or response.status_int != 200:
            return
        service = objects.Service.get_by_id(seen.context, seen.service.id)
        reason = None
        if service.disabled and not seen.service.disabled:
            reason = service.disabled_reason
        host_status.changed(seen.context, service.host, seen.host_status,
                            host_status.of(service, self.servicegroup_api),
                            reason)


ROUTES = (
    ('/os-services/{id}', {
        'PUT': [ServicesObserver, router.OBSERVE],
    }),
)
