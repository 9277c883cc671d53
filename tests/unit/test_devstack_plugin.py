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

"""The devstack plugin, its phases run by bash on files in a temp dir.

tests/devstack/run-phase.sh sources the plugin's settings and plugin.sh as
stack.sh does, with stand-ins of devstack's helpers (tests/devstack/shim.sh)
that edit real files and record what would change the system (pip,
systemctl). The files are a copy of stock Nova's api-paste.ini, and the
files of devstack's default cells layout (superconductor): nova.conf on
cell0 for nova-api, the scheduler and the super-conductor, one
nova_cell<N>.conf per cell conductor, nova-cpu.conf made from nova.conf
when the computes start, a uWSGI ini and systemd units, all written as
devstack writes them. ``run-phase.sh stack`` runs stack.sh's sequence in
one shell, with configure_neutron_nova in the background as stack.sh runs
it.
"""

import configparser
import glob
import os
import re
import shutil
import subprocess
import sys

import fixtures
from paste.deploy import loadwsgi
import testtools

from nova_hoststatus.api import paste_ini
from nova_hoststatus.api import router

REPO_ROOT = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
RUN_PHASE = os.path.join(REPO_ROOT, 'tests', 'devstack', 'run-phase.sh')
SHIM = os.path.join(REPO_ROOT, 'tests', 'devstack', 'shim.sh')
# Stock Nova's file, as its wheel installs it.
STOCK_PASTE = os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')
NFV_POLICY = os.path.join(REPO_ROOT, 'policies',
                          'nfv-owner-host-status.yaml')
# The console scripts of Nova and of this package, side by side.
BIN_DIR = os.path.dirname(sys.executable)

SHELL_FILES = [
    'devstack/plugin.sh',
    'devstack/settings',
    'tests/devstack/shim.sh',
    'tests/devstack/run-phase.sh',
    'tools/run-local-cloud.sh',
]

RABBIT = 'rabbit://stackrabbit:secret@127.0.0.1:5672/'
DB = 'mysql+pymysql://root:secret@127.0.0.1/%s?charset=utf8'
# A pre-release of the next Nova, as devstack installs master from git.
GIT_NOVA = '34.0.0.0b2.dev42'

# nova.conf as lib/nova's create_nova_conf leaves it in the superconductor
# layout (the parts that matter here): nova-api, the scheduler and the
# super-conductor on cell0.
NOVA_CONF = """\
[DEFAULT]
debug = True
transport_url = {rabbit}

[wsgi]
api_paste_config = {conf_dir}/api-paste.ini

[database]
connection = {cell0}

[api_database]
connection = {api}

[oslo_messaging_notifications]
driver = messagingv2
transport_url = {rabbit}

[notifications]
notification_format = {notification_format}
"""

# A cell conductor's file, from the same function: its own database and
# RabbitMQ vhost, nothing about notifications.
CELL_CONF = """\
[database]
connection = {db}

[conductor]
workers = 2

[DEFAULT]
debug = True
transport_url = {rabbit}nova_cell{cell}

[placement]
region_name = RegionOne
"""

# lib/apache's write_uwsgi_config for nova-api.
UWSGI_INI = """\

[uwsgi]
module = nova.wsgi.osapi_compute:application
processes = 2
master = true
die-on-term = true
enable-threads = true
plugins = http,python3
lazy-apps = true
socket = /var/run/uwsgi/nova-api.socket
"""

# functions-common's write_user_unit_file.
UNIT = """\

[Unit]
Description = Devstack devstack@{name}.service

[Service]
Environment = "PATH=/opt/stack/data/venv/bin:/usr/bin"
User = stack
ExecStart = {command}
KillMode = process
TimeoutStopSec = 300
ExecReload = /usr/bin/kill -HUP $MAINPID

[Install]
WantedBy = multi-user.target
"""

# The units devstack starts with a fake virt driver, two fake computes and
# a superconductor, as lib/nova's start functions name them.
UNITS = {
    'n-api': '/usr/local/bin/uwsgi --procname-prefix nova-api '
             '--ini {conf_dir}/nova-api-uwsgi.ini',
    'n-sch': '{bin}/nova-scheduler --config-file {conf_dir}/nova.conf',
    'n-super-cond': '{bin}/nova-conductor --config-file '
                    '{conf_dir}/nova.conf',
    'n-cond-cell1': '{bin}/nova-conductor --config-file '
                    '{conf_dir}/nova_cell1.conf',
    'n-cpu-1': '{bin}/nova-compute --config-file {conf_dir}/nova-cpu.conf '
               '--config-file {conf_dir}/nova-fake.conf-1',
    'n-cpu-2': '{bin}/nova-compute --config-file {conf_dir}/nova-cpu.conf '
               '--config-file {conf_dir}/nova-fake.conf-2',
    'n-api-meta': '/usr/local/bin/uwsgi --procname-prefix nova-api-meta '
                  '--ini {conf_dir}/nova-metadata-uwsgi.ini',
}
SWAPPED = {
    'n-sch': 'nova-hoststatus-scheduler',
    'n-super-cond': 'nova-hoststatus-conductor',
    'n-cond-cell1': 'nova-hoststatus-conductor',
    'n-cpu-1': 'nova-hoststatus-compute',
    'n-cpu-2': 'nova-hoststatus-compute',
}
# ENABLED_SERVICES once lib/nova has started the conductors of the
# superconductor layout (what the extra phase sees).
ENABLED_SERVICES = ('key,placement-api,n-api,n-api-meta,n-cond,n-sch,'
                    'n-cpu,n-super-cond,n-cond-cell1,mysql,rabbit')
# As local.conf and stackrc have it: the cell conductors are enabled by
# lib/nova when it starts them.
STACK_ENABLED_SERVICES = ('key,placement-api,n-api,n-api-meta,n-cond,'
                          'n-sch,n-cpu,mysql,rabbit')


def _ini(path):
    # [DEFAULT] is a section like the others here; oslo.config's
    # fallbacks are spelled out by _nova_option.
    parser = configparser.RawConfigParser(strict=False,
                                          default_section='__none__')
    parser.read(path)
    return parser


def _nova_option(files, group, option, deprecated_group=None):
    """The value a Nova service started with these files reads, or None.

    As oslo.config: the last file that sets the option wins; its own
    group before its deprecated one.
    """
    value = None
    for path in files:
        conf = _ini(path)
        for section in (group, deprecated_group):
            if section and conf.has_option(section, option):
                value = conf.get(section, option)
                break
    return value


def _notification_settings(files):
    return {
        'driver': _nova_option(
            files, 'oslo_messaging_notifications', 'driver'),
        # oslo.messaging sends notifications to [DEFAULT] transport_url
        # when its own is unset.
        'transport_url': _nova_option(
            files, 'oslo_messaging_notifications', 'transport_url',
            'DEFAULT'),
        'notification_format': _nova_option(
            files, 'notifications', 'notification_format', 'DEFAULT'),
        'notify_on_state_change': _nova_option(
            files, 'notifications', 'notify_on_state_change', 'DEFAULT'),
    }


def _config_files(command):
    return [arg for option, arg in zip(command, command[1:])
            if option == '--config-file']


def _without_comments(path):
    with open(path) as f:
        return [line for line in f.read().splitlines()
                if line.strip() and not line.startswith('#')]


def _requirements(path, without=None):
    with open(path) as f:
        lines = [line.strip() for line in f.read().splitlines()
                 if line.strip() and not line.startswith('#')]
    if without:
        lines = [line for line in lines
                 if not re.match(r'%s\s*([<>=!~;\[]|$)' % without, line,
                                 re.IGNORECASE)]
    return lines


class ShellStyleTest(testtools.TestCase):

    def test_bash_syntax(self):
        for name in SHELL_FILES:
            result = subprocess.run(
                ['bash', '-n', os.path.join(REPO_ROOT, name)],
                capture_output=True, text=True)
            self.assertEqual(0, result.returncode,
                             '%s: %s' % (name, result.stderr))

    def test_bashate(self):
        bashate = os.path.join(BIN_DIR, 'bashate')
        self.assertTrue(os.path.exists(bashate),
                        'bashate is in test-requirements.txt')
        # Every rule an error, the long-line rule included.
        result = subprocess.run(
            [bashate, '--error', 'E'] + SHELL_FILES, cwd=REPO_ROOT,
            capture_output=True, text=True)
        self.assertEqual(0, result.returncode,
                         result.stdout + result.stderr)


class DevstackPluginTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.conf_dir = os.path.join(self.root, 'etc', 'nova')
        self.systemd_dir = os.path.join(self.root, 'systemd')
        self.log = os.path.join(self.root, 'calls.log')
        os.makedirs(self.conf_dir)
        os.makedirs(self.systemd_dir)
        shutil.copy(STOCK_PASTE, self.paste)
        self._write_nova_conf('unversioned')
        self._add_cell(1)
        with open(self.uwsgi_ini, 'w') as f:
            f.write(UWSGI_INI)
        for name, command in UNITS.items():
            self._write_unit(name, command.format(
                bin=BIN_DIR, conf_dir=self.conf_dir))
        self.env = {
            'PATH': os.environ['PATH'],
            'HOME': self.root,
            'SHIM_PLUGIN_DIR': REPO_ROOT,
            'SHIM_LOG': self.log,
            'SHIM_PYTHON': sys.executable,
            'NOVA_CONF_DIR': self.conf_dir,
            'SYSTEMD_DIR': self.systemd_dir,
            'DEST': os.path.join(self.root, 'opt', 'stack'),
            'ENABLED_SERVICES': ENABLED_SERVICES,
        }

    @property
    def paste(self):
        return os.path.join(self.conf_dir, 'api-paste.ini')

    @property
    def nova_conf(self):
        return os.path.join(self.conf_dir, 'nova.conf')

    @property
    def cpu_conf(self):
        return os.path.join(self.conf_dir, 'nova-cpu.conf')

    def cell_conf(self, cell):
        return os.path.join(self.conf_dir, 'nova_cell%d.conf' % cell)

    @property
    def uwsgi_ini(self):
        return os.path.join(self.conf_dir, 'nova-api-uwsgi.ini')

    @property
    def policy(self):
        return os.path.join(self.conf_dir, 'policy.d',
                            'nfv-owner-host-status.yaml')

    def _unit(self, name):
        return os.path.join(self.systemd_dir, 'devstack@%s.service' % name)

    def _dropin(self, name):
        return self._unit(name) + '.d/nova-hoststatus.conf'

    def _write_unit(self, name, command):
        with open(self._unit(name), 'w') as f:
            f.write(UNIT.format(name=name, command=command))

    def _write_nova_conf(self, notification_format, extra='', default=''):
        text = NOVA_CONF.format(
            conf_dir=self.conf_dir, rabbit=RABBIT, cell0=DB % 'nova_cell0',
            api=DB % 'nova_api', notification_format=notification_format)
        # [DEFAULT] options lib/nova sets, first in the file.
        text = text.replace('[DEFAULT]\n', '[DEFAULT]\n' + default, 1)
        with open(self.nova_conf, 'w') as f:
            f.write(text + extra)

    def _add_cell(self, cell):
        """A cell as lib/nova makes it: its conductor's file and unit."""
        with open(self.cell_conf(cell), 'w') as f:
            f.write(CELL_CONF.format(db=DB % ('nova_cell%d' % cell),
                                     rabbit=RABBIT, cell=cell))
        self._write_unit('n-cond-cell%d' % cell,
                         '%s/nova-conductor --config-file %s'
                         % (BIN_DIR, self.cell_conf(cell)))

    def _run(self, *phase, status=0, **env):
        result = subprocess.run(
            ['bash', RUN_PHASE] + list(phase), env=dict(self.env, **env),
            capture_output=True, text=True, timeout=120)
        self.assertEqual(status, result.returncode,
                         'run-phase.sh %s:\n%s%s' % (
                             ' '.join(phase), result.stdout, result.stderr))
        return result

    def _stack(self, **env):
        """stack.sh's phases in one shell, with its background job."""
        env.setdefault('ENABLED_SERVICES', STACK_ENABLED_SERVICES)
        return self._run('stack', **env)

    def _calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [line for line in f.read().splitlines()
                    if not line.startswith('define_plugin')]

    def _snapshot(self):
        files = {}
        for path in glob.glob(os.path.join(self.root, '**'),
                              recursive=True):
            if os.path.isfile(path) and path != self.log:
                with open(path) as f:
                    files[path] = f.read()
        return files

    def _command(self, name):
        """The command a unit runs: its drop-in's, else its own."""
        if os.path.exists(self._dropin(name)):
            with open(self._dropin(name)) as f:
                return f.read().splitlines()[-1].split('=', 1)[1]
        with open(self._unit(name)) as f:
            for line in f.read().splitlines():
                if line.startswith('ExecStart = '):
                    return line.split(' = ', 1)[1]

    def _services(self):
        """Each Nova service that sends notifications, with its files.

        Read from what devstack and the plugin start: the units' commands,
        nova-api's (uWSGI, which reads nova.conf) and the watcher's.
        """
        services = {}
        for unit in glob.glob(self._unit('*')):
            name = os.path.basename(unit)[len('devstack@'):-len('.service')]
            command = self._command(name).split()
            if name == 'n-api':
                services[name] = [self.nova_conf]
            elif os.path.basename(command[0]).startswith('nova'):
                services[name] = _config_files(command)
        watcher = [call for call in self._calls()
                   if call.startswith('run_process hs-watcher ')]
        self.assertEqual(1, len(watcher), self._calls())
        services['hs-watcher'] = _config_files(watcher[0].split())
        return services

    def _assert_notifications(self, files, notification_format='both',
                              notify_on_state_change='vm_state'):
        self.assertEqual(
            {'driver': 'messagingv2',
             'transport_url': RABBIT,
             'notification_format': notification_format,
             'notify_on_state_change': notify_on_state_change},
            _notification_settings(files), files)

    # stack install

    def _installed(self, project, venv=''):
        """pip's calls: the package's requirements but nova, then it."""
        requirements = _requirements(
            os.path.join(project, 'requirements.txt'), without='nova')
        return ['pip_install -r %s PIP_VIRTUAL_ENV=%s'
                % (','.join(requirements), venv),
                'pip_install --no-deps -e %s PIP_VIRTUAL_ENV=%s'
                % (project, venv)]

    def test_install_into_global_venv(self):
        self._run('stack', 'install')
        self.assertEqual(self._installed(REPO_ROOT), self._calls())

    def test_install_into_nova_venv(self):
        self._run('stack', 'install', USE_VENV='True',
                  SHIM_NOVA_VENV='/opt/stack/nova.venv')
        self.assertEqual(self._installed(REPO_ROOT, '/opt/stack/nova.venv'),
                         self._calls())

    def _project(self, requirements):
        project = os.path.join(self.root, 'src', 'nova-hoststatus')
        os.makedirs(project)
        with open(os.path.join(project, 'requirements.txt'), 'w') as f:
            f.write(requirements)
        return project

    def test_install_keeps_devstacks_git_nova(self):
        # devstack installs Nova master from git, a pre-release below the
        # package's floor under PEP 440: pip must neither replace it nor
        # refuse to install the package.
        project = self._project('# comment\npbr>=2.0.0\nnova>=34.0.0\n'
                                'oslo.config>=9.0.0 # Apache-2.0\n'
                                'Nova >= 33\n\nnovaclient>=18\n')
        self._run('stack', 'install', SHIM_PLUGIN_DIR=project,
                  SHIM_NOVA_VERSION=GIT_NOVA)
        self.assertEqual(
            ['pip_install -r pbr>=2.0.0,oslo.config>=9.0.0 # Apache-2.0,'
             'novaclient>=18 PIP_VIRTUAL_ENV=',
             'pip_install --no-deps -e %s PIP_VIRTUAL_ENV=' % project],
            self._calls())

    def test_install_without_the_global_venv(self):
        # pip runs through sudo then: what it leaves in the checkout is
        # given back to the stack user, as setup_develop does.
        project = self._project('pbr>=2.0.0\nnova>=31.0.0\n')
        os.makedirs(os.path.join(project, 'nova_hoststatus.egg-info'))
        self._run('stack', 'install', SHIM_PLUGIN_DIR=project,
                  GLOBAL_VENV='False')
        self.assertEqual(
            ['pip_install -r pbr>=2.0.0 PIP_VIRTUAL_ENV=',
             'pip_install --no-deps -e %s PIP_VIRTUAL_ENV=' % project,
             'safe_chown -R stack %s/nova_hoststatus.egg-info' % project],
            self._calls())

    # stack post-config

    def test_post_config_switches_the_paste_app(self):
        self._run('stack', 'post-config')
        # The result is the package's file for the installed Nova, which is
        # stock Nova's with one line changed.
        self.assertEqual(_without_comments(paste_ini.generated_file()),
                         _without_comments(self.paste))
        with open(STOCK_PASTE) as f:
            stock = f.read().splitlines()
        with open(self.paste) as f:
            result = f.read().splitlines()
        self.assertEqual(len(stock), len(result))
        changed = [(a, b) for a, b in zip(stock, result) if a != b]
        self.assertEqual(
            [('paste.app_factory = '
              'nova.api.openstack.compute:APIRouterV21.factory',
              'paste.app_factory = '
              'nova_hoststatus.api.router:APIRouterV21.factory')],
            changed)
        # PasteDeploy resolves the section to this package's factory.
        context = loadwsgi.loadcontext(
            loadwsgi.APP, 'config:' + self.paste,
            name='osapi_compute_app_v21')
        self.assertEqual(router.APIRouterV21.factory, context.object)

    def test_post_config_selects_the_wsgi_module(self):
        self._run('stack', 'post-config')
        uwsgi = _ini(self.uwsgi_ini)
        self.assertEqual('nova_hoststatus.servicegroup.wsgi:application',
                         uwsgi.get('uwsgi', 'module'))
        self.assertEqual('2', uwsgi.get('uwsgi', 'processes'))
        self.assertEqual(len(UWSGI_INI.splitlines()),
                         len(open(self.uwsgi_ini).read().splitlines()))

    def test_post_config_comments_out_an_old_wsgi_file(self):
        with open(self.uwsgi_ini, 'w') as f:
            f.write('[uwsgi]\nwsgi-file = /usr/local/bin/nova-api-wsgi\n'
                    'processes = 2\n')
        self._run('stack', 'post-config')
        self.assertEqual(
            ['[uwsgi]',
             'module = nova_hoststatus.servicegroup.wsgi:application',
             '#wsgi-file = /usr/local/bin/nova-api-wsgi',
             'processes = 2'],
            open(self.uwsgi_ini).read().splitlines())

    def test_post_config_enables_versioned_notifications(self):
        self._run('stack', 'post-config')
        conf = _ini(self.nova_conf)
        self.assertEqual('both',
                         conf.get('notifications', 'notification_format'))
        self.assertEqual('vm_state',
                         conf.get('notifications', 'notify_on_state_change'))
        self.assertFalse(conf.has_section('hoststatus'))
        # The rest of nova.conf is untouched.
        self.assertEqual('messagingv2',
                         conf.get('oslo_messaging_notifications', 'driver'))
        self.assertEqual(DB % 'nova_cell0',
                         conf.get('database', 'connection'))

    def test_post_config_keeps_versioned_and_a_state_change_choice(self):
        self._write_nova_conf(
            'versioned',
            'notify_on_state_change = vm_and_task_state\n')
        self._run('stack', 'post-config', NOVA_NOTIFICATION_FORMAT='versioned',
                  HOSTSTATUS_TARGET_VM_STATE='error')
        conf = _ini(self.nova_conf)
        self.assertEqual('versioned',
                         conf.get('notifications', 'notification_format'))
        self.assertEqual('vm_and_task_state',
                         conf.get('notifications', 'notify_on_state_change'))
        self.assertEqual('error', conf.get('hoststatus', 'target_vm_state'))
        # nova-api reads [hoststatus]; the cell conductors read none of it.
        self.assertFalse(_ini(self.cell_conf(1)).has_section('hoststatus'))

    def test_post_config_keeps_devstacks_state_change_for_ceilometer(self):
        # lib/nova with Ceilometer enabled, in [DEFAULT] (the option's
        # deprecated group): [notifications] would override it.
        self._write_nova_conf(
            'unversioned',
            default='instance_usage_audit = True\n'
                    'notify_on_state_change = vm_and_task_state\n')
        self._run('stack', 'post-config')
        self._assert_notifications([self.nova_conf],
                                   notify_on_state_change='vm_and_task_state')
        self._assert_notifications([self.cell_conf(1)],
                                   notify_on_state_change='vm_and_task_state')
        self.assertEqual('vm_and_task_state', _ini(self.nova_conf).get(
            'DEFAULT', 'notify_on_state_change'))

    def test_post_config_keeps_a_wider_notification_format(self):
        # Another plugin (or devstack) asked for both formats although
        # NOVA_NOTIFICATION_FORMAT is versioned.
        self._write_nova_conf('both')
        self._run('stack', 'post-config',
                  NOVA_NOTIFICATION_FORMAT='versioned')
        self._assert_notifications([self.nova_conf])
        self._assert_notifications([self.cell_conf(1)])

    def test_post_config_widens_never_narrows(self):
        self._write_nova_conf('unversioned',
                              'notify_on_state_change = vm_state\n')
        self._run('stack', 'post-config',
                  HOSTSTATUS_NOTIFICATION_FORMAT='versioned',
                  HOSTSTATUS_NOTIFY_ON_STATE_CHANGE='vm_and_task_state')
        # unversioned stays, versioned is added; vm_state is widened.
        self._assert_notifications([self.nova_conf],
                                   notify_on_state_change='vm_and_task_state')

    def test_post_config_refuses_unversioned(self):
        result = self._run('stack', 'post-config', status=1,
                           HOSTSTATUS_NOTIFICATION_FORMAT='unversioned')
        self.assertIn('HOSTSTATUS_NOTIFICATION_FORMAT must be versioned',
                      result.stderr)

    def test_post_config_refuses_an_unknown_state_change(self):
        result = self._run('stack', 'post-config', status=1,
                           HOSTSTATUS_NOTIFY_ON_STATE_CHANGE='vm_task')
        self.assertIn('HOSTSTATUS_NOTIFY_ON_STATE_CHANGE must be vm_state',
                      result.stderr)

    def test_post_config_cell_conductors(self):
        # Each cell conductor reads only its own file: that is where the
        # instance.update of compute-side changes (Instance.save() run by
        # the conductor for the compute) is sent from.
        self._add_cell(2)
        before = {cell: _ini(self.cell_conf(cell)) for cell in (1, 2)}
        self._run('stack', 'post-config', NOVA_NUM_CELLS='2')
        for cell in (1, 2):
            conf = self.cell_conf(cell)
            self._assert_notifications([conf])
            after = _ini(conf)
            # Its own database and vhost stay; the notifications go where
            # nova.conf's go, not to the cell's vhost.
            for section, option in (('database', 'connection'),
                                    ('DEFAULT', 'transport_url')):
                self.assertEqual(before[cell].get(section, option),
                                 after.get(section, option))
            self.assertEqual(RABBIT + 'nova_cell%d' % cell,
                             after.get('DEFAULT', 'transport_url'))
        self.assertEqual(DB % 'nova_cell0',
                         _ini(self.nova_conf).get('database', 'connection'))

    def test_post_config_only_cells_of_this_node(self):
        # NOVA_NUM_CELLS=2, but cell2's conductor runs elsewhere.
        self._run('stack', 'post-config', NOVA_NUM_CELLS='2')
        self._assert_notifications([self.cell_conf(1)])
        self.assertFalse(os.path.exists(self.cell_conf(2)))

    def test_post_config_singleconductor(self):
        # One conductor on nova.conf: the cells' files are read by no
        # service, and are left as they are.
        before = open(self.cell_conf(1)).read()
        self._run('stack', 'post-config', CELLSV2_SETUP='singleconductor')
        self._assert_notifications([self.nova_conf])
        self.assertEqual(before, open(self.cell_conf(1)).read())

    def test_post_config_nfv_policy(self):
        self._run('stack', 'post-config')
        self.assertFalse(os.path.exists(self.policy))
        self._run('stack', 'post-config', HOSTSTATUS_NFV_POLICY='True')
        with open(NFV_POLICY) as sample, open(self.policy) as installed:
            self.assertEqual(sample.read(), installed.read())
        # Turning it off on the next stack.sh removes it.
        self._run('stack', 'post-config', HOSTSTATUS_NFV_POLICY='False')
        self.assertFalse(os.path.exists(self.policy))

    def test_post_config_is_idempotent(self):
        self._run('stack', 'post-config', HOSTSTATUS_NFV_POLICY='True')
        first = self._snapshot()
        self._run('stack', 'post-config', HOSTSTATUS_NFV_POLICY='True')
        self.assertEqual(first, self._snapshot())

    def test_post_config_on_a_compute_node(self):
        # No nova-api here: its files are left alone.
        self._run('stack', 'post-config', ENABLED_SERVICES='n-cpu,rabbit',
                  HOSTSTATUS_NFV_POLICY='True')
        with open(STOCK_PASTE) as stock, open(self.paste) as result:
            self.assertEqual(stock.read(), result.read())
        self.assertEqual('nova.wsgi.osapi_compute:application',
                         _ini(self.uwsgi_ini).get('uwsgi', 'module'))
        self.assertFalse(os.path.exists(self.policy))
        self.assertEqual('both', _ini(self.nova_conf).get(
            'notifications', 'notification_format'))

    # stack extra

    def test_extra_runs_the_console_scripts(self):
        self._run('stack', 'extra')
        for name, command in UNITS.items():
            command = command.format(bin=BIN_DIR, conf_dir=self.conf_dir)
            if name not in SWAPPED:
                self.assertFalse(os.path.exists(self._dropin(name)), name)
                continue
            script = os.path.join(BIN_DIR, SWAPPED[name])
            self.assertTrue(os.access(script, os.X_OK), script)
            with open(self._dropin(name)) as f:
                self.assertEqual(
                    ['[Service]', 'ExecStart=',
                     'ExecStart=%s %s' % (script, command.split(' ', 1)[1])],
                    f.read().splitlines())
        # devstack's own units are not edited.
        self.assertIn('ExecStart = %s/nova-compute' % BIN_DIR,
                      open(self._unit('n-cpu-1')).read())
        self.assertEqual(
            [self._db_synced(), 'systemctl daemon-reload'] +
            ['systemctl restart devstack@%s.service' % name
             for name in sorted(SWAPPED)] + [self._watcher_started()],
            self._calls())

    def _db_synced(self):
        return ('/usr/local/bin/nova-hoststatus-manage --config-file %s db '
                'sync' % self.nova_conf)

    def _watcher_started(self):
        return ('run_process hs-watcher /usr/local/bin/nova-hoststatus-'
                'watcher --config-file %s' % self.nova_conf)

    def test_extra_fails_when_a_service_crashes(self):
        # systemctl restart returns before the process has started: a
        # conductor that dies at once would go unnoticed.
        result = self._run('stack', 'extra', status=1,
                           SHIM_FAILED_UNITS='devstack@n-cond-cell1.service')
        self.assertIn('devstack@n-cond-cell1.service is failed',
                      result.stderr)
        # What systemd says of it is shown.
        self.assertIn('* devstack@n-cond-cell1.service - failed',
                      result.stdout)

    def test_extra_fails_when_a_service_never_runs_the_driver(self):
        result = self._run('stack', 'extra', status=1,
                           SHIM_SILENT_UNITS='devstack@n-cpu-2.service',
                           HOSTSTATUS_SERVICE_TIMEOUT='1')
        self.assertIn('devstack@n-cpu-2.service: no "ServiceGroup driver '
                      'nova_hoststatus." in its log', result.stderr)

    def test_extra_fails_when_the_watcher_crashes(self):
        result = self._run('stack', 'extra', status=1,
                           SHIM_FAILED_UNITS='devstack@hs-watcher.service')
        self.assertIn('devstack@hs-watcher.service is failed', result.stderr)

    def test_watcher_only_beside_nova_api(self):
        self._run('stack', 'extra', ENABLED_SERVICES='n-cpu,rabbit')
        self.assertNotIn(self._watcher_started(), self._calls())
        self._run('stack', 'extra', ENABLED_SERVICES='n-api,n-cpu',
                  DISABLED_SERVICES='hs-watcher')
        self.assertNotIn(self._watcher_started(), self._calls())
        self._run('unstack')
        self.assertIn('stop_process hs-watcher', self._calls())

    def test_extra_skips_units_of_disabled_services(self):
        # A unit left by an earlier stack.sh of a service now disabled.
        self._run('stack', 'extra',
                  ENABLED_SERVICES='n-api,n-cond,n-super-cond,n-sch,n-cpu,'
                                   'n-cpu-1')
        self.assertFalse(os.path.exists(self._dropin('n-cond-cell1')))
        self.assertNotIn('systemctl restart devstack@n-cond-cell1.service',
                         self._calls())

    def test_extra_without_the_drivers(self):
        self._stack(HOSTSTATUS_SERVICEGROUP_DRIVERS='False')
        self.assertEqual([], glob.glob(self._dropin('*')))
        self.assertEqual(self._installed(REPO_ROOT) +
                         [self._db_synced(), self._watcher_started()],
                         self._calls())
        self.assertEqual('nova.wsgi.osapi_compute:application',
                         _ini(self.uwsgi_ini).get('uwsgi', 'module'))
        # The API extension does not depend on the drivers.
        self.assertEqual(_without_comments(paste_ini.generated_file()),
                         _without_comments(self.paste))

    def test_extra_fails_without_the_console_scripts(self):
        self._write_unit('n-cpu', '/nowhere/bin/nova-compute --config-file '
                                  '/etc/nova/nova-cpu.conf')
        result = self._run('stack', 'extra', status=1)
        self.assertIn('/nowhere/bin/nova-hoststatus-compute not found',
                      result.stderr)

    # stack.sh: every phase in one shell

    def test_stack_every_service_reads_the_notification_settings(self):
        for cells in (1, 2):
            # Each stack.sh writes Nova's files anew.
            self._write_nova_conf('unversioned')
            for cell in range(1, cells + 1):
                self._add_cell(cell)
            self._stack(NOVA_NUM_CELLS=str(cells))
            services = self._services()
            self.assertEqual(
                {'n-api', 'n-sch', 'n-super-cond', 'n-cpu-1', 'n-cpu-2',
                 'hs-watcher'} |
                {'n-cond-cell%d' % cell for cell in range(1, cells + 1)},
                set(services))
            for name, files in services.items():
                self._assert_notifications(files)
                # Each still on its own database and vhost.
                db = _nova_option(files, 'database', 'connection')
                url = _nova_option(files, 'DEFAULT', 'transport_url')
                if name.startswith('n-cond-cell'):
                    cell = name[len('n-cond-'):]
                    self.assertEqual(DB % ('nova_' + cell), db)
                    self.assertEqual(RABBIT + 'nova_' + cell, url)
                elif name.startswith('n-cpu'):
                    self.assertIsNone(db)
                    self.assertEqual(RABBIT + 'nova_cell1', url)
                else:
                    self.assertEqual(DB % 'nova_cell0', db)
                    self.assertEqual(RABBIT, url)
            os.remove(self.log)

    def test_stack_ceilometers_state_change_reaches_every_service(self):
        self._write_nova_conf(
            'unversioned',
            default='notify_on_state_change = vm_and_task_state\n')
        self._stack()
        for name, files in self._services().items():
            self._assert_notifications(
                files, notify_on_state_change='vm_and_task_state')

    def test_stack_keeps_the_lines_of_devstacks_background_job(self):
        # configure_neutron_nova runs while the post-config phase does:
        # neither side's lines may be lost.
        for parallel in ('True', 'False'):
            self._write_nova_conf('unversioned')
            self._add_cell(1)
            self._stack(DEVSTACK_PARALLEL=parallel)
            for conf in (self.nova_conf, self.cell_conf(1), self.cpu_conf):
                self.assertEqual('RegionOne', _ini(conf).get(
                    'neutron', 'region_name'), (parallel, conf))
                self._assert_notifications([conf])

    def test_stack_fails_when_devstacks_background_job_failed(self):
        # stack.sh does not wait again for a job the plugin waited for.
        result = self._stack(SHIM_NEUTRON_FAILS='True', status=1)
        self.assertIn('plugin.sh:', result.stderr)
        self.assertIn('configure_neutron_nova failed', result.stderr)
        self.assertNotIn('both', open(self.nova_conf).read())

    def test_stack_installs_and_starts_everything(self):
        self._stack(NOVA_NUM_CELLS='1', SHIM_NOVA_VERSION=GIT_NOVA)
        self.assertEqual(
            self._installed(REPO_ROOT) +
            [self._db_synced(), 'systemctl daemon-reload'] +
            ['systemctl restart devstack@%s.service' % name
             for name in sorted(SWAPPED)] + [self._watcher_started()],
            self._calls())

    # unstack, clean

    def test_unstack_removes_the_dropins(self):
        self._stack(HOSTSTATUS_NFV_POLICY='True')
        self.assertEqual(len(SWAPPED), len(glob.glob(self._dropin('*'))))
        self._run('unstack')
        self.assertEqual([], glob.glob(self._dropin('*')))
        self.assertEqual([], glob.glob(self._unit('*') + '.d'))
        self.assertEqual('systemctl daemon-reload', self._calls()[-1])
        # Configuration stays for the next start; clean.sh removes it.
        self.assertTrue(os.path.exists(self.policy))

    def test_clean(self):
        self._stack(HOSTSTATUS_NFV_POLICY='True')
        self._run('clean')
        self.assertEqual([], glob.glob(self._dropin('*')))
        self.assertFalse(os.path.exists(self.policy))
        self.assertEqual('pip_uninstall nova-hoststatus', self._calls()[-1])

    def test_disabled_plugin_does_nothing(self):
        before = self._snapshot()
        # local.conf's "disable_service nova-hoststatus" outlives the
        # enable_service of settings.
        for phase in (('stack', 'install'), ('stack', 'post-config'),
                      ('stack', 'extra'), ('unstack',), ('clean',)):
            self._run(*phase, DISABLED_SERVICES='nova-hoststatus',
                      HOSTSTATUS_NFV_POLICY='True')
        self.assertEqual(before, self._snapshot())
        self.assertEqual([], self._calls())


class ShimTest(testtools.TestCase):
    """The models of shim.sh the plugin's tests rely on."""

    def _bash(self, script, **env):
        root = self.useFixture(fixtures.TempDir()).path
        env = dict({'PATH': os.environ['PATH'],
                    'SHIM_PLUGIN_DIR': REPO_ROOT,
                    'SHIM_LOG': os.path.join(root, 'calls.log'),
                    'SHIM_PYTHON': sys.executable,
                    'NOVA_CONF_DIR': root,
                    'SYSTEMD_DIR': root,
                    'DEST': root,
                    'ENABLED_SERVICES': ''}, **env)
        return subprocess.run(
            ['bash', '-c', 'set -o errexit; source "%s"; %s' % (SHIM, script)],
            env=env, capture_output=True, text=True, cwd=root, timeout=60)

    def test_pip_refuses_to_replace_the_git_nova(self):
        project = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(project, 'requirements.txt'), 'w') as f:
            f.write('pbr>=2.0.0\nnova>=34.0.0\n')
        result = self._bash('setup_develop %s' % project,
                            SHIM_NOVA_VERSION=GIT_NOVA)
        self.assertEqual(1, result.returncode)
        self.assertIn('nova>=34.0.0 is not satisfied by the installed nova '
                      '%s' % GIT_NOVA, result.stderr)
        # Released Nova satisfies it, and nothing stops --no-deps.
        for version, flags in (('34.0.0', '-e'), (GIT_NOVA, '--no-deps -e')):
            result = self._bash('pip_install %s %s' % (flags, project),
                                SHIM_NOVA_VERSION=version)
            self.assertEqual(0, result.returncode, result.stderr)

    def test_background_job_loses_lines_written_meanwhile(self):
        # Why the plugin must not edit nova.conf while the job runs.
        result = self._bash(
            'touch "$NOVA_CONF" "$(conductor_conf 1)"; '
            'async_runfunc configure_neutron_nova; '
            'iniset "$NOVA_CONF" notifications notification_format both; '
            'async_wait configure_neutron_nova; cat "$NOVA_CONF"')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('region_name = RegionOne', result.stdout)
        self.assertNotIn('notification_format', result.stdout)
