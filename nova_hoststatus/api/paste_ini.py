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

"""nova-api's api-paste.ini with this package's router, made from stock's.

Stock Nova's file differs by release (Nova 31's still has the ``noauth2``
pipelines its test fixtures use), so the package's file is made from the
file of the Nova that runs it, changing only the ``paste.app_factory`` of
``[app:osapi_compute_app_v21]``, as the devstack plugin does::

    nova-hoststatus-api-paste /etc/nova/api-paste.ini \\
        -o /etc/nova/api-paste.ini

Without a file, it reads the one the nova wheel installs
(``<prefix>/etc/nova/api-paste.ini``); without ``-o`` it prints.
"""

import argparse
import atexit
import os
import re
import shutil
import sys
import tempfile

SECTION = 'app:osapi_compute_app_v21'
STOCK_FACTORY = 'nova.api.openstack.compute:APIRouterV21.factory'
FACTORY = 'nova_hoststatus.api.router:APIRouterV21.factory'

_SECTION_RE = re.compile(r'^\s*\[([^\]]*)\]')
_FACTORY_RE = re.compile(r'^(\s*paste\.app_factory\s*=\s*)(\S.*?)(\s*)$')


def stock_file():
    """Stock Nova's api-paste.ini, as the nova wheel installs it."""
    return os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')


def rewrite(text):
    """``text`` of an api-paste.ini with this package's app factory.

    Every other byte stays as it was. Idempotent.

    :raises ValueError: if ``[app:osapi_compute_app_v21]`` has no
        ``paste.app_factory`` line.
    """
    lines = text.splitlines(keepends=True)
    section = None
    for index, line in enumerate(lines):
        header = _SECTION_RE.match(line)
        if header:
            section = header.group(1).strip()
            continue
        factory = _FACTORY_RE.match(line.rstrip('\r\n'))
        if section == SECTION and factory:
            ending = line[len(line.rstrip('\r\n')):]
            lines[index] = (factory.group(1) + FACTORY + factory.group(3) +
                            ending)
            return ''.join(lines)
    raise ValueError('no paste.app_factory in [%s]' % SECTION)


_generated = None


def generated_file():
    """A file made from the installed Nova's api-paste.ini.

    What the embedded cloud and the tests load the API from. Made once a
    process, and again if it is gone: Nova's test cases give each test a
    temporary directory of its own and remove it afterwards.
    """
    global _generated
    if _generated is None or not os.path.exists(_generated):
        with open(stock_file()) as f:
            text = rewrite(f.read())
        directory = tempfile.mkdtemp(prefix='nova-hoststatus-paste-')
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        path = os.path.join(directory, 'api-paste.ini')
        with open(path, 'w') as f:
            f.write(text)
        _generated = path
    return _generated


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='nova-hoststatus-api-paste',
        description="Write nova-api's api-paste.ini with the router of "
                    "nova-hoststatus: the given file with the "
                    "paste.app_factory of [%s] changed, and nothing else."
                    % SECTION)
    parser.add_argument('source', nargs='?', default=stock_file(),
                        help="stock Nova's api-paste.ini (default: the one "
                             "the nova package installed, %(default)s)")
    parser.add_argument('-o', '--output',
                        help='the file to write, which may be the source '
                             '(default: standard output)')
    args = parser.parse_args(argv)
    with open(args.source) as f:
        try:
            text = rewrite(f.read())
        except ValueError as exc:
            parser.exit(1, '%s: %s\n' % (args.source, exc))
    if args.output is None:
        sys.stdout.write(text)
        return 0
    with open(args.output, 'w') as f:
        f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
