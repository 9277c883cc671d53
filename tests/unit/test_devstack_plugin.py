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
systemctl). The files are a copy of stock Nova's api-paste.ini, and a
nova.conf, uWSGI ini and systemd units written as devstack writes them.
"""

import configparser
import glob
import os
import shutil
import subprocess
import sys

import fixtures
from paste.deploy import loadwsgi
import testtools

from nova_hoststatus.api import router

REPO_ROOT = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
RUN_PHASE = os.path.join(REPO_ROOT, 'tests', 'devstack', 'run-phase.sh')
# Stock Nova's file, as its wheel installs it.
STOCK_PASTE = os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')
PACKAGE_PASTE = os.path.join(REPO_ROOT, 'etc', 'nova-hoststatus',
                             'api-paste.ini')
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

# nova.conf as lib/nova's create_nova_conf leaves it (the parts that
# matter here).
NOVA_CONF = """\
[DEFAULT]
debug = True
transport_url = rabbit://stackrabbit:secret@127.0.0.1:5672/

[wsgi]
api_paste_config = {conf_dir}/api-paste.ini

[oslo_messaging_notifications]
driver = messagingv2
transport_url = rabbit://stackrabbit:secret@127.0.0.1:5672/

[notifications]
notification_format = {notification_format}
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
ENABLED_SERVICES = ('key,placement-api,n-api,n-api-meta,n-cond,n-sch,'
                    'n-cpu,n-super-cond,n-cond-cell1,mysql,rabbit')


def _ini(path):
    parser = configparser.RawConfigParser(strict=False)
    parser.read(path)
    return parser


def _without_comments(path):
    with open(path) as f:
        return [line for line in f.read().splitlines()
                if line.strip() and not line.startswith('#')]


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

    def _write_nova_conf(self, notification_format, extra=''):
        with open(self.nova_conf, 'w') as f:
            f.write(NOVA_CONF.format(
                conf_dir=self.conf_dir,
                notification_format=notification_format) + extra)

    def _run(self, *phase, status=0, **env):
        result = subprocess.run(
            ['bash', RUN_PHASE] + list(phase), env=dict(self.env, **env),
            capture_output=True, text=True)
        self.assertEqual(status, result.returncode,
                         'run-phase.sh %s:\n%s%s' % (
                             ' '.join(phase), result.stdout, result.stderr))
        return result

    def _stack(self, **env):
        for phase in ('install', 'post-config', 'extra'):
            self._run('stack', phase, **env)

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

    # stack install

    def test_install_into_global_venv(self):
        self._run('stack', 'install')
        self.assertEqual(
            ['setup_develop %s PIP_VIRTUAL_ENV=' % REPO_ROOT], self._calls())

    def test_install_into_nova_venv(self):
        self._run('stack', 'install', USE_VENV='True',
                  SHIM_NOVA_VENV='/opt/stack/nova.venv')
        self.assertEqual(
            ['setup_develop %s PIP_VIRTUAL_ENV=/opt/stack/nova.venv'
             % REPO_ROOT], self._calls())

    # stack post-config

    def test_post_config_switches_the_paste_app(self):
        self._run('stack', 'post-config')
        # The result is the file the package ships, which is stock Nova's
        # with one line changed.
        self.assertEqual(_without_comments(PACKAGE_PASTE),
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

    def test_post_config_refuses_unversioned(self):
        result = self._run('stack', 'post-config', status=1,
                           HOSTSTATUS_NOTIFICATION_FORMAT='unversioned')
        self.assertIn('HOSTSTATUS_NOTIFICATION_FORMAT must be versioned',
                      result.stderr)

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
            ['systemctl daemon-reload'] +
            ['systemctl restart devstack@%s.service' % name
             for name in sorted(SWAPPED)] + [self._watcher_started()],
            self._calls())

    def _watcher_started(self):
        return ('run_process hs-watcher /usr/local/bin/nova-hoststatus-'
                'watcher --config-file %s' % self.nova_conf)

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
        self.assertEqual(['setup_develop %s PIP_VIRTUAL_ENV=' % REPO_ROOT,
                          self._watcher_started()],
                         self._calls())
        self.assertEqual('nova.wsgi.osapi_compute:application',
                         _ini(self.uwsgi_ini).get('uwsgi', 'module'))
        # The API extension does not depend on the drivers.
        self.assertEqual(_without_comments(PACKAGE_PASTE),
                         _without_comments(self.paste))

    def test_extra_fails_without_the_console_scripts(self):
        self._write_unit('n-cpu', '/nowhere/bin/nova-compute --config-file '
                                  '/etc/nova/nova-cpu.conf')
        result = self._run('stack', 'extra', status=1)
        self.assertIn('/nowhere/bin/nova-hoststatus-compute not found',
                      result.stderr)

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
