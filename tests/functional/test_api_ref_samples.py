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

"""The API reference's samples are what the API takes and answers.

Each request sample of api-ref/source/samples is sent, as the file holds
it, to the real API (nova's services with this package, see base.py), and
the answer is compared with its response sample the way nova's api_samples
tests compare answers with their templates: the same keys, nested the same
way, with the same values of the same JSON types. Only what cannot repeat
from one run to the next may differ: UUIDs (of servers, of migrations),
which must still be UUIDs, and times, which must still be times. The
computes are named as in the samples, and the servers belong to the
samples' project (nova's fixtures' project).
"""

import json
import os
import re

import testtools

from tests.functional import base

API_REF_DIR = os.path.abspath(os.path.join(
    os.path.dirname(__file__), '..', '..', 'api-ref', 'source'))
SAMPLES_DIR = os.path.join(API_REF_DIR, 'samples')

UUID = re.compile(
    '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
# A time in UTC, as the API shows when a host was reported.
TIME = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$')


def differences(sample, answer, where='body'):
    """How ``answer`` differs from ``sample``: a list of sentences."""
    if isinstance(sample, dict):
        if not isinstance(answer, dict):
            return ['%s: %s in the answer, an object in the sample'
                    % (where, json.dumps(answer))]
        found = ['%s.%s: in the sample, not in the answer' % (where, key)
                 for key in sorted(sample.keys() - answer.keys())]
        found += ['%s.%s: in the answer, not in the sample' % (where, key)
                  for key in sorted(answer.keys() - sample.keys())]
        for key in sorted(sample.keys() & answer.keys()):
            found += differences(sample[key], answer[key],
                                 '%s.%s' % (where, key))
        return found
    if isinstance(sample, list):
        if not isinstance(answer, list):
            return ['%s: %s in the answer, an array in the sample'
                    % (where, json.dumps(answer))]
        if len(sample) != len(answer):
            return ['%s: %d items in the answer, %d in the sample'
                    % (where, len(answer), len(sample))]
        # Items come in the database's order: each item of the answer
        # matches an item of the sample, whatever their order. One that
        # matches none is told how it differs from the closest.
        unmatched = list(sample)
        found = []
        for index, item in enumerate(answer):
            closest = min(unmatched,
                          key=lambda candidate: len(differences(candidate,
                                                                item)))
            unmatched.remove(closest)
            found += differences(closest, item, '%s[%d]' % (where, index))
        return found
    if isinstance(sample, str) and UUID.match(sample):
        if isinstance(answer, str) and UUID.match(answer):
            return []
        return ['%s: %s in the answer, a UUID in the sample'
                % (where, json.dumps(answer))]
    if isinstance(sample, str) and TIME.match(sample):
        if isinstance(answer, str) and TIME.match(answer):
            return []
        return ['%s: %s in the answer, a time in the sample'
                % (where, json.dumps(answer))]
    # type(): JSON true is not 1, 1.0 is not 1.
    if type(sample) is not type(answer) or sample != answer:
        return ['%s: %s in the answer, %s in the sample'
                % (where, json.dumps(answer), json.dumps(sample))]
    return []


def _sample_names():
    return sorted(os.listdir(SAMPLES_DIR))


class DifferencesTest(testtools.TestCase):
    """What the comparison lets differ, and what it does not."""

    SAMPLE = {'host': {'host': 'compute1', 'host_down_reported': True,
                       'disabled_reason': None,
                       'instances_changed': [
                           {'id': 'a63f544c-ba71-4927-bdef-94e57e6ec837',
                            'old_power_state': 1},
                           {'id': '3a51f3e8-635a-496b-90e3-bf7ee02a67d8',
                            'old_power_state': 4}]}}

    def _answer(self):
        return json.loads(json.dumps(self.SAMPLE))

    def test_other_uuids_and_order_of_items_are_the_same(self):
        answer = self._answer()
        changed = answer['host']['instances_changed']
        changed.reverse()
        changed[0]['id'] = 'e97f5227-456c-4d8e-b83b-295911312570'
        self.assertEqual([], differences(self.SAMPLE, answer))

    def test_drift_is_found(self):
        drifts = [
            (lambda h: h.pop('disabled_reason'),
             'body.host.disabled_reason: in the sample, not in the answer'),
            (lambda h: h.update(recovery=[]),
             'body.host.recovery: in the answer, not in the sample'),
            (lambda h: h.update(host='compute2'),
             'body.host.host: "compute2" in the answer, "compute1" in the '
             'sample'),
            (lambda h: h.update(host_down_reported=1),
             'body.host.host_down_reported: 1 in the answer, true in the '
             'sample'),
            (lambda h: h['instances_changed'][1].update(old_power_state=1.0),
             'body.host.instances_changed[1].old_power_state: 1.0 in the '
             'answer, 4 in the sample'),
            (lambda h: h['instances_changed'][0].update(id='compute1'),
             'body.host.instances_changed[0].id: "compute1" in the answer, '
             'a UUID in the sample'),
            (lambda h: h['instances_changed'].pop(),
             'body.host.instances_changed: 1 items in the answer, 2 in the '
             'sample'),
            (lambda h: h.update(disabled_reason={}),
             'body.host.disabled_reason: {} in the answer, null in the '
             'sample'),
        ]
        for drift, difference in drifts:
            answer = self._answer()
            drift(answer['host'])
            self.assertEqual([difference], differences(self.SAMPLE, answer))

    def test_every_sample_is_in_the_reference(self):
        pages = ''
        for name in os.listdir(API_REF_DIR):
            if name.endswith('.rst'):
                with open(os.path.join(API_REF_DIR, name)) as f:
                    pages += f.read()
        missing = [name for name in _sample_names()
                   if '.. literalinclude:: samples/%s\n' % name not in pages]
        self.assertEqual([], missing, 'samples no page of the reference '
                                      'includes')


class APIRefSamplesTest(base.HostStatusTestBase):
    """Every sample, in one scenario: update, report, read, evacuate."""

    HOSTS = ('compute1', 'compute2')

    def setUp(self):
        super().setUp()
        self.checked = set()

    def _read_sample(self, name):
        self.checked.add(name)
        with open(os.path.join(SAMPLES_DIR, name)) as f:
            return f.read()

    def _check(self, method, url, response_sample, request_sample=None,
               status=200):
        """Send a request sample; its answer must be the response sample."""
        body = None
        if request_sample:
            body = self._read_sample(request_sample)
        response = self.admin_api.api_request(
            url, method=method, body=body, check_response_status=[status])
        answer = response.json()
        found = differences(json.loads(self._read_sample(response_sample)),
                            answer)
        self.assertEqual(
            [], found, '%s %s does not answer %s; it answers:\n%s'
            % (method, url, response_sample, json.dumps(answer, indent=4)))

    def test_samples(self):
        active = self._boot('compute1', name='active')
        error = self._boot('compute1', name='error')
        self.admin_api.post_server_action(
            error['id'], {'os-resetState': {'state': 'error'}})
        self._wait_for_server_parameter(
            error, {'OS-EXT-STS:vm_state': 'error'})

        self._check('PUT', '/os-hosts/compute2',
                    'host-update-disable-resp.json',
                    'host-update-disable-req.json')
        self._put_host('compute2', {'status': 'enable'})
        self._check('PUT', '/os-hosts/compute2',
                    'host-update-maintenance-resp.json',
                    'host-update-maintenance-req.json')
        self._put_host('compute2', {'maintenance_mode': 'disable'})
        self._check('PUT', '/os-hosts/compute1',
                    'host-update-report-down-resp.json',
                    'host-update-report-down-req.json')
        self._check('GET', '/os-hosts/compute1/state',
                    'host-state-show-resp.json')
        self._check('GET', '/os-hosts/nohost/state',
                    'host-state-not-found-resp.json', status=404)
        self._check('POST', '/os-hosts/compute1/evacuate',
                    'host-evacuate-resp.json', 'host-evacuate-req.json',
                    status=202)

        self.assertEqual(_sample_names(), sorted(self.checked),
                         'a sample of api-ref/source/samples is not checked')
        # The rebuilds end before the services stop.
        for server in (active, error):
            self._wait_for_server_parameter(
                server, {'OS-EXT-SRV-ATTR:host': 'compute2',
                         'OS-EXT-STS:task_state': None})
