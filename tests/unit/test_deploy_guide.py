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

"""The deploy guide's steps are what the local cloud does.

``tools/run-local-cloud.sh`` deploys the package into a stock Nova, and
CI runs its scenarios on it. Each configuring step of
``doc/source/deploy.rst`` is compared here with what the local cloud
writes and runs (``tools/local_cloud``): the paste line, the fault
monitor's policy, the options, the notification settings, the
ServiceGroup entry points, the database sync and the watcher. A guide
that drifts from the cloud CI proves it on fails here.
"""

import configparser
import os
import re
import sys
import textwrap
import types

import testtools

import nova_hoststatus.conf

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, 'tools'))

from local_cloud import common  # noqa: E402
from local_cloud import configs  # noqa: E402
from local_cloud import deploy  # noqa: E402
from local_cloud import topology  # noqa: E402


def guide_steps():
    """{number: text} of deploy.rst's numbered steps."""
    with open(os.path.join(REPO, 'doc', 'source', 'deploy.rst')) as f:
        lines = f.read().splitlines()
    steps, number = {}, None
    for i, line in enumerate(lines):
        start = re.match(r'^(\d+)\. ', line)
        if start:
            number = int(start.group(1))
            steps[number] = []
        elif i + 1 < len(lines) and re.match(r'^=+$', lines[i + 1]):
            number = None
        if number is not None:
            steps[number].append(line)
    return {number: '\n'.join(text) for number, text in steps.items()}


def literal_blocks(text):
    """The literal blocks (after ``::``) of a step, dedented."""
    blocks = re.findall(r'::\n\n((?:(?: {5,}.*)?\n)+)', text + '\n')
    return [textwrap.dedent(block).strip() for block in blocks]


def ini_options(block):
    """{(section, option): value} of an ini literal block."""
    parser = configparser.ConfigParser(inline_comment_prefixes=('#',))
    parser.read_string(block)
    return {(section, option): value
            for section in parser.sections()
            for option, value in parser.items(section)}


def fake_deployment():
    """What configs' functions read of a deployment, on the default cloud."""
    cloud = types.SimpleNamespace(
        layout=topology.SUPERCONDUCTOR,
        scenario=topology.SCENARIOS['fault'],
        series=topology.series('2026.2'),
        database='nova_cell0',
        cells=(types.SimpleNamespace(name='cell1', database='nova_cell1',
                                     vhost='cell1'),))
    commands = []
    deployment = types.SimpleNamespace(
        cloud=cloud, state='/state', etc='/etc', logs='/logs',
        password='secret', keystone_url='http://keystone',
        commands=commands,
        bin=lambda venv: '/bin',
        db_url=lambda name: 'mysql+pymysql://db/%s' % name,
        rabbit_url=lambda vhost: 'rabbit://mq/%s' % vhost,
        call=lambda command, log: commands.append(command),
        # Runs at once: the order of the commands is the deployer's.
        pool=types.SimpleNamespace(submit=lambda fn, *args: (
            fn(*args), types.SimpleNamespace(result=lambda: None))[1]))
    return deployment


class DeployGuideTest(testtools.TestCase):

    def setUp(self):
        super(DeployGuideTest, self).setUp()
        self.steps = guide_steps()
        self.blocks = {number: literal_blocks(text)
                       for number, text in self.steps.items()}
        self.d = fake_deployment()

    def test_the_steps_are_found(self):
        # Each step checked below has its blocks where the checks look.
        self.assertEqual(list(range(1, 10)), sorted(self.steps))
        for number in (2, 3, 4, 5, 7, 8):
            self.assertTrue(self.blocks[number], number)

    def test_paste_line(self):
        # Step 2: the local cloud's nova-api on 2026.2 reads the package's
        # file; the guide's line is in it.
        guide = ini_options(self.blocks[2][0])
        self.assertEqual('etc/nova-hoststatus/api-paste.ini',
                         self.d.cloud.series.api_paste)
        with open(os.path.join(REPO, self.d.cloud.series.api_paste)) as f:
            cloud = ini_options(f.read())
        for key, value in guide.items():
            self.assertEqual(value, cloud.get(key), key)
        # The other series run the command the guide gives.
        self.assertIn('nova-hoststatus-api-paste ', self.blocks[2][1])
        self.assertIsNone(topology.series('2026.1').api_paste)

    def test_fault_monitor_policy(self):
        # Step 3: the dedicated role's rules, as the cloud's monitor user
        # has them, and its role.
        rules = [line for block in self.blocks[3] for line in
                 block.splitlines() if line.startswith('"')]
        cloud = configs.fault_monitor_policy(self.d, None, None)
        self.assertEqual(sorted(rules), sorted(cloud.splitlines()))
        create = [line for line in self.blocks[3][0].splitlines()
                  if line.startswith('openstack role create ')]
        self.assertEqual(['openstack role create host_fault_monitor'],
                         create)
        self.assertIn('host_fault_monitor', common.USERS['monitor'][1])

    def test_options_are_defaults_the_cloud_keeps(self):
        # Step 4: the cloud does not set them; the guide's values are the
        # defaults.
        guide = ini_options(self.blocks[4][0])
        cloud = configs.nova_common(self.d)
        conf = nova_hoststatus.conf.CONF
        for (section, option), value in guide.items():
            self.assertNotIn(option, cloud.get(section, {}))
            self.assertEqual(value,
                             str(conf[section][option]), (section, option))

    def test_notifications(self):
        # Step 5: every Nova process of the cloud sends as the guide says.
        guide = ini_options(self.blocks[5][0])
        self.assertIn(('oslo_messaging_notifications', 'driver'), guide)
        cloud = configs.nova_common(self.d)
        for (section, option), value in guide.items():
            self.assertEqual(value, cloud[section][option],
                             (section, option))

    def test_servicegroup_entry_points(self):
        # Step 6: nova-api served from the guide's WSGI module, the
        # services started with the guide's console scripts.
        services = {s.name: s for s in topology.SERVICES}
        self.assertEqual('nova_hoststatus.servicegroup.wsgi:application',
                         services['nova-api'].wsgi)
        text = ' '.join(self.steps[6].split())
        self.assertIn(services['nova-api'].wsgi, text)
        for name in ('nova-conductor', 'nova-scheduler',
                     'nova-compute-{host}'):
            command = services[name].command[0]
            self.assertTrue(command.startswith(topology.NOVA_BIN), name)
            script = command[len(topology.NOVA_BIN):]
            self.assertIn('-%s``' % script, text)

    def test_db_sync_before_nova_api_starts(self):
        # Step 7: the guide's command, in the cloud's set-up of nova-api.
        guide = self.blocks[7][0].split()
        deploy.Deployment.nova_databases(self.d, None)
        ours = [c for c in self.d.commands
                if c[0].endswith('/nova-hoststatus-manage')]
        self.assertEqual(1, len(ours))
        # The fake deployment's etc directory is /etc.
        self.assertEqual(guide[1:], ours[0][1:])
        services = {s.name: s for s in topology.SERVICES}
        self.assertIn('nova_databases', services['nova-api'].setup)

    def test_watcher(self):
        # Step 8: one watcher, reading nova's own file.
        guide = self.blocks[8][0].split()
        watcher = {s.name: s for s in topology.SERVICES}[guide[0]]
        self.assertEqual((topology.NOVA_BIN + 'watcher',), watcher.command)
        self.assertEqual(('nova/nova.conf',), watcher.configs)
        self.assertEqual(['--config-file', '/etc/nova/nova.conf'],
                         guide[1:])
