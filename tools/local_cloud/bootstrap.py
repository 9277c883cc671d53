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

"""Projects, users, roles and the service catalog of the local cloud.

Runs after ``keystone-manage bootstrap``, as its admin, through Keystone's
REST API (one process instead of a few dozen ``openstack`` commands)::

    python -m local_cloud.bootstrap STATE_DIR/cloud.json

and writes ``clouds.yaml`` next to ``cloud.json`` for ``openstack
--os-cloud``.
"""

import os
import sys

import yaml

from local_cloud import common

# service type (a key of cloud.json's endpoints) -> service name
SERVICES = {
    'compute': 'nova',
    'placement': 'placement',
    'image': 'glance',
    'network': 'neutron',
    'instance-ha': 'masakari',
    'alarming': 'aodh',
}


class Keystone(object):

    def __init__(self, cloud):
        self.sess = common.session(cloud, 'admin')
        self.url = cloud['auth_url']

    def _find(self, collection, **query):
        body = self.sess.get('%s/%s' % (self.url, collection),
                             params=query).json()
        items = body[collection.split('/')[-1]]
        return items[0] if items else None

    def ensure(self, collection, key, **attrs):
        """The id of the item named ``attrs[key]``, created if missing."""
        found = self._find(collection, **{key: attrs[key]})
        if found:
            return found['id']
        singular = collection.split('/')[-1][:-1]
        body = self.sess.post('%s/%s' % (self.url, collection),
                              json={singular: attrs}).json()
        return body[singular]['id']

    def grant(self, project_id, user_id, role_id):
        self.sess.put('%s/projects/%s/users/%s/roles/%s' % (
            self.url, project_id, user_id, role_id))


def bootstrap(cloud):
    keystone = Keystone(cloud)
    projects = {name: keystone.ensure('projects', 'name', name=name,
                                      domain_id='default')
                for name in ('service', 'project-a', 'project-b')}
    roles = {name: keystone.ensure('roles', 'name', name=name)
             for name in {role for _project, user_roles
                          in common.USERS.values() for role in user_roles}}
    for user, (project, user_roles) in common.USERS.items():
        user_id = keystone.ensure(
            'users', 'name', name=user, domain_id='default',
            password=cloud['password'], default_project_id=projects[project])
        for role in user_roles:
            keystone.grant(projects[project], user_id, roles[role])
    admin_id = keystone.ensure('users', 'name', name='admin')
    for project in common.ADMIN_PROJECTS:
        keystone.grant(projects[project], admin_id, roles['admin'])

    for service_type, url in cloud['endpoints'].items():
        service_id = keystone.ensure('services', 'type', type=service_type,
                                     name=SERVICES[service_type])
        found = keystone._find('endpoints', service_id=service_id,
                               interface='public')
        if not found:
            keystone.sess.post('%s/endpoints' % keystone.url, json={
                'endpoint': {'service_id': service_id, 'url': url,
                             'interface': 'public',
                             'region_id': cloud['region']}})
    return projects


def write_clouds_yaml(cloud, path):
    clouds = {}
    for user in ['admin'] + list(common.USERS):
        project = 'admin' if user == 'admin' else common.USERS[user][0]
        clouds[user] = {
            'auth': {'auth_url': cloud['auth_url'], 'username': user,
                     'password': common.password_for(cloud, user),
                     'project_name': project,
                     'user_domain_id': 'default',
                     'project_domain_id': 'default'},
            'region_name': cloud['region'],
            'identity_api_version': 3,
        }
    with open(path, 'w') as f:
        yaml.safe_dump({'clouds': clouds}, f, default_flow_style=False)


def main():
    path = sys.argv[1]
    cloud = common.load(path)
    bootstrap(cloud)
    write_clouds_yaml(cloud, os.path.join(os.path.dirname(path),
                                          'clouds.yaml'))


if __name__ == '__main__':
    main()
