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

"""The tasks in Masakari's host failure flow, with Masakari's own test base.

Masakari's database fixture holds the vmoves; Masakari's fake Nova client
holds the servers, which Masakari's prepare task lists and the fake host
routes below change as nova-hoststatus does.
"""

from unittest import mock
from urllib import parse

from novaclient import exceptions as nova_exceptions

from masakari.compute import nova
from masakari import conf
from masakari import context
from masakari.engine.drivers.taskflow import host_failure
from masakari import exception
from masakari import objects
from masakari.objects import fields
from masakari.tests.unit import base
from masakari.tests.unit import fakes
from masakari.tests import uuidsentinel as uuids

from nova_hoststatus.masakari import tasks

CONF = conf.CONF
# As masakari-engine does when it starts.
objects.register_all()
FAILED_HOST, SPARE = 'host1', 'host2'
# The flow of doc/source/masakari.rst.
FLOW = {'pre': ['report_host_down_task'],
        'main': ['prepare_HA_enabled_instances_task'],
        'post': ['recover_instances_task']}
# What a report stops, and what an evacuation brings each pre-fault
# vm_state back in (nova_hoststatus.recovery.prefault).
STOPPED_BY_REPORT = ('active', 'paused', 'suspended', 'rescued')
RESTORED = {'active': 'active', 'paused': 'active', 'suspended': 'active',
            'rescued': 'active', 'error': 'active', 'stopped': 'stopped'}


def _get(server, name):
    return getattr(server, 'OS-EXT-STS:' + name)


def _set(server, **values):
    for name, value in values.items():
        setattr(server, 'OS-EXT-STS:' + name, value)


class FakeServers(fakes.FakeNovaClient.ServerManager):
    """Masakari's fake servers, gone ones not found as in novaclient."""

    def find(self, uuid):
        return super().get(uuid)

    def get(self, uuid):
        server = self.find(uuid)
        if server is None:
            raise nova_exceptions.NotFound(
                404, 'Instance %s could not be found.' % uuid)
        return server


class FakeHostRoutes(object):
    """The host routes of nova-hoststatus over the fake client's servers.

    An accepted evacuation is rebuilt on the spare host at the next read of
    the host's state, which lists it as recovered; later reads no longer
    list it (its pre-fault record is removed then).
    """

    def __init__(self, servers):
        self.servers = servers
        self.requests = []
        self.reported = set()
        self.pre_fault = {}
        self.rebuilding = {}
        self.listed_once = {}
        # uuid -> 'error' (the rebuild fails) or 'never' (it never ends).
        self.outcome = {}

    def _on(self, host):
        return [server for server in self.servers._servers
                if server.host == host]

    @staticmethod
    def _host(url):
        return parse.unquote(url.split('/')[2])

    def put(self, url, body):
        self.requests.append(('PUT', url, body))
        host = self._host(url)
        changed, skipped = [], []
        if body['host'].get('host_down_reported'):
            self.reported.add(host)
            for server in self._on(host):
                if _get(server, 'vm_state') in STOPPED_BY_REPORT:
                    self.pre_fault[server.id] = _get(server, 'vm_state')
                    _set(server, vm_state='stopped', power_state=4,
                         task_state=None)
                    changed.append({'id': server.id})
                else:
                    skipped.append({'id': server.id})
        return None, {'host': {'instances_changed': changed,
                               'instances_skipped': skipped}}

    def post(self, url, body):
        self.requests.append(('POST', url, body))
        host = self._host(url)
        if host not in self.reported:
            raise nova_exceptions.Conflict(
                409, 'Host %s is not reported down.' % host)
        wanted = body['evacuate']['servers']
        unknown = [uuid for uuid in wanted if self.servers.find(uuid) is None]
        if unknown:
            raise nova_exceptions.NotFound(404, 'Servers %s are not on host '
                                           '%s.' % (unknown, host))
        results = []
        for uuid in wanted:
            server = self.servers.get(uuid)
            reason = None
            if server.host != host:
                reason = 'already_evacuated'
            elif _get(server, 'task_state') is not None:
                reason = 'task_in_progress'
            elif _get(server, 'vm_state') not in RESTORED:
                reason = 'vm_state_not_evacuable'
            else:
                _set(server, task_state='rebuilding')
                self.rebuilding[uuid] = host
            results.append({'id': uuid, 'reason': reason, 'message': None,
                            'result': 'skipped' if reason else 'accepted'})
        return None, {'evacuate': {'servers': results}}

    def get(self, url):
        self.requests.append(('GET', url, None))
        host = self._host(url)
        recovery = [entry for uuid, entry in list(self.listed_once.items())
                    if entry['status'] == 'failed' or
                    self.listed_once.pop(uuid) is None]
        for uuid in [uuid for uuid, source in self.rebuilding.items()
                     if source == host and
                     self.outcome.get(uuid) != 'never']:
            del self.rebuilding[uuid]
            server = self.servers.get(uuid)
            server.host = SPARE
            setattr(server, 'OS-EXT-SRV-ATTR:host', SPARE)
            setattr(server, 'OS-EXT-SRV-ATTR:hypervisor_hostname', SPARE)
            failed = self.outcome.get(uuid) == 'error'
            _set(server, task_state=None, vm_state='error' if failed else
                 RESTORED[self.pre_fault.get(uuid, _get(server, 'vm_state'))])
            self.listed_once[uuid] = {
                'id': uuid, 'host': SPARE,
                'status': 'failed' if failed else 'recovered'}
            recovery.append(self.listed_once[uuid])
        for server in self._on(host):
            recovery.append({'id': server.id, 'host': host, 'status': (
                'evacuating' if server.id in self.rebuilding else 'pending')})
        return None, {'host': {'host_name': host, 'recovery': recovery}}


@mock.patch.object(nova.API, 'lock_server')
@mock.patch.object(nova.API, 'unlock_server')
class HostFailureFlowTest(base.TestCase):

    def setUp(self):
        super().setUp()
        self.ctxt = context.get_admin_context()
        self.override_config('host_auto_failure_recovery_tasks', FLOW,
                             'taskflow_driver_recovery_flows')
        self.override_config('verify_interval', 0)
        self.override_config('wait_period_after_evacuation', 1)
        # As Masakari's own tests: what the prepare task selects below.
        self.override_config('evacuate_all_instances', False, 'host_failure')
        self.fake_client = fakes.FakeNovaClient()
        self.fake_client.servers = FakeServers()
        self.routes = FakeHostRoutes(self.fake_client.servers)
        self.fake_client.client = self.routes
        patcher = mock.patch.object(nova, 'novaclient',
                                    return_value=self.fake_client)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _server(self, uuid, vm_state='active', ha_enabled=True, **kwargs):
        return self.fake_client.servers.create(
            uuid, host=FAILED_HOST, vm_state=vm_state, ha_enabled=ha_enabled,
            **kwargs)

    def _run_flow(self):
        process_what = {'host_name': FAILED_HOST,
                        'notification_uuid': uuids.notification}
        host_failure.get_auto_flow(self.ctxt, nova.API(), process_what).run()

    def _vmoves(self):
        return {vmove.instance_uuid: vmove
                for vmove in objects.VMoveList.get_all_vmoves(
                    self.ctxt, uuids.notification)}

    def test_flow_loads_the_tasks_by_name(self, *mocks):
        tasks_by_name = {
            name: [type(task) for task in host_failure.base.get_recovery_flow(
                names, context=self.ctxt, novaclient=nova.API(),
                update_host_method=None)]
            for name, names in FLOW.items()}
        self.assertEqual(
            {'pre': [tasks.ReportHostDownTask],
             'main': [host_failure.PrepareHAEnabledInstancesTask],
             'post': [tasks.RecoverInstancesTask]}, tasks_by_name)

    def test_report_replaces_disable_and_wait(self, *mocks):
        self._server(uuids.running)
        self._server(uuids.stopped, vm_state='stopped')
        # Would sleep 180 s in Masakari's own disable task.
        self.override_config('wait_period_after_service_update', 3600)
        task = tasks.ReportHostDownTask(self.ctxt, nova.API())
        with mock.patch.object(task, '_notifier') as notifier:
            task.execute(FAILED_HOST)
        self.assertEqual(
            [('PUT', '/os-hosts/host1', {'host': {
                'host_down_reported': True, 'fenced': True,
                'status': 'disable',
                'reason': CONF.host_failure.service_disable_reason}})],
            self.routes.requests)
        self.assertEqual('stopped', _get(self.fake_client.servers.get(
            uuids.running), 'vm_state'))
        progress = notifier.notify.call_args[0][1]['progress_details']
        self.assertEqual(
            "Reported host 'host1' down: compute service disabled and "
            "forced down, 1 servers stopped, 1 left as they were",
            progress[-1]['message'])

    def test_servers_back_in_their_pre_fault_state(self, *mocks):
        self._server(uuids.running)
        self._server(uuids.paused, vm_state='paused')
        self._server(uuids.stopped, vm_state='stopped')
        self._server(uuids.error, vm_state='error')
        # Not HA_Enabled: Masakari's prepare task leaves it out.
        self._server(uuids.not_ha, ha_enabled=False)
        self._run_flow()

        servers = {s.id: s for s in self.fake_client.servers._servers}
        self.assertEqual(
            {uuids.running: (SPARE, 'active'),
             uuids.paused: (SPARE, 'active'),
             uuids.stopped: (SPARE, 'stopped'),
             uuids.error: (SPARE, 'active'),
             uuids.not_ha: (FAILED_HOST, 'stopped')},
            {uuid: (server.host, _get(server, 'vm_state'))
             for uuid, server in servers.items()})
        vmoves = self._vmoves()
        self.assertEqual(
            {uuid: (fields.VMoveStatus.SUCCEEDED, SPARE)
             for uuid in (uuids.running, uuids.paused, uuids.stopped,
                          uuids.error)},
            {uuid: (vmove.status, vmove.dest_host)
             for uuid, vmove in vmoves.items()})
        for vmove in vmoves.values():
            self.assertIsNotNone(vmove.start_time)
            self.assertIsNotNone(vmove.end_time)
        # One report, one host evacuation of the selected servers, reads.
        methods = [request[0] for request in self.routes.requests]
        self.assertEqual(['PUT', 'POST'], methods[:2])
        self.assertEqual({'GET'}, set(methods[2:]))
        self.assertEqual(sorted(vmoves),
                         sorted(self.routes.requests[1][2]['evacuate'][
                             'servers']))

    def test_instances_in_error_ignored(self, *mocks):
        self.override_config('ignore_instances_in_error_state', True,
                             'host_failure')
        self._server(uuids.running)
        self._server(uuids.error, vm_state='error')
        self._run_flow()
        self.assertEqual([uuids.running], list(self._vmoves()))
        self.assertEqual(FAILED_HOST,
                         self.fake_client.servers.get(uuids.error).host)

    def test_server_deleted_before_its_evacuation(self, *mocks):
        self._server(uuids.running)
        self._server(uuids.deleted)
        task = tasks.RecoverInstancesTask(self.ctxt, nova.API(),
                                          update_host_method=None)
        tasks.ReportHostDownTask(self.ctxt, nova.API()).execute(FAILED_HOST)
        host_failure.PrepareHAEnabledInstancesTask(
            self.ctxt, nova.API()).execute(FAILED_HOST, uuids.notification)
        servers = self.fake_client.servers._servers
        servers.remove(self.fake_client.servers.get(uuids.deleted))

        self.assertRaises(exception.HostRecoveryFailureException,
                          task.execute, FAILED_HOST, uuids.notification)
        vmoves = self._vmoves()
        self.assertEqual(fields.VMoveStatus.SUCCEEDED,
                         vmoves[uuids.running].status)
        self.assertEqual((fields.VMoveStatus.FAILED, 'The server was '
                          'deleted.'), (vmoves[uuids.deleted].status,
                                        vmoves[uuids.deleted].message))

    def test_evacuation_failed_or_timed_out(self, *mocks):
        self._server(uuids.running)
        self._server(uuids.error_on_rebuild)
        self._server(uuids.never_rebuilt)
        self.routes.outcome = {uuids.error_on_rebuild: 'error',
                               uuids.never_rebuilt: 'never'}
        self.assertRaises(exception.HostRecoveryFailureException,
                          self._run_flow)
        self.assertEqual(
            {uuids.running: (fields.VMoveStatus.SUCCEEDED, None),
             uuids.error_on_rebuild: (
                 fields.VMoveStatus.FAILED,
                 'Its evacuation left it in error on host2.'),
             uuids.never_rebuilt: (fields.VMoveStatus.FAILED,
                                   'Failed reason: timeout.')},
            {uuid: (vmove.status, vmove.message)
             for uuid, vmove in self._vmoves().items()})

    def test_servers_nova_cannot_take_left_to_masakari(self, *mocks):
        # Resized: the host evacuation skips it; Masakari's own per-server
        # recovery resets it to error and evacuates it, as without the
        # package.
        self._server(uuids.running)
        self._server(uuids.resized, vm_state='resized')
        self._run_flow()
        vmoves = self._vmoves()
        self.assertEqual({fields.VMoveStatus.SUCCEEDED},
                         {vmove.status for vmove in vmoves.values()})
        self.assertEqual(
            [(uuids.resized, 'resized')],
            self.fake_client.servers.reset_state_calls)
        self.assertEqual(SPARE, vmoves[uuids.running].dest_host)

    def test_host_not_reported(self, *mocks):
        self._server(uuids.running)
        host_failure.PrepareHAEnabledInstancesTask(
            self.ctxt, nova.API()).execute(FAILED_HOST, uuids.notification)
        task = tasks.RecoverInstancesTask(self.ctxt, nova.API(),
                                          update_host_method=None)
        self.assertRaises(exception.Conflict, task.execute, FAILED_HOST,
                          uuids.notification)
        self.assertEqual(fields.VMoveStatus.PENDING,
                         self._vmoves()[uuids.running].status)
