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

"""Nova's services, started with the drivers of this package installed.

``nova-hoststatus-compute``, ``nova-hoststatus-conductor`` and
``nova-hoststatus-scheduler`` take the same arguments and configuration as
``nova-compute``, ``nova-conductor`` and ``nova-scheduler``: each imports
Nova's own starter module first (so that Nova monkey patches before anything
else is imported, as it does when started directly), installs the drivers,
then calls that module's ``main()``.
"""

import importlib

from nova_hoststatus import servicegroup


def _main(nova_cmd):
    module = importlib.import_module(nova_cmd)
    servicegroup.install()
    return module.main()


def compute():
    return _main('nova.cmd.compute')


def conductor():
    return _main('nova.cmd.conductor')


def scheduler():
    return _main('nova.cmd.scheduler')
