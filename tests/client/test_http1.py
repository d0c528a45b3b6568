"""The HTTP/1.1 answer reader (``_transport/http1.py``), fed raw bytes through a socket pair.

What is fed here is what a real etcd never sends (folded header lines, HTTP/1.0, a body cut
short, chunk extensions and trailers, answers split into one-byte pieces): the reader's
handling of those is tested here, byte for byte. Its reading of what etcd does send (Go's
Content-Length and chunked answers, pipelined answers back to back) is tested by every test
that talks to a real etcd.
"""
from __future__ import annotations

import http.client
import socket
import threading

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.http1 import AnswerHeaders, AnswerReader, parse_head


def _reader(data: bytes, close: bool = True, pieces: int = 0):
    """An AnswerReader on one end of a socket pair; ``data`` is written to the other end
    (in pieces of ``pieces`` bytes when given), which is then closed unless ``close`` is False."""
    ours, theirs = socket.socketpair()
    ours.settimeout(2)

    def feed():
        try:
            for start in range(0, len(data), pieces or len(data) or 1):
                theirs.sendall(data[start:start + (pieces or len(data))])
        except OSError:
            pass  # the reader gave up (a header section without end) and its socket is gone
        if close:
            theirs.close()

    threading.Thread(target=feed, daemon=True).start()
    return AnswerReader(ours), theirs


ETCD_LIKE = (b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nGrpc-Metadata-Content-Type: application/grpc\r\n'
             b'Date: Fri, 04 Dec 2026 01:00:00 GMT\r\nContent-Length: 13\r\n\r\n{"count":"1"}')


def test_content_length_answer_and_case_insensitive_headers():
    reader, _peer = _reader(ETCD_LIKE, close=False)
    status, headers, body, will_close = reader.read('POST')
    assert (status, body, will_close) == (200, b'{"count":"1"}', False)
    assert headers['content-type'] == headers.get('CONTENT-TYPE') == 'application/json'
    assert 'grpc-metadata-content-type' in headers and 'X-Missing' not in headers
    assert headers.get('X-Missing', 'none') == 'none'
    # dict() keeps the names as the server wrote them (EtcdResult copies headers that way).
    assert list(dict(headers)) == ['Content-Type', 'Grpc-Metadata-Content-Type', 'Date', 'Content-Length']
    assert not reader.leftover


def test_answers_back_to_back_split_into_single_bytes():
    chunked = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\nX-Trailer: t\r\n\r\n'
    reader, _peer = _reader(ETCD_LIKE + chunked + ETCD_LIKE, pieces=1)
    assert reader.read()[2] == b'{"count":"1"}'
    assert reader.read()[2] == b'abcdefg'
    assert reader.read()[2] == b'{"count":"1"}'
    with pytest.raises(http.client.RemoteDisconnected):
        reader.read()  # closed after the third answer, before any byte of a fourth


def test_large_body_is_read_whole():
    body = b'x' * (3 * 1024 * 1024 + 7)
    head = b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n' % len(body)
    ours, theirs = socket.socketpair()
    ours.settimeout(5)
    thread = threading.Thread(target=lambda: (theirs.sendall(head + body), theirs.close()), daemon=True)
    thread.start()
    assert AnswerReader(ours).read()[2] == body
    thread.join(5)


def test_connection_close_http10_and_body_until_close():
    reader, _peer = _reader(b'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok')
    assert reader.read()[3] is True
    reader, _peer = _reader(b'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok')
    assert reader.read()[3] is True
    reader, _peer = _reader(b'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok', close=False)
    assert reader.read()[3] is False
    reader, _peer = _reader(b'HTTP/1.1 200 OK\r\n\r\nall of it, up to the close')
    assert reader.read()[2:] == (b'all of it, up to the close', True)


def test_no_body_for_head_204_304_and_informational_answers_skipped():
    reader, _peer = _reader(b'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n', close=False)
    assert reader.read()[:3:2] == (204, b'')
    assert reader.read()[:3:2] == (304, b'')
    reader, _peer = _reader(b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', close=False)
    assert reader.read('HEAD')[2] == b''
    reader, _peer = _reader(b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n1', close=False)
    assert reader.read()[:3:2] == (201, b'1')


def test_bare_line_feeds_folded_and_repeated_fields():
    reader, _peer = _reader(b'HTTP/1.1 200 OK\nX-A: one\n  two\nX-B: 1\nX-B: 2\nContent-Length: 2\n\nok', close=False)
    status, headers, body, _close = reader.read()
    assert (status, body, headers['X-A'], headers['x-b']) == (200, b'ok', 'one two', '1, 2')


@pytest.mark.parametrize('data, error', [
    (b'', http.client.RemoteDisconnected),
    (b'HTTP/1.1 200 OK\r\nContent-Le', http.client.IncompleteRead),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort', http.client.IncompleteRead),
    (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', http.client.IncompleteRead),
    (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', http.client.IncompleteRead),
    (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n', http.client.IncompleteRead),
    (b'<html>not http</html>\r\n\r\n', http.client.BadStatusLine),
    (b'HTTP/1.1 2x0 OK\r\n\r\n', http.client.BadStatusLine),
    (b'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', http.client.HTTPException),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx', http.client.HTTPException),
    (b'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nx', http.client.HTTPException),
])
def test_broken_answers_raise_what_http_client_raises(data, error):
    reader, _peer = _reader(data)
    with pytest.raises(error):
        reader.read()


def test_header_section_without_end_is_refused():
    reader, _peer = _reader(b'HTTP/1.1 200 OK\r\n' + b'X: y\r\n' * 1200000)
    with pytest.raises(http.client.HTTPException, match='bytes of header lines'):
        reader.read()


def test_too_many_header_lines():
    with pytest.raises(http.client.HTTPException, match='more than 100 headers'):
        parse_head('HTTP/1.1 200 OK' + '\r\nX: y' * 101)


def test_started_says_whether_the_header_section_had_arrived():
    reader, _peer = _reader(b'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ncut')
    with pytest.raises(http.client.IncompleteRead):
        reader.read()
    assert reader.started
    reader, _peer = _reader(b'HTTP/1.1 200')
    with pytest.raises(http.client.IncompleteRead):
        reader.read()
    assert not reader.started


def test_answer_headers_is_a_dict_of_the_names_as_sent():
    headers = AnswerHeaders({'X-Etcd-Index': '7'})
    assert headers['x-etcd-index'] == '7' and dict(headers) == {'X-Etcd-Index': '7'}
    with pytest.raises(KeyError):
        headers['X-Raft-Index']  # pylint: disable=pointless-statement
