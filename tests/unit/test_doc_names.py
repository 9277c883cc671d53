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

"""What the documents name exists in the code.

The README, the docs, the API reference, the devstack plugin's README and
the files under ``etc/`` name configuration options, policy rules,
console scripts, OpenStackClient commands and their options, and the
reasons the API answers. Each name is checked against the code's own
registries (oslo.config's options, the policy defaults, ``setup.cfg``'s
entry points, the commands' parsers, the reasons' constants), so that a
document cannot go on naming what was renamed or never existed. Release
notes are history and are not checked.
"""

import configparser
import glob
import importlib
import os
import re
import types

import testtools
import yaml

import nova_hoststatus.conf
from nova_hoststatus.hostfault import api as hostfault_api
from nova_hoststatus import policies
from nova_hoststatus.recovery import api as recovery_api
from nova_hoststatus.recovery import status as recovery_status

REPO_ROOT = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
DOCUMENTS = ('README.rst', 'doc/source/**/*.rst', 'api-ref/source/*.rst',
             'api-ref/source/*.inc', 'api-ref/source/parameters.yaml',
             'devstack/README.rst', 'etc/**/*')

POLICY_RULE = re.compile(r'nova_hoststatus:[a-z_-]+(?::[a-z_-]+)*')
# ``[hoststatus] name``, inline.
OPTION = re.compile(r'``\[hoststatus\]\s+([a-z_]+)``')
# name = value, in an ini block after a [hoststatus] line.
INI_OPTION = re.compile(r'^\s*#?\s*([a-z_]+)\s*=')
SCRIPT = re.compile(r'\bnova-hoststatus-[a-z][a-z-]*[a-z]\b(?![.\w/])')
# The package's OpenStackClient commands, and what follows on the line.
COMMAND = re.compile(
    r'openstack (compute host evacuate|compute host status [a-z]+|'
    r'server host status [a-z]+)((?: +\S+)*)')
# Not console scripts, though spelt like them.
NOT_SCRIPTS = {
    # The local cloud's state directory.
    'nova-hoststatus-cloud',
}


def _documents():
    for pattern in DOCUMENTS:
        for path in sorted(glob.glob(os.path.join(REPO_ROOT, pattern),
                                     recursive=True)):
            if os.path.isfile(path):
                with open(path, errors='replace') as f:
                    yield os.path.relpath(path, REPO_ROOT), f.read()


def _setup_cfg():
    parser = configparser.ConfigParser()
    parser.read(os.path.join(REPO_ROOT, 'setup.cfg'))
    return {group: dict(line.split('=', 1) for line in
                        parser['entry_points'][group].strip().splitlines())
            for group in parser['entry_points']}


def _entry_points(group):
    return {name.strip(): target.strip()
            for name, target in _setup_cfg()[group].items()}


def _load(target):
    module, attr = target.split(':')
    return getattr(importlib.import_module(module), attr)


def ini_options(text):
    """The option names of every [hoststatus] block of ``text``."""
    names, indent = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == '[hoststatus]':
            indent = len(line) - len(line.lstrip())
            continue
        if indent is None or not stripped:
            continue
        if (stripped.startswith('[') or
                len(line) - len(line.lstrip()) < indent):
            indent = None
            continue
        found = INI_OPTION.match(line)
        if found:
            names.append(found.group(1))
    return names


class DocumentNamesTest(testtools.TestCase):

    def assertAllExist(self, named, known, what):
        """``named``: ``[(document, name)]``."""
        unknown = sorted({'%s: %s' % (path, name) for path, name in named
                          if name not in known})
        self.assertEqual([], unknown, 'documents name %s that do not '
                         'exist; known: %s' % (what, sorted(known)))

    def test_config_options(self):
        known = {opt.name for _group, opts in nova_hoststatus.conf.list_opts()
                 for opt in opts}
        named = [(path, name) for path, text in _documents()
                 for name in OPTION.findall(text) + ini_options(text)]
        self.assertNotEqual([], named)
        self.assertAllExist(named, known, 'options of [hoststatus]')

    def test_policy_rules(self):
        known = {rule.name for rule in policies.list_rules()}
        named = [(path, name) for path, text in _documents()
                 for name in POLICY_RULE.findall(text)]
        self.assertNotEqual([], named)
        self.assertAllExist(named, known, 'policy rules')

    def test_console_scripts(self):
        known = set(_entry_points('console_scripts'))
        named = [(path, name) for path, text in _documents()
                 for name in SCRIPT.findall(text)
                 if name not in NOT_SCRIPTS]
        self.assertNotEqual([], named)
        self.assertAllExist(named, known, 'console scripts')

    def test_openstackclient_commands_and_options(self):
        commands = {name.replace('_', ' '): _load(target) for name, target
                    in _entry_points('openstack.hoststatus.v1').items()}
        app = types.SimpleNamespace(
            client_manager=None, stdout=None,
            options=types.SimpleNamespace(debug=False))
        options = {}
        for name, command in commands.items():
            parser = command(app, None).get_parser('openstack ' + name)
            options[name] = {option for action in parser._actions
                             for option in action.option_strings}
        named, unknown_options = [], []
        for path, text in _documents():
            for command, rest in COMMAND.findall(text):
                named.append((path, command))
                for option in re.findall(r'(?<!\S)(--[a-z][a-z-]*)', rest):
                    if (command in options and
                            option not in options[command]):
                        unknown_options.append('%s: %s %s' % (
                            path, command, option))
        self.assertNotEqual([], named)
        self.assertAllExist(named, set(commands), 'OpenStackClient commands')
        self.assertEqual([], sorted(set(unknown_options)),
                         'documents name options the commands do not have')

    def test_reasons_of_the_api(self):
        """The reasons parameters.yaml lists, and no other."""
        known = {
            'skipped_reason': {hostfault_api.SKIP_UNTOUCHED_VM_STATE,
                               hostfault_api.SKIP_ALREADY_IN_TARGET_STATE,
                               hostfault_api.SKIP_STATE_CHANGED,
                               hostfault_api.SKIP_BEING_EVACUATED,
                               hostfault_api.SKIP_BEING_DELETED},
            'evacuation_reason': {recovery_api.SKIP_NOT_EVACUABLE,
                                  recovery_api.SKIP_TASK,
                                  recovery_api.SKIP_EVACUATED,
                                  recovery_api.SKIP_STATE_CHANGED,
                                  recovery_api.SKIP_REFUSED},
            'recovery_status': {recovery_status.PENDING,
                                recovery_status.NOT_EVACUABLE,
                                recovery_status.EVACUATING,
                                recovery_status.RECOVERED,
                                recovery_status.FAILED},
        }
        with open(os.path.join(REPO_ROOT, 'api-ref', 'source',
                               'parameters.yaml')) as f:
            parameters = yaml.safe_load(f)
        for name, reasons in known.items():
            description = parameters[name]['description']
            listed = set(re.findall(r'``([a-z_]+)``', description))
            # Every reason the code gives is listed; a listed word that
            # looks like one is one.
            self.assertEqual(set(), reasons - listed, name)
            self.assertEqual(set(), {word for word in listed - reasons
                                     if '_' in word and
                                     word not in ('instances_skipped',
                                                  'servers', 'recovery')},
                             name)

    def test_ini_options_are_read_from_blocks(self):
        text = ('::\n\n    [hoststatus]\n    # a comment\n    watch_interval'
                ' = 5\n\n    coordination_url = x\n\n    [DEFAULT]\n'
                '    debug = true\n')
        self.assertEqual(['watch_interval', 'coordination_url'],
                         ini_options(text))
