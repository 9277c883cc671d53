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

Through Masakari's own Nova client (its privileged user, CA and region) and
its translation of Nova's errors into Masakari exceptions. Its client asks
for microversion 2.53; the package's routes answer at every microversion.
"""

from urllib import parse

from masakari.compute import nova


def _host_url(host, *path):
    return '/'.join(('/os-hosts', parse.quote(host, '')) + path)


class API(nova.API):
    """Masakari's Nova API, and the host fault report and recovery."""

    @nova.translate_nova_exception
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
    def evacuate_host(self, context, host, servers):
        """Evacuate ``servers`` of the reported host; return each result."""
        _resp, body = nova.novaclient(context).client.post(
            _host_url(host, 'evacuate'),
            body={'evacuate': {'servers': list(servers)}})
        return body['evacuate']['servers']

    @nova.translate_nova_exception
    def host_recovery(self, context, host):
        """``{server id: its recovery entry}`` of the reported host."""
        _resp, body = nova.novaclient(context).client.get(
            _host_url(host, 'state'))
        return {server['id']: server
                for server in body['host'].get('recovery') or ()}
