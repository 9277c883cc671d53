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

import copy

from nova.api.openstack.compute.schemas import hosts as nova_hosts
from nova.api.validation import parameter_types

# 'enable' | 'disable', in the spellings stock os-hosts accepts.
_enable_disable = nova_hosts.update['properties']['status']

update = {
    'type': 'object',
    'properties': {
        'host': {
            'type': 'object',
            'properties': {
                'status': copy.deepcopy(_enable_disable),
                'maintenance_mode': copy.deepcopy(_enable_disable),
                'host_down_reported': parameter_types.boolean,
                # With host_down_reported true: override the runaway guard;
                # attest that the host was fenced.
                'force': parameter_types.boolean,
                'fenced': parameter_types.boolean,
                # With host_down_reported false: start the servers the
                # report stopped again, in place.
                'restore': parameter_types.boolean,
                # Why: kept as disabled_reason when this request disables
                # the service, and carried by host fault notifications.
                # Printable characters only, as nova's descriptions.
                'reason': dict(parameter_types.description,
                               type='string', minLength=1),
            },
            'minProperties': 1,
            'additionalProperties': False,
        },
    },
    'required': ['host'],
    'additionalProperties': False,
}

show_query = {
    'type': 'object',
    'properties': {},
    'additionalProperties': True,
}

_instance_change = {
    'type': 'object',
    'properties': {
        'id': {'type': 'string', 'format': 'uuid'},
        'project_id': {'type': ['string', 'null']},
        'old_vm_state': {'type': ['string', 'null']},
        'old_task_state': {'type': ['string', 'null']},
        'old_power_state': {'type': ['integer', 'null']},
    },
    'required': ['id', 'project_id', 'old_vm_state', 'old_task_state',
                 'old_power_state'],
    'additionalProperties': False,
}

_instance_skip = {
    'type': 'object',
    'properties': {
        'id': {'type': 'string', 'format': 'uuid'},
        'project_id': {'type': ['string', 'null']},
        'vm_state': {'type': ['string', 'null']},
        'task_state': {'type': ['string', 'null']},
        'reason': {
            'type': 'string',
            'enum': ['untouched_vm_state', 'already_in_target_state',
                     'state_changed_concurrently', 'being_evacuated',
                     'being_deleted'],
        },
    },
    'required': ['id', 'project_id', 'vm_state', 'task_state', 'reason'],
    'additionalProperties': False,
}

# A server's vm_state, task_state and power_state, as before its host failed.
pre_fault_state = {
    'type': 'object',
    'properties': {
        'vm_state': {'type': ['string', 'null']},
        'task_state': {'type': ['string', 'null']},
        'power_state': {'type': ['integer', 'null']},
    },
    'required': ['vm_state', 'task_state', 'power_state'],
    'additionalProperties': False,
}

_server_recovery = {
    'type': 'object',
    'properties': {
        'id': {'type': 'string', 'format': 'uuid'},
        'project_id': {'type': ['string', 'null']},
        'host': {'type': ['string', 'null']},
        'vm_state': {'type': ['string', 'null']},
        'task_state': {'type': ['string', 'null']},
        'pre_fault': pre_fault_state,
        'restored_vm_state': {'type': ['string', 'null']},
        'status': {'type': 'string',
                   'enum': ['pending', 'not_evacuable', 'evacuating',
                            'recovered', 'failed']},
    },
    'required': ['id', 'project_id', 'host', 'vm_state', 'task_state',
                 'pre_fault', 'restored_vm_state', 'status'],
    'additionalProperties': False,
}

_restored = {
    'type': 'object',
    'properties': {
        'id': {'type': 'string', 'format': 'uuid'},
        'project_id': {'type': ['string', 'null']},
        'pre_fault_vm_state': {'type': ['string', 'null']},
        'result': {'type': 'string', 'enum': ['started', 'skipped']},
        'message': {'type': ['string', 'null']},
    },
    'required': ['id', 'project_id', 'pre_fault_vm_state', 'result',
                 'message'],
    'additionalProperties': False,
}

_host = {
    'type': 'object',
    'properties': {
        'host': {'type': 'string'},
        'status': {'type': 'string', 'enum': ['enabled', 'disabled']},
        'state': {'type': 'string', 'enum': ['up', 'down']},
        'disabled_reason': {'type': ['string', 'null']},
        'maintenance_mode': {'type': 'string',
                             'enum': ['enabled', 'disabled']},
        'host_down_reported': {'type': 'boolean'},
        'instances_changed': {'type': 'array', 'items': _instance_change},
        'instances_skipped': {'type': 'array', 'items': _instance_skip},
        'recovery': {'type': 'array', 'items': _server_recovery},
        # While reported, when its servers have records of the report.
        'reported_at': {'type': ['string', 'null']},
        'fenced': {'type': 'boolean'},
        'contradicted': {'type': 'boolean'},
        'contradicted_at': {'type': ['string', 'null']},
        'instances_restored': {'type': 'array', 'items': _restored},
    },
    'required': ['host', 'status', 'state', 'disabled_reason',
                 'maintenance_mode', 'host_down_reported'],
    'additionalProperties': False,
}

show_response = {
    'type': 'object',
    'properties': {'host': _host},
    'required': ['host'],
    'additionalProperties': False,
}

update_response = copy.deepcopy(show_response)
