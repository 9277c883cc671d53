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

"""nova-hoststatus-watcher: owners told when a host stops heartbeating.

A compute service that stops heartbeating turns its servers' host_status
UNKNOWN, and back UP when it heartbeats again, without any API being called.
The watcher checks the compute services' heartbeats every
``[hoststatus] watch_interval`` seconds and sends host_status.update for the
servers of a host whose heartbeat went stale or came back, so owners learn
of it within ``[DEFAULT] service_down_time`` plus one interval. Every other
change of host_status is made through nova-api, which tells of it itself.
What owners were last told of each host is kept in the API database, so a
watcher that restarts, or another that takes over, carries on from it.

This package imports nothing at import time: :mod:`.cmd` must monkey patch
before anything else is imported.
"""
