#!/usr/bin/env python
"""Migration benchmark: etcd_migrate's logic moving a v2 tree into v3, against the naive ways.

Each round writes the same N keys (10,000 by default) into a fresh v2 directory per contender
and times how long each contender takes to get them into v3 keys of the same names:

  - pyetcd.etcd etcd_migrate (in process): ``ensure_migration`` with the collection's v2 and v3
    clients, as the module runs it (one recursive v2 read, the v3 keys read in read-only
    transactions, guarded write transactions of 128 keys, pipelined), without Ansible's module
    start-up;
  - pyetcd.etcd etcd_migrate (module): the same through the module as Ansible runs it (a separate
    Python process given its arguments), so start-up is included; once per round;
  - python-etcd + python-etcd3: a recursive v2 read to list the keys, then for each key a v2
    read (python-etcd 0.4.5) and a v3 put (python-etcd3 0.12.0, gRPC; pure-Python protobuf,
    which that release needs with a current protobuf), one after another;
  - etcdctl: for each key ``ETCDCTL_API=2 etcdctl get`` then ``ETCDCTL_API=3 etcdctl put``, two
    processes per key. It is so slow that it runs on a sample (``--etcdctl-keys``, 200 by
    default) and its figure per 1,000 keys is scaled from that sample.

Requests used are counted, not estimated, for pyetcd.etcd (every request its transport sends,
pipelined ones included); the naive loops send 1 + 2 per key by construction.
Figures are medians of the rounds, every ratio between figures of this run.

Usage: migrate_bench.py [--keys 10000] [--rounds 3] [--etcdctl-keys 200] [--json PATH]
With ETCD_URL unset, a throwaway etcd 3.5 (v2 API on) is started through tests/harness.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any, Dict, List

# python-etcd3 0.12.0's protobuf modules load only on the pure-Python implementation.
os.environ.setdefault('PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION', 'python')

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  pylint: disable=wrong-import-position

COLLECTIONS = benchlib.collections_dir()

# pylint: disable=wrong-import-position
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.migrate import (  # noqa: E402
    MigrationRequest,
    ensure_migration,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport import pipeline as pipeline_module  # noqa: E402
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.transport import Transport  # noqa: E402
from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client  # noqa: E402
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client  # noqa: E402

try:
    import etcd as python_etcd  # only installed in bench/.venv
except ImportError:
    python_etcd = None
try:
    import etcd3 as python_etcd3  # only installed in bench/.venv
except Exception:  # pylint: disable=broad-except  # an incompatible protobuf raises TypeError
    python_etcd3 = None

OURS = 'etcd_migrate (in process)'
MODULE = 'etcd_migrate (module)'
NAIVE = 'python-etcd + python-etcd3 loop'
ETCDCTL = 'etcdctl get/put loop'
VALUE = 'value-%05d-' + 'x' * 48  # a typical small configuration value
ETCDCTL_BIN = os.path.join(os.path.dirname(sys.executable), 'etcdctl')


class RequestCounter:
    """Counts what the collection's transport sends: single requests and pipelined jobs."""

    def __init__(self):
        self.count = 0
        self._send = Transport.send
        self._init = pipeline_module.PipelinedBatch.__init__

    def __enter__(self) -> 'RequestCounter':
        counter = self
        send, init = self._send, self._init

        def counted_send(transport, *args, **kwargs):
            counter.count += 1
            return send(transport, *args, **kwargs)

        def counted_init(batch, transport, jobs, **kwargs):
            counter.count += len(jobs)
            init(batch, transport, jobs, **kwargs)

        Transport.send = counted_send
        pipeline_module.PipelinedBatch.__init__ = counted_init
        return self

    def __exit__(self, *exc: Any) -> None:
        Transport.send = self._send
        pipeline_module.PipelinedBatch.__init__ = self._init


def fill(url: str, path: str, keys: int) -> Dict[str, str]:
    items = {'%s/k%05d' % (path, i): VALUE % i for i in range(keys)}
    with Client(url) as client:
        client.write_many(items)
    return items


def check_v3(url: str, items: Dict[str, str], path: str) -> None:
    with Etcd3Client(url) as v3:
        found = {kv.key: kv.value for kv in v3.get_prefix(path + '/')}
    if found != items:
        raise SystemExit('%s: v3 holds %d of %d keys (or other values)' % (path, len(found), len(items)))


def run_ours(url: str, path: str) -> int:
    with RequestCounter() as counter, Client(url) as v2, Etcd3Client(url) as v3:
        ensure_migration(v2, v3, MigrationRequest(path=path))
    return counter.count


def run_module(url: str, path: str) -> None:
    internal = {'_ansible_check_mode': False, '_ansible_diff': False, '_ansible_tmpdir': None,
                '_ansible_remote_tmp': tempfile.gettempdir(), '_ansible_keep_remote_files': False}
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': dict(host=[url], path=path, **internal)}, handle)
    try:
        proc = subprocess.run([sys.executable, '-m', 'ansible_collections.pyetcd.etcd.plugins.modules.etcd_migrate',
                               handle.name], capture_output=True, text=True, check=False, timeout=600,
                              env=dict(os.environ, PYTHONPATH=COLLECTIONS))
    finally:
        os.unlink(handle.name)
    result = json.loads(proc.stdout)
    if result.get('failed'):
        raise SystemExit('etcd_migrate failed: %s' % result.get('msg'))


def run_naive(host: str, port: int, path: str) -> None:
    v2 = python_etcd.Client(host=host, port=port)
    v3 = python_etcd3.client(host=host, port=port)
    try:
        listing = v2.read(path, recursive=True)
        for leaf in listing.leaves:
            node = v2.read(leaf.key)
            v3.put(node.key, node.value)
    finally:
        v3.close()


def run_etcdctl(url: str, items: Dict[str, str]) -> None:
    for key in items:
        got = subprocess.run([ETCDCTL_BIN, '--endpoints', url, 'get', key], capture_output=True, text=True, check=True,
                             env=dict(os.environ, ETCDCTL_API='2'))
        subprocess.run([ETCDCTL_BIN, '--endpoints', url, 'put', key, got.stdout.rstrip('\n')], capture_output=True,
                       check=True, env=dict(os.environ, ETCDCTL_API='3'))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--keys', type=int, default=10000, help='keys migrated per contender per round')
    parser.add_argument('--rounds', type=int, default=3, help='interleaved rounds; the median is reported')
    parser.add_argument('--etcdctl-keys', type=int, default=200, help='keys in the etcdctl sample (0: skip it)')
    parser.add_argument('--json', help='write the results here (read by run_all.py)')
    args = parser.parse_args(argv)
    url, host, port = benchlib.etcd_endpoint()
    print('migration benchmark against etcd %s at %s, %d keys; %s'
          % (benchlib.etcd_version(url), url, args.keys, benchlib.machine()))
    if python_etcd is None or python_etcd3 is None:
        print('note: python-etcd or python-etcd3 is not importable (use bench/.venv): the naive row is missing')
    base = '/bench-migrate-%s' % uuid.uuid4().hex[:8]
    times: Dict[str, List[float]] = {OURS: [], MODULE: [], NAIVE: [], ETCDCTL: []}
    requests: Dict[str, int] = {}
    for round_number in range(args.rounds):
        for name in times:
            if name == NAIVE and (python_etcd is None or python_etcd3 is None):
                continue
            if name == ETCDCTL and (not args.etcdctl_keys or round_number):
                continue  # one sample is plenty at two processes per key
            path = '%s/r%d-%s' % (base, round_number, name.split()[0].replace('_', ''))
            if name == ETCDCTL:
                path += '-ctl'
            elif name == MODULE:
                path += '-module'
            items = fill(url, path, args.etcdctl_keys if name == ETCDCTL else args.keys)
            start = time.perf_counter()
            if name == OURS:
                requests[OURS] = run_ours(url, path)
            elif name == MODULE:
                run_module(url, path)
            elif name == NAIVE:
                run_naive(host, port, path)
                requests[NAIVE] = 1 + 2 * len(items)
            else:
                run_etcdctl(url, items)
                requests[ETCDCTL] = 2 * len(items)
            seconds = time.perf_counter() - start
            check_v3(url, items, path)
            times[name].append(seconds * 1000.0 / len(items))  # per 1,000 keys
            print('round %d %-34s %8.3f s for %d keys' % (round_number + 1, name, seconds, len(items)))
    rows = []
    for name, samples in times.items():
        if not samples:
            continue
        per_thousand = benchlib.best_of(samples)
        keys = args.etcdctl_keys if name == ETCDCTL else args.keys
        rows.append({'name': name, 'op': 'migrate', 'keys': keys, 'seconds_per_1000_keys': round(per_thousand, 4),
                     'seconds': round(per_thousand * keys / 1000.0, 3),
                     'requests': requests.get(name), 'rounds': [round(s, 4) for s in samples]})
    by_name = {row['name']: row for row in rows}
    ratios = {}
    for peer in (NAIVE, ETCDCTL):
        if peer in by_name:
            ratios['%s / etcd_migrate in process' % peer] = round(by_name[peer]['seconds_per_1000_keys']
                                                                  / by_name[OURS]['seconds_per_1000_keys'], 1)
            ratios['%s / etcd_migrate module' % peer] = round(by_name[peer]['seconds_per_1000_keys']
                                                              / by_name[MODULE]['seconds_per_1000_keys'], 1)
    print()
    print('%-34s %14s %10s' % ('contender', 's per 1,000', 'requests'))
    for row in rows:
        print('%-34s %14.4f %10s' % (row['name'], row['seconds_per_1000_keys'],
                                     '%s for %d keys' % (row['requests'], row['keys']) if row['requests'] else '-'))
    for name, ratio in ratios.items():
        print('%s: %.1fx' % (name, ratio))
    notes = ['etcdctl row: a %d-key sample, scaled per 1,000 keys' % args.etcdctl_keys,
             'python-etcd3 0.12.0 runs on pure-Python protobuf (PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python)']
    benchlib.write_json(args.json, 'etcd_migrate: %d v2 keys into v3' % args.keys, rows, ratios, notes, url)
    return 0


if __name__ == '__main__':
    sys.exit(main())
