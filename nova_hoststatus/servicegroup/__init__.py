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

"""ServiceGroup drivers that honour forced_down, and their selection.

Stock Nova checks ``forced_down`` in ``nova.servicegroup.api.API`` only; its
drivers report a forced-down service up while its heartbeat is fresh. The
subclasses in :mod:`nova_hoststatus.servicegroup.drivers` make the driver
itself report such a service down, whoever asks it.

``[DEFAULT] servicegroup_driver`` only accepts ``db`` and ``mc``, which
``nova.servicegroup.api`` maps to class paths in a module table, with no
plugin point. :func:`install` points both names at the subclasses; the entry
points in :mod:`.cmd` (nova-compute, nova-scheduler, nova-conductor) and
:mod:`.wsgi` (nova-api) call it, then run Nova's own. See
doc/source/servicegroup.rst.

This module imports neither nova nor oslo libraries at import time: the entry
points import it before Nova's monkey patching has run.
"""

DRIVERS = {
    'db': 'nova_hoststatus.servicegroup.drivers.db.DbDriver',
    'mc': 'nova_hoststatus.servicegroup.drivers.mc.MemcachedDriver',
}


def install():
    """Make every later ``nova.servicegroup.API()`` load the subclasses.

    ``nova.servicegroup.api.API`` looks ``[DEFAULT] servicegroup_driver`` up
    in ``_driver_name_class_mapping`` each time it is created, so replacing
    the values of that table (never its keys, so the option and its choices
    stay stock) selects the subclasses for the rest of the process. Run it
    before the process creates its services, API controllers or scheduler
    filters. Idempotent.

    If Nova no longer has the table, or maps a name to a class the subclass
    does not extend (a Nova upgrade), it warns and leaves Nova's driver:
    the service runs as stock, which checks forced_down one level up
    (``servicegroup.API.service_is_up``) for every caller in Nova; only
    the driver-level guarantee and its log lines are lost.

    :returns: the names whose driver it replaced.
    """
    # Imported here, see the module docstring.
    from oslo_log import log as logging
    from oslo_utils import importutils

    from nova.servicegroup import api as servicegroup_api

    log = logging.getLogger(__name__)
    # NOTE: the table is private to Nova, and the only way to select a
    # driver without editing Nova. A stevedore namespace for servicegroup
    # drivers upstream would make this function unnecessary.
    table = getattr(servicegroup_api, '_driver_name_class_mapping', None)
    if not isinstance(table, dict):
        log.warning('nova.servicegroup.api has no driver table this '
                    'release of nova-hoststatus knows: running Nova\'s own '
                    'ServiceGroup drivers.')
        return []
    replaced = []
    for name, path in DRIVERS.items():
        if name not in table:
            # Nova dropped this backend: there is nothing to select.
            continue
        driver = importutils.import_class(path)
        try:
            extends = issubclass(driver,
                                 importutils.import_class(table[name]))
        except ImportError:
            extends = False
        if not extends:
            log.warning('nova.servicegroup.api maps servicegroup_driver '
                        '%s to %s, which %s does not extend: running Nova\'s '
                        'driver.', name, table[name], path)
            continue
        table[name] = path
        replaced.append(name)
        # Usually before logging is set up; the drivers log again.
        log.info('servicegroup_driver %s now loads %s.', name, path)
    return replaced
