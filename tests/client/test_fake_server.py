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
    EtcdConnectionFailed,
    EtcdInvalidResponse,
    EtcdKeyNotFound,
    EtcdOutcomeUnknown,
    EtcdV2NotEnabled,
)


class FakeServer:
    """Answers every request on a loopback port with ``reply`` (raw bytes), then closes."""

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
    assert 'connection closed before the answer was complete' in str(err.value)
    with pytest.raises(EtcdKeyNotFound):
        Client(host=(etcd35.host, etcd35.port)).read(key_prefix + '/queue')
