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

# Nova 33 and later have "service_or_admin" in their policy base, Nova 31
# has not (a rule naming it denies everyone there): the package carries
# its own, the same on every release.
SERVICE_OR_ADMIN = 'nova_hoststatus:service_or_admin'

base_policies = [
    policy.RuleDefault(
        name=SERVICE_OR_ADMIN,
        check_str='role:service or rule:context_is_admin',
        description="The 'service' role or an administrator: what fault "
                    "monitors and HA tools (Masakari) run with. Grant a "
                    "rule of this package to them with "
                    "'rule:nova_hoststatus:service_or_admin'."),
]


def list_rules():
    return base_policies
