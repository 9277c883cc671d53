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

"""The compute API calls of the nova-hoststatus commands.

Requests go through a keystoneauth Adapter on the session OSC built, to the
'compute' endpoint of its service catalog, with an explicit microversion:
OSC's own compute client (openstacksdk) knows nothing of the host API.
"""

from urllib import parse

from keystoneauth1 import adapter
from osc_lib import exceptions

# Stock os-hosts is gone from 2.43 on, so a nova-api that does not load
# nova-hoststatus answers 404 rather than running stock os-hosts update.
HOST_MICROVERSION = '2.43'
# The first microversion with host_status in server details.
SERVER_MICROVERSION = '2.16'

_ERRORS = {error.http_status: error for error in (
    exceptions.BadRequest, exceptions.Unauthorized, exceptions.Forbidden,
    exceptions.NotFound, exceptions.Conflict)}


def _fault_message(response):
    """The message of a Nova fault, or None for any other body.

    Nova's faults look like {"itemNotFound": {"message": ..., "code": 404}};
    a path that no route matches gets an HTML page instead.
    """
    try:
        fault = next(iter(response.json().values()))
        return fault['message']
    except (ValueError, AttributeError, TypeError, KeyError, StopIteration):
        return None


def _error(response):
    code = response.status_code
    message = _fault_message(response)
    if code in _ERRORS:
        return _ERRORS[code](code, message)
    return exceptions.ClientException(
        code, message or response.reason or 'Unexpected error')


class Client(object):
    """Host state and server host status, from the compute API."""

    def __init__(self, session, region_name=None, interface=None,
                 endpoint_override=None):
        self.api = adapter.Adapter(
            session, service_type='compute', region_name=region_name,
            interface=interface, endpoint_override=endpoint_override,
            raise_exc=False)

    def _request(self, method, url, microversion, **kwargs):
        response = self.api.request(url, method, microversion=microversion,
                                    **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        return response.json()

    def update_host(self, host, **values):
        """PUT /os-hosts/{host} with any of the update keys of the API."""
        body = self._request('PUT', '/os-hosts/%s' % parse.quote(host, ''),
                             HOST_MICROVERSION, json={'host': values})
        return body['host']

    def show_host(self, host):
        body = self._request('GET',
                             '/os-hosts/%s/state' % parse.quote(host, ''),
                             HOST_MICROVERSION)
        return body['host']

    def evacuate_host(self, host, destination=None, servers=None,
                      force=False):
        """POST /os-hosts/{host}/evacuate: all its servers, or ``servers``.

        :param destination: the host to rebuild them on; None lets the
            scheduler choose.
        :param force: evacuate a host that may still run its servers
            (contradicted, or not attested fenced) all the same.
        """
        evacuate = {}
        if destination is not None:
            evacuate['host'] = destination
        if servers is not None:
            evacuate['servers'] = list(servers)
        if force:
            # Sent only when asked: it needs a policy rule of its own.
            evacuate['force'] = True
        body = self._request('POST',
                             '/os-hosts/%s/evacuate' % parse.quote(host, ''),
                             HOST_MICROVERSION, json={'evacuate': evacuate})
        return body['evacuate']

    def show_server(self, server_id):
        body = self._request('GET', '/servers/%s' % parse.quote(server_id, ''),
                             SERVER_MICROVERSION)
        return body['server']

    def list_servers(self, host=None, all_projects=False):
        """Server details, all pages of them."""
        params = {}
        if host:
            params['host'] = host
        if all_projects:
            params['all_tenants'] = 'True'
        servers = []
        while True:
            body = self._request('GET', '/servers/detail',
                                 SERVER_MICROVERSION, params=dict(params))
            servers.extend(body['servers'])
            more = any(link.get('rel') == 'next'
                       for link in body.get('servers_links', ()))
            if not (more and body['servers']):
                return servers
            params['marker'] = body['servers'][-1]['id']
