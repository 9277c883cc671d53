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

"""nova-hoststatus-watcher: UNKNOWN and back UP, told once, on real services.

A compute whose heartbeat goes stale is stopped first, so that only the test
moves its last heartbeat.
"""

import datetime
import threading
import time

from unittest import mock

import fixtures
import oslo_messaging as messaging
from oslo_utils import timeutils

from nova import context as nova_context

from nova_hoststatus import db
from nova_hoststatus.notifications import emitter
from nova_hoststatus.notifications import host_status
from nova_hoststatus.watcher import cmd
from nova_hoststatus.watcher import watcher
from tests.functional import base
from tests.functional import test_host_status

UP, DOWN = test_host_status.UP, test_host_status.DOWN
UNKNOWN = test_host_status.UNKNOWN
MAINTENANCE = test_host_status.MAINTENANCE


def _last_heartbeat(test, service_id, seconds_ago):
    last_seen_up = timeutils.utcnow() - datetime.timedelta(
        seconds=seconds_ago)
    with base.cell_context(test) as cctxt:
        db.service_compare_and_set(cctxt, service_id, {},
                                   {'last_seen_up': last_seen_up})


def _told_state(host):
    """What owners were last told of ``host``, as written down."""
    told = db.told_host_status(nova_context.get_admin_context(), host)
    return told and told.host_status


# Seconds ago, a last heartbeat that makes a service down.
STALE = watcher.CONF.service_down_time + 1


class WatcherTest(test_host_status.HostStatusUpdateTestBase):

    def setUp(self):
        super().setUp()
        self.computes['host1'].stop()
        self.service_id = self.computes['host1'].service_ref.id
        self.context = nova_context.get_admin_context()

    def _heartbeat(self, seconds_ago):
        _last_heartbeat(self, self.service_id, seconds_ago)

    def _stale(self):
        self._heartbeat(STALE)

    def _watcher(self):
        started = watcher.HostStatusWatcher()
        started.start()
        self.addCleanup(started.stop)
        return started

    def test_first_check_takes_note(self):
        self._stale()

        self.assertEqual([], self._watcher().check(self.context))
        self.assertIsNone(self._told())

    def test_unknown_and_back(self):
        watching = self._watcher()
        self.assertEqual([], watching.check(self.context))

        self._stale()
        self.assertEqual([('host1', UP, UNKNOWN)],
                         watching.check(self.context))
        self.assertEqual((UP, UNKNOWN, None), self._told())
        # Still stale: nothing new.
        self.assertEqual([], watching.check(self.context))

        self._heartbeat(0)
        self.assertEqual([('host1', UNKNOWN, UP)],
                         watching.check(self.context))
        self.assertEqual((UNKNOWN, UP, None), self._told())

    def test_down_or_maintenance_do_not_depend_on_heartbeats(self):
        watching = self._watcher()
        watching.check(self.context)
        self._put_host('host1', {'host_down_reported': True})
        self._told()

        self._stale()
        self.assertEqual([], watching.check(self.context))
        # Cleared with no heartbeat: nova-api tells of UNKNOWN.
        self._put_host('host1', {'host_down_reported': False})
        self.assertEqual((DOWN, UNKNOWN, None), self._told())
        self.assertEqual([], watching.check(self.context))
        # The compute is back: the watcher tells.
        self._heartbeat(0)
        watching.check(self.context)
        self.assertEqual((UNKNOWN, UP, None), self._told())

        # (A stopped compute reading up would hang the trait sync that
        # disabling calls.)
        self._stale()
        watching.check(self.context)
        self._told()
        self._put_host('host1', {'maintenance_mode': 'enable'})
        self.assertEqual((UNKNOWN, MAINTENANCE, None), self._told())
        self._heartbeat(0)
        self.assertEqual([], watching.check(self.context))
        self.assertIsNone(self._told())

    def test_two_watchers_tell_once(self):
        self.flags(coordination_url='file://%s' % self.useFixture(
            fixtures.TempDir()).path, group='hoststatus')
        first, second = self._watcher(), self._watcher()
        first.check(self.context)
        second.check(self.context)

        self._stale()
        self.assertEqual([('host1', UP, UNKNOWN)],
                         first.check(self.context))
        # The standby neither tells nor keeps anything.
        self.assertEqual([], second.check(self.context))
        # _told() asserts each server was told exactly once.
        self.assertEqual((UP, UNKNOWN, None), self._told())

        # The one that told stops; the other tells from its next check.
        first.stop()
        self._heartbeat(0)
        second.check(self.context)
        self.assertEqual((UNKNOWN, UP, None), self._told())

    def test_lost_lock(self):
        self.flags(coordination_url='file://%s' % self.useFixture(
            fixtures.TempDir()).path, group='hoststatus')
        leader, standby = self._watcher(), self._watcher()
        leader.check(self.context)
        standby.check(self.context)

        # The backend frees the leader's lock (its connection closed, its
        # lease expired); the standby takes it, and the old leader checks
        # while the standby tells.
        leader._lock.release()
        self._stale()
        send = host_status.send
        during = []

        def leader_checks_meanwhile(*args, **kwargs):
            if not during:
                during.append(None)
                during[0] = leader.check(self.context)
            return send(*args, **kwargs)

        with mock.patch.object(host_status, 'send',
                               side_effect=leader_checks_meanwhile):
            self.assertEqual([('host1', UP, UNKNOWN)],
                             standby.check(self.context))
        self.assertEqual([[]], during)
        self.assertEqual((UP, UNKNOWN, None), self._told())

        # It tells again once it has the lock again.
        standby.stop()
        self._heartbeat(0)
        self.assertEqual([('host1', UNKNOWN, UP)],
                         leader.check(self.context))
        self.assertEqual((UNKNOWN, UP, None), self._told())

    def test_restart_during_an_outage(self):
        before = self._watcher()
        before.check(self.context)
        self._stale()
        before.check(self.context)
        self.assertEqual((UP, UNKNOWN, None), self._told())
        before.stop()

        # Back while no watcher ran: the next one tells, once.
        self._heartbeat(0)
        after = self._watcher()
        self.assertEqual([('host1', UNKNOWN, UP)], after.check(self.context))
        self.assertEqual((UNKNOWN, UP, None), self._told())
        self.assertEqual([], after.check(self.context))
        self.assertIsNone(self._told())

    def test_restart_tells_nothing_twice(self):
        before = self._watcher()
        before.check(self.context)
        self._stale()
        before.check(self.context)
        self._told()
        before.stop()

        self.assertEqual([], self._watcher().check(self.context))
        self.assertIsNone(self._told())

    def test_crashed_leader(self):
        self.flags(coordination_url='file://%s' % self.useFixture(
            fixtures.TempDir()).path, group='hoststatus')
        leader, standby = self._watcher(), self._watcher()
        leader.check(self.context)
        self._stale()
        leader.check(self.context)
        self._told()

        # The leader dies holding the lock; the host comes back before the
        # backend frees it.
        self._heartbeat(0)
        self.assertEqual([], standby.check(self.context))
        self.assertIsNone(self._told())
        leader._lock.release()
        leader._leading = False

        self.assertEqual([('host1', UNKNOWN, UP)],
                         standby.check(self.context))
        self.assertEqual((UNKNOWN, UP, None), self._told())

    def test_failed_send_told_at_next_check(self):
        watching = self._watcher()
        watching.check(self.context)
        self._stale()
        with mock.patch.object(host_status, 'send',
                               side_effect=messaging.MessageDeliveryFailure):
            self.assertEqual([], watching.check(self.context))
        self.assertIsNone(self._told())

        self.assertEqual([('host1', UP, UNKNOWN)],
                         watching.check(self.context))
        self.assertEqual((UP, UNKNOWN, None), self._told())

    def test_nova_api_writes_down_a_report_it_told(self):
        watching = self._watcher()
        watching.check(self.context)
        self._stale()
        # Reported and cleared within one interval, the compute dead: the
        # owners were told UNKNOWN to DOWN and DOWN to UNKNOWN by nova-api;
        # the watcher must not tell UNKNOWN again, from UP.
        self._put_host('host1', {'host_down_reported': True})
        self.assertEqual((UNKNOWN, DOWN, None), self._told())
        self._put_host('host1', {'host_down_reported': False})
        self.assertEqual((DOWN, UNKNOWN, None), self._told())
        self.assertEqual(UNKNOWN, _told_state('host1'))

        self.assertEqual([], watching.check(self.context))
        self.assertIsNone(self._told())

    def test_compares_with_what_nova_api_told(self):
        watching = self._watcher()
        watching.check(self.context)
        self._stale()
        watching.check(self.context)
        self._told()
        # Within one interval nova-api tells UNKNOWN to MAINTENANCE and
        # back to UNKNOWN; the watcher compares with the last.
        self._put_host('host1', {'maintenance_mode': 'enable'})
        self.assertEqual((UNKNOWN, MAINTENANCE, None), self._told())
        self._put_host('host1', {'maintenance_mode': 'disable'})
        self.assertEqual((MAINTENANCE, UNKNOWN, None), self._told())
        self.assertEqual([], watching.check(self.context))

        self._heartbeat(0)
        self.assertEqual([('host1', UNKNOWN, UP)],
                         watching.check(self.context))
        self.assertEqual((UNKNOWN, UP, None), self._told())

    def _report_lost(self):
        """A watcher checks; host1 is reported and its nova-api dies.

        It dies before telling: the batch it queued was never sent.

        :returns: the watcher, and the batch as a function and arguments.
        """
        watching = self._watcher()
        watching.check(self.context)
        lost = []
        with mock.patch.object(emitter.EMITTER, 'submit',
                               side_effect=lambda *args: lost.append(args)):
            self._put_host('host1', {'host_down_reported': True})
        (func, *args), = lost
        return watching, func, args

    def test_report_untold_by_nova_api_told_at_the_next_check(self):
        watching, _func, _args = self._report_lost()

        # nova-api may still be telling: not yet.
        self.assertEqual([], watching.check(self.context))
        self.assertIsNone(self._told())
        self.assertEqual([('host1', UP, DOWN)], watching.check(self.context))
        self.assertEqual((UP, DOWN, None), self._told())
        self.assertEqual([], watching.check(self.context))
        self.assertIsNone(self._told())

    def test_report_told_by_nova_api_meanwhile_not_told_again(self):
        watching, func, args = self._report_lost()
        self.assertEqual([], watching.check(self.context))

        # nova-api's batch is sent between the checks.
        func(*args)
        self.assertEqual((UP, DOWN, None), self._told())
        self.assertEqual([], watching.check(self.context))
        self.assertEqual([], watching.check(self.context))
        self.assertIsNone(self._told())

    def test_batch_in_flight_at_the_next_check_not_told_twice(self):
        watching, _func, _args = self._report_lost()
        self.assertEqual([], watching.check(self.context))

        # A batch of the host took its number and is sending: still
        # untold, but not the watcher's to tell.
        db.host_sequence_next(self.context, 'host1')
        self.assertEqual([], watching.check(self.context))
        self.assertIsNone(self._told())

    def test_late_nova_api_batch_does_not_tell_again(self):
        watching, func, args = self._report_lost()
        watching.check(self.context)
        self.assertEqual([('host1', UP, DOWN)], watching.check(self.context))
        self._told()

        # nova-api's batch, sent after all: owners know already.
        func(*args)
        self.assertIsNone(self._told())
        self.assertEqual(DOWN, _told_state('host1'))

    def test_compute_that_disables_itself_is_told(self):
        watching = self._watcher()
        watching.check(self.context)
        # As nova-compute does after consecutive failed builds: no request
        # to nova-api.
        with base.cell_context(self) as cctxt:
            db.service_compare_and_set(
                cctxt, self.service_id, {},
                {'disabled': True, 'disabled_reason': 'Auto-disabled'})

        self.assertEqual([], watching.check(self.context))
        self.assertEqual([('host1', UP, MAINTENANCE)],
                         watching.check(self.context))
        self.assertEqual((UP, MAINTENANCE, None), self._told())

    def test_greater_sequence_written_down_first_is_kept(self):
        self.assertTrue(db.record_told(self.context, 'host1', DOWN, 7))
        self.assertFalse(db.record_told(self.context, 'host1', UP, 6))
        self.assertEqual(db.Told(DOWN, 7),
                         db.told_host_status(self.context, 'host1'))
        self.assertTrue(db.record_told(self.context, 'host1', UP, 8))
        self.assertEqual(UP, _told_state('host1'))


class WatcherServiceTest(test_host_status.HostStatusUpdateTestBase):
    """The console script's service checks on its timer."""

    def test_checks_every_interval(self):
        self.flags(watch_interval=0.1, group='hoststatus')
        service = cmd.WatcherService()
        service.start()
        self.addCleanup(service.stop)
        self.computes['host1'].stop()
        self._wait_for(lambda: _told_state('host1'))

        _last_heartbeat(self, self.computes['host1'].service_ref.id, STALE)
        # The watcher sends on its own thread: all of them, not the first.
        self._wait_for(lambda: len([
            n for n in self.notifier.versioned_notifications
            if n['event_type'] == 'host_status.update']) >= len(self.servers))
        self.assertEqual((UP, UNKNOWN, None), self._told())

    def test_stop_sends_what_is_queued(self):
        service = cmd.WatcherService()
        service.start()
        sending = threading.Event()
        sent = []
        emitter.EMITTER.submit(sending.wait, 5)
        emitter.EMITTER.submit(sent.append, 'queued')
        # Sent while stop() waits, not at exit (there is none under
        # cotyledon's os._exit).
        threading.Timer(0.2, sending.set).start()

        service.stop()

        self.assertEqual(['queued'], sent)

    def _wait_for(self, condition):
        for _ in range(200):
            if condition():
                return
            time.sleep(0.05)
        self.fail('not within 10 seconds')
