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

"""OpenStackClient plugin module of nova-hoststatus.

OSC finds it through the ``openstack.cli.extension`` entry point and loads
the commands of the ``openstack.hoststatus.v1`` group.
"""

import logging

from osc_lib import utils

from nova_hoststatus.cli import client

LOG = logging.getLogger(__name__)

API_NAME = 'hoststatus'
# The version of this command set, not a compute microversion: the client
# sends the microversions each call needs.
DEFAULT_API_VERSION = '1'
API_VERSION_OPTION = 'os_hoststatus_api_version'
API_VERSIONS = ('1',)


def make_client(instance):
    """Return the nova-hoststatus client on OSC's keystoneauth session."""
    # Honour a compute endpoint override (clouds.yaml
    # compute_endpoint_override) as OSC's compute commands do.
    endpoint_override = instance.get_configuration().get(
        'compute_endpoint_override')
    LOG.debug('Creating the hoststatus client (compute endpoint override: '
              '%s)', endpoint_override)
    return client.Client(instance.session,
                         region_name=instance.region_name,
                         interface=instance.interface,
                         endpoint_override=endpoint_override)


def build_option_parser(parser):
    """Add the global option of the plugin."""
    parser.add_argument(
        '--os-hoststatus-api-version',
        metavar='<hoststatus-api-version>',
        default=utils.env('OS_HOSTSTATUS_API_VERSION'),
        help='nova-hoststatus command set version, default=%s '
             '(Env: OS_HOSTSTATUS_API_VERSION)' % DEFAULT_API_VERSION)
    return parser
