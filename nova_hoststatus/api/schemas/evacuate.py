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

from nova.api.validation import parameter_types

from nova_hoststatus.api.schemas import hosts

evacuate = {
    'type': 'object',
    'properties': {
        'evacuate': {
            'type': 'object',
            'properties': {
                # The destination, as stock evacuate's 'host'.
                'host': parameter_types.fqdn,
                'servers': {
                    'type': 'array',
                    'items': {'type': 'string', 'format': 'uuid'},
                    'minItems': 1,
                    'uniqueItems': True,
                },
                # Evacuate a contradicted or unfenced host all the same.
                'force': parameter_types.boolean,
            },
            'additionalProperties': False,
        },
    },
    'required': ['evacuate'],
    'additionalProperties': False,
}

_evacuation = {
    'type': 'object',
    'properties': {
        'id': {'type': 'string', 'format': 'uuid'},
        'project_id': {'type': ['string', 'null']},
        'result': {'type': 'string', 'enum': ['accepted', 'skipped']},
        'pre_fault': hosts.pre_fault_state,
        'restored_vm_state': {'type': ['string', 'null']},
        # Not {'type': ['string', 'null'], 'format': 'uuid'}: Nova 31's
        # uuid format checker refuses null.
        'migration_id': {'anyOf': [{'type': 'string', 'format': 'uuid'},
                                   {'type': 'null'}]},
        'reason': {
            'type': ['string', 'null'],
            'enum': [None, 'vm_state_not_evacuable', 'task_in_progress',
                     'already_evacuated', 'state_changed_concurrently',
                     'evacuate_refused'],
        },
        'message': {'type': ['string', 'null']},
    },
    'required': ['id', 'project_id', 'result', 'pre_fault',
                 'restored_vm_state', 'migration_id', 'reason', 'message'],
    'additionalProperties': False,
}

evacuate_response = {
    'type': 'object',
    'properties': {
        'evacuate': {
            'type': 'object',
            'properties': {
                'host': {'type': 'string'},
                'destination': {'type': ['string', 'null']},
                'servers': {'type': 'array', 'items': _evacuation},
            },
            'required': ['host', 'destination', 'servers'],
            'additionalProperties': False,
        },
    },
    'required': ['evacuate'],
    'additionalProperties': False,
}
