# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP/1.1 pipelining: :class:`PipelinedConnection` (one connection) and :class:`PipelinedBatch`
(many requests on several such connections), behind ``write_many``/``send_many`` of the v2
client and the batched writes of the v3 client.

etcd's HTTP server (Go's ``net/http``) answers the requests of one connection one after the
other, in the order they came. So a writer can send the next requests before the answer to the
first has arrived, and read the answers back in order: the round trip and the per-request
framing of a client library stop being paid once per key. The connection comes from the
client's ``requests`` session (its adapter's urllib3 pool builds it with the session's TLS
settings); this module only frames requests, and ``http1.AnswerReader`` reads the answers
back to back from one buffer.

Two rules keep pipelining safe:

* the bytes of requests in flight are capped (:data:`MAX_BYTES_IN_FLIGHT`), so neither side can
  block writing while the other is blocked writing too (etcd's answers echo the value, and a
  window of large values could fill both directions' socket buffers);
* when the connection breaks, every request sent on it and not answered has an unknown outcome:
  the caller reports those keys and never sends them again.
"""
from __future__ import annotations

import http.client
import threading
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Sequence, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    EtcdBulkWriteFailed,
    EtcdException,
    EtcdOutcomeUnknown,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.failures import classify
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.http1 import AnswerReader
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.keepalive import frame as frame_request, head_lines

# At most this many request bytes are sent and unanswered on one connection (at least one
# request always is). etcd's answer to a PUT is at most about twice the request (value and
# prevNode value) plus a few hundred bytes, so the answers to a full window fit in a socket
# receive buffer (Linux starts at 128 KiB) and etcd is never blocked writing them.
MAX_BYTES_IN_FLIGHT = 16 * 1024


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
        self._reader = AnswerReader(sock)
        self._head = head_lines(host_header, headers)
        self.in_flight: Deque[Tuple[int, int]] = deque()  # (job id, request bytes)
        self.bytes_in_flight = 0
        self.closing = False

    def frame(self, method: str, path: str, body: bytes) -> bytes:
        """The bytes of one request (path already URL-encoded, body already encoded)."""
        return frame_request(self._head, method, path, body)

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
        # No pipelined request is a HEAD: every answer may have a body.
        status, headers, body, will_close = self._reader.read()
        self.in_flight.popleft()
        self.bytes_in_flight -= size
        if will_close:
            # etcd closes after this answer: the requests sent behind it get none.
            self.closing = True
        return job, status, headers, body.decode('utf-8', 'replace')

    def unanswered(self) -> List[int]:
        """The job ids sent on this connection that got no answer (yet)."""
        return [job for job, _size in self.in_flight]

    def close(self) -> None:
        try:
            self.conn.close()
        except OSError:  # pragma: no cover - closing a broken socket
            pass


def check_batch_shape(concurrency: Any, pipeline: Any) -> None:
    """``concurrency`` connections with up to ``pipeline`` requests in flight on each: whole
    numbers >= 1, checked before anything is sent.
    :raises ClientException: naming the argument."""
    for name, number in (('concurrency', concurrency), ('pipeline', pipeline)):
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ClientException('%s must be a whole number >= 1, got %r' % (name, number))


class Job:
    """One request of a batch: ``method``, ``subject`` (the key it is about, for messages),
    ``target`` (path and query, URL-encoded) and ``body`` (bytes)."""

    __slots__ = ('method', 'subject', 'target', 'body')

    def __init__(self, method: str, subject: str, target: str, body: bytes):
        self.method = method
        self.subject = subject
        self.target = target
        self.body = body


class PipelinedBatch:
    """Send ``jobs`` on up to ``concurrency`` pipelined connections of ``transport``.

    Each connection carries up to ``pipeline`` requests in flight (and at most
    :data:`MAX_BYTES_IN_FLIGHT` of them). The API client gives three callbacks:

    * ``parse(answer, position)`` turns an answer into the job's result or raises the API's
      exception;
    * ``later(exc)`` says a refused job was not applied and may be sent again at the end (a
      leader election);
    * ``send_one(position)`` sends one such job again on its own, with the client's own
      retries.

    After the first failure no job is started; a connection that breaks leaves every job sent
    on it without an answer "outcome unknown", never sent again. :meth:`run` returns the
    results in job order or raises :class:`EtcdBulkWriteFailed`.
    """

    def __init__(self, transport: Any, jobs: Sequence[Job], *, concurrency: int, pipeline: int,
                 headers: Dict[str, str], parse: Callable[[Any, int], Any], later: Callable[[Exception], bool],
                 send_one: Callable[[int], Any]):
        self.transport = transport
        self.jobs = list(jobs)
        self.concurrency = concurrency
        self.pipeline = pipeline
        self.headers = headers
        self.parse = parse
        self.later = later
        self.send_one = send_one
        self.results: List[Any] = [None] * len(self.jobs)
        self.failures: Dict[int, Exception] = {}
        self.redo: List[Tuple[int, Exception]] = []
        self.next = 0
        self.stop = False
        self._lock = threading.Lock()

    def run(self) -> List[Any]:
        total = len(self.jobs)
        workers = [threading.Thread(target=self._work, name='etcd-pipelined-%d' % number, daemon=True)
                   for number in range(min(self.concurrency, total) - 1)]
        for worker in workers:
            worker.start()
        self._work()  # the calling thread sends too
        for worker in workers:
            worker.join()
        for position, refusal in sorted(self.redo, key=lambda item: item[0]):
            # Refused before it was applied: sent again on its own, which waits and retries,
            # unless another request has failed meanwhile.
            if self.stop:
                self._fail(position, refusal)
                continue
            try:
                self.results[position] = self.send_one(position)
            except EtcdException as exc:
                self._fail(position, exc)
        if self.failures:
            subjects = [job.subject for job in self.jobs]
            failed = [(subjects[position], self.failures[position]) for position in sorted(self.failures)]
            raise EtcdBulkWriteFailed(results=self.results, failures=failed, not_sent=subjects[self.next:],
                                      key=failed[0][0])
        return self.results

    def _fail(self, position: int, exc: Exception) -> None:
        with self._lock:
            self.failures[position] = exc
            self.stop = True

    def _take(self, connection: PipelinedConnection) -> List[int]:
        """The next jobs for ``connection``: as many as its window allows."""
        batch: List[int] = []
        pending = connection.bytes_in_flight
        total = len(self.jobs)
        with self._lock:
            while not self.stop and self.next < total and len(connection.in_flight) + len(batch) < self.pipeline \
                    and (not (connection.in_flight or batch) or pending < MAX_BYTES_IN_FLIGHT):
                batch.append(self.next)
                job = self.jobs[self.next]
                pending += len(job.target) + len(job.body) + 300
                self.next += 1
        return batch

    def _work(self) -> None:
        # A connection that etcd closes politely ("Connection: close", as a member shutting
        # down does) is replaced; one that breaks ends this worker (see _lost).
        while self._connection_share():
            pass

    def _connection_share(self) -> bool:
        """One connection's share of the jobs; True when etcd closed it and jobs remain."""
        with self._lock:
            if self.stop or self.next >= len(self.jobs):
                return False
            first = self.jobs[self.next].subject
        try:
            connection, base = self.transport.open_pipelined(first, self.headers)
        except EtcdException as exc:
            # No member took a connection: the job this connection would have started with
            # carries the error, and nothing more is started.
            with self._lock:
                if self.next < len(self.jobs) and not self.stop:
                    exc.key = self.jobs[self.next].subject
                    self.failures[self.next] = exc
                    self.next += 1
                    self.stop = True
            return False
        try:
            return self._pump(connection, base)
        finally:
            connection.close()

    def _pump(self, connection: PipelinedConnection, base: str) -> bool:
        jobs = self.jobs
        while True:
            # Refill when half the window is answered: fewer, larger writes.
            if not connection.closing and len(connection.in_flight) <= self.pipeline // 2:
                batch = self._take(connection)
                if batch:
                    try:
                        connection.send([(job, connection.frame(jobs[job].method, jobs[job].target, jobs[job].body))
                                         for job in batch])
                    except OSError as exc:
                        self._lost(connection, base, exc)
                        return False
            if not connection.in_flight:
                return connection.closing
            try:
                position, status, headers, text = connection.receive()
            except (OSError, ValueError, http.client.HTTPException) as exc:
                self._lost(connection, base, exc)
                return False
            try:
                self.results[position] = self.parse(self.transport.answer(status, headers, text, base), position)
            except EtcdException as exc:
                if self.later(exc):
                    with self._lock:
                        self.redo.append((position, exc))
                else:
                    self._fail(position, exc)

    def _lost(self, connection: PipelinedConnection, base: str, exc: BaseException) -> None:
        """The connection broke: each job sent on it without an answer may have been applied."""
        failure = classify(exc, base, self.transport.timeout[0], self.transport.timeout[1], connected=True)
        lost_jobs = connection.unanswered()  # never empty: a send or a read was under way
        self.transport.move_past(base)
        for position in lost_jobs:
            self._fail(position, EtcdOutcomeUnknown(
                'no answer to a %s that was sent (%d pipelined requests unanswered)' % (self.jobs[position].method, len(lost_jobs)),
                [failure.attempt(base)], key=self.jobs[position].subject, endpoint=base))
