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

"""Contexts handed to another thread.

oslo.db keeps a RequestContext's transaction state on the context object,
so a context (or an object loaded with it) used by two threads or
greenthreads at once mixes their transactions ("Can't upgrade a READER
transaction to a WRITER mid-transaction"). Work handed to another thread
gets a context of its own, copied as ``nova.context.target_cell`` copies
one: through ``to_dict()``, which carries no transaction state.
"""

from nova import context as nova_context


def for_thread(context):
    """A fresh copy of ``context``, targeted at the same cell.

    The copy shares nothing mutable with ``context``: give one to each
    thread, and load the objects it works on with it.
    """
    copy = nova_context.RequestContext.from_dict(context.to_dict())
    # What nova.context.set_target_cell set, taken as it is: the cell's
    # cached database and message queue connections.
    copy.cell_uuid = context.cell_uuid
    copy.db_connection = context.db_connection
    copy.mq_connection = context.mq_connection
    return copy
