# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The core of the v3 client: connection arguments, the gateway prefix, auth, and one call.

Every v3 call is a POST of a JSON body to ``<prefix>/<service>/<method>`` on the same
:class:`Transport` as the v2 client (pools, TLS, failover, the health check before a first
write). What the answer means is decided in ``_v3/answers.py``. The method families live in
their own files (``kv.py``, ``lease.py``, ``watch.py``, ``cluster.py``, ...) as mixins that
use :meth:`Etcd3Base.call`.

Auth: with ``username``, the client authenticates lazily (``/v3/auth/authenticate``), sends
the raw token in ``Authorization`` and, when etcd says the token is missing, invalid or too old
(the auth store changed), authenticates again once and repeats the request; etcd refuses such
a request before doing anything, so repeating it is safe. Credentials given to a cluster whose
auth is off are not an error: the same play works before and after ``auth enable``.
"""
from __future__ import annotations

import json
import threading
from typing import Any, Callable, Dict, Optional, Tuple, Union

from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.endpoints import (
    HostSpec,
    check_port,
    check_timeout,
    endpoint_list,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.transport import (
    HAS_REQUESTS,
    JSON,
    Answer,
    Transport,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.answers import is_retryable, parse_answer
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import check_bool
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    EtcdAuthNotEnabled,
    EtcdInvalidResponse,
    EtcdUnauthenticated,
)

DEFAULT_TIMEOUT = 5.0
DEFAULT_WATCH_TIMEOUT = 60.0
DEFAULT_MAX_TXN_OPS = 128


def prefix_for_version(version: str) -> str:
    """The gateway prefix an etcd version serves: ``/v3`` from 3.4 on, ``/v3beta`` on 3.3,
    ``/v3alpha`` before (etcd's own version numbers, e.g. ``'3.5.0'``)."""
    try:
        major, minor = (int(part) for part in version.split('.')[:2])
    except ValueError:
        return '/v3'
    if (major, minor) >= (3, 4):
        return '/v3'
    if (major, minor) == (3, 3):
        return '/v3beta'
    return '/v3alpha'


class Etcd3Base:
    """Connection arguments as :class:`~plugins.module_utils.client.Client` takes them.

    :param host: a name (``'etcd1'``, ``'etcd1:2379'``, ``'https://etcd1:2379'``), a list of
        those, or ``(name, port)`` tuples; the members are tried in this order.
    :param port: for host items without one; ``srv_domain``: DNS SRV discovery instead.
    :param protocol: ``http`` or ``https``; ``allow_reconnect``: fail over to the next member.
    :param timeout: seconds for the connection and, separately, the answer (or a pair).
    :param ca_cert, cert, key, validate_certs: TLS as for the v2 client.
    :param username, password: etcd v3 auth (a token is fetched when needed).
    :param api_prefix: the gateway prefix (``/v3``); default: chosen from ``GET /version``
        on first use (``/v3`` for etcd 3.4 and later, ``/v3beta`` for 3.3).
    :param max_txn_ops: the server's ``--max-txn-ops`` (default 128): batched writes are
        split into transactions of at most this many operations.
    :raises ClientException: a bad argument (nothing is sent).
    """

    def __init__(self, host: HostSpec = '127.0.0.1', port: int = 2379, srv_domain: Optional[str] = None,
                 protocol: str = 'http', allow_reconnect: bool = True, *,
                 timeout: Union[float, Tuple[float, float]] = DEFAULT_TIMEOUT, ca_cert: Optional[str] = None,
                 cert: Optional[str] = None, key: Optional[str] = None, validate_certs: bool = True,
                 username: Optional[str] = None, password: Optional[str] = None, api_prefix: Optional[str] = None,
                 watch_timeout: float = DEFAULT_WATCH_TIMEOUT, leader_retries: int = 3, retry_delay: float = 0.2,
                 pool_size: int = 16, max_txn_ops: int = DEFAULT_MAX_TXN_OPS):
        if not HAS_REQUESTS:
            raise ClientException('the pyetcd client needs the Python package requests: pip install requests')
        check_bool(allow_reconnect, 'allow_reconnect')
        check_bool(validate_certs, 'validate_certs')
        port = check_port(port)
        timeout = check_timeout(timeout, 'timeout')
        self.watch_timeout = check_timeout(watch_timeout, 'watch_timeout')[1]
        if password is not None and not username:
            raise ClientException('password needs username as well')
        if username is not None and (not isinstance(username, str) or not username):
            raise ClientException('username must be a non-empty string')
        if api_prefix is not None:
            if not isinstance(api_prefix, str) or not api_prefix.strip('/'):
                raise ClientException('api_prefix must be a path such as "/v3", got %r' % (api_prefix,))
            api_prefix = '/' + api_prefix.strip('/')
        if isinstance(max_txn_ops, bool) or not isinstance(max_txn_ops, int) or max_txn_ops < 1:
            raise ClientException('max_txn_ops must be a whole number >= 1, got %r' % (max_txn_ops,))
        self.max_txn_ops = max_txn_ops
        self.username = username
        self._password = password
        self._api_prefix = api_prefix
        self._token: Optional[str] = None
        self._auth_tried = False
        self._auth_lock = threading.Lock()
        self._transport = Transport(endpoint_list(host, port, protocol, srv_domain), allow_reconnect=allow_reconnect,
                                    timeout=timeout, ca_cert=ca_cert, cert=cert, key=key, validate_certs=validate_certs,
                                    pool_size=pool_size, should_retry=self._should_retry, leader_retries=leader_retries,
                                    retry_delay=retry_delay)

    # -- configuration ------------------------------------------------------------------------

    @property
    def transport(self) -> Transport:
        """The members, pools and TLS settings this client sends through."""
        return self._transport

    @property
    def endpoints(self) -> list:
        return self._transport.endpoints

    @property
    def current_endpoint(self) -> str:
        return self._transport.current_endpoint

    @property
    def timeout(self) -> Tuple[float, float]:
        return self._transport.timeout

    def __repr__(self) -> str:
        # Never the password or the token.
        return '%s(endpoints=%r, current=%r, user=%r)' % (type(self).__name__, self.endpoints, self.current_endpoint,
                                                          self.username)

    def close(self) -> None:
        """Close the pooled connections (a later request opens new ones)."""
        self._transport.close()

    def __enter__(self) -> 'Etcd3Base':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @staticmethod
    def _should_retry(answer: Answer, retry_safe: bool) -> bool:
        return is_retryable(answer.status, answer.text, write=not retry_safe)

    @property
    def api_prefix(self) -> str:
        """The gateway prefix in use (asks ``GET /version`` once when none was given)."""
        if self._api_prefix is None:
            data = self.versions()
            self._api_prefix = prefix_for_version(str(data.get('etcdcluster') or data.get('etcdserver')))
        return self._api_prefix

    def versions(self) -> Dict[str, Any]:
        """``GET /version`` of the member answering, as etcd sends it (``etcdserver``,
        ``etcdcluster``). :raises EtcdInvalidResponse: the answer is not etcd's JSON object."""
        answer = self._transport.send('GET', '/version', retry_safe=True, subject='/version')
        try:
            data = json.loads(answer.text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise EtcdInvalidResponse('GET /version answered HTTP %d, not etcd\'s JSON: %.80r'
                                      % (answer.status, answer.text), endpoint=answer.endpoint)
        return data

    # -- auth ---------------------------------------------------------------------------------

    def _authenticate(self, stale: Optional[str] = None) -> None:
        """Fetch a token (once for all threads: a thread that finds a newer token than the one
        that failed it uses that)."""
        with self._auth_lock:
            if stale is not None and self._token not in (None, stale):
                return
            body = {'name': self.username, 'password': self._password or ''}
            self._transport.set_header('Authorization', None)
            self._token = None
            try:
                data = self._post('/auth/authenticate', body, write=False, subject='authenticate user %s' % self.username)
            except EtcdAuthNotEnabled:
                return  # auth is off: the credentials are simply not needed
            finally:
                self._auth_tried = True
            token = data.get('token')
            if not isinstance(token, str) or not token:
                raise EtcdInvalidResponse('authenticate answered without a token', endpoint=self.current_endpoint)
            self._token = token
            self._transport.set_header('Authorization', token)

    # -- one call -----------------------------------------------------------------------------

    def _post(self, method: str, body: Dict[str, Any], *, write: bool, subject: Optional[str],
              read_timeout: Optional[float] = None) -> Dict[str, Any]:
        answer = self._transport.send('POST', self.api_prefix + method, body=json.dumps(body).encode('ascii'),
                                      content_type=JSON, retry_safe=not write, subject=subject, read_timeout=read_timeout)
        return parse_answer(answer.status, answer.text, answer.endpoint, subject, write=write)

    def call(self, method: str, body: Dict[str, Any], *, write: bool, subject: Optional[str] = None,
             read_timeout: Optional[float] = None) -> Dict[str, Any]:
        """POST ``body`` to ``<prefix><method>`` (``'/kv/range'``) and return the answer's JSON.

        ``write`` says the call may change data: it is then never sent again after it was sent
        without an answer (:class:`EtcdOutcomeUnknown`), and it goes only to a member that has
        answered. ``subject`` names what the call is about in errors (a key).
        :raises Etcd3Exception: what etcd answered (see ``_v3/answers.py``).
        """
        if not self.username:  # no token to fetch or renew
            return self._post(method, body, write=write, subject=subject, read_timeout=read_timeout)
        return self.authenticated(lambda: self._post(method, body, write=write, subject=subject, read_timeout=read_timeout))

    def ensure_token(self) -> Optional[str]:
        """Authenticate the first time a call needs it; the token in use (None without auth)."""
        if self.username and not self._auth_tried:
            self._authenticate()
        return self._token

    def authenticated(self, send: Callable[[], Any]) -> Any:
        """Run ``send`` with a token, and once more after authenticating again when etcd says
        the token is missing, invalid or outdated: etcd refused before doing anything, so
        repeating is safe for a write too."""
        token = self.ensure_token()
        try:
            return send()
        except EtcdUnauthenticated:
            if not self.username:
                raise
            self._authenticate(stale=token)
            return send()
