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

"""Check, in masakari-engine's environment, that its flows load.

Masakari's engine loads the tasks of its flows by name and only logs a
name it cannot load: the flow then runs without that task, and a
notification can end ``finished`` with nothing recovered. Run with
masakari-engine's configuration, in its environment (its venv or
container), after installing or upgrading the package or changing the
flows::

    python -m nova_hoststatus.masakari.check \
        --config-file /etc/masakari/masakari.conf

It prints each flow with what its task names load, and exits 1 if a name
does not load, or a flow reports the host down without recovering its
servers.
"""

import sys

from stevedore import named

NAMESPACE = 'masakari.task_flow.tasks'
REPORT = 'report_host_down_task'
RECOVER = 'recover_instances_task'
# The options of [taskflow_driver_recovery_flows] for host failures.
HOST_FLOWS = ('host_auto_failure_recovery_tasks',
              'host_rh_failure_recovery_tasks')


def load_tasks(names):
    """``({name: task class}, {name: why it does not load})``."""
    loaded, failed = {}, {}

    def on_failure(manager, entrypoint, exc):
        failed[entrypoint.name] = '%s: %s' % (type(exc).__name__, exc)

    manager = named.NamedExtensionManager(
        NAMESPACE, names=list(names), invoke_on_load=False,
        on_load_failure_callback=on_failure,
        on_missing_entrypoints_callback=lambda missing: failed.update(
            (name, 'no such task in %s' % NAMESPACE) for name in missing))
    for extension in manager.extensions:
        loaded[extension.name] = extension.plugin
    return loaded, failed


def flow_problems(flow):
    """What is wrong with a flow: ``{'pre': [...], ...}`` of task names.

    :returns: a list of sentences, empty when every name loads and a flow
        that reports the host down also recovers its servers.
    """
    names = [name for stage in flow.values() for name in stage]
    _loaded, failed = load_tasks(names)
    problems = ["task '%s' does not load (%s)" % (name, why)
                for name, why in sorted(failed.items())]
    if REPORT in names and RECOVER not in names:
        problems.append(
            "'%s' stops the host's servers but '%s' does not follow it: "
            "they would stay stopped" % (REPORT, RECOVER))
    return problems


def configured_flows(conf):
    """``{option: flow}`` of the host failure flows of ``conf``."""
    group = conf.taskflow_driver_recovery_flows
    return {option: getattr(group, option) for option in HOST_FLOWS}


def report(conf):
    """``(status, lines)``: what :func:`main` prints and exits with."""
    status, lines = 0, []
    for option, flow in configured_flows(conf).items():
        lines.append('[taskflow_driver_recovery_flows] %s' % option)
        loaded, _failed = load_tasks(
            [name for stage in flow.values() for name in stage])
        for stage, names in flow.items():
            for name in names:
                task = loaded.get(name)
                lines.append('  %s: %s %s' % (stage, name, '%s.%s' % (
                    task.__module__, task.__name__) if task else '-'))
        problems = flow_problems(flow)
        lines.extend('  ERROR: %s' % problem for problem in problems)
        status = status or int(bool(problems))
    lines.append('OK' if not status else
                 "FAILED: masakari-engine would run these flows without the "
                 "tasks above, and could end a notification 'finished' with "
                 "its servers not recovered.")
    return status, lines


def main(argv=None):
    import masakari.conf

    conf = masakari.conf.CONF
    conf(sys.argv[1:] if argv is None else argv, project='masakari')
    status, lines = report(conf)
    for line in lines:
        print(line)
    return status


if __name__ == '__main__':
    sys.exit(main())
