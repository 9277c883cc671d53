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

# nova's code under test expects the concurrency backend patched in first,
# as nova's own test packages do. Unset, the mode is Nova 34's default for
# its services, native threads (tools/run-tests.sh sets it for each pass);
# before Nova 34, eventlet: Nova 33's test fixtures walk eventlet's
# greenthreads, Nova 31 has no native threads.
import os

from nova_hoststatus import compat

os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING',
                      str(compat.fixtures_native_threads()).lower())
compat.monkey_patch()
