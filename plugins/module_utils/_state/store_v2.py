# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The :class:`KeyStore` of the planners on the etcd v2 keys API: :class:`V2Store`.

The only file of the state layer that knows the v2 client. A :class:`Condition` becomes the
client's condition arguments, a planned directory operation becomes one keys-API request whose
parameters ``_v2/args.py`` builds (this file spells no wire parameter), and the three ways etcd
says "your condition no longer holds" (a failed compare, a key that exists for a create, a key
gone for a compare) become :class:`ConditionFailed`.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import BatchFailed, ConditionFailed, read_or_none
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_plan import (
    DELETE, MKDIR, RMDIR, RMTREE, SET, SET_DIR_TTL, Operation,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store import ALWAYS, Condition
from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.args import (
    conditions, mkdir_params, normalize_key, rmdir_params, value_params,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.client import Client
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    EtcdBulkWriteFailed, EtcdKeyNotFound, EtcdNodeExist, EtcdTestFailed,
)

# How the v2 API refuses a condition: a value or index test failed, the key exists for a
# create, or it is missing for a condition that needs it.
_REFUSED = (EtcdTestFailed, EtcdNodeExist, EtcdKeyNotFound)

# Requests in flight per connection when a batch may use several connections.
_PIPELINE = 16


def _arguments(when: Condition) -> Dict[str, Any]:
    """The client's keyword arguments for ``when``: only the parts given."""
    given = {'prev_exist': when.exists, 'prev_value': when.value, 'prev_index': when.index}
    return {name: value for name, value in given.items() if value is not None}


class V2Store:
    """A :class:`KeyStore` on a v2 :class:`Client` (which the caller opens and closes)."""

    def __init__(self, client: Client):
        self.client = client

    @property
    def current_endpoint(self) -> str:
        return self.client.current_endpoint

    def read(self, key: str) -> Any:
        # Quorum: a stale follower must not hide a write the plan needs.
        return read_or_none(lambda: self.client.read(key, quorum=True))

    def read_tree(self, path: str) -> Any:
        return read_or_none(lambda: self.client.read(path, recursive=True, quorum=True))

    def put(self, key: str, value: str, ttl: Optional[int] = None, when: Condition = ALWAYS) -> Any:
        # A write without ttl leaves the key permanent, even if it had a TTL before.
        return self._conditional(key, lambda: self.client.write(key, value, ttl=ttl, **_arguments(when)))

    def refresh(self, key: str, ttl: int, when: Condition = ALWAYS) -> Any:
        # A refresh does not wake watchers; the client makes it conditional on the key existing.
        return self._conditional(key, lambda: self.client.write(key, None, ttl=ttl, refresh=True, **_arguments(when)))

    def delete(self, key: str, when: Condition = ALWAYS) -> Any:
        if when.exists is not None:
            raise ValueError('a v2 delete takes no existence condition (key %s)' % key)
        return self._conditional(key, lambda: self.client.delete(key, **_arguments(when)))

    @staticmethod
    def _conditional(key: str, write: Any) -> Any:
        try:
            return write()
        except _REFUSED as exc:
            raise ConditionFailed(key, exc) from exc

    # -- directory operations: not wrapped, the executor reports their failures itself ------

    def apply(self, operation: Operation) -> Any:
        if operation.action == SET_DIR_TTL:
            # Reads the directory first; a TTL of None removes it.
            return self.client.update_ttl(operation.key, operation.ttl)
        return self.client.send(*request_for(operation))

    def apply_many(self, operations: Sequence[Operation], concurrency: int) -> List[Any]:
        requests = [request_for(op) for op in operations]
        try:
            return self.client.send_many(requests, concurrency=concurrency, pipeline=1 if concurrency == 1 else _PIPELINE)
        except EtcdBulkWriteFailed as exc:
            # The client names keys as it sent them: map them back to the operations.
            by_key = {normalize_key(op.key): op for op in operations}
            raise BatchFailed(exc, exc.results, [(by_key[key], cause) for key, cause in exc.failures],
                              [by_key[key] for key in exc.not_sent]) from exc


def request_for(op: Operation) -> Tuple[str, str, Dict[str, str]]:
    """The one keys-API request of a planned operation, as ``(method, key, params)`` for
    ``Client.send``/``Client.send_many``.

    SET: PUT value, as a create or on the index read. MKDIR: PUT of a new directory [ttl]. DELETE: DELETE on the index read. RMDIR: DELETE of a directory,
    which etcd refuses (108) when it is not empty. RMTREE: the recursive DELETE of a directory.
    SET_DIR_TTL has no single request (see :meth:`V2Store.apply`).
    """
    if op.action == SET:
        condition = {'prev_exist': False} if op.create else {'prev_index': op.prev_index}
        return 'PUT', op.key, value_params(op.key, op.value, **condition)
    if op.action == MKDIR:
        return 'PUT', op.key, mkdir_params(op.ttl)
    if op.action == DELETE:
        return 'DELETE', op.key, conditions(op.key, prev_index=op.prev_index)
    if op.action == RMDIR:
        return 'DELETE', op.key, rmdir_params()
    if op.action == RMTREE:
        return 'DELETE', op.key, rmdir_params(recursive=True)
    raise ValueError('no single request for operation %r' % (op.action,))
