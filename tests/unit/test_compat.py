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

"""nova_hoststatus.compat on the installed Nova, and on the others' shapes.

The same tests run on every Nova series (tools/run-tests.sh with
HOSTSTATUS_SERIES): the installed release's names are checked for real,
the other releases' by giving ``nova.monkey_patch`` and
``nova.api.validation`` their shapes.
"""

import importlib
import subprocess
import sys
import threading
import types
from unittest import mock

import fixtures
import testtools

from nova.api.openstack import api_version_request
from nova import test

from nova_hoststatus import compat

# What the installed release has, by its version.
NOVA = compat.nova_version()
SPAWN_MODULE = 'nova.thread_pool_factory' if NOVA >= (34,) else 'nova.utils'


def nova_modules_imported_by(module):
    """The nova modules a fresh interpreter holds once ``module`` is in."""
    code = ('import sys; import %s; print("\\n".join(sorted('
            'm for m in sys.modules if m.split(".")[0] == "nova")))' % module)
    output = subprocess.check_output([sys.executable, '-c', code], text=True)
    return output.split()


class NovaVersionTest(testtools.TestCase):

    def test_release_of_the_installed_nova(self):
        self.assertGreaterEqual(NOVA, (31,))
        self.assertEqual(3, len(NOVA))

    def test_max_microversion_is_nova_own(self):
        self.assertEqual(api_version_request._MAX_API_VERSION,
                         compat.max_microversion())
        minimum = {31: '2.100', 32: '2.100', 33: '2.103', 34: '2.104'}
        if NOVA[0] in minimum:
            self.assertEqual(
                api_version_request.APIVersionRequest(minimum[NOVA[0]]),
                api_version_request.APIVersionRequest(
                    compat.max_microversion()))


class SpawnTest(test.NoDBTestCase):
    # Nova's test case: it gives each test executors of its own.

    def test_runs_on_the_release_executor(self):
        done = threading.Event()
        compat.spawn(done.set)
        self.assertTrue(done.wait(10))

    def test_a_stub_of_nova_spawn_is_honoured(self):
        # Nova's fixtures replace its spawn after the package is imported.
        calls = []
        self.useFixture(fixtures.MonkeyPatch(
            SPAWN_MODULE + '.spawn',
            lambda func, *args, **kwargs: calls.append((func, args,
                                                        kwargs))))
        compat.spawn(len, 'abc', key=1)
        self.assertEqual([(len, ('abc',), {'key': 1})], calls)

    def test_nova_without_thread_pool_factory_uses_utils_spawn(self):
        # Nova 33 and older.
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.compat._spawn_module', None))
        real_import = importlib.import_module

        def import_module(name, *args):
            if name == 'nova.thread_pool_factory':
                raise ImportError(name)
            return real_import(name, *args)

        self.useFixture(fixtures.MonkeyPatch(
            'importlib.import_module', import_module))
        # Nova 34 has none: the test gives it one.
        spawn = self.useFixture(fixtures.MockPatch('nova.utils.spawn',
                                                   create=True)).mock
        compat.spawn(len, 'abc')
        spawn.assert_called_once_with(len, 'abc')


class MonkeyPatchTest(testtools.TestCase):

    def _nova_monkey_patch(self, **attrs):
        module = types.ModuleType('nova.monkey_patch')
        module.__dict__.update(attrs)
        patcher = mock.patch.dict(sys.modules, {'nova.monkey_patch': module})
        patcher.start()
        self.addCleanup(patcher.stop)
        return module

    def test_backend_given_to_nova_33_and_later(self):
        calls = []
        self._nova_monkey_patch(
            patch=lambda backend='eventlet': calls.append(backend))
        compat.monkey_patch('threading')
        self.assertEqual(['threading'], calls)

    def test_nova_32_patch_takes_no_backend(self):
        calls = []
        self._nova_monkey_patch(patch=lambda: calls.append(None))
        compat.monkey_patch('threading')
        self.assertEqual([None], calls)

    def test_nova_31_patched_at_import(self):
        self._nova_monkey_patch()
        compat.monkey_patch('threading')

    def test_importing_compat_imports_no_nova_module(self):
        # The entry points call it before Nova's monkey patching.
        self.assertEqual([],
                         nova_modules_imported_by('nova_hoststatus.compat'))


class ValidatedTest(testtools.TestCase):

    def test_nova_mark_where_nova_has_it(self):
        from nova.api import validation

        class Controller(object):
            pass

        self.assertIs(Controller, compat.validated(Controller))
        if hasattr(validation, 'validated'):
            self.assertTrue(Controller._validated)

    def test_nova_31_has_none(self):
        from nova.api import validation

        if hasattr(validation, 'validated'):
            self.useFixture(fixtures.MonkeyPatch(
                'nova.api.validation.validated', fixtures.MonkeyPatch.delete))

        class Controller(object):
            pass

        self.assertIs(Controller, compat.validated(Controller))
        self.assertFalse(hasattr(Controller, '_validated'))
