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

"""WSGI entry point of nova-api with the drivers of this package installed.

Point the WSGI server at ``nova_hoststatus.servicegroup.wsgi:application``
instead of ``nova.wsgi.osapi_compute:application``: Nova's own module then
builds the application, after the drivers are installed.
"""

# Monkey patch as nova.wsgi.osapi_compute does (native threads by default
# in Nova 33 and later, eventlet in Nova 31), before install() imports nova;
# Nova's module patching again is a no-op.
# autopep8: off
from nova_hoststatus import compat; compat.monkey_patch('threading')  # noqa
# autopep8: on

import importlib  # noqa: E402

from nova_hoststatus import servicegroup  # noqa: E402

servicegroup.install()
application = importlib.import_module('nova.wsgi.osapi_compute').application
