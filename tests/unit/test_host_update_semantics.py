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

"""The service-row semantics of a host update, without a database."""

import testtools

from nova import objects

from nova_hoststatus import exception
from nova_hoststatus import host_state
from nova_hoststatus.hostfault import api

MAINT = host_state.MAINTENANCE_REASON


def _service(disabled=False, reason=None, forced_down=False):
    return objects.Service(host='host1', disabled=disabled,
                           disabled_reason=reason, forced_down=forced_down)


class ServiceChangesTest(testtools.TestCase):

    def _changes(self, service, enabled=None, maintenance=None,
                 host_down_reported=None, reason=None):
        return api._service_changes(service, enabled, maintenance,
                                    host_down_reported, reason)

    def test_report_and_clear(self):
        self.assertEqual({'forced_down': True},
                         self._changes(_service(), host_down_reported=True))
        self.assertEqual({}, self._changes(_service(forced_down=True),
                                           host_down_reported=True))
        self.assertEqual({'forced_down': False},
                         self._changes(_service(forced_down=True),
                                       host_down_reported=False))

    def test_enable_disable(self):
        self.assertEqual({'disabled': True, 'disabled_reason': None},
                         self._changes(_service(), enabled=False))
        self.assertEqual({}, self._changes(_service(True, 'x'),
                                           enabled=False))
        self.assertEqual({'disabled': False, 'disabled_reason': None},
                         self._changes(_service(True, MAINT), enabled=True))

    def test_disable_with_reason(self):
        self.assertEqual({'disabled': True, 'disabled_reason': 'bad disk'},
                         self._changes(_service(), enabled=False,
                                       reason='bad disk'))
        # Already disabled: its reason stays.
        self.assertEqual({}, self._changes(_service(True, 'x'),
                                           enabled=False, reason='y'))
        # Maintenance keeps its own reason, whatever reason says.
        self.assertEqual({'disabled': True, 'disabled_reason': MAINT},
                         self._changes(_service(), maintenance=True,
                                       reason='firmware'))

    def test_maintenance(self):
        self.assertEqual({'disabled': True, 'disabled_reason': MAINT},
                         self._changes(_service(), maintenance=True))
        self.assertEqual({}, self._changes(_service(True, MAINT),
                                           maintenance=True))
        self.assertEqual({'disabled': False, 'disabled_reason': None},
                         self._changes(_service(True, MAINT),
                                       maintenance=False))
        # Leaving maintenance undoes only what maintenance did.
        self.assertEqual({}, self._changes(_service(True, 'bad disk'),
                                           maintenance=False))
        self.assertEqual({}, self._changes(_service(), maintenance=False))

    def test_maintenance_on_an_operator_disable_conflicts(self):
        self.assertRaises(exception.AlreadyDisabled, self._changes,
                          _service(True, 'bad disk'), maintenance=True)
        self.assertRaises(exception.AlreadyDisabled, self._changes,
                          _service(True, None), maintenance=True)

    def test_combinations(self):
        self.assertRaises(exception.ContradictoryHostUpdate, self._changes,
                          _service(), enabled=True, maintenance=True)
        self.assertEqual({'disabled': True, 'disabled_reason': MAINT},
                         self._changes(_service(), enabled=False,
                                       maintenance=True))
        self.assertEqual({'disabled': True, 'disabled_reason': None},
                         self._changes(_service(True, MAINT), enabled=False,
                                       maintenance=False))
        self.assertEqual({'disabled': False, 'disabled_reason': None,
                          'forced_down': True},
                         self._changes(_service(True, MAINT), enabled=True,
                                       maintenance=False,
                                       host_down_reported=True))
