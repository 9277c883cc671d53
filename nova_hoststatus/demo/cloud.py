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

"""An embedded cloud: stock Nova services in process, with this package.

nova's own functional fixtures (shipped in the nova wheel) run the API
through wsgi-intercept, conductor, scheduler, placement and computes with
the fake virt driver. The only change is the api-paste.ini the API is loaded
from: this package's, which names its router. The demo and the functional
tests both run on it.
"""

import os
import sys

from oslo_utils.fixture import uuidsentinel

from nova.tests.functional.api import client
from nova.tests.functional import integrated_helpers

import nova_hoststatus

OTHER_PROJECT_ID = uuidsentinel.other_project.replace('-', '')


def paste_config():
    """This package's api-paste.ini: in the source tree, or as installed."""
    relative = os.path.join('etc', 'nova-hoststatus', 'api-paste.ini')
    source_tree = os.path.join(
        os.path.dirname(os.path.dirname(nova_hoststatus.__file__)), relative)
    for path in (source_tree, os.path.join(sys.prefix, relative)):
        if os.path.exists(path):
            return path
    raise RuntimeError('api-paste.ini of nova-hoststatus not found in %s or '
                       '%s' % (source_tree, sys.prefix))


class EmbeddedNova(integrated_helpers._IntegratedTestBase):
    """Computes on HOSTS and REST clients for every persona.

    ``admin_api`` and ``member_api``/``reader_api`` belong to one project;
    ``other_admin_api`` and ``other_member_api`` to a second one.
    """

    ADMIN_API = True
    microversion = 'latest'
    compute_driver = 'fake.MediumFakeDriver'
    HOSTS = ('host1', 'host2')

    def setUp(self):
        self.flags(compute_driver=self.compute_driver)
        super().setUp()

    def _setup_services(self):
        self.flags(api_paste_config=paste_config(), group='wsgi')
        super()._setup_services()
        base_url = self.api_fixture.base_url
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
