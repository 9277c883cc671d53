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

"""gunicorn settings of the local cloud's WSGI applications.

    gunicorn -c tools/local_cloud/gunicorn_conf.py --bind ... MODULE:app

Nova's and Keystone's WSGI modules parse the process's command line with
oslo.config (under uWSGI or mod_wsgi it holds no options); under gunicorn
it is gunicorn's, which they refuse. Each worker drops it before it loads
the application, and says after whether it runs under eventlet, which
local_cloud.deploy checks.
"""

import os
import sys

# Two for the soak's nova-api (local_cloud.topology).
workers = int(os.environ.get('HOSTSTATUS_WSGI_WORKERS', 1))
# sync for a nova-api under eventlet: gthread's poller and thread pool are
# made before the application is loaded, hence before eventlet patches.
worker_class = os.environ.get('HOSTSTATUS_WSGI_WORKER_CLASS', 'gthread')
# More than one makes gunicorn run gthread whatever the class.
threads = 8 if worker_class == 'gthread' else 1
# Loading Nova takes seconds on a busy machine.
timeout = 300
# A stopping worker sends the notifications it has queued first: give it
# longer than [hoststatus] notification_drain_timeout (60 s).
graceful_timeout = 75
# Idle keep-alive connections stay open longer than the clients leave them
# unused: one closed by gunicorn (2 s by default) just as a client reuses
# it is a connection reset to that client.
keepalive = 75
# Not gunicorn's default socket in $HOME, shared by every instance.
control_socket_disable = True


# What each worker says once its application is loaded.
MODE = 'Application loaded; threading: %s'


def post_fork(server, worker):
    sys.argv[1:] = []


def post_worker_init(worker):
    eventlet = sys.modules.get('eventlet')
    patched = eventlet and eventlet.patcher.is_monkey_patched('thread')
    worker.log.info(MODE, 'eventlet' if patched else 'native')
