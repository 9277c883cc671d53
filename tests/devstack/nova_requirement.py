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

"""What pip does with a requirement on nova when Nova is a git checkout.

Requirement lines on stdin, the installed Nova's version as argument: exits
with a message if a line requires a nova that version does not satisfy
(pip would then replace devstack's Nova with one from the index, or refuse
to install). Used by shim.sh's pip_install.
"""

import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def main(installed, lines):
    for line in lines:
        line = line.split('#')[0].strip()
        if not line or line.startswith('-'):
            continue
        req = Requirement(line)
        if (canonicalize_name(req.name) == 'nova' and
                not req.specifier.contains(installed, prereleases=True)):
            return ('pip: %s is not satisfied by the installed nova %s '
                    '(a git checkout): pip would replace it or refuse'
                    % (req, installed))


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.stdin))
