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

"""Error translation shared by the nova-hoststatus commands."""

import contextlib

from osc_lib import exceptions

# What nova-api answers for a route that is not there at the microversion
# sent, and (an HTML page, no fault message) for a path no route matches.
_NO_ROUTE = ('The resource could not be found.',
             exceptions.NotFound.message)


@contextlib.contextmanager
def command_errors(action, host_api=False):
    """Turn compute API errors into a CommandError that says what failed.

    :param action: what the command was doing, e.g. 'update host host1'.
    :param host_api: whether the call is to the host API of nova-hoststatus,
        which nova-api may not have loaded.
    """
    try:
        yield
    except exceptions.Forbidden as exc:
        raise exceptions.CommandError(
            'Not allowed to %s (HTTP 403): %s The default policy allows '
            'it to administrators only.' % (action, exc.message))
    except exceptions.NotFound as exc:
        message = exc.message
        if host_api and message in _NO_ROUTE:
            message = ('the compute API has no host status API: is '
                       'nova-hoststatus loaded into nova-api?')
        raise exceptions.CommandError(
            'Cannot %s: %s (HTTP 404)' % (action, message))
    except exceptions.ClientException as exc:
        raise exceptions.CommandError('Cannot %s: %s' % (action, exc))
