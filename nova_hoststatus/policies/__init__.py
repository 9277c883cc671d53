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

"""Policy rules of nova-hoststatus, enforced through nova's enforcer."""

import itertools

from nova import policy as nova_policy

from nova_hoststatus.policies import base
from nova_hoststatus.policies import hosts


def list_rules():
    return itertools.chain(base.list_rules(), hosts.list_rules())


def register_rules():
    """Register this package's defaults on nova's policy enforcer.

    Nova builds its enforcer lazily and tests rebuild it, so registration is
    checked on every use; it costs a set lookup once registered.
    """
    nova_policy.init()
    # nova exposes its enforcer only through get_enforcer(), which re-parses
    # the command line for the oslopolicy tools; the running one is here.
    enforcer = nova_policy._ENFORCER
    rules = [rule for rule in list_rules()
             if rule.name not in enforcer.registered_rules]
    if not rules:
        return
    enforcer.register_defaults(rules)
    # Rules set with set_rules() (nova.policy.set_rules, nova's test
    # fixtures) turn off loading from the policy file, and with it the
    # merging of registered defaults: add the defaults those rules lack, as
    # loading would, never replacing a rule already there.
    missing = {rule.name: rule.check for rule in rules
               if rule.name not in enforcer.rules}
    if missing:
        enforcer.set_rules(missing, overwrite=False,
                           use_conf=enforcer.use_conf)
