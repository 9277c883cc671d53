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

"""The tasks, for ``[taskflow_driver_recovery_flows]`` of masakari.conf.

``report_host_down_task`` takes the place of Masakari's
``disable_compute_service_task`` and ``recover_instances_task`` that of its
``evacuate_instances_task``; Masakari's own
``prepare_HA_enabled_instances_task`` still selects the servers (HA_Enabled
metadata, ``evacuate_all_instances``, ``ignore_instances_in_error_state``)
and records them as the notification's vmoves, which the recovery keeps
true.
"""

import time

from oslo_log import log as logging
from oslo_utils import timeutils

import masakari.conf
from masakari.engine.drivers.taskflow import base
from masakari.engine.drivers.taskflow import host_failure
from masakari import exception
from masakari import objects
from masakari.objects import fields
from masakari import utils

from nova_hoststatus.masakari import check
from nova_hoststatus.masakari import compute

CONF = masakari.conf.CONF

LOG = logging.getLogger(__name__)

VMoveStatus = fields.VMoveStatus
# The skip reason of the host evacuation for servers Masakari's own
# per-server recovery takes: it resets them to error first, as without the
# package.
_LEFT_TO_MASAKARI = 'vm_state_not_evacuable'
# Skip reasons of servers already in flight: an evacuation accepted earlier
# whose rebuild has not moved the server yet, or one that has. They are
# followed, never evacuated again.
_IN_FLIGHT = frozenset(['task_in_progress', 'already_evacuated'])
# Statuses of the host's recovery where a server's wait ends.
_RECOVERED = 'recovered'
_FAILED = 'failed'
_OPEN = (VMoveStatus.PENDING, VMoveStatus.ONGOING)
_TIMEOUT = 'Failed reason: timeout.'
_UNFOLLOWED = 'No longer followed: '
# Failures of an earlier run whose server may have come back since: a
# retried notification looks at them again.
_MAY_HAVE_ENDED = (_TIMEOUT, _UNFOLLOWED)


def _refused(task, exc):
    """Nova's refusal told in the progress, as the flow's failure.

    Also Masakari's own errors of its Nova client (a timeout, Keystone or
    Nova unreachable): Masakari's driver would replace their message with
    "Failed to execute host failure flow".
    """
    LOG.error('%s', exc.message)
    task.update_details(exc.message, 1.0)
    return exception.HostRecoveryFailureException(message=exc.message)


def _save(vmove, **values):
    for name, value in values.items():
        setattr(vmove, name, value)
    vmove.save()


def deciding_vmoves(context, notification_uuid):
    """``{server uuid: vmove}``, the newest vmove of each server.

    A retried notification (Masakari re-runs a flow that ended in error)
    records a new vmove for each server still on the host: the newest
    decides.
    """
    deciding = {}
    for vmove in sorted(objects.VMoveList.get_all_vmoves(
            context, notification_uuid), key=lambda vmove: vmove.id):
        deciding[vmove.instance_uuid] = vmove
    return deciding


class ReportHostDownTask(base.MasakariTask):
    """Report the failed host down, in place of disable and wait.

    One call disables the compute service with Masakari's reason, forces it
    down and stops its servers: Nova can evacuate them at once, so there is
    no ``wait_period_after_service_update``.
    """

    def __init__(self, context, novaclient, **kwargs):
        kwargs['requires'] = ['host_name']
        super().__init__(context, novaclient, **kwargs)
        self.hosts = compute.API()

    def execute(self, host_name):
        # Masakari runs a flow without the tasks it cannot load: refuse to
        # stop the host's servers if nothing would bring them back.
        for option, flow in check.configured_flows(CONF).items():
            problems = check.flow_problems(flow) if (
                check.REPORT in [name for stage in flow.values()
                                 for name in stage]) else []
            if problems:
                msg = ("Not reporting host '%s' down: in "
                       "[taskflow_driver_recovery_flows] %s, %s. Run "
                       "'python -m nova_hoststatus.masakari.check' in "
                       "masakari-engine's environment." % (
                           host_name, option, '; '.join(problems)))
                LOG.error(msg)
                self.update_details(msg, 1.0)
                raise exception.HostRecoveryFailureException(message=msg)
        self.update_details("Reporting host '%s' down" % host_name)
        try:
            host = self.hosts.report_host_down(
                self.context, host_name,
                CONF.host_failure.service_disable_reason)
        except exception.MasakariException as exc:
            raise _refused(self, exc)
        self.update_details(
            "Reported host '%s' down: compute service disabled and forced "
            "down, %d servers stopped, %d left as they were" % (
                host_name, len(host['instances_changed']),
                len(host['instances_skipped'])), 1.0)


class RecoverInstancesTask(host_failure.EvacuateInstancesTask):
    """Evacuate the notification's vmoves in one host evacuation.

    Each server comes back in its pre-fault state (running or stopped), as
    the host fault report recorded it. Its vmove is kept true: ongoing
    while it is rebuilt, then succeeded with its destination or failed with
    why. Servers the host evacuation cannot take (resized, suspended with
    no record...) go through Masakari's own per-server evacuation, as
    without the package; servers already being evacuated are followed.

    In the ``reserved_host`` flows, the reserved host Masakari's retry
    provides is enabled as Masakari does, and is the destination.
    """

    def __init__(self, context, novaclient, **kwargs):
        super().__init__(context, novaclient, **kwargs)
        self.hosts = compute.API()

    def execute(self, host_name, notification_uuid, reserved_host=None):
        if not reserved_host:
            return self._recover(host_name, notification_uuid)

        # As Masakari's own task: one recovery at a time on a reserved
        # host.
        @utils.synchronized(reserved_host)
        def recover_onto_reserved_host():
            self._enable_reserved_host(host_name, reserved_host)
            self._recover(host_name, notification_uuid, reserved_host)
        recover_onto_reserved_host()

    def _recover(self, host_name, notification_uuid, destination=None):
        vmoves = self._close_superseded(notification_uuid)
        try:
            self._recover_vmoves(host_name, vmoves, destination)
        except Exception as exc:
            reason = getattr(exc, 'message', None) or str(exc)
            self._fail_open(notification_uuid, reason)
            if (isinstance(exc, exception.MasakariException) and
                    not isinstance(exc,
                                   exception.HostRecoveryFailureException)):
                raise _refused(self, exc)
            raise
        self._conclude(host_name, notification_uuid)

    def _close_superseded(self, notification_uuid):
        """The deciding vmoves to recover; older open ones closed.

        Also looks again at failures of an earlier run whose server may
        have been rebuilt since.
        """
        deciding = deciding_vmoves(self.context, notification_uuid)
        newest = {vmove.id for vmove in deciding.values()}
        for vmove in objects.VMoveList.get_all_vmoves(self.context,
                                                      notification_uuid):
            if vmove.id not in newest and vmove.status in _OPEN:
                _save(vmove, status=VMoveStatus.IGNORED,
                      end_time=timeutils.utcnow(),
                      message='Superseded by vmove %s of a later run of '
                              'this notification.' %
                              deciding[vmove.instance_uuid].uuid)
        return [vmove for vmove in deciding.values()
                if vmove.status in _OPEN or (
                    vmove.status == VMoveStatus.FAILED and
                    (vmove.message or '').startswith(_MAY_HAVE_ENDED))]

    def _recover_vmoves(self, host_name, vmoves, destination):
        uuids = [vmove.instance_uuid for vmove in vmoves]
        self.update_details(
            "Start evacuation of instances from failed host '%s', instance "
            "uuids are: '%s'" % (host_name, ','.join(uuids)))
        results = self._evacuate(host_name, uuids, destination)
        following, left_to_masakari = {}, []
        for vmove in vmoves:
            result = results.get(vmove.instance_uuid)
            if result is None:
                self._settle(vmove, host_name)
            elif (result['result'] == 'accepted' or
                    result['reason'] in _IN_FLIGHT):
                if vmove.status != VMoveStatus.ONGOING:
                    _save(vmove, status=VMoveStatus.ONGOING,
                          start_time=vmove.start_time or timeutils.utcnow(),
                          end_time=None, message=None)
                following[vmove.instance_uuid] = vmove
            elif result['reason'] == _LEFT_TO_MASAKARI:
                left_to_masakari.append(vmove)
            else:
                _save(vmove, status=VMoveStatus.FAILED,
                      end_time=timeutils.utcnow(), message=': '.join(
                          filter(None, (result['reason'],
                                        result['message']))))
        self.update_details(
            "Host evacuation of '%s': %d of %d instances evacuating, %d "
            "left to Masakari's evacuation" % (
                host_name, len(following), len(vmoves),
                len(left_to_masakari)), 0.5)
        self._follow(host_name, following)
        for vmove in left_to_masakari:
            self._evacuate_and_confirm(self.context, vmove, destination)

    def _enable_reserved_host(self, host_name, reserved_host):
        """Open the reserved host to the failed host's servers.

        In the failed host's aggregates if
        ``[host_failure] add_reserved_host_to_aggregate``, its compute
        service enabled, and no longer reserved in Masakari.
        """
        self.update_details("Enabling reserved host: '%s'" % reserved_host,
                            0.1)
        if CONF.host_failure.add_reserved_host_to_aggregate:
            for aggregate in self.novaclient.get_aggregate_list(
                    self.context):
                if host_name not in aggregate.hosts:
                    continue
                try:
                    self.novaclient.add_host_to_aggregate(
                        self.context, reserved_host, aggregate)
                except exception.Conflict:
                    pass    # Already in it.
                self.update_details(
                    "Host '%s' is in aggregate '%s'" % (reserved_host,
                                                        aggregate.name),
                    0.2)
        self.novaclient.enable_disable_service(self.context, reserved_host,
                                               enable=True)
        self.update_host_method(self.context, reserved_host)

    def _evacuate(self, host_name, uuids, destination=None):
        """``{uuid: result}`` of the host evacuation of ``uuids``.

        Without the servers deleted since Masakari listed them: the host
        evacuation refuses a list with servers it does not know.
        """
        while uuids:
            try:
                return {server['id']: server for server in
                        self.hosts.evacuate_host(self.context, host_name,
                                                 uuids, destination)}
            except compute.HostAPIError as exc:
                if exc.code != 404:
                    raise
                known = self.hosts.host_recovery(self.context, host_name)
                remaining = [uuid for uuid in uuids if uuid in known]
                if remaining == uuids:
                    raise
                uuids = remaining
        return {}

    def _follow(self, host_name, following):
        """Settle each vmove of ``following`` once its server is rebuilt.

        Gives up on those still rebuilding when none has settled for
        ``wait_period_after_evacuation`` seconds.
        """
        settled_at = time.monotonic()
        while following:
            recovery = self.hosts.host_recovery(self.context, host_name)
            for uuid, vmove in list(following.items()):
                entry = recovery.get(uuid)
                if entry is None or entry['status'] in (_RECOVERED, _FAILED):
                    self._settle(vmove, host_name, entry)
                    del following[uuid]
                    settled_at = time.monotonic()
            if not following:
                return
            if (time.monotonic() - settled_at >
                    CONF.wait_period_after_evacuation):
                for vmove in following.values():
                    _save(vmove, status=VMoveStatus.FAILED,
                          end_time=timeutils.utcnow(), message=_TIMEOUT)
                return
            time.sleep(CONF.verify_interval)

    def _settle(self, vmove, host_name, entry=None):
        """Succeeded or failed, by the host's recovery or the server itself.

        :param entry: the server's entry in the host's recovery; None once
            the recovery no longer lists it (its record is removed when it
            is rebuilt elsewhere, and it may be deleted).
        """
        if entry is not None:
            host, failed = entry['host'], entry['status'] == _FAILED
        else:
            try:
                server = self.novaclient.get_server(self.context,
                                                    vmove.instance_uuid)
            except exception.NotFound:
                _save(vmove, status=VMoveStatus.FAILED,
                      end_time=timeutils.utcnow(),
                      message='The server was deleted.')
                return
            host = getattr(server, 'OS-EXT-SRV-ATTR:host', None)
            failed = (host == host_name or
                      getattr(server, 'OS-EXT-STS:vm_state') == 'error')
        if failed:
            _save(vmove, status=VMoveStatus.FAILED,
                  end_time=timeutils.utcnow(),
                  message='Its evacuation left it in error on %s.' % host)
        else:
            _save(vmove, status=VMoveStatus.SUCCEEDED,
                  end_time=timeutils.utcnow(), dest_host=host, message=None)

    def _fail_open(self, notification_uuid, reason):
        """Fail the vmoves still pending or followed, with ``reason``."""
        for vmove in deciding_vmoves(self.context,
                                     notification_uuid).values():
            if vmove.status in _OPEN:
                _save(vmove, status=VMoveStatus.FAILED,
                      end_time=timeutils.utcnow(),
                      message=_UNFOLLOWED + reason)

    def _conclude(self, host_name, notification_uuid):
        """Tell the result; fail the flow unless every server is back.

        Decided on each server's newest vmove.
        """
        vmoves = deciding_vmoves(self.context, notification_uuid).values()
        succeeded = sorted(vmove.instance_uuid for vmove in vmoves
                           if vmove.status == VMoveStatus.SUCCEEDED)
        if succeeded:
            self.update_details(
                "Successfully evacuated instances '%s' from host '%s', each "
                "in its pre-fault state" % (','.join(succeeded), host_name),
                0.7)
        failed = sorted(vmove.instance_uuid for vmove in vmoves
                        if vmove.status != VMoveStatus.SUCCEEDED)
        if failed:
            msg = ("Failed to evacuate instances '%s' from host '%s'" % (
                ','.join(failed), host_name))
            self.update_details(msg, 0.7)
            raise exception.HostRecoveryFailureException(message=msg)
        self.update_details('Evacuation process completed!', 1.0)
