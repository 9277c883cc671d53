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

"""Real Nova services with nova-hoststatus loaded from its api-paste.ini.

See nova_hoststatus.demo.cloud.EmbeddedNova.
"""

from urllib import parse

import wsgi_intercept
from wsgi_intercept import interceptor

from nova import context as nova_context

from nova_hoststatus.demo import cloud

OTHER_PROJECT_ID = cloud.OTHER_PROJECT_ID


class HostStatusTestBase(cloud.EmbeddedNova):
    """Two computes, host1 and host2, and clients for every persona."""

    def _let_owners_see(self, host_status='rule:project_reader_or_admin',
                        unknown_only=None):
        """Set Nova's host_status rules, as the NFV owner sample does.

        host_status.update tells an owner only what these rules let it see
        of its server (admins only by default: nothing).
        """
        rules = {'os_compute_api:servers:show:host_status': host_status}
        if unknown_only is not None:
            rules['os_compute_api:servers:show:host_status:unknown-only'] = (
                unknown_only)
        self.policy.set_rules(rules, overwrite=False)

    @staticmethod
    def _stock_app():
        """Stock Nova's API, loaded from stock's own api-paste.ini."""
        return cloud.load_api(cloud.stock_paste_config())

    def _start_stock_api(self):
        """Stock Nova's API beside the package's, on the same services.

        So that a test can send one request to both and compare the
        answers. Returns its base URL.
        """
        app = self._stock_app()
        base_url = parse.urlsplit(self.api_fixture.base_url)
        stock_url = base_url._replace(netloc='stock-nova:80')
        intercept = interceptor.RequestsInterceptor(
            lambda: app, url='http://stock-nova:80/')
        intercept.install_intercept()
        self.addCleanup(intercept.uninstall_intercept)
        return parse.urlunsplit(stock_url)

    def _serve_stock_api_instead(self):
        """From now on the API's own URL answers with stock Nova's API.

        For clients that keep an endpoint per process (openstacksdk).
        """
        app = self._stock_app()
        base_url = parse.urlsplit(self.api_fixture.base_url)
        wsgi_intercept.add_wsgi_intercept(base_url.hostname, base_url.port,
                                          lambda: app)


count_sql_statements = cloud.count_sql_statements


def cell_context(test, cell_name='cell1'):
    return nova_context.target_cell(nova_context.get_admin_context(),
                                    test.cell_mappings[cell_name])
