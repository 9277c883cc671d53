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

"""Stand-ins for the Glance and Neutron APIs, as much as Nova asks of them.

With the fake virt driver and servers booted with ``networks: none``, Nova
reads one image record (boot and evacuation) and lists the ports of a
server (evacuation binds them on the new host; there are none). Running
real Glance and Neutron for that would triple the set-up time. Every
request is logged, so a call Nova makes that is not answered here shows in
the log of this process.

    python -m local_cloud.stubs --image-port P --network-port Q
"""

import argparse
import http.server
import json
import logging
import re
import threading

IMAGE_ID = '6f6ea5a3-0d7e-4b0a-9d45-3c2a4d9c1f00'
IMAGE = {
    'id': IMAGE_ID,
    'name': 'stub-image',
    'status': 'active',
    'visibility': 'public',
    'protected': False,
    'os_hidden': False,
    'disk_format': 'qcow2',
    'container_format': 'bare',
    'min_disk': 0,
    'min_ram': 0,
    'size': 16338944,
    'virtual_size': None,
    'checksum': None,
    'os_hash_algo': None,
    'os_hash_value': None,
    'owner': None,
    'tags': [],
    'created_at': '2026-01-01T00:00:00Z',
    'updated_at': '2026-01-01T00:00:00Z',
    'self': '/v2/images/' + IMAGE_ID,
    'file': '/v2/images/%s/file' % IMAGE_ID,
    'schema': '/v2/schemas/image',
}
# glanceclient builds its image model from this schema; anything goes.
IMAGE_SCHEMA = {
    'name': 'image',
    'properties': {name: {} for name in IMAGE},
    'additionalProperties': True,
}

LOG = logging.getLogger('stubs')


class Handler(http.server.BaseHTTPRequestHandler):

    protocol_version = 'HTTP/1.1'
    service = None
    version = None

    def log_message(self, fmt, *args):
        LOG.info('%s %s', self.service, fmt % args)

    def _reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _versions(self):
        host = self.headers.get('Host', '127.0.0.1')
        return {'versions': [{
            'id': self.version, 'status': 'CURRENT',
            'links': [{'rel': 'self', 'href': 'http://%s/%s/' % (
                host, self.version.split('.')[0] if self.service == 'image'
                else self.version)}]}]}

    def do_GET(self):
        path = self.path.split('?')[0].rstrip('/')
        if path in ('', '/versions'):
            return self._reply(300 if path == '' else 200, self._versions())
        body = self.route(path)
        if body is None:
            return self._reply(404, {'error': 'not served by the stub'})
        return self._reply(200, body)

    def _refuse(self):
        self._reply(404, {'error': 'not served by the stub'})

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse


class ImageHandler(Handler):

    service = 'image'
    version = 'v2.16'

    def route(self, path):
        if path == '/v2/schemas/image':
            return IMAGE_SCHEMA
        if path == '/v2/images/' + IMAGE_ID:
            return IMAGE
        if path == '/v2/images':
            return {'images': [IMAGE]}
        return None


class NetworkHandler(Handler):

    service = 'network'
    version = 'v2.0'

    def route(self, path):
        # Every collection is empty: no networks, ports, extensions...
        match = re.match(r'^/v2\.0/([a-z-]+)$', path)
        if match:
            return {match.group(1).replace('-', '_'): []}
        return None


def serve(port, handler):
    server = http.server.ThreadingHTTPServer(('127.0.0.1', port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--image-port', type=int, required=True)
    parser.add_argument('--network-port', type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO,
                        format='%(asctime)s %(message)s')
    serve(args.image_port, ImageHandler)
    _server, thread = serve(args.network_port, NetworkHandler)
    LOG.info('image API on 127.0.0.1:%d, network API on 127.0.0.1:%d',
             args.image_port, args.network_port)
    thread.join()


if __name__ == '__main__':
    main()
