# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the planners need from etcd: the :class:`KeyStore` protocol and its :class:`Condition`.

The planners (``key.py``, ``cas.py``, ``dir.py``) read, decide, and write through a store;
they never build a request. A store adapter maps this interface onto one client API:
``store_v2.V2Store`` onto the v2 keys API, ``store_v3.V3Store`` onto the v3 store. An adapter for another API implements the same
methods, and the planners stay as they are.

Every write takes a :class:`Condition` (``when``) that the server checks atomically with
the write. A refused condition raises :class:`common.ConditionFailed`, whatever the API
calls it; every other failure is the client's own exception.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Protocol, Sequence

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_plan import Operation


@dataclass(frozen=True)
class Condition:
    """What must hold for a write to be applied; every given part together, none: always.

    ``exists``: the key must (True) or must not (False) exist. ``value``: the key must hold
    this value. ``index``: the key must be unchanged since this modification index (the
    ``modified_index`` read).
    """

    exists: Optional[bool] = None
    value: Optional[str] = None
    index: Optional[int] = None

    @classmethod
    def absent(cls) -> 'Condition':
        """Only if nothing is at the key: a create."""
        return cls(exists=False)

    @classmethod
    def unchanged_since(cls, index: Optional[int]) -> 'Condition':
        """Only if the key is still as it was read at ``index``."""
        return cls(index=index)

    def __bool__(self) -> bool:
        return self.exists is not None or self.value is not None or self.index is not None


ALWAYS = Condition()


class KeyStore(Protocol):
    """The reads and writes of the planners. Nodes have the attributes of a ``ResponseNode``
    (``key``, ``value``, ``dir``, ``ttl``, ``created_index``, ``modified_index``,
    ``children``) and ``to_dict()``; results of writes have ``node``."""

    @property
    def current_endpoint(self) -> str:
        """The member the last request went to, for messages."""

    def read(self, key: str) -> Any:
        """A linearizable read of one key: its node, or None when it does not exist."""

    def read_tree(self, path: str) -> Any:
        """A linearizable read of ``path`` and everything below it, or None when nothing is there.

        This and the two directory writes below are the v2 store's only (``V2Store``): on v3 a
        directory is a prefix, which ``dir_v3.PrefixStore`` handles in transactions of its own."""

    def put(self, key: str, value: str, ttl: Optional[int] = None, when: Condition = ALWAYS) -> Any:
        """Store ``value`` (with ``ttl`` seconds to live, else permanent) if ``when`` holds."""

    def refresh(self, key: str, ttl: int, when: Condition = ALWAYS) -> Any:
        """Reset the TTL of an existing key to ``ttl`` without changing its value or waking watchers."""

    def delete(self, key: str, when: Condition = ALWAYS) -> Any:
        """Delete one key if ``when`` holds."""

    def apply(self, operation: Operation) -> Any:
        """Send one planned directory operation (``dir_plan.Operation``)."""

    def apply_many(self, operations: Sequence[Operation], concurrency: int) -> List[Any]:
        """Send operations on distinct keys together, on up to ``concurrency`` connections.

        Returns the results in order; raises :class:`common.BatchFailed` when one fails.
        """


def open_store(client: Any) -> KeyStore:
    """The store for ``client``: ``V3Store`` for an ``Etcd3Client``, ``V2Store`` for a v2 ``Client``."""
    # Imported here: the adapters depend on this module's Condition.
    # pylint: disable=import-outside-toplevel
    from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.base import Etcd3Base
    if isinstance(client, Etcd3Base):
        from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store_v3 import V3Store
        return V3Store(client)
    from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store_v2 import V2Store
    return V2Store(client)
