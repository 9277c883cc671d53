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

"""Send notifications off the request path, in the order they were queued.

An API request that committed a change queues the sending of its
notifications and returns; a worker on Nova's default executor
(:func:`nova_hoststatus.compat.spawn`, eventlet or native threads as the
service runs) sends them one batch after the other. So:

* the response time does not depend on how many notifications there are;
* notifications keep the order of the changes that caused them within the
  process (a report's notifications all go before those of the clear that
  follows it), which a pool of parallel workers would not;
* nothing queued is dropped: a batch that fails is logged and the next one
  runs; Nova's graceful shutdown of its executors waits for the worker, and
  at interpreter exit :func:`_drain_at_exit` waits for the queue, up to
  ``[hoststatus] notification_drain_timeout``. Like every notification
  Nova sends, they are held in memory only: a process that is killed
  before they are sent does not send them.
"""

import atexit
import collections
import threading

from oslo_log import log as logging

from nova_hoststatus import compat
import nova_hoststatus.conf

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)


class Emitter(object):
    """Run queued callables one at a time, in order, on a worker.

    At most one worker runs at a time; it is started by the first
    :meth:`submit` that finds none and ends when the queue is empty.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._queue = collections.deque()
        self._draining = False

    def submit(self, func, *args):
        """Queue ``func(*args)``; return at once."""
        with self._cond:
            self._queue.append((func, args))
            if self._draining:
                return
            self._draining = True
        try:
            # Looked up at each call: nova's test fixtures wrap it.
            compat.spawn(self._drain)
        except Exception:
            # The executors are shutting down; what is queued is committed,
            # so send it now rather than never.
            LOG.warning('No worker to send notifications; sending them '
                        'before returning.', exc_info=True)
            self._drain()

    def join(self, timeout=None):
        """Wait until everything queued so far is sent.

        :returns: False if ``timeout`` seconds passed first.
        """
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._draining and not self._queue, timeout)

    def _drain(self):
        idle = False
        try:
            while True:
                with self._cond:
                    if not self._queue:
                        idle = True
                        self._draining = False
                        self._cond.notify_all()
                        return
                    func, args = self._queue.popleft()
                try:
                    func(*args)
                except Exception:
                    LOG.exception('Failed to send notifications with %s',
                                  func)
        finally:
            if not idle:
                # Killed mid-batch: let the next submit start a worker.
                with self._cond:
                    self._draining = False
                    self._cond.notify_all()


EMITTER = Emitter()


@atexit.register
def _drain_at_exit():
    if EMITTER.join(timeout=0):
        return
    timeout = CONF.hoststatus.notification_drain_timeout
    if not EMITTER.join(timeout):
        LOG.error('Notifications of host updates were still queued after '
                  '%s seconds; they are not sent.', timeout)
