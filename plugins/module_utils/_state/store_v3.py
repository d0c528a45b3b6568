# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The :class:`KeyStore` of the planners on the etcd v3 store: :class:`V3Store`.

The only file of the state layer that knows the v3 client for single keys (``etcd_key`` and
``etcd_cas``). How the planners' words map onto v3:

* a node is a :class:`V3Node`: the key's ``KeyValue`` with ``created_index``/``modified_index``
  holding its ``create_revision``/``mod_revision``, and ``ttl`` the seconds its lease has left
  (None without a lease), so the v2 plans (TTL rule, renewal rule) apply unchanged;
* a :class:`Condition` becomes txn compares sent with the write: ``exists=False`` -> CREATE
  == 0, ``exists=True`` -> VERSION > 0, ``value`` -> VALUE ==, ``index`` -> MOD ==; a txn whose
  compares fail is :class:`ConditionFailed`;
* a TTL is a lease granted for the write (revoked again when the condition fails, so no
  lease is left behind); ``refresh`` keeps the key's own lease alive when that lease was
  granted for ``ttl`` seconds and holds no other key, and otherwise puts the same value again
  with a new lease of ``ttl`` seconds (a keep-alive cannot change a lease's TTL, and must not
  extend keys the task did not name).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Union

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import ConditionFailed
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store import ALWAYS, Condition
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3 import txn
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import encode
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.result import KeyValue
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdException


@dataclass
class V3Node:
    """One v3 key as the planners and the modules see it (see the module docstring)."""

    key: str
    value: Union[str, bytes, None]
    create_revision: int
    mod_revision: int
    version: int
    lease: int = 0
    ttl: Optional[int] = None
    granted_ttl: Optional[int] = None
    lease_keys: int = 0
    dir: bool = False
    children: Optional[List[Any]] = None

    @property
    def created_index(self) -> int:
        return self.create_revision

    @property
    def modified_index(self) -> int:
        return self.mod_revision

    @classmethod
    def from_kv(cls, kv: KeyValue, lease_info: Any = None) -> 'V3Node':
        """The node of ``kv``; ``lease_info`` is the time-to-live answer of its lease (None when
        the lease is gone: expired this instant, so the key goes with it and has 0 s left)."""
        node = cls(key=kv.key if isinstance(kv.key, str) else kv.key_bytes.decode('utf-8', 'replace'), value=kv.value,
                   create_revision=kv.create_revision, mod_revision=kv.mod_revision, version=kv.version, lease=kv.lease)
        if kv.lease:
            node.ttl = 0 if lease_info is None else lease_info.ttl
            if lease_info is not None:
                node.granted_ttl = lease_info.granted_ttl
                node.lease_keys = len(lease_info.keys)
        return node

    def to_dict(self) -> Dict[str, Any]:
        """The result fields: the v2 names (revisions in ``created_index``/``modified_index``)
        and the v3 ones, so one playbook reads both APIs' results."""
        data: Dict[str, Any] = dict(key=self.key, dir=False, ttl=self.ttl, expiration=None,
                                    created_index=self.create_revision, modified_index=self.mod_revision,
                                    create_revision=self.create_revision, mod_revision=self.mod_revision,
                                    version=self.version, lease=self.lease)
        if isinstance(self.value, bytes):
            # Not UTF-8: the exact bytes in base64, never a mangled string.
            data.update(value=None, value_base64=encode(self.value))
        else:
            data['value'] = self.value
        return data


@dataclass
class V3Write:
    """The answer of a write, as the planners use it: ``node`` after the write (None after a
    delete) and the store ``revision`` of the transaction."""

    node: Optional[V3Node]
    revision: int


def compares_for(key: str, when: Condition) -> List[Dict[str, Any]]:
    """The txn compares that check ``when`` on ``key``: only the parts given."""
    compares = []
    if when.exists is False:
        compares.append(txn.compare_create(key, '==', 0))
    elif when.exists is True:
        compares.append(txn.compare_version(key, '>', 0))
    if when.value is not None:
        compares.append(txn.compare_value(key, '==', when.value))
    if when.index is not None:
        compares.append(txn.compare_mod(key, '==', when.index))
    return compares


class V3Store:
    """The single-key part of a :class:`KeyStore` on an ``Etcd3Client`` (which the caller opens
    and closes): ``read``, ``put``, ``refresh``, ``delete``. Directories are prefixes on v3, which
    etcd_dir reads and writes through ``dir_v3.PrefixStore``, not through a store.

    ``revision`` is the store revision of the last answer, for the module results.
    """

    api_version = 'v3'

    def __init__(self, client: Any):
        self.client = client
        self.revision: Optional[int] = None
        self._read: Dict[str, V3Node] = {}

    @property
    def current_endpoint(self) -> str:
        return self.client.current_endpoint

    # -- reads ------------------------------------------------------------------------------

    def read(self, key: str) -> Optional[V3Node]:
        """A linearizable read of ``key`` and, when it has a lease, of the lease's time left."""
        answer = self.client.range(key)
        self.revision = answer.header.revision
        kv = answer.kv
        if kv is None:
            self._read.pop(key, None)
            return None
        # None when the lease is gone (expired this instant): the key goes with it.
        info = self.client.lease_time_to_live(kv.lease, keys=True) if kv.lease else None
        node = V3Node.from_kv(kv, info)
        self._read[key] = node
        return node

    # -- writes -----------------------------------------------------------------------------

    def put(self, key: str, value: str, ttl: Optional[int] = None, when: Condition = ALWAYS) -> V3Write:
        lease = self.client.lease(ttl) if ttl is not None else None
        try:
            return self._put(key, value, lease, when)
        except ConditionFailed:
            self._revoke(lease)
            raise
        except EtcdException as exc:
            if not getattr(exc, 'outcome_unknown', False):
                self._revoke(lease)  # refused: the lease holds nothing
            raise

    def refresh(self, key: str, ttl: int, when: Condition = ALWAYS) -> V3Write:
        current = self._read.get(key)
        if current is not None and current.lease and current.granted_ttl == ttl and current.lease_keys <= 1:
            # Check the conditions, then renew the lease that only this key holds.
            answer = self.client.transaction(compares_for(key, when) + [txn.compare_lease(key, '==', current.lease)],
                                             [txn.get_op(key)])
            self.revision = answer.header.revision
            if not answer.succeeded:
                raise ConditionFailed(key, EtcdException('the key changed or lost its lease since it was read'))
            self.client.refresh_lease(current.lease)
            return V3Write(replace(current, ttl=ttl), answer.header.revision)
        if current is None:
            raise ConditionFailed(key, EtcdException('the key does not exist'))
        return self.put(key, current.value, ttl=ttl, when=when)

    def delete(self, key: str, when: Condition = ALWAYS) -> V3Write:
        answer = self.client.transaction(compares_for(key, when), [txn.delete_op(key)])
        self.revision = answer.header.revision
        if not answer.succeeded:
            raise ConditionFailed(key, EtcdException('the key changed since it was read'))
        return V3Write(None, answer.header.revision)

    def _put(self, key: str, value: Any, lease: Any, when: Condition) -> V3Write:
        answer = self.client.transaction(compares_for(key, when), [txn.put_op(key, value, lease.id if lease is not None else None, prev_kv=True)])
        revision = answer.header.revision
        self.revision = revision
        if not answer.succeeded:
            raise ConditionFailed(key, EtcdException('the key changed since it was read'))
        previous = answer.responses[0].prev_kv if answer.responses else None
        lease_id = int(lease) if lease is not None else 0
        node = V3Node(key=key, value=value, create_revision=previous.create_revision if previous else revision,
                      mod_revision=revision, version=(previous.version + 1) if previous else 1, lease=lease_id,
                      ttl=lease.ttl if lease is not None else None, granted_ttl=lease.ttl if lease is not None else None,
                      lease_keys=1 if lease is not None else 0)
        return V3Write(node, revision)

    def _revoke(self, lease: Any) -> None:
        if lease is None:
            return
        try:
            lease.revoke()
        except EtcdException:
            pass  # it expires on its own: a lease holding no key costs nothing
