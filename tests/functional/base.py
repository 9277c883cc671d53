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

nova's own functional fixtures run the API (through wsgi-intercept),
conductor, scheduler, placement and computes with the fake virt driver; the
only change is the paste file the API is loaded from.
"""

import contextlib
import os
import threading

from oslo_utils.fixture import uuidsentinel
import sqlalchemy as sa

from nova import context as nova_context
from nova.tests.functional.api import client
from nova.tests.functional import integrated_helpers

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
PASTE_INI = os.path.join(REPO_ROOT, 'etc', 'nova-hoststatus', 'api-paste.ini')

OTHER_PROJECT_ID = uuidsentinel.other_project.replace('-', '')


class HostStatusTestBase(integrated_helpers._IntegratedTestBase):
    """Two computes, host1 and host2, and clients for every persona."""

    ADMIN_API = True
    microversion = 'latest'
    compute_driver = 'fake.MediumFakeDriver'
    HOSTS = ('host1', 'host2')

    def setUp(self):
        self.flags(compute_driver=self.compute_driver)
        super().setUp()

    def _setup_services(self):
        self.flags(api_paste_config=PASTE_INI, group='wsgi')
        super()._setup_services()
        base_url = self.api_fixture.base_url
        # An admin and a member of a second project, owning servers too.
        self.other_admin_api = client.TestOpenStackClient(
            'other-admin', base_url, project_id=OTHER_PROJECT_ID,
            roles=['reader', 'member', 'admin'])
        self.other_member_api = client.TestOpenStackClient(
            'other-member', base_url, project_id=OTHER_PROJECT_ID,
            roles=['reader', 'member'])
        self.member_api = self.api_fixture.api
        self.reader_api = self.api_fixture.reader_api
        for api in (self.other_admin_api, self.other_member_api,
                    self.member_api, self.reader_api):
            api.microversion = self.microversion

    def _setup_compute_service(self):
        for host in self.HOSTS:
            self._start_compute(host)

    # REST helpers

    def _put_host(self, host, body, api=None, status=200):
        api = api or self.admin_api
        response = api.api_put('/os-hosts/%s' % host, {'host': body},
                               check_response_status=[status])
        return response.body

    def _report_host_down(self, host, api=None, status=200):
        body = self._put_host(host, {'host_down_reported': True}, api,
                              status)
        return body['host'] if status == 200 else body

    def _get_host_state(self, host, api=None, status=200):
        api = api or self.admin_api
        response = api.api_get('/os-hosts/%s/state' % host,
                               check_response_status=[status])
        return response.body

    def _compute_service(self, host):
        return self.admin_api.get_services(binary='nova-compute',
                                           host=host)[0]

    def _boot(self, host, name=None, api=None):
        api = api or self.admin_api
        body = self._build_server(name=name, networks='none', host=host)
        server = api.post_server({'server': body})
        return self._wait_for_state_change(server, 'ACTIVE')


@contextlib.contextmanager
def count_sql_statements():
    """Count SQL statements this thread executes, on every engine.

    Yields a list that holds the statements when the block exits. Other
    threads (service heartbeats, periodic tasks) are not counted.
    """
    statements = []
    me = threading.get_ident()

    def before_cursor_execute(conn, cursor, statement, *args):
        if threading.get_ident() == me:
            statements.append(statement)

    sa.event.listen(sa.engine.Engine, 'before_cursor_execute',
                    before_cursor_execute)
    try:
        yield statements
    finally:
        sa.event.remove(sa.engine.Engine, 'before_cursor_execute',
                        before_cursor_execute)


def cell_context(test, cell_name='cell1'):
    return nova_context.target_cell(nova_context.get_admin_context(),
                                    test.cell_mappings[cell_name])
