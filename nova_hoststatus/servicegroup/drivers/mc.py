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

"""Nova's memcache ServiceGroup driver, honouring forced_down itself."""

from nova.servicegroup.drivers import mc

from nova_hoststatus.servicegroup.drivers import base


class MemcachedDriver(base.ForcedDownMixin, mc.MemcachedDriver):
    """A forced-down service is down, however fresh its memcache key.

    forced_down lives in the services table, which every caller of is_up
    has already read, so the check costs nothing. The heartbeat still
    refreshes the key while forced down: withholding it would need a
    database read per heartbeat of every service to learn forced_down,
    which is what this driver exists to avoid, and is_up ignores the key
    then anyway. The fresh key also shows in os-services (updated_at) that
    the service still runs, and makes it up at once when forced_down is
    unset, as with the database driver.
    """
