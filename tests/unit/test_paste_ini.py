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

"""The package's api-paste.ini, made from the installed Nova's own file."""

import io
import os
from unittest import mock

import fixtures
from paste.deploy import loadwsgi
import testtools

from nova_hoststatus.api import paste_ini
from nova_hoststatus.api import router
from nova_hoststatus import compat

REPO_ROOT = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
SHIPPED = os.path.join(REPO_ROOT, 'etc', 'nova-hoststatus', 'api-paste.ini')


def _read(path):
    with open(path) as f:
        return f.read()


def _without_comments(text):
    return [line for line in text.splitlines()
            if line.strip() and not line.startswith('#')]


class RewriteTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.stock = _read(paste_ini.stock_file())

    def test_one_line_of_stock_changes(self):
        result = paste_ini.rewrite(self.stock)
        stock, lines = self.stock.splitlines(), result.splitlines()
        self.assertEqual(len(stock), len(lines))
        self.assertEqual(
            [('paste.app_factory = ' + paste_ini.STOCK_FACTORY,
              'paste.app_factory = ' + paste_ini.FACTORY)],
            [(a, b) for a, b in zip(stock, lines) if a != b])
        self.assertEqual(paste_ini.rewrite(result), result)

    def test_loads_the_package_router(self):
        path = self.useFixture(fixtures.TempDir()).join('api-paste.ini')
        with open(path, 'w') as f:
            f.write(paste_ini.rewrite(self.stock))
        context = loadwsgi.loadcontext(loadwsgi.APP, 'config:' + path,
                                       name='osapi_compute_app_v21')
        self.assertEqual(router.APIRouterV21.factory, context.object)

    def test_generated_file_is_the_rewritten_stock_file(self):
        self.assertEqual(paste_ini.rewrite(self.stock),
                         _read(paste_ini.generated_file()))

    def test_other_sections_and_line_endings_are_kept(self):
        text = ('[app:other]\r\npaste.app_factory = a:b\r\n'
                '[app:osapi_compute_app_v21]\r\n'
                'paste.app_factory  =  x:y  \r\n')
        self.assertEqual(
            '[app:other]\r\npaste.app_factory = a:b\r\n'
            '[app:osapi_compute_app_v21]\r\n'
            'paste.app_factory  =  %s  \r\n' % paste_ini.FACTORY,
            paste_ini.rewrite(text))

    def test_no_compute_app_is_an_error(self):
        self.assertRaises(ValueError, paste_ini.rewrite,
                          '[app:other]\npaste.app_factory = a:b\n')

    def test_shipped_file_is_nova_34_stock_with_one_line_changed(self):
        # etc/nova-hoststatus/api-paste.ini is 2026.2's (Nova 33's file is
        # the same, Nova 31's has the noauth2 pipelines too).
        if compat.nova_version()[0] != 34:
            self.skipTest('stock api-paste.ini of Nova 34 only')
        self.assertEqual(_without_comments(paste_ini.rewrite(self.stock)),
                         _without_comments(_read(SHIPPED)))


class CommandTest(testtools.TestCase):

    def test_prints_the_installed_nova_file_rewritten(self):
        stdout = io.StringIO()
        with mock.patch('sys.stdout', stdout):
            self.assertEqual(0, paste_ini.main([]))
        self.assertEqual(
            paste_ini.rewrite(_read(paste_ini.stock_file())),
            stdout.getvalue())

    def test_rewrites_a_file_in_place(self):
        path = self.useFixture(fixtures.TempDir()).join('api-paste.ini')
        with open(path, 'w') as f:
            f.write(_read(paste_ini.stock_file()))
        self.assertEqual(0, paste_ini.main([path, '-o', path]))
        self.assertEqual(
            paste_ini.rewrite(_read(paste_ini.stock_file())), _read(path))

    def test_a_file_without_the_compute_app_is_refused(self):
        path = self.useFixture(fixtures.TempDir()).join('api-paste.ini')
        with open(path, 'w') as f:
            f.write('[app:other]\n')
        stderr = io.StringIO()
        with mock.patch('sys.stderr', stderr):
            error = self.assertRaises(SystemExit, paste_ini.main, [path])
        self.assertEqual(1, error.code)
        self.assertIn('no paste.app_factory', stderr.getvalue())
