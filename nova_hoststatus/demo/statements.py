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

"""Which SQL statements are the package's own, for the SQL plan checks.

tests/functional/test_sql_plans.py and benchmarks/cell_scale.py plan
every statement the package issues, whatever engine runs it.
"""

import linecache
import os
import re

from nova import objects

import nova_hoststatus

_PACKAGE = os.path.dirname(os.path.abspath(nova_hoststatus.__file__))
_DEMO = os.path.join(_PACKAGE, 'demo')
_NOVA_OBJECTS = os.path.dirname(os.path.abspath(objects.__file__))
_OBJECT_CALL = re.compile(r'objects\.(\w+\.\w+)\(')


def origin(frame):
    """The package call a SQL statement comes from; None if not the package's.

    ``frame`` is the frame that executes the statement. The package's:
    issued in nova_hoststatus.db (``db.<function>``), or by a Nova object
    method that package code calls directly (``<module>.<function> ->
    <Object.method>``), not inside Nova's own evacuate or notifications,
    nor by this embedded cloud's helpers.
    """
    frames = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    # Innermost first.
    for index, frame in enumerate(frames):
        filename = frame.f_code.co_filename
        if (filename.startswith(_PACKAGE + os.sep) and
                not filename.startswith(_DEMO + os.sep)):
            break
    else:
        return None
    module = os.path.relpath(filename, _PACKAGE)[:-len('.py')].replace(
        os.sep, '.')
    # The function, not one it defines inside.
    function = frame.f_code.co_qualname.split('.<locals>.')[0]
    if module == 'db':
        return 'db.%s' % function
    # The frame it called, past oslo.versionedobjects' remotable wrappers.
    callees = [f for f in frames[:index]
               if 'oslo_versionedobjects' not in f.f_code.co_filename]
    if not callees or not callees[-1].f_code.co_filename.startswith(
            _NOVA_OBJECTS + os.sep):
        return None
    called = _OBJECT_CALL.search(linecache.getline(filename, frame.f_lineno))
    return '%s.%s -> %s' % (module, function,
                            called.group(1) if called else
                            callees[-1].f_code.co_name)
