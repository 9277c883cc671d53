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

"""host_status.update for every change of a host's host_status, through REST.

Real API, conductor, scheduler and computes; the changes are made through
this package's PUT /os-hosts and stock's PUT /os-services as a client sends
them, and Nova's NotificationFixture catches what is sent.
"""

import threading
from unittest import mock

import ddt
from oslo_utils import timeutils

from nova import utils

from nova_hoststatus.notifications import emitter
from nova_hoststatus.notifications import host_status
from tests.functional import base

UP, DOWN = 'UP', 'DOWN'
MAINTENANCE, UNKNOWN = 'MAINTENANCE', 'UNKNOWN'


class HostStatusUpdateTestBase(base.HostStatusTestBase):
    """Servers of two projects on host1, one on host2."""

    def setUp(self):
        super().setUp()
        # Owners told all (test_notifications.HostStatusPolicyTest: what
        # else they are told).
        self._let_owners_see()
        self.servers = self._create_servers_in_db('host1', 2)
        self.servers += self._create_servers_in_db(
            'host1', 1, project_id=base.OTHER_PROJECT_ID, name='other')
        self.on_host2 = self._create_servers_in_db('host2', 1, name='h2')
        self.owners = dict.fromkeys(self.servers[:2],
                                    self.api_fixture.project_id)
        self.owners[self.servers[2]] = base.OTHER_PROJECT_ID

    def _told(self):
        """(previous, current, reason) told since the last call, or None.

        Asserts that each server of host1 was told exactly once.
        """
        self.assertTrue(emitter.EMITTER.join(timeout=10))
        told = [n['payload']['nova_object.data']
                for n in self.notifier.versioned_notifications
                if n['event_type'] == 'host_status.update']
        self.notifier.reset()
        if not told:
            return None
        self.assertEqual(sorted(self.servers),
                         sorted(data['instance_uuid'] for data in told))
        for data in told:
            self.assertEqual(self.owners[data['instance_uuid']],
                             data['project_id'])
            self.assertEqual('bulk', data['user_id'])
            self.assertEqual('host1', data['host'])
            self.assertIsNotNone(data['changed_at'])
        changes = {(data['previous_host_status'], data['host_status'],
                    data['reason']) for data in told}
        self.assertEqual(1, len(changes), changes)
        return changes.pop()


class PackageRoutesTest(HostStatusUpdateTestBase):
    """PUT /os-hosts/{host_name}: report, clear, maintenance, status."""

    def test_report_and_clear(self):
        self._put_host('host1', {'host_down_reported': True,
                                 'reason': 'fenced'})
        self.assertEqual((UP, DOWN, 'fenced'), self._told())

        self._put_host('host1', {'host_down_reported': False})
        self.assertEqual((DOWN, UP, None), self._told())

    def test_maintenance_and_back(self):
        self._put_host('host1', {'maintenance_mode': 'enable',
                                 'reason': 'firmware'})
        self.assertEqual((UP, MAINTENANCE, 'firmware'), self._told())

        self._put_host('host1', {'maintenance_mode': 'disable'})
        self.assertEqual((MAINTENANCE, UP, None), self._told())

    def test_disable_and_enable(self):
        self._put_host('host1', {'status': 'disable', 'reason': 'disks'})
        self.assertEqual((UP, MAINTENANCE, 'disks'), self._told())

        self._put_host('host1', {'status': 'enable'})
        self.assertEqual((MAINTENANCE, UP, None), self._told())

    def test_report_in_maintenance(self):
        self._put_host('host1', {'maintenance_mode': 'enable'})
        self._told()

        self._put_host('host1', {'host_down_reported': True})
        self.assertEqual((MAINTENANCE, DOWN, None), self._told())
        # Cleared, the host is back in maintenance, not up.
        self._put_host('host1', {'host_down_reported': False})
        self.assertEqual((DOWN, MAINTENANCE, None), self._told())

    def test_no_change_tells_nothing(self):
        self._put_host('host1', {'host_down_reported': True})
        self._told()

        # Disabling a forced-down host leaves it DOWN.
        self._put_host('host1', {'status': 'disable'})
        self.assertIsNone(self._told())

    def test_repeated_report_tells_nothing_again(self):
        self._put_host('host1', {'host_down_reported': True})
        self._told()

        # Owners know DOWN (one the first report did not tell, its
        # nova-api dead, the watcher tells).
        self._put_host('host1', {'host_down_reported': True,
                                 'reason': 'still down'})
        self.assertIsNone(self._told())

    def test_refused_update_tells_nothing(self):
        self._put_host('host1', {'host_down_reported': True},
                       api=self.member_api, status=403)
        self._put_host('host1', {'status': 'enable', 'maintenance_mode':
                                 'enable'}, status=400)
        self.assertIsNone(self._told())


@ddt.ddt
class StockRoutesTest(HostStatusUpdateTestBase):
    """Stock os-services, at the microversions clients send them."""

    def setUp(self):
        super().setUp()
        self.service_id = self._compute_service('host1')['id']

    def _put_service(self, body, microversion='2.53', status=200, api=None,
                     service_id=None):
        api = api or self.admin_api
        api.microversion = microversion
        try:
            return api.api_put(
                '/os-services/%s' % (service_id or self.service_id), body,
                check_response_status=[status]).body
        finally:
            api.microversion = self.microversion

    def test_disable_and_enable(self):
        # openstack compute service set --disable --disable-reason ...
        self._put_service({'status': 'disabled',
                           'disabled_reason': 'firmware'})
        self.assertEqual((UP, MAINTENANCE, 'firmware'), self._told())

        self._put_service({'status': 'enabled'})
        self.assertEqual((MAINTENANCE, UP, None), self._told())

    def test_force_down_and_up(self):
        self._put_service({'forced_down': True})
        self.assertEqual((UP, DOWN, None), self._told())

        self._put_service({'forced_down': False})
        self.assertEqual((DOWN, UP, None), self._told())

    @ddt.data('2.11', '2.52')
    def test_legacy_force_down(self, microversion):
        body = {'host': 'host1', 'binary': 'nova-compute'}
        self._put_service(dict(body, forced_down=True), microversion,
                          service_id='force-down')
        self.assertEqual((UP, DOWN, None), self._told())

        self._put_service(dict(body, forced_down=False), microversion,
                          service_id='force-down')
        self.assertEqual((DOWN, UP, None), self._told())

    def test_legacy_enable_disable(self):
        body = {'host': 'host1', 'binary': 'nova-compute'}
        self._put_service(body, '2.1', service_id='disable')
        self.assertEqual((UP, MAINTENANCE, None), self._told())
        self._put_service(body, '2.1', service_id='enable')
        self.assertEqual((MAINTENANCE, UP, None), self._told())

        self._put_service(dict(body, disabled_reason='disks'), '2.1',
                          service_id='disable-log-reason')
        self.assertEqual((UP, MAINTENANCE, 'disks'), self._told())

    def test_no_change_tells_nothing(self):
        self._put_service({'status': 'disabled'})
        self._told()

        self._put_service({'status': 'disabled'})
        # A new reason is no new host_status.
        self._put_service({'status': 'disabled', 'disabled_reason': 'x'})
        self.assertIsNone(self._told())

    def test_refused_requests_tell_nothing(self):
        self._put_service({'forced_down': True}, api=self.member_api,
                          status=403)
        self._put_service({'status': 'bogus'}, status=400)
        self._put_service({'forced_down': True}, status=404,
                          service_id='e0b1d5d5-0000-4000-8000-000000000000')
        self._put_service({'host': 'nowhere', 'binary': 'nova-compute',
                           'forced_down': True}, '2.11', status=404,
                          service_id='force-down')
        self.assertIsNone(self._told())
        self.assertFalse(self._compute_service('host1')['forced_down'])

    def test_only_that_hosts_servers_are_told(self):
        self._put_service({'forced_down': True},
                          service_id=self._compute_service('host2')['id'])

        self.assertTrue(emitter.EMITTER.join(timeout=10))
        self.assertEqual(
            [(self.on_host2[0], 'host2', UP, DOWN)],
            [(data['instance_uuid'], data['host'],
              data['previous_host_status'], data['host_status'])
             for data in (n['payload']['nova_object.data']
                          for n in self.notifier.versioned_notifications
                          if n['event_type'] == 'host_status.update')])


ADMIN_ONLY = 'rule:context_is_admin'
READERS = 'rule:project_reader_or_admin'
MEMBERS_ONLY = 'role:member and project_id:%(project_id)s'


@ddt.ddt
class HostStatusPolicyTest(HostStatusUpdateTestBase):
    """What each owner is told, by Nova's host_status rules for it."""

    def _send(self, previous, current, reason='power supply failure'):
        """{uuid: payload data} of the host_status.update sent."""
        with base.cell_context(self) as cctxt:
            host_status.send(cctxt, 'host1', previous, current, reason,
                             timeutils.utcnow(), 1)
        told = {n['payload']['nova_object.data']['instance_uuid']:
                n['payload']['nova_object.data']
                for n in self.notifier.versioned_notifications
                if n['event_type'] == 'host_status.update'}
        self.notifier.reset()
        return told

    def _host_id(self, server):
        return utils.generate_hostid('host1', self.owners[server])

    @ddt.data((UP, DOWN), (UP, UNKNOWN), (UNKNOWN, UP), (UP, MAINTENANCE))
    @ddt.unpack
    def test_nova_default_tells_owners_nothing(self, previous, current):
        self._let_owners_see(ADMIN_ONLY, ADMIN_ONLY)
        self.assertEqual({}, self._send(previous, current))

    @ddt.data((UP, DOWN), (UP, UNKNOWN), (DOWN, UP))
    @ddt.unpack
    def test_host_status_rule_tells_all(self, previous, current):
        self._let_owners_see(READERS, ADMIN_ONLY)
        told = self._send(previous, current)
        self.assertEqual(sorted(self.servers), sorted(told))
        for uuid, data in told.items():
            self.assertEqual(
                {'host': 'host1', 'host_id': self._host_id(uuid),
                 'host_status': current, 'previous_host_status': previous,
                 'reason': 'power supply failure'},
                {key: data[key] for key in ('host', 'host_id', 'host_status',
                                            'previous_host_status',
                                            'reason')})

    @ddt.data((UP, DOWN), (DOWN, MAINTENANCE), (DOWN, UP))
    @ddt.unpack
    def test_unknown_only_tells_nothing_of_other_changes(
            self, previous, current):
        self._let_owners_see(ADMIN_ONLY, READERS)
        self.assertEqual({}, self._send(previous, current))

    @ddt.data((UP, UNKNOWN, 'host_status'),
              (UNKNOWN, UP, 'previous_host_status'),
              (UNKNOWN, DOWN, 'previous_host_status'))
    @ddt.unpack
    def test_unknown_only_tells_unknown_without_host_or_reason(
            self, previous, current, field):
        self._let_owners_see(ADMIN_ONLY, READERS)
        told = self._send(previous, current)
        self.assertEqual(sorted(self.servers), sorted(told))
        for uuid, data in told.items():
            # The API's hostId of the server stands for the host.
            self.assertEqual(
                {'instance_uuid', 'project_id', 'user_id', 'host_id',
                 'changed_at', 'sequence', field}, set(data))
            self.assertEqual(UNKNOWN, data[field])
            self.assertEqual(self._host_id(uuid), data['host_id'])
            self.assertNotEqual(self._host_id(self.servers[0]),
                                self._host_id(self.servers[2]))

    def test_each_owner_by_its_own_project(self):
        # Only the first project's readers see host_status.
        self._let_owners_see(
            'role:reader and project_id:%s' % self.api_fixture.project_id,
            ADMIN_ONLY)
        told = self._send(UP, DOWN)
        self.assertEqual(sorted(self.servers[:2]), sorted(told))
        self.assertNotIn(self.servers[2], told)

    def test_owner_roles_decide_a_members_rule(self):
        self._let_owners_see(MEMBERS_ONLY, ADMIN_ONLY)
        self.assertEqual(3, len(self._send(UP, DOWN)))
        self.flags(owner_roles=['reader'], group='hoststatus')
        self.assertEqual({}, self._send(UP, DOWN))

    def test_through_the_api_by_default(self):
        self._let_owners_see(ADMIN_ONLY, ADMIN_ONLY)
        self._put_host('host1', {'host_down_reported': True,
                                 'reason': 'fenced'})
        self.assertIsNone(self._told())


class RacingWorkersTest(HostStatusUpdateTestBase):
    """Two nova-api workers, each with its emitter, report and clear."""

    def _updates(self):
        told = [n['payload']['nova_object.data']
                for n in self.notifier.versioned_notifications
                if n['event_type'] == 'host_status.update']
        self.notifier.reset()
        return told

    def test_report_sent_after_the_clear_is_dropped(self):
        first, second = emitter.Emitter(), emitter.Emitter()
        gate = threading.Event()
        # The first worker is busy: the report's batch waits behind.
        first.submit(gate.wait, 30)
        with mock.patch.object(emitter, 'EMITTER', first):
            self._put_host('host1', {'host_down_reported': True})
        with mock.patch.object(emitter, 'EMITTER', second):
            self._put_host('host1', {'host_down_reported': False})
        self.assertTrue(second.join(timeout=10))
        cleared = self._updates()
        self.assertEqual({DOWN}, {data['previous_host_status']
                                  for data in cleared})
        gate.set()
        self.assertTrue(first.join(timeout=10))

        # The report no longer holds: its batch told no one, so the clear
        # is the last thing owners were told, and the truth.
        self.assertEqual([], self._updates())
        with base.cell_context(self) as cctxt:
            now = host_status.current_of(cctxt, 'host1')
        self.assertEqual({now}, {data['host_status'] for data in cleared})

    def test_sequence_grows_with_each_change(self):
        self._put_host('host1', {'host_down_reported': True})
        self.assertTrue(emitter.EMITTER.join(timeout=10))
        reported = {data['sequence'] for data in self._updates()}
        self._put_host('host1', {'host_down_reported': False})
        self.assertTrue(emitter.EMITTER.join(timeout=10))
        cleared = {data['sequence'] for data in self._updates()}
        # One number for all the servers of one change.
        self.assertEqual(1, len(reported))
        self.assertEqual(1, len(cleared))
        self.assertGreater(cleared.pop(), reported.pop())
