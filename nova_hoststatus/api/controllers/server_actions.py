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

"""Server actions that need the host, while it is reported down: 409.

Stock Nova accepts an owner's start, reboot, rebuild, shelve, snapshot...
of a server whose host is reported down (forced down), and casts it to
the dead host's nova-compute: the server stays in its task
(``powering-on``...), which host evacuation then skips. So while its host
is reported down, a server takes only what does not need that host:
delete, evacuate, reset-state, lock, security groups, and stock's other
API-only actions. The others are answered 409, by this route, before stock
sees them; every other request of the path is stock's, unchanged.

Only a caller that may see the server (stock's ``servers:show`` rule) is
told why, without the host's name; anyone else gets stock's answer.
"""

from oslo_log import log as logging
from oslo_serialization import jsonutils
import webob.exc

from nova.api.openstack import wsgi
from nova.policies import servers as servers_policies

from nova_hoststatus import host_state

LOG = logging.getLogger(__name__)

# Where the route's claim leaves why it refuses, for the controller.
REFUSAL = 'nova_hoststatus.refusal'

# The server actions (the key of the POST /servers/{id}/action body) that
# the server's nova-compute carries out.
NEED_THE_HOST = frozenset([
    'os-start', 'os-stop', 'reboot', 'rebuild', 'resize', 'confirmResize',
    'revertResize', 'createImage', 'createBackup', 'shelve', 'shelveOffload',
    'rescue', 'unrescue', 'pause', 'unpause', 'suspend', 'resume', 'migrate',
    'os-migrateLive', 'changePassword', 'trigger_crash_dump',
    'os-getConsoleOutput', 'os-getVNCConsole', 'os-getSPICEConsole',
    'os-getSerialConsole', 'os-getRDPConsole', 'injectNetworkInfo',
    'resetNetwork', 'addFixedIp', 'removeFixedIp'])


def _action(req):
    try:
        body = jsonutils.loads(req.body)
    except (ValueError, TypeError, RecursionError):
        return None
    if isinstance(body, dict) and len(body) == 1:
        return next(iter(body))
    return None


def _host_reported_down(req):
    """Whether to refuse the action: its server's host is reported down."""
    action = _action(req)
    if action not in NEED_THE_HOST:
        return False
    context = req.environ['nova.context']
    server_id = req.environ['wsgiorg.routing_args'][1]['id']
    try:
        found = host_state.server_on_reported_host(context, server_id)
        if found is None:
            return False
        instance, host = found
        if not context.can(servers_policies.SERVERS % 'show',
                           target={'project_id': instance.project_id},
                           fatal=False):
            return False
    except Exception:
        # Stock answers it as it always did.
        LOG.exception('Cannot tell whether the host of server %s is '
                      'reported down.', server_id)
        return False
    # No host name: owners are shown none (only a hashed hostId).
    req.environ[REFUSAL] = (
        "Cannot '%(action)s' server %(server)s while its compute host is "
        "reported down: the host's nova-compute does not run. The server "
        "can be deleted, or evacuated by an administrator; retry once its "
        "host is recovered." % {'action': action, 'server': server_id})
    LOG.info("Refused '%(action)s': the host %(host)s is reported down.",
             {'action': action, 'host': host}, instance=instance)
    return True


class ServerActionRefusal(wsgi.Controller):
    """Answers the server actions its route claims: 409, and why."""

    @wsgi.expected_errors(409)
    def refuse(self, req, id, body):
        raise webob.exc.HTTPConflict(explanation=req.environ[REFUSAL])


def _controller():
    return wsgi.Resource(ServerActionRefusal())


ROUTES = (
    ('/servers/{id}/action', {
        'POST': [_controller, 'refuse', _host_reported_down],
    }),
)
