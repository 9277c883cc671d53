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

"""The files the local cloud's processes read, from its topology.

:data:`FILES` maps each file a :class:`local_cloud.topology.Service` names
(``configs`` and ``files``, under the etc directory) to what writes it: a
function of the deployment (:class:`local_cloud.deploy.Deployment`) and of
the process's cell and host, returning the file's text, or the path of a
file of this repository to copy.

Nova's files follow devstack's superconductor layout (lib/nova):

``nova/nova.conf``
    nova-api, the scheduler, the super-conductor and the watcher:
    ``[api_database]``, ``[database]`` on nova_cell0 (one cell: that cell's
    database), the top-level vhost.
``nova/nova_<cell>.conf``
    a cell's conductor, and nothing else: the cell's database and vhost.
``nova/nova-cpu-<cell>.conf``
    the computes of a cell: the cell's vhost, no database.
``nova/nova-<host>.conf``
    a compute's host name and state directory.

Every Nova process sends its notifications to the top-level vhost, where
their consumers listen (devstack's computes do; its cell conductors have
no notification settings, but the instance updates of a cell's computes
are saved, and notified, by that cell's conductor).
"""

import os
import subprocess

from local_cloud import topology


def merged(*parts):
    """``{section: {option: value}}`` dicts merged, the last one winning."""
    sections = {}
    for part in parts:
        for section, options in part.items():
            sections.setdefault(section, {}).update(options)
    return sections


def ini(*parts):
    """An ini file of ``{section: {option: value}}`` dicts, merged."""
    sections = merged(*parts)
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        lines.extend('%s = %s' % (option, value)
                     for option, value in options.items())
    return '\n'.join(lines) + '\n'


def authtoken(d, user):
    return {'keystone_authtoken': {
        'www_authenticate_uri': d.keystone_url,
        'auth_url': d.keystone_url,
        'auth_type': 'password',
        'username': user,
        'password': d.password,
        'project_name': 'service',
        'user_domain_id': 'default',
        'project_domain_id': 'default',
    }}


def service_auth(d, *sections):
    """How Nova talks to other services, as nova."""
    return {section: {
        'auth_type': 'password',
        'auth_url': d.keystone_url,
        'username': 'nova',
        'password': d.password,
        'project_name': 'service',
        'user_domain_id': 'default',
        'project_domain_id': 'default',
        'region_name': 'RegionOne',
        'valid_interfaces': 'public',
    } for section in sections}


def keystone_conf(d, cell, host):
    etc = os.path.join(d.etc, 'keystone')
    return ini({
        'DEFAULT': {'log_file': os.path.join(d.logs, 'keystone.log')},
        'database': {'connection': d.db_url('keystone')},
        'token': {'provider': 'fernet'},
        'fernet_tokens': {'key_repository': os.path.join(etc, 'fernet-keys')},
        'credential': {'key_repository': os.path.join(etc,
                                                      'credential-keys')},
        # Fastest bcrypt: every token request hashes a password.
        'identity': {'password_hash_rounds': 4},
    })


def placement_conf(d, cell, host):
    return ini({
        'DEFAULT': {'log_file': os.path.join(d.logs, 'placement.log')},
        'placement_database': {'connection': d.db_url('placement')},
        'api': {'auth_strategy': 'keystone'},
    }, authtoken(d, 'placement'))


def nova_common(d):
    """What every Nova file of the cloud says."""
    nova_state = os.path.join(d.state, 'nova')
    superconductor = d.cloud.layout == topology.SUPERCONDUCTOR
    return merged({
        'DEFAULT': {'my_ip': '127.0.0.1', 'state_path': nova_state},
        'notifications': {'notification_format': 'both',
                          'notify_on_state_change': 'vm_state'},
        'oslo_messaging_notifications': {
            'driver': 'messagingv2',
            'transport_url': d.rabbit_url(topology.TOP_VHOST)},
        'oslo_concurrency': {'lock_path': os.path.join(nova_state, 'lock')},
    }, {
        # A cell's computes cannot tell the scheduler of their instances
        # (another vhost).
        'filter_scheduler': {'track_instance_changes': False},
    } if superconductor else {}, d.cloud.scenario.nova_options)


def nova_conf(d, cell, host):
    return ini(nova_common(d), {
        'DEFAULT': {'host': 'controller',
                    'transport_url': d.rabbit_url(topology.TOP_VHOST)},
        'api': {'auth_strategy': 'keystone'},
        'wsgi': {'api_paste_config': os.path.join(d.etc, 'nova',
                                                  'api-paste.ini')},
        'api_database': {'connection': d.db_url('nova_api')},
        'database': {'connection': d.db_url(d.cloud.database)},
        'conductor': {'workers': 1},
        'scheduler': {'workers': 1},
        'hoststatus': {'coordination_url': coordination_url(d)},
    }, authtoken(d, 'nova'),
        service_auth(d, 'placement', 'glance', 'neutron'))


def coordination_url(d):
    """[hoststatus] coordination_url: the watchers' lock, as the scenario's.

    A lock file of this one machine, or tooz's MySQL driver on the cloud's
    MariaDB (its URL: mysql://USER:PASSWORD@HOST:PORT/DBNAME, PyMySQL, which
    Nova's own database connection needs already).
    """
    if d.cloud.scenario.coordination == topology.MYSQL:
        return 'mysql://openstack:%s@127.0.0.1:%d/nova_api' % (
            d.password, d.port['mariadb'])
    return 'file://%s' % os.path.join(d.state, 'nova', 'coordination')


def cell_conductor_conf(d, cell, host):
    return ini(nova_common(d), {
        'DEFAULT': {'host': 'controller',
                    'transport_url': d.rabbit_url(cell.vhost)},
        'database': {'connection': d.db_url(cell.database)},
        'conductor': {'workers': 1},
        # Reschedules within the cell claim in Placement.
    }, service_auth(d, 'placement'))


def compute_conf(d, cell, host):
    options = {
        'DEFAULT': {'transport_url': d.rabbit_url(cell.vhost),
                    'compute_driver': 'fake.FakeDriver',
                    # There is no Neutron to heal the network cache from.
                    'heal_instance_info_cache_interval': -1},
    }
    if cell.conductor:
        # No upcall from a cell to the API database.
        options['workarounds'] = {'disable_group_policy_check_upcall': True}
    # The scenario's options (the compute driver) win.
    return ini(options, nova_common(d),
               service_auth(d, 'placement', 'glance', 'neutron'))


def compute_host_conf(d, cell, host):
    return ini({'DEFAULT': {'host': host, 'state_path': os.path.join(
        d.state, 'nova', host)}})


def nova_api_paste(d, cell, host):
    """Stock's api-paste.ini of the series' Nova, with the package's router.

    The package's file where the series has it, as a deployer copies it;
    otherwise made from the one the series' nova wheel installs, as a
    deployer of another release does (doc/source/deploy.rst).
    """
    series = d.cloud.series
    if series.api_paste:
        with open(os.path.join(topology.REPO, series.api_paste)) as f:
            return f.read()
    return subprocess.run(
        [os.path.join(d.bin(None), 'nova-hoststatus-api-paste')],
        check=True, capture_output=True, text=True).stdout


def nova_api_conf(d, cell, host):
    return ini({'DEFAULT': {'log_file': os.path.join(d.logs,
                                                     'nova-api.log')}})


def messaging_conf(d, cell, host):
    """What the scenarios' own listeners need of oslo.messaging."""
    return ini({section: options for section, options
                in d.cloud.scenario.nova_options.items()
                if section.startswith('oslo_messaging')})


def fault_monitor_policy(d, cell, host):
    # The fault monitor's own role, as doc/source/deploy.rst gives it.
    return ''.join(
        '"%s": "role:host_fault_monitor or rule:context_is_admin"\n' % rule
        for rule in ('nova_hoststatus:os-hosts:report-host-down',
                     'nova_hoststatus:os-hosts:evacuate',
                     'nova_hoststatus:os-hosts:show',
                     'os_compute_api:os-evacuate'))


def masakari_conf(d, cell, host):
    masakari_venv = os.path.dirname(d.bin('masakari'))
    return ini({
        'DEFAULT': {
            'transport_url': d.rabbit_url(topology.TOP_VHOST),
            'auth_strategy': 'keystone',
            'masakari_api_listen': '127.0.0.1',
            'masakari_api_listen_port': d.port['masakari-api'],
            'masakari_api_workers': 1,
            # With one API worker there are no concurrent duplicates to
            # spread out: no random delay (up to 5 s) before each
            # notification is created.
            'notification_delay_max': 0,
            # The scenario's notifications come seconds apart.
            'duplicate_notification_detection_interval': 5,
            'os_privileged_user_name': 'masakari',
            'os_privileged_user_password': d.password,
            'os_privileged_user_tenant': 'service',
            'os_privileged_user_auth_url': d.keystone_url,
            'os_user_domain_name': 'Default',
            'os_project_domain_name': 'Default',
            'os_region_name': 'RegionOne',
        },
        'wsgi': {'api_paste_config': os.path.join(
            masakari_venv, 'etc', 'masakari', 'api-paste.ini')},
        'database': {'connection': d.db_url('masakari')},
        'taskflow': {'connection': d.db_url('masakari')},
        'oslo_concurrency': {'lock_path': os.path.join(d.state,
                                                       'masakari-lock')},
    }, authtoken(d, 'masakari'))


# The engine's two flows, chosen by the scenario: this package's tasks
# (doc/source/masakari.rst), for the auto and the reserved_host recovery
# methods, and Masakari's stock ones with a short wait for Nova to see the
# host down. With the package's tasks, Masakari retries a notification that
# ended in error within 5 s, not 120 s (up to 60 s later from the start):
# the scenario's retried notification.
def masakari_flow_package(d, cell, host):
    return ini({
        'DEFAULT': {'process_unfinished_notifications_interval': 5,
                    'periodic_fuzzy_delay': 0},
        'taskflow_driver_recovery_flows': {
            'host_auto_failure_recovery_tasks':
                "pre:['report_host_down_task'],"
                "main:['prepare_HA_enabled_instances_task'],"
                "post:['recover_instances_task']",
            'host_rh_failure_recovery_tasks':
                "pre:['report_host_down_task'],"
                "main:['prepare_HA_enabled_instances_task',"
                "'recover_instances_task'],"
                "post:[]"}})


def masakari_flow_stock(d, cell, host):
    return ini({'DEFAULT': {'wait_period_after_service_update':
                            d.cloud.scenario.masakari_stock_wait}})


def telemetry_credentials(d, user):
    """How Ceilometer and Aodh talk to other services."""
    return {'service_credentials': {
        'auth_type': 'password',
        'auth_url': d.keystone_url,
        'username': user,
        'password': d.password,
        'project_name': 'service',
        'user_domain_id': 'default',
        'project_domain_id': 'default',
        'region_name': 'RegionOne',
        'interface': 'public',
    }}


def ceilometer_conf(d, cell, host):
    etc = os.path.join(d.etc, 'ceilometer')
    return ini({
        'DEFAULT': {
            'transport_url': d.rabbit_url(topology.TOP_VHOST),
            'pipeline_cfg_file': os.path.join(etc, 'pipeline.yaml'),
            'event_pipeline_cfg_file': os.path.join(etc,
                                                    'event_pipeline.yaml'),
            # Its listener runs up to max_parallel_requests (64) batches at
            # once, each publishing through oslo.messaging's connection
            # pool: with the default 30 the pool warns at each burst.
            'rpc_conn_pool_size': 64,
        },
        'notification': {'workers': 1},
        # Nova's legacy notifications (compute.instance.update, which
        # Doctor's consumer alarms on) come on the first topic, its
        # versioned ones (host_status.update) on the second: Nova's
        # [notifications] notification_format = both sends both.
        'oslo_messaging_notifications': {
            'topics': 'notifications,versioned_notifications'},
        'event': {'definitions_cfg_file': os.path.join(
            etc, 'event_definitions.yaml')},
    }, telemetry_credentials(d, 'ceilometer'))


def ceilometer_event_pipeline(d, cell, host):
    """Every event to Aodh's listener, as OPNFV Doctor publishes them."""
    return ('---\n'
            'sources:\n'
            '    - name: event_source\n'
            '      events:\n'
            '          - "*"\n'
            '      sinks:\n'
            '          - event_sink\n'
            'sinks:\n'
            '    - name: event_sink\n'
            '      publishers:\n'
            '          - notifier://?topic=alarm.all\n')


def ceilometer_pipeline(d, cell, host):
    """Samples of every meter to a file of the logs: no Gnocchi here."""
    return ('---\n'
            'sources:\n'
            '    - name: meter_source\n'
            '      meters:\n'
            '          - "*"\n'
            '      sinks:\n'
            '          - meter_sink\n'
            'sinks:\n'
            '    - name: meter_sink\n'
            '      publishers:\n'
            '          - file://%s\n'
            % os.path.join(d.logs, 'ceilometer-samples'))


def ceilometer_event_definitions(d, cell, host):
    """Ceilometer's own event definitions, then the package's.

    As a deployer adds them: Ceilometer reads one file, and a later
    definition of an event type wins over an earlier one.
    """
    d.venvs['ceilometer'].result()
    ceilometer = subprocess.run(
        [os.path.join(d.bin('ceilometer'), 'python'), '-c',
         'import os, ceilometer.pipeline; print(os.path.join(os.path.'
         'dirname(ceilometer.pipeline.__file__), "data", '
         '"event_definitions.yaml"))'],
        check=True, capture_output=True, text=True).stdout.strip()
    with open(ceilometer) as f:
        text = f.read()
    with open(os.path.join(topology.REPO, EVENT_DEFINITIONS)) as f:
        package = f.read()
    # Ours are a list too: its items go on after Ceilometer's.
    return text.rstrip('\n') + '\n' + package.split('---\n', 1)[-1]


def aodh_conf(d, cell, host):
    etc = os.path.join(d.etc, 'aodh')
    return ini({
        'DEFAULT': {
            'transport_url': d.rabbit_url(topology.TOP_VHOST),
            # aodh-api's; its services have their own (--log-file).
            'log_file': os.path.join(d.logs, 'aodh-api.log'),
            # The listener reads a project's event alarms from the
            # database for each of its events: an alarm works as soon as
            # its owner has created it (Aodh caches them 60 s by default).
            'event_alarm_cache_ttl': 0,
        },
        'api': {'auth_mode': 'keystone',
                'paste_config': os.path.join(etc, 'api-paste.ini')},
        'database': {'connection': d.db_url('aodh')},
        'listener': {'event_alarm_topic': 'alarm.all'},
    }, authtoken(d, 'aodh'), telemetry_credentials(d, 'aodh'))


def aodh_api_paste(d, cell, host):
    """Aodh's api-paste.ini; its middlewares read the cloud's aodh.conf.

    They read /etc/aodh/aodh.conf otherwise (oslo_config_project).
    """
    d.venvs['aodh'].result()
    found = subprocess.run(
        [os.path.join(d.bin('aodh'), 'python'), '-c',
         'import os, aodh.api; print(os.path.join(os.path.dirname('
         'aodh.api.__file__), "api-paste.ini"))'],
        check=True, capture_output=True, text=True).stdout.strip()
    with open(found) as f:
        text = f.read()
    return text.replace(
        'oslo_config_project = aodh\n',
        'oslo_config_project = aodh\noslo_config_file = %s\n'
        % os.path.join(d.etc, 'aodh', 'aodh.conf'))


# The package's Ceilometer event definitions, as a deployer adds them.
EVENT_DEFINITIONS = 'etc/nova-hoststatus/ceilometer/event_definitions.yaml'

FILES = {
    'keystone/keystone.conf': keystone_conf,
    'placement/placement.conf': placement_conf,
    # Stock Nova's with the one line changed.
    'nova/api-paste.ini': nova_api_paste,
    'nova/nova.conf': nova_conf,
    'nova/nova-api.conf': nova_api_conf,
    'nova/nova_{cell}.conf': cell_conductor_conf,
    'nova/nova-cpu-{cell}.conf': compute_conf,
    'nova/nova-{host}.conf': compute_host_conf,
    # Owners read host_status (the NFV sample).
    'nova/policy.d/nfv-owner-host-status.yaml':
        'policies/nfv-owner-host-status.yaml',
    'nova/policy.d/fault-monitor.yaml': fault_monitor_policy,
    'messaging.conf': messaging_conf,
    'masakari/masakari.conf': masakari_conf,
    'masakari/flow-nova-hoststatus.conf': masakari_flow_package,
    'masakari/flow-stock.conf': masakari_flow_stock,
    'ceilometer/ceilometer.conf': ceilometer_conf,
    'ceilometer/event_pipeline.yaml': ceilometer_event_pipeline,
    'ceilometer/event_definitions.yaml': ceilometer_event_definitions,
    'ceilometer/pipeline.yaml': ceilometer_pipeline,
    'aodh/aodh.conf': aodh_conf,
    'aodh/api-paste.ini': aodh_api_paste,
}
