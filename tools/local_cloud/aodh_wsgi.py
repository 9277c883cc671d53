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

"""Aodh's API under gunicorn, with the local cloud's aodh.conf.

Aodh's own WSGI module (``aodh.wsgi.api``) reads /etc/aodh/aodh.conf; this
one reads the file AODH_CONFIG_FILE names, as uWSGI's ``--pyargv`` would
give it to Aodh's ``build_wsgi_app``.
"""

import os

from aodh.api import app

application = app.build_wsgi_app(
    argv=['--config-file', os.environ['AODH_CONFIG_FILE']])
