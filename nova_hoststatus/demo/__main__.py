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

"""python -m nova_hoststatus.demo: the host fault scenario, in process."""

import logging
import os
import sys
import unittest

from nova_hoststatus import compat

# First, as nova's own services do, native threads (Nova 34's default) or
# eventlet, as OS_NOVA_DISABLE_EVENTLET_PATCHING says, before anything
# creates a lock or a thread-local. Unset, it is set here, to eventlet
# before Nova 34 (its test fixtures, which the demo runs on, need it):
# nova's test fixtures read it again.
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING',
                      str(compat.fixtures_native_threads()).lower())
compat.monkey_patch()

from nova_hoststatus.demo import scenario  # noqa: E402


def main():
    # The embedded services log into a fixture; what they log after it is
    # gone (shutting down) is noise here.
    logging.disable(logging.INFO)
    result = unittest.TestResult()
    scenario.HostFaultScenario('run_scenario').run(result)
    for _case, trace in result.errors + result.failures:
        sys.stderr.write(trace)
    return 0 if result.wasSuccessful() and result.testsRun else 1


if __name__ == '__main__':
    sys.exit(main())
