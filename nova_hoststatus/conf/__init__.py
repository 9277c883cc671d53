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

"""Configuration options of nova-hoststatus, registered on nova's CONF."""

from oslo_config import cfg

import nova.conf

CONF = nova.conf.CONF

hoststatus_group = cfg.OptGroup(
    'hoststatus',
    title='Host fault reporting options',
    help='Options for the host fault report API of nova-hoststatus.')

hoststatus_opts = [
    cfg.StrOpt(
        'target_vm_state',
        default='stopped',
        choices=[
            ('stopped', 'Instances become vm_state stopped, as the '
                        'specification of the host fault report says.'),
            ('error', 'Instances become vm_state error, as the OPNFV Doctor '
                      'and Vitrage reset-state workflows do.'),
        ],
        help="""
The vm_state given to the instances of a host that is reported down.

Whatever the choice, power_state becomes shutdown and task_state is cleared,
so that evacuate is allowed at once. Instances in vm_state soft-delete,
deleted, resized or error are never changed.
"""),
    cfg.IntOpt(
        'notification_drain_timeout',
        default=60,
        min=0,
        help="""
Seconds a stopping process waits for queued host fault notifications.

The notifications of a host update (``service.update``, ``host_fault.report``
or ``host_fault.clear`` and one ``instance.update`` per changed instance) are
sent by a worker after the API has answered. When the process exits, it
waits up to this long for the worker to send what is still queued.
"""),
    cfg.IntOpt(
        'notification_send_attempts',
        default=3,
        min=1,
        help="""
How many times a batch of host notifications is tried before it is dropped.

A batch that fails (its servers cannot be read, the notifier raises) is
tried again after 1, 2, 4... seconds (10 at most); the batches queued
behind it wait, to keep their order. Failures of the message transport
itself are retried by oslo.messaging (``[oslo_messaging_notifications]
retry``). ``nova-hoststatus-watcher`` sends its own notifications at its
checks: one that fails is tried again at the next check.
"""),
    cfg.IntOpt(
        'evacuate_workers',
        default=4,
        min=1,
        help="""
How many servers a host evacuation hands to Nova's evacuate at once.

``POST /os-hosts/{host_name}/evacuate`` evacuates each server of the host
through Nova's own evacuate, which records the migration and casts the
rebuild to the conductor; this many run at a time in nova-api. The rebuilds
themselves run on the destination computes, in parallel whatever this is.
"""),
    cfg.IntOpt(
        'recovery_timeout',
        default=600,
        min=1,
        help="""
Seconds the watcher follows the evacuations of a host evacuation.

After ``POST /os-hosts/{host_name}/evacuate`` has answered,
``nova-hoststatus-watcher`` follows the servers it sent, at each check,
until each is rebuilt (or in error); then it removes their pre-fault
records and sends ``host_fault.recover``. A server still being rebuilt
after this long is reported ``timed_out``.
"""),
    cfg.FloatOpt(
        'watch_interval',
        default=5.0,
        min=0.1,
        help="""
Seconds between two checks of the compute services by the watcher.

``nova-hoststatus-watcher`` tells the owners of a host's servers when its
compute service stops heartbeating (host_status UNKNOWN) or heartbeats again
(UP); they learn of it within ``[DEFAULT] service_down_time`` plus this. At
each check it also follows the host evacuations under way
(``host_fault.recover`` is sent within this of their end).
"""),
    cfg.StrOpt(
        'coordination_url',
        secret=True,
        help="""
A tooz backend URL shared by the ``nova-hoststatus-watcher`` processes.

With it, several watchers may run (on several machines, for availability):
they share a lock, and only its holder tells owners; it asks the backend at
every check whether it still holds it. Any tooz backend with locks will do,
e.g. ``mysql://nova:secret@controller/nova_api`` (the API database's
server) or ``etcd3+http://controller:2379``; ``file://`` only serves
watchers on one machine. Without it, run one watcher per deployment:
two would tell owners twice.
"""),
    cfg.FloatOpt(
        'max_down_fraction',
        default=0.5,
        min=0.0,
        max=1.0,
        help="""
The largest fraction of all nova-compute services that may be reported down.

A host down report that would make more than this fraction of the
nova-compute services of the whole deployment (every cell) forced down is
refused with 409, and nothing changes: a monitor that lost its own network
would otherwise report every host down and stop every server of the cloud.
Services already forced down count; a repeated report of a host already
down is never refused. An aggregate may set a lower limit for its hosts
with the metadata ``hoststatus:max_down`` (a number of hosts). A report
with ``"force": true`` overrides both, under the policy rule
``nova_hoststatus:os-hosts:force``. 1.0 turns the cloud-wide limit off.
"""),
    cfg.BoolOpt(
        'require_fenced',
        default=False,
        help="""
Whether host evacuation needs a report that attested fencing.

When set, ``POST /os-hosts/{host_name}/evacuate`` refuses (409) a host
whose report did not say ``"fenced": true``, unless the evacuation says
``"force": true``. Recommended: a host that is only partitioned from the
monitor still runs its servers, and evacuating them runs each twice on
shared storage. Whatever this is, a host whose nova-compute heartbeats
after the report (contradicted) is evacuated only if fenced or forced.
"""),
    cfg.FloatOpt(
        'recovery_poll_interval',
        default=0.5,
        min=0.01,
        deprecated_for_removal=True,
        deprecated_reason=(
            'Recoveries are followed by nova-hoststatus-watcher, at each '
            'of its checks ([hoststatus] watch_interval), no longer by '
            'nova-api.'),
        help="""
Unused: recoveries are followed at each check of the watcher.
"""),
]


def register_opts(conf):
    conf.register_group(hoststatus_group)
    conf.register_opts(hoststatus_opts, group=hoststatus_group)


def list_opts():
    return [(hoststatus_group, hoststatus_opts)]


register_opts(CONF)
