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

"""The watcher's leadership, asked of the backend at every check."""

from unittest import mock

from nova import test
import tooz

from nova_hoststatus.watcher import watcher


class MySQLLock(object):
    """What the watcher sees of tooz's MySQL lock."""

    __module__ = 'tooz.drivers.mysql'
    name = b'nova-hoststatus-watcher'

    def __init__(self, connection_id_matches=True, closed=False):
        self._conn = mock.Mock()
        cursor = self._conn.cursor.return_value
        cursor.fetchone.return_value = (int(connection_id_matches),)
        if closed:
            cursor.execute.side_effect = OSError('connection closed')


class StillHeldTest(test.NoDBTestCase):

    def test_mysql_asks_the_server(self):
        self.assertTrue(watcher._still_held(MySQLLock()))
        self.assertFalse(watcher._still_held(
            MySQLLock(connection_id_matches=False)))

    def test_mysql_connection_closed(self):
        self.assertFalse(watcher._still_held(MySQLLock(closed=True)))

    def test_backend_that_cannot_say(self):
        lock = mock.Mock()
        lock.is_still_owner.side_effect = tooz.NotImplemented
        self.assertIsNone(watcher._still_held(lock))


class LeadTest(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.watching = watcher.HostStatusWatcher()
        self.watching._coordinator = mock.Mock()
        self.lock = mock.Mock()
        self.watching._lock = self.lock
        self.new_lock = self.watching._coordinator.get_lock.return_value

    def test_lost_lock_stops_telling(self):
        self.flags(coordination_url='mysql://nova:s3cret@db/nova_api',
                   group='hoststatus')
        self.lock.acquire.return_value = True
        self.assertTrue(self.watching._lead())
        self.lock.is_still_owner.return_value = False
        self.new_lock.acquire.return_value = False

        self.assertFalse(self.watching._lead())
        self.assertIs(self.new_lock, self.watching._lock)
        self.assertFalse(self.watching._lead())

        self.new_lock.acquire.return_value = True
        self.assertTrue(self.watching._lead())
        self.assertIn('lost the lock of mysql://db/nova_api',
                      self.stdlog.logger.output)
        self.assertNotIn('s3cret', self.stdlog.logger.output)

    def test_held_is_asked_at_every_check(self):
        self.lock.acquire.return_value = True
        self.lock.is_still_owner.return_value = True
        for _ in range(3):
            self.assertTrue(self.watching._lead())
        self.assertEqual(2, self.lock.is_still_owner.call_count)
        self.lock.acquire.assert_called_once_with(blocking=False)

    def test_backend_that_cannot_say_acquires_again(self):
        self.lock.acquire.return_value = True
        self.lock.is_still_owner.side_effect = tooz.NotImplemented
        self.new_lock.acquire.return_value = True
        self.watching._lead()

        self.assertTrue(self.watching._lead())
        self.lock.release.assert_called_once_with()
        self.new_lock.acquire.assert_called_once_with(blocking=False)


class BackendTest(test.NoDBTestCase):

    def test_no_credentials_in_the_logs(self):
        self.flags(coordination_url='mysql://nova:s3cret@db.example:3306/'
                   'nova_api?charset=utf8&password=other', group='hoststatus')
        self.assertEqual('mysql://db.example:3306/nova_api',
                         watcher.backend())

    def test_file_url(self):
        self.flags(coordination_url='file:///var/lib/nova/coordination',
                   group='hoststatus')
        self.assertEqual('file:///var/lib/nova/coordination',
                         watcher.backend())
