#!/usr/bin/env python
"""Client benchmark: this collection's etcd v2 client against python-etcd and two bare loops.

Sequential (one thread, one key per request, keep-alive):
  reads/s and writes/s of
  - pyetcd.etcd Client (read()/write(): argument checks, failover bookkeeping, EtcdResult),
  - python-etcd 0.4.5 (the most used v2 client),
  - a bare requests.Session loop (GET/PUT, then json.loads of the body),
  - a bare http.client keep-alive loop (the same, with the standard library only: about the
    most one Python thread can do).
  The bare loops parse the JSON answer too, because every client has to; they skip everything
  else (no checks, no error mapping, no result objects).

Bulk (1,000 keys by default, written then read back):
  - pyetcd.etcd: Client.write_many (8 connections with 16 pipelined requests each), then ONE
    recursive read,
  - pyetcd.etcd: the same with pipeline=1 (8 connections, one request at a time each), to show
    what pipelining adds,
  - python-etcd: the same keys written one after another, then one recursive read,
  - python-etcd with the same thread pool (shown so the comparison is not one-sided; its
    urllib3 pool keeps only one connection, the others are opened and dropped).

All contenders run in interleaved rounds against the same etcd in the same process; the median
round is reported and ratios are taken between medians of this run only.

Usage: client_bench.py [--ops 2000] [--keys 1000] [--threads 8] [--rounds 5] [--json PATH]
With ETCD_URL unset, a throwaway etcd 3.5 is started through tests/harness.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import logging
import os
import sys
import time
import urllib.parse
from typing import Callable, Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  pylint: disable=wrong-import-position

benchlib.collections_dir()

import requests  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client  # noqa: E402  pylint: disable=wrong-import-position

try:
    import etcd as python_etcd  # python-etcd, only installed in bench/.venv
except ImportError:
    python_etcd = None

VALUE = 'v' * 64  # a typical small configuration value
SPREAD = 100      # sequential runs cycle over this many keys


def seq_contenders(url: str, host: str, port: int) -> Dict[str, Dict[str, Callable[[str, int], None]]]:
    """name -> {'read': fn(prefix, n), 'write': fn(prefix, n)} doing n requests each."""
    contenders: Dict[str, Dict[str, Callable[[str, int], None]]] = {}

    client = Client(host, port)

    def client_read(prefix: str, count: int) -> None:
        for i in range(count):
            client.read('%s/k%d' % (prefix, i % SPREAD))

    def client_write(prefix: str, count: int) -> None:
        for i in range(count):
            client.write('%s/k%d' % (prefix, i % SPREAD), VALUE)

    contenders['pyetcd.etcd Client'] = {'read': client_read, 'write': client_write}

    if python_etcd is not None:
        peer = python_etcd.Client(host=host, port=port)

        def peer_read(prefix: str, count: int) -> None:
            for i in range(count):
                peer.read('%s/k%d' % (prefix, i % SPREAD))

        def peer_write(prefix: str, count: int) -> None:
            for i in range(count):
                peer.write('%s/k%d' % (prefix, i % SPREAD), VALUE)

        contenders['python-etcd 0.4.5'] = {'read': peer_read, 'write': peer_write}

    session = requests.Session()
    session.trust_env = False

    def requests_read(prefix: str, count: int) -> None:
        for i in range(count):
            json.loads(session.get('%s/v2/keys%s/k%d' % (url, prefix, i % SPREAD)).content)

    def requests_write(prefix: str, count: int) -> None:
        for i in range(count):
            json.loads(session.put('%s/v2/keys%s/k%d' % (url, prefix, i % SPREAD), data={'value': VALUE}).content)

    contenders['bare requests.Session'] = {'read': requests_read, 'write': requests_write}

    conn = http.client.HTTPConnection(host, port, timeout=10)
    form = {'Content-Type': 'application/x-www-form-urlencoded'}
    body = urllib.parse.urlencode({'value': VALUE})

    def raw_read(prefix: str, count: int) -> None:
        for i in range(count):
            conn.request('GET', '/v2/keys%s/k%d' % (prefix, i % SPREAD))
            json.loads(conn.getresponse().read())

    def raw_write(prefix: str, count: int) -> None:
        for i in range(count):
            conn.request('PUT', '/v2/keys%s/k%d' % (prefix, i % SPREAD), body=body, headers=form)
            json.loads(conn.getresponse().read())

    contenders['bare http.client'] = {'read': raw_read, 'write': raw_write}
    return contenders


def sequential(url: str, host: str, port: int, ops: int, rounds: int) -> List[dict]:
    contenders = seq_contenders(url, host, port)
    prefix = '/bench-client/seq'
    seed = Client(host, port)
    for i in range(SPREAD):
        seed.write('%s/k%d' % (prefix, i), VALUE)
    times: Dict[tuple, List[float]] = {}
    for name, funcs in contenders.items():  # warm-up: connections open, code paths hot
        funcs['read'](prefix, 50)
        funcs['write'](prefix, 20)
    for number in range(rounds):
        # Interleaved, so a slow phase of the shared machine hits every contender alike, in an
        # order that moves on by one each round (benchlib.rotated).
        for op in ('read', 'write'):
            for name in benchlib.rotated(list(contenders), number):
                funcs = contenders[name]
                times.setdefault((name, op), []).append(benchlib.timed(lambda f=funcs[op]: f(prefix, ops)))
    rows = []
    for (name, op), samples in times.items():
        median = benchlib.best_of(samples)
        rows.append({'name': name, 'op': op, 'seconds': round(median, 4), 'ops': ops,
                     'per_second': round(ops / median, 1), 'rounds': [round(s, 4) for s in samples]})
    return rows


def bulk(host: str, port: int, keys: int, threads: int, rounds: int) -> List[dict]:
    names = ['k%05d' % i for i in range(keys)]
    cleaner = Client(host, port)

    def fresh(base: str) -> None:
        try:
            cleaner.delete(base, recursive=True)
        except Exception:  # pylint: disable=broad-except
            pass  # nothing there yet

    def ours(base: str, pipeline: int = 16):
        # The fastest path the client offers: write_many (``threads`` connections, each with up
        # to ``pipeline`` requests in flight), then one recursive read.
        client = Client(host, port)
        client.write_many([('%s/%s' % (base, name), VALUE) for name in names], concurrency=threads, pipeline=pipeline)
        start = time.perf_counter()
        got = len(list(client.read(base, recursive=True).node.leaves()))
        client.close()
        return got, time.perf_counter() - start

    def peer_seq(base: str):
        peer = python_etcd.Client(host=host, port=port)
        for name in names:
            peer.write('%s/%s' % (base, name), VALUE)
        start = time.perf_counter()
        got = len(list(peer.read(base, recursive=True).leaves))
        return got, time.perf_counter() - start

    def peer_threads(base: str):
        peer = python_etcd.Client(host=host, port=port)
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda name: peer.write('%s/%s' % (base, name), VALUE), names))
        start = time.perf_counter()
        got = len(list(peer.read(base, recursive=True).leaves))
        return got, time.perf_counter() - start

    contenders = {
        'pyetcd.etcd (write_many, %d connections x 16 pipelined + recursive read)' % threads: ours,
        'pyetcd.etcd (write_many, %d connections, pipeline=1 + recursive read)' % threads: lambda base: ours(base, 1),
    }
    if python_etcd is not None:
        contenders['python-etcd (sequential + recursive read)'] = peer_seq
        contenders['python-etcd (%d threads + recursive read)' % threads] = peer_threads
    totals: Dict[str, List[float]] = {}
    reads: Dict[str, List[float]] = {}
    for rnd in range(rounds):
        for index, (name, func) in benchlib.rotated(list(enumerate(contenders.items())), rnd):
            base = '/bench-client/bulk%d-%d' % (index, rnd)
            fresh(base)
            start = time.perf_counter()
            got, read_seconds = func(base)
            totals.setdefault(name, []).append(time.perf_counter() - start)
            reads.setdefault(name, []).append(read_seconds)
            if got != keys:
                raise SystemExit('%s read back %d keys, expected %d' % (name, got, keys))
            fresh(base)
    return benchlib.bulk_rows(totals, reads, keys)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--ops', type=int, default=2000, help='requests per contender per round (sequential)')
    parser.add_argument('--keys', type=int, default=1000, help='keys in the bulk test')
    parser.add_argument('--threads', type=int, default=8, help='writer threads in the bulk test')
    parser.add_argument('--rounds', type=int, default=5, help='interleaved rounds; the median is reported')
    parser.add_argument('--json', help='write the results here (read by run_all.py)')
    args = parser.parse_args(argv)
    # python-etcd's pool keeps one connection; with threads urllib3 logs every dropped one.
    logging.getLogger('urllib3.connectionpool').setLevel(logging.ERROR)

    url, host, port = benchlib.etcd_endpoint()
    print('client benchmark against etcd %s at %s; %s' % (benchlib.etcd_version(url), url, benchlib.machine()))
    if python_etcd is None:
        print('note: python-etcd is not installed (use bench/.venv): its rows are missing')

    seq = sequential(url, host, port, args.ops, args.rounds)
    by = {(row['name'], row['op']): row for row in seq}
    print('\nsequential, %d requests per round, median of %d rounds' % (args.ops, args.rounds))
    print('%-26s %12s %12s' % ('', 'reads/s', 'writes/s'))
    for name in dict.fromkeys(row['name'] for row in seq):
        print('%-26s %12.0f %12.0f' % (name, by[(name, 'read')]['per_second'], by[(name, 'write')]['per_second']))

    ratios: Dict[str, float] = {}
    ours = 'pyetcd.etcd Client'
    for other in ('bare requests.Session', 'bare http.client', 'python-etcd 0.4.5'):
        for op in ('read', 'write'):
            if (other, op) in by:
                # > 1 means our client takes longer than the other for the same requests.
                ratios['%s time / %s time (%ss)' % (ours, other, op)] = round(
                    by[(ours, op)]['seconds'] / by[(other, op)]['seconds'], 3)

    blk = bulk(host, port, args.keys, args.threads, max(1, min(args.rounds, 3)))
    print('\nbulk: %d keys written then read back (one recursive read), median of %d rounds'
          % (args.keys, max(1, min(args.rounds, 3))))
    print('%-72s %9s %9s %9s' % ('', 'total s', 'write s', 'read s'))
    for row in blk:
        print('%-72s %9.3f %9.3f %9.4f' % (row['name'], row['seconds'], row['write_seconds'], row['read_seconds']))
    ours_bulk = blk[0]
    for row in blk[1:]:
        ratios['%s / pyetcd.etcd bulk time' % row['name']] = round(row['seconds'] / ours_bulk['seconds'], 2)

    print('\nratios (this run only):')
    for name, value in ratios.items():
        print('  %-80s %6.2f' % (name, value))
    notes = [
        'sequential: one thread, keep-alive; every contender parses the JSON answer; %d keys cycled' % SPREAD,
        'bulk: pyetcd.etcd Client.write_many on %d connections with up to 16 pipelined requests each (and with '
        'pipeline=1), then one recursive read' % args.threads,
    ]
    benchlib.write_json(args.json, 'Client: sequential and bulk', seq + blk, ratios, notes, url)
    return 0


if __name__ == '__main__':
    sys.exit(main())
