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
* a batch that fails is tried again, up to ``[hoststatus]
  notification_send_attempts`` times with a growing wait in between (the
  batches behind it wait, to keep the order); then it is logged and the
  next one runs (at once if the package's table or its database is
  missing: no attempt would do better);
* nothing queued is dropped at a graceful stop: Nova's graceful shutdown of
  its executors waits for the worker, a service's ``stop()`` calls
  :func:`drain` (under native threads oslo.service ends its process with
  ``os._exit``, and atexit hooks do not run), and at interpreter exit
  :func:`drain` runs too; each waits for the queue up to ``[hoststatus]
  notification_drain_timeout``. Like every notification Nova sends, they
  are held in memory only: a process that is killed before they are sent
  does not send them.
"""

import atexit
import collections
import threading
import time

from oslo_db import exception as db_exc
from oslo_log import log as logging

from nova_hoststatus import compat
import nova_hoststatus.conf

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)

# Seconds between two attempts at most: the batches behind one wait.
MAX_RETRY_WAIT = 10


def _wait_before_retry(attempt):
    time.sleep(min(2 ** (attempt - 1), MAX_RETRY_WAIT))


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
                self._send(func, args)
        finally:
            if not idle:
                # Killed mid-batch: let the next submit start a worker.
                with self._cond:
                    self._draining = False
                    self._cond.notify_all()

    @staticmethod
    def _send(func, args):
        attempts = CONF.hoststatus.notification_send_attempts
        for attempt in range(1, attempts + 1):
            try:
                func(*args)
                return
            except (db_exc.DBNonExistentTable,
                    db_exc.CantStartEngineError):
                # No attempt can do better (the package's table is missing,
                # or this process has no such database): the batches behind
                # must not wait for it.
                LOG.exception('Failed to send notifications with %s: a '
                              'database or table is missing (has '
                              'nova-hoststatus-manage db sync run?); they '
                              'are not sent.', func)
                return
            except Exception:
                if attempt == attempts:
                    LOG.exception('Failed to send notifications with %s '
                                  '(%d attempts); they are not sent.',
                                  func, attempts)
                    return
                LOG.warning('Sending notifications with %(func)s failed '
                            '(attempt %(attempt)d of %(attempts)d); trying '
                            'again.', {'func': func, 'attempt': attempt,
                                       'attempts': attempts}, exc_info=True)
                _wait_before_retry(attempt)


EMITTER = Emitter()


def drain():
    """Wait for what is queued to be sent, as a stopping process must.

    Up to ``[hoststatus] notification_drain_timeout`` seconds.
    """
    if EMITTER.join(timeout=0):
        return
    timeout = CONF.hoststatus.notification_drain_timeout
    if not EMITTER.join(timeout):
        LOG.error('Notifications of host updates were still queued after '
                  '%s seconds; they are not sent.', timeout)


@atexit.register
def _drain_at_exit():
    drain()
