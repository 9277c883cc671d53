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

import copy
from unittest import mock
from urllib import parse

import jsonschema
from keystoneauth1 import exceptions as ks_exceptions
from novaclient import exceptions as nova_exceptions
from oslo_utils import timeutils
from stevedore import named

from masakari.compute import nova
from masakari import conf
from masakari import context
from masakari.engine.drivers.taskflow import base as taskflow_base
from masakari.engine.drivers.taskflow import driver
from masakari.engine.drivers.taskflow import host_failure
from masakari.engine import manager
from masakari import exception
from masakari import objects
from masakari.objects import fields
from masakari.tests.unit import base
from masakari.tests.unit import fakes
from masakari.tests import uuidsentinel as uuids

from nova_hoststatus.masakari import check
from nova_hoststatus.masakari import tasks
from tests.masakari import api_schemas

CONF = conf.CONF
# As masakari-engine does when it starts.
objects.register_all()
FAILED_HOST, SPARE, RESERVED = 'host1', 'host2', 'host3'
# The flow of doc/source/masakari.rst.
FLOW = {'pre': ['report_host_down_task'],
        'main': ['prepare_HA_enabled_instances_task'],
        'post': ['recover_instances_task']}
RH_FLOW = {'pre': ['report_host_down_task'],
           'main': ['prepare_HA_enabled_instances_task',
                    'recover_instances_task'],
           'post': []}
# What a report stops, and what an evacuation brings each pre-fault
# vm_state back in (nova_hoststatus.recovery.prefault).
STOPPED_BY_REPORT = ('active', 'paused', 'suspended', 'rescued')
RESTORED = {'active': 'active', 'paused': 'active', 'suspended': 'active',
            'rescued': 'active', 'error': 'active', 'stopped': 'stopped'}
# nova_hoststatus.recovery.status.EVACUABLE_VM_STATES
EVACUABLE = ('active', 'stopped', 'error', 'paused', 'suspended', 'rescued')
ROUTE_NOT_FOUND = 'The resource could not be found.'


def _get(server, name):
    return getattr(server, 'OS-EXT-STS:' + name)


def _set(server, **values):
    for name, value in values.items():
        setattr(server, 'OS-EXT-STS:' + name, value)


class FakeServers(fakes.FakeNovaClient.ServerManager):
    """Masakari's fake servers, gone ones not found as in novaclient.

    Listed by host as Nova lists them (Masakari's fake lists them all).
    """

    def find(self, uuid):
        return super().get(uuid)

    def get(self, uuid):
        server = self.find(uuid)
        if server is None:
            raise nova_exceptions.NotFound(
                404, 'Instance %s could not be found.' % uuid)
        return server

    def list(self, detailed=True, search_opts=None):
        host = (search_opts or {}).get('host')
        return [server for server in self._servers
                if host is None or server.host == host]

    def evacuate(self, uuid, host=None):
        super().evacuate(uuid, host)
        server = self.get(uuid)
        server.host = getattr(server, 'OS-EXT-SRV-ATTR:hypervisor_hostname')
        setattr(server, 'OS-EXT-SRV-ATTR:host', server.host)


class FakeServices(fakes.FakeNovaClient.Services):

    def enable(self, service_id):
        for service in self._services:
            if service.id == service_id:
                service.status = 'enabled'


class FakeHostRoutes(object):
    """The host routes of nova-hoststatus over the fake client's servers.

    Requests and answers are validated against the package's API schemas
    (a request the API's schema refuses is answered 400, as nova-api
    does); refusals come in the API's order and with its messages. An
    accepted evacuation is rebuilt at the next read of the host's state,
    which lists it as recovered; later reads no longer list it (its
    pre-fault record is removed then).
    """

    def __init__(self, servers):
        self.servers = servers
        self.requests = []
        self.known = {FAILED_HOST, SPARE, RESERVED}
        # False: nova-api without the package (its routes are not found).
        self.installed = True
        # method -> how many of its next requests find the host's cell
        # database down.
        self.cell_down = {}
        # The host's nova-compute came back up after its report.
        self.up_again = False
        self.reported = set()
        self.pre_fault = {}
        self.rebuilding = {}
        self.destination = {}
        # uuid -> host it was evacuated from.
        self.evacuated_from = {}
        self.listed_once = {}
        # uuid -> 'error' (the rebuild fails) or 'never' (it never ends).
        self.outcome = {}

    def _on(self, host):
        return [server for server in self.servers._servers
                if server.host == host]

    @staticmethod
    def _host(url):
        return parse.unquote(url.split('/')[2])

    def _refuse(self, method, url, code, message):
        cls = {400: nova_exceptions.BadRequest,
               404: nova_exceptions.NotFound,
               409: nova_exceptions.Conflict}.get(
                   code, nova_exceptions.ClientException)
        raise cls(code, message, method=method, url=url)

    def _check_host(self, method, url, host):
        if not self.installed:
            self._refuse(method, url, 404, ROUTE_NOT_FOUND)
        if host not in self.known:
            self._refuse(method, url, 404, (
                "No nova-compute service runs on host %s, or the host is "
                "not mapped to a cell (see 'nova-manage cell_v2 "
                "discover_hosts')." % host))
        if self.cell_down.get(method):
            self.cell_down[method] -= 1
            self._refuse(method, url, 503, (
                "The database of cell cell1, where host %s is, cannot be "
                "reached; nothing was changed. Retry when it is back."
                % host))

    def _validated(self, method, url, body, request_schema=None):
        self.requests.append((method, url, copy.deepcopy(body)))
        if request_schema is not None:
            try:
                api_schemas.validate(body, request_schema)
            except jsonschema.ValidationError as exc:
                self._refuse(method, url, 400,
                             'Invalid input for field/attribute: %s'
                             % exc.message)

    @staticmethod
    def _answer(body, schema):
        api_schemas.validate(body, schema)
        return None, body

    def _pre_fault(self, server):
        vm_state = self.pre_fault.get(server.id, _get(server, 'vm_state'))
        return {'vm_state': vm_state, 'task_state': None,
                'power_state': 1 if vm_state in STOPPED_BY_REPORT else 4}

    def _host_view(self, host, **extra):
        reported = host in self.reported
        return dict({
            'host': host, 'status': 'disabled' if reported else 'enabled',
            'state': 'down' if reported else 'up',
            'disabled_reason': CONF.host_failure.service_disable_reason
            if reported else None,
            'maintenance_mode': 'disabled',
            'host_down_reported': reported}, **extra)

    def put(self, url, body):
        self._validated('PUT', url, body, api_schemas.hosts.update)
        host = self._host(url)
        self._check_host('PUT', url, host)
        changed, skipped = [], []
        if body['host'].get('host_down_reported'):
            self.reported.add(host)
            for server in self._on(host):
                vm_state = _get(server, 'vm_state')
                skip = None
                if server.id in self.rebuilding:
                    skip = 'being_evacuated'
                elif server.id in self.pre_fault:
                    skip = 'already_in_target_state'
                elif vm_state not in STOPPED_BY_REPORT:
                    skip = 'untouched_vm_state'
                if skip:
                    skipped.append({
                        'id': server.id, 'project_id': None,
                        'vm_state': vm_state,
                        'task_state': _get(server, 'task_state'),
                        'reason': skip})
                    continue
                self.pre_fault[server.id] = vm_state
                changed.append({
                    'id': server.id, 'project_id': None,
                    'old_vm_state': vm_state,
                    'old_task_state': _get(server, 'task_state'),
                    'old_power_state': _get(server, 'power_state')})
                _set(server, vm_state='stopped', power_state=4,
                     task_state=None)
        return self._answer(
            {'host': self._host_view(host, instances_changed=changed,
                                     instances_skipped=skipped)},
            api_schemas.hosts.update_response)

    def post(self, url, body):
        self._validated('POST', url, body, api_schemas.evacuate.evacuate)
        host = self._host(url)
        self._check_host('POST', url, host)
        if host not in self.reported or self.up_again:
            self._refuse('POST', url, 409, (
                'Host %s is not reported down, or its nova-compute service '
                'is up: its servers cannot be evacuated. Report it down '
                'first.' % host))
        destination = body['evacuate'].get('host')
        wanted = body['evacuate']['servers']
        on_host = {server.id for server in self._on(host)}
        unknown = sorted(uuid for uuid in wanted if uuid not in on_host and
                         self.evacuated_from.get(uuid) != host)
        if unknown:
            self._refuse('POST', url, 404, (
                'Servers %s are not on host %s, nor were they evacuated '
                'from it.' % (', '.join(unknown), host)))
        skipped, accepted = [], []
        for uuid in wanted:
            server = self.servers.find(uuid)
            reason = None
            if uuid not in on_host:
                reason = 'already_evacuated'
            elif _get(server, 'vm_state') not in EVACUABLE:
                reason = 'vm_state_not_evacuable'
            elif _get(server, 'task_state') is not None:
                reason = 'task_in_progress'
            else:
                _set(server, task_state='rebuilding')
                self.rebuilding[uuid] = host
                self.destination[uuid] = destination or SPARE
                self.evacuated_from[uuid] = host
            result = {
                'id': uuid, 'project_id': None,
                'result': 'skipped' if reason else 'accepted',
                'pre_fault': self._pre_fault(server),
                'restored_vm_state': RESTORED.get(
                    self._pre_fault(server)['vm_state']),
                'migration_id': None if reason else uuids.migration,
                'reason': reason, 'message': None}
            (skipped if reason else accepted).append(result)
        return self._answer(
            {'evacuate': {'host': host, 'destination': destination,
                          'servers': skipped + accepted}},
            api_schemas.evacuate.evacuate_response)

    def get(self, url):
        self._validated('GET', url, None)
        host = self._host(url)
        self._check_host('GET', url, host)
        recovery = [entry for uuid, entry in list(self.listed_once.items())
                    if entry['status'] == 'failed' or
                    self.listed_once.pop(uuid) is None]
        for uuid in [uuid for uuid, source in self.rebuilding.items()
                     if source == host and
                     self.outcome.get(uuid) != 'never']:
            del self.rebuilding[uuid]
            server = self.servers.get(uuid)
            dest = self.destination[uuid]
            server.host = dest
            setattr(server, 'OS-EXT-SRV-ATTR:host', dest)
            setattr(server, 'OS-EXT-SRV-ATTR:hypervisor_hostname', dest)
            failed = self.outcome.get(uuid) == 'error'
            pre_fault = self._pre_fault(server)
            _set(server, task_state=None, vm_state='error' if failed else
                 RESTORED[pre_fault['vm_state']])
            self.listed_once[uuid] = {
                'id': uuid, 'project_id': None, 'host': dest,
                'vm_state': _get(server, 'vm_state'), 'task_state': None,
                'pre_fault': pre_fault,
                'restored_vm_state': RESTORED[pre_fault['vm_state']],
                'status': 'failed' if failed else 'recovered'}
            recovery.append(self.listed_once[uuid])
        for server in self._on(host):
            pre_fault = self._pre_fault(server)
            recovery.append({
                'id': server.id, 'project_id': None, 'host': host,
                'vm_state': _get(server, 'vm_state'),
                'task_state': _get(server, 'task_state'),
                'pre_fault': pre_fault,
                'restored_vm_state': RESTORED.get(pre_fault['vm_state']),
                'status': 'evacuating' if server.id in self.rebuilding else
                'pending' if _get(server, 'vm_state') in EVACUABLE else
                'not_evacuable'})
        view = self._host_view(host)
        if host in self.reported or recovery:
            view['recovery'] = recovery
        return self._answer({'host': view}, api_schemas.hosts.show_response)


class FlowTestBase(base.TestCase):

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
        self.fake_client.services = FakeServices()
        for i, host in enumerate((FAILED_HOST, SPARE, RESERVED)):
            self.fake_client.services.create(i, host=host,
                                             binary='nova-compute',
                                             status='enabled')
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
        """``{server uuid: its newest vmove}``."""
        return {vmove.instance_uuid: vmove
                for vmove in sorted(objects.VMoveList.get_all_vmoves(
                    self.ctxt, uuids.notification), key=lambda v: v.id)}

    def _all_vmoves(self):
        return sorted(((vmove.instance_uuid, vmove.status, vmove.message)
                       for vmove in objects.VMoveList.get_all_vmoves(
                           self.ctxt, uuids.notification)),
                      key=lambda vmove: (vmove[0], vmove[1]))

    def _posted(self):
        """The servers of each host evacuation, as sent."""
        return [request[2]['evacuate'] for request in self.routes.requests
                if request[0] == 'POST']


@mock.patch.object(nova.API, 'lock_server')
@mock.patch.object(nova.API, 'unlock_server')
class HostFailureFlowTest(FlowTestBase):

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
        exc = self.assertRaises(exception.HostRecoveryFailureException,
                                task.execute, FAILED_HOST,
                                uuids.notification)
        self.assertIn('Nova answered 409 to POST /os-hosts/host1/evacuate: '
                      'Host host1 is not reported down', exc.message)
        vmove = self._vmoves()[uuids.running]
        self.assertEqual(fields.VMoveStatus.FAILED, vmove.status)
        self.assertIn('No longer followed: Nova answered 409', vmove.message)


@mock.patch.object(nova.API, 'lock_server')
@mock.patch.object(nova.API, 'unlock_server')
class EngineTest(FlowTestBase):
    """Masakari's own driver and manager run the flows with the tasks.

    As masakari-engine does: the notification's recovery method chooses
    the flows, the driver turns what is not a recovery failure into
    "Failed to execute host failure flow", the manager ends the
    notification and re-runs one that ended in error.
    """

    def setUp(self):
        super().setUp()
        self.override_config('connection', 'sqlite://', 'taskflow')
        self.override_config('host_rh_failure_recovery_tasks', RH_FLOW,
                             'taskflow_driver_recovery_flows')
        self.update_host_method = mock.Mock()
        # No messaging: Masakari's objects and manager notify.
        for notifier in ('masakari.rpc.get_versioned_notifier',
                         'masakari.engine.utils.'
                         'notify_about_notification_update'):
            patcher = mock.patch(notifier)
            patcher.start()
            self.addCleanup(patcher.stop)
        self.progress = []
        real_update = taskflow_base.MasakariTask.update_details

        def update_details(task, message, progress=0.0):
            self.progress.append(message)
            return real_update(task, message, progress)
        patcher = mock.patch.object(taskflow_base.MasakariTask,
                                    'update_details', update_details)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _drive(self, method='auto', reserved_hosts=(RESERVED,)):
        driver.TaskFlowDriver().execute_host_failure(
            self.ctxt, FAILED_HOST, method, uuids.notification,
            update_host_method=self.update_host_method,
            reserved_host_list=list(reserved_hosts))

    def _notification(self, method='auto'):
        """The notification masakari-hostmonitor sends, in Masakari's DB."""
        segment = objects.FailoverSegment(
            context=self.ctxt, name='segment', service_type='COMPUTE',
            recovery_method=method, enabled=True)
        segment.create()
        hosts = {}
        for name, reserved in ((FAILED_HOST, False), (RESERVED, True)):
            hosts[name] = objects.Host(
                context=self.ctxt, name=name, type='COMPUTE',
                control_attributes='SSH', failover_segment=segment,
                reserved=reserved, on_maintenance=False)
            hosts[name].create()
        notification = objects.Notification(
            context=self.ctxt, notification_uuid=uuids.notification,
            type=fields.NotificationType.COMPUTE_HOST, payload={
                'event': 'STOPPED', 'host_status': 'NORMAL',
                'cluster_status': 'OFFLINE'},
            source_host_uuid=hosts[FAILED_HOST].uuid,
            generated_time=timeutils.utcnow(),
            status=fields.NotificationStatus.NEW)
        if 'failover_segment_uuid' in notification.fields:
            # Masakari 21 and later.
            notification.failover_segment_uuid = segment.uuid
        notification.create()
        return notification

    def _status(self):
        return objects.Notification.get_by_uuid(
            self.ctxt, uuids.notification).status

    def test_retried_notification_recovers_what_is_left(self, *mocks):
        # The first run gives up on a rebuild that is still going on (a
        # slow image); Masakari's manager re-runs the notification, whose
        # prepare task records a second vmove for the server still on the
        # host.
        self._server(uuids.running)
        self._server(uuids.slow)
        self.routes.outcome = {uuids.slow: 'never'}
        engine = manager.MasakariManager()
        engine.process_notification(self.ctxt, self._notification())
        self.assertEqual(fields.NotificationStatus.ERROR, self._status())
        self.routes.outcome = {}
        engine._process_unfinished_notifications(self.ctxt)
        self.assertEqual(fields.NotificationStatus.FINISHED, self._status())
        # The slow one followed to its end, not evacuated a second time
        # by Masakari's own evacuation.
        self.assertEqual([], self.fake_client.servers.reset_state_calls)
        self.assertEqual(
            [sorted([uuids.running, uuids.slow]), [uuids.slow]],
            [sorted(posted['servers']) for posted in self._posted()])
        self.assertEqual(
            sorted([(uuids.running, fields.VMoveStatus.SUCCEEDED, None),
                    (uuids.slow, fields.VMoveStatus.FAILED,
                     'Failed reason: timeout.'),
                    (uuids.slow, fields.VMoveStatus.SUCCEEDED, None)]),
            self._all_vmoves())
        self.assertEqual(SPARE, self._vmoves()[uuids.slow].dest_host)

    def test_duplicate_vmoves_each_server_sent_once(self, *mocks):
        # An engine that stopped after the prepare task, then the re-run:
        # two pending vmoves per server.
        self._server(uuids.running)
        self._server(uuids.stopped, vm_state='stopped')
        host_failure.PrepareHAEnabledInstancesTask(
            self.ctxt, nova.API()).execute(FAILED_HOST, uuids.notification)
        first = {vmove.instance_uuid: vmove.uuid
                 for vmove in self._vmoves().values()}
        self._drive()
        posted = self._posted()
        self.assertEqual(1, len(posted))
        self.assertEqual(sorted([uuids.running, uuids.stopped]),
                         sorted(posted[0]['servers']))
        newest = self._vmoves()
        self.assertEqual(
            sorted([(uuid, fields.VMoveStatus.IGNORED,
                     'Superseded by vmove %s of a later run of this '
                     'notification.' % newest[uuid].uuid)
                    for uuid in first] +
                   [(uuid, fields.VMoveStatus.SUCCEEDED, None)
                    for uuid in first]),
            self._all_vmoves())

    def test_server_in_flight_followed(self, *mocks):
        # Its evacuation accepted before, its rebuild not yet started.
        self._server(uuids.running)
        self._server(uuids.in_flight, task_state='rebuilding')
        self.routes.reported.add(FAILED_HOST)
        self.routes.rebuilding[uuids.in_flight] = FAILED_HOST
        self.routes.destination[uuids.in_flight] = SPARE
        self.routes.evacuated_from[uuids.in_flight] = FAILED_HOST
        self._drive()
        self.assertEqual([], self.fake_client.servers.reset_state_calls)
        self.assertEqual(
            {uuids.running: (fields.VMoveStatus.SUCCEEDED, SPARE),
             uuids.in_flight: (fields.VMoveStatus.SUCCEEDED, SPARE)},
            {uuid: (vmove.status, vmove.dest_host)
             for uuid, vmove in self._vmoves().items()})

    def _assert_refused(self, message, vmove_status=None):
        exc = self.assertRaises(exception.HostRecoveryFailureException,
                                self._drive)
        self.assertEqual(message, exc.message)
        self.assertIn(message, self.progress)
        if vmove_status:
            self.assertEqual(
                {(vmove_status, 'No longer followed: ' + message)},
                {(vmove.status, vmove.message)
                 for vmove in self._vmoves().values()})

    def test_package_missing_from_nova_api(self, *mocks):
        self._server(uuids.running)
        self.routes.installed = False
        self._assert_refused(
            "Nova answered 404 to PUT /os-hosts/host1: The resource could "
            "not be found. (the host is unknown to Nova, or nova-api does "
            "not run nova-hoststatus)")
        self.assertEqual(
            'active', _get(self.fake_client.servers.get(uuids.running),
                           'vm_state'))

    def test_unknown_host(self, *mocks):
        self.routes.known.discard(FAILED_HOST)
        self._assert_refused(
            "Nova answered 404 to PUT /os-hosts/host1: No nova-compute "
            "service runs on host host1, or the host is not mapped to a "
            "cell (see 'nova-manage cell_v2 discover_hosts'). (the host is "
            "unknown to Nova, or nova-api does not run nova-hoststatus)")

    def test_host_up_again(self, *mocks):
        self._server(uuids.running)
        self.routes.up_again = True
        self._assert_refused(
            "Nova answered 409 to POST /os-hosts/host1/evacuate: Host host1 "
            "is not reported down, or its nova-compute service is up: its "
            "servers cannot be evacuated. Report it down first. (the host "
            "is not reported down, or its nova-compute service is up)",
            fields.VMoveStatus.FAILED)

    def test_cell_down(self, *mocks):
        self._server(uuids.running)
        self.routes.cell_down = {'POST': 1}
        self._assert_refused(
            "Nova answered 503 to POST /os-hosts/host1/evacuate: The "
            "database of cell cell1, where host host1 is, cannot be "
            "reached; nothing was changed. Retry when it is back. (a "
            "database Nova needs for this host cannot be reached)",
            fields.VMoveStatus.FAILED)

    def test_cell_down_while_following(self, *mocks):
        self._server(uuids.running)
        self.routes.cell_down = {'GET': 1}
        self._assert_refused(
            "Nova answered 503 to GET /os-hosts/host1/state: The database "
            "of cell cell1, where host host1 is, cannot be reached; nothing "
            "was changed. Retry when it is back. (a database Nova needs "
            "for this host cannot be reached)", fields.VMoveStatus.FAILED)

    def test_nova_unreachable_while_following(self, *mocks):
        self._server(uuids.running)
        unreachable = ks_exceptions.ConnectFailure(
            'Unable to establish connection to '
            'http://nova/v2.1/os-hosts/host1/state')
        with mock.patch.object(FakeHostRoutes, 'get',
                               side_effect=unreachable):
            self._assert_refused(
                'Nova could not be reached for host host1: Unable to '
                'establish connection to '
                'http://nova/v2.1/os-hosts/host1/state',
                fields.VMoveStatus.FAILED)

    def test_task_that_does_not_load(self, *mocks):
        self._server(uuids.running)
        self.override_config(
            'host_auto_failure_recovery_tasks',
            dict(FLOW, post=['recover_instance_task']),
            'taskflow_driver_recovery_flows')
        exc = self.assertRaises(exception.HostRecoveryFailureException,
                                self._drive)
        self.assertIn("task 'recover_instance_task' does not load",
                      exc.message)
        self.assertEqual([], self.routes.requests)

    def test_reserved_host(self, *mocks):
        self._server(uuids.running)
        self._server(uuids.stopped, vm_state='stopped')
        self._drive('reserved_host')
        self.assertEqual([RESERVED], [posted.get('host')
                                      for posted in self._posted()])
        self.assertEqual(
            {uuids.running: (fields.VMoveStatus.SUCCEEDED, RESERVED),
             uuids.stopped: (fields.VMoveStatus.SUCCEEDED, RESERVED)},
            {uuid: (vmove.status, vmove.dest_host)
             for uuid, vmove in self._vmoves().items()})
        self.update_host_method.assert_called_once_with(self.ctxt,
                                                        RESERVED)
        self.assertEqual(
            'enabled', self.fake_client.services.list(
                host=RESERVED, binary='nova-compute')[0].status)

    def test_auto_priority_falls_back_to_reserved_host(self, *mocks):
        # The auto flow fails (a cell down at its evacuation); Masakari
        # falls back to the reserved_host flow, which recovers onto the
        # reserved host.
        self._server(uuids.running)
        self.routes.cell_down = {'POST': 1}
        self._drive('auto_priority')
        self.assertEqual([None, RESERVED], [posted.get('host')
                                            for posted in self._posted()])
        self.assertEqual(
            [(uuids.running, fields.VMoveStatus.FAILED,
              'No longer followed: Nova answered 503 to POST '
              '/os-hosts/host1/evacuate: The database of cell cell1, where '
              'host host1 is, cannot be reached; nothing was changed. '
              'Retry when it is back. (a database Nova needs for this host '
              'cannot be reached)'),
             (uuids.running, fields.VMoveStatus.SUCCEEDED, None)],
            self._all_vmoves())
        self.assertEqual(RESERVED, self._vmoves()[uuids.running].dest_host)

    def test_rh_priority_falls_back_to_auto(self, *mocks):
        # No reserved host left in the segment: Masakari runs the auto
        # flow, the scheduler chooses.
        self._server(uuids.running)
        self._drive('rh_priority', reserved_hosts=())
        self.assertEqual([None], [posted.get('host')
                                  for posted in self._posted()])
        self.assertEqual(
            [(uuids.running, fields.VMoveStatus.SUCCEEDED, None)],
            self._all_vmoves())
        self.assertEqual(SPARE, self._vmoves()[uuids.running].dest_host)
        self.update_host_method.assert_not_called()


class CheckTest(base.TestCase):
    """python -m nova_hoststatus.masakari.check"""

    def _main(self, flow):
        self.override_config('host_auto_failure_recovery_tasks', flow,
                             'taskflow_driver_recovery_flows')
        return check.report(CONF)

    def test_flows_load(self):
        status, lines = self._main(FLOW)
        self.assertEqual(0, status)
        self.assertIn('  post: recover_instances_task '
                      'nova_hoststatus.masakari.tasks.RecoverInstancesTask',
                      lines)
        self.assertEqual('OK', lines[-1])

    def test_name_that_does_not_load(self):
        status, lines = self._main(dict(FLOW,
                                        post=['recover_instance_task']))
        self.assertEqual(1, status)
        self.assertIn(
            "  ERROR: task 'recover_instance_task' does not load (no such "
            "task in masakari.task_flow.tasks)", lines)
        self.assertIn(
            "  ERROR: 'report_host_down_task' stops the host's servers but "
            "'recover_instances_task' does not follow it: they would stay "
            "stopped", lines)
        self.assertTrue(lines[-1].startswith('FAILED'))

    def test_module_that_does_not_import(self):
        # As when the package, or one of its dependencies, is broken in
        # masakari-engine's environment.
        broken = mock.Mock(side_effect=ImportError('No module named x'))
        with mock.patch.object(named.NamedExtensionManager,
                               '_load_one_plugin', broken):
            status, lines = self._main(FLOW)
        self.assertEqual(1, status)
        self.assertIn("  ERROR: task 'recover_instances_task' does not load "
                      "(ImportError: No module named x)", lines)
