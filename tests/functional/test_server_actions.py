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

"""An owner's actions on a server whose host is reported down."""

from tests.functional import test_robustness


class ServerActionsOnReportedHostTest(test_robustness.RobustnessTestBase):

    def setUp(self):
        super().setUp()
        # Booted by an admin of the other project, owned by that project.
        self.server = self._boot('host1', 'mine', api=self.other_admin_api)
        self._report_host_down('host1')

    def _action(self, body, api=None, base_url=None):
        return self._raw('POST', '/servers/%s/action' % self.server['id'],
                         body, api=api or self.other_member_api,
                         headers={'OpenStack-API-Version': 'compute latest'},
                         base_url=base_url)

    def test_actions_that_need_the_host_are_refused(self):
        before = self._snapshot()
        for body in ({'os-start': None}, {'reboot': {'type': 'HARD'}},
                     {'createImage': {'name': 'snap'}}, {'shelve': None},
                     {'rescue': None}):
            response = self._action(body)
            message = self.assertFault(response, 409)
            self.assertIn('host is reported down', message)
            # Owners are shown no host name.
            self.assertNotIn('host1', message)
        # Nothing was cast to the dead host: no task, no action recorded.
        self.assertUnchanged(before)
        server = self.other_member_api.get_server(self.server['id'])
        self.assertEqual(('SHUTOFF', None),
                         (server['status'], server['OS-EXT-STS:task_state']))

    def test_someone_who_cannot_see_it_gets_stocks_answer(self):
        stock = self._start_stock_api()

        response = self._action({'os-start': None}, api=self.member_api)

        expected = self._action({'os-start': None}, api=self.member_api,
                                base_url=stock)
        self.assertEqual((expected.status_code, expected.json()),
                         (response.status_code, response.json()))
        self.assertNotIn('reported down', response.text)

    def test_what_does_not_need_the_host_is_stocks(self):
        # Lock is API-only: stock's answer.
        self.assertEqual(202, self._action({'lock': None}).status_code)
        # An admin may still evacuate it with stock's evacuate.
        response = self._action({'evacuate': {}}, api=self.admin_api)
        self.assertEqual(200, response.status_code, response.text)

    def test_after_the_report_is_cleared_stock_answers(self):
        self._put_host('host1', {'host_down_reported': False})

        self.assertEqual(202, self._action({'os-start': None}).status_code)
        self._wait_for_state_change(self.server, 'ACTIVE')


class ServerActionsOnForcedDownHostTest(test_robustness.RobustnessTestBase):

    def test_a_stock_force_down_keeps_stocks_answer(self):
        # Forced down through stock's os-services, not reported: stock
        # accepts the action, as Nova's own tests of evacuation expect.
        server = self._boot('host1', 'mine', api=self.other_admin_api)
        service_id = self._compute_service('host1')['id']
        response = self._raw('PUT', '/os-services/%s' % service_id,
                             {'forced_down': True},
                             headers={'OpenStack-API-Version':
                                      'compute 2.53'})
        self.assertEqual(200, response.status_code, response.text)

        response = self._raw('POST', '/servers/%s/action' % server['id'],
                             {'os-stop': None}, api=self.other_member_api)

        self.assertEqual(202, response.status_code, response.text)
