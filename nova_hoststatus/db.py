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

"""Bulk statements on nova's cell database models; the package's own table.

Every function runs on the session of the cell the context targets. A host
fault report is a handful of statements whatever the number of instances on
the host: one read, one compare-and-set update, two multi-row inserts (the
instance actions, the pre-fault states); only when another request changed
some of its instances concurrently does the update fall back to one
statement per instance. Callers compose them in one
transaction with :func:`writer`.

The one table of the package, ``hoststatus_host_attributes``, is in Nova's
API database, beside Nova's tables and apart from its schema:
``nova-hoststatus-manage db sync`` creates it (:func:`sync_api_schema`).
"""

import collections

from oslo_db import exception as db_exception
from oslo_utils import timeutils
import sqlalchemy as sa

from nova.db.api import api as api_db
from nova.db.main import api as main_db
from nova.db.main import models

# NULL never compares equal in SQL; compare-and-set reads it as this value.
_NO_TASK_STATE = ''


def writer(context):
    """A writer transaction on the targeted cell database.

    Nested calls on the same context join it, so the functions below applied
    inside it commit or roll back together.
    """
    return main_db.get_context_manager(context).writer.using(context)


@main_db.pick_context_manager_writer
def service_compare_and_set(context, service_id, expected, values):
    """Set columns of a service row still as ``expected``; nothing else.

    ``updated_at`` is kept as it is: the DB servicegroup driver reads it as
    the last heartbeat, and an administrative change is not one. The row
    stays locked until the transaction ends, so that two updates of one
    host (two monitors reporting it at once) run one after the other.

    :returns: whether the row was as expected (and is now set).
    """
    service = models.Service
    query = (sa.update(service)
             .where(service.id == service_id, service.deleted == 0,
                    *[getattr(service, column) == value
                      if value is not None else
                      getattr(service, column).is_(None)
                      for column, value in expected.items()])
             .values(updated_at=service.updated_at, **values)
             .execution_options(synchronize_session=False))
    # MySQL drivers count matched rows (SQLAlchemy asks for FOUND_ROWS),
    # as SQLite does: setting a value a column already has still counts.
    return context.session.execute(query).rowcount == 1


@main_db.pick_context_manager_reader
def compute_services(context):
    """``(host, forced_down)`` of every nova-compute service of the cell.

    One statement. The services table has a row per service, not per
    server: read whole, as Nova's own service listing does.
    """
    service = models.Service
    query = (sa.select(service.host, service.forced_down)
             .where(service.binary == 'nova-compute',
                    service.deleted == 0))
    return context.session.execute(query).all()


# The instance system_metadata keys of the package: a server's pre-fault
# record (nova_hoststatus.prefault), and the host evacuation that is
# recovering it (nova_hoststatus.recovery.follower).
PRE_FAULT_KEY = 'hoststatus_pre_fault'
RECOVERY_KEY = 'hoststatus_recovery'
KEYS = (PRE_FAULT_KEY, RECOVERY_KEY)


def _select_with_records():
    """Instance rows with their records.

    ``pre_fault`` and ``recovery`` are the values of the keys, or None;
    both are joined on system_metadata's instance_uuid index.
    """
    instance = models.Instance
    pre_fault = sa.orm.aliased(models.InstanceSystemMetadata)
    recovery = sa.orm.aliased(models.InstanceSystemMetadata)
    query = sa.select(instance.id, instance.uuid, instance.project_id,
                      instance.user_id, instance.host, instance.vm_state,
                      instance.task_state, instance.power_state,
                      pre_fault.value.label('pre_fault'),
                      recovery.value.label('recovery'))
    return (query
            .join(pre_fault,
                  sa.and_(pre_fault.instance_uuid == instance.uuid,
                          pre_fault.key == PRE_FAULT_KEY,
                          pre_fault.deleted == 0),
                  isouter=True)
            .join(recovery,
                  sa.and_(recovery.instance_uuid == instance.uuid,
                          recovery.key == RECOVERY_KEY,
                          recovery.deleted == 0),
                  isouter=True))


def _oldest_first(rows):
    """Rows in the order their instances were created.

    Sorted here, not by SQL: an ORDER BY created_at lets a planner without
    a cell's statistics (SQLite) prefer the (deleted, created_at) index and
    read every server of the cell, over the host or uuid index.
    """
    return sorted(rows, key=lambda row: row.id)


@main_db.pick_context_manager_reader
def instances_on_host(context, host):
    """The undeleted instances whose host is ``host``, as rows.

    ``pre_fault`` and ``recovery`` are its records, or None.
    """
    instance = models.Instance
    query = (_select_with_records()
             .where(instance.host == host, instance.deleted == 0))
    return _oldest_first(context.session.execute(query))


@main_db.pick_context_manager_reader
def instances_with_records(context, uuids):
    """The undeleted instances of ``uuids``, with their records.

    Rows as :func:`instances_on_host`, read by uuid (the instances' uuid
    index, system_metadata's instance_uuid index): the cost does not grow
    with the cell. (Deleting an instance deletes its system_metadata, the
    records with it.)
    """
    if not uuids:
        return []
    instance = models.Instance
    query = (_select_with_records()
             .where(instance.uuid.in_(uuids), instance.deleted == 0))
    return _oldest_first(context.session.execute(query))


@main_db.pick_context_manager_reader
def records_in_cell(context):
    """Every record of the package in the cell, with its server's row.

    For operators (nova-hoststatus-manage): system_metadata has no index on
    its key, so this reads all of it; nothing on a request path calls it.
    """
    instance = models.Instance
    sysmeta = models.InstanceSystemMetadata
    query = (sa.select(sysmeta.instance_uuid.label('uuid'), sysmeta.key,
                       sysmeta.value, instance.host, instance.vm_state,
                       instance.task_state, instance.deleted)
             .join(instance, instance.uuid == sysmeta.instance_uuid)
             .where(sysmeta.key.in_(KEYS), sysmeta.deleted == 0)
             .order_by(instance.host, sysmeta.instance_uuid, sysmeta.key))
    return context.session.execute(query).all()


@main_db.pick_context_manager_writer
def records_create(context, key, values):
    """Write records of ``key``, ``{uuid: value}``, in one statement."""
    if not values:
        return
    now = timeutils.utcnow()
    context.session.execute(
        sa.insert(models.InstanceSystemMetadata),
        [{'instance_uuid': uuid, 'key': key, 'value': value,
          'created_at': now, 'deleted': 0}
         for uuid, value in values.items()])


@main_db.pick_context_manager_writer
def records_delete(context, uuids, keys=KEYS):
    """Remove the records of ``keys`` of ``uuids``, in one statement."""
    if not uuids:
        return
    sysmeta = models.InstanceSystemMetadata
    context.session.execute(
        sa.delete(sysmeta)
        .where(sysmeta.instance_uuid.in_(list(uuids)),
               sysmeta.key.in_(keys))
        .execution_options(synchronize_session=False))


@main_db.pick_context_manager_writer
def instances_compare_and_set(context, expected, values):
    """Set ``values`` on instances still in the state they were read in.

    One bulk statement when no instance changed since it was read. When
    some did, its rowcount cannot tell which, so it is rolled back to a
    savepoint and each instance is compared-and-set on its own: exact,
    and only on that rare race.

    :param expected: ``(uuid, vm_state, task_state)`` tuples as read.
    :returns: the uuids of the instances updated.
    """
    instance = models.Instance
    values = dict(values, updated_at=timeutils.utcnow())
    state = sa.tuple_(instance.uuid, instance.vm_state,
                      sa.func.coalesce(instance.task_state, _NO_TASK_STATE))

    def update(expected):
        as_read = [(uuid, vm_state, task_state or _NO_TASK_STATE)
                   for uuid, vm_state, task_state in expected]
        # The plain uuid IN puts the uuid index range in every planner's
        # reach: SQLite scans the table for the row constructor alone.
        query = (sa.update(instance)
                 .where(instance.uuid.in_([one[0] for one in as_read]),
                        instance.deleted == 0, state.in_(as_read))
                 .values(**values)
                 .execution_options(synchronize_session=False))
        return context.session.execute(query).rowcount

    savepoint = context.session.begin_nested()
    if update(expected) == len(expected):
        savepoint.commit()
        return [uuid for uuid, _vm_state, _task_state in expected]
    savepoint.rollback()
    return [one[0] for one in expected if update([one])]


@main_db.pick_context_manager_reader
def instance_states(context, uuids):
    """``{uuid: (vm_state, task_state, power_state)}`` for ``uuids``."""
    instance = models.Instance
    query = (sa.select(instance.uuid, instance.vm_state, instance.task_state,
                       instance.power_state)
             .where(instance.uuid.in_(uuids)))
    return {row.uuid: (row.vm_state, row.task_state, row.power_state)
            for row in context.session.execute(query)}


@main_db.pick_context_manager_writer
def instance_actions_create(context, action, instances):
    """Record one finished instance action per instance, in one statement.

    The action is recorded for the caller (as nova's own actions are), so
    owners see it in os-instance-actions of their servers.
    """
    if not instances:
        return
    now = timeutils.utcnow()
    context.session.execute(
        sa.insert(models.InstanceAction),
        [{'action': action,
          'instance_uuid': instance.uuid,
          'request_id': context.request_id,
          'user_id': context.user_id,
          'project_id': context.project_id,
          'start_time': now,
          'finish_time': now,
          'created_at': now}
         for instance in instances])


# What the package knows of a host, deployment-wide, in the API database:
# one row per host and attribute (the host_status its owners were last told
# of, HOST_STATUS_TOLD; further attributes take further names, no new
# table). Host names are unique across cells (Nova's host_mappings).
API_METADATA = sa.MetaData()
host_attributes = sa.Table(
    'hoststatus_host_attributes', API_METADATA,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('host', sa.String(255), nullable=False),
    sa.Column('name', sa.String(64), nullable=False),
    sa.Column('value', sa.String(255)),
    sa.Column('created_at', sa.DateTime),
    sa.Column('updated_at', sa.DateTime),
    # Leads with name: a check reads one attribute of every host.
    sa.UniqueConstraint('name', 'host',
                        name='uniq_hoststatus_host_attributes0name0host'),
    mysql_engine='InnoDB', mysql_charset='utf8')

# The host_status owners were last told of and the sequence number of the
# batch that told it, as 'UP:7' (told_host_statuses, record_told).
HOST_STATUS_TOLD = 'host_status_told'
# The fault (prefault.Fault.id) of the last report of a host whose
# contradiction operators were told of (host_fault.contradict).
CONTRADICTION_TOLD = 'contradiction_told'
# The number of the last host_status.update batch of the host: each batch
# takes the next one before it reads the host again and sends
# (nova_hoststatus.notifications.host_status.send_if_current).
HOST_STATUS_SEQUENCE = 'host_status_sequence'


def sync_api_schema():
    """Create the package's table in the API database, unless it exists."""
    API_METADATA.create_all(api_db.get_engine(), checkfirst=True)


@api_db.context_manager.reader
def host_attributes_get(context, name):
    """``{host: value}`` of attribute ``name``, every host, one statement."""
    query = (sa.select(host_attributes.c.host, host_attributes.c.value)
             .where(host_attributes.c.name == name))
    return dict(context.session.execute(query).all())


@api_db.context_manager.reader
def host_attribute_get(context, host, name):
    """The value of attribute ``name`` of ``host``, or None.

    One row, read by the (name, host) unique index.
    """
    table = host_attributes
    query = sa.select(table.c.value).where(table.c.name == name,
                                           table.c.host == host)
    return context.session.execute(query).scalar()


# host_attribute_set's expected value when any will do.
ANY = object()


@api_db.context_manager.writer
def _host_attribute_update(context, host, name, value, expected):
    table = host_attributes
    query = sa.update(table).where(table.c.host == host,
                                   table.c.name == name)
    if expected is not ANY:
        query = query.where(table.c.value == expected)
    return context.session.execute(
        query.values(value=value, updated_at=timeutils.utcnow())).rowcount


@api_db.context_manager.writer
def _host_attribute_insert(context, host, name, value):
    try:
        context.session.execute(sa.insert(host_attributes).values(
            host=host, name=name, value=value,
            created_at=timeutils.utcnow()))
    except db_exception.DBDuplicateEntry:
        return False
    return True


def host_attribute_set(context, host, name, value, expected=ANY):
    """Set attribute ``name`` of ``host`` to ``value``.

    :param expected: the value it must still have (None: no row yet), so
        that a value another process wrote since it was read is kept;
        ANY: whatever it is.
    :returns: whether it was set.
    """
    if expected is None:
        return _host_attribute_insert(context, host, name, value)
    if _host_attribute_update(context, host, name, value, expected):
        return True
    if expected is not ANY:
        return False
    # No row yet, unless another process inserted it meanwhile.
    return (_host_attribute_insert(context, host, name, value) or
            bool(_host_attribute_update(context, host, name, value, ANY)))


def _host_attribute_change(context, host, name, change):
    """Set attribute ``name`` of ``host`` to ``change(its value)``.

    Compare-and-set on the attribute's row, read again and tried again when
    another process wrote it between the read and the write.

    :param change: the new value from the one read (None: no row yet), or
        None to leave it as it is.
    :returns: the value set, or None if ``change`` left it.
    """
    while True:
        last = host_attribute_get(context, host, name)
        value = change(last)
        if value is None:
            return None
        if host_attribute_set(context, host, name, value, expected=last):
            return value


def host_sequence_next(context, host, name=HOST_STATUS_SEQUENCE):
    """Take the next number of ``host``'s sequence ``name``; return it.

    Two processes that take one at once get two numbers, the later taker
    the greater.
    """
    return int(_host_attribute_change(
        context, host, name, lambda last: str(int(last or 0) + 1)))


# What owners were last told of a host: its host_status and the sequence
# number of the batch that told it (0 when none did: only written down).
Told = collections.namedtuple('Told', ['host_status', 'sequence'])


def _told(value):
    # Written before the sequence was kept: 'UP' is Told('UP', 0).
    host_status, _, sequence = value.partition(':')
    return Told(host_status, int(sequence or 0))


def told_host_statuses(context):
    """``{host: Told}`` of every host written down, one statement."""
    return {host: _told(value) for host, value in
            host_attributes_get(context, HOST_STATUS_TOLD).items()}


def told_host_status(context, host):
    """The Told of ``host``, or None: one row, by the unique index."""
    value = host_attribute_get(context, host, HOST_STATUS_TOLD)
    return None if value is None else _told(value)


def record_told(context, host, host_status, sequence):
    """Write down that owners were told ``host_status`` by batch ``sequence``.

    Unless a batch of a greater sequence was written down first: batches
    of one host sent by several processes finish in any order, and what
    is written down is what the last one told.

    :returns: whether it was written down.
    """
    def change(last):
        if last is None or _told(last).sequence < sequence:
            return '%s:%d' % (host_status, sequence)
        return None

    return _host_attribute_change(context, host, HOST_STATUS_TOLD,
                                  change) is not None
