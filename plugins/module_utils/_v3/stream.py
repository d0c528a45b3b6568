# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calls that stay open: streamed answers (watch, lease keepalive) and unary calls that wait
(a lock), for the mixins of :class:`~plugins.module_utils.pyetcd3.Etcd3Client`.

:class:`Etcd3Base.call` reads a whole answer within the client's read timeout, and treats a
write that got no answer as "outcome unknown". These calls need two other things:

* a streamed answer (newline-delimited ``{"result": ...}`` objects) read line by line while it
  is still coming, each line within a deadline the caller chooses: :class:`LineStream`;
* a wait longer than the read timeout where running out of time means "not yet", not "the
  request may or may not have been applied": they are sent with the transport's ``watch``
  flag, so they go only to a member that answered ``/health`` (a frozen member costs one health
  check, not the wait) and a read timeout becomes :class:`EtcdWatchTimedOut`.

Auth is handled as in ``call``: a token is fetched before the first request, and a request
refused for a missing or stale token is sent once more after authenticating again.
"""
from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any, Dict, Optional

try:
    import urllib3.exceptions
except ImportError:  # pragma: no cover - Etcd3Base refuses to start without requests/urllib3
    pass

from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.transport import JSON, Answer
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.answers import parse_answer, parse_stream_line
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    EtcdUnauthenticated,
    EtcdUnavailable,
    EtcdWatchTimedOut,
)

# The read timeout of a wait "as long as it takes" (a lock without timeout): ten years.
WAIT_FOREVER = 10 * 365 * 24 * 3600.0
_READ_SIZE = 65536


class LineStream:
    """An open streamed answer of the gateway, read one result object at a time.

    Lines are split on ``\\n`` whatever the HTTP chunks are (a large message may come as JSON
    plus a separate chunk holding only the newline). :meth:`close` closes the connection; it is
    never put back into the pool half-read.
    """

    def __init__(self, response: Any, endpoint: str, subject: Optional[str] = None):
        self._response = response
        self.endpoint = endpoint
        self.subject = subject
        self._buffer = b''
        self._eof = False
        self.closed = False

    def _set_timeout(self, seconds: Optional[float]) -> None:
        connection = getattr(self._response, 'connection', None)
        sock = getattr(connection, 'sock', None)
        if sock is not None:
            sock.settimeout(seconds)

    def _line(self, deadline: Optional[float]) -> Optional[bytes]:
        """The next line (without ``\\n``), or None once the stream has ended."""
        while b'\n' not in self._buffer:
            if self._eof or self.closed:
                rest, self._buffer = self._buffer, b''
                return rest if rest.strip() else None
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise EtcdWatchTimedOut('nothing came within the timeout', key=self.subject, endpoint=self.endpoint)
            if left is not None:
                self._set_timeout(left)
            try:
                chunk = self._response.read1(_READ_SIZE)
            except (urllib3.exceptions.ReadTimeoutError, socket.timeout):
                raise EtcdWatchTimedOut('nothing came within the timeout', key=self.subject,
                                        endpoint=self.endpoint) from None
            except (urllib3.exceptions.HTTPError, OSError, http.client.HTTPException, ValueError) as exc:
                # ValueError: http.client reading a response whose connection was closed.
                raise EtcdUnavailable('the stream from %s broke off: %s' % (self.endpoint, exc), key=self.subject,
                                      endpoint=self.endpoint) from None
            if not chunk:
                self._eof = True
            self._buffer += chunk
        line, _sep, self._buffer = self._buffer.partition(b'\n')
        return line

    def read_result(self, deadline: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """The next ``result`` object, or None when the stream has ended.

        ``deadline`` is a :func:`time.monotonic` time (None: each read waits up to the read
        timeout the stream was opened with).
        :raises EtcdWatchTimedOut: nothing complete came before ``deadline`` (the stream is then
            unusable: close it).
        :raises Etcd3Exception: an in-stream ``{"error": ...}`` (see ``parse_stream_line``);
            :class:`EtcdUnavailable` when the connection broke off.
        """
        while True:
            line = self._line(deadline)
            if line is None:
                return None
            result = parse_stream_line(line, self.endpoint, self.subject)
            if result is not None:
                return result

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self.closed:
            return
        self.closed = True
        try:
            self._response.close()
            self._response.release_conn()
        except (urllib3.exceptions.HTTPError, OSError, http.client.HTTPException):
            pass


class StreamCalls:
    """``call_stream`` and ``call_waiting``, shared by the lease, watch and lock mixins."""

    def _send_authenticated(self, method: str, body: Dict[str, Any], *, write: bool, watch: bool, stream: bool,
                            subject: Optional[str], read_timeout: Optional[float]) -> Any:
        """Send and return ``(answer, parsed)``: for a stream the 2xx :class:`Answer` with an
        open response and None, else the answer and its JSON. Error answers raise."""
        self.ensure_token()
        data = json.dumps(body).encode('ascii')
        for attempt in (1, 2):
            token = self._token
            answer: Answer = self._transport.send('POST', self.api_prefix + method, body=data, content_type=JSON,
                                                  retry_safe=not write, subject=subject, read_timeout=read_timeout,
                                                  watch=watch, stream=stream)
            text = answer.text
            if stream:
                if 200 <= answer.status < 300:
                    return answer, None
                try:
                    text = answer.text.data
                finally:
                    answer.text.release_conn()
            try:
                return answer, parse_answer(answer.status, text, answer.endpoint, subject, write=write)
            except EtcdUnauthenticated:
                if not self.username or attempt == 2:
                    raise
                # Missing, expired or outdated token: etcd refused before doing anything.
                self._authenticate(stale=token)
        raise AssertionError('unreachable')  # pragma: no cover

    def renew_token(self, stale: Optional[str]) -> bool:
        """Authenticate again after a stream refused ``stale`` (the token it was opened with);
        False when the client has no user (nothing to renew)."""
        if not self.username:
            return False
        self._authenticate(stale=stale)
        return True

    @property
    def auth_token(self) -> Optional[str]:
        """The token requests carry now (None without auth)."""
        return self._token

    def call_stream(self, method: str, body: Dict[str, Any], *, subject: Optional[str] = None,
                    read_timeout: Optional[float] = None, watch: bool = False) -> LineStream:
        """POST ``body`` to ``<prefix><method>`` and return the open streamed answer.

        Sent as a read (it may go to another member when one does not answer). ``read_timeout``
        bounds the wait for the answer to start; with ``watch`` it goes only to a member that
        answered and running out of time raises :class:`EtcdWatchTimedOut`.
        :raises Etcd3Exception: etcd refused the call (an error answer before the stream).
        """
        answer, _data = self._send_authenticated(method, body, write=False, watch=watch, stream=True, subject=subject,
                                                 read_timeout=read_timeout)
        return LineStream(answer.text, answer.endpoint, subject)

    def call_waiting(self, method: str, body: Dict[str, Any], *, write: bool, timeout: Optional[float],
                     subject: Optional[str] = None) -> Dict[str, Any]:
        """POST ``body`` and wait up to ``timeout`` seconds (None: as long as it takes) for the answer.

        Goes only to a member that answered ``/health``.
        :raises EtcdWatchTimedOut: no answer within ``timeout`` (the connection is closed, which
            makes the gateway cancel the call).
        :raises Etcd3Exception: what etcd answered.
        """
        read_timeout = WAIT_FOREVER if timeout is None else timeout
        return self._send_authenticated(method, body, write=write, watch=True, stream=False, subject=subject,
                                        read_timeout=read_timeout)[1]
