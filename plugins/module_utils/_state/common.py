# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the planners of etcd_key, etcd_cas and etcd_dir share: one copy of each.

The errors of the state layer (:class:`StateError` and the two a store raises,
:class:`ConditionFailed` and :class:`BatchFailed`), the ``<hidden>`` marker, the bound on
read-and-write attempts, and the plain data the modules return for a node (``node_data``,
``predicted_node``, ``diff_side``). Nothing here imports Ansible or knows a wire format.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdKeyNotFound

# How a value marked sensitive is shown in results, diffs and the invocation.
HIDDEN = '<hidden>'

# Each extra attempt means another writer changed the key between our read and our write;
# a few are enough to win against occasional writers without spinning on a hot key.
MAX_ATTEMPTS = 3


class StateError(Exception):
    """The declared state cannot be planned or reached. ``str()`` is one line; ``category``
    names the cause in a few words and ``endpoint`` the member that was asked, both for the
    module's failure message."""

    def __init__(self, message: str, category: Optional[str] = 'invalid argument', endpoint: Optional[str] = None):
        super().__init__(message)
        self.category = category
        self.endpoint = endpoint


class ConditionFailed(Exception):
    """A conditional write was refused because its condition no longer held: another writer
    changed, created or deleted the key after the read. ``cause`` is the store's own error."""

    def __init__(self, key: str, cause: BaseException):
        super().__init__('the condition on %s no longer held: %s' % (key, cause))
        self.key = key
        self.cause = cause


class BatchFailed(Exception):
    """A batch of writes stopped at a failure (see ``KeyStore.apply_many``).

    ``results`` are the answers of the writes applied, in the order of the batch (None where
    a write was not applied); ``failures`` pairs each failed operation with its error;
    ``not_sent`` lists the operations never sent.
    """

    def __init__(self, cause: BaseException, results: Sequence[Any], failures: List[Tuple[Any, BaseException]],
                 not_sent: List[Any]):
        super().__init__(str(cause))
        self.cause = cause
        self.results = list(results)
        self.failures = failures
        self.not_sent = not_sent


def read_or_none(read: Callable[[], Any]) -> Any:
    """``read()``'s node, or None when the key does not exist."""
    try:
        return read().node
    except EtcdKeyNotFound:
        return None


def absolute_key(key: str) -> str:
    """A key as the modules name it in their results: with exactly one leading ``/``.

    A key that names nothing (``''``, ``'/'``) is returned as given, so that the error about
    it quotes what the task said.
    """
    return '/' + key.lstrip('/') if key.strip('/') else key


def attr(node: Any, name: str, default: Any = None) -> Any:
    """``node.name``, or ``default`` for a node without it."""
    return getattr(node, name, default)


def node_data(node: Any, sensitive: bool = False) -> Optional[Dict[str, Any]]:
    """Plain data for a node as the modules return it (None stays None); the value hidden when sensitive.

    ``node`` is a store's node (its ``to_dict()`` gives the result's names) or data already
    in that shape (:func:`predicted_node`).
    """
    if node is None:
        return None
    data = node.to_dict() if hasattr(node, 'to_dict') else dict(node)
    if sensitive and 'value' in data:
        data['value'] = HIDDEN
    if sensitive and data.get('value_base64') is not None:
        # A v3 value that is not UTF-8 comes as base64: the same secret.
        data['value_base64'] = HIDDEN
    return data


def predicted_node(key: str, value: Optional[str], ttl: Optional[int], current: Any = None) -> Dict[str, Any]:
    """The key a write would leave behind, as check mode returns it.

    What only the write would tell (the modified index, the expiration) is None; the created
    index is the one read, since a write to an existing key keeps it.
    """
    # The fields of a returned node (see RETURN of etcd_key and etcd_cas).
    return dict(key=key, dir=False, value=value, created_index=attr(current, 'created_index'), modified_index=None,
                ttl=ttl, expiration=None)


def diff_side(node: Any, sensitive: bool = False) -> Dict[str, Any]:
    """One side of a key's ``--diff``: its state and, when present, value and TTL."""
    data = node_data(node, sensitive)
    if data is None:
        return {'state': 'absent'}
    return {'state': 'present', 'value': data.get('value'), 'ttl': data.get('ttl')}
