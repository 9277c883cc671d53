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
        # Maintenance, told to the owner of the server on host2.
        self.assertIn('put host2 into maintenance and back', tables[1])
        self.assertIn('host host2 is MAINTENANCE (was UP) since', tables[1])
        self.assertIn('(firmware update)', tables[1])
        self.assertIn('host host2 is UP (was MAINTENANCE)', tables[1])
        # Before the report the owner still sees the dead host up.
        self.assertIn('host1 failed. Without a report', tables[2])
        self.assertIn('| ACTIVE | -          | RUNNING     |', tables[2])
        self.assertNotIn('DOWN', tables[2])
        # After it, at once, SHUTOFF and DOWN, to the owner (NFV policy).
        self.assertIn('reported host1 down: 2 changed, 1 skipped', tables[3])
        self.assertIn('vm2-project-b | SHUTOFF | -          | SHUTDOWN    |',
                      tables[3])
        self.assertIn('DOWN', tables[3])
        self.assertNotIn('vm1-project-a', tables[3])
        # What the sample monitor's report is worth, said with it.
        self.assertIn(scenario.MONITOR_STANDS_FOR, tables[3])
        # The consumer got the report and each server's instance.update.
        self.assertIn('host host1 reported down', tables[4])
        self.assertEqual(2, tables[4].count('went down at'))
        # Every owner of host1's servers, the stopped one's too.
        self.assertEqual(3, tables[4].count('host host1 is DOWN (was UP)'))
        self.assertEqual(0, tables[5].count('host1 |'))
        at = {}
        for line in tables[6].splitlines()[4:-1]:
            _, ms, event, _ = line.split('|')
            at[event.split(':')[0].strip()] = float(ms)
        self.assertEqual(
            {'fault injected', 'fault detected', 'host down reported',
             'owners told', 'owners notified', 'state consistent',
             'evacuation started', 'recovered'}, set(at))
        # Notification and the owners' reads race each other; everything
        # else happens in this order.
        for first, then in (('fault injected', 'fault detected'),
                            ('fault detected', 'host down reported'),
                            ('host down reported', 'owners told'),
                            ('owners told', 'owners notified'),
                            ('host down reported', 'state consistent'),
                            ('state consistent', 'evacuation started'),
                            ('evacuation started', 'recovered')):
            self.assertLessEqual(at[first], at[then], (first, then))
