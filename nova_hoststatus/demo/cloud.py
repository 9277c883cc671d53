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

import contextlib
import logging
import os
import sys
import threading

import fixtures
from oslo_utils.fixture import uuidsentinel
from oslo_utils import timeutils
import sqlalchemy as sa

from nova.compute import power_state
from nova.compute import vm_states
from nova import context as nova_context
from nova.network import model as network_model
from nova import objects
from nova.tests.functional.api import client
from nova.tests.functional import integrated_helpers
# After nova's test packages: it uses webob.dec without importing it.
from nova.api import wsgi as nova_wsgi

import nova_hoststatus
from nova_hoststatus.api import paste_ini

OTHER_PROJECT_ID = uuidsentinel.other_project.replace('-', '')


def data_file(source_path):
    """A data file of this package: in the source tree, or as installed.

    ``source_path`` is relative to the source tree; setup.cfg installs the
    data files under ``<prefix>/etc/nova-hoststatus/``.
    """
    source_tree = os.path.join(
        os.path.dirname(os.path.dirname(nova_hoststatus.__file__)),
        source_path)
    installed = os.path.join(sys.prefix, 'etc', 'nova-hoststatus',
                             os.path.basename(source_path))
    for path in (source_tree, installed):
        if os.path.exists(path):
            return path
    raise RuntimeError('%s of nova-hoststatus not found in %s or %s'
                       % (source_path, source_tree, installed))


def paste_config():
    """This package's api-paste.ini for the installed Nova.

    Made from stock's file of that release (Nova 31's has pipelines that
    later ones dropped), with the one line changed.
    """
    return paste_ini.generated_file()


def stock_paste_config():
    """Stock Nova's api-paste.ini, as the nova wheel installs it."""
    return paste_ini.stock_file()


def load_api(paste):
    """The compute API application of an api-paste.ini, as nova-api's."""
    return nova_wsgi.Loader(paste).load_app('osapi_compute')


@contextlib.contextmanager
def count_sql_statements():
    """Count SQL statements this thread executes, on every engine.

    Yields a list that holds the statements when the block exits. Other
    threads (service heartbeats, periodic tasks) are not counted; an API
    request through wsgi-intercept runs in the caller's thread.
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


class APIDatabaseIsCell0(fixtures.Fixture):
    """nova-api's ``[database]`` is cell0, as in devstack's default layout.

    In devstack's superconductor layout (and openstack-helm's, kolla's
    multi-cell ones) nova-api's default database is cell0: a request that
    reads or writes with a context not targeted at a cell hits cell0.
    Nova's CellDatabases fixture instead gives an untargeted context the
    cell targeted last (its FIXME, bug 1717000), which hides a missing
    target. Here the contexts of API requests, and their copies, read and
    write cell0 when untargeted, as they would in nova-api.
    """

    # Set on the contexts the API middleware makes; copy.copy() (as in
    # elevated()) keeps it, a targeted copy needs none.
    MARK = '_nova_hoststatus_api_request'

    def _setUp(self):
        from nova.api import auth
        from nova.db.main import api as main_db

        # The CellDatabases fixture's wrappers, patched in by nova's
        # TestCase: the connection name of cell0 is its uuid there.
        cell0 = main_db.create_context_manager(
            objects.CellMapping.CELL0_UUID)
        get_context_manager = main_db.get_context_manager
        create_context = auth.NovaKeystoneContext._create_context
        mark = self.MARK

        def api_context(env, **kwargs):
            context = create_context(env, **kwargs)
            setattr(context, mark, True)
            return context

        def context_manager(context):
            if (getattr(context, mark, False) and
                    context.db_connection is None):
                return cell0
            return get_context_manager(context)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.api.auth.NovaKeystoneContext._create_context',
            staticmethod(api_context)))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.db.main.api.get_context_manager', context_manager))


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
        # nova's TestCase captures logs with a fixture that is cleaned up
        # before its executors are shut down, and those log as they stop:
        # keep that with the test's other logs rather than on stderr.
        self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        self.flags(compute_driver=self.compute_driver)
        super().setUp()

    def _setup_services(self):
        self.flags(api_paste_config=paste_config(), group='wsgi')
        super()._setup_services()
        # The package's table, as nova-hoststatus-manage db sync makes it.
        from nova_hoststatus import db
        db.sync_api_schema()
        self.useFixture(APIDatabaseIsCell0())
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

    def _evacuate_host(self, host, body=None, api=None, status=202):
        api = api or self.admin_api
        response = api.api_post('/os-hosts/%s/evacuate' % host,
                                {'evacuate': body or {}},
                                check_response_status=[status])
        return response.body

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

    def _create_servers_in_db(self, host, count, project_id=None,
                              name='bulk', cell_name='cell1'):
        """Create ACTIVE servers on ``host`` straight in the databases.

        Booting takes about a second a server; scale runs need thousands.
        The instance and its mapping are all the API needs to show it.
        """
        project_id = project_id or self.api_fixture.project_id
        admin = nova_context.get_admin_context()
        cell = self.cell_mappings[cell_name]
        flavor = objects.Flavor.get_by_name(admin, 'm1.tiny')
        uuids = []
        with nova_context.target_cell(admin, cell) as cctxt:
            for i in range(count):
                instance = objects.Instance(
                    context=cctxt, host=host, project_id=project_id,
                    user_id='bulk', display_name='%s-%d' % (name, i),
                    hostname='%s-%d' % (name, i), launch_index=0,
                    reservation_id='r-%s' % name, config_drive='',
                    kernel_id='', ramdisk_id='',
                    launched_at=timeutils.utcnow(),
                    vm_state=vm_states.ACTIVE, task_state=None,
                    power_state=power_state.RUNNING, flavor=flavor,
                    instance_type_id=flavor.id, memory_mb=flavor.memory_mb,
                    vcpus=flavor.vcpus, root_gb=flavor.root_gb,
                    availability_zone='nova', system_metadata={},
                    info_cache=objects.InstanceInfoCache(
                        network_info=network_model.NetworkInfo()))
                instance.create()
                objects.InstanceMapping(
                    context=admin, instance_uuid=instance.uuid,
                    cell_mapping=cell, project_id=project_id,
                    user_id='bulk', queued_for_delete=False).create()
                uuids.append(instance.uuid)
        return uuids
