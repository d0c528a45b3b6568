# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The etcd v2 client: :class:`Client`.

One ``requests.Session`` per client, shared safely by threads: it owns the keep-alive connection
pools and the TLS settings, and requests go out through its urllib3 pools directly (the
per-request machinery of ``requests`` cost more time than everything else the client does).
Every request has a connect and a read timeout. With ``allow_reconnect`` a member that cannot
be reached is skipped and the client stays on the member that answered; a request that was sent
and got no answer is re-sent only when it cannot change anything (a read): a write in that
state raises :class:`EtcdOutcomeUnknown`. Leader-election errors are retried a few times with a
short backoff. urllib3's own retries are off, so a timeout is never silently multiplied.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import re
import socket
import ssl
import threading
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlencode, urlsplit

try:
    import requests
    import urllib3
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised only where requests is missing
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = _exc

from ansible_collections.pyetcd.etcd.plugins.module_utils.discovery import srv_endpoints
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (  # noqa: F401 pylint: disable=unused-import
    ClientException,
    EtcdBulkWriteFailed,
    EtcdConnectionFailed,
    EtcdEmptyResponse,
    EtcdException,
    EtcdInvalidResponse,
    EtcdLeaderElect,
    EtcdNotFile,
    EtcdOutcomeUnknown,
    EtcdRaftInternal,
    EtcdTLSError,
    EtcdV2NotEnabled,
    EtcdWatchTimedOut,
    exception_for,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.pipeline import MAX_BYTES_IN_FLIGHT, PipelinedConnection
from ansible_collections.pyetcd.etcd.plugins.module_utils.result import EtcdResult

DEFAULT_TIMEOUT = 5.0
# etcd serves HTTP and gRPC on one port through cmux, which reads at most 4096 bytes to find
# the request line of a new connection and closes the connection when that is not enough.
MAX_REQUEST_LINE = 4096
DEFAULT_WATCH_TIMEOUT = 60.0
HostSpec = Union[str, Tuple[str, int], Sequence[Union[str, Tuple[str, int]]]]

# A plain-http etcd port answers a TLS hello by closing the connection.
_HANDSHAKE_CLOSED = 'TLS: connection closed during the handshake (does this port speak plain http?)'
_UNHEALTHY = 'reports itself unhealthy'
_SSL_REASON = re.compile(r'\[SSL: ([A-Z0-9_]+)\] ([^(\')"]+)')


def _bool(value: bool) -> str:
    return 'true' if value else 'false'


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ClientException('%s must be true or false, got %r' % (name, value))


def _check_ttl(ttl: Any, name: str = 'ttl') -> Optional[int]:
    """A TTL is a whole number of seconds >= 1, or None for no expiry.

    ttl=0 is refused: etcd would expire the key at once, and older clients silently drop it.
    """
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int):
        raise ClientException('%s must be a whole number of seconds, got %r' % (name, ttl))
    if ttl < 0:
        raise ClientException('%s must not be negative, got %d' % (name, ttl))
    if ttl == 0:
        raise ClientException('%s=0 would make the key expire at once; give a positive number of seconds, or None for no expiry' % name)
    return ttl


def _check_index(index: Any, name: str) -> Optional[int]:
    if index is None:
        return None
    if isinstance(index, bool) or not isinstance(index, int):
        raise ClientException('%s must be an integer etcd index, got %r' % (name, index))
    if index < 1:
        # prevIndex=0 would make etcd drop the condition and write unconditionally.
        raise ClientException('%s must be 1 or more, got %d' % (name, index))
    return index


def _check_utf8(text: str, name: str) -> None:
    """Refuse text that UTF-8 cannot carry (lone surrogates, e.g. from undecodable file names)."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError as exc:
        raise ClientException('%s cannot be sent as UTF-8 (%s at position %d)' % (name, exc.reason, exc.start)) from None


def _check_value(value: Any, name: str = 'value') -> str:
    if not isinstance(value, str):
        raise ClientException('%s must be a string, got %s %r' % (name, type(value).__name__, value))
    _check_utf8(value, name)
    return value


def _value_text(value: Any, name: str = 'value') -> str:
    """A value to store: a string as given, an int or float as its decimal text (pyetcd stores
    ``write(k, 42)`` as ``"42"``). Booleans, None, lists and dicts are refused: their text is
    not one obvious string (``True`` or ``true``?); convert them first (``json.dumps``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ClientException('%s must be a string or a number, got %s %r: convert it to a string first (e.g. json.dumps)'
                              % (name, type(value).__name__, value))
    return _check_value(value, name)


def normalize_key(key: Any, name: str = 'key') -> str:
    """Return ``key`` with one leading '/', no repeated or trailing '/'.

    Refuses non-strings, empty keys and '.'/'..' segments (HTTP libraries and etcd's router
    would rewrite those into another key).
    """
    if not isinstance(key, str):
        raise ClientException('%s must be a string, got %s %r' % (name, type(key).__name__, key))
    if key == '':
        raise ClientException('%s must not be empty' % name)
    _check_utf8(key, name)
    segments = [seg for seg in key.split('/') if seg != '']
    for seg in segments:
        if seg in ('.', '..'):
            raise ClientException("%s %r has a '%s' segment, which etcd cannot store" % (name, key, seg))
    return '/' + '/'.join(segments)


def _parse_host(item: Any, port: int, protocol: str) -> str:
    """One host item -> base URL ``scheme://host:port``."""
    if isinstance(item, (tuple, list)):
        if len(item) != 2:
            raise ClientException('host tuple must be (name, port), got %r' % (item,))
        name, item_port = item
        scheme = protocol
    elif isinstance(item, str):
        text = item.strip().rstrip('/')
        scheme = protocol
        if '://' in text:
            scheme, text = text.split('://', 1)
            scheme = scheme.lower()
        item_port = port
        if text.startswith('['):
            end = text.find(']')
            if end < 0:
                raise ClientException('host %r has an unclosed [ ]' % item)
            name, rest = text[1:end], text[end + 1:]
            if rest.startswith(':'):
                item_port = rest[1:]
            elif rest:
                raise ClientException('host %r: unexpected %r after ]' % (item, rest))
        elif text.count(':') == 1:
            name, item_port = text.split(':')
        else:
            name = text  # a name, or a bare IPv6 address
    else:
        raise ClientException('host must be a name, a list of names or a list of (name, port) tuples, got %r' % (item,))
    if scheme not in ('http', 'https'):
        raise ClientException('protocol must be http or https, got %r in %r' % (scheme, item))
    if not isinstance(name, str) or not name.strip():
        raise ClientException('host name must not be empty in %r' % (item,))
    try:
        item_port = int(item_port)
    except (TypeError, ValueError):
        raise ClientException('port must be a number, got %r in host %r' % (item_port, item)) from None
    if not 0 < item_port < 65536:
        raise ClientException('port must be 1-65535, got %d' % item_port)
    name = name.strip()
    if ':' in name:
        name = '[%s]' % name
    return '%s://%s:%d' % (scheme, name, item_port)


def _check_request_line(method: str, path: str, query: str, subject: Optional[str]) -> None:
    """etcd drops a request line (``METHOD path?query HTTP/1.1``, the key URL-encoded, so up to
    12 bytes per non-ASCII character) over MAX_REQUEST_LINE on a new connection."""
    line = len(method) + 1 + len(path) + (1 + len(query) if query else 0) + len(' HTTP/1.1\r\n')
    if line > MAX_REQUEST_LINE:
        subject = subject or path
        shown = subject if len(subject) <= 60 else subject[:40] + '...' + subject[-10:]
        raise ClientException('key %s is too long: its request line is %d bytes URL-encoded, and etcd drops a '
                              'request line over %d bytes on a new connection' % (shown, line, MAX_REQUEST_LINE))


def _reason_chain(exc: BaseException):
    """Yield ``exc`` and the errors wrapped in it (args, reason, cause, context)."""
    seen = set()
    todo = [exc]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen or not isinstance(err, BaseException):
            continue
        seen.add(id(err))
        yield err
        todo.extend([getattr(err, 'reason', None), err.__cause__, err.__context__])
        todo.extend(arg for arg in err.args if isinstance(arg, BaseException))


def _never_sent(exc: BaseException) -> bool:
    """True when the error happened before any byte of the request left (no connection made)."""
    import urllib3.exceptions  # pylint: disable=import-outside-toplevel
    return any(isinstance(err, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))
               for err in _reason_chain(exc)) or _in_tls_handshake(exc)


def _in_tls_handshake(exc: BaseException) -> bool:
    """True when the connection broke inside the TLS handshake, before the request was sent.

    A plain-http etcd port answers a TLS hello by closing the connection; now and then that
    arrives as a bare "connection reset" raised from the handshake rather than as an SSL error.
    """
    for err in _reason_chain(exc):
        frame = err.__traceback__
        while frame is not None:
            if frame.tb_frame.f_code.co_name == 'do_handshake':
                return True
            frame = frame.tb_next
    return False


def _describe_transport(exc: BaseException, base: str = '') -> str:
    chain = list(_reason_chain(exc))
    text = ' '.join(str(err) for err in chain)
    if base.startswith('http://') and any(isinstance(err, http.client.RemoteDisconnected) for err in chain):
        # Not one byte came back. etcd's TLS listener closes a plaintext connection that way,
        # and never acts on the request.
        return 'connection closed without an answer (does this port speak https?)'
    if 'Name or service not known' in text or 'NameResolutionError' in text or 'Failed to resolve' in text \
            or 'nodename nor servname' in text or 'Temporary failure in name resolution' in text:
        return 'host name does not resolve'
    if 'Connection refused' in text or 'Errno 111' in text:
        return 'connection refused'
    if 'RemoteDisconnected' in text or 'closed connection' in text or 'Connection aborted' in text:
        return 'connection closed before the answer was complete'
    if 'IncompleteRead' in text or 'Connection broken' in text:
        return 'connection cut in the middle of the answer'
    if 'Connection reset' in text:
        return 'connection reset'
    for err in _reason_chain(exc):
        if not isinstance(err, (requests.exceptions.RequestException, urllib3.exceptions.MaxRetryError)):
            return '%s: %s' % (type(err).__name__, err)
    return str(exc)


def _describe_tls(exc: BaseException) -> str:
    match = _SSL_REASON.search(' '.join(str(err) for err in _reason_chain(exc)))
    reason = match.group(2).strip() if match else 'TLS handshake failed'
    code = match.group(1) if match else ''
    if code in ('WRONG_VERSION_NUMBER', 'UNEXPECTED_EOF_WHILE_READING'):
        # etcd closes a plain-http port on a TLS hello without a word.
        reason += ' (does this port speak plain http?)'
    elif code == 'CERTIFICATE_VERIFY_FAILED':
        reason += ' (is ca_cert the CA that signed the server certificate?)'
    elif code in ('SSLV3_ALERT_BAD_CERTIFICATE', 'TLSV13_ALERT_CERTIFICATE_REQUIRED', 'TLSV1_ALERT_UNKNOWN_CA'):
        reason += ' (the server refused the client certificate: give cert and key signed by a CA it trusts)'
    return 'TLS: ' + reason


def _says_unhealthy(text: str) -> bool:
    """True for a ``/health`` answer whose ``health`` field is false."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and str(data.get('health')).lower() == 'false'


class _Answer:
    """What one member answered: status, headers, body text and which endpoint."""

    __slots__ = ('status', 'headers', 'text', 'endpoint')

    def __init__(self, status: int, headers: Any, text: str, endpoint: str):
        self.status = status
        self.headers = headers
        self.text = text
        self.endpoint = endpoint


class Client:
    """etcd v2 client.

    :param host: a name (``'etcd1'``, ``'etcd1:2379'``, ``'https://etcd1:2379'``), a list of
        those, or a list of ``(name, port)`` tuples. The members are tried in this order.
    :param port: port for host items that do not give one (default 2379).
    :param srv_domain: find the members by DNS SRV under this domain instead of ``host``
        (needs dnspython; an ``-ssl`` record means https).
    :param version_prefix: API version prefix (default ``'v2'``).
    :param protocol: ``'http'`` or ``'https'`` for host items without a scheme.
    :param allow_reconnect: on a connection failure or timeout, move to the next member.
    :param timeout: seconds to wait for a connection and, separately, for the answer, per
        member and per request (a number, or a ``(connect, read)`` tuple).
    :param ca_cert: CA bundle that signs the members' certificates.
    :param cert: client certificate (PEM) for TLS client authentication; ``key`` its private key.
    :param validate_certs: verify the members' certificates (default True).
    :param username: user for etcd's v2 auth (HTTP basic auth); ``password`` its password.
    :param watch_timeout: default seconds a ``read(wait=True)`` waits before raising
        :class:`EtcdWatchTimedOut` (default 60).
    :param leader_retries: how often a leader-election error (300 on a read, 301) is retried.
    :raises ClientException: on a bad argument, or SRV discovery that finds nothing.

    Proxy settings from the environment are not used: etcd members are addressed directly.
    """

    def __init__(self, host: HostSpec = '127.0.0.1', port: int = 2379, srv_domain: Optional[str] = None,
                 version_prefix: str = 'v2', protocol: str = 'http', allow_reconnect: bool = True, *,
                 timeout: Union[float, Tuple[float, float]] = DEFAULT_TIMEOUT, ca_cert: Optional[str] = None,
                 cert: Optional[str] = None, key: Optional[str] = None, validate_certs: bool = True,
                 username: Optional[str] = None, password: Optional[str] = None,
                 watch_timeout: float = DEFAULT_WATCH_TIMEOUT, leader_retries: int = 3, retry_delay: float = 0.2,
                 pool_size: int = 16):
        if not HAS_REQUESTS:
            raise ClientException('the pyetcd client needs the Python package requests: pip install requests')
        if protocol not in ('http', 'https'):
            raise ClientException('protocol must be http or https, got %r' % (protocol,))
        _check_bool('allow_reconnect', allow_reconnect)
        _check_bool('validate_certs', validate_certs)
        if isinstance(port, str) and port.strip().isdigit():
            port = int(port)  # pyetcd puts the port into the URL as given: '2379' works there
        if isinstance(port, bool) or not isinstance(port, int):
            raise ClientException('port must be an integer, got %r' % (port,))
        if not 0 < port < 65536:
            raise ClientException('port must be 1-65535, got %d' % port)
        if not isinstance(version_prefix, str) or not version_prefix.strip('/'):
            raise ClientException('version_prefix must be a non-empty string such as "v2", got %r' % (version_prefix,))
        self.timeout = self._check_timeout(timeout, 'timeout')
        self.watch_timeout = self._check_timeout(watch_timeout, 'watch_timeout')[1]
        if key and not cert:
            raise ClientException('key (client key) needs cert (client certificate) as well')
        # requests would only notice a missing file at the first request, with a bare OSError.
        for option, path in (('ca_cert', ca_cert if validate_certs else None), ('cert', cert), ('key', key)):
            if path is not None and not os.path.exists(path):
                raise ClientException('%s file %s does not exist' % (option, path))
        if password is not None and not username:
            raise ClientException('password needs username as well')

        if srv_domain:
            self._endpoints = srv_endpoints(srv_domain)
        else:
            items = [host] if isinstance(host, (str, tuple)) else list(host or [])
            items = [item for item in items if not (isinstance(item, str) and not item.strip())]
            if not items:
                # Never a silent default: writes would land in whatever listens on localhost.
                raise ClientException('host names no etcd member (got %r)' % (host,))
            self._endpoints = [_parse_host(item, port, protocol) for item in items]
        self.protocol = protocol
        self.version_prefix = '/' + version_prefix.strip('/')
        self.allow_reconnect = allow_reconnect
        self.leader_retries = max(0, int(leader_retries))
        self.retry_delay = float(retry_delay)
        self.username = username
        self._lock = threading.Lock()
        self._current = 0
        # Indexes of the members that have answered this client. A write (or a watch) goes only
        # to one of those: a member that accepts connections but never answers (frozen, cut
        # off) would otherwise take the write and leave its outcome unknown.
        self._confirmed: set = set()

        session = requests.Session()
        # Proxies, netrc and CA bundles from the environment stay out: the connection is what
        # the caller configured, and looking them up on every request costs time.
        session.trust_env = False
        # max_retries=0: urllib3 must not retry on its own and multiply the timeout.
        adapter = HTTPAdapter(pool_connections=max(1, len(self._endpoints)), pool_maxsize=pool_size, max_retries=0)
        session.mount('http://', adapter)
        session.mount('https://', adapter)
        if not validate_certs:
            session.verify = False
        else:
            session.verify = ca_cert if ca_cert else True
        if cert:
            session.cert = (cert, key) if key else cert
        if username:
            session.auth = (username, password or '')
        self._session = session
        self._adapter = adapter
        # The headers every request carries, built once: requests' defaults (User-Agent,
        # Accept-Encoding, keep-alive) and the basic-auth header of session.auth.
        self._headers = dict(session.headers)
        if username:
            token = ('%s:%s' % (username, password or '')).encode('utf-8')
            self._headers['Authorization'] = 'Basic ' + base64.b64encode(token).decode('ascii')
        self._form_headers = dict(self._headers)
        self._form_headers['Content-Type'] = 'application/x-www-form-urlencoded'
        self._json_headers = dict(self._headers)
        self._json_headers['Content-Type'] = 'application/json'
        self._pools: Dict[str, Any] = {}

    # -- configuration ------------------------------------------------------------------------

    @staticmethod
    def _check_timeout(value: Any, name: str) -> Tuple[float, float]:
        pair = value if isinstance(value, (tuple, list)) else (value, value)
        if len(pair) != 2:
            raise ClientException('%s must be seconds or a (connect, read) pair, got %r' % (name, value))
        out = []
        for item in pair:
            if isinstance(item, bool) or not isinstance(item, (int, float)) or item <= 0:
                raise ClientException('%s must be a positive number of seconds, got %r' % (name, value))
            out.append(float(item))
        return out[0], out[1]

    @property
    def endpoints(self) -> List[str]:
        """Base URLs of the members, in the order they are tried."""
        return list(self._endpoints)

    @property
    def current_endpoint(self) -> str:
        """The member the next request goes to first (the last one that answered)."""
        return self._endpoints[self._current]

    def __repr__(self) -> str:
        return 'Client(endpoints=%r, current=%r)' % (self._endpoints, self.current_endpoint)

    def close(self) -> None:
        """Close the pooled connections (a later request opens new ones)."""
        with self._lock:
            self._pools.clear()
        self._session.close()

    def _pool(self, base: str) -> Any:
        """The urllib3 connection pool of the session's adapter for one endpoint, looked up once.

        The adapter picks the pool and applies the session's TLS settings (verify, ca_cert,
        client certificate) exactly as it does for its own requests.
        """
        pool = self._pools.get(base)
        if pool is None:
            verify, cert = self._session.verify, self._session.cert
            if hasattr(self._adapter, 'get_connection_with_tls_context'):  # requests >= 2.32.2
                prepared = requests.Request('GET', base + '/').prepare()
                pool = self._adapter.get_connection_with_tls_context(prepared, verify, cert=cert)
            else:  # pragma: no cover - older requests
                pool = self._adapter.get_connection(base + '/')
            self._adapter.cert_verify(pool, base + '/', verify, cert)
            with self._lock:
                self._pools[base] = pool
        return pool

    def __enter__(self) -> 'Client':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- transport ----------------------------------------------------------------------------

    def _send(self, method: str, path: str, params: Optional[Dict[str, str]] = None, *, retry_safe: bool,
              subject: Optional[str] = None, read_timeout: Optional[float] = None, watch: bool = False,
              json_body: Any = None, only: Optional[int] = None) -> _Answer:
        """Send one request, moving through the members as ``allow_reconnect`` permits.

        ``retry_safe`` says the request may be sent again after it was sent and no answer came
        (reads). Any request may go to the next member when no connection could be made. A
        request that is not retry-safe, and a watch, go only to a member that has answered this
        client before: an unconfirmed member is asked for ``/health`` first (see
        :meth:`_confirm`). ``only`` sends to that one member and nowhere else.
        """
        order = [only] if only is not None else self._member_order()
        timeout = (self.timeout[0], read_timeout if read_timeout is not None else self.timeout[1])
        query = urlencode(params) if params and (method not in ('PUT', 'POST') or json_body is not None) else ''
        _check_request_line(method, path, query, subject)
        attempts: List[Tuple[str, str]] = []
        tls_failures = 0
        leader_tries = 0
        position = 0
        if json_body is not None:
            body: Optional[bytes] = json.dumps(json_body).encode('utf-8')
            headers = self._json_headers
        else:
            body = urlencode(params).encode('ascii') if params and method in ('PUT', 'POST') else None
            headers = self._form_headers if body is not None else self._headers
        needs_confirmation = (not retry_safe or watch) and only is None
        pool_timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
        errors = urllib3.exceptions
        reopened = 0
        while True:
            if position >= len(order):
                if leader_tries >= self.leader_retries or \
                        not any(reason.startswith(_UNHEALTHY) for _base, reason in attempts):
                    raise self._unreachable(attempts, tls_failures, subject)
                # The members that answered said they cannot serve, most often for the moment
                # of a leader election: nothing was sent; wait and ask again.
                leader_tries += 1
                time.sleep(self.retry_delay * (2 ** (leader_tries - 1)))
                order, position, attempts, tls_failures = self._member_order(), 0, [], 0
                continue
            index = order[position]
            base = self._endpoints[index]
            if needs_confirmation and index not in self._confirmed:
                refusal = self._confirm(index, healthy=not watch)
                if refusal is not None:
                    attempts.append((base, refusal[0]))
                    tls_failures += refusal[1]
                    position += 1
                    continue
            try:
                # Straight into the session's urllib3 pool: no retries and no redirects, so a
                # timeout is never multiplied and a redirect is reported, not followed.
                response = self._pool(base).request(method, path + '?' + query if query else path, body=body,
                                                    headers=headers, retries=False, redirect=False, timeout=pool_timeout,
                                                    preload_content=True, assert_same_host=False)
                text = response.data.decode('utf-8', 'replace')
            except errors.ClosedPoolError as exc:
                # close() (or the pool manager making room) closed the cached pool before
                # anything was sent: look the pool up again and retry this member.
                with self._lock:
                    self._pools.pop(base, None)
                reopened += 1
                if reopened > len(order):
                    attempts.append((base, _describe_transport(exc)))
                    position += 1
                continue
            except errors.SSLError as exc:
                attempts.append((base, _describe_tls(exc)))
                tls_failures += 1
                position += 1
                continue
            except errors.NewConnectionError as exc:
                # Also a subclass of ConnectTimeoutError: refused, unresolvable, unreachable.
                attempts.append((base, _describe_transport(exc)))
                position += 1
                continue
            except errors.ConnectTimeoutError:
                attempts.append((base, 'no connection within %gs' % timeout[0]))
                position += 1
                continue
            except errors.ReadTimeoutError:
                if watch:
                    raise EtcdWatchTimedOut('no change within %gs' % timeout[1], key=subject, endpoint=base) from None
                attempts.append((base, 'no answer within %gs' % timeout[1]))
                self._move_past(index)
                if not retry_safe:
                    raise EtcdOutcomeUnknown('no answer to a %s that was sent' % method, attempts, key=subject, endpoint=base) from None
                position += 1
                continue
            except (errors.HTTPError, OSError, http.client.HTTPException) as exc:
                if _in_tls_handshake(exc):
                    attempts.append((base, _HANDSHAKE_CLOSED))
                    tls_failures += 1
                    position += 1
                    continue
                attempts.append((base, _describe_transport(exc, base)))
                if _never_sent(exc):
                    position += 1
                    continue
                self._move_past(index)
                if not retry_safe:
                    raise EtcdOutcomeUnknown('no complete answer to a %s that was sent' % method, attempts, key=subject,
                                             endpoint=base) from None
                position += 1
                continue
            self._stay_on(index)
            answer = _Answer(response.status, response.headers, text, base)
            if response.status == 500 and leader_tries < self.leader_retries and self._leader_error(text, retry_safe):
                leader_tries += 1
                time.sleep(self.retry_delay * (2 ** (leader_tries - 1)))
                continue
            return answer

    def _member_order(self) -> List[int]:
        """Indexes of the members to try, the current one first (only it without allow_reconnect)."""
        count = len(self._endpoints)
        start = self._current
        return [(start + step) % count for step in range(count)] if self.allow_reconnect else [start]

    def _stay_on(self, index: int) -> None:
        """The member at ``index`` answered: later requests start there."""
        self._confirmed.add(index)
        if index != self._current:
            with self._lock:
                self._current = index

    def _confirm(self, index: int, healthy: bool = True) -> Optional[Tuple[str, bool]]:
        """Ask the member at ``index`` for ``/health``, bounded by the client's timeout.

        Returns None when it answered (it is then confirmed), or ``(what happened, TLS?)`` when
        it did not or, with ``healthy``, said it is unhealthy (no leader, no quorum, an alarm):
        such a member gets no write. Costs one round trip per member and client; a frozen
        member costs one timeout. A watch needs only an answer (``healthy=False``): a member
        without a leader still delivers the events once one is elected.
        """
        try:
            answer = self._send('GET', '/health', None, retry_safe=True, subject='/health', only=index)
        except EtcdConnectionFailed as exc:
            self._move_past(index)
            reason = exc.attempts[-1][1] if exc.attempts else str(exc)
            if re.search(r'no answer within|closed|cut|reset', reason):
                # It took the connection but did not answer: say the write never went there.
                reason += ' (to a health check; nothing was sent to it that changes data)'
            return reason, isinstance(exc, EtcdTLSError)
        if healthy and _says_unhealthy(answer.text):
            self._move_past(index)
            return _UNHEALTHY + ' (/health answered HTTP %d: %.80s)' % (answer.status, answer.text.strip()), False
        return None

    @staticmethod
    def _unreachable(attempts: List[Tuple[str, str]], tls_failures: int, subject: Optional[str]) -> EtcdConnectionFailed:
        """The error when no member took the request: TLS when every attempt failed at TLS."""
        if tls_failures and tls_failures == len(attempts):
            return EtcdTLSError(None, attempts, key=subject)
        if any(reason.startswith(_UNHEALTHY) for _base, reason in attempts):
            return EtcdConnectionFailed('no etcd member could take the request', attempts, key=subject)
        return EtcdConnectionFailed(None, attempts, key=subject)

    def _move_past(self, index: int) -> None:
        """After a member timed out, start the next request at the member after it (which must
        answer again before it gets a write)."""
        self._confirmed.discard(index)
        if self.allow_reconnect and len(self._endpoints) > 1:
            with self._lock:
                if self._current == index:
                    self._current = (index + 1) % len(self._endpoints)

    @staticmethod
    def _leader_error(text: str, retry_safe: bool) -> bool:
        """301 (leader election) is retried always; 300 (raft internal) only for reads, since a
        write that failed that way may still be applied."""
        if '"errorCode":301' in text.replace(' ', ''):
            return True
        return retry_safe and '"errorCode":300' in text.replace(' ', '')

    def _keys_path(self, key: str) -> str:
        return '%s/keys%s' % (self.version_prefix, quote(key, safe='/'))

    def _result(self, answer: _Answer, subject: Optional[str] = None, api: bool = True, write: bool = False) -> EtcdResult:
        """Turn an answer into an EtcdResult or the matching exception."""
        if 300 <= answer.status < 400:
            raise EtcdInvalidResponse('unexpected redirect (HTTP %d) to %s' % (answer.status, answer.headers.get('Location')),
                                      key=subject, status=answer.status, endpoint=answer.endpoint)
        if not answer.text.strip():
            if answer.status in (204, 205):
                return EtcdResult(data={}, headers=answer.headers, endpoint=answer.endpoint)
            raise EtcdEmptyResponse('empty answer (HTTP %d)' % answer.status, key=subject, status=answer.status,
                                    endpoint=answer.endpoint)
        try:
            data = json.loads(answer.text)
        except ValueError:
            # Go's default plain-text 404 is what etcd answers for v2 paths without --enable-v2.
            if answer.status == 404 and api and answer.text.strip() == '404 page not found':
                raise EtcdV2NotEnabled(key=subject, status=404, endpoint=answer.endpoint) from None
            if answer.status == 401:
                raise exception_for({'message': 'unauthorized: %s' % answer.text.strip()[:80]}, 401, answer.endpoint) from None
            raise EtcdInvalidResponse('answer is not JSON (HTTP %d), is this an etcd member? It began %.60r'
                                      % (answer.status, answer.text.strip()), key=subject, status=answer.status,
                                      endpoint=answer.endpoint) from None
        if not isinstance(data, dict):
            raise EtcdInvalidResponse('answer is not a JSON object (HTTP %d): %.60r' % (answer.status, answer.text),
                                      key=subject, status=answer.status, endpoint=answer.endpoint)
        if 'errorCode' in data or answer.status >= 400:
            # A raft error after a write was proposed may still be applied later.
            ambiguous = write and str(data.get('errorCode')) == '300'
            raise exception_for(data, answer.status, answer.endpoint, outcome_unknown=ambiguous, key=subject)
        return EtcdResult(data=data, headers=answer.headers, endpoint=answer.endpoint)

    def _keys(self, method: str, key: str, params: Dict[str, str], *, retry_safe: bool = False,
              read_timeout: Optional[float] = None, watch: bool = False) -> EtcdResult:
        answer = self._send(method, self._keys_path(key), params, retry_safe=retry_safe, subject=key,
                            read_timeout=read_timeout, watch=watch)
        return self._result(answer, subject=key, write=method != 'GET')

    def request(self, method: str, path: str, params: Optional[Dict[str, str]] = None,
                timeout: Optional[float] = None, json: Any = None) -> EtcdResult:  # pylint: disable=redefined-outer-name
        """Send a raw request to ``path`` (e.g. ``/v2/keys/a``) and parse the JSON answer.

        For what the typed methods do not cover. ``params`` go as a form body for PUT and POST
        and in the query otherwise; ``json`` sends that data as a JSON body instead (``params``
        then go in the query). Only GET is re-sent to another member after it was sent without
        an answer. A 204 (no content) answer gives an EtcdResult with empty ``data``.
        """
        method = method.upper()
        if not isinstance(path, str) or not path.startswith('/'):
            raise ClientException('path must start with /, got %r' % (path,))
        answer = self._send(method, path, params, retry_safe=method == 'GET', subject=path, read_timeout=timeout,
                            json_body=json)
        return self._result(answer, subject=path, api=path.startswith(self.version_prefix + '/'), write=method != 'GET')

    # -- keys API -----------------------------------------------------------------------------

    def read(self, key: str, recursive: bool = False, sorted: bool = False, quorum: bool = False,  # pylint: disable=redefined-builtin
             wait: bool = False, wait_index: Optional[int] = None, timeout: Optional[float] = None, **kwargs: Any) -> EtcdResult:
        """GET a key or directory.

        :param recursive: include the whole subtree of a directory.
        :param sorted: children in key order.
        :param quorum: linearizable read through raft (not served from a stale member).
        :param wait: long-poll until the key (or, with recursive, anything below it) changes.
        :param wait_index: with ``wait``, the first event index to return (``waitIndex``).
        :param timeout: seconds to wait for the answer; for ``wait`` defaults to ``watch_timeout``.
        :raises EtcdKeyNotFound: the key does not exist.
        :raises EtcdEventIndexCleared: ``wait_index`` is older than the last 1000 events; read
            again and watch from the new ``x_etcd_index + 1``.
        :raises EtcdWatchTimedOut: ``wait`` saw no change within the timeout.
        """
        if 'waitIndex' in kwargs:  # pyetcd spelling
            wait_index = kwargs.pop('waitIndex')
        if kwargs:
            raise ClientException('read() got unknown option(s): %s' % ', '.join(sorted_names(kwargs)))
        key = normalize_key(key)
        for name, value in (('recursive', recursive), ('sorted', sorted), ('quorum', quorum), ('wait', wait)):
            _check_bool(name, value)
        wait_index = _check_index(wait_index, 'wait_index')
        if wait_index is not None and not wait:
            raise ClientException('wait_index needs wait=True')
        if timeout is not None:
            timeout = self._check_timeout(timeout, 'timeout')[1]
        params = {}
        if recursive:
            params['recursive'] = 'true'
        if sorted:
            params['sorted'] = 'true'
        if quorum:
            params['quorum'] = 'true'
        if not wait:
            return self._keys('GET', key, params, retry_safe=True, read_timeout=timeout)
        params['wait'] = 'true'
        if wait_index is not None:
            params['waitIndex'] = str(wait_index)
        budget = timeout if timeout is not None else self.watch_timeout
        deadline = time.monotonic() + budget
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise EtcdWatchTimedOut('no change within %gs' % budget, key=key, endpoint=self.current_endpoint)
            answer = self._send('GET', self._keys_path(key), params, retry_safe=True, subject=key, read_timeout=left, watch=True)
            # etcd may end a long poll with 200 and an empty body: poll again.
            if answer.status == 200 and not answer.text.strip():
                continue
            return self._result(answer, subject=key)

    def watch(self, key: str, index: Optional[int] = None, recursive: bool = False, timeout: Optional[float] = None) -> EtcdResult:
        """Wait for the next change of ``key`` (from event ``index`` when given); see :meth:`read`."""
        return self.read(key, recursive=recursive, wait=True, wait_index=index, timeout=timeout)

    def write(self, key: str, value: str, ttl: Optional[int] = None, *, prev_exist: Optional[bool] = None,
              prev_value: Optional[str] = None, prev_index: Optional[int] = None, refresh: bool = False) -> EtcdResult:
        """PUT a value; with conditions, every given condition is sent in the same request.

        Without ``ttl`` the key has no expiry afterwards, even if it had one before (etcd drops
        the TTL on every write that does not give one). ``refresh=True`` resets the TTL
        without changing the value or waking watchers (``value`` must then be None).
        :raises EtcdNodeExist: ``prev_exist=False`` and the key exists.
        :raises EtcdKeyNotFound: ``prev_exist=True`` (or another condition) and it does not.
        :raises EtcdTestFailed: ``prev_value``/``prev_index`` did not match.
        :raises EtcdNotFile: the key is a directory.
        """
        key = normalize_key(key)
        ttl = _check_ttl(ttl)
        _check_bool('refresh', refresh)
        params: Dict[str, str] = {}
        if refresh:
            if value is not None:
                raise ClientException('refresh=True updates only the TTL of %s: value must be None' % key)
            if ttl is None:
                raise ClientException('refresh=True needs a ttl for %s' % key)
            params['refresh'] = 'true'
            if prev_exist is None:
                prev_exist = True
        else:
            params['value'] = _value_text(value)
        if ttl is not None:
            params['ttl'] = str(ttl)
        params.update(self._conditions(key, prev_exist=prev_exist, prev_value=prev_value, prev_index=prev_index))
        return self._keys('PUT', key, params)

    def write_many(self, items: Union[Mapping[str, str], Iterable[Tuple[str, str]]], ttl: Optional[int] = None, *,
                   concurrency: int = 8, pipeline: int = 16) -> List[EtcdResult]:
        """Write many keys (one PUT each, as :meth:`write`): the fastest way to store many keys.

        ``items`` is a mapping or a sequence of ``(key, value)`` pairs; ``ttl`` applies to every
        key. The writes go out on ``concurrency`` connections at once, and on each connection up
        to ``pipeline`` requests are sent before their answers are read (HTTP/1.1 pipelining:
        etcd answers the requests of a connection in order). ``pipeline=1`` sends one request
        at a time per connection. Every key and value is checked before anything is sent.
        Returns the :class:`EtcdResult` of each write, in the order of ``items``.

        After the first failure no further write is started (those already sent are answered
        and reported), and :class:`EtcdBulkWriteFailed` names the failed keys with their errors,
        the keys not sent, and keeps the results of the writes that succeeded. When a connection
        breaks, every write sent on it without an answer has an unknown outcome; such writes are
        never sent again. A write answered with a leader-election error (not applied) is sent
        again after the others, as :meth:`write` would.
        :raises ClientException: a bad key, value, ttl, concurrency or pipeline, or a key given
            twice (their order would be undefined); nothing was sent.
        """
        ttl = _check_ttl(ttl)
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        operations = []
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ClientException('write_many items must be (key, value) pairs, got %r' % (pair,))
            key = normalize_key(pair[0])
            params = {'value': _value_text(pair[1], 'value of %s' % key)}
            if ttl is not None:
                params['ttl'] = str(ttl)
            operations.append(('PUT', key, params))
        return self.send_many(operations, concurrency=concurrency, pipeline=pipeline)

    def send_many(self, operations: Iterable[Tuple[str, str, Mapping[str, str]]], *, concurrency: int = 8,
                  pipeline: int = 16) -> List[EtcdResult]:
        """Send many PUT and DELETE requests of the keys API, pipelined as :meth:`write_many` does.

        Each operation is ``(method, key, params)``: ``'PUT'`` or ``'DELETE'``, a key, and the
        parameters etcd takes for it (``{'value': 'x', 'prevIndex': '7'}``, ``{'dir': 'true',
        'recursive': 'true'}``; a PUT carries them as a form body, a DELETE in the query). The
        keys must be distinct: the operations run in no particular order. Results, failures and
        unknown outcomes are those of :meth:`write_many`.
        :raises ClientException: a bad method, key, parameter, concurrency or pipeline, or a key
            given twice; nothing was sent.
        """
        for name, number in (('concurrency', concurrency), ('pipeline', pipeline)):
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise ClientException('%s must be a whole number >= 1, got %r' % (name, number))
        jobs: List[Tuple[str, str, Dict[str, str], str, bytes]] = []
        seen = set()
        for operation in list(operations):
            method, key, params = self._operation(operation)
            if key in seen:
                raise ClientException('got key %s twice; the order of the two requests would be undefined' % key)
            seen.add(key)
            path = self._keys_path(key)
            if method == 'PUT':
                target, body = path, urlencode(params).encode('ascii')
            else:
                query = urlencode(params)
                target, body = (path + '?' + query if query else path), b''
            _check_request_line(method, target, '', key)
            jobs.append((method, key, params, target, body))
        return self._pipelined(jobs, concurrency, pipeline)

    def send(self, method: str, key: str, params: Optional[Mapping[str, str]] = None) -> EtcdResult:
        """Send one PUT or DELETE of the keys API with the given parameters: one operation of
        :meth:`send_many`, on the client's keep-alive connections and with the rules of
        :meth:`write` (a write without an answer is :class:`EtcdOutcomeUnknown`, never re-sent).
        :raises ClientException: a bad method, key or parameter; nothing was sent.
        """
        method, key, checked = self._operation((method, key, params if params is not None else {}))
        return self._keys(method, key, checked)

    @staticmethod
    def _operation(operation: Any) -> Tuple[str, str, Dict[str, str]]:
        """Check one ``(method, key, params)`` of :meth:`send` or :meth:`send_many`."""
        if not isinstance(operation, (tuple, list)) or len(operation) != 3 or not isinstance(operation[2], Mapping):
            raise ClientException('operations must be (method, key, params) triples, got %r' % (operation,))
        method = str(operation[0]).upper()
        if method not in ('PUT', 'DELETE'):
            raise ClientException('send and send_many send PUT and DELETE only, got %r' % (operation[0],))
        key = normalize_key(operation[1])
        params = {}
        for name, value in operation[2].items():
            if not isinstance(name, str):
                raise ClientException('parameter names of %s must be strings, got %r' % (key, name))
            params[name] = _check_value(value, '%s of %s' % (name, key))
        return method, key, params

    def _pipelined(self, jobs: List[Tuple[str, str, Dict[str, str], str, bytes]], concurrency: int,
                   pipeline: int) -> List[EtcdResult]:
        """Send checked ``(method, key, params, target, body)`` jobs on ``concurrency`` pipelined
        connections; the engine behind :meth:`send_many` and :meth:`write_many`."""
        keys = [job[1] for job in jobs]
        total = len(keys)
        results: List[Optional[EtcdResult]] = [None] * total
        failures: Dict[int, Exception] = {}
        redo: List[Tuple[int, EtcdException]] = []
        state = {'next': 0, 'stop': False}
        lock = threading.Lock()

        def fail(position: int, exc: Exception) -> None:
            with lock:
                failures[position] = exc
                state['stop'] = True

        def take(connection: PipelinedConnection) -> List[int]:
            """The next jobs for ``connection``: as many as its window allows."""
            batch: List[int] = []
            pending = connection.bytes_in_flight
            with lock:
                while not state['stop'] and state['next'] < total and len(connection.in_flight) + len(batch) < pipeline \
                        and (not (connection.in_flight or batch) or pending < MAX_BYTES_IN_FLIGHT):
                    position = state['next']
                    state['next'] += 1
                    batch.append(position)
                    pending += len(jobs[position][3]) + len(jobs[position][4]) + 300
            return batch

        def work() -> None:
            # A connection that etcd closes politely ("Connection: close", as a member shutting
            # down does) is replaced; one that breaks ends this worker (see lost()).
            while connect_and_send():
                pass

        def connect_and_send() -> bool:
            """One connection's share of the jobs; True when etcd closed it and jobs remain."""
            with lock:
                if state['stop'] or state['next'] >= total:
                    return False
                first = keys[state['next']]
            try:
                connection, base = self._open_pipelined(first)
            except EtcdException as exc:
                # No member took a connection: the job this connection would have started with
                # carries the error, and nothing more is started.
                with lock:
                    if state['next'] < total and not state['stop']:
                        position = state['next']
                        state['next'] += 1
                        exc.key = keys[position]
                        failures[position] = exc
                        state['stop'] = True
                return False
            try:
                while True:
                    # Refill when half the window is answered: fewer, larger writes.
                    if not connection.closing and len(connection.in_flight) <= pipeline // 2:
                        batch = take(connection)
                        if batch:
                            try:
                                connection.send([(job, connection.frame(jobs[job][0], jobs[job][3], jobs[job][4])) for job in batch])
                            except OSError as exc:
                                lost(connection, base, exc)
                                return False
                    if not connection.in_flight:
                        return connection.closing
                    try:
                        position, status, headers, text = connection.receive()
                    except (OSError, ValueError, http.client.HTTPException) as exc:
                        lost(connection, base, exc)
                        return False
                    try:
                        results[position] = self._result(_Answer(status, headers, text, base), subject=keys[position], write=True)
                    except EtcdLeaderElect as exc:
                        with lock:
                            redo.append((position, exc))
                    except EtcdException as exc:
                        fail(position, exc)
            finally:
                connection.close()

        def lost(connection: PipelinedConnection, base: str, exc: BaseException) -> None:
            """The connection broke: each write sent on it without an answer may have been applied."""
            if isinstance(exc, socket.timeout):
                reason = 'no answer within %gs' % self.timeout[1]
            else:
                reason = _describe_transport(exc, base)
            lost_jobs = connection.unanswered()  # never empty: a send or a read was under way
            self._move_past(self._endpoints.index(base))
            for job in lost_jobs:
                fail(job, EtcdOutcomeUnknown('no answer to a %s that was sent (%d pipelined requests unanswered)'
                                             % (jobs[job][0], len(lost_jobs)), [(base, reason)], key=keys[job], endpoint=base))

        workers = [threading.Thread(target=work, name='etcd-write-many-%d' % number, daemon=True)
                   for number in range(min(concurrency, total) - 1)]
        for worker in workers:
            worker.start()
        work()  # the calling thread writes too
        for worker in workers:
            worker.join()
        for position, leader_error in sorted(redo, key=lambda item: item[0]):
            # Answered "leader election in progress", so not applied: sent again on its own, which
            # waits and retries, unless another request has failed meanwhile.
            if state['stop']:
                fail(position, leader_error)
                continue
            try:
                method, key, params = jobs[position][:3]
                results[position] = self._keys(method, key, dict(params))
            except EtcdException as exc:
                fail(position, exc)
        if failures:
            failed = [(keys[position], failures[position]) for position in sorted(failures)]
            raise EtcdBulkWriteFailed(results=results, failures=failed, not_sent=keys[state['next']:],
                                      key=failed[0][0])
        return results  # type: ignore[return-value]

    def _open_pipelined(self, subject: str) -> Tuple[PipelinedConnection, str]:
        """A new connection for pipelined requests, to the current member or, with
        ``allow_reconnect``, the next one that takes it (nothing has been sent yet)."""
        attempts: List[Tuple[str, str]] = []
        tls_failures = 0
        for index in self._member_order():
            base = self._endpoints[index]
            if index not in self._confirmed:
                refusal = self._confirm(index)
                if refusal is not None:
                    attempts.append((base, refusal[0]))
                    tls_failures += refusal[1]
                    continue
            try:
                # The pool of the session's adapter builds the connection with the session's
                # TLS settings; it is used for pipelining and closed afterwards.
                conn = self._pool(base)._new_conn()  # pylint: disable=protected-access
                conn.timeout = self.timeout[0]
                conn.connect()
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if isinstance(exc, (ssl.SSLError, urllib3.exceptions.SSLError)):
                    attempts.append((base, _describe_tls(exc)))
                    tls_failures += 1
                elif _in_tls_handshake(exc):
                    attempts.append((base, _HANDSHAKE_CLOSED))
                    tls_failures += 1
                elif isinstance(exc, urllib3.exceptions.ConnectTimeoutError) and \
                        not isinstance(exc, urllib3.exceptions.NewConnectionError):
                    attempts.append((base, 'no connection within %gs' % self.timeout[0]))
                else:
                    attempts.append((base, _describe_transport(exc)))
                continue
            self._stay_on(index)
            return PipelinedConnection(conn, urlsplit(base).netloc, self._form_headers, self.timeout[1]), base
        raise self._unreachable(attempts, tls_failures, subject)

    @staticmethod
    def _conditions(key: str, prev_exist: Optional[bool] = None, prev_value: Optional[str] = None,
                    prev_index: Optional[int] = None) -> Dict[str, str]:
        params: Dict[str, str] = {}
        if prev_exist is not None:
            _check_bool('prev_exist', prev_exist)
            if prev_exist is False and (prev_value is not None or prev_index is not None):
                raise ClientException('prev_exist=False (create %s) cannot be combined with prev_value or prev_index: '
                                      'etcd would ignore them' % key)
            params['prevExist'] = _bool(prev_exist)
        if prev_value is not None:
            params['prevValue'] = _value_text(prev_value, 'prev_value')
        prev_index = _check_index(prev_index, 'prev_index')
        if prev_index is not None:
            params['prevIndex'] = str(prev_index)
        return params

    def append(self, directory: str, value: str, ttl: Optional[int] = None) -> EtcdResult:
        """POST an in-order key into ``directory`` (its name is the index, zero-padded).

        Never re-sent after it was sent without an answer: that would add a second key.
        """
        directory = normalize_key(directory, 'directory')
        params = {'value': _value_text(value)}
        ttl = _check_ttl(ttl)
        if ttl is not None:
            params['ttl'] = str(ttl)
        return self._keys('POST', directory, params)

    def delete(self, key: str, recursive: bool = False, dir: bool = False,  # pylint: disable=redefined-builtin
               prev_value: Optional[str] = None, prev_index: Optional[int] = None) -> EtcdResult:
        """DELETE a key (``dir=True`` for an empty directory, ``recursive=True`` for a tree).

        :raises EtcdKeyNotFound: nothing there. :raises EtcdNotFile: a directory without dir/recursive.
        :raises EtcdDirNotEmpty: ``dir=True`` on a directory that has children.
        """
        key = normalize_key(key)
        _check_bool('recursive', recursive)
        _check_bool('dir', dir)
        params = {}
        if recursive:
            params['recursive'] = 'true'
        if dir:
            params['dir'] = 'true'
        params.update(self._conditions(key, prev_value=prev_value, prev_index=prev_index))
        return self._keys('DELETE', key, params)

    def mkdir(self, directory: str, ttl: Optional[int] = None) -> EtcdResult:
        """Create a directory. :raises EtcdNodeExist: something (key or directory) is already there."""
        directory = normalize_key(directory, 'directory')
        params = {'dir': 'true', 'prevExist': 'false'}
        ttl = _check_ttl(ttl)
        if ttl is not None:
            params['ttl'] = str(ttl)
        return self._keys('PUT', directory, params)

    def rmdir(self, directory: str, recursive: bool = False) -> EtcdResult:
        """Delete a directory, and with ``recursive`` everything under it.

        etcd also deletes a plain key given here (``dir=true`` is not a condition); read first
        when that matters. :raises EtcdDirNotEmpty: not empty and not recursive.
        """
        directory = normalize_key(directory, 'directory')
        _check_bool('recursive', recursive)
        params = {'dir': 'true'}
        if recursive:
            params['recursive'] = 'true'
        return self._keys('DELETE', directory, params)

    def compare_and_swap(self, key: str, value: str, prev_value: Optional[str] = None, prev_index: Optional[int] = None,
                         prev_exist: Optional[bool] = None, ttl: Optional[int] = None) -> EtcdResult:
        """Set ``key`` to ``value`` only if every given condition holds; all are sent together.

        With no condition it is a plain :meth:`write`, as in pyetcd.
        :raises EtcdTestFailed: prev_value or prev_index did not match.
        :raises EtcdNodeExist: prev_exist=False and the key exists.
        :raises EtcdKeyNotFound: the key is missing (and prev_exist was not False).
        """
        return self.write(key, value, ttl, prev_exist=prev_exist, prev_value=prev_value, prev_index=prev_index)

    def compare_and_delete(self, key: str, prev_value: Optional[str] = None, prev_index: Optional[int] = None) -> EtcdResult:
        """Delete ``key`` only if every given condition holds; all are sent together.

        With no condition it is a plain :meth:`delete` of the key, as in pyetcd.
        :raises EtcdTestFailed: a condition did not match. :raises EtcdNotFile: a directory.
        """
        return self.delete(key, prev_value=prev_value, prev_index=prev_index)

    def update_ttl(self, key: str, ttl: Optional[int]) -> EtcdResult:
        """Set a new TTL on an existing key or directory without changing its value.

        The node is read first. For a key, a number refreshes the TTL (``refresh=true``:
        watchers are not woken) and ``None`` removes it with a compare-and-swap writing the same
        value back at the index just read (:raises EtcdTestFailed: if it changed in between).
        For a directory, an update with (or without) the ttl; etcd 3.5 refuses that (a bug of
        its v2 store) and :raises EtcdNotFile: saying so, nothing changed.
        :raises EtcdKeyNotFound: the key does not exist.
        """
        key = normalize_key(key)
        ttl = _check_ttl(ttl)
        # etcd refuses refresh=true on a directory, so look at the node first.
        node = self.read(key).node
        if node.dir:
            params = {'dir': 'true', 'prevExist': 'true'}
            if ttl is not None:
                params['ttl'] = str(ttl)
            try:
                return self._keys('PUT', key, params)
            except EtcdRaftInternal as exc:
                # etcd 3.5's v2 store refuses every update of a directory with this raft
                # error, before anything is applied; 3.4 accepts it.
                if 'Not a file' not in str(exc.cause):
                    raise
                raise EtcdNotFile('this etcd server cannot change the TTL of an existing directory (etcd 3.5 refuses '
                                  'directory updates in the v2 API; 3.4 accepts them)', error_code=exc.error_code,
                                  key=key, status=exc.status, endpoint=exc.endpoint) from None
        if ttl is not None:
            return self._keys('PUT', key, {'refresh': 'true', 'ttl': str(ttl), 'prevExist': 'true'})
        return self.write(key, node.value, prev_index=node.modified_index)

    # -- cluster ------------------------------------------------------------------------------

    def _json(self, path: str, subject: Optional[str] = None) -> EtcdResult:
        answer = self._send('GET', path, None, retry_safe=True, subject=subject or path)
        return self._result(answer, subject=subject or path, api=path.startswith(self.version_prefix + '/'))

    def version(self) -> str:
        """etcd server version of the member answering, e.g. '3.5.1'."""
        return self._json('/version').version_etcdserver

    version_server = version

    def version_cluster(self) -> str:
        """Cluster version, e.g. '3.5.0'."""
        return self._json('/version').version_etcdcluster

    @property
    def health(self) -> bool:
        """True when the answering member reports itself healthy (``GET /health``).

        A property, as in pyetcd 1.11: ``if client.health:``. A member that has lost quorum
        answers false. :raises EtcdConnectionFailed: no member answered.
        """
        answer = self._send('GET', '/health', None, retry_safe=True, subject='/health')
        try:
            data = json.loads(answer.text)
        except ValueError:
            raise EtcdInvalidResponse('/health answer is not JSON (HTTP %d): %.60r' % (answer.status, answer.text),
                                      endpoint=answer.endpoint) from None
        return isinstance(data, dict) and str(data.get('health')).lower() == 'true'

    def members(self) -> List[Dict[str, Any]]:
        """Cluster members: dicts with id, name, peerURLs, clientURLs."""
        return list(self._json(self.version_prefix + '/members').data.get('members') or [])

    def add_member(self, peer_urls: Union[str, Sequence[str]]) -> EtcdResult:
        """Add a member with these peer URLs (``POST /v2/members``, a JSON body).

        Returns the new member as an :class:`EtcdResult` (``id``, ``name`` is empty until the
        member starts; ``data`` holds ``peerURLs`` and ``clientURLs``). Never re-sent after it
        was sent without an answer. Start the new etcd with ``--initial-cluster-state existing``.
        :raises EtcdException: etcd refused it (its message says why, e.g. the peer URL exists).
        """
        urls = [peer_urls] if isinstance(peer_urls, str) else list(peer_urls or [])
        if not urls or not all(isinstance(url, str) and '://' in url for url in urls):
            raise ClientException('add_member needs peer URLs such as ["http://10.0.0.10:2380"], got %r' % (peer_urls,))
        answer = self._send('POST', self.version_prefix + '/members', None, retry_safe=False, subject='members',
                            json_body={'peerURLs': urls})
        return self._result(answer, subject='members', write=True)

    def remove_member(self, member_id: str) -> None:
        """Remove the member with this id (hex, as :meth:`members` gives it): ``DELETE /v2/members/<id>``.

        :raises EtcdException: etcd refused it (for example, no such member).
        """
        if not isinstance(member_id, str) or not re.fullmatch(r'[0-9a-fA-F]{1,16}', member_id):
            raise ClientException('member_id must be a member id in hex such as "8e9e05c52164694d", got %r' % (member_id,))
        answer = self._send('DELETE', '%s/members/%s' % (self.version_prefix, member_id.lower()), None,
                            retry_safe=False, subject='member %s' % member_id)
        if answer.status != 204:
            self._result(answer, subject='member %s' % member_id, write=True)

    def leader(self) -> Dict[str, Any]:
        """The leader member (id, name, peerURLs, clientURLs)."""
        return self._json(self.version_prefix + '/members/leader').data

    def machines(self) -> List[str]:
        """Client URLs of the cluster, from ``/v2/machines`` (plain text, comma separated)."""
        answer = self._send('GET', self.version_prefix + '/machines', None, retry_safe=True, subject='machines')
        if answer.status != 200:
            if answer.status == 404:
                raise EtcdV2NotEnabled(status=404, endpoint=answer.endpoint)
            raise EtcdInvalidResponse('machines answered HTTP %d' % answer.status, status=answer.status, endpoint=answer.endpoint)
        return [url.strip() for url in answer.text.split(',') if url.strip()]

    def stats_self(self) -> EtcdResult:
        """This member's raft statistics (name, id, state, leaderInfo, append counters)."""
        return self._json(self.version_prefix + '/stats/self')

    def stats_store(self) -> EtcdResult:
        """Store operation counters of the answering member (``data`` holds them)."""
        return self._json(self.version_prefix + '/stats/store')

    def stats_leader(self) -> EtcdResult:
        """Leader statistics (``leader``, ``followers``), asked of the leader itself."""
        try:
            return self._json(self.version_prefix + '/stats/leader')
        except EtcdException as exc:
            if exc.status != 403:
                raise
        # Only the leader answers; find it and ask it directly.
        urls = self.leader().get('clientURLs') or []
        if not urls:
            raise EtcdInvalidResponse('the leader announces no client URL', endpoint=self.current_endpoint)
        try:
            response = self._session.get(urls[0].rstrip('/') + self.version_prefix + '/stats/leader', timeout=self.timeout)
        except requests.exceptions.RequestException as exc:
            raise EtcdConnectionFailed(None, [(urls[0], _describe_transport(exc))], key='stats/leader') from None
        return self._result(_Answer(response.status_code, response.headers, response.text, urls[0]), subject='stats/leader')


def sorted_names(mapping: Dict[str, Any]) -> List[str]:
    return sorted(str(name) for name in mapping)
