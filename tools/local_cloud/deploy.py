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

"""Deploy the local cloud of a scenario from its topology, then run it.

tools/run-local-cloud.sh installs the system packages and the checkout's
venv of the Nova series (HOSTSTATUS_SERIES), then runs, in a session of its
own, with that venv's Python::

    python -m local_cloud.deploy SCENARIO LAYOUT STATE_DIR

Everything it starts runs in a session of its own, its output in
``logs/NAME.out``, its pid in ``run/NAME.pid`` and its command in
``run/NAME.cmd`` (NUL-separated, its environment first), whence the
script's teardown stops it and the soak starts it again. Each step's
duration is appended to ``steps``, which the script prints at the end.
"""

import base64
import concurrent.futures
import fcntl
import hashlib
import importlib.metadata
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

from local_cloud import common
from local_cloud import configs
from local_cloud import gunicorn_conf
from local_cloud import monitor
from local_cloud import topology

REPO = topology.REPO
# Below Linux's ephemeral ports (32768-60999): a port found free there may
# be taken as the source port of a connection before its service binds it.
PORT_BLOCKS = range(31100, 32000, 20)
DRIVER_LOG = 'nova_hoststatus.servicegroup.drivers.db.DbDriver in'
# Nova's switch between native threads and eventlet.
THREADING_SWITCH = 'OS_NOVA_DISABLE_EVENTLET_PATCHING'


class Failure(Exception):
    pass


def say(text):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), text), flush=True)


def port_open(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
    except OSError:
        return False
    return True


def free_ports():
    """The first of a block of free loopback ports, one per PORTS."""
    count = len(topology.PORTS)
    wanted = os.environ.get('HOSTSTATUS_CLOUD_PORT_BASE')
    for base in [int(wanted)] if wanted else PORT_BLOCKS:
        if not any(port_open(port) for port in range(base, base + count)):
            return base
    raise Failure('No %d free loopback ports at %s: set '
                  'HOSTSTATUS_CLOUD_PORT_BASE' % (
                      count, wanted or '31100..31999'))


def http_ok(url):
    try:
        urllib.request.urlopen(url, timeout=5)
    except OSError:
        return False
    return True


class Deployment(object):

    def __init__(self, scenario, layout, state):
        self.cloud = topology.cloud(scenario, layout)
        self.state = state
        self.etc = os.path.join(state, 'etc')
        self.logs = os.path.join(state, 'logs')
        self.run = os.path.join(state, 'run')
        self.faults = os.path.join(state, 'faults')
        self.cache = os.environ.get('HOSTSTATUS_CLOUD_CACHE') or \
            os.path.expanduser('~/.cache/nova-hoststatus')
        base = free_ports()
        self.port = {name: base + i for i, name in enumerate(topology.PORTS)}
        self.password = secrets.token_hex(12)
        self.admin_password = secrets.token_hex(12)
        self.keystone_url = 'http://127.0.0.1:%d' % self.port['keystone']
        # Set-ups wait for venvs and submit their own steps: room for all.
        self.pool = concurrent.futures.ThreadPoolExecutor(32)
        self.venvs = {}
        self.step_name, self.step_start = None, None

    # Names

    def bin(self, venv):
        """The bin directory of ``venv`` (None: the series' own venv)."""
        series = self.cloud.series
        if venv is None:
            return os.path.join(REPO, series.venv, 'bin')
        return os.path.join(self.cache, topology.VENVS[venv].directory(
            venv, series), 'bin')

    def db_url(self, name):
        return 'mysql+pymysql://openstack:%s@127.0.0.1:%d/%s%s' % (
            self.password, self.port['mariadb'], name, '?charset=utf8mb4')

    def rabbit_url(self, vhost):
        return 'rabbit://nova:%s@127.0.0.1:%d/%s' % (
            self.password, self.port['rabbitmq'],
            '' if vhost == topology.TOP_VHOST else vhost)

    def fill(self, template, process=None):
        """``template`` with the deployment's names filled in."""
        names = dict(
            repo=REPO, state=self.state, etc=self.etc, logs=self.logs,
            port=self.port, keystone_url=self.keystone_url,
            admin_password=self.admin_password, password=self.password,
            bin=self.bin(process.venv if process else None))
        if process is not None:
            names.update(
                cell=process.cell.name if process.cell else None,
                host=process.host, config_names=';'.join(
                    os.path.basename(path) for path in process.configs))
        return template.format(**names)

    def path(self, template, process):
        return os.path.join(self.etc, self.fill(template, process))

    # Steps

    def step(self, name):
        """Time the previous step, start this one."""
        now = time.monotonic()
        if self.step_name is not None:
            with open(os.path.join(self.state, 'steps'), 'a') as f:
                f.write('%5d s  %s\n' % (now - self.step_start,
                                         self.step_name))
        self.step_name, self.step_start = name, now
        if name is not None:
            say('== %s' % name)

    def log(self, name):
        return open(os.path.join(self.logs, name), 'a')

    def call(self, command, log):
        """Run ``command``, its output appended to ``log``."""
        with self.log(log) as out:
            out.write('+ %s\n' % ' '.join(command))
            out.flush()
            status = subprocess.call(command, stdout=out,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        if status:
            raise Failure('%s exited %d (logs/%s)' % (
                ' '.join(command[:3]), status, log))

    def wait(self, timeout, what, predicate):
        common.wait_for(predicate, timeout, what, interval=0.2)

    # Processes

    def command(self, process):
        """The environment and the argv of ``process``."""
        env = [(name, self.fill(value, process))
               for name, value in process.env]
        if process.nova:
            env.append((THREADING_SWITCH, self.switch(process)))
        if process.wsgi:
            env += [
                ('HOSTSTATUS_WSGI_WORKERS', str(process.workers)),
                # One request at a time in each process, as devstack's
                # uWSGI processes run eventlet's nova-api.
                ('HOSTSTATUS_WSGI_WORKER_CLASS',
                 'sync' if process.threading == topology.EVENTLET
                 else 'gthread')]
            argv = [os.path.join(self.bin(process.venv), 'gunicorn'),
                    '--config', os.path.join(REPO, 'tools', 'local_cloud',
                                             'gunicorn_conf.py'),
                    '--bind', '127.0.0.1:%d' % self.port[process.port],
                    '--access-logfile',
                    os.path.join(self.logs, process.name + '-access.log'),
                    process.wsgi]
        else:
            argv = [self.fill(arg, process) for arg in process.command]
            if process.configs:
                for config in process.configs:
                    argv += ['--config-file', self.path(config, process)]
                argv += ['--log-file',
                         os.path.join(self.logs, process.name + '.log')]
        return ['env'] + ['%s=%s' % pair for pair in env] + argv

    @staticmethod
    def switch(process):
        return str(process.threading == topology.NATIVE).lower()

    def start(self, name, command):
        """``command`` in a session of its own, recorded for the soak."""
        with open(os.path.join(self.run, name + '.cmd'), 'wb') as f:
            f.write(b''.join(arg.encode() + b'\0' for arg in command))
        common.start(command, os.path.join(self.logs, name + '.out'),
                     os.path.join(self.run, name + '.pid'))

    def pid(self, name):
        with open(os.path.join(self.run, name + '.pid')) as f:
            return int(f.read())

    def alive(self, name):
        return monitor.alive(self.pid(name))

    # Installation

    def build_venv(self, name):
        """The cached venv ``name``, built once, kept between runs."""
        venv = topology.VENVS[name]
        path = os.path.dirname(self.bin(name))
        log = '%s-venv.log' % name
        constraints = (self.cloud.series.constraints if venv.pinned
                       else 'constraints.txt')
        os.makedirs(self.cache, exist_ok=True)
        with open(path + '.lock', 'w') as lock:
            # One run builds it at a time.
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.venv_built(path, venv, log):
                shutil.rmtree(path, ignore_errors=True)
                pip = [os.path.join(path, 'bin', 'pip'), 'install', '-q']
                self.call(['python3', '-m', 'venv', path], log)
                self.call(pip + ['--upgrade', 'pip'], log)
                self.call(pip + ['-c', os.path.join(REPO, constraints)]
                          + [p.format(repo=REPO) for p in venv.packages],
                          log)
                if not self.venv_built(path, venv, log, complete=False):
                    raise Failure('%s: not the versions %s pins (logs/%s)'
                                  % (path, constraints, log))
                open(os.path.join(path, '.complete'), 'w').close()
        if venv.with_checkout:
            # The package under test, as it is now.
            self.call([os.path.join(path, 'bin', 'pip'), 'install', '-q',
                       '--no-deps', '--force-reinstall', REPO], log)
        self.call([os.path.join(path, 'bin', 'python'), '-c', venv.check],
                  log)

    def venv_built(self, path, venv, log, complete=True):
        """Whether the venv at ``path`` has the series' pinned versions.

        A cache built before its constraints changed is built again.
        """
        if complete and not os.path.exists(os.path.join(path, '.complete')):
            return False
        if not venv.pinned:
            return True
        wanted = ['%s==%s' % (project, self.cloud.series.pinned(project))
                  for project in venv.pinned]
        found = subprocess.run(
            [os.path.join(path, 'bin', 'python'), '-c',
             'import importlib.metadata as m, sys; print(" ".join('
             '"%s==%s" % (p, m.version(p)) for p in sys.argv[1:]))']
            + list(venv.pinned), capture_output=True, text=True)
        with self.log(log) as out:
            out.write('pinned %s, found %s%s\n' % (
                ' '.join(wanted), found.stdout.strip(), found.stderr))
        return found.stdout.split() == wanted

    def build_venvs(self):
        for name in sorted({p.venv for p in self.cloud.processes
                            if p.venv}):
            self.venvs[name] = self.pool.submit(self.build_venv, name)

    # Infrastructure

    def root_sql(self, statements):
        subprocess.run(['mariadb', '--no-defaults',
                        '--socket=%s' % os.path.join(self.state, 'mysql.sock'),
                        '-uroot', '-N', '-B', '-e', statements],
                       check=True, capture_output=True, text=True)

    def sql(self, query, *args):
        # Installed by run-local-cloud.sh into the venv that runs this, not
        # one of the package's requirements: the tests import this module
        # without it.
        import pymysql
        connection = pymysql.connect(
            host='127.0.0.1', port=self.port['mariadb'], user='openstack',
            password=self.password)
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, args)
                return cursor.fetchall()
        finally:
            connection.close()

    def databases(self):
        names = [db for process in self.cloud.processes
                 for db in process.databases]
        names += [cell.database for cell in self.cloud.cells]
        return list(dict.fromkeys(names))

    def start_mariadb(self):
        data = os.path.join(self.state, 'mysql')
        # Its temporary tables apart from any other server's on the machine.
        tmp = os.path.join(self.state, 'mysql-tmp')
        os.makedirs(tmp)
        self.call(['mariadb-install-db', '--no-defaults',
                   '--datadir=' + data, '--user=root',
                   '--auth-root-authentication-method=socket',
                   '--skip-test-db'], 'mariadb-install.log')
        self.start('mariadb', [
            '/usr/sbin/mariadbd', '--no-defaults', '--datadir=' + data,
            '--user=root', '--bind-address=127.0.0.1',
            '--port=%d' % self.port['mariadb'],
            '--socket=' + os.path.join(self.state, 'mysql.sock'),
            '--pid-file=' + os.path.join(self.state, 'mysql.pid'),
            '--log-error=' + os.path.join(self.logs, 'mariadb.log'),
            '--tmpdir=' + tmp,
            '--skip-name-resolve', '--character-set-server=utf8mb4',
            '--collation-server=utf8mb4_general_ci',
            '--innodb-buffer-pool-size=256M',
            '--innodb-flush-log-at-trx-commit=0', '--innodb-doublewrite=0',
            '--max-connections=1000'])

        def up():
            try:
                self.root_sql('SELECT 1')
            except subprocess.CalledProcessError:
                return False
            return True
        self.wait(60, 'MariaDB', up)
        self.root_sql(''.join('CREATE DATABASE %s;' % name
                              for name in self.databases()) +
                      "CREATE USER 'openstack'@'127.0.0.1' IDENTIFIED BY "
                      "'%s'; GRANT ALL PRIVILEGES ON *.* TO "
                      "'openstack'@'127.0.0.1';" % self.password)

    def start_rabbitmq(self):
        home = os.path.join(self.state, 'rabbitmq')
        os.makedirs(os.path.join(home, 'mnesia'))
        vhosts = list(dict.fromkeys(
            [topology.TOP_VHOST] + [c.vhost for c in self.cloud.cells]))
        # The user and every cell's vhost, at boot: rabbitmqctl would cost
        # seconds a call.
        salt = os.urandom(4)
        definitions = {
            'users': [{
                'name': 'nova', 'tags': 'administrator',
                'hashing_algorithm': 'rabbit_password_hashing_sha256',
                'password_hash': base64.b64encode(salt + hashlib.sha256(
                    salt + self.password.encode()).digest()).decode()}],
            'vhosts': [{'name': vhost} for vhost in vhosts],
            'permissions': [{'user': 'nova', 'vhost': vhost,
                             'configure': '.*', 'write': '.*', 'read': '.*'}
                            for vhost in vhosts],
        }
        with open(os.path.join(home, 'definitions.json'), 'w') as f:
            json.dump(definitions, f)
        with open(os.path.join(home, 'rabbitmq.conf'), 'w') as f:
            f.write(
                'listeners.tcp.1 = 127.0.0.1:%d\n'
                'distribution.listener.interface = 127.0.0.1\n'
                'distribution.listener.port_range.min = %d\n'
                'distribution.listener.port_range.max = %d\n'
                'default_user = nova\n'
                'default_pass = %s\n'
                'load_definitions = %s\n'
                'log.file.level = info\n' % (
                    self.port['rabbitmq'], self.port['rabbitmq-dist'],
                    self.port['rabbitmq-dist'], self.password,
                    os.path.join(home, 'definitions.json')))
        with open(os.path.join(home, 'enabled_plugins'), 'w') as f:
            f.write('[].\n')
        # The script's teardown tells this epmd to exit.
        with open(os.path.join(self.run, 'epmd.port'), 'w') as f:
            f.write(str(self.port['epmd']))
        # A private node: its own name, files, cookie ($HOME) and epmd.
        self.start('rabbitmq', ['env'] + [
            '%s=%s' % pair for pair in sorted(self.rabbitmq_env().items())] +
            ['RABBITMQ_CONFIG_FILE=' + os.path.join(home, 'rabbitmq.conf'),
             'RABBITMQ_ENABLED_PLUGINS_FILE=' +
             os.path.join(home, 'enabled_plugins'),
             'RABBITMQ_MNESIA_BASE=' + os.path.join(home, 'mnesia'),
             'RABBITMQ_LOG_BASE=' + self.logs,
             'RABBITMQ_ADVANCED_CONFIG_FILE=' +
             os.path.join(home, 'advanced.config'),
             'ERL_EPMD_ADDRESS=127.0.0.1',
             '/usr/lib/rabbitmq/bin/rabbitmq-server'])

    def rabbitmq_env(self):
        """What rabbitmqctl needs to find this node."""
        home = os.path.join(self.state, 'rabbitmq')
        return {'HOME': home, 'RABBITMQ_NODENAME': 'hoststatus@localhost',
                'ERL_EPMD_PORT': str(self.port['epmd']),
                'RABBITMQ_CONF_ENV_FILE': os.path.join(home,
                                                       'rabbitmq-env.conf')}

    # Configuration and set-up

    def write_files(self):
        written = set()
        for process in self.cloud.processes:
            for template in process.configs + process.files:
                path = self.path(template, process)
                if path in written:
                    continue
                written.add(path)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                source = configs.FILES[template]
                if isinstance(source, str):
                    shutil.copy(os.path.join(REPO, source), path)
                    continue
                with open(path, 'w') as f:
                    f.write(source(self, process.cell, process.host))
        for host in self.cloud.hosts:
            os.makedirs(os.path.join(self.state, 'nova', host))
        os.makedirs(self.faults)

    def set_up(self):
        """Every service's set-up, at once; each after its venv is built."""
        def set_up(process):
            if process.venv:
                self.venvs[process.venv].result()
            log = 'setup-%s.log' % process.name
            for command in process.setup:
                if isinstance(command, str):
                    getattr(self, command)(process)
                else:
                    self.call([self.fill(arg, process) for arg in command],
                              log)
        futures = [self.pool.submit(set_up, process)
                   for process in self.cloud.processes if process.setup]
        for future in futures:
            future.result()

    def nova_databases(self, process):
        """Nova's databases and cells, as a deployer sets them up.

        A cell's own database syncs while the API database does; the cell
        is created once the API database is there.
        """
        manage = [os.path.join(self.bin(None), 'nova-manage'),
                  '--config-file', os.path.join(self.etc, 'nova',
                                                'nova.conf')]

        def api():
            log = 'setup-nova-api.log'
            self.call(manage + ['api_db', 'sync'], log)
            # The package's own table, beside Nova's.
            self.call([os.path.join(self.bin(None), 'nova-hoststatus-manage'),
                       '--config-file', os.path.join(self.etc, 'nova',
                                                     'nova.conf'),
                       'db', 'sync'], log)
            self.call(manage + ['cell_v2', 'map_cell0',
                                '--database_connection',
                                self.db_url('nova_cell0')], log)
            # nova.conf's [database], and cell0.
            self.call(manage + ['db', 'sync'], log)
        api_synced = self.pool.submit(api)

        def cell(cell):
            log = 'setup-%s.log' % cell.name
            if cell.database != self.cloud.database:
                self.call([manage[0], '--config-file', os.path.join(
                    self.etc, 'nova', 'nova_%s.conf' % cell.name),
                    'db', 'sync', '--local_cell'], log)
            api_synced.result()
            self.call(manage + [
                'cell_v2', 'create_cell', '--name', cell.name,
                '--transport-url', self.rabbit_url(cell.vhost),
                '--database_connection', self.db_url(cell.database)], log)
        for future in [self.pool.submit(cell, c) for c in self.cloud.cells]:
            future.result()

    def cloud_json(self):
        processes = self.cloud.processes
        engine = [p for p in processes if p.name == 'masakari-engine']
        hosts = {host: {'cell': self.cloud.cell_of(host).name,
                        'database': self.cloud.cell_of(host).database}
                 for host in self.cloud.hosts}
        cloud = {
            'scenario': self.cloud.scenario_name,
            'layout': self.cloud.describe(),
            'auth_url': self.keystone_url + '/v3',
            'region': 'RegionOne',
            'admin_password': self.admin_password,
            'password': self.password,
            # nova-api's, the scheduler's, Masakari's.
            'transport_url': self.rabbit_url(topology.TOP_VHOST),
            'notification_url': self.rabbit_url(topology.TOP_VHOST),
            'endpoints': {
                kind: 'http://127.0.0.1:%d%s' % (self.port[port], path)
                for p in processes for kind, port, path in p.endpoints},
            'hosts': hosts,
            'cells': {cell.name: list(cell.hosts)
                      for cell in self.cloud.cells},
            'failures': [list(f) for f in self.cloud.failures],
            # What the scenario set in every Nova file, and how many
            # computes the runaway guard lets be reported down at once.
            'nova_options': self.cloud.scenario.nova_options,
            'max_down': self.cloud.max_down,
            # The watchers' lock: topology.FILE or topology.MYSQL.
            'coordination': self.cloud.scenario.coordination,
            'computes': {host: os.path.join(self.run,
                                            'nova-compute-%s.pid' % host)
                         for host in self.cloud.hosts},
            'run': self.run,
            'faults': self.faults,
            'database': {'port': self.port['mariadb'], 'user': 'openstack',
                         'password': self.password},
            'messaging_config': os.path.join(self.etc, 'messaging.conf'),
            'rabbitmqctl': {'command': '/usr/lib/rabbitmq/bin/rabbitmqctl',
                            'env': self.rabbitmq_env()},
            'logs': self.logs,
        }
        if engine:
            command = self.command(engine[0])
            cloud['masakari_engine'] = {
                'command': command,
                'bin': self.bin(engine[0].venv),
                'flows': {
                    'nova-hoststatus': self.path(
                        'masakari/flow-nova-hoststatus.conf', engine[0]),
                    'stock': self.path('masakari/flow-stock.conf',
                                       engine[0])},
                'stock_wait': self.cloud.scenario.masakari_stock_wait,
                'pidfile': os.path.join(self.run, 'masakari-engine.pid'),
            }
        path = os.path.join(self.state, 'cloud.json')
        with open(path, 'w') as f:
            json.dump(cloud, f, indent=4)
        return path

    # Stages

    def start_stage(self, stage):
        started = [p for p in self.cloud.processes if p.stage == stage]
        for process in started:
            self.start(process.name, self.command(process))
        for process in started:
            if process.ready and process.ready != topology.REGISTERED:
                self.wait(120, process.name, lambda: http_ok(
                    'http://127.0.0.1:%d%s' % (self.port[process.port],
                                               process.ready)))
        return started

    def check_registered(self):
        """Every compute in its cell, heartbeating, in Placement, mapped.

        Heartbeating: a compute that waited for its cell's conductor
        (eventlet Nova, a busy machine) starts its heartbeats late, and the
        scheduler would find it not heard from in a short service_down_time.
        """
        computes = [p for p in self.cloud.processes
                    if p.ready == topology.REGISTERED]

        def registered():
            for cell in self.cloud.cells:
                found = {row[0] for row in self.sql(
                    'SELECT host FROM %s.compute_nodes WHERE deleted = 0'
                    % cell.database)}
                wanted = {p.host for p in computes if p.cell == cell}
                if found - wanted:
                    raise Failure('%s registered in %s' % (
                        sorted(found - wanted), cell.name))
                if found != wanted:
                    return False
                beating = {row[0] for row in self.sql(
                    "SELECT host FROM %s.services WHERE deleted = 0 AND "
                    "`binary` = 'nova-compute' AND report_count > 0"
                    % cell.database)}
                if beating != wanted:
                    return False
            providers = {row[0] for row in self.sql(
                'SELECT name FROM placement.resource_providers')}
            return providers >= {p.host for p in computes}
        self.wait(120, 'computes registered and heartbeating',
                  registered)
        self.call([os.path.join(self.bin(None), 'nova-manage'),
                   '--config-file', os.path.join(self.etc, 'nova',
                                                 'nova.conf'),
                   'cell_v2', 'discover_hosts', '--verbose'],
                  'discover-hosts.log')
        mapped = dict(self.sql(
            'SELECT h.host, c.name FROM nova_api.host_mappings h '
            'JOIN nova_api.cell_mappings c ON h.cell_id = c.id'))
        wanted = {p.host: p.cell.name for p in computes}
        if mapped != wanted:
            raise Failure('hosts mapped %s, not %s' % (mapped, wanted))

    def check_processes(self):
        """Every process alive; every Nova one with the driver.

        And every worker of a Nova WSGI process in its threading mode
        (gunicorn_conf.py says which; Nova's own services log it only
        before their logging is set up).
        """
        for process in self.cloud.processes:
            if (os.path.exists(os.path.join(self.run, process.name + '.pid'))
                    and not self.alive(process.name)):
                raise Failure('%s exited' % process.name)
        for process in self.cloud.nova_processes:
            if DRIVER_LOG not in self.output(process):
                raise Failure('%s does not run the ServiceGroup driver of '
                              'nova-hoststatus' % process.name)
            if not process.wsgi:
                continue

            def modes():
                found = re.findall(gunicorn_conf.MODE % r'(\w+)',
                                   self.output(process))
                return found if len(found) >= process.workers else None
            self.wait(120, '%s workers loaded' % process.name, modes)
            if set(modes()) != {process.threading}:
                raise Failure('%s runs in %s, not %s' % (
                    process.name, modes(), process.threading))

    def output(self, process):
        """What ``process`` logged, and wrote to its output."""
        output = ''
        for name in (process.name + '.log', process.name + '.out'):
            try:
                with open(os.path.join(self.logs, name)) as f:
                    output += f.read()
            except FileNotFoundError:
                pass
        return output

    # The whole run

    def check_series(self):
        """This venv has the Nova of the series."""
        series = self.cloud.series
        found = importlib.metadata.version('nova')
        if found != series.pinned('nova'):
            raise Failure(
                '%s has Nova %s, %s pins %s: HOSTSTATUS_SERIES=%s '
                'tools/setup-venv.sh' % (series.venv, found,
                                         series.constraints,
                                         series.pinned('nova'), series.name))

    def deploy(self):
        say(self.cloud.describe())
        self.check_series()
        self.step('start MariaDB and RabbitMQ')
        for path in (self.etc, self.logs, self.run):
            os.makedirs(path, exist_ok=True)
        self.build_venvs()
        self.start_rabbitmq()
        self.start_mariadb()
        self.wait(90, 'RabbitMQ', lambda: port_open(self.port['rabbitmq']))

        self.step('configure the services, sync their databases (%s)' % (
            ', '.join(self.databases())))
        self.write_files()
        path = self.cloud_json()
        self.set_up()

        for stage, what in topology.STAGES.items():
            if not any(p.stage == stage for p in self.cloud.processes):
                continue
            self.step('start %s' % what)
            self.start_stage(stage)
            if stage == 'identity':
                self.bootstrap(path)
            elif stage == 'nova':
                self.check_registered()
                self.check_processes()
        return path

    def bootstrap(self, path):
        self.call([os.path.join(self.bin(None), 'python'), '-W', 'ignore',
                   '-m', 'local_cloud.bootstrap', path], 'bootstrap.log')

    def run_scenario(self, path):
        scenario = self.cloud.scenario
        self.step('scenario %s: %s' % (self.cloud.scenario_name,
                                       scenario.title.format(
                                           soak_seconds=os.environ.get(
                                               'HOSTSTATUS_SOAK_SECONDS',
                                               180))))
        return subprocess.call(
            [os.path.join(self.bin(None), 'python'), '-m', scenario.module,
             path], env=dict(os.environ, PYTHONWARNINGS='ignore'))


def main(argv):
    scenario, layout, state = argv
    deployment = None
    try:
        deployment = Deployment(scenario, layout, state)
        path = deployment.deploy()
        return deployment.run_scenario(path)
    except (Failure, TimeoutError, subprocess.CalledProcessError) as e:
        say('FAILED: %s' % e)
        return 1
    finally:
        if deployment is not None:
            deployment.step(None)
            deployment.pool.shutdown(wait=False, cancel_futures=True)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
