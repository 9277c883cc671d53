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

"""PUT /os-hosts/{host_name} and GET /os-hosts/{host_name}/state.

The PUT route shares its path with stock os-hosts update (a hypervisor call
below 2.43, gone at 2.43). The two are told apart by the body: the seed's
``{"host": {...}}`` is this package's at every microversion; anything else
(stock's flat ``{"status": ...}`` among it) is stock's request and gets
stock's answer. Reading moved to a sub-resource so that stock
GET /os-hosts/{host_name} keeps its meaning.
"""

from oslo_serialization import jsonutils
from oslo_utils import strutils
from oslo_utils import timeutils
import webob.exc

from nova.api.openstack import wsgi
from nova.api import validation
from nova import exception as nova_exception

from nova_hoststatus.api.schemas import hosts as schema
from nova_hoststatus import compat
from nova_hoststatus import exception
from nova_hoststatus import hostfault
from nova_hoststatus import policies
from nova_hoststatus.policies import hosts as hosts_policies
from nova_hoststatus.recovery import api as recovery_api


def _enabled(value):
    return None if value is None else value.lower() == 'enable'


def _bool(update, key):
    value = update.get(key)
    if value is None:
        return None
    return strutils.bool_from_string(value, strict=True)


def _isotime(value):
    return value and timeutils.normalize_time(value).isoformat() + 'Z'


def _view(state):
    host = {
        'host': state.host,
        'status': 'disabled' if state.disabled else 'enabled',
        'state': 'up' if state.is_up else 'down',
        'disabled_reason': state.disabled_reason,
        'maintenance_mode': 'enabled' if state.maintenance else 'disabled',
        'host_down_reported': state.forced_down,
    }
    if state.fault is not None:
        host['reported_at'] = _isotime(state.fault.reported_at)
        host['fenced'] = bool(state.fault.fenced)
        host['contradicted'] = state.contradicted_at is not None
        host['contradicted_at'] = _isotime(state.contradicted_at)
    if state.restored is not None:
        host['instances_restored'] = [
            {'id': uuid, 'project_id': project_id,
             'pre_fault_vm_state': vm_state,
             'result': 'skipped' if error else 'started',
             'message': error}
            for uuid, project_id, vm_state, error in state.restored]
    if state.recovery is not None:
        host['recovery'] = [
            {'id': server.uuid, 'project_id': server.project_id,
             'host': server.host, 'vm_state': server.vm_state,
             'task_state': server.task_state,
             'pre_fault': server.pre_fault._asdict(),
             'restored_vm_state': server.restored_vm_state,
             'status': server.status}
            for server in state.recovery]
    if state.changed is not None:
        host['instances_changed'] = [
            {'id': change.uuid, 'project_id': change.project_id,
             'old_vm_state': change.old_vm_state,
             'old_task_state': change.old_task_state,
             'old_power_state': change.old_power_state}
            for change in state.changed]
        host['instances_skipped'] = [
            {'id': skip.uuid, 'project_id': skip.project_id,
             'vm_state': skip.vm_state, 'task_state': skip.task_state,
             'reason': skip.reason}
            for skip in state.skipped]
    return {'host': host}


def http_error(exc):
    """The HTTP error of a service-layer exception, by its code."""
    error = webob.exc.status_map.get(exc.code,
                                     webob.exc.HTTPInternalServerError)
    return error(explanation=exc.format_message())


@compat.validated
class HostStatusController(wsgi.Controller):
    """Host state: enable/disable, maintenance, host down reports."""

    def __init__(self):
        super().__init__()
        self.host_fault_api = hostfault.API()
        self.recovery_api = recovery_api.API()

    @wsgi.expected_errors((404, 503))
    @validation.query_schema(schema.show_query)
    @validation.response_body_schema(schema.show_response)
    def show(self, req, id):
        context = req.environ['nova.context']
        policies.register_rules()
        context.can(hosts_policies.SHOW, target={})
        try:
            return _view(self.recovery_api.show(context, id))
        except (exception.HostNotFound, exception.CellUnavailable) as exc:
            raise http_error(exc)

    @wsgi.expected_errors((400, 404, 409, 503))
    @validation.schema(schema.update)
    @validation.response_body_schema(schema.update_response)
    def update(self, req, id, body):
        context = req.environ['nova.context']
        update = body['host']
        if update.keys() == {'reason'}:
            raise webob.exc.HTTPBadRequest(
                explanation="'reason' needs 'host_down_reported', 'status' "
                            "or 'maintenance_mode'.")
        policies.register_rules()
        if 'status' in update or 'maintenance_mode' in update:
            context.can(hosts_policies.UPDATE, target={})
        if 'host_down_reported' in update:
            context.can(hosts_policies.REPORT_HOST_DOWN, target={})
        host_down_reported = _bool(update, 'host_down_reported')
        force, fenced, restore = (_bool(update, key)
                                  for key in ('force', 'fenced', 'restore'))
        if (force is not None or fenced is not None) and \
                host_down_reported is not True:
            raise webob.exc.HTTPBadRequest(
                explanation="'force' and 'fenced' go with "
                            "'host_down_reported': true only.")
        if restore is not None and host_down_reported is not False:
            raise webob.exc.HTTPBadRequest(
                explanation="'restore' goes with 'host_down_reported': "
                            "false only.")
        if force:
            context.can(hosts_policies.FORCE, target={})
        try:
            state = self.host_fault_api.update(
                context, id,
                host_down_reported=host_down_reported,
                enabled=_enabled(update.get('status')),
                maintenance=_enabled(update.get('maintenance_mode')),
                reason=update.get('reason'), force=bool(force),
                fenced=bool(fenced), restore=bool(restore))
        except (nova_exception.Invalid, nova_exception.NotFound,
                exception.HostConflict, exception.CellUnavailable) as exc:
            raise http_error(exc)
        return _view(state)


def _controller():
    return wsgi.Resource(HostStatusController())


def _wrapped_in_host(req):
    """Whether the body is the seed's ``{"host": ...}``, not stock's.

    Told by its shape alone: bytes that are not UTF-8 inside that shape are
    still this API's to refuse. What cannot be parsed is stock's to answer.
    """
    try:
        body = jsonutils.loads(req.body.decode('utf-8', 'replace'))
    except (ValueError, RecursionError):
        return False
    return isinstance(body, dict) and 'host' in body


ROUTES = (
    ('/os-hosts/{id}', {
        'PUT': [_controller, 'update', _wrapped_in_host],
    }),
    ('/os-hosts/{id}/state', {
        'GET': [_controller, 'show'],
    }),
)
