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

"""The package's API schemas, loaded where Nova cannot be imported.

Masakari and Nova cannot share a process (tests/masakari/__init__.py), and
the schema modules take a few request parameter types from Nova. These are
stood in for while the modules load, by what they mean to a fake API; the
response schemas are the package's own, unchanged.
"""

import importlib
import sys
import types
from unittest import mock

import jsonschema

_NOVA_STAND_INS = {
    'nova.api.validation.parameter_types': {
        'fqdn': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'boolean': {'type': ['boolean', 'string']},
        'description': {'type': ['string', 'null']},
    },
    'nova.api.openstack.compute.schemas.hosts': {
        'update': {'properties': {'status': {
            'type': 'string', 'enum': ['enable', 'disable']}}},
    },
}


def _load():
    modules = {}
    for name, attrs in _NOVA_STAND_INS.items():
        parts = name.split('.')
        for i in range(1, len(parts) + 1):
            modules.setdefault('.'.join(parts[:i]),
                               types.ModuleType('.'.join(parts[:i])))
        vars(modules[name]).update(attrs)
    with mock.patch.dict(sys.modules, modules):
        for name in [n for n in sys.modules
                     if n.startswith('nova_hoststatus.api')]:
            del sys.modules[name]
        # Not nova_hoststatus.api's own __init__: it may import Nova.
        package = types.ModuleType('nova_hoststatus.api')
        package.__path__ = [str(importlib.util.find_spec(
            'nova_hoststatus').submodule_search_locations[0]) + '/api']
        sys.modules['nova_hoststatus.api'] = package
        hosts = importlib.import_module('nova_hoststatus.api.schemas.hosts')
        evacuate = importlib.import_module(
            'nova_hoststatus.api.schemas.evacuate')
    return hosts, evacuate


hosts, evacuate = _load()


def validate(instance, schema):
    """Raise jsonschema's ValidationError unless ``instance`` is valid."""
    jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.FormatChecker()).validate(instance)
