#!/usr/bin/env python
"""Ceiling benchmark: how fast this etcd takes writes, and how close write_many comes.

Bare writers with the standard library only (no checks, no error mapping, no result objects;
each still parses the JSON answer), 1,000 PUTs per round:
  - http.client on one keep-alive connection, one request at a time,
  - http.client from N threads, one connection each, one request at a time,
  - raw pipelining on N connections: up to D requests sent before their answers are read,
  - and pyetcd.etcd's Client.write_many (N connections, D pipelined) for comparison.
For each: writes/s and the CPU seconds this process spent per 1,000 writes (what a second core
would have to spare). It answers "is etcd the limit, or the client?".

Usage: ceiling_bench.py [--keys 1000] [--connections 8] [--depth 16] [--rounds 3] [--json PATH]
With ETCD_URL unset, a throwaway etcd 3.5 is started through tests/harness.
"""
from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import socket
import sys
import threading
import time
from typing import Callable, Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402 pylint: disable=wrong-import-position

benchlib.collections_dir()
from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client  # noqa: E402 pylint: disable=wrong-import-position

VALUE = 'v' * 64
FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


def split(keys: List[str], parts: int) -> List[List[str]]:
    return [keys[index::parts] for index in range(parts) if keys[index::parts]]


def run_threads(chunks: List[List[str]], func: Callable[[List[str]], None]) -> None:
    threads = [threading.Thread(target=func, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def http_client_writer(host: str, port: int) -> Callable[[List[str]], None]:
    def write(keys: List[str]) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        for key in keys:
            conn.request('PUT', '/v2/keys' + key, 'value=' + VALUE, FORM)
            answer = conn.getresponse()
            json.loads(answer.read())
            if answer.status not in (200, 201):
                raise SystemExit('PUT %s: HTTP %d' % (key, answer.status))
        conn.close()
    return write


class _SharedReader(io.BufferedReader):
    """One reader for all answers of a connection (http.client would close it after each)."""

    def close(self) -> None:
        return None


class _Shim:
    def __init__(self, sock: socket.socket):
        self.reader = _SharedReader(socket.SocketIO(sock, 'rb'), 65536)

    def makefile(self, *_args, **_kwargs):
        return self.reader


def pipelined_writer(host: str, port: int, depth: int) -> Callable[[List[str]], None]:
    def frame(key: str) -> bytes:
        body = 'value=' + VALUE
        return ('PUT /v2/keys%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/x-www-form-urlencoded\r\n'
                'Content-Length: %d\r\n\r\n%s' % (key, host, port, len(body), body)).encode()

    def write(keys: List[str]) -> None:
        sock = socket.create_connection((host, port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        shim = _Shim(sock)
        sent = answered = 0
        while answered < len(keys):
            if sent - answered <= depth // 2 and sent < len(keys):
                upto = min(len(keys), answered + depth)
                sock.sendall(b''.join(frame(key) for key in keys[sent:upto]))
                sent = upto
            answer = http.client.HTTPResponse(shim, method='PUT')  # type: ignore[arg-type]
            answer.begin()
            json.loads(answer.read())
            if answer.status not in (200, 201):
                raise SystemExit('PUT: HTTP %d' % answer.status)
            answered += 1
        sock.close()
    return write


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--keys', type=int, default=1000)
    parser.add_argument('--connections', type=int, default=8)
    parser.add_argument('--depth', type=int, default=16, help='requests in flight per connection when pipelining')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--json', help='write the results here (read by run_all.py)')
    args = parser.parse_args(argv)
    url, host, port = benchlib.etcd_endpoint()
    print('ceiling benchmark against etcd %s at %s; %s' % (benchlib.etcd_version(url), url, benchlib.machine()))
    conns, depth = args.connections, args.depth

    def ours(keys: List[str]) -> None:
        with Client(host, port) as client:
            client.write_many([(key, VALUE) for key in keys], concurrency=conns, pipeline=depth)

    contenders: Dict[str, Callable[[List[str]], None]] = {
        'bare http.client, 1 connection': http_client_writer(host, port),
        'bare http.client, %d threads' % conns: lambda keys: run_threads(split(keys, conns), http_client_writer(host, port)),
        'bare pipelining, 1 connection x %d' % depth: pipelined_writer(host, port, depth),
        'bare pipelining, %d connections x %d' % (conns, depth):
            lambda keys: run_threads(split(keys, conns), pipelined_writer(host, port, depth)),
        'pyetcd.etcd write_many, %d connections x %d' % (conns, depth): ours,
    }
    wall: Dict[str, List[float]] = {}
    cpu: Dict[str, List[float]] = {}
    for rnd in range(args.rounds):
        for index, (name, func) in benchlib.rotated(list(enumerate(contenders.items())), rnd):
            keys = ['/bench-ceiling/r%d-%d/k%05d' % (rnd, index, number) for number in range(args.keys)]
            cpu_start, start = time.process_time(), time.perf_counter()
            func(keys)
            wall.setdefault(name, []).append(time.perf_counter() - start)
            cpu.setdefault(name, []).append(time.process_time() - cpu_start)
    with Client(host, port) as cleaner:
        cleaner.delete('/bench-ceiling', recursive=True)
    print('\n%d PUTs per round, median of %d rounds' % (args.keys, args.rounds))
    print('%-44s %10s %22s' % ('', 'writes/s', 'CPU s per 1,000 writes'))
    rows = []
    for name in contenders:
        seconds = benchlib.best_of(wall[name])
        cpu_per = benchlib.best_of(cpu[name]) * 1000 / args.keys
        rows.append({'name': name, 'op': 'write', 'keys': args.keys, 'seconds': round(seconds, 4),
                     'per_second': round(args.keys / seconds), 'cpu_per_1000': round(cpu_per, 3)})
        print('%-44s %10.0f %22.3f' % (name, args.keys / seconds, cpu_per))
    by = {row['name']: row for row in rows}
    ours_name = 'pyetcd.etcd write_many, %d connections x %d' % (conns, depth)
    ratios = {'write_many time / %s time' % name: round(by[ours_name]['seconds'] / row['seconds'], 2)
              for name, row in by.items() if name != ours_name}
    print('\nratios (this run only; > 1: write_many is slower):')
    for name, value in ratios.items():
        print('  %-70s %6.2f' % (name, value))
    benchlib.write_json(args.json, 'Ceiling: bare writers with the standard library vs write_many', rows, ratios,
                        ['bare writers parse the JSON answer and check the status; nothing else'], url)
    return 0


if __name__ == '__main__':
    sys.exit(main())
