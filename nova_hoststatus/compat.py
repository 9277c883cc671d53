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

"""What moved in Nova between the releases the package runs on.

Nova 31 (2025.1) to 34 (2026.2) differ, for this package, only in:

* the default executor: ``nova.thread_pool_factory.spawn`` in 34,
  ``nova.utils.spawn`` before (a GreenPool in 31, an executor in 32-33);
* monkey patching: ``nova.monkey_patch.patch(backend=)`` in 33-34,
  ``patch()`` in 32, none in 31, which patches when the module is imported
  (eventlet only);
* ``nova.api.validation.validated``, absent in 31;
* the maximum API microversion.

Nova's names are looked up when a function here is called, never bound at
import: Nova's own test fixtures replace them (``nova.utils.spawn``,
``nova.thread_pool_factory.spawn``) and expect every caller to get the
replacement. Importing this module imports nothing of Nova, so that it can
run before Nova's monkey patching.
"""

import importlib
import importlib.metadata
import inspect
import sys

# The module whose spawn() is Nova's default executor, found at first use.
_spawn_module = None


def nova_version():
    """The installed Nova's release, e.g. (34, 0, 0), without importing it."""
    version = importlib.metadata.version('nova')
    return tuple(int(part) for part in version.split('.')[:3]
                 if part.isdigit())


def _find_spawn_module():
    global _spawn_module
    try:
        importlib.import_module('nova.thread_pool_factory')
        _spawn_module = 'nova.thread_pool_factory'
    except ImportError:
        # Nova 33 and older.
        importlib.import_module('nova.utils')
        _spawn_module = 'nova.utils'
    return _spawn_module


def spawn(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` on Nova's default executor.

    A native thread or a greenthread, as the service runs; the request
    context of the caller is kept for logging, as Nova's own spawn does.
    What it returns differs by release (a future, or in Nova 31 a
    greenthread): callers must not rely on it.
    """
    module = sys.modules.get(_spawn_module) or importlib.import_module(
        _spawn_module or _find_spawn_module())
    return module.spawn(func, *args, **kwargs)


def monkey_patch(backend='eventlet'):
    """Patch for eventlet, or not, as Nova's own services do; call it first.

    ``backend`` is the default of the service, as Nova 33 and 34 take it
    ('threading' for nova-api); ``OS_NOVA_DISABLE_EVENTLET_PATCHING``
    decides whenever it is set. Nova 32 patches by its environment variable
    only, Nova 31 when ``nova.monkey_patch`` is imported (unless that
    variable is true).
    """
    monkey_patch = importlib.import_module('nova.monkey_patch')
    patch = getattr(monkey_patch, 'patch', None)
    if patch is None:
        return
    if 'backend' in inspect.signature(patch).parameters:
        patch(backend=backend)
    else:
        patch()


def eventlet_patched():
    """Whether this process runs Nova under eventlet."""
    monkey_patch = sys.modules.get('nova.monkey_patch')
    is_patched = getattr(monkey_patch, 'is_patched', None)
    if is_patched is not None:
        return is_patched()
    eventlet = sys.modules.get('eventlet')
    return bool(eventlet and eventlet.patcher.is_monkey_patched('thread'))


def service_backend():
    """The default concurrency of Nova's own services, as conductor's.

    Native threads from Nova 34; eventlet before (Nova 33 runs only
    nova-api, the scheduler and the metadata API in native threads by
    default, "experimental", Nova 31 has none).
    """
    return 'threading' if nova_version() >= (34,) else 'eventlet'


def fixtures_native_threads():
    """Whether Nova's own test fixtures run in native threads.

    From Nova 34 on; Nova 33's walk eventlet's greenthreads (its
    FakeVersionedNotifier), Nova 31 has no native threads at all. The
    embedded cloud of the demo and the tests runs on those fixtures.
    """
    return nova_version() >= (34,)


def validated(cls):
    """``nova.api.validation.validated``, where Nova has it (32 and later).

    It only marks a controller whose every method has its schemas; Nova 31
    checks nothing of the kind.
    """
    from nova.api import validation

    mark = getattr(validation, 'validated', None)
    return mark(cls) if mark is not None else cls


def max_microversion():
    """The highest API microversion the installed Nova serves: '2.104'..."""
    from nova.api.openstack import api_version_request

    return api_version_request._MAX_API_VERSION
