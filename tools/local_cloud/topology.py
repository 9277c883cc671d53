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

"""What the local cloud is made of, as data.

Everything tools/run-local-cloud.sh deploys is declared here: the cells and
their hosts, the services and the processes they become, the files each
process reads, its threading mode, per scenario and per layout.
:mod:`local_cloud.deploy` generates the configuration files
(:mod:`local_cloud.configs`), the commands, ``cloud.json`` and the checks
from it; nothing is written per cell, per scenario or per Nova series
anywhere else.

* A cell is a name and its hosts in a scenario's ``cells``; in the
  superconductor layout it gets its own database (``nova_<cell>``), its
  own RabbitMQ vhost and its own conductor.
* A service is a :class:`Service` in :data:`SERVICES`. ``per`` makes it
  one process, one per cell with a conductor of its own, or one per host;
  ``{cell}`` and ``{host}`` in its name and files are filled in. A
  scenario that needs it names it in ``extra_services``, unless every
  scenario does.
* A Nova series is a :class:`Series` in :data:`SERIES`, chosen with
  ``HOSTSTATUS_SERIES`` (tools/series.sh): its venv and constraints, and
  the threading modes its Nova processes can run in.

This module is standard library only: the script runs it before the venv
exists to check its arguments and print the layout::

    [HOSTSTATUS_SERIES=2025.1] python3 -m local_cloud.topology SCENARIO LAYOUT
"""

import dataclasses
import math
import os
import re
import sys

NATIVE, EVENTLET = 'native', 'eventlet'
THREADING = {NATIVE: 'native threads', EVENTLET: 'eventlet'}
SUPERCONDUCTOR, SINGLE = 'superconductor', 'single'
LAYOUTS = (SUPERCONDUCTOR, SINGLE)
# What a Service is started once for.
CLOUD, CELL, HOST = 'cloud', 'cell', 'host'
# A compute's readiness: registered in its cell and in Placement.
REGISTERED = 'registered'
# The top-level RabbitMQ vhost: nova-api's, the scheduler's, the
# super-conductor's, and where every service sends notifications.
TOP_VHOST = '/'
# [hoststatus] max_down_fraction where a scenario does not set it: the
# package's default (nova_hoststatus/conf), the runaway guard.
DEFAULT_MAX_DOWN_FRACTION = 0.5

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# One block of loopback ports, in this order from the base port.
PORTS = ('keystone', 'placement', 'nova-api', 'image', 'network',
         'rabbitmq', 'rabbitmq-dist', 'epmd', 'mariadb', 'masakari-api',
         'aodh-api')


@dataclasses.dataclass(frozen=True)
class Series(object):
    """A Nova series the cloud runs, as tools/series.sh names it.

    Nova, Placement and this package run from the checkout's venv of the
    series (``HOSTSTATUS_SERIES=NAME tools/setup-venv.sh``), at the
    versions its constraints pin; so does Masakari, in its own venv.
    """

    name: str
    # The checkout's venv and the constraints it is built with.
    venv: str
    constraints: str
    # The threading modes its Nova processes can run in: a process whose
    # mode is not one of them runs in the first.
    threading: tuple = (NATIVE, EVENTLET)
    # nova-api's api-paste.ini: this repository's file, or None to make it
    # from the series' own with nova-hoststatus-api-paste.
    api_paste: str = None

    def pinned(self, project):
        """The version of ``project`` the series' constraints pin."""
        with open(os.path.join(REPO, self.constraints)) as f:
            found = re.search(r'^%s==(\S+)' % re.escape(project), f.read(),
                              re.MULTILINE | re.IGNORECASE)
        if found is None:
            raise KeyError('%s: no %s' % (self.constraints, project))
        return found.group(1)


DEFAULT_SERIES = '2026.2'
SERIES = {
    # The package's file is stock Nova 34's with its one line changed.
    '2026.2': Series('2026.2', '.venv', 'constraints.txt',
                     api_paste='etc/nova-hoststatus/api-paste.ini'),
    # Nova 33 runs nova-api and the scheduler in native threads only as an
    # experiment, its other services under eventlet: every Nova process
    # runs under eventlet, as the series is deployed.
    '2026.1': Series('2026.1', '.venv-2026.1', 'constraints/2026.1.txt',
                     threading=(EVENTLET,)),
    # Nova 31 has no native threads.
    '2025.1': Series('2025.1', '.venv-2025.1', 'constraints/2025.1.txt',
                     threading=(EVENTLET,)),
}


def series(name=None):
    """The :class:`Series` ``name``, by default HOSTSTATUS_SERIES's."""
    return SERIES[name or os.environ.get('HOSTSTATUS_SERIES') or
                  DEFAULT_SERIES]


@dataclasses.dataclass(frozen=True)
class Venv(object):
    """A venv of its own, cached in HOSTSTATUS_CLOUD_CACHE between runs."""

    packages: tuple
    # Python the venv must run once built.
    check: str
    # This checkout is reinstalled into it at every run, without its
    # dependencies (the cached ones stay).
    with_checkout: bool = False
    # Built with the series' constraints, one per series; its packages
    # named here must be at the versions they pin, or it is built again.
    # Otherwise built with constraints.txt, the same for every series.
    pinned: tuple = ()

    def directory(self, name, series):
        """Its directory in the cache."""
        if self.pinned and series.name != DEFAULT_SERIES:
            return '%s-%s-venv' % (name, series.name)
        return '%s-venv' % name


# Keystone and Masakari have venvs of their own, as in a real deployment;
# Nova, Placement and this package run from the checkout's venv of the
# series. Keystone is the current release whatever the series: Nova talks
# to it only through its stable API.
VENVS = {
    'keystone': Venv(('keystone', 'gunicorn', 'PyMySQL'),
                     'import keystone, gunicorn'),
    'masakari': Venv(('{repo}[masakari]', 'PyMySQL', 'python-masakariclient',
                      'python-openstackclient'),
                     'import masakari, masakariclient, '
                     'nova_hoststatus.masakari.tasks',
                     with_checkout=True, pinned=('masakari', 'nova')),
    # Telemetry's release of the series, as the series' constraints pin it:
    # Ceilometer's notification agent and Aodh's services, each in its own
    # venv. aodhclient, which `openstack alarm create` runs, is there for
    # a look at a kept cloud's alarms; the scenario uses Aodh's REST API.
    'ceilometer': Venv(('ceilometer',), 'import ceilometer.notification',
                       pinned=('ceilometer',)),
    'aodh': Venv(('aodh', 'aodhclient', 'gunicorn', 'PyMySQL'),
                 'import aodh.event, aodhclient, gunicorn, pymysql',
                 pinned=('aodh',)),
}


@dataclasses.dataclass(frozen=True)
class Service(object):
    """A service of the cloud, and how its processes run.

    Strings are templates (``str.format``) filled in by
    :mod:`local_cloud.deploy`: ``{bin}`` (the service's venv), ``{etc}``,
    ``{logs}``, ``{state}``, ``{repo}``, ``{port[NAME]}``, ``{cell}``,
    ``{host}``, ...
    """

    name: str
    per: str = CLOUD
    # oslo.config services: the command; each of ``configs`` is added as a
    # --config-file, and --log-file {logs}/NAME.log.
    command: tuple = ()
    # WSGI services: the application, served by gunicorn on ``port``. They
    # read ``configs`` from the directories their ``env`` names.
    wsgi: str = None
    venv: str = None
    # The files the process reads, in order, under the etc directory.
    configs: tuple = ()
    # Other files its deployment writes there (policies, flows...).
    files: tuple = ()
    env: tuple = ()
    port: str = None
    # (service type, port, path) of its catalog entries.
    endpoints: tuple = ()
    # Path answered over HTTP once it serves, or REGISTERED.
    ready: str = None
    # Its databases (MariaDB), created before its setup runs.
    databases: tuple = ()
    # Run before it starts: commands, or the name of a function of
    # local_cloud.deploy.
    setup: tuple = ()
    # A Nova process: its threading mode is Nova's switch, and it must run
    # the ServiceGroup driver of this package. The series may not have it
    # (Series.threading).
    nova: bool = False
    threading: str = NATIVE
    workers: int = 1
    # Started in this order; the scenario starts the ones of stage None.
    stage: str = 'nova'


# The order of the stages, and what each starts.
STAGES = {
    'identity': 'Keystone, Placement, the Glance/Neutron stubs',
    'nova': 'nova-api, the conductors, the scheduler, the watcher, the '
            'computes',
    'ha': 'masakari-api',
    'telemetry': "Ceilometer's notification agent, Aodh's API, listener and "
                 'notifier',
}

NOVA_BIN = '{bin}/nova-hoststatus-'

SERVICES = (
    Service('keystone', venv='keystone', wsgi='keystone.wsgi.api:application',
            configs=('keystone/keystone.conf',), port='keystone',
            env=(('OS_KEYSTONE_CONFIG_DIR', '{etc}/keystone'),),
            ready='/v3', stage='identity', databases=('keystone',), setup=(
                ('{bin}/keystone-manage', '--config-file',
                 '{etc}/keystone/keystone.conf', 'db_sync'),
                ('{bin}/keystone-manage', '--config-file',
                 '{etc}/keystone/keystone.conf', 'fernet_setup',
                 '--keystone-user', 'root', '--keystone-group', 'root'),
                ('{bin}/keystone-manage', '--config-file',
                 '{etc}/keystone/keystone.conf', 'credential_setup',
                 '--keystone-user', 'root', '--keystone-group', 'root'),
                ('{bin}/keystone-manage', '--config-file',
                 '{etc}/keystone/keystone.conf', 'bootstrap',
                 '--bootstrap-password', '{admin_password}',
                 '--bootstrap-admin-url', '{keystone_url}/v3',
                 '--bootstrap-internal-url', '{keystone_url}/v3',
                 '--bootstrap-public-url', '{keystone_url}/v3',
                 '--bootstrap-region-id', 'RegionOne'))),
    Service('placement', wsgi='placement.wsgi.api:application',
            configs=('placement/placement.conf',), port='placement',
            env=(('OS_PLACEMENT_CONFIG_DIR', '{etc}/placement'),),
            endpoints=(('placement', 'placement', ''),), ready='/',
            stage='identity', databases=('placement',), setup=(
                ('{bin}/placement-manage', '--config-file',
                 '{etc}/placement/placement.conf', 'db', 'sync'),)),
    Service('stubs', command=('{bin}/python', '-m', 'local_cloud.stubs',
                              '--image-port', '{port[image]}',
                              '--network-port', '{port[network]}'),
            endpoints=(('image', 'image', ''), ('network', 'network', '')),
            stage='identity'),
    # Nova's own WSGI module, after the package's ServiceGroup drivers are
    # selected. Under WSGI, Nova reads its paste file from the first of
    # OS_NOVA_CONFIG_FILES.
    Service('nova-api', wsgi='nova_hoststatus.servicegroup.wsgi:application',
            configs=('nova/api-paste.ini', 'nova/nova.conf',
                     'nova/nova-api.conf'),
            files=('nova/policy.d/nfv-owner-host-status.yaml',
                   'nova/policy.d/fault-monitor.yaml', 'messaging.conf'),
            env=(('OS_NOVA_CONFIG_DIR', '{etc}/nova'),
                 ('OS_NOVA_CONFIG_FILES', '{config_names}'),
                 # Where the soak arms the faults of local_cloud.faults.
                 ('HOSTSTATUS_SOAK_FAULTS', '{state}/faults')),
            port='nova-api', endpoints=(('compute', 'nova-api', '/v2.1'),),
            ready='/', nova=True, setup=('nova_databases',),
            # And each cell's.
            databases=('nova_api', 'nova_cell0')),
    # The super-conductor in the superconductor layout, the only one in
    # the single layout.
    Service('nova-conductor', command=(NOVA_BIN + 'conductor',),
            configs=('nova/nova.conf',), nova=True),
    Service('nova-scheduler', command=(NOVA_BIN + 'scheduler',),
            configs=('nova/nova.conf',), nova=True),
    # It tells owners what Nova's policy lets them see: nova-api's rules.
    Service('nova-hoststatus-watcher', command=(NOVA_BIN + 'watcher',),
            configs=('nova/nova.conf',),
            files=('nova/policy.d/nfv-owner-host-status.yaml',), nova=True),
    # A cell's conductor reads its cell's file only, as devstack runs it.
    Service('nova-conductor-{cell}', per=CELL,
            command=(NOVA_BIN + 'conductor',),
            configs=('nova/nova_{cell}.conf',), nova=True),
    Service('nova-compute-{host}', per=HOST, command=(NOVA_BIN + 'compute',),
            configs=('nova/nova-cpu-{cell}.conf', 'nova/nova-{host}.conf'),
            ready=REGISTERED, nova=True),
    Service('masakari-api', venv='masakari', command=('{bin}/masakari-api',),
            configs=('masakari/masakari.conf',), port='masakari-api',
            endpoints=(('instance-ha', 'masakari-api', '/v1'),), ready='/',
            stage='ha', databases=('masakari',), setup=(
                ('{bin}/masakari-manage', '--config-file',
                 '{etc}/masakari/masakari.conf', 'db', 'sync'),)),
    # Started by the scenario, with one flow file or the other.
    Service('masakari-engine', venv='masakari',
            command=('{bin}/masakari-engine',),
            configs=('masakari/masakari.conf',),
            files=('masakari/flow-nova-hoststatus.conf',
                   'masakari/flow-stock.conf'), stage=None),
    # Telemetry as OPNFV Doctor's consumer path uses it: Ceilometer turns
    # Nova's notifications into events (Ceilometer's event definitions and
    # the package's, etc/nova-hoststatus/ceilometer/) and publishes them to
    # Aodh's listener (topic alarm.all); the listener fires the owners'
    # event alarms, the notifier calls their actions.
    Service('ceilometer-agent-notification', venv='ceilometer',
            command=('{bin}/ceilometer-agent-notification',),
            configs=('ceilometer/ceilometer.conf',),
            files=('ceilometer/event_pipeline.yaml',
                   'ceilometer/event_definitions.yaml',
                   'ceilometer/pipeline.yaml'), stage='telemetry'),
    Service('aodh-api', venv='aodh', wsgi='local_cloud.aodh_wsgi:application',
            configs=('aodh/aodh.conf',), files=('aodh/api-paste.ini',),
            env=(('AODH_CONFIG_FILE', '{etc}/aodh/aodh.conf'),),
            port='aodh-api', endpoints=(('alarming', 'aodh-api', ''),),
            ready='/', stage='telemetry', databases=('aodh',), setup=(
                ('{bin}/aodh-dbsync', '--config-file',
                 '{etc}/aodh/aodh.conf'),)),
    Service('aodh-listener', venv='aodh', command=('{bin}/aodh-listener',),
            configs=('aodh/aodh.conf',), stage='telemetry'),
    Service('aodh-notifier', venv='aodh', command=('{bin}/aodh-notifier',),
            configs=('aodh/aodh.conf',), stage='telemetry'),
)
# Services only some scenarios deploy.
OPTIONAL = frozenset(['masakari-api', 'masakari-engine'])
# Telemetry, for the scenarios that name it.
TELEMETRY = ('ceilometer-agent-notification', 'aodh-api', 'aodh-listener',
             'aodh-notifier')
OPTIONAL |= frozenset(TELEMETRY)


# The tooz backends of Scenario.coordination.
FILE, MYSQL = 'file', 'mysql'


@dataclasses.dataclass(frozen=True)
class Scenario(object):
    """What a scenario runs, and on which cloud."""

    module: str
    title: str
    # {layout: ((cell, (host, ...)), ...)}
    cells: dict
    # {layout: ((failed host, spare host), ...)}, in the order they fail;
    # a spare is in the failed host's cell (Nova evacuates within a cell).
    failures: dict
    extra_services: tuple = ()
    # {service name: {field: value}}: Service fields changed here.
    overrides: dict = dataclasses.field(default_factory=dict)
    # {section: {option: value}} added to every Nova file.
    nova_options: dict = dataclasses.field(default_factory=dict)
    # Masakari's stock flow waits this long for Nova to see a host down.
    masakari_stock_wait: int = None
    # The tooz backend of the watchers' lock ([hoststatus]
    # coordination_url): FILE, a lock file of this machine, or MYSQL,
    # tooz's MySQL driver on the cloud's MariaDB (GET_LOCK on a connection
    # of the watcher's, which a scenario can cut).
    coordination: str = FILE


TWO_CELLS = (('cell1', ('host1', 'host2')), ('cell2', ('host3', 'host4')))
ONE_CELL = (('cell1', ('host1', 'host2')),)

SCENARIOS = {
    # A host of cell2 fails; its servers come back on the other host of
    # cell2, a server of cell1 is untouched.
    'fault': Scenario(
        'local_cloud.scenario', 'a host fails',
        cells={SUPERCONDUCTOR: TWO_CELLS, SINGLE: ONE_CELL},
        failures={SUPERCONDUCTOR: (('host3', 'host4'),),
                  SINGLE: (('host1', 'host2'),)}),
    # Nova's fake driver cannot restart a compute in a new process (its
    # node gets a new uuid): every fault needs a host that has not failed.
    # In order: the package's flow recovers a host, the stock flow two
    # hosts in turn; then, with the package's flow again and each onto the
    # host the previous one recovered onto: a notification retried, an
    # engine killed mid-flow, and a segment whose recovery method is
    # reserved_host, its spare the reserved host.
    'masakari': Scenario(
        'local_cloud.masakari_scenario',
        'Masakari recovers hosts, with and without the package',
        cells={SUPERCONDUCTOR: (('cell1', ('host1', 'host2', 'host3')),
                                ('cell2', ('host4', 'host5', 'host6',
                                           'host7', 'host8'))),
               SINGLE: (('cell1', ('host1', 'host2', 'host3', 'host4',
                                   'host5', 'host6', 'host7')),)},
        failures={SUPERCONDUCTOR: (('host4', 'host5'), ('host1', 'host2'),
                                   ('host2', 'host3'), ('host5', 'host6'),
                                   ('host6', 'host7'), ('host7', 'host8')),
                  SINGLE: (('host1', 'host2'), ('host2', 'host3'),
                           ('host3', 'host4'), ('host4', 'host5'),
                           ('host5', 'host6'), ('host6', 'host7'))},
        extra_services=('masakari-api', 'masakari-engine'),
        # As Nova 33 and older run it (they run every Nova process so),
        # with the fault of the retried notification armed in it.
        overrides={'nova-api': {'threading': EVENTLET,
                                'wsgi': 'local_cloud.faults:application'}},
        # Masakari's stock flow waits for Nova to see a host down; a short
        # liveness keeps that wait short. No host comes back and no report
        # is cleared: up to 5 hosts of 8 (of 7 in the single layout) are
        # reported down at the end, more than the runaway guard's default
        # (half of them) allows; three quarters allow 6 of 8, 5 of 7.
        nova_options={'DEFAULT': {'report_interval': 2,
                                  'service_down_time': 10},
                      'hoststatus': {'max_down_fraction': 0.75}},
        masakari_stock_wait=15),
    # The fault monitor is wrong: a host reported down that runs, then
    # every host reported. The guard at its default; heartbeats every 2 s
    # (a report is contradicted within seconds) and power states synced
    # every 8 s, both within the scenario.
    'guard': Scenario(
        'local_cloud.guard_scenario',
        'the monitor is wrong: a false report, a runaway monitor',
        cells={SUPERCONDUCTOR: TWO_CELLS, SINGLE: ONE_CELL},
        failures={SUPERCONDUCTOR: (('host3', 'host4'),),
                  SINGLE: (('host1', 'host2'),)},
        nova_options={'DEFAULT': {'report_interval': 2,
                                  'sync_power_state_interval': 8}}),
    # Hosts of both cells fail in turn and come back.
    'soak': Scenario(
        'local_cloud.soak', '{soak_seconds} s of faults and load',
        cells={SUPERCONDUCTOR: TWO_CELLS, SINGLE: ONE_CELL},
        failures={SUPERCONDUCTOR: (('host1', 'host2'), ('host3', 'host4'),
                                   ('host2', 'host1'), ('host4', 'host3')),
                  SINGLE: (('host1', 'host2'), ('host2', 'host1'))},
        # Two workers, and the faults the soak arms in them.
        overrides={'nova-api': {'wsgi': 'local_cloud.faults:application',
                                'workers': 2}},
        nova_options={
            # RabbitMQ is stopped: what was sent before is still there.
            'oslo_messaging_rabbit': {'amqp_durable_queues': 'true'},
            # Computes are restarted: a fake driver that keeps its node's
            # identity, as a real one does. A compute frozen and not
            # reported turns UNKNOWN within the soak (heartbeats every 3 s,
            # stale after 30 s) and the watcher tells it.
            'DEFAULT': {'compute_driver': 'fake.FakeDriverWithoutFakeNodes',
                        'report_interval': 3, 'service_down_time': 30},
        },
        # The soak cuts the connection of the watcher's lock.
        coordination=MYSQL),
    # Owners of two projects are alarmed through Aodh event alarms of their
    # own when a host fails, as OPNFV Doctor's consumer is.
    'alarms': Scenario(
        'local_cloud.alarms', "owners alarmed through Ceilometer and Aodh",
        # The fault scenario's hosts, and three more for the side by side
        # (local_cloud.alarms.SIZES), in cell1 with host2: a killed compute
        # stays dead, and host3's servers must go to host4.
        cells={SUPERCONDUCTOR: (('cell1', ('host1', 'host2', 'host5',
                                           'host6', 'host7')),
                                ('cell2', ('host3', 'host4'))),
               SINGLE: (('cell1', ('host1', 'host2', 'host3', 'host4',
                                   'host5', 'host6')),)},
        failures={SUPERCONDUCTOR: (('host3', 'host4'),),
                  SINGLE: (('host1', 'host2'),)},
        extra_services=TELEMETRY,
        # No report is cleared: the fault's host and the four of the side
        # by side end forced down, 5 of 7 hosts (of 6 in the single
        # layout), more than the runaway guard's default (half of them)
        # allows; nine tenths allow 6 of 7, 5 of 6.
        nova_options={'hoststatus': {'max_down_fraction': 0.9}}),
}


@dataclasses.dataclass(frozen=True)
class Cell(object):

    name: str
    hosts: tuple
    database: str
    vhost: str
    # A conductor of its own (reading nova_<cell>.conf only).
    conductor: bool


@dataclasses.dataclass(frozen=True)
class Process(object):
    """One process of a service."""

    name: str
    service: Service
    cell: Cell = None
    host: str = None

    def __getattr__(self, name):
        return getattr(self.service, name)


@dataclasses.dataclass(frozen=True)
class Cloud(object):
    """The topology of one run: a scenario in a layout."""

    scenario_name: str
    scenario: Scenario
    layout: str
    series: Series
    # nova.conf's [database]: nova-api's, the scheduler's, the top
    # conductor's.
    database: str
    cells: tuple
    failures: tuple
    processes: tuple

    def cell_of(self, host):
        for cell in self.cells:
            if host in cell.hosts:
                return cell
        raise KeyError(host)

    def process(self, name):
        for process in self.processes:
            if process.name == name:
                return process
        raise KeyError(name)

    @property
    def nova_processes(self):
        return [p for p in self.processes if p.nova]

    @property
    def hosts(self):
        return [host for cell in self.cells for host in cell.hosts]

    def describe(self):
        """The layout in one line."""
        api = self.process('nova-api')
        cells = ', '.join('%s (%s)' % (cell.name, ', '.join(cell.hosts))
                          for cell in self.cells)
        return 'layout: %s, Nova %s (%s); nova-api database %s (%s); ' \
            'cells %s; %s' % (self.layout, self.series.pinned('nova'),
                              self.series.name, self.database,
                              THREADING[api.threading], cells, self.guard())

    @property
    def max_down_fraction(self):
        """[hoststatus] max_down_fraction of this cloud."""
        return float(self.scenario.nova_options.get('hoststatus', {}).get(
            'max_down_fraction', DEFAULT_MAX_DOWN_FRACTION))

    @property
    def max_down(self):
        """How many computes may be reported down at once."""
        # As nova_hoststatus.guard counts, with its slack for 0.3 * 10.
        return int(math.floor(self.max_down_fraction * len(self.hosts) +
                              1e-9))

    def guard(self):
        """The runaway guard of this cloud, in words."""
        return 'runaway guard: [hoststatus] max_down_fraction %s%s, %d of ' \
            'the %d computes may be reported down' % (
                self.max_down_fraction,
                '' if 'max_down_fraction' in self.scenario.nova_options.get(
                    'hoststatus', {}) else ' (default)',
                self.max_down, len(self.hosts))


def cloud(scenario_name, layout, series_name=None):
    """The :class:`Cloud` of ``scenario_name`` in ``layout``.

    On the Nova series ``series_name``, by default HOSTSTATUS_SERIES's.
    """
    scenario = SCENARIOS[scenario_name]
    if layout not in LAYOUTS:
        raise KeyError(layout)
    on = series(series_name)
    own = layout == SUPERCONDUCTOR
    cells = tuple(
        Cell(name, hosts, 'nova_%s' % name,
             'nova_%s' % name if own else TOP_VHOST, own)
        for name, hosts in scenario.cells[layout])
    processes = []
    for service in SERVICES:
        if (service.name in OPTIONAL and
                service.name not in scenario.extra_services):
            continue
        service = dataclasses.replace(
            service, **scenario.overrides.get(service.name, {}))
        if service.nova and service.threading not in on.threading:
            service = dataclasses.replace(service,
                                          threading=on.threading[0])
        if service.per == CLOUD:
            processes.append(Process(service.name, service))
        elif service.per == CELL:
            processes.extend(
                Process(service.name.format(cell=cell.name), service, cell)
                for cell in cells if cell.conductor)
        else:
            processes.extend(
                Process(service.name.format(host=host), service, cell, host)
                for cell in cells for host in cell.hosts)
    return Cloud(scenario_name, scenario, layout, on,
                 # One cell: its database is nova-api's too.
                 'nova_cell0' if own else cells[0].database, cells,
                 scenario.failures[layout], tuple(processes))


def main(argv):
    try:
        scenario, layout = argv
        print(cloud(scenario, layout).describe())
    except (KeyError, ValueError):
        print('scenarios: %s; layouts (HOSTSTATUS_CLOUD_LAYOUT): %s; '
              'series (HOSTSTATUS_SERIES): %s' % (
                  '|'.join(SCENARIOS), '|'.join(LAYOUTS), '|'.join(SERIES)),
              file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
