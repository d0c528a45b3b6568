# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Answers of the etcd v2 API: :class:`EtcdResult` and the :class:`ResponseNode` it holds."""
from __future__ import annotations

from typing import Any, Iterator, List, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.answers import parse_body
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdInvalidResponse


class ResponseNode(dict):
    """One node of an answer: a key, or a directory with ``children``.

    The node is the dict etcd sent (``key``, ``value``, ``createdIndex``, ``modifiedIndex``,
    ``ttl``, ``expiration``, ``dir``, ``nodes``), as pyetcd hands it out: ``node['value']``,
    ``node.keys()``, ``dict(node)`` and ``json.dumps(node)`` work, and ``'ttl' in node`` is true
    only when etcd sent a TTL. The children in ``nodes`` are ResponseNodes too. Attributes give
    the same fields with Python names (``created_index``, ``children``), ``None`` when absent;
    item access also takes those names for the fields etcd names differently.
    """

    __slots__ = ()

    _ALIASES = {
        'created_index': 'createdIndex',
        'modified_index': 'modifiedIndex',
        'children': 'nodes',
    }

    def __init__(self, key: Optional[str] = None, value: Optional[str] = None, created_index: Optional[int] = None,
                 modified_index: Optional[int] = None, ttl: Optional[int] = None, expiration: Optional[str] = None,
                 dir: bool = False, children: Optional[List['ResponseNode']] = None):  # pylint: disable=redefined-builtin
        super().__init__()
        for name, field in (('key', key), ('value', value), ('createdIndex', created_index),
                            ('modifiedIndex', modified_index), ('ttl', ttl), ('expiration', expiration)):
            if field is not None:
                self[name] = field
        if dir:
            self['dir'] = True
            if children:
                self['nodes'] = list(children)

    @classmethod
    def from_dict(cls, data: dict) -> 'ResponseNode':
        """Build a node (and its children, recursively) from etcd's JSON ``node`` object."""
        if not isinstance(data, dict):
            raise EtcdInvalidResponse('node is not a JSON object: %r' % (data,))
        node = cls.__new__(cls)
        dict.update(node, data)
        if 'key' not in node:
            node['key'] = '/'  # etcd leaves out the key of the root directory
        children = data.get('nodes')
        if children:
            node['nodes'] = [cls.from_dict(child) for child in children]
        return node

    # Python names for etcd's fields; None when etcd did not send the field.
    key = property(lambda self: self.get('key'))
    value = property(lambda self: self.get('value'))
    created_index = property(lambda self: self.get('createdIndex'))
    modified_index = property(lambda self: self.get('modifiedIndex'))
    ttl = property(lambda self: self.get('ttl'))
    expiration = property(lambda self: self.get('expiration'))
    dir = property(lambda self: bool(self.get('dir', False)))
    # A directory read without recursive lists its subdirectories without their children.
    children = property(lambda self: self.get('nodes') or [], doc='The child nodes.')

    def to_dict(self) -> dict:
        """The node as plain data with snake-case names (as the modules return it); children nested.

        ``json.dumps(node)`` gives etcd's own JSON instead.
        """
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

    def __missing__(self, item: str) -> Any:
        alias = self._ALIASES.get(item)
        if alias is not None:
            # What etcd left out reads as None (no children: an empty list) under the Python name.
            return dict.get(self, alias, [] if alias == 'nodes' else None)
        raise KeyError(item)

    def get(self, item: str, default: Any = None) -> Any:
        if dict.__contains__(self, item):
            return dict.__getitem__(self, item)
        alias = self._ALIASES.get(item)
        if alias is not None and dict.__contains__(self, alias):
            return dict.__getitem__(self, alias)
        return default

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
            data = parse_body(response.status_code, headers, response.text, endpoint, api=False)
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

    # /health
    @property
    def health(self) -> bool:
        """True when the answer is a ``/health`` that says ``"health": "true"``."""
        return str(self.data.get('health')).lower() == 'true'

    def __repr__(self) -> str:
        return 'EtcdResult(action=%r, node=%r, x_etcd_index=%r)' % (self.action, self._node, self.x_etcd_index)
