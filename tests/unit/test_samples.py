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

"""The committed policy samples and the oslo generator commands.

The commands run as a deployer runs them, as console scripts of the
environment the tests run in, from the top of the source tree.
"""

import os
import shutil
import subprocess
import sys

import fixtures
import testtools
import yaml

from nova.policies import base as nova_base_policies
from nova import policies as nova_policies

from nova_hoststatus import policies

REPO_ROOT = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
POLICY_GENERATOR_CONF = os.path.join('etc', 'oslo-policy-generator',
                                     'nova-hoststatus.conf')
CONFIG_GENERATOR_CONF = os.path.join('etc', 'oslo-config-generator',
                                     'nova-hoststatus.conf')
POLICY_SAMPLE = os.path.join('policies', 'nova-hoststatus.policy.yaml.sample')
NFV_OWNER_SAMPLE = os.path.join('policies', 'nfv-owner-host-status.yaml')

HOST_STATUS = 'os_compute_api:servers:show:host_status'
HOST_STATUS_UNKNOWN_ONLY = HOST_STATUS + ':unknown-only'


def _read(path):
    with open(os.path.join(REPO_ROOT, path)) as f:
        return f.read()


class GeneratorTestCase(testtools.TestCase):

    def _run(self, command, *args):
        """Run a console script; return its stdout, fail on an error."""
        script = os.path.join(os.path.dirname(sys.executable), command)
        if not os.path.exists(script):
            script = shutil.which(command)
        self.assertIsNotNone(script, '%s is not installed' % command)
        result = subprocess.run([script] + list(args), cwd=REPO_ROOT,
                                capture_output=True, text=True)
        self.assertEqual(
            0, result.returncode,
            '%s %s failed:\n%s' % (command, ' '.join(args), result.stderr))
        return result.stdout

    def _output_file(self, name):
        return os.path.join(self.useFixture(fixtures.TempDir()).path, name)


class PolicySampleTest(GeneratorTestCase):

    def test_committed_sample_is_current(self):
        generated = self._output_file('policy.yaml.sample')
        self._run('oslopolicy-sample-generator',
                  '--config-file', POLICY_GENERATOR_CONF,
                  '--output-file', generated)
        with open(generated) as f:
            self.assertEqual(
                f.read(), _read(POLICY_SAMPLE),
                '%s is stale: regenerate it with "oslopolicy-sample-generator '
                '--config-file %s"' % (POLICY_SAMPLE, POLICY_GENERATOR_CONF))

    def test_generator_config_file(self):
        conf = _read(POLICY_GENERATOR_CONF)
        self.assertIn('output_file = %s\n' % POLICY_SAMPLE, conf)
        self.assertIn('namespace = nova_hoststatus\n', conf)

    def test_generator_by_namespace(self):
        output = self._run('oslopolicy-sample-generator',
                           '--namespace', 'nova_hoststatus')
        self.assertEqual(_read(POLICY_SAMPLE), output)

    def test_sample_holds_every_rule_commented_out_with_its_default(self):
        sample = _read(POLICY_SAMPLE)
        rules = list(policies.list_rules())
        self.assertEqual(['nova_hoststatus:service_or_admin',
                          'nova_hoststatus:os-hosts:show',
                          'nova_hoststatus:os-hosts:update',
                          'nova_hoststatus:os-hosts:report-host-down',
                          'nova_hoststatus:os-hosts:evacuate',
                          'nova_hoststatus:os-hosts:force'],
                         [rule.name for rule in rules])
        for rule in rules:
            self.assertIn('#"%s": "%s"\n' % (rule.name, rule.check_str),
                          sample)
        # Commented out: loading the sample changes no default.
        self.assertIsNone(yaml.safe_load(sample))


class ConfigGeneratorTest(GeneratorTestCase):

    def test_generator_by_namespace(self):
        output = self._run('oslo-config-generator',
                           '--namespace', 'nova_hoststatus')
        self.assertIn('\n[hoststatus]\n', output)
        self.assertIn('\n#target_vm_state = stopped\n', output)

    def test_generator_config_file(self):
        conf = _read(CONFIG_GENERATOR_CONF)
        self.assertIn('namespace = nova_hoststatus\n', conf)
        generated = self._output_file('nova-hoststatus.conf.sample')
        self._run('oslo-config-generator',
                  '--config-file', CONFIG_GENERATOR_CONF,
                  '--output-file', generated)
        with open(generated) as f:
            output = f.read()
        self.assertIn('\n[hoststatus]\n', output)
        self.assertIn('\n#target_vm_state = stopped\n', output)


class NFVOwnerSampleTest(testtools.TestCase):
    """policies/nfv-owner-host-status.yaml against Nova 34's own rules."""

    def setUp(self):
        super().setUp()
        self.rules = yaml.safe_load(_read(NFV_OWNER_SAMPLE))

    def test_rules(self):
        self.assertEqual(
            {HOST_STATUS: 'rule:project_reader_or_admin',
             HOST_STATUS_UNKNOWN_ONLY: 'rule:project_reader_or_admin'},
            self.rules)

    def test_rules_are_nova_rules_admin_only_by_default(self):
        defaults = {rule.name: rule.check_str
                    for rule in nova_policies.list_rules()}
        for name in self.rules:
            self.assertEqual(nova_base_policies.ADMIN, defaults[name])

    def test_base_rule_is_nova_reader_rule(self):
        base_rules = {rule.name: rule.check_str
                      for rule in nova_base_policies.list_rules()}
        self.assertEqual('rule:project_reader_api or rule:context_is_admin',
                         base_rules['project_reader_or_admin'])
        self.assertEqual('role:reader and project_id:%(project_id)s',
                         base_rules['project_reader_api'])
