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

"""Sphinx configuration of the nova-hoststatus documentation.

The configuration, policy and command-line references are generated from
the code: the package must be importable (installed with nova).
"""

import os

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
    'oslo_policy.sphinxext',
    'oslo_policy.sphinxpolicygen',
    'cliff.sphinxext',
]

# The generator files the deployer's commands read (oslo-config-generator,
# oslopolicy-sample-generator): the samples in the docs are what they write.
# Written into _static/ at each build.
config_generator_config_file = os.path.join(
    _ROOT, 'etc', 'oslo-config-generator', 'nova-hoststatus.conf')
sample_config_basename = '_static/nova-hoststatus'
# Also what `.. show-policy::` reads.
policy_generator_config_file = os.path.join(
    _ROOT, 'etc', 'oslo-policy-generator', 'nova-hoststatus.conf')
sample_policy_basename = '_static/nova-hoststatus'

# The output options every OSC command has (cli.rst describes them) are
# left out of the command-line reference.
autoprogram_cliff_ignored = [
    '--help', '--format', '--column', '--noindent', '--prefix', '--quote',
    '--max-width', '--fit-width', '--print-empty', '--sort-column',
    '--sort-ascending', '--sort-descending',
]

openstackdocs_repo_name = 'x/nova-hoststatus'
openstackdocs_auto_name = False

project = 'nova-hoststatus'
copyright = '2026, nova-hoststatus developers'

source_suffix = '.rst'
master_doc = 'index'
exclude_patterns = []
pygments_style = 'native'
# Quotes and ellipses only: "--wait" in the commands' help stays two dashes.
smartquotes_action = 'qe'

html_theme = 'openstackdocs'
