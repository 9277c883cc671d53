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

"""nova-hoststatus-manage records: list and purge what is left."""

import io

import fixtures

from nova import context as nova_context

from nova_hoststatus import db
from nova_hoststatus import manage
from nova_hoststatus import prefault
from tests.functional import base


class RecordCommandsTest(base.HostStatusTestBase):

    def setUp(self):
        super().setUp()
        self.on_host1 = self._boot('host1', 'on-host1')
        self.on_host2 = self._boot('host2', 'on-host2')
        # host1 is reported down: its record is in use.
        self._report_host_down('host1')
        # host2's was left by a fault whose report is gone (as after the
        # package ran without its clear, or a rollback mid-fault).
        with base.cell_context(self) as cctxt:
            row, = db.instances_with_records(cctxt, [self.on_host2['id']])
            db.records_create(cctxt, db.PRE_FAULT_KEY, {
                row.uuid: prefault.encode('host2', prefault.new_fault(),
                                          row)})
        self.commands = manage.RecordCommands()

    def _records(self):
        with base.cell_context(self) as cctxt:
            return {(row.uuid, row.key)
                    for row in db.records_in_cell(cctxt)}

    def _run(self, command, **kwargs):
        out = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                   io.StringIO())).new_value
        self.assertEqual(0, getattr(self.commands, command)(**kwargs))
        return out.getvalue()

    def test_list(self):
        listed = self._run('list')

        for server in (self.on_host1, self.on_host2):
            self.assertIn(server['id'], listed)
        self.assertIn('pre-fault record', listed)
        self.assertNotIn(self.on_host2['id'], self._run('list', host='host1'))

    def test_purge_keeps_what_a_recovery_can_use(self):
        dry = self._run('purge', dry_run=True)
        self.assertIn('would remove 1 records', dry)
        self.assertEqual(2, len(self._records()))

        self.assertIn('removed 1 records', self._run('purge'))

        self.assertEqual({(self.on_host1['id'], db.PRE_FAULT_KEY)},
                         self._records())

    def test_purge_all(self):
        self._run('purge', purge_all=True)

        self.assertEqual(set(), self._records())


class DbCommandsTest(base.HostStatusTestBase):

    def test_sync_is_idempotent(self):
        # The test base synced once already; again changes nothing.
        out = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                   io.StringIO())).new_value
        context = nova_context.get_admin_context()
        db.host_attribute_set(context, 'host1', db.HOST_STATUS_TOLD, 'UP')

        self.assertEqual(0, manage.DbCommands().sync())

        self.assertIn('nova-hoststatus', out.getvalue())
        self.assertEqual({'host1': 'UP'}, db.host_attributes_get(
            context, db.HOST_STATUS_TOLD))
