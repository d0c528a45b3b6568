# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Answers of the etcd v2 API: :class:`EtcdResult` and the :class:`ResponseNode` it holds."""
from __future__ import annotations

import json
from typing import Any, Iterator, List, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    EtcdInvalidResponse,
    exception_for,
)


class ResponseNode:
    """One node of an answer: a key, or a directory with ``children``.

    Attributes use Python names (``created_index``); item access also takes etcd's JSON names,
    so ``node['key']``, ``node['modifiedIndex']`` and ``node['nodes']`` work as in pyetcd.
    """

    _ALIASES = {
        'createdIndex': 'created_index',
        'modifiedIndex': 'modified_index',
        'nodes': 'children',
    }

    __slots__ = ('key', 'value', 'created_index', 'modified_index', 'ttl', 'expiration', 'dir', 'children')

    def __init__(self, key: Optional[str] = None, value: Optional[str] = None, created_index: Optional[int] = None,
                 modified_index: Optional[int] = None, ttl: Optional[int] = None, expiration: Optional[str] = None,
                 dir: bool = False, children: Optional[List['ResponseNode']] = None):  # pylint: disable=redefined-builtin
        self.key = key
        self.value = value
        self.created_index = created_index
        self.modified_index = modified_index
        self.ttl = ttl
        self.expiration = expiration
        self.dir = dir
        self.children = children if children is not None else []

    @classmethod
    def from_dict(cls, data: dict) -> 'ResponseNode':
        """Build a node (and its children, recursively) from etcd's JSON ``node`` object."""
        if not isinstance(data, dict):
            raise EtcdInvalidResponse('node is not a JSON object: %r' % (data,))
        return cls(
            key=data.get('key', '/'),
            value=data.get('value'),
            created_index=data.get('createdIndex'),
            modified_index=data.get('modifiedIndex'),
            ttl=data.get('ttl'),
            expiration=data.get('expiration'),
            dir=bool(data.get('dir', False)),
            children=[cls.from_dict(child) for child in data.get('nodes') or []],
        )

    def to_dict(self) -> dict:
        """The node as plain data (etcd's field names use snake case here); children nested."""
        data = {
            'key': self.key,
            'dir': self.dir,
            'created_index': self.created_index,
            'modified_index': self.modified_index,
            'ttl': self.ttl,
            'expiration': self.expiration,
        }
        if self.dir:
            data['children'] = [child.to_dict() for child in self.children]
        else:
            data['value'] = self.value
        return data

    @property
    def name(self) -> str:
        """Last segment of the key ('' for the root)."""
        return (self.key or '/').rstrip('/').rsplit('/', 1)[-1]

    def leaves(self) -> Iterator['ResponseNode']:
        """Every key (not directory) at or below this node, depth first."""
        if not self.dir:
            yield self
            return
        for child in self.children:
            yield from child.leaves()

    def __getitem__(self, item: str) -> Any:
        attr = self._ALIASES.get(item, item)
        if attr not in self.__slots__:
            raise KeyError(item)
        return getattr(self, attr)

    def get(self, item: str, default: Any = None) -> Any:
        try:
            return self[item]
        except KeyError:
            return default

    def __contains__(self, item: str) -> bool:
        return self._ALIASES.get(item, item) in self.__slots__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResponseNode):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        kind = 'dir' if self.dir else 'key'
        return 'ResponseNode(%s %r, modified_index=%r, ttl=%r)' % (kind, self.key, self.modified_index, self.ttl)


def _int_header(headers, name: str) -> Optional[int]:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class EtcdResult:
    """A parsed answer from etcd.

    ``EtcdResult(response)`` takes a ``requests`` response; it raises the mapped
    :class:`~exceptions.EtcdException` when the body carries an ``errorCode`` and
    :class:`~exceptions.EtcdInvalidResponse` when the body is not JSON. The raw body is in
    ``data``; keys-API answers have ``action``, ``node`` and ``prevNode``; ``/version``,
    ``/v2/stats/*`` answers have the matching properties. Missing fields are ``None``.
    """

    def __init__(self, response: Any = None, data: Optional[dict] = None, headers: Optional[dict] = None,
                 endpoint: Optional[str] = None):
        if response is not None:
            endpoint = endpoint or getattr(response, 'url', None)
            headers = response.headers
            text = response.text
            if not text.strip():
                raise EtcdInvalidResponse('empty answer (HTTP %s)' % response.status_code, status=response.status_code, endpoint=endpoint)
            try:
                data = json.loads(text)
            except ValueError:
                raise EtcdInvalidResponse('answer is not JSON (HTTP %s): %.80r' % (response.status_code, text),
                                          status=response.status_code, endpoint=endpoint) from None
            if isinstance(data, dict) and 'errorCode' in data:
                raise exception_for(data, response.status_code, endpoint)
        if not isinstance(data, dict):
            raise EtcdInvalidResponse('answer is not a JSON object: %.80r' % (data,), endpoint=endpoint)
        self.data = data
        self.headers = dict(headers or {})
        self.endpoint = endpoint
        node = data.get('node')
        prev = data.get('prevNode')
        self._node = ResponseNode.from_dict(node) if node is not None else None
        self._prev = ResponseNode.from_dict(prev) if prev is not None else None

    # keys API
    @property
    def action(self) -> Optional[str]:
        """Action type: get, set, create, update, delete, compareAndSwap, compareAndDelete, expire."""
        return self.data.get('action')

    @property
    def node(self) -> Optional[ResponseNode]:
        """The node after the request (for a delete: the key as it is now, without value)."""
        return self._node

    @property
    def prevNode(self) -> Optional[ResponseNode]:  # pylint: disable=invalid-name
        """The node before a write or delete, when there was one."""
        return self._prev

    prev_node = prevNode

    @property
    def x_etcd_index(self) -> Optional[int]:
        """X-Etcd-Index header: the store index when the answer was made."""
        return _int_header(self.headers, 'X-Etcd-Index')

    @property
    def raft_index(self) -> Optional[int]:
        return _int_header(self.headers, 'X-Raft-Index')

    @property
    def raft_term(self) -> Optional[int]:
        return _int_header(self.headers, 'X-Raft-Term')

    @property
    def cluster_id(self) -> Optional[str]:
        return self.headers.get('X-Etcd-Cluster-Id')

    # /version
    @property
    def version_etcdserver(self) -> Optional[str]:
        return self.data.get('etcdserver')

    @property
    def version_etcdcluster(self) -> Optional[str]:
        return self.data.get('etcdcluster')

    # /v2/stats/self and /v2/stats/leader
    @property
    def name(self) -> Optional[str]:
        return self.data.get('name')

    @property
    def id(self) -> Optional[str]:  # pylint: disable=invalid-name
        return self.data.get('id')

    @property
    def state(self) -> Optional[str]:
        return self.data.get('state')

    @property
    def startTime(self) -> Optional[str]:  # pylint: disable=invalid-name
        return self.data.get('startTime')

    @property
    def leaderInfo(self) -> Optional[dict]:  # pylint: disable=invalid-name
        return self.data.get('leaderInfo')

    @property
    def recvAppendRequestCnt(self) -> Optional[int]:  # pylint: disable=invalid-name
        return self.data.get('recvAppendRequestCnt')

    @property
    def sendAppendRequestCnt(self) -> Optional[int]:  # pylint: disable=invalid-name
        return self.data.get('sendAppendRequestCnt')

    @property
    def leader(self) -> Optional[str]:
        """Leader id (stats/leader) or, from stats/self, ``leaderInfo.leader``."""
        if 'leader' in self.data:
            return self.data.get('leader')
        info = self.data.get('leaderInfo')
        return info.get('leader') if isinstance(info, dict) else None

    @property
    def followers(self) -> Optional[dict]:
        return self.data.get('followers')

    def __repr__(self) -> str:
        return 'EtcdResult(action=%r, node=%r, x_etcd_index=%r)' % (self.action, self._node, self.x_etcd_index)
