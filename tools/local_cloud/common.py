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

"""What the Python parts share: the cloud's description and API clients.

:mod:`local_cloud.deploy` writes ``cloud.json`` in the state directory:
the layout, cells, hosts and failures of the scenario, ports, passwords,
process id files. Everything here reads it.
"""

import json
import subprocess
import time

from keystoneauth1 import adapter
from keystoneauth1.identity import v3
from keystoneauth1 import session as ksa_session

# Who is who: user -> (project, roles). admin is keystone's bootstrap user.
USERS = {
    'nova': ('service', ['admin', 'service']),
    'placement': ('service', ['admin', 'service']),
    # Masakari's API and the Nova user of its engine
    # (os_privileged_user_name).
    'masakari': ('service', ['admin', 'service']),
    # A fault monitor has a role of its own, which the policy rules of
    # doc/source/deploy.rst (least privilege) grant.
    'monitor': ('service', ['host_fault_monitor']),
    # Telemetry's service users (the alarms scenario).
    'ceilometer': ('service', ['admin', 'service']),
    'aodh': ('service', ['admin', 'service']),
    'owner-a': ('project-a', ['member']),
    'owner-b': ('project-b', ['member']),
}
# The admin boots servers into the owners' projects (targeting hosts is
# admin-only), so it is an admin there too.
ADMIN_PROJECTS = ('project-a', 'project-b')

# The highest microversion the series' Nova serves (2.100 in Nova 31), for
# host_status (2.16), host targeting (2.74) and evacuation to stopped
# servers (2.95).
MICROVERSION = 'compute latest'


def load(path):
    with open(path) as f:
        return json.load(f)


def password_for(cloud, user):
    if user == 'admin':
        return cloud['admin_password']
    return cloud['password']


def session(cloud, user, project=None):
    """A keystoneauth session of ``user``, scoped to its project."""
    if project is None:
        project = 'admin' if user == 'admin' else USERS[user][0]
    auth = v3.Password(
        auth_url=cloud['auth_url'], username=user,
        password=password_for(cloud, user), project_name=project,
        user_domain_id='default', project_domain_id='default')
    return ksa_session.Session(auth=auth)


def compute(sess, cloud):
    """Nova's API from the catalog, at the newest microversion."""
    return adapter.Adapter(
        sess, service_type='compute', interface='public',
        region_name=cloud['region'],
        additional_headers={'OpenStack-API-Version': MICROVERSION})


def flavor(api):
    """The id of the scenarios' flavor, created if missing."""
    for found in api.get('/flavors').json()['flavors']:
        if found['name'] == 'hs.tiny':
            return found['id']
    return api.post('/flavors', json={'flavor': {
        'name': 'hs.tiny', 'ram': 128, 'vcpus': 1, 'disk': 1}}
    ).json()['flavor']['id']


def start(command, out, pidfile):
    """Start ``command`` in a session of its own, as the deployment does.

    Its output is appended to ``out``; its pid is written to ``pidfile``,
    whence tools/run-local-cloud.sh stops it if the scenario does not.
    """
    with open(out, 'a') as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
    with open(pidfile, 'w') as f:
        f.write(str(process.pid))
    return process


def wait_for(predicate, timeout, what, interval=0.02):
    """Call ``predicate`` until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError('%s: not after %d s' % (what, timeout))
        time.sleep(interval)
