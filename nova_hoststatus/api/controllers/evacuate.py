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

"""POST /os-hosts/{host_name}/evacuate: recover a reported host's servers.

A route of its own (stock Nova has no such path), at every microversion.
"""

from oslo_utils import strutils

from nova.api.openstack import wsgi
from nova.api import validation
from nova import exception as nova_exception
from nova.policies import evacuate as evacuate_policies

from nova_hoststatus.api.controllers import hosts
from nova_hoststatus.api.schemas import evacuate as schema
from nova_hoststatus import compat
from nova_hoststatus import exception
from nova_hoststatus import policies
from nova_hoststatus.policies import hosts as hosts_policies
from nova_hoststatus.recovery import api as recovery_api


def _view(host, destination, evacuations):
    return {'evacuate': {
        'host': host,
        'destination': destination,
        'servers': [
            {'id': evacuation.uuid, 'project_id': evacuation.project_id,
             'result': 'skipped' if evacuation.reason else 'accepted',
             'pre_fault': evacuation.pre_fault._asdict(),
             'restored_vm_state': evacuation.restored_vm_state,
             'migration_id': evacuation.migration_uuid,
             'reason': evacuation.reason,
             'message': evacuation.message}
            for evacuation in evacuations]}}


@compat.validated
class HostEvacuateController(wsgi.Controller):
    """Evacuate every server of a reported host, or a subset."""

    def __init__(self):
        super().__init__()
        self.recovery_api = recovery_api.API()

    @wsgi.response(202)
    @wsgi.expected_errors((400, 404, 409, 503))
    @validation.schema(schema.evacuate)
    @validation.response_body_schema(schema.evacuate_response)
    def evacuate(self, req, id, body):
        context = req.environ['nova.context']
        policies.register_rules()
        context.can(hosts_policies.EVACUATE, target={})
        # Nova's own evacuate rule too: a deployer who restricted it must
        # not find evacuation reopened here. It evacuates servers of any
        # project, so with no server as target.
        context.can(evacuate_policies.BASE_POLICY_NAME, target={})
        force = body['evacuate'].get('force')
        force = force is not None and strutils.bool_from_string(
            force, strict=True)
        if force:
            context.can(hosts_policies.FORCE, target={})
        destination = body['evacuate'].get('host')
        try:
            evacuations = self.recovery_api.evacuate(
                context, id, destination=destination,
                servers=body['evacuate'].get('servers'), force=force)
        except (nova_exception.Invalid, nova_exception.NotFound,
                exception.HostConflict, exception.CellUnavailable) as exc:
            raise hosts.http_error(exc)
        return _view(id, destination, evacuations)


def _controller():
    return wsgi.Resource(HostEvacuateController())


ROUTES = (
    ('/os-hosts/{id}/evacuate', {
        'POST': [_controller, 'evacuate'],
    }),
)
