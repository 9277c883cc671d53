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

"""Tests of the Masakari tasks, in Masakari's own test environment.

Masakari and Nova register options of the same names on oslo.config's
global configuration, so they cannot be imported in one process: these
tests run only in a test run of their own (tools/run-tests.sh)::

    NOVA_HOSTSTATUS_MASAKARI_TESTS=1 stestr --test-path ./tests/masakari run
"""

import importlib
import os
import sys

ENABLED = os.environ.get('NOVA_HOSTSTATUS_MASAKARI_TESTS') == '1'


def _masakari_test_base():
    """Masakari's test base where the tests import it from.

    Masakari 21 and later have it at ``masakari.tests.unit.base``; Masakari
    19 (2025.1) at ``masakari.test``, the same class.
    """
    try:
        importlib.import_module('masakari.tests.unit.base')
    except ImportError:
        sys.modules['masakari.tests.unit.base'] = importlib.import_module(
            'masakari.test')


if ENABLED:
    _masakari_test_base()


def load_tests(loader, standard_tests, pattern):
    if ENABLED:
        standard_tests.addTests(loader.discover(
            start_dir=os.path.dirname(__file__), pattern=pattern))
    return standard_tests
