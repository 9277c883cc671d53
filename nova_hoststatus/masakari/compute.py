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

"""The host API of nova-hoststatus, as Masakari calls Nova.

Through Masakari's own Nova client (its privileged user, CA and region).
Nova's error answers are raised as :class:`HostAPIError`, with their HTTP
status and Nova's message: Masakari's own translation keeps neither for
404 and 409 and does not know 503. Timeouts and connection errors are still
translated by Masakari. Its client asks for microversion 2.53; the
package's routes answer at every microversion.
"""

import functools
from urllib import parse

from keystoneauth1 import exceptions as keystone_exceptions
from novaclient import exceptions as nova_exceptions
from requests import exceptions as request_exceptions

from masakari.compute import nova
from masakari import exception

# What an operator checks first, by the status of Nova's answer.
_HINTS = {
    404: "the host is unknown to Nova, or nova-api does not run "
         "nova-hoststatus",
    409: "the host is not reported down, or its nova-compute service is up",
    503: "a database Nova needs for this host cannot be reached",
}


class HostAPIError(exception.MasakariException):
    """Nova refused a request of the host API; ``code`` is its status."""

    msg_fmt = "%(message)s"

    def __init__(self, method, url, code, nova_message):
        self.code = code
        self.nova_message = nova_message
        hint = _HINTS.get(code)
        message = "Nova answered %s to %s %s: %s" % (
            code, method, url, nova_message)
        if hint:
            message += " (%s)" % hint
        super().__init__(message=message)


class NovaUnreachable(exception.MasakariException):
    """No answer from Nova: a timeout, Keystone or Nova unreachable."""

    msg_fmt = "%(message)s"


def _host_url(host, *path):
    return '/'.join(('/os-hosts', parse.quote(host, '')) + path)


def _nova_refusals(method):
    """Nova's refusals (its HTTP errors) raised as HostAPIError.

    And no answer as NovaUnreachable, with why.
    """
    @functools.wraps(method)
    def wrapper(self, context, host, *args, **kwargs):
        try:
            return method(self, context, host, *args, **kwargs)
        except nova_exceptions.ClientException as exc:
            raise HostAPIError(getattr(exc, 'method', None) or '',
                               getattr(exc, 'url', None) or '', exc.code,
                               getattr(exc, 'message', None) or str(exc))
        except (keystone_exceptions.ClientException,
                request_exceptions.RequestException,
                nova_exceptions.CommandError) as exc:
            # Masakari's translation keeps neither the message nor the
            # host.
            raise NovaUnreachable(message="Nova could not be reached for "
                                  "host %s: %s" % (host, exc))
    return wrapper


class API(nova.API):
    """Masakari's Nova API, and the host fault report and recovery."""

    @nova.translate_nova_exception
    @_nova_refusals
    def report_host_down(self, context, host, reason):
        """Report the host down and disable it; return the host's answer.

        Its servers are stopped and its service forced down at once.
        Masakari's hostmonitor notifies only after Pacemaker's STONITH
        fenced the host: the report attests it.
        """
        _resp, body = nova.novaclient(context).client.put(
            _host_url(host), body={'host': {
                'host_down_reported': True, 'fenced': True,
                'status': 'disable', 'reason': reason}})
        return body['host']

    @nova.translate_nova_exception
    @_nova_refusals
    def evacuate_host(self, context, host, servers, destination=None):
        """Evacuate ``servers`` of the reported host; return each result.

        :param destination: the host to rebuild them on; None lets Nova's
            scheduler choose.
        """
        evacuate = {'servers': list(servers)}
        if destination is not None:
            evacuate['host'] = destination
        _resp, body = nova.novaclient(context).client.post(
            _host_url(host, 'evacuate'), body={'evacuate': evacuate})
        return body['evacuate']['servers']

    @nova.translate_nova_exception
    @_nova_refusals
    def host_recovery(self, context, host):
        """``{server id: its recovery entry}`` of the reported host."""
        _resp, body = nova.novaclient(context).client.get(
            _host_url(host, 'state'))
        return {server['id']: server
                for server in body['host'].get('recovery') or ()}
