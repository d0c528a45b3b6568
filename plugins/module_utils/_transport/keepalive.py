# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kept-alive connections for single requests: :class:`IdleConnections` and :func:`exchange`.

urllib3's per-request ``HTTPConnectionPool`` call spent more CPU per request than everything else the client does (its
pool queue, locks, Retry and Timeout objects, response wrapping and header handling), for
features the transport never uses: it retries nothing, follows no redirect and reads every
answer whole. So a plain request is framed here once, written with one ``sendall`` and its
answer read by ``http1.AnswerReader``, on a connection the
session's urllib3 pool built (``_new_conn``), so TLS (verify, ca_cert, client certificate) is
exactly the session's.

Stale connections: a member may close a kept connection while it is idle (a restart, a
graceful shutdown). Before reuse, an idle connection is checked without blocking: a readable
idle socket means the member closed it (or sent bytes nobody asked for), and it is dropped
unused. That leaves a race: the member may close it after the check, while the request is on
its way. Then the request gets no answer; a read (``retry_safe``) is sent once more on a new
connection, a write keeps its honest "outcome unknown" (etcd may have applied it before
closing), as any other write that got no answer does.
"""
from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.http1 import AnswerReader

try:
    import urllib3.exceptions
except ImportError:  # pragma: no cover - the transport refuses to start without requests/urllib3
    pass

# Errors that, on a reused connection and before any byte of the answer, mean the member had
# closed the connection: the request did not reach a live server.
STALE_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError,
                ssl.SSLEOFError, ssl.SSLZeroReturnError)
# Methods whose request carries a Content-Length even without a body (as http.client does).
_WITH_LENGTH = frozenset(('POST', 'PUT', 'PATCH'))


class NoAnswer(Exception):
    """The exchange failed: ``error`` (for ``failures.classify``) and ``connected`` (False
    while connecting or in the TLS handshake: nothing was sent)."""

    def __init__(self, error: BaseException, connected: bool):
        super().__init__(error)
        self.error = error
        self.connected = connected


if hasattr(select, 'poll'):
    def _readable(sock: Any) -> bool:
        # poll, not select: select fails on descriptors above FD_SETSIZE.
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
else:  # pragma: no cover - platforms without poll
    def _readable(sock: Any) -> bool:
        return bool(select.select([sock], [], [], 0)[0])


def dropped(conn: Any) -> bool:
    """True when an idle kept connection must not carry a request: it is closed, the member
    closed it (end of file is readable), or there are bytes no request asked for."""
    sock = getattr(conn, 'sock', None)
    if sock is None:
        return True
    try:
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        return _readable(sock)
    except (OSError, ValueError):
        return True


def close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except OSError:  # pragma: no cover - closing a broken socket
        pass


class IdleConnections:
    """The idle kept-alive connections to one member: a stack (the most recently used one is
    reused first, it is the least likely to have been closed), at most ``limit`` of them.

    Each thread takes its own connection and gives it back when its answer has been read;
    :meth:`close_all` closes the idle ones, and the ones in use are closed when given back.
    """

    __slots__ = ('_lock', '_idle', '_limit', '_generation')

    def __init__(self, limit: int):
        self._lock = threading.Lock()
        self._idle: List[Any] = []
        self._limit = max(1, int(limit))
        self._generation = 0

    def take(self) -> Tuple[Optional[Any], int]:
        """An idle connection that still looks usable (or None) and the generation to give it
        back with."""
        while True:
            with self._lock:
                generation = self._generation
                if not self._idle:
                    return None, generation
                conn = self._idle.pop()
            # Checked outside the lock: other threads need not wait for a poll.
            if not dropped(conn):
                return conn, generation
            close_quietly(conn)

    def generation(self) -> int:
        return self._generation

    def give(self, conn: Any, generation: int) -> None:
        """Keep ``conn`` for the next request, unless :meth:`close_all` ran since it was taken
        or enough connections are idle already."""
        with self._lock:
            if generation == self._generation and len(self._idle) < self._limit:
                self._idle.append(conn)
                return
        close_quietly(conn)

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for conn in idle:
            close_quietly(conn)

    def __len__(self) -> int:
        return len(self._idle)


def head_lines(host: str, headers: Dict[str, str]) -> bytes:
    """The encoded header lines every request to ``host`` carries: ``Host`` first, then
    ``headers`` less those framed per request (Content-Length), ending with
    ``Accept-Encoding: identity``: answers are read by ``http1.AnswerReader``, which does not
    decompress."""
    lines = ['Host: %s\r\n' % host]
    lines.extend('%s: %s\r\n' % (name, value) for name, value in headers.items()
                 if name.lower() not in ('host', 'content-length', 'accept-encoding'))
    lines.append('Accept-Encoding: identity\r\n')
    return ''.join(lines).encode('latin-1')


def frame(head: bytes, method: str, target: str, body: Optional[bytes]) -> bytes:
    """The bytes of one request: ``head`` holds the header lines (Host first), already encoded."""
    line = ('%s %s HTTP/1.1\r\n' % (method, target)).encode('ascii')
    if body is None:
        if method in _WITH_LENGTH:
            return line + head + b'Content-Length: 0\r\n\r\n'
        return line + head + b'\r\n'
    return b''.join((line, head, b'Content-Length: %d\r\n\r\n' % len(body), body))


def _broken(exc: BaseException, answering: bool) -> BaseException:
    """``exc`` as urllib3's pool reported it, so that ``classify`` says exactly what it said
    before: timeouts and TLS alerts as they are, anything else a ProtocolError. A TLS end of
    file after the request went out is the connection closing, not a TLS failure."""
    if isinstance(exc, socket.timeout) or (isinstance(exc, ssl.SSLError) and not isinstance(exc, STALE_ERRORS)):
        return exc
    if answering:
        return urllib3.exceptions.ProtocolError('Connection broken: %r' % (exc,), exc)
    return urllib3.exceptions.ProtocolError('Connection aborted.', exc)


def exchange(idle: IdleConnections, pool: Any, request: bytes, method: str, connect: float, read: float,
             retry_safe: bool) -> Tuple[int, Any, bytes]:
    """Send ``request`` on a kept connection (or a new one from ``pool``) and read the whole
    answer: ``(status, headers, body)``. The connection is kept unless the answer says
    ``Connection: close`` (or the exchange failed).

    A reused connection found closed before any byte of the answer came is a stale keep-alive:
    a ``retry_safe`` request is sent once more on a new connection; any other is reported.
    :raises NoAnswer: connecting, sending or reading failed.
    """
    fresh_only = False
    while True:
        if fresh_only:
            conn, generation = None, idle.generation()
        else:
            conn, generation = idle.take()
        reused = conn is not None
        if conn is None:
            conn = pool._new_conn()  # pylint: disable=protected-access
            conn.timeout = connect
            try:
                conn.connect()
                # What the pool does before a request on an HTTPS connection: warn when the
                # certificate was not verified (validate_certs=False). Once per connection.
                pool._validate_conn(conn)  # pylint: disable=protected-access
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                close_quietly(conn)
                raise NoAnswer(exc, connected=False) from None
        # The pool's counter, which tests and callers read to count requests per connection.
        pool.num_requests += 1
        reader = None
        try:
            sock = conn.sock
            if sock.gettimeout() != read:
                sock.settimeout(read)
            sock.sendall(request)
            reader = AnswerReader(sock)
            status, headers, data, will_close = reader.read(method)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            close_quietly(conn)
            answering = reader is not None and reader.started
            if reused and not answering and retry_safe and isinstance(exc, STALE_ERRORS):
                fresh_only = True
                continue
            raise NoAnswer(_broken(exc, answering), connected=True) from None
        if will_close or reader.leftover:
            # Bytes after the answer were asked for by nobody: the connection is not trusted.
            close_quietly(conn)
        else:
            idle.give(conn, generation)
        return status, headers, data
