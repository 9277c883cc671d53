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

"""Request schema and policy defaults of PUT /os-hosts/{host_name}."""

import testtools

from nova.api.validation import validators
from nova import exception

from nova_hoststatus.api.schemas import hosts as schema
from nova_hoststatus import policies
from nova_hoststatus.policies import base as base_policies
from nova_hoststatus.policies import hosts as hosts_policies


class UpdateSchemaTest(testtools.TestCase):

    def _validate(self, body):
        validator = validators._SchemaValidator(schema.update)
        validator.validate(body)

    def test_valid(self):
        for body in (
                {'host': {'host_down_reported': True}},
                {'host': {'host_down_reported': 'false'}},
                {'host': {'host_down_reported': 'yes'}},
                {'host': {'status': 'enable'}},
                {'host': {'status': 'DISABLE', 'maintenance_mode': 'enable'}},
                {'host': {'maintenance_mode': 'Disable',
                          'host_down_reported': False}}):
            self._validate(body)

    def test_invalid(self):
        for body in (
                {}, {'host': {}}, {'host': None}, {'host': []},
                {'host': {'host_down_reported': 'maybe'}},
                {'host': {'host_down_reported': 2}},
                {'host': {'status': 'on'}},
                {'host': {'status': 'enable', 'other': 1}},
                {'host': {'status': 'enable'}, 'other': 1}):
            self.assertRaises(exception.ValidationError, self._validate,
                              body)


class PolicyDefaultsTest(testtools.TestCase):

    def test_rules_are_admin_only(self):
        rules = {rule.name: rule for rule in policies.list_rules()
                 if rule.name != base_policies.SERVICE_OR_ADMIN}
        self.assertEqual({hosts_policies.SHOW, hosts_policies.UPDATE,
                          hosts_policies.REPORT_HOST_DOWN,
                          hosts_policies.EVACUATE, hosts_policies.FORCE},
                         set(rules))
        for rule in rules.values():
            self.assertEqual('rule:context_is_admin', rule.check_str)
            self.assertEqual(['project'], rule.scope_types)
            self.assertTrue(rule.description)
