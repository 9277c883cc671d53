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

"""Security of the host fault API, and what the robustness tests share.

:class:`RobustnessTestBase` is the base of test_policy_matrix, test_fuzz,
test_concurrency, test_cells and test_faults: raw requests as any persona,
and snapshots of every cell database so that a test can say "nothing
changed" about the rows themselves, not about what the API chooses to show.
"""

from oslo_serialization import jsonutils
import sqlalchemy as sa

from nova import context as nova_context
from nova.db.main import api as main_db
from nova.db.main import models
from nova.tests.functional.api import client

from tests.functional import base

# A host name no compute service has.
NO_SUCH_HOST = 'no-such-host'

REPORT = {'host': {'host_down_reported': True}}
CLEAR = {'host': {'host_down_reported': False}}


class RobustnessTestBase(base.HostStatusTestBase):
    """Personas, raw requests and database snapshots."""

    def _setup_services(self):
        super()._setup_services()
        base_url = self.api_fixture.base_url
        # Authenticated, but with no role at all.
        self.no_roles_api = client.TestOpenStackClient(
            'no-roles', base_url, project_id=self.api_fixture.project_id,
            roles=[])
        # nova's own persona with a role no rule knows.
        self.other_role_api = self.api_fixture.other_api
        for api in (self.no_roles_api, self.other_role_api):
            api.microversion = self.microversion

    def _personas(self):
        """``(allowed, denied)``: name to client, by nova's default policy.

        Both admins hold the admin role; the other admin belongs to another
        project. Everybody else is denied.
        """
        allowed = {'admin': self.admin_api,
                   'other-project admin': self.other_admin_api}
        denied = {'member': self.member_api,
                  'reader': self.reader_api,
                  'other-project member': self.other_member_api,
                  'unknown role': self.other_role_api,
                  'no role': self.no_roles_api}
        return allowed, denied

    def _raw(self, method, path, body=None, headers=None, api=None,
             base_url=None):
        """Send a request as ``api``'s persona with exactly these headers.

        ``body`` is sent as is when it is ``str`` or ``bytes``, else as
        JSON. No microversion header is added. ``base_url`` is another API
        to send it to (see ``_start_stock_api``). Returns the ``requests``
        response.
        """
        api = api or self.admin_api
        request_headers = {
            # What keystonemiddleware would set from the token.
            'X-Auth-User': api.auth_user,
            'X-User-Id': api.auth_user,
            'X-Auth-Project-Id': api.project_id,
            'X-Roles': ','.join(api.roles),
            'Content-Type': 'application/json',
            'Accept': 'application/json',
        }
        request_headers.update(headers or {})
        if body is not None and not isinstance(body, (str, bytes)):
            body = jsonutils.dumps(body)
        return api.request((base_url or api.base_url) + path, method=method,
                           body=body, headers=request_headers)

    def _put(self, host, body, api=None, headers=None):
        return self._raw('PUT', '/os-hosts/%s' % host, body, headers, api)

    def _show(self, host, api=None, headers=None):
        return self._raw('GET', '/os-hosts/%s/state' % host, None, headers,
                         api)

    def assertNoServerError(self, response, what=''):
        self.assertLess(response.status_code, 500,
                        '%s: %s' % (what, response.text))

    def assertFault(self, response, status=None):
        """Assert ``response`` is one of nova's JSON faults.

        ``{"<name>": {"code": <status>, "message": "..."}}``; returns the
        message.
        """
        if status is not None:
            self.assertEqual(status, response.status_code, response.text)
        self.assertIn('application/json',
                      response.headers.get('Content-Type', ''),
                      response.text)
        body = jsonutils.loads(response.content)
        self.assertIsInstance(body, dict, response.text)
        self.assertEqual(1, len(body), response.text)
        fault = list(body.values())[0]
        self.assertEqual(response.status_code, fault['code'], response.text)
        self.assertIsInstance(fault['message'], str, response.text)
        return fault['message']

    # The rows of every cell database, as they are.

    def _cell_session(self, cell_name, writer=False):
        cctxt = nova_context.get_admin_context()
        nova_context.set_target_cell(cctxt, self.cell_mappings[cell_name])
        manager = main_db.get_context_manager(cctxt)
        return (manager.writer if writer else manager.reader).using(cctxt)

    def _snapshot(self):
        """Services, instances and instance actions of every cell.

        Service heartbeat columns (updated_at, report_count, last_seen_up)
        move on their own and are left out; every other column an update
        or a report could write is in.
        """
        service, instance = models.Service, models.Instance
        action = models.InstanceAction
        snapshot = {}
        for cell_name in sorted(self.cell_mappings):
            with self._cell_session(cell_name) as session:
                snapshot[cell_name] = {
                    'services': [tuple(row) for row in session.execute(
                        sa.select(service.id, service.host, service.binary,
                                  service.disabled, service.disabled_reason,
                                  service.forced_down, service.deleted)
                        .order_by(service.id))],
                    'instances': [tuple(row) for row in session.execute(
                        sa.select(instance.uuid, instance.host,
                                  instance.vm_state, instance.task_state,
                                  instance.power_state, instance.updated_at,
                                  instance.deleted)
                        .order_by(instance.id))],
                    'actions': [tuple(row) for row in session.execute(
                        sa.select(action.id, action.instance_uuid,
                                  action.action)
                        .order_by(action.id))],
                }
        return snapshot

    def _restore(self, snapshot):
        """Put every row of ``snapshot`` back as it was."""
        service, instance = models.Service, models.Instance
        action = models.InstanceAction
        for cell_name, rows in snapshot.items():
            with self._cell_session(cell_name, writer=True) as session:
                for (id_, _host, _binary, disabled, disabled_reason,
                     forced_down, _deleted) in rows['services']:
                    session.execute(
                        sa.update(service).where(service.id == id_)
                        .values(disabled=disabled,
                                disabled_reason=disabled_reason,
                                forced_down=forced_down,
                                updated_at=service.updated_at))
                for (uuid, host, vm_state, task_state, power_state,
                     updated_at, deleted) in rows['instances']:
                    session.execute(
                        sa.update(instance).where(instance.uuid == uuid)
                        .values(host=host, vm_state=vm_state,
                                task_state=task_state,
                                power_state=power_state,
                                updated_at=updated_at, deleted=deleted))
                session.execute(sa.delete(action).where(
                    action.id.not_in([row[0] for row in rows['actions']])))

    def _instances(self, snapshot=None):
        """``{uuid: (vm_state, task_state, power_state)}`` of every cell."""
        snapshot = snapshot or self._snapshot()
        return {row[0]: row[2:5]
                for rows in snapshot.values() for row in rows['instances']
                if not row[6]}

    def _actions(self, uuid, snapshot=None):
        """The instance actions of ``uuid``, oldest first."""
        snapshot = snapshot or self._snapshot()
        return [row[2] for rows in snapshot.values()
                for row in rows['actions'] if row[1] == uuid]

    def _service_row(self, host, snapshot=None):
        """``(disabled, disabled_reason, forced_down)`` of host's compute."""
        snapshot = snapshot or self._snapshot()
        for rows in snapshot.values():
            for row in rows['services']:
                if row[1] == host and row[2] == 'nova-compute':
                    return row[3:6]
        self.fail('No compute service row for %s' % host)

    def assertUnchanged(self, before, message=None):
        self.assertEqual(before, self._snapshot(), message)


class InformationLeakTest(RobustnessTestBase):
    """Who learns host names and host_status, and from which answers."""

    def setUp(self):
        super().setUp()
        # Booted by an admin of the other project, owned by that project.
        self.own = self._boot('host1', 'own', api=self.other_admin_api)
        self.admins = self._boot('host1', 'admins')

    def test_refusal_does_not_reveal_whether_a_host_exists(self):
        _allowed, denied = self._personas()
        requests = [('PUT', REPORT), ('PUT', CLEAR),
                    ('PUT', {'host': {'status': 'disable'}}),
                    ('PUT', {'host': {'maintenance_mode': 'enable'}}),
                    ('GET', None)]
        before = self._snapshot()
        for name, api in denied.items():
            for method, body in requests:
                answers = []
                for host in ('host1', NO_SUCH_HOST):
                    path = '/os-hosts/%s' % host
                    if method == 'GET':
                        path += '/state'
                    response = self._raw(method, path, body, api=api)
                    message = self.assertFault(response, 403)
                    self.assertNotIn(host, message)
                    answers.append((response.status_code, message))
                # Same answer for a host that exists and one that does not.
                self.assertEqual(answers[0], answers[1],
                                 '%s %s %s' % (name, method, body))
        self.assertUnchanged(before)

    def test_owner_of_a_server_learns_nothing_of_its_host(self):
        self._report_host_down('host1')

        server = self.other_member_api.get_server(self.own['id'])
        # The owner sees that the server stopped...
        self.assertEqual('SHUTOFF', server['status'])
        # ...and, by nova's default policy, nothing of the host.
        for key in ('host_status', 'OS-EXT-SRV-ATTR:host',
                    'OS-EXT-SRV-ATTR:hypervisor_hostname'):
            self.assertNotIn(key, server)
        self.assertNotIn('host1', jsonutils.dumps(server))
        # The action tells why, without naming the host.
        actions = self.other_member_api.get_instance_actions(self.own['id'])
        self.assertEqual('host_down_reported', actions[0]['action'])
        self.assertNotIn('host1', jsonutils.dumps(actions))
        # Servers of other projects stay invisible, and so do hosts.
        self.other_member_api.api_get(
            '/servers/%s' % self.admins['id'], check_response_status=[404])
        listed = self.other_member_api.get_servers()
        self.assertEqual([self.own['id']], [s['id'] for s in listed])
        for path in ('/os-hosts/host1/state', '/os-services',
                     '/os-hypervisors'):
            self.other_member_api.api_get(path, check_response_status=[403])

    def test_report_response_is_for_admins_only(self):
        # Only an admin gets the list of changed instances of every
        # project; a refused report returns none of it.
        response = self._put('host1', REPORT, api=self.other_member_api)
        self.assertFault(response, 403)
        self.assertNotIn(self.own['id'], response.text)
        host = self._report_host_down('host1', api=self.other_admin_api)
        self.assertEqual({self.own['id'], self.admins['id']},
                         {i['id'] for i in host['instances_changed']})


class RequestSizeLimitTest(RobustnessTestBase):
    """[oslo_middleware] max_request_body_size guards the extension too."""

    def test_body_over_the_limit_is_refused_before_anything_changes(self):
        server = self._boot('host1')
        self.flags(max_request_body_size=1024, group='oslo_middleware')
        body = {'host': {'host_down_reported': True, 'reason': 'x' * 255}}
        # Valid JSON, padded with whitespace past the limit.
        too_big = jsonutils.dumps(body) + ' ' * 1024
        before = self._snapshot()

        response = self._put('host1', too_big)

        self.assertEqual(413, response.status_code, response.text)
        self.assertUnchanged(before)
        # Just under the limit, the same report goes through.
        fits = jsonutils.dumps(body)
        fits += ' ' * (1024 - len(fits))
        response = self._put('host1', fits)
        self.assertEqual(200, response.status_code, response.text)
        self.assertEqual(
            [server['id']],
            [i['id'] for i in response.json()['host']['instances_changed']])
