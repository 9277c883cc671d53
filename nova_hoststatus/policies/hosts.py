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

from oslo_policy import policy

from nova.policies import base

POLICY_ROOT = 'nova_hoststatus:os-hosts:%s'

SHOW = POLICY_ROOT % 'show'
UPDATE = POLICY_ROOT % 'update'
REPORT_HOST_DOWN = POLICY_ROOT % 'report-host-down'
EVACUATE = POLICY_ROOT % 'evacuate'
FORCE = POLICY_ROOT % 'force'

hosts_policies = [
    policy.DocumentedRuleDefault(
        name=SHOW,
        check_str=base.ADMIN,
        description="Show the state of a compute host: its nova-compute "
                    "service status, maintenance mode and whether it was "
                    "reported down.",
        operations=[
            {'method': 'GET', 'path': '/os-hosts/{host_name}/state'},
        ],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=UPDATE,
        check_str=base.ADMIN,
        description="Enable or disable a compute host, or put it into or "
                    "take it out of maintenance mode ('status' and "
                    "'maintenance_mode' in the request body).",
        operations=[
            {'method': 'PUT', 'path': '/os-hosts/{host_name}'},
        ],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=REPORT_HOST_DOWN,
        check_str=base.ADMIN,
        description="Report a compute host down, or clear that report "
                    "('host_down_reported' in the request body). A report "
                    "forces the nova-compute service down and stops the "
                    "instances on the host. Fault monitors usually run with "
                    "the 'service' role: grant it with "
                    "'rule:nova_hoststatus:service_or_admin'.",
        operations=[
            {'method': 'PUT', 'path': '/os-hosts/{host_name}'},
        ],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=EVACUATE,
        check_str=base.ADMIN,
        description="Evacuate the servers of a compute host reported down, "
                    "each back in the state it had before the fault. HA "
                    "tools usually run with the 'service' role: grant it "
                    "with 'rule:nova_hoststatus:service_or_admin'.",
        operations=[
            {'method': 'POST', 'path': '/os-hosts/{host_name}/evacuate'},
        ],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=FORCE,
        check_str=base.ADMIN,
        description="Override what the package checks for a fault monitor "
                    "that may be wrong ('force': true): report a host down "
                    "beyond [hoststatus] max_down_fraction or an "
                    "aggregate's hoststatus:max_down, or evacuate a host "
                    "whose nova-compute still reported after the report, "
                    "or that was not attested fenced. Kept for "
                    "administrators: a monitor granted it can stop every "
                    "server of the cloud.",
        operations=[
            {'method': 'PUT', 'path': '/os-hosts/{host_name}'},
            {'method': 'POST', 'path': '/os-hosts/{host_name}/evacuate'},
        ],
        scope_types=['project']),
]


def list_rules():
    return hosts_policies
