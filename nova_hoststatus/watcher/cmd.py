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

"""The nova-hoststatus-watcher console script.

Takes nova's configuration files, as nova's own services do::

    nova-hoststatus-watcher --config-file /etc/nova/nova.conf

It needs the API database (``[api_database]``), the servicegroup settings of
nova-api, the notification transport, and ``[hoststatus]`` options.
"""
# Native threads or eventlet, as nova-conductor of the installed Nova does
# (native threads from Nova 34), before any other import.
from nova_hoststatus import compat
compat.monkey_patch(compat.service_backend())

import sys  # noqa: E402

from oslo_log import log as logging  # noqa: E402
from oslo_service import service  # noqa: E402

from nova import config  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova import objects  # noqa: E402

import nova_hoststatus.conf  # noqa: E402
from nova_hoststatus.notifications import emitter  # noqa: E402
from nova_hoststatus import servicegroup  # noqa: E402
from nova_hoststatus.watcher import watcher  # noqa: E402

CONF = nova_hoststatus.conf.CONF
LOG = logging.getLogger(__name__)


class WatcherService(service.Service):
    """Runs a HostStatusWatcher's check every watch_interval seconds."""

    def __init__(self):
        super().__init__()
        self.watcher = watcher.HostStatusWatcher()

    def start(self):
        super().start()
        self.watcher.start()
        self.tg.add_timer(CONF.hoststatus.watch_interval, self._check,
                          initial_delay=0)
        LOG.info('Watching compute heartbeats every %s seconds.',
                 CONF.hoststatus.watch_interval)

    def _check(self):
        try:
            self.watcher.check(nova_context.get_admin_context())
        except Exception:
            # The next check compares with what was known: nothing is lost
            # that is still true then.
            LOG.exception('Checking the compute services failed.')

    def stop(self, graceful=True):
        super().stop(graceful)
        self.watcher.stop()
        # Here, not at exit: under native threads oslo.service ends the
        # process with os._exit, and atexit hooks do not run.
        emitter.drain()


def main():
    config.parse_args(sys.argv)
    logging.setup(CONF, 'nova')
    objects.register_all()
    servicegroup.install()
    service.launch(CONF, WatcherService(), restart_method='mutate').wait()
