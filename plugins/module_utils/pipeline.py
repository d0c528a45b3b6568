# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP/1.1 pipelining on one connection, for :meth:`Client.send_many` and :meth:`Client.write_many`.

etcd's HTTP server (Go's ``net/http``) answers the requests of one connection one after the
other, in the order they came. So a writer can send the next requests before the answer to the
first has arrived, and read the answers back in order: the round trip and the per-request
framing of a client library stop being paid once per key. The connection comes from the
client's ``requests`` session (its adapter's urllib3 pool builds it with the session's TLS
settings); this module only frames requests and parses answers with the standard library's
``http.client`` parser.

Two rules keep pipelining safe:

* the bytes of requests in flight are capped (:data:`MAX_BYTES_IN_FLIGHT`), so neither side can
  block writing while the other is blocked writing too (etcd's answers echo the value, and a
  window of large values could fill both directions' socket buffers);
* when the connection breaks, every request sent on it and not answered has an unknown outcome:
  the caller reports those keys and never sends them again.
"""
from __future__ import annotations

import http.client
import io
import socket
from collections import deque
from typing import Any, Deque, Dict, List, Tuple

# At most this many request bytes are sent and unanswered on one connection (at least one
# request always is). etcd's answer to a PUT is at most about twice the request (value and
# prevNode value) plus a few hundred bytes, so the answers to a full window fit in a socket
# receive buffer (Linux starts at 128 KiB) and etcd is never blocked writing them.
MAX_BYTES_IN_FLIGHT = 16 * 1024


class _Reader(io.BufferedReader):
    """One buffered reader for every answer on the connection.

    ``http.client.HTTPResponse`` makes a reader per answer and closes it when the answer has
    been read; the bytes of the next answers may already be in its buffer, so all answers share
    this one, which ignores close.
    """

    def close(self) -> None:
        return None


class _SocketShim:
    """What ``http.client.HTTPResponse`` needs of a socket: ``makefile``."""

    __slots__ = ('reader',)

    def __init__(self, reader: _Reader):
        self.reader = reader

    def makefile(self, *_args: Any, **_kwargs: Any) -> _Reader:
        return self.reader


class PipelinedConnection:
    """Requests sent ahead on one connected urllib3 connection, answers read in order.

    ``conn`` must be connected; ``host_header`` is the ``Host`` value, ``headers`` the other
    request headers every request carries (with ``Content-Type`` for the form bodies).
    """

    def __init__(self, conn: Any, host_header: str, headers: Dict[str, str], read_timeout: float):
        self.conn = conn
        sock = conn.sock
        sock.settimeout(read_timeout)
        self._sock = sock
        self._shim = _SocketShim(_Reader(socket.SocketIO(sock, 'rb'), 64 * 1024))
        lines = ['Host: %s\r\n' % host_header]
        for name, value in headers.items():
            if name.lower() in ('host', 'content-length', 'accept-encoding'):
                continue
            lines.append('%s: %s\r\n' % (name, value))
        # The answers are read by http.client, which does not decompress.
        lines.append('Accept-Encoding: identity\r\n')
        self._headers = ''.join(lines)
        self.in_flight: Deque[Tuple[int, int]] = deque()  # (job id, request bytes)
        self.bytes_in_flight = 0
        self.closing = False

    def frame(self, method: str, path: str, body: bytes) -> bytes:
        """The bytes of one request (path already URL-encoded, body form-encoded ASCII)."""
        head = '%s %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n' % (method, path, self._headers, len(body))
        return head.encode('ascii') + body

    def send(self, batch: List[Tuple[int, bytes]]) -> None:
        """Send ``(job id, request bytes)`` pairs in one write; they count as in flight at once,
        so when the write fails the caller knows each of them may have reached etcd."""
        for job, payload in batch:
            self.in_flight.append((job, len(payload)))
            self.bytes_in_flight += len(payload)
        self._sock.sendall(b''.join(payload for _job, payload in batch))

    def receive(self) -> Tuple[int, int, Any, str]:
        """Read the next answer: ``(job id, status, headers, body text)``.

        :raises OSError, http.client.HTTPException: the connection broke or timed out; every
            job still in :attr:`in_flight` (including this one) has an unknown outcome.
        """
        job, size = self.in_flight[0]
        response = http.client.HTTPResponse(self._shim)  # type: ignore[arg-type]
        response.begin()
        body = response.read()
        self.in_flight.popleft()
        self.bytes_in_flight -= size
        if response.will_close:
            # etcd closes after this answer: the requests sent behind it get none.
            self.closing = True
        return job, response.status, response.msg, body.decode('utf-8', 'replace')

    def unanswered(self) -> List[int]:
        """The job ids sent on this connection that got no answer (yet)."""
        return [job for job, _size in self.in_flight]

    def close(self) -> None:
        try:
            self.conn.close()
        except OSError:  # pragma: no cover - closing a broken socket
            pass
