"""Answers a real etcd never gives, from a FAKE HTTP server on loopback.

A real etcd cannot be made to send garbled JSON, an empty body, HTML, or to cut a connection
in the middle of an answer; this module's tiny socket server does exactly that, one canned
reply per connection, so the client's handling of those cases is tested. Everything else is
tested against real etcd.
"""
from __future__ import annotations

import socket
import threading

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import (
    Client,
    EtcdBulkWriteFailed,
    EtcdConnectionFailed,
    EtcdInvalidResponse,
    EtcdKeyNotFound,
    EtcdOutcomeUnknown,
    EtcdV2NotEnabled,
)


HEALTHY = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\nConnection: close\r\n\r\n{"health":"true"}'


class FakeServer:
    """Answers every request on a loopback port with ``reply`` (raw bytes), then closes.

    ``GET /health`` gets a healthy answer, as from a real member: the client asks for it
    before its first write to a member, and these tests are about what comes after.
    """

    def __init__(self, reply: bytes):
        self.reply = reply
        self.requests = 0
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _peer = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b''
                while b'\r\n\r\n' not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b'GET /health '):
                    conn.sendall(HEALTHY)
                    continue
                self.requests += 1
                conn.sendall(self.reply)

    def close(self):
        self.sock.close()


def http(status: str, body: bytes, content_type: str = 'application/json', length: int = None) -> bytes:
    head = 'HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' % (
        status, content_type, len(body) if length is None else length)
    return head.encode() + body


@pytest.fixture
def fake():
    servers = []

    def make(reply):
        server = FakeServer(reply)
        servers.append(server)
        return server
    yield make
    for server in servers:
        server.close()


def test_garbled_json(fake):
    server = fake(http('200 OK', b'{"action": "get", "node": {'))
    with pytest.raises(EtcdInvalidResponse) as err:
        Client(port=server.port, timeout=2).read('/k')
    assert 'answer is not JSON (HTTP 200), is this an etcd member?' in str(err.value)
    assert server.url in str(err.value)


def test_empty_answer(fake):
    server = fake(http('200 OK', b''))
    with pytest.raises(EtcdInvalidResponse) as err:
        Client(port=server.port, timeout=2).write('/k', 'v')
    assert str(err.value).startswith('empty answer (HTTP 200): /k')
    assert server.url in str(err.value)


def test_html_server_is_not_taken_for_etcd(fake):
    server = fake(http('404 Not Found', b'<html><body>nginx</body></html>', 'text/html'))
    with pytest.raises(EtcdInvalidResponse) as err:
        Client(port=server.port, timeout=2).read('/k')
    assert not isinstance(err.value, EtcdV2NotEnabled)
    assert "It began '<html><body>nginx" in str(err.value)
    ok_html = fake(http('200 OK', b'<html>welcome</html>', 'text/html'))
    with pytest.raises(EtcdInvalidResponse):
        Client(port=ok_html.port, timeout=2).read('/k')


def test_json_that_is_not_an_object(fake):
    server = fake(http('200 OK', b'[1, 2]'))
    with pytest.raises(EtcdInvalidResponse) as err:
        Client(port=server.port, timeout=2).read('/k')
    assert 'not a JSON object' in str(err.value)


def test_redirect_is_not_followed(fake):
    server = fake(b'HTTP/1.1 301 Moved\r\nLocation: http://elsewhere/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
    with pytest.raises(EtcdInvalidResponse) as err:
        Client(port=server.port, timeout=2).write('/k', 'v')
    assert 'unexpected redirect (HTTP 301) to http://elsewhere/' in str(err.value)


def test_cut_mid_answer_read_fails_over(fake, etcd35, key_prefix):
    cut = fake(http('200 OK', b'{"action":"get","no', length=500))
    Client(host=(etcd35.host, etcd35.port)).write(key_prefix + '/k', 'v')
    cli = Client(host=[('127.0.0.1', cut.port), (etcd35.host, etcd35.port)], timeout=2)
    assert cli.read(key_prefix + '/k').node.value == 'v'
    assert cli.current_endpoint == etcd35.url
    alone = Client(port=cut.port, timeout=2)
    with pytest.raises(EtcdConnectionFailed) as err:
        alone.read('/k')
    assert 'connection cut in the middle of the answer' in str(err.value)


def test_cut_mid_answer_write_is_not_resent(fake, etcd35, key_prefix):
    cut = fake(http('200 OK', b'{"action":"set","no', length=500))
    cli = Client(host=[('127.0.0.1', cut.port), (etcd35.host, etcd35.port)], timeout=2)
    with pytest.raises(EtcdOutcomeUnknown) as err:
        cli.write(key_prefix + '/k', 'v')
    assert err.value.outcome_unknown
    assert cut.requests == 1
    # The write did not go on to the real member.
    with pytest.raises(EtcdKeyNotFound):
        Client(host=(etcd35.host, etcd35.port)).read(key_prefix + '/k')


def test_closed_without_answer_append_is_not_resent(fake, etcd35, key_prefix):
    silent = fake(b'')
    cli = Client(host=[('127.0.0.1', silent.port), (etcd35.host, etcd35.port)], timeout=2)
    with pytest.raises(EtcdOutcomeUnknown) as err:
        cli.append(key_prefix + '/queue', 'job')
    assert 'connection closed without an answer' in str(err.value)
    with pytest.raises(EtcdKeyNotFound):
        Client(host=(etcd35.host, etcd35.port)).read(key_prefix + '/queue')


class PipelineFake:
    """FAKE server for pipelined writes: on each connection, waits until ``expect`` requests have
    arrived, sends the canned ``answers`` (raw bytes) for them, then closes its side.

    A real etcd cannot be made to stop answering halfway through the requests of a connection,
    nor to answer "leader election in progress" on demand.
    """

    def __init__(self, script):
        self.script = list(script)  # per connection: (expect, answers)
        self.received = []          # request lines, in arrival order
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        script = iter(self.script)
        for expect, answers in script:
            while True:
                try:
                    conn, _peer = self.sock.accept()
                except OSError:
                    return
                conn.settimeout(5)
                data = conn.recv(65536)
                if not data.startswith(b'GET /health '):
                    break
                # The client's health check before its first write: answered, not scripted.
                with conn:
                    conn.sendall(HEALTHY)
            with conn:
                while data.count(b' HTTP/1.1\r\n') < expect:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.received.extend(line.split(b' ')[1].decode() for line in data.split(b'\r\n')
                                     if line.endswith(b' HTTP/1.1'))
                conn.sendall(answers)
                conn.shutdown(socket.SHUT_WR)
                try:
                    while conn.recv(65536):  # let the client close first: no reset, no lost answers
                        pass
                except OSError:
                    pass  # a keep-alive client that holds the connection open until the timeout

    def close(self):
        self.sock.close()


def _set(key: str, index: int) -> bytes:
    body = ('{"action":"set","node":{"key":"%s","value":"v","modifiedIndex":%d,"createdIndex":%d}}'
            % (key, index, index)).encode()
    return ('HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Etcd-Index: %d\r\n'
            'Content-Length: %d\r\n\r\n' % (index, len(body))).encode() + body


def test_connection_closed_mid_pipeline_makes_the_unanswered_writes_unknown():
    keys = ['/p/k%d' % number for number in range(5)]
    server = PipelineFake([(5, _set(keys[0], 10) + _set(keys[1], 11))])
    try:
        with pytest.raises(EtcdBulkWriteFailed) as err:
            Client(port=server.port, timeout=2).write_many([(key, 'v') for key in keys], concurrency=1, pipeline=8)
    finally:
        server.close()
    exc = err.value
    assert [result.node.key for result in exc.results[:2]] == keys[:2] and exc.results[2:] == [None] * 3
    assert [key for key, _exc in exc.failures] == keys[2:] and exc.not_sent == []
    assert all(isinstance(failure, EtcdOutcomeUnknown) for _key, failure in exc.failures)
    assert exc.outcome_unknown and '3 pipelined requests unanswered' in str(exc)
    assert server.received == ['/v2/keys' + key for key in keys]  # each sent once, none again


def test_leader_election_answer_is_sent_again_after_the_others():
    election = b'{"errorCode":301,"message":"During Leader Election","cause":"","index":0}'
    busy = ('HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n'
            % len(election)).encode() + election
    server = PipelineFake([(2, busy + _set('/p/b', 21)), (1, _set('/p/a', 22))])
    try:
        client = Client(port=server.port, timeout=2, retry_delay=0.01)
        results = client.write_many([('/p/a', 'v'), ('/p/b', 'v')], concurrency=1)
    finally:
        server.close()
    assert [(result.node.key, result.x_etcd_index) for result in results] == [('/p/a', 22), ('/p/b', 21)]
    assert server.received == ['/v2/keys/p/a', '/v2/keys/p/b', '/v2/keys/p/a']


def test_an_answer_with_connection_close_is_followed_on_a_new_connection():
    # Go's server marks answers "Connection: close" while it shuts down gracefully.
    closing = _set('/p/a', 31).replace(b'Content-Length', b'Connection: close\r\nContent-Length', 1)
    server = PipelineFake([(1, closing), (1, _set('/p/b', 32))])
    try:
        results = Client(port=server.port, timeout=2).write_many([('/p/a', 'v'), ('/p/b', 'v')], concurrency=1, pipeline=1)
    finally:
        server.close()
    assert [(result.node.key, result.x_etcd_index) for result in results] == [('/p/a', 31), ('/p/b', 32)]
    assert server.received == ['/v2/keys/p/a', '/v2/keys/p/b']
