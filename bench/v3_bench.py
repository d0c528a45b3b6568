#!/usr/bin/env python
"""v3 client benchmark: Etcd3Client against etcd3gw, python-etcd3 and a bare gateway loop.

Sequential (one thread, one key per request, keep-alive), puts/s and gets/s of
  - pyetcd.etcd Etcd3Client (put()/get() over the JSON gateway: argument checks, failover,
    result objects),
  - etcd3gw (requests.Session over the same JSON gateway),
  - python-etcd3 (gRPC over HTTP/2, protobuf messages),
  - a bare http.client keep-alive loop POSTing to the gateway: the JSON body with the
    base64 key (and value) built per request, the answer parsed with json.loads (and the
    value decoded for a get); nothing else,
  - a raw socket loop: the request framed by hand, the answer split off the socket with no
    checks beyond its Content-Length, then json.loads (and the value decoded for a get). About
    the least one Python thread can do per request over the gateway: the floor, not a peer.

Bulk (1,000 keys by default, written then read back with one prefix read):
  - pyetcd.etcd: Etcd3Client.put_many (transactions of max_txn_ops=128 puts, pipelined on its
    default connections), then get_prefix,
  - pyetcd.etcd: the same keys one put() after another, then get_prefix (for reference),
  - etcd3gw: a put loop, then get_prefix,
  - etcd3gw: its transaction() with raw bodies of 128 puts, one after another, then get_prefix,
  - python-etcd3: a put loop, then get_prefix,
  - python-etcd3: transaction() with 128 puts each, one after another, then get_prefix.

python-etcd3 0.12.0's generated protobuf modules are older than protoc 3.19, so a current
protobuf (4.x and later) refuses them unless the pure-Python implementation is used: this
script sets PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python (unless it is already set) before
anything imports protobuf, and prints the implementation in use.

All contenders run interleaved round by round against the same etcd in one process; the
median round is reported and every ratio is taken between medians of this run only.

Usage: v3_bench.py [--ops 2000] [--keys 1000] [--rounds 5] [--json PATH] [--profile]
With --profile: also a cProfile of Etcd3Client's sequential put and get loops (own time by
function and by package). With ETCD_URL unset, a throwaway etcd 3.5 is started through
tests/harness.
"""
from __future__ import annotations

import argparse
import base64
import cProfile
import http.client
import json
import os
import pstats
import re
import socket
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

# Before anything imports google.protobuf (see the docstring).
os.environ.setdefault('PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION', 'python')

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  pylint: disable=wrong-import-position

benchlib.collections_dir()

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client  # noqa: E402  pylint: disable=wrong-import-position

try:
    import etcd3gw  # only installed in bench/.venv
except ImportError:
    etcd3gw = None
try:
    import etcd3 as python_etcd3  # only installed in bench/.venv
except Exception:  # pylint: disable=broad-except  # an incompatible protobuf raises TypeError
    python_etcd3 = None

VALUE = 'v' * 64   # a typical small configuration value
SPREAD = 100       # sequential runs cycle over this many keys
TXN_OPS = 128      # etcd's default --max-txn-ops
OURS = 'pyetcd.etcd Etcd3Client'
GW = 'etcd3gw'
GRPC = 'python-etcd3'
BARE = 'bare http.client'
RAW = 'raw socket (floor)'

SeqFunc = Callable[[str, int], None]


def version_of(dist: str) -> str:
    try:
        from importlib.metadata import version  # pylint: disable=import-outside-toplevel
        return version(dist)
    except Exception:  # pylint: disable=broad-except
        return '?'


def protobuf_implementation() -> str:
    try:
        from google.protobuf.internal import api_implementation  # pylint: disable=import-outside-toplevel
        return '%s %s' % (version_of('protobuf'), api_implementation.Type())
    except ImportError:
        return 'not installed'


def server_pid(port: int) -> Optional[int]:
    """The process listening on 127.0.0.1:port (the etcd measured against), from /proc; None
    when it cannot be found (another OS, no permission)."""
    wanted = '0100007F:%04X' % port
    inodes = set()
    try:
        with open('/proc/net/tcp', encoding='ascii') as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                if fields[1] == wanted and fields[3] == '0A':  # 0A: LISTEN
                    inodes.add('socket:[%s]' % fields[9])
        for pid in (entry for entry in os.listdir('/proc') if entry.isdigit()):
            try:
                if any(os.readlink('/proc/%s/fd/%s' % (pid, fd)) in inodes for fd in os.listdir('/proc/%s/fd' % pid)):
                    return int(pid)
            except OSError:
                continue
    except (OSError, IndexError):
        pass
    return None


def cpu_seconds(pid: Optional[int]) -> float:
    """User + system CPU seconds of a process so far (0 when unknown)."""
    if pid is None:
        return 0.0
    try:
        with open('/proc/%d/stat' % pid, encoding='ascii') as handle:
            fields = handle.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    except (OSError, IndexError, ValueError):
        return 0.0


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode('ascii')


def seq_contenders(host: str, port: int) -> Dict[str, Dict[str, SeqFunc]]:
    """name -> {'put': fn(prefix, n), 'get': fn(prefix, n)}, each doing n requests."""
    contenders: Dict[str, Dict[str, SeqFunc]] = {}

    ours = Etcd3Client(host, port)

    def ours_put(prefix: str, count: int) -> None:
        for i in range(count):
            ours.put('%s/k%d' % (prefix, i % SPREAD), VALUE)

    def ours_get(prefix: str, count: int) -> None:
        for i in range(count):
            if ours.get('%s/k%d' % (prefix, i % SPREAD)).value != VALUE:
                raise SystemExit('%s read a wrong value' % OURS)

    contenders[OURS] = {'put': ours_put, 'get': ours_get}

    if etcd3gw is not None:
        gw = etcd3gw.Etcd3Client(host=host, port=port)

        def gw_put(prefix: str, count: int) -> None:
            for i in range(count):
                gw.put('%s/k%d' % (prefix, i % SPREAD), VALUE)

        def gw_get(prefix: str, count: int) -> None:
            for i in range(count):
                if gw.get('%s/k%d' % (prefix, i % SPREAD))[0] != VALUE.encode():
                    raise SystemExit('%s read a wrong value' % GW)

        contenders[GW] = {'put': gw_put, 'get': gw_get}

    if python_etcd3 is not None:
        grpc_client = python_etcd3.client(host=host, port=port)

        def grpc_put(prefix: str, count: int) -> None:
            for i in range(count):
                grpc_client.put('%s/k%d' % (prefix, i % SPREAD), VALUE)

        def grpc_get(prefix: str, count: int) -> None:
            for i in range(count):
                if grpc_client.get('%s/k%d' % (prefix, i % SPREAD))[0] != VALUE.encode():
                    raise SystemExit('%s read a wrong value' % GRPC)

        contenders[GRPC] = {'put': grpc_put, 'get': grpc_get}

    conn = http.client.HTTPConnection(host, port, timeout=10)
    headers = {'Content-Type': 'application/json'}
    value64 = b64(VALUE)

    def bare_put(prefix: str, count: int) -> None:
        for i in range(count):
            body = json.dumps({'key': b64('%s/k%d' % (prefix, i % SPREAD)), 'value': value64})
            conn.request('POST', '/v3/kv/put', body=body, headers=headers)
            json.loads(conn.getresponse().read())

    def bare_get(prefix: str, count: int) -> None:
        for i in range(count):
            body = json.dumps({'key': b64('%s/k%d' % (prefix, i % SPREAD))})
            conn.request('POST', '/v3/kv/range', body=body, headers=headers)
            answer = json.loads(conn.getresponse().read())
            if base64.b64decode(answer['kvs'][0]['value']) != VALUE.encode():
                raise SystemExit('%s read a wrong value' % BARE)

    contenders[BARE] = {'put': bare_put, 'get': bare_get}

    raw = socket.create_connection((host, port), timeout=10)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    framing = 'POST /v3/kv/%s HTTP/1.1\r\nHost: {0}:{1}\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s'
    framing = framing.format(host, port)
    length_field = re.compile(rb'\r\nContent-Length: ([0-9]+)', re.I)

    def raw_call(method: str, body: str) -> dict:
        raw.sendall((framing % (method, len(body), body)).encode('ascii'))
        data = raw.recv(65536)
        while b'\r\n\r\n' not in data:
            data += raw.recv(65536)
        head, _sep, answer = data.partition(b'\r\n\r\n')
        length = int(length_field.search(head).group(1))  # etcd frames its small answers by length
        while len(answer) < length:
            answer += raw.recv(65536)
        return json.loads(answer)

    def raw_put(prefix: str, count: int) -> None:
        for i in range(count):
            raw_call('put', '{"key":"%s","value":"%s"}' % (b64('%s/k%d' % (prefix, i % SPREAD)), value64))

    def raw_get(prefix: str, count: int) -> None:
        for i in range(count):
            answer = raw_call('range', '{"key":"%s"}' % b64('%s/k%d' % (prefix, i % SPREAD)))
            if base64.b64decode(answer['kvs'][0]['value']) != VALUE.encode():
                raise SystemExit('%s read a wrong value' % RAW)

    contenders[RAW] = {'put': raw_put, 'get': raw_get}
    return contenders


SEQ_PREFIX = '/bench-v3/seq'


def sequential(host: str, port: int, ops: int, rounds: int) -> Tuple[List[dict], Dict[str, Dict[str, SeqFunc]]]:
    contenders = seq_contenders(host, port)
    etcd_pid = server_pid(port)
    seed = Etcd3Client(host, port)
    seed.put_many([('%s/k%d' % (SEQ_PREFIX, i), VALUE) for i in range(SPREAD)])
    for funcs in contenders.values():  # warm-up: connections open, gateway prefix known, code paths hot
        funcs['get'](SEQ_PREFIX, 50)
        funcs['put'](SEQ_PREFIX, 20)
    times: Dict[tuple, List[float]] = {}
    cpu: Dict[tuple, List[float]] = {}
    server: Dict[tuple, List[float]] = {}
    for number in range(rounds):
        # Interleaved, so a slow phase of the shared machine hits every contender alike, and in
        # an order that moves on by one each round (benchlib.rotated).
        for op in ('put', 'get'):
            for name in benchlib.rotated(list(contenders), number):
                funcs = contenders[name]
                started, server_started = time.process_time(), cpu_seconds(etcd_pid)
                times.setdefault((name, op), []).append(benchlib.timed(lambda f=funcs[op]: f(SEQ_PREFIX, ops)))
                cpu.setdefault((name, op), []).append(time.process_time() - started)
                server.setdefault((name, op), []).append(cpu_seconds(etcd_pid) - server_started)
    rows = []
    for (name, op), samples in times.items():
        median = benchlib.best_of(samples)
        rows.append({'name': name, 'op': op, 'seconds': round(median, 4), 'ops': ops,
                     'per_second': round(ops / median, 1),
                     'client_cpu_us_per_op': round(1e6 * benchlib.best_of(cpu[(name, op)]) / ops),
                     'etcd_cpu_us_per_op': round(1e6 * benchlib.best_of(server[(name, op)]) / ops) if etcd_pid else None,
                     'rounds': [round(s, 4) for s in samples]})
    return rows, contenders


def bulk_contenders(host: str, port: int, names: List[str]) -> Dict[str, Callable[[str], Tuple[int, float]]]:
    """name -> fn(base) that writes every key under base and reads them back with one prefix
    read; returns (keys read back, seconds of the read)."""

    def read_back(func: Callable[[], int]) -> Tuple[int, float]:
        start = time.perf_counter()
        got = func()
        return got, time.perf_counter() - start

    def ours_many(base: str) -> Tuple[int, float]:
        client = Etcd3Client(host, port)
        client.put_many([(base + name, VALUE) for name in names])
        result = read_back(lambda: len(client.get_prefix(base)))
        client.close()
        return result

    def ours_loop(base: str) -> Tuple[int, float]:
        client = Etcd3Client(host, port)
        for name in names:
            client.put(base + name, VALUE)
        result = read_back(lambda: len(client.get_prefix(base)))
        client.close()
        return result

    contenders = {
        '%s put_many (txns of %d, pipelined) + get_prefix' % (OURS, TXN_OPS): ours_many,
        '%s put loop + get_prefix' % OURS: ours_loop,
    }
    if etcd3gw is not None:
        def gw_loop(base: str) -> Tuple[int, float]:
            client = etcd3gw.Etcd3Client(host=host, port=port)
            for name in names:
                client.put(base + name, VALUE)
            return read_back(lambda: len(client.get_prefix(base)))

        def gw_txn(base: str) -> Tuple[int, float]:
            client = etcd3gw.Etcd3Client(host=host, port=port)
            for start in range(0, len(names), TXN_OPS):
                success = [{'request_put': {'key': b64(base + name), 'value': b64(VALUE)}}
                           for name in names[start:start + TXN_OPS]]
                client.transaction({'compare': [], 'success': success})
            return read_back(lambda: len(client.get_prefix(base)))

        contenders['%s put loop + get_prefix' % GW] = gw_loop
        contenders['%s transaction() of %d puts each + get_prefix' % (GW, TXN_OPS)] = gw_txn
    if python_etcd3 is not None:
        def grpc_loop(base: str) -> Tuple[int, float]:
            client = python_etcd3.client(host=host, port=port)
            for name in names:
                client.put(base + name, VALUE)
            result = read_back(lambda: len(list(client.get_prefix(base))))
            client.close()
            return result

        def grpc_txn(base: str) -> Tuple[int, float]:
            client = python_etcd3.client(host=host, port=port)
            for start in range(0, len(names), TXN_OPS):
                puts = [client.transactions.put(base + name, VALUE) for name in names[start:start + TXN_OPS]]
                client.transaction(compare=[], success=puts, failure=[])
            result = read_back(lambda: len(list(client.get_prefix(base))))
            client.close()
            return result

        contenders['%s put loop + get_prefix' % GRPC] = grpc_loop
        contenders['%s transaction() of %d puts each + get_prefix' % (GRPC, TXN_OPS)] = grpc_txn
    return contenders


def bulk(host: str, port: int, keys: int, rounds: int) -> List[dict]:
    names = ['k%05d' % i for i in range(keys)]
    cleaner = Etcd3Client(host, port)
    contenders = bulk_contenders(host, port, names)
    totals: Dict[str, List[float]] = {}
    reads: Dict[str, List[float]] = {}
    for rnd in range(rounds):
        for index, (name, func) in benchlib.rotated(list(enumerate(contenders.items())), rnd):
            base = '/bench-v3/bulk%d-%d/' % (index, rnd)
            cleaner.delete_prefix(base)
            start = time.perf_counter()
            got, read_seconds = func(base)
            totals.setdefault(name, []).append(time.perf_counter() - start)
            reads.setdefault(name, []).append(read_seconds)
            if got != keys or cleaner.count_prefix(base) != keys:
                raise SystemExit('%s read back %d keys, expected %d' % (name, got, keys))
            cleaner.delete_prefix(base)
    return benchlib.bulk_rows(totals, reads, keys)


def profile(contenders: Dict[str, Dict[str, SeqFunc]], ops: int) -> None:
    """cProfile of the sequential loops of Etcd3Client and of the bare loop, one after the
    other: own time by package (per request) and, for Etcd3Client, by function."""
    for op in ('put', 'get'):
        for name in (OURS, BARE):
            profiler = cProfile.Profile()
            profiler.enable()
            contenders[name][op](SEQ_PREFIX, ops)
            profiler.disable()
            stats = pstats.Stats(profiler)
            total = sum(entry[2] for entry in stats.stats.values())  # pylint: disable=no-member
            groups: Dict[str, float] = {}
            for (filename, _line, _func), entry in stats.stats.items():  # pylint: disable=no-member
                groups[package_of(filename)] = groups.get(package_of(filename), 0.0) + entry[2]
            print('\nprofile: %d %ss of %s, %.3f s of own time under cProfile (%.0f us per %s); by package:'
                  % (ops, op, name, total, 1e6 * total / ops, op))
            for group, seconds in sorted(groups.items(), key=lambda item: -item[1]):
                if seconds >= 0.005 * total:
                    share, per_op = 100 * seconds / total, 1e6 * seconds / ops
                    print('  %-44s %6.3f s %5.1f%%  %7.1f us per %s' % (group, seconds, share, per_op, op))
            if name == OURS:
                print('top functions by own time:')
                stats.sort_stats('tottime').print_stats(18)


def package_of(filename: str) -> str:
    """A short name for where a profiled function lives."""
    if filename.startswith('~') or filename.startswith('<'):
        return 'C built-ins (socket I/O, json, ...)'
    path = filename.replace(os.sep, '/')
    if '/plugins/module_utils/' in path:
        return 'pyetcd.etcd ' + path.split('/plugins/module_utils/', 1)[1].split('/')[0].replace('.py', '')
    if '/site-packages/' in path:
        return path.split('/site-packages/', 1)[1].split('/')[0]
    base = os.path.basename(path)
    parent = os.path.basename(os.path.dirname(path))
    if parent in ('http', 'email', 'json', 'urllib', 'importlib', 'collections', 'concurrent'):
        return 'stdlib %s' % parent
    return 'stdlib %s' % base.replace('.py', '')


def speedup(rows: List[dict], peer: str, ours: str) -> Optional[float]:
    by = {row['name']: row['seconds'] for row in rows}
    if peer not in by or ours not in by:
        return None
    return round(by[peer] / by[ours], 2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--ops', type=int, default=2000, help='requests per contender per round (sequential)')
    parser.add_argument('--keys', type=int, default=1000, help='keys in the bulk test')
    parser.add_argument('--rounds', type=int, default=5, help='interleaved rounds; the median is reported')
    parser.add_argument('--json', help='write the results here (read by run_all.py)')
    parser.add_argument('--profile', action='store_true', help="also cProfile Etcd3Client's sequential loops")
    args = parser.parse_args(argv)

    url, host, port = benchlib.etcd_endpoint()
    peers = 'etcd3gw %s, python-etcd3 %s (grpcio %s, protobuf %s)' % (
        version_of('etcd3gw'), version_of('etcd3'), version_of('grpcio'), protobuf_implementation())
    print('v3 benchmark against etcd %s at %s; %s; %s' % (benchlib.etcd_version(url), url, peers, benchlib.machine()))
    for module, label in ((etcd3gw, 'etcd3gw'), (python_etcd3, 'python-etcd3 (etcd3)')):
        if module is None:
            print('note: %s is not importable (use bench/.venv): its rows are missing' % label)

    seq, contenders = sequential(host, port, args.ops, args.rounds)
    by = {(row['name'], row['op']): row for row in seq}
    print('\nsequential, %d requests per round, median of %d rounds' % (args.ops, args.rounds))
    print('%-26s %8s %8s   %-22s %-22s' % ('', 'puts/s', 'gets/s', 'CPU us/put client etcd', 'CPU us/get client etcd'))
    for name in dict.fromkeys(row['name'] for row in seq):
        put, get = by[(name, 'put')], by[(name, 'get')]
        figures = (put['per_second'], get['per_second'], put['client_cpu_us_per_op'], put['etcd_cpu_us_per_op'],
                   get['client_cpu_us_per_op'], get['etcd_cpu_us_per_op'])
        print('%-26s %8.0f %8.0f   %11d %10s %11d %10s' % ((name,) + figures))
    print("(CPU, user + system: client = this process, for python-etcd3 with grpc's own threads; etcd = the server's)")

    # Every ratio is a speed-up: the other's time / Etcd3Client's time (> 1: Etcd3Client is faster).
    ratios: Dict[str, float] = {}
    for other, label in ((GW, 'etcd3gw'), (GRPC, 'python-etcd3'), (BARE, 'bare http.client'), (RAW, 'raw socket')):
        for op in ('put', 'get'):
            if (other, op) in by:
                ratios['sequential %ss vs %s' % (op, label)] = round(
                    by[(other, op)]['seconds'] / by[(OURS, op)]['seconds'], 2)

    bulk_rounds = max(1, min(args.rounds, 3))
    blk = bulk(host, port, args.keys, bulk_rounds)
    print('\nbulk: %d keys written then read back (one prefix read), median of %d rounds' % (args.keys, bulk_rounds))
    print('%-76s %9s %9s %9s' % ('', 'total s', 'write s', 'read s'))
    for row in blk:
        print('%-76s %9.3f %9.3f %9.4f' % (row['name'], row['seconds'], row['write_seconds'], row['read_seconds']))
    ours_bulk = blk[0]['name']
    for name, label in (('%s put loop + get_prefix' % GRPC, 'python-etcd3 put loop'),
                        ('%s transaction() of %d puts each + get_prefix' % (GRPC, TXN_OPS), 'python-etcd3 transactions'),
                        ('%s put loop + get_prefix' % GW, 'etcd3gw put loop'),
                        ('%s transaction() of %d puts each + get_prefix' % (GW, TXN_OPS), 'etcd3gw transactions'),
                        ('%s put loop + get_prefix' % OURS, 'its own put loop')):
        value = speedup(blk, name, ours_bulk)
        if value is not None:
            ratios['bulk %d keys vs %s' % (args.keys, label)] = value

    print('\nspeed-ups of Etcd3Client (the other\'s time / Etcd3Client\'s time, this run only; > 1 is faster):')
    for name, value in ratios.items():
        print('  %-60s %6.2f' % (name, value))
    targets = [('sequential puts vs etcd3gw', 2.0), ('sequential gets vs etcd3gw', 2.0),
               ('sequential puts vs python-etcd3', 1.0), ('sequential gets vs python-etcd3', 1.0),
               ('bulk %d keys vs python-etcd3 put loop' % args.keys, 10.0)]
    print('targets:')
    notes = []
    for name, target in targets:
        if name in ratios:
            verdict = 'met' if ratios[name] >= target else 'NOT met'
            print('  %-60s %6.2f >= %.0fx: %s' % (name, ratios[name], target, verdict))
            notes.append('target %s >= %gx: %.2fx, %s' % (name, target, ratios[name], verdict))

    if args.profile:
        profile(contenders, args.ops)

    notes += [
        'sequential: one thread, keep-alive; %d keys cycled; every contender decodes what it reads' % SPREAD,
        'bulk: Etcd3Client.put_many with its defaults (concurrency=4, pipeline=8), transactions of %d puts' % TXN_OPS,
        'peers: %s' % peers,
    ]
    benchlib.write_json(args.json, 'v3 client: sequential and bulk', seq + blk, ratios, notes, url)
    return 0


if __name__ == '__main__':
    sys.exit(main())
