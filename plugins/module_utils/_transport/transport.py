# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP to etcd members, for both APIs: :class:`Transport`.

One ``requests.Session`` per transport holds the TLS settings; its urllib3 pools build the
connections. A plain request goes out on a connection the transport keeps alive itself (one
stack of idle connections per member, see ``keepalive``): the per-request machinery of
``requests`` and then of urllib3's pool request cost more time than everything else a client
does. Streamed answers (watch, keepalive, snapshot) still come through the urllib3 pool, whose
response object their readers use. Every request has a connect and a read timeout and nothing
is retried behind the caller's back, so a timeout is never silently multiplied.

Headers: only what a request needs (Host, the body's type and length, Authorization when set,
``Accept-Encoding: identity`` and a short User-Agent). etcd's gRPC gateway turns every header
into gRPC metadata, so each needless one costs etcd CPU on every request.

Failover: with ``allow_reconnect`` a member that cannot be reached is skipped and the transport
stays on the member that answered. A request that was sent and got no answer is re-sent only
when the caller says it cannot change anything (``retry_safe``, a read). A request that is not
retry-safe, and a watch, go only to a member that has answered this transport: a member not
heard from yet is asked for ``/health`` first, so one that takes connections and never answers
(frozen, cut off) costs one timeout instead of an "outcome unknown".

The transport knows nothing of /v2 or /v3: the API client gives the paths, bodies, headers and
a predicate saying which answers mean "not applied, try again in a moment" (a leader election).
"""
from __future__ import annotations

import http.client
import json
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

try:
    import requests
    import urllib3
    import urllib3.exceptions
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - exercised only where requests is missing
    HAS_REQUESTS = False

from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.endpoints import check_request_line
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.failures import (
    CLOSED,
    CUT,
    OTHER,
    READ_TIMEOUT,
    RESET,
    TLS,
    UNHEALTHY,
    UNHEALTHY_TEXT,
    Attempt,
    classify,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.keepalive import IdleConnections, NoAnswer, exchange, head_lines
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.keepalive import frame as frame_request
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.pipeline import PipelinedConnection
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    EtcdConnectionFailed,
    EtcdInvalidResponse,
    EtcdOutcomeUnknown,
    EtcdTLSError,
    EtcdWatchTimedOut,
)

FORM = 'application/x-www-form-urlencoded'
JSON = 'application/json'
# The headers every request carries. No Accept, no Connection (HTTP/1.1 keeps alive anyway):
# the gateway would pass them on as gRPC metadata. identity: the answer reader does not decompress.
BASE_HEADERS = {'User-Agent': 'pyetcd.etcd', 'Accept-Encoding': 'identity'}


class Answer:
    """What one member answered: status, headers, body text and which endpoint."""

    __slots__ = ('status', 'headers', 'text', 'endpoint')

    def __init__(self, status: int, headers: Any, text: str, endpoint: str):
        self.status = status
        self.headers = headers
        self.text = text
        self.endpoint = endpoint


def reports_healthy(answer: Answer) -> bool:
    """What a ``/health`` answer says: True only for ``"health": "true"``.

    :raises EtcdInvalidResponse: the answer is not JSON (not an etcd member).
    """
    try:
        data = json.loads(answer.text)
    except ValueError:
        raise EtcdInvalidResponse('/health answer is not JSON (HTTP %d): %.60r' % (answer.status, answer.text),
                                  endpoint=answer.endpoint) from None
    return isinstance(data, dict) and str(data.get('health')).lower() == 'true'


def says_unhealthy(text: str) -> bool:
    """True for a ``/health`` answer whose ``health`` field is false."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and str(data.get('health')).lower() == 'false'


RetryPredicate = Callable[[Answer, bool], bool]


class Transport:
    """The members of one cluster and the way to them.

    :param endpoints: base URLs (``scheme://host:port``), tried in this order.
    :param allow_reconnect: on a failure, move to the next member.
    :param timeout: ``(connect, read)`` seconds, per member and per request.
    :param ca_cert: CA bundle; ``cert``/``key`` a client certificate; ``validate_certs``.
    :param headers: headers every request carries (an ``Authorization`` header, ...).
    :param should_retry: ``(answer, retry_safe) -> bool``: the answer says the request was not
        applied and may be sent again after a short wait (a leader election).
    :param leader_retries: how often such an answer is retried; ``retry_delay`` the first wait,
        doubled each time.
    """

    def __init__(self, endpoints: List[str], *, allow_reconnect: bool = True, timeout: Tuple[float, float] = (5.0, 5.0),
                 ca_cert: Optional[str] = None, cert: Optional[str] = None, key: Optional[str] = None,
                 validate_certs: bool = True, pool_size: int = 16, headers: Optional[Dict[str, str]] = None,
                 should_retry: Optional[RetryPredicate] = None, leader_retries: int = 3, retry_delay: float = 0.2):
        if not HAS_REQUESTS:
            raise ClientException('the pyetcd client needs the Python package requests: pip install requests')
        if key and not cert:
            raise ClientException('key (client key) needs cert (client certificate) as well')
        # requests would only notice a missing file at the first request, with a bare OSError.
        for option, path in (('ca_cert', ca_cert if validate_certs else None), ('cert', cert), ('key', key)):
            if path is not None and not os.path.exists(path):
                raise ClientException('%s file %s does not exist' % (option, path))
        self._endpoints = list(endpoints)
        self.allow_reconnect = allow_reconnect
        self.timeout = timeout
        self.should_retry = should_retry
        self.leader_retries = max(0, int(leader_retries))
        self.retry_delay = float(retry_delay)
        self._lock = threading.Lock()
        self._current = 0
        # Indexes of the members that have answered; see the module docstring.
        self._confirmed: set = set()

        session = requests.Session()
        # Proxies, netrc and CA bundles from the environment stay out: the connection is what
        # the caller configured, and looking them up on every request costs time.
        session.trust_env = False
        # max_retries=0: urllib3 must not retry on its own and multiply the timeout.
        adapter = HTTPAdapter(pool_connections=max(1, len(self._endpoints)), pool_maxsize=pool_size, max_retries=0)
        session.mount('http://', adapter)
        session.mount('https://', adapter)
        session.verify = False if not validate_certs else (ca_cert if ca_cert else True)
        if cert:
            session.cert = (cert, key) if key else cert
        self.session = session
        self._adapter = adapter
        self._pools: Dict[str, Any] = {}
        # Kept-alive connections of plain requests, per member (see keepalive).
        self._idle: Dict[str, IdleConnections] = {base: IdleConnections(pool_size) for base in self._endpoints}
        self._base_headers = dict(BASE_HEADERS)
        self._base_headers.update(headers or {})
        self._by_type: Dict[Optional[str], Dict[str, str]] = {}
        self._heads: Dict[str, Dict[Optional[str], bytes]] = {}
        self._rebuild_headers()

    # -- headers ------------------------------------------------------------------------------

    def _rebuild_headers(self) -> None:
        by_type: Dict[Optional[str], Dict[str, str]] = {None: dict(self._base_headers)}
        for content_type in (FORM, JSON):
            by_type[content_type] = dict(self._base_headers, **{'Content-Type': content_type})
        # The header lines of a plain request to each member, framed once (Host first).
        heads: Dict[str, Dict[Optional[str], bytes]] = {}
        for base in self._endpoints:
            heads[base] = {kind: head_lines(urlsplit(base).netloc, fields) for kind, fields in by_type.items()}
        self._by_type = by_type
        self._heads = heads

    def set_header(self, name: str, value: Optional[str]) -> None:
        """Add (or with None remove) a header every later request carries (an auth token)."""
        with self._lock:
            if value is None:
                self._base_headers.pop(name, None)
            else:
                self._base_headers[name] = value
            self._rebuild_headers()

    def headers(self, content_type: Optional[str] = None) -> Dict[str, str]:
        """The headers of a request with this body type (built once, shared: do not change)."""
        return self._by_type[content_type]

    # -- members ------------------------------------------------------------------------------

    @property
    def endpoints(self) -> List[str]:
        """Base URLs of the members, in the order they are tried."""
        return list(self._endpoints)

    @property
    def current_endpoint(self) -> str:
        """The member the next request goes to first (the last one that answered)."""
        return self._endpoints[self._current]

    def member_order(self) -> List[int]:
        """Indexes of the members to try, the current one first (only it without allow_reconnect)."""
        count = len(self._endpoints)
        start = self._current
        return [(start + step) % count for step in range(count)] if self.allow_reconnect else [start]

    def _stay_on(self, index: int) -> None:
        """The member at ``index`` answered: it is confirmed, and later requests start there."""
        self._confirmed.add(index)
        if index != self._current:
            with self._lock:
                self._current = index

    def _move_past(self, index: int) -> None:
        """After a member did not answer, start the next request at the member after it (which
        must answer again before it gets a write)."""
        self._confirmed.discard(index)
        if self.allow_reconnect and len(self._endpoints) > 1:
            with self._lock:
                if self._current == index:
                    self._current = (index + 1) % len(self._endpoints)

    def move_past(self, base: str) -> None:
        self._move_past(self._endpoints.index(base))

    def close(self) -> None:
        """Close the kept and pooled connections (a later request opens new ones)."""
        with self._lock:
            self._pools.clear()
        for idle in self._idle.values():
            idle.close_all()
        self.session.close()

    def __enter__(self) -> 'Transport':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _pool(self, base: str) -> Any:
        """The urllib3 connection pool of the session's adapter for one endpoint, looked up once.

        The adapter picks the pool and applies the session's TLS settings (verify, ca_cert,
        client certificate) exactly as it does for its own requests.
        """
        pool = self._pools.get(base)
        if pool is None:
            verify, cert = self.session.verify, self.session.cert
            if hasattr(self._adapter, 'get_connection_with_tls_context'):  # requests >= 2.32.2
                prepared = requests.Request('GET', base + '/').prepare()
                pool = self._adapter.get_connection_with_tls_context(prepared, verify, cert=cert)
            else:  # pragma: no cover - older requests
                pool = self._adapter.get_connection(base + '/')
            self._adapter.cert_verify(pool, base + '/', verify, cert)
            with self._lock:
                self._pools[base] = pool
        return pool

    @staticmethod
    def answer(status: int, headers: Any, text: str, endpoint: str) -> Answer:
        return Answer(status, headers, text, endpoint)

    # -- one request --------------------------------------------------------------------------

    def send(self, method: str, path: str, *, query: str = '', body: Optional[bytes] = None,
             content_type: Optional[str] = None, retry_safe: bool, subject: Optional[str] = None,
             read_timeout: Optional[float] = None, watch: bool = False, only: Optional[int] = None,
             stream: bool = False) -> Answer:
        """Send one request, moving through the members as ``allow_reconnect`` permits.

        ``query`` is already URL-encoded; ``body`` bytes of ``content_type``. ``only`` sends to
        that one member and nowhere else. With ``watch`` a read timeout is "no change"
        (:class:`EtcdWatchTimedOut`). With ``stream`` the answer's ``text`` is the open urllib3
        response, for the caller to read and close.
        :raises EtcdConnectionFailed: no member answered (``attempts`` says what each did);
            :class:`EtcdTLSError` when every member failed at TLS.
        :raises EtcdOutcomeUnknown: a request that is not retry-safe was sent and no answer came.
        """
        order = [only] if only is not None else self.member_order()
        connect, read = self.timeout[0], read_timeout if read_timeout is not None else self.timeout[1]
        check_request_line(method, path, query, subject)
        target = path + '?' + query if query else path
        errors = urllib3.exceptions
        needs_confirmation = (not retry_safe or watch) and only is None
        attempts: List[Attempt] = []
        leader_tries = 0
        position = 0
        reopened = 0
        while True:
            if position >= len(order):
                if leader_tries >= self.leader_retries or not any(a.kind == UNHEALTHY for a in attempts):
                    raise self._unreachable(attempts, subject)
                # The members that answered said they cannot serve, most often for the moment
                # of a leader election: nothing was sent; wait and ask again.
                leader_tries += 1
                time.sleep(self.retry_delay * (2 ** (leader_tries - 1)))
                order, position, attempts = self.member_order(), 0, []
                continue
            index = order[position]
            base = self._endpoints[index]
            if needs_confirmation and index not in self._confirmed:
                refusal = self._confirm(index, healthy=not watch)
                if refusal is not None:
                    attempts.append(refusal)
                    position += 1
                    continue
            try:
                if stream:
                    # The stream readers use urllib3's response; straight into the session's
                    # pool with no retries and no redirects, so a timeout is never multiplied
                    # and a redirect is reported, not followed.
                    response = self._pool(base).request(method, target, body=body, headers=self._by_type[content_type],
                                                        retries=False, redirect=False,
                                                        timeout=urllib3.Timeout(connect=connect, read=read),
                                                        preload_content=False, assert_same_host=False)
                    status, answer_headers, text = response.status, response.headers, response
                else:
                    # On a kept connection; a redirect is an answer like any other (not followed).
                    status, answer_headers, data = exchange(
                        self._idle[base], self._pool(base), frame_request(self._heads[base][content_type], method,
                                                                          target, body),
                        method, connect, read, retry_safe)
                    text = data.decode('utf-8', 'replace')
            except errors.ClosedPoolError as exc:
                # close() (or the pool manager making room) closed the cached pool before
                # anything was sent: look the pool up again and retry this member.
                with self._lock:
                    self._pools.pop(base, None)
                reopened += 1
                if reopened > len(order):
                    attempts.append(classify(exc, base, connect, read).attempt(base))
                    position += 1
                continue
            except NoAnswer as lost:
                failure = classify(lost.error, base, connect, read, connected=lost.connected)
                self._no_answer(failure, index, method, retry_safe, watch, read, subject, attempts)
                position += 1
                continue
            except (errors.HTTPError, OSError, http.client.HTTPException) as exc:
                failure = classify(exc, base, connect, read)
                self._no_answer(failure, index, method, retry_safe, watch, read, subject, attempts)
                position += 1
                continue
            self._stay_on(index)
            answer = Answer(status, answer_headers, text, base)
            if self.should_retry is not None and not stream and leader_tries < self.leader_retries \
                    and self.should_retry(answer, retry_safe):
                leader_tries += 1
                time.sleep(self.retry_delay * (2 ** (leader_tries - 1)))
                continue
            return answer

    def _no_answer(self, failure: Any, index: int, method: str, retry_safe: bool, watch: bool, read: float,
                   subject: Optional[str], attempts: List[Attempt]) -> None:
        """Record a member's failure; raise when the request must not go to the next one."""
        base = self._endpoints[index]
        if watch and failure.kind == READ_TIMEOUT:
            raise EtcdWatchTimedOut('no change within %gs' % read, key=subject, endpoint=base) from None
        attempts.append(failure.attempt(base))
        if failure.sent:
            self._move_past(index)
            if not retry_safe:
                raise EtcdOutcomeUnknown('no %sanswer to a %s that was sent' % (
                    '' if failure.kind == READ_TIMEOUT else 'complete ', method), attempts, key=subject,
                    endpoint=base) from None

    def _confirm(self, index: int, healthy: bool = True) -> Optional[Attempt]:
        """Ask the member at ``index`` for ``/health``, bounded by the timeout.

        Returns None when it answered (it is then confirmed), or the :class:`Attempt` saying why
        not: it did not answer or, with ``healthy``, said it is unhealthy (no leader, no quorum,
        an alarm). Such a member gets no write. Costs one round trip per member and transport;
        a frozen member costs one timeout. A watch needs only an answer (``healthy=False``): a
        member without a leader still delivers the events once one is elected.
        """
        try:
            answer = self.send('GET', '/health', retry_safe=True, subject='/health', only=index)
        except EtcdConnectionFailed as exc:
            self._move_past(index)
            base, reason = exc.attempts[-1] if exc.attempts else (self._endpoints[index], str(exc))
            kind = getattr(exc.attempts[-1], 'kind', OTHER) if exc.attempts else OTHER
            if kind in (READ_TIMEOUT, CLOSED, CUT, RESET):
                # It took the connection but did not answer: say the write never went there.
                reason += ' (to a health check; nothing was sent to it that changes data)'
            return Attempt(base, reason, TLS if isinstance(exc, EtcdTLSError) else kind)
        if healthy and says_unhealthy(answer.text):
            self._move_past(index)
            return Attempt(answer.endpoint, '%s (/health answered HTTP %d: %.80s)'
                           % (UNHEALTHY_TEXT, answer.status, answer.text.strip()), UNHEALTHY)
        return None

    @staticmethod
    def _unreachable(attempts: List[Attempt], subject: Optional[str]) -> EtcdConnectionFailed:
        """The error when no member took the request: TLS when every attempt failed at TLS."""
        if attempts and all(getattr(a, 'kind', None) == TLS for a in attempts):
            return EtcdTLSError(None, attempts, key=subject)
        if any(getattr(a, 'kind', None) == UNHEALTHY for a in attempts):
            return EtcdConnectionFailed('no etcd member could take the request', attempts, key=subject)
        return EtcdConnectionFailed(None, attempts, key=subject)

    # -- pipelining ---------------------------------------------------------------------------

    def open_pipelined(self, subject: str, headers: Dict[str, str]) -> Tuple[PipelinedConnection, str]:
        """A new connection for pipelined requests, to the current member or, with
        ``allow_reconnect``, the next one that takes it (nothing has been sent yet)."""
        attempts: List[Attempt] = []
        for index in self.member_order():
            base = self._endpoints[index]
            if index not in self._confirmed:
                refusal = self._confirm(index)
                if refusal is not None:
                    attempts.append(refusal)
                    continue
            try:
                # The pool of the session's adapter builds the connection with the session's
                # TLS settings; it is used for pipelining and closed afterwards.
                conn = self._pool(base)._new_conn()  # pylint: disable=protected-access
                conn.timeout = self.timeout[0]
                conn.connect()
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                attempts.append(classify(exc, base, self.timeout[0], self.timeout[1]).attempt(base))
                continue
            self._stay_on(index)
            return PipelinedConnection(conn, urlsplit(base).netloc, headers, self.timeout[1]), base
        raise self._unreachable(attempts, subject)
