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

"""nova-api of the soak: the local cloud's, and the faults the soak arms.

Served by gunicorn in place of
``nova_hoststatus.servicegroup.wsgi:application`` by
``tools/run-local-cloud.sh soak`` and ``masakari`` only; nothing of it is
deployed. A scenario arms a fault by creating a file named after it in
``$HOSTSTATUS_SOAK_FAULTS``; the first worker to take it (an atomic
rename) acts on it in its next host update or host evacuation:

``api-killed-before-commit``
    the worker kills itself (SIGKILL) before the update's transaction;
``api-killed-after-commit``
    after it commits, before its notifications are queued and its answer
    is sent;
``api-killed-in-evacuate``
    in a host evacuation, once every server is marked and handed to
    Nova's evacuate, before the answer: what it sent is the watcher's to
    follow, and the caller, cut off, calls again;
``api-evacuate-cell-unavailable``
    a host evacuation answers 503 as when the database of the host's cell
    cannot be reached, nothing done: the masakari scenario's retried
    notification.
"""

import os
import signal

from nova_hoststatus.servicegroup import wsgi

from nova_hoststatus import exception
from nova_hoststatus.hostfault import api as hostfault_api
from nova_hoststatus.recovery import api as recovery_api

FAULTS = os.environ['HOSTSTATUS_SOAK_FAULTS']
_commit = hostfault_api.API._commit
_evacuate = recovery_api.API.evacuate


def _taken(name):
    """Whether this worker took the armed fault ``name``."""
    path = os.path.join(FAULTS, name)
    try:
        os.rename(path, '%s.taken-by-%d' % (path, os.getpid()))
    except FileNotFoundError:
        return False
    return True


def _commit_with_faults(self, *args, **kwargs):
    if _taken('api-killed-before-commit'):
        os.kill(os.getpid(), signal.SIGKILL)
    result = _commit(self, *args, **kwargs)
    if _taken('api-killed-after-commit'):
        os.kill(os.getpid(), signal.SIGKILL)
    return result


def _evacuate_with_faults(self, context, host, *args, **kwargs):
    if _taken('api-evacuate-cell-unavailable'):
        raise exception.CellUnavailable(cell='(armed fault)', host=host)
    results = _evacuate(self, context, host, *args, **kwargs)
    if _taken('api-killed-in-evacuate'):
        os.kill(os.getpid(), signal.SIGKILL)
    return results


hostfault_api.API._commit = _commit_with_faults
recovery_api.API.evacuate = _evacuate_with_faults
application = wsgi.application
