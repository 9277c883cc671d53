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

"""Recovery-flow tasks for Masakari's engine.

Masakari's host failure flow disables the compute service, waits
``wait_period_after_service_update`` (180 s by default) for Nova to see the
host down, then evacuates server by server and compares each server's
vm_state before and after. With nova-hoststatus, Nova knows a host is down
the moment it is told: these tasks report the host down in place of the
disable and the wait, and recover the servers Masakari's own prepare task
selected in one host evacuation, each back in its pre-fault state.

They are loaded by name from the ``masakari.task_flow.tasks`` entry-point
namespace, in masakari-engine's process (``pip install
nova-hoststatus[masakari]``): nothing here imports Nova. ``python -m
nova_hoststatus.masakari.check`` tells whether that process loads them.
"""
