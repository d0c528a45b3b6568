# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The transport's own kept-alive connections: stale connections, threads, close, headers.

Closing a kept connection at the exact moment a request arrives cannot be arranged with a real
etcd, so part of this module uses a FAKE keep-alive HTTP server on loopback; the rest runs
against real etcd (a restarted member, many threads, close and reuse).
"""
from __future__ import annotations

import base64
import json
import socket
import threading
import time
import urllib.request

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.transport import JSON, Transport
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import Client, EtcdOutcomeUnknown
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client
from tests.harness.etcd_server import EtcdServer

ANSWER = 'answer'
CLOSE = 'close'            # close the connection without answering: the request got no answer
ANSWER_CLOSE = 'answer+close'  # answer (keep-alive, no "Connection: close"), then close it idle


def _reply(method: str, path: str) -> bytes:
    if path.startswith('/health'):
        body = b'{"health":"true"}'
    elif path.startswith('/version'):
        body = b'{"etcdserver":"3.5.1","etcdcluster":"3.5.0"}'
    elif path.startswith('/v3'):
        body = b'{"header":{"cluster_id":"1","member_id":"1","revision":"7","raft_term":"2"}}'
    else:
        body = ('{"action":"%s","node":{"key":"/k","value":"v","modifiedIndex":5,"createdIndex":5}}'
                % ('get' if method == 'GET' else 'set')).encode()
    return ('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Etcd-Index: 5\r\n'
            'Content-Length: %d\r\n\r\n' % len(body)).encode() + body


class KeepAliveFake:
    """A FAKE HTTP/1.1 server on loopback that keeps connections alive, as etcd does.

    It records every request as ``(connection number, request number on it, method, path,
    headers)``. ``policy(connection, number, method, path)`` says what to do with a request:
    :data:`ANSWER`, :data:`CLOSE` (close without an answer) or :data:`ANSWER_CLOSE` (answer,
    then close the connection while it is idle; :attr:`closed_idle` is set then).
    """

    def __init__(self, policy=None):
        self.policy = policy or (lambda *_request: ANSWER)
        self.requests = []
        self.connections = 0
        self.closed_idle = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _peer = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True).start()

    def _serve(self, conn, number):
        data = b''
        with conn:
            for request_number in range(1, 10000):
                while b'\r\n\r\n' not in data:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    data += chunk
                head, _sep, data = data.partition(b'\r\n\r\n')
                lines = head.decode('latin-1').split('\r\n')
                method, path, _version = lines[0].split(' ')
                headers = dict(line.split(': ', 1) for line in lines[1:])
                length = int({k.lower(): v for k, v in headers.items()}.get('content-length', 0))
                while len(data) < length:
                    data += conn.recv(65536)
                data = data[length:]
                self.requests.append((number, request_number, method, path, headers))
                action = self.policy(number, request_number, method, path)
                if action == CLOSE:
                    return
                conn.sendall(_reply(method, path))
                if action == ANSWER_CLOSE:
                    time.sleep(0.02)  # the answer is read; the connection is idle now
                    conn.close()
                    self.closed_idle.set()
                    return

    def paths(self):
        return [(connection, method, path.split('?')[0]) for connection, _number, method, path, _h in self.requests]

    def close(self):
        self.sock.close()


@pytest.fixture
def fake():
    servers = []

    def make(policy=None):
        server = KeepAliveFake(policy)
        servers.append(server)
        return server
    yield make
    for server in servers:
        server.close()


def _wait_idle_close(server):
    assert server.closed_idle.wait(5)
    server.closed_idle.clear()
    time.sleep(0.05)  # the FIN has reached the client's socket


# -- stale kept connections -----------------------------------------------------------------

def test_connection_closed_while_idle_is_not_reused_for_a_read_or_a_write(fake):
    server = fake(lambda *_request: ANSWER_CLOSE)
    client = Client(port=server.port, timeout=2)
    assert client.read('/k').node.value == 'v'
    _wait_idle_close(server)
    assert client.read('/k').node.value == 'v'
    _wait_idle_close(server)
    assert client.write('/k', 'v').node.value == 'v'  # the member answered: no /health first
    # Every request went out once, each on a new connection: the closed ones were seen as closed.
    assert server.paths() == [(1, 'GET', '/v2/keys/k'), (2, 'GET', '/v2/keys/k'), (3, 'PUT', '/v2/keys/k')]


def _close_second_request(connection, number, _method, _path):
    # The member closes connection 1 just as the second request on it arrives (the race the
    # check before reuse cannot see).
    return CLOSE if (connection, number) == (1, 2) else ANSWER


def test_read_on_a_connection_closed_under_it_is_sent_again_on_a_new_one(fake):
    server = fake(_close_second_request)
    client = Client(port=server.port, timeout=2)
    assert client.read('/k').node.value == 'v'
    assert client.read('/k').node.value == 'v'  # no failure reported
    assert server.paths() == [(1, 'GET', '/v2/keys/k'), (1, 'GET', '/v2/keys/k'), (2, 'GET', '/v2/keys/k')]


def test_write_on_a_connection_closed_under_it_is_not_sent_again(fake):
    server = fake(_close_second_request)
    client = Client(port=server.port, timeout=2)
    with pytest.raises(EtcdOutcomeUnknown) as err:
        client.write('/k', 'v')  # /health first on connection 1, then the write on it
    assert err.value.outcome_unknown
    assert server.paths() == [(1, 'GET', '/health'), (1, 'PUT', '/v2/keys/k')]  # never re-sent


def test_restarted_member_keeps_serving_the_same_clients():
    server = EtcdServer('3.5').start()
    try:
        v2 = Client(host=server.url, timeout=5)
        v3 = Etcd3Client(host=server.url, timeout=5)
        v2.write('/restart/k', 'before')
        v3.put('restart/k3', 'before')
        assert v2.read('/restart/k').node.value == 'before' and v3.get('restart/k3').value == 'before'
        server.kill()  # the kept connections are closed by the kernel while idle
        server.start()
        # Reads and writes go through at once: the dead connections are dropped before use.
        assert v2.read('/restart/k').node.value == 'before' and v3.get('restart/k3').value == 'before'
        v2.write('/restart/k', 'after')
        v3.put('restart/k3', 'after')
        assert v2.read('/restart/k').node.value == 'after' and v3.get('restart/k3').value == 'after'
        v2.close()
        v3.close()
    finally:
        server.destroy()


# -- threads, close -------------------------------------------------------------------------

def _raw_v2(server, key):
    with urllib.request.urlopen('%s/v2/keys%s?quorum=true' % (server.url, key), timeout=10) as answer:
        return json.loads(answer.read())['node']['value']


def _raw_v3(server, key):
    body = json.dumps({'key': base64.b64encode(key.encode()).decode()}).encode()
    request = urllib.request.Request(server.url + '/v3/kv/range', data=body, method='POST')
    with urllib.request.urlopen(request, timeout=10) as answer:
        return base64.b64decode(json.loads(answer.read())['kvs'][0]['value']).decode()


def _run_threads(count, work):
    errors = []

    def run(number):
        try:
            work(number)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


def test_many_threads_share_one_v2_client(etcd35, key_prefix):
    client = Client(host=etcd35.url, timeout=5, pool_size=8)

    def work(number):
        for step in range(30):
            key = '%s/t%d/k%d' % (key_prefix, number, step % 5)
            assert client.write(key, '%d-%d' % (number, step)).node.value == '%d-%d' % (number, step)
            assert client.read(key).node.value == '%d-%d' % (number, step)  # only this thread writes it
    _run_threads(8, work)
    for number in range(8):
        for slot in range(5):
            assert _raw_v2(etcd35, '%s/t%d/k%d' % (key_prefix, number, slot)) == '%d-%d' % (number, 25 + slot)
    # Each thread took its own connection; none was opened per request.
    pools = client._session.adapters['http://'].poolmanager.pools._container.values()  # pylint: disable=protected-access
    assert sum(pool.num_connections for pool in pools) <= 8 + 1
    assert len(client.transport._idle[etcd35.url]) <= 8  # pylint: disable=protected-access
    client.close()


def test_many_threads_share_one_v3_client(etcd35, key_prefix):
    client = Etcd3Client(host=etcd35.url, timeout=5, pool_size=8)
    prefix = key_prefix.strip('/')

    def work(number):
        for step in range(30):
            key = '%s/t%d/k%d' % (prefix, number, step % 5)
            client.put(key, '%d-%d' % (number, step))
            assert client.get(key).value == '%d-%d' % (number, step)
    _run_threads(8, work)
    for number in range(8):
        for slot in range(5):
            assert _raw_v3(etcd35, '%s/t%d/k%d' % (prefix, number, slot)) == '%d-%d' % (number, 25 + slot)
    client.close()


def test_close_then_reuse(etcd35, key_prefix):
    client = Client(host=etcd35.url, timeout=5)
    client.write(key_prefix + '/c', 'one')
    idle = client.transport._idle[etcd35.url]  # pylint: disable=protected-access
    assert len(idle) == 1
    client.close()
    assert len(idle) == 0
    assert client.read(key_prefix + '/c').node.value == 'one'
    client.write(key_prefix + '/c', 'two')
    assert _raw_v2(etcd35, key_prefix + '/c') == 'two'
    assert len(idle) == 1
    client.close()
    client.close()  # twice is fine


def test_connection_in_use_during_close_is_not_kept(fake):
    transport = Transport([fake().url], timeout=(2, 2))
    idle = transport._idle[transport.endpoints[0]]  # pylint: disable=protected-access
    transport.send('GET', '/v2/keys/k', retry_safe=True)
    conn, generation = idle.take()  # as a thread in the middle of a request holds it
    transport.close()
    idle.give(conn, generation)
    assert len(idle) == 0 and conn.sock is None
    transport.close()


# -- headers --------------------------------------------------------------------------------

def _names(request):
    return {name.lower(): value for name, value in request[4].items()}


def test_v2_requests_carry_only_the_headers_they_need(fake):
    server = fake()
    host = '127.0.0.1:%d' % server.port
    Client(port=server.port, timeout=2).read('/k')
    Client(port=server.port, timeout=2, username='root', password='pw').write('/k', 'v')
    read, health, write = (_names(request) for request in server.requests)
    base = {'host': host, 'user-agent': 'pyetcd.etcd', 'accept-encoding': 'identity'}
    assert read == base
    auth = 'Basic ' + base64.b64encode(b'root:pw').decode()
    assert health == dict(base, authorization=auth)
    assert write == dict(base, authorization=auth, **{'content-type': 'application/x-www-form-urlencoded',
                                                      'content-length': str(len('value=v'))})


def test_v3_requests_carry_only_the_headers_they_need(fake):
    server = fake()
    Etcd3Client(port=server.port, timeout=2).get('k')
    base = {'host': '127.0.0.1:%d' % server.port, 'user-agent': 'pyetcd.etcd', 'accept-encoding': 'identity'}
    assert all(set(_names(request)) <= set(base) | {'content-type', 'content-length'} for request in server.requests)
    post = [_names(request) for request in server.requests if request[2] == 'POST'][-1]
    assert post == dict(base, **{'content-type': 'application/json', 'content-length': post['content-length']})
    # The token as v3 sets it, and the streamed path (watch, snapshot) through urllib3.
    transport = Transport([server.url], timeout=(2, 2))
    transport.set_header('Authorization', 'token-1')
    transport.send('POST', '/v3/kv/range', body=b'{}', content_type=JSON, retry_safe=True)
    transport.send('POST', '/v3/kv/range', body=b'{}', content_type=JSON, retry_safe=True, stream=True).text.read()
    plain, streamed = (_names(request) for request in server.requests[-2:])
    assert plain == dict(base, authorization='token-1', **{'content-type': JSON, 'content-length': '2'})
    assert streamed == plain
    transport.close()
