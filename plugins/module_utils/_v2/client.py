# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The etcd v2 client: :class:`Client`, the pyetcd API on a :class:`Transport`.

The transport (``_transport/``) owns the members, the pools, TLS, timeouts and failover; this
file knows the v2 keys and cluster API: paths, form parameters, and what the answers mean
(``_v2/answers.py``). A request that was sent and got no answer is re-sent only when it cannot
change anything (a read): a write in that state raises :class:`EtcdOutcomeUnknown`. Leader-
election errors are retried a few times with a short backoff.
"""
from __future__ import annotations

import base64
import json
import re
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlencode

from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.endpoints import (
    HostSpec,
    check_port,
    check_request_line,
    check_timeout,
    endpoint_list,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.failures import describe_transport
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.pipeline import Job, PipelinedBatch, check_batch_shape
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.transport import (
    FORM,
    HAS_REQUESTS,
    JSON,
    Answer,
    Transport,
    reports_healthy,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.answers import leader_error, parse_body
from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.args import (
    check_bool,
    check_index,
    check_ttl,
    check_value,
    conditions,
    mkdir_params,
    normalize_key,
    rmdir_params,
    value_text,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.result import EtcdResult
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    EtcdConnectionFailed,
    EtcdException,
    EtcdInvalidResponse,
    EtcdLeaderElect,
    EtcdNotFile,
    EtcdRaftInternal,
    EtcdV2NotEnabled,
    EtcdWatchTimedOut,
)

try:
    import requests
except ImportError:  # pragma: no cover - HAS_REQUESTS says so
    requests = None  # type: ignore[assignment]

DEFAULT_TIMEOUT = 5.0
DEFAULT_WATCH_TIMEOUT = 60.0


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
        check_bool('allow_reconnect', allow_reconnect)
        check_bool('validate_certs', validate_certs)
        port = check_port(port)
        if not isinstance(version_prefix, str) or not version_prefix.strip('/'):
            raise ClientException('version_prefix must be a non-empty string such as "v2", got %r' % (version_prefix,))
        timeout = check_timeout(timeout, 'timeout')
        self.watch_timeout = check_timeout(watch_timeout, 'watch_timeout')[1]
        if password is not None and not username:
            raise ClientException('password needs username as well')
        endpoints = endpoint_list(host, port, protocol, srv_domain)
        headers = {}
        if username:
            # v2 auth is HTTP basic auth on every request.
            token = ('%s:%s' % (username, password or '')).encode('utf-8')
            headers['Authorization'] = 'Basic ' + base64.b64encode(token).decode('ascii')
        self._transport = Transport(endpoints, allow_reconnect=allow_reconnect, timeout=timeout, ca_cert=ca_cert,
                                    cert=cert, key=key, validate_certs=validate_certs, pool_size=pool_size,
                                    headers=headers, should_retry=leader_error, leader_retries=leader_retries,
                                    retry_delay=retry_delay)
        self.protocol = protocol
        self.version_prefix = '/' + version_prefix.strip('/')
        self.allow_reconnect = allow_reconnect
        self.username = username

    # -- configuration ------------------------------------------------------------------------

    @property
    def timeout(self) -> Tuple[float, float]:
        """``(connect, read)`` seconds per member and request."""
        return self._transport.timeout

    @property
    def transport(self) -> Transport:
        """The members, pools and TLS settings this client sends through."""
        return self._transport

    @property
    def _session(self) -> Any:
        # The requests session that owns the pools (tests and older callers look at it).
        return self._transport.session

    @property
    def endpoints(self) -> List[str]:
        """Base URLs of the members, in the order they are tried."""
        return self._transport.endpoints

    @property
    def current_endpoint(self) -> str:
        """The member the next request goes to first (the last one that answered)."""
        return self._transport.current_endpoint

    def __repr__(self) -> str:
        return 'Client(endpoints=%r, current=%r)' % (self.endpoints, self.current_endpoint)

    def close(self) -> None:
        """Close the pooled connections (a later request opens new ones)."""
        self._transport.close()

    def __enter__(self) -> 'Client':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- requests -----------------------------------------------------------------------------

    def _send(self, method: str, path: str, params: Optional[Dict[str, str]] = None, *, retry_safe: bool,
              subject: Optional[str] = None, read_timeout: Optional[float] = None, watch: bool = False,
              json_body: Any = None) -> Answer:
        """One v2 request: ``params`` as a form body for PUT and POST, in the query otherwise
        (and always in the query when ``json_body`` is the body)."""
        if json_body is not None:
            return self._transport.send(method, path, query=urlencode(params) if params else '',
                                        body=json.dumps(json_body).encode('utf-8'), content_type=JSON,
                                        retry_safe=retry_safe, subject=subject, read_timeout=read_timeout, watch=watch)
        if params and method in ('PUT', 'POST'):
            return self._transport.send(method, path, body=urlencode(params).encode('ascii'), content_type=FORM,
                                        retry_safe=retry_safe, subject=subject, read_timeout=read_timeout, watch=watch)
        return self._transport.send(method, path, query=urlencode(params) if params else '', retry_safe=retry_safe,
                                    subject=subject, read_timeout=read_timeout, watch=watch)

    def _keys_path(self, key: str) -> str:
        return '%s/keys%s' % (self.version_prefix, quote(key, safe='/'))

    @staticmethod
    def _result(answer: Answer, subject: Optional[str] = None, api: bool = True, write: bool = False) -> EtcdResult:
        """Turn an answer into an EtcdResult or the matching exception."""
        data = parse_body(answer.status, answer.headers, answer.text, answer.endpoint, subject, api=api, write=write)
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
            check_bool(name, value)
        wait_index = check_index(wait_index, 'wait_index')
        if wait_index is not None and not wait:
            raise ClientException('wait_index needs wait=True')
        if timeout is not None:
            timeout = check_timeout(timeout, 'timeout')[1]
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
        ttl = check_ttl(ttl)
        check_bool('refresh', refresh)
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
            params['value'] = value_text(value)
        if ttl is not None:
            params['ttl'] = str(ttl)
        params.update(conditions(key, prev_exist=prev_exist, prev_value=prev_value, prev_index=prev_index))
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
        ttl = check_ttl(ttl)
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        operations = []
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ClientException('write_many items must be (key, value) pairs, got %r' % (pair,))
            key = normalize_key(pair[0])
            params = {'value': value_text(pair[1], 'value of %s' % key)}
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
        check_batch_shape(concurrency, pipeline)
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
            check_request_line(method, target, '', key)
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
            params[name] = check_value(value, '%s of %s' % (name, key))
        return method, key, params

    def _pipelined(self, jobs: List[Tuple[str, str, Dict[str, str], str, bytes]], concurrency: int,
                   pipeline: int) -> List[EtcdResult]:
        """Send checked ``(method, key, params, target, body)`` jobs on ``concurrency`` pipelined
        connections; the engine behind :meth:`send_many` and :meth:`write_many`."""
        def parse(answer: Answer, position: int) -> EtcdResult:
            return self._result(answer, subject=jobs[position][1], write=True)

        def send_one(position: int) -> EtcdResult:
            method, key, params = jobs[position][:3]
            return self._keys(method, key, dict(params))

        batch = PipelinedBatch(self._transport, [Job(job[0], job[1], job[3], job[4]) for job in jobs],
                               concurrency=concurrency, pipeline=pipeline, headers=self._transport.headers(FORM),
                               parse=parse, later=lambda exc: isinstance(exc, EtcdLeaderElect), send_one=send_one)
        return batch.run()

    def append(self, directory: str, value: str, ttl: Optional[int] = None) -> EtcdResult:
        """POST an in-order key into ``directory`` (its name is the index, zero-padded).

        Never re-sent after it was sent without an answer: that would add a second key.
        """
        directory = normalize_key(directory, 'directory')
        params = {'value': value_text(value)}
        ttl = check_ttl(ttl)
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
        check_bool('recursive', recursive)
        check_bool('dir', dir)
        params = {}
        if recursive:
            params['recursive'] = 'true'
        if dir:
            params['dir'] = 'true'
        params.update(conditions(key, prev_value=prev_value, prev_index=prev_index))
        return self._keys('DELETE', key, params)

    def mkdir(self, directory: str, ttl: Optional[int] = None) -> EtcdResult:
        """Create a directory. :raises EtcdNodeExist: something (key or directory) is already there."""
        directory = normalize_key(directory, 'directory')
        return self._keys('PUT', directory, mkdir_params(ttl))

    def rmdir(self, directory: str, recursive: bool = False) -> EtcdResult:
        """Delete a directory, and with ``recursive`` everything under it.

        etcd also deletes a plain key given here (``dir=true`` is not a condition); read first
        when that matters. :raises EtcdDirNotEmpty: not empty and not recursive.
        """
        directory = normalize_key(directory, 'directory')
        return self._keys('DELETE', directory, rmdir_params(recursive))

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
        ttl = check_ttl(ttl)
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
        return reports_healthy(self._send('GET', '/health', None, retry_safe=True, subject='/health'))

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
        # Only the leader answers; find it and ask it directly: through the transport when it
        # is one of the members given (failover rules, TLS messages), else at its own URL.
        urls = [url.rstrip('/') for url in self.leader().get('clientURLs') or []]
        if not urls:
            raise EtcdInvalidResponse('the leader announces no client URL', endpoint=self.current_endpoint)
        path = self.version_prefix + '/stats/leader'
        for url in urls:
            if url in self.endpoints:
                answer = self._transport.send('GET', path, retry_safe=True, subject='stats/leader',
                                              only=self.endpoints.index(url))
                return self._result(answer, subject='stats/leader')
        try:
            response = self._session.get(urls[0] + path, timeout=self.timeout)
        except requests.exceptions.RequestException as exc:
            raise EtcdConnectionFailed(None, [(urls[0], describe_transport(exc, urls[0]))], key='stats/leader') from None
        return self._result(Answer(response.status_code, response.headers, response.text, urls[0]), subject='stats/leader')


def sorted_names(mapping: Dict[str, Any]) -> List[str]:
    # read() has a parameter named sorted.
    return sorted(str(name) for name in mapping)
