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

"""The README's main job runs and tells the story it claims."""

import io

from nova_hoststatus.demo import scenario


class DemoScenarioTest(scenario.HostFaultScenario):

    def setUp(self):
        super().setUp()
        self.out = io.StringIO()

    def test_scenario(self):
        self.run_scenario()
        output = self.out.getvalue()
        tables = output.split('\n\n')
        # Before the report the dead host still looks up; after it, DOWN.
        self.assertIn('host1 failed. Without a report', tables[1])
        self.assertNotIn('DOWN', tables[1])
        self.assertIn('reported host1 down: 2 changed, 0 skipped', tables[2])
        self.assertEqual(2, tables[2].count('| SHUTOFF | -          | '
                                            'SHUTDOWN    |'))
        self.assertEqual(2, tables[2].count('DOWN        | host1'))
        self.assertEqual(0, tables[3].count('host1 |'))
        for event in ('fault injected', 'host down reported',
                      'sees SHUTOFF', 'evacuation of 2 servers accepted',
                      'evacuation to host2 completed'):
            self.assertIn(event, tables[4])
