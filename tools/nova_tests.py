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

"""Nova's own functional tests, with stock Nova's and the package's paste file.

The tests come from the installed nova wheel, of the series this runs in
(tools/series.sh). They run twice: once with stock Nova's api-paste.ini and
once with the package's, made from stock's by changing its one line
(nova_hoststatus.api.paste_ini), and every test that passes on stock must
pass with the package too.

Nova's tests read the paste file from ``$state_path/etc/nova`` and the API
samples from ``doc/api_samples`` next to the ``nova`` package; both paths
are computed with abspath, which keeps symlinks. So each flavor runs in an
overlay directory ``.nova-tests/nova-<version>/<flavor>/`` holding a
symlink to the installed ``nova``, its own paste file and a symlink to the
samples, which only Nova's sdist ships (fetched once, cached in
``.nova-tests/samples/``). Nothing in site-packages changes.

Exit status: 0 if no test regressed, 1 if some did, 2 if a run was empty.
"""

import argparse
import importlib.metadata
import io
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

import subunit
import testtools

from nova_hoststatus.api import paste_ini
from nova_hoststatus import compat

REPO = pathlib.Path(__file__).resolve().parent.parent
CACHE = REPO / '.nova-tests'
SERIES = os.environ.get('HOSTSTATUS_SERIES', '2026.2')
# The older series run a smaller selection of their own (CI's time).
SELECTION = REPO / 'tools' / ('nova-tests.txt' if SERIES == '2026.2' else
                              'nova-tests-%s.txt' % SERIES)
STESTR = pathlib.Path(sys.executable).parent / 'stestr'
FLAVORS = ('stock', 'nova-hoststatus')
# group_regex keeps the tests of a class in one worker.
STESTR_CONF = r"""[DEFAULT]
test_path=./nova/tests/functional
top_dir=./
group_regex=([^\.]+\.)+
"""
ALL = r'^nova\.tests\.functional\.api_sample_tests\.'
PASSED = ('success', 'xfail')
SKIPPED = ('skip',)
TRACEBACK_LINES = 12


def read_selection():
    """The regexes of the series' selection file, without comments."""
    lines = (line.split('#')[0].strip()
             for line in SELECTION.read_text().splitlines())
    return [line for line in lines if line]


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(2)


def api_samples(version):
    """Nova's doc directory, which only the sdist ships, cached."""
    samples = CACHE / 'samples' / ('nova-' + version)
    if not samples.is_dir():
        samples.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=samples.parent) as tmp:
            print('fetching the API samples of nova %s' % version)
            download = subprocess.run(
                [sys.executable, '-m', 'pip', 'download', '-q', '--no-deps',
                 '--no-binary', ':all:', 'nova==' + version, '-d', tmp],
                stderr=subprocess.PIPE, text=True)
            if download.returncode:
                fail(download.stderr +
                     'could not download the sdist of nova %s' % version)
            prefix = 'nova-%s/doc/api_samples/' % version
            sdist = next(pathlib.Path(tmp).glob('nova-*.tar.gz'))
            with tarfile.open(sdist) as tar:
                tar.extractall(
                    tmp, [m for m in tar if m.name.startswith(prefix)],
                    filter='data')
            # Renamed only once complete: an interrupted fetch is redone.
            os.rename(os.path.join(tmp, 'nova-' + version), samples)
    return samples / 'doc'


def paste_text(flavor):
    """The api-paste.ini of a flavor: stock's, or stock's rewritten."""
    stock = pathlib.Path(paste_ini.stock_file()).read_text()
    return stock if flavor == 'stock' else paste_ini.rewrite(stock)


def make_overlay(flavor, version, nova_dir, doc_dir):
    overlay = CACHE / ('nova-' + version) / flavor
    # A fresh stestr repository too, so that `stestr last` is this run.
    shutil.rmtree(overlay, ignore_errors=True)
    (overlay / 'etc' / 'nova').mkdir(parents=True)
    (overlay / 'nova').symlink_to(nova_dir)
    (overlay / 'doc').symlink_to(os.path.relpath(doc_dir, overlay))
    (overlay / 'etc' / 'nova' / 'api-paste.ini').write_text(
        paste_text(flavor))
    (overlay / '.stestr.conf').write_text(STESTR_CONF)
    return overlay


def run_tests(overlay, regexes, concurrency):
    """Run the tests in the overlay; each test's id -> its result dict."""
    # The overlay's nova comes first, before the one in site-packages.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(overlay), os.environ.get('PYTHONPATH')])))
    with open(overlay / 'stestr.log', 'w') as log:
        subprocess.run(
            [STESTR, 'run', '--concurrency', str(concurrency)] + regexes,
            cwd=overlay, env=env, stdout=log, stderr=subprocess.STDOUT)
    last = subprocess.run([STESTR, 'last', '--subunit'], cwd=overlay,
                          env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL)
    results = {}
    result = testtools.StreamToDict(
        lambda test: results.__setitem__(test['id'], test))
    result.startTestRun()
    subunit.ByteStreamToStreamResult(
        io.BytesIO(last.stdout), non_subunit_name='stdout').run(result)
    result.stopTestRun()
    return {test_id: test for test_id, test in results.items()
            if test['status'] != 'exists'}


def counts(results, test_ids):
    """How many of test_ids passed, failed and were skipped in results."""
    statuses = [results[t]['status'] for t in test_ids if t in results]
    passed = sum(s in PASSED for s in statuses)
    skipped = sum(s in SKIPPED for s in statuses)
    return passed, len(statuses) - passed - skipped, skipped


def failed(test):
    return test['status'] not in PASSED + SKIPPED


def print_table(regexes, stock, package):
    """Per regex of the selection: its tests' counts in both flavors."""
    test_ids = set(stock) | set(package)
    rows = [(regex.lstrip('^').replace('\\.', '.')
             .removeprefix('nova.tests.functional.'),
             [t for t in test_ids if re.search(regex, t)])
            for regex in regexes]
    rows.append(('total', test_ids))
    width = max(len(label) for label, _ in rows)
    print('%*s %5s  %-17s  %s' % (width, '', '', 'stock',
                                  'with nova-hoststatus'))
    print('%-*s %5s  %s  %s' % ((width, 'selection', 'tests') +
                                ('pass  fail  skip',) * 2))
    for label, ids in rows:
        print('%-*s %5d  %4d %5d %5d  %4d %5d %5d' % (
            (width, label, len(ids)) + counts(stock, ids) +
            counts(package, ids)))


def first_lines(test):
    """The traceback's first lines, and its last one: the exception."""
    traceback = test['details'].get('traceback')
    lines = traceback.as_text().splitlines() if traceback else []
    if len(lines) > TRACEBACK_LINES:
        return lines[:TRACEBACK_LINES] + ['...', lines[-1]]
    return lines


def main():
    parser = argparse.ArgumentParser(prog='tools/run-nova-tests.sh',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('--all', action='store_true',
                        help='all of nova.tests.functional.api_sample_tests '
                             '(about 20 minutes per flavor)')
    parser.add_argument('--concurrency', type=int, default=2, metavar='N',
                        help='test workers per run (default: 2)')
    parser.add_argument('regexes', nargs='*', metavar='REGEX',
                        help='stestr regexes replacing the selection of '
                             'the series (%s)' % SELECTION.relative_to(REPO))
    args = parser.parse_args()
    if args.all and args.regexes:
        parser.error('--all and REGEX select tests both')
    regexes = args.regexes or ([ALL] if args.all else read_selection())

    # Nova 34 runs its services with native threads by default; the test
    # fixtures of older releases run under eventlet only.
    os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING',
                          str(compat.fixtures_native_threads()).lower())
    setting = os.environ['OS_NOVA_DISABLE_EVENTLET_PATCHING']
    mode = ('native threads' if setting.lower() in ('1', 'true', 'yes')
            else 'eventlet')
    print('concurrency mode: %s (OS_NOVA_DISABLE_EVENTLET_PATCHING=%s)'
          % (mode, setting))

    nova = importlib.metadata.distribution('nova')
    # The tests run with the package as installed: a wheel (.ci/run) or
    # the editable checkout.
    print('nova-hoststatus %s from %s' % (
        importlib.metadata.version('nova-hoststatus'),
        pathlib.Path(paste_ini.__file__).parent.parent))
    doc_dir = api_samples(nova.version)
    results = {}
    for flavor in FLAVORS:
        overlay = make_overlay(flavor, nova.version,
                               nova.locate_file('nova'), doc_dir)
        print('%s: running nova %s functional tests (log: %s) ...'
              % (flavor, nova.version,
                 (overlay / 'stestr.log').relative_to(REPO)),
              end=' ', flush=True)
        start = time.monotonic()
        results[flavor] = run_tests(overlay, regexes, args.concurrency)
        minutes, seconds = divmod(int(time.monotonic() - start), 60)
        print('%d tests in %dm%02ds' % (len(results[flavor]), minutes,
                                        seconds))
    stock, package = results['stock'], results['nova-hoststatus']
    if not stock or not package:
        fail('a run had no tests: see .nova-tests/nova-%s/*/stestr.log'
             % nova.version)

    print()
    print_table(regexes, stock, package)
    print('nova tests (%s, nova %s): stock %d passed / with nova-hoststatus '
          '%d passed' % (SERIES, nova.version, counts(stock, stock)[0],
                         counts(package, package)[0]))

    failed_on_both = [t for t in sorted(stock)
                      if failed(stock[t]) and t in package and
                      failed(package[t])]
    if failed_on_both:
        print('\nfailed on both flavors, compared only (%d):'
              % len(failed_on_both))
        for test_id in failed_on_both:
            print('  ' + test_id)

    regressions = [t for t in sorted(stock) if stock[t]['status'] in PASSED
                   and package.get(t, {}).get('status') not in PASSED]
    if regressions:
        print('\npassed on stock, not with nova-hoststatus (%d):'
              % len(regressions))
    for test_id in regressions:
        test = package.get(test_id)
        if test is None:
            print('  %s: did not run' % test_id)
            continue
        print('  %s: %s' % (test_id, test['status']))
        for line in first_lines(test):
            print('      ' + line)
    return 1 if regressions else 0


if __name__ == '__main__':
    sys.exit(main())
