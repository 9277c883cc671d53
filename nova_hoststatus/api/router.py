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

"""The paste app factory: stock Nova's API router plus extension routes.

Deployers point ``[app:osapi_compute_app_v21]`` of api-paste.ini at
``nova_hoststatus.api.router:APIRouterV21.factory``. Controllers registered
in the ``nova_hoststatus.api.extensions`` entry-point namespace are routed
first; every request they do not claim goes to stock Nova's router untouched,
so it gets stock's answer byte for byte. An extension may also observe stock
requests: it looks at each before and after stock answers it, and never
changes the answer.
"""

from oslo_log import log as logging
import stevedore
import webob.dec

from nova.api import openstack as nova_openstack
from nova.api.openstack.compute import routes as nova_routes
from nova.api import wsgi as nova_wsgi

LOG = logging.getLogger(__name__)

EXTENSION_NAMESPACE = 'nova_hoststatus.api.extensions'

# The action of a route whose "controller" observes stock's requests.
OBSERVE = 'observe'


def _raise_load_failure(manager, entrypoint, exc):
    raise exc


def load_extension_routes():
    """Return the routes of every installed extension, ordered by name.

    Each entry point names a tuple in the format of nova's ``ROUTE_LIST``:
    ``(path, {method: [controller_factory, action]})``. A route that shares
    its path and method with a stock route adds a third item,
    ``claims(request) -> bool``: the requests it returns False for are
    stock's. A route whose action is :data:`OBSERVE` leaves every request
    to stock; its factory makes a :class:`StockObserver`.
    """
    manager = stevedore.ExtensionManager(
        EXTENSION_NAMESPACE,
        on_load_failure_callback=_raise_load_failure)
    routes = []
    for extension in sorted(manager, key=lambda ext: ext.name):
        LOG.info('Loaded API extension %s', extension.name)
        routes.extend(extension.plugin)
    return tuple(routes)


class StockObserver(object):
    """Sees stock requests of a route; never changes their answer."""

    def before(self, req):
        """Called before stock handles ``req``; returns what after gets."""
        raise NotImplementedError()

    def after(self, req, response, before):
        """Called once stock answered ``req`` with ``response``."""
        raise NotImplementedError()


class _Observed(object):
    """Stock's answer, with a StockObserver looking on.

    What the observer does is never the client's business: a failure of it
    is logged, and the answer is stock's all the same.
    """

    def __init__(self, observer, stock_app):
        self.observer = observer
        self.stock_app = stock_app

    @webob.dec.wsgify(RequestClass=nova_wsgi.Request)
    def __call__(self, req):
        try:
            before = self.observer.before(req)
        except Exception:
            LOG.exception('%s failed before %s %s', self.observer,
                          req.method, req.path)
            return self.stock_app
        response = req.get_response(self.stock_app)
        try:
            self.observer.after(req, response, before)
        except Exception:
            LOG.exception('%s failed after %s %s', self.observer,
                          req.method, req.path)
        return response


class APIRouterV21(nova_wsgi.Router):
    """Routes extension requests, hands all others to stock Nova's router.

    Nova's own router only appends custom routes after its ROUTE_LIST, where
    a stock route on the same path (PUT /os-hosts/{id}) would win. Matching
    extension routes in a mapper of their own first gives them precedence
    without touching how stock routes are built or matched.
    """

    def __init__(self, extension_routes=None):
        if extension_routes is None:
            extension_routes = load_extension_routes()
        self.stock_router = nova_routes.APIRouterV21()
        mapper = nova_openstack.ProjectMapper()
        # (controller, action) -> claims, for routes shared with stock.
        self.claims = {}
        for path, methods in extension_routes:
            for method, (controller_factory, action, *claims) in \
                    methods.items():
                controller = controller_factory()
                if action == OBSERVE:
                    controller = _Observed(controller, self.stock_router)
                mapper.create_route(path, method, controller, action)
                if claims:
                    self.claims[controller, action] = claims[0]
        super().__init__(mapper)

    @webob.dec.wsgify(RequestClass=nova_wsgi.Request)
    def _dispatch(self, req):
        match = req.environ['wsgiorg.routing_args'][1]
        if not match:
            return self.stock_router
        claims = self.claims.get((match['controller'], match['action']))
        if claims is not None and not claims(req):
            return self.stock_router
        return match['controller']

    @classmethod
    def factory(cls, global_config, **local_config):
        return cls()
