# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keys of the v3 store: reads, writes, transactions and batched writes (a mixin of
:class:`~plugins.module_utils.pyetcd3.Etcd3Client`).

Keys are verbatim: ``foo`` is not ``/foo``; nothing is added or stripped. Keys and values may
be ``str`` (sent as UTF-8) or ``bytes``; values come back as ``str`` when they are UTF-8 and as
``bytes`` otherwise (``KeyValue.value_bytes`` is always the exact bytes).
"""
from __future__ import annotations

import json
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.pipeline import Job, PipelinedBatch, check_batch_shape
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.transport import JSON, Answer
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.answers import parse_answer
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import check_key, decode_bytes, display, to_bytes
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.lease import lease_id_of
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.result import (
    DeleteResult,
    KeyValue,
    PutResult,
    RangeResult,
    TxnResult,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.txn import (
    chunks,
    compare_create,
    compare_mod,
    compare_value,
    delete_op,
    delete_request,
    parse_txn,
    put_op,
    put_request,
    range_request,
    txn_request,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import ClientException, EtcdUnauthenticated

Bytes = Union[str, bytes]
# Bytes of protobuf framing around one put in a transaction (field tags and lengths).
_PUT_FRAMING = 16
# sort=... of get_prefix: python-etcd3's names for what to sort by.
_SORT_TARGETS = {'key': 'KEY', 'version': 'VERSION', 'create': 'CREATE', 'mod': 'MOD', 'value': 'VALUE'}


def _name(key: Bytes) -> str:
    return display(check_key(key))


class KVMixin:
    """``get``, ``get_prefix``, ``get_range``, ``count_prefix``, ``put``, ``delete``,
    ``delete_prefix``, ``transaction``, ``replace``, ``put_if_absent``, ``delete_if``, ``put_many``."""

    # -- reads --------------------------------------------------------------------------------

    def range(self, key: Bytes, range_end: Optional[Bytes] = None, *, prefix: bool = False, limit: int = 0,
              revision: Optional[int] = None, serializable: bool = False, keys_only: bool = False,
              count_only: bool = False, sort_order: Optional[str] = None, sort_target: Optional[str] = None) -> RangeResult:
        """``/kv/range`` with every option: the answer with its header (the store revision).

        ``revision`` reads the store as it was then (:class:`EtcdCompacted` when that history is
        gone); ``serializable`` reads the member's own copy without a quorum round trip.
        """
        body = range_request(key, range_end, prefix, limit, revision or 0, serializable, keys_only, count_only,
                             sort_order, sort_target)
        return RangeResult.from_json(self.call('/kv/range', body, write=False, subject=_name(key)))

    def get(self, key: Bytes, revision: Optional[int] = None, serializable: bool = False) -> Optional[KeyValue]:
        """The key, or None when it does not exist (a missing key is not an error)."""
        return self.range(key, revision=revision, serializable=serializable).kv

    def get_prefix(self, prefix: Bytes, keys_only: bool = False, limit: Optional[int] = None, sort: Optional[str] = None,
                   sort_order: str = 'ascend', revision: Optional[int] = None,
                   serializable: bool = False) -> List[KeyValue]:
        """Every key that starts with ``prefix``, in key order unless ``sort`` (``key``,
        ``version``, ``create``, ``mod``, ``value``) and ``sort_order`` (``ascend``/``descend``)
        say otherwise. ``limit`` caps how many come back; use :meth:`range` to see ``more``."""
        return list(self.range(prefix, prefix=True, limit=limit or 0, revision=revision, serializable=serializable,
                               keys_only=keys_only, **self._sort(sort, sort_order)).kvs)

    def get_range(self, range_start: Bytes, range_end: Bytes, keys_only: bool = False, limit: Optional[int] = None,
                  sort: Optional[str] = None, sort_order: str = 'ascend', revision: Optional[int] = None,
                  serializable: bool = False) -> List[KeyValue]:
        """Every key from ``range_start`` up to, not including, ``range_end``."""
        return list(self.range(range_start, range_end, limit=limit or 0, revision=revision, serializable=serializable,
                               keys_only=keys_only, **self._sort(sort, sort_order)).kvs)

    def count_prefix(self, prefix: Bytes, revision: Optional[int] = None) -> int:
        """How many keys start with ``prefix`` (no keys or values are sent back)."""
        return self.range(prefix, prefix=True, count_only=True, revision=revision).count

    @staticmethod
    def _sort(sort: Optional[str], sort_order: str) -> dict:
        if sort is None:
            return {}
        if sort not in _SORT_TARGETS:
            raise ClientException('sort must be one of %s, got %r' % (', '.join(sorted(_SORT_TARGETS)), sort))
        if sort_order not in ('ascend', 'descend'):
            raise ClientException("sort_order must be 'ascend' or 'descend', got %r" % (sort_order,))
        return {'sort_target': _SORT_TARGETS[sort], 'sort_order': sort_order.upper()}

    # -- writes -------------------------------------------------------------------------------

    def put(self, key: Bytes, value: Bytes, lease: Optional[Any] = None, prev_kv: bool = False) -> PutResult:
        """Store ``value`` under ``key`` (with ``lease``: the key goes when the lease expires).

        ``lease`` is a lease id or a :class:`Lease`. A put without ``lease`` detaches the key
        from any lease it had. ``prev_kv`` returns what was there.
        """
        body = put_request(key, value, lease_id_of(lease), prev_kv)
        return PutResult.from_json(self.call('/kv/put', body, write=True, subject=_name(key)))

    def delete(self, key: Bytes, prev_kv: bool = False) -> int:
        """Delete one key; returns how many were deleted (0 or 1)."""
        return self.delete_range(key, prev_kv=prev_kv).deleted

    def delete_prefix(self, prefix: Bytes) -> int:
        """Delete every key that starts with ``prefix``; returns how many."""
        return self.delete_range(prefix, prefix=True).deleted

    def delete_range(self, key: Bytes, range_end: Optional[Bytes] = None, *, prefix: bool = False,
                     prev_kv: bool = False) -> DeleteResult:
        """``/kv/deleterange``: one key, a range or a prefix, with the answer's header."""
        body = delete_request(key, range_end, prefix, prev_kv)
        return DeleteResult.from_json(self.call('/kv/deleterange', body, write=True, subject=_name(key)))

    def transaction(self, compare: Sequence[dict], success: Sequence[dict] = (), failure: Sequence[dict] = ()) -> TxnResult:
        """One transaction: if every compare holds, the ``success`` ops run, else ``failure``.

        Build the parts with ``_v3.txn`` (``compare_value(key, '==', 'x')``, ``put_op(...)``,
        ...). A transaction is always sent as a write. :raises EtcdTooManyTxnOps: more
        operations than the server's ``--max-txn-ops``.
        """
        body = txn_request(compare, success, failure)
        subject = _txn_subject(body)
        return parse_txn(self.call('/kv/txn', body, write=True, subject=subject))

    def replace(self, key: Bytes, initial_value: Bytes, new_value: Bytes) -> bool:
        """Set ``key`` to ``new_value`` only if it holds ``initial_value``; True when it did."""
        return self.transaction([compare_value(key, '==', initial_value)], [put_op(key, new_value)]).succeeded

    def put_if_absent(self, key: Bytes, value: Bytes, lease: Optional[Any] = None) -> bool:
        """Create ``key`` only if it does not exist; True when it did."""
        return self.transaction([compare_create(key, '==', 0)], [put_op(key, value, lease_id_of(lease))]).succeeded

    def delete_if(self, key: Bytes, value: Optional[Bytes] = None, mod_revision: Optional[int] = None) -> bool:
        """Delete ``key`` only if it holds ``value`` and/or was last changed at ``mod_revision``
        (every condition given, together); True when it did. Needs at least one condition."""
        compares = []
        if value is not None:
            compares.append(compare_value(key, '==', value))
        if mod_revision is not None:
            compares.append(compare_mod(key, '==', mod_revision))
        if not compares:
            raise ClientException('delete_if(%s) needs value or mod_revision; use delete() for a plain delete' % _name(key))
        return self.transaction(compares, [delete_op(key)]).succeeded

    def put_many(self, items: Union[Mapping[Bytes, Bytes], Iterable[Tuple[Bytes, Bytes]]], lease: Optional[Any] = None,
                 *, concurrency: int = 4, pipeline: int = 8) -> List[TxnResult]:
        """Write many keys, in transactions of at most ``max_txn_ops`` puts and
        ``MAX_TXN_BYTES`` (1 MiB) of keys and values each (a larger value goes alone).

        A change that fits one transaction is atomic: every key gets the same revision, or none
        is written. More keys go as several transactions, sent on ``concurrency`` connections
        with up to ``pipeline`` in flight on each (HTTP/1.1 pipelining, as ``write_many`` of
        the v2 client). Every key and value is checked before anything is sent. Returns one
        :class:`TxnResult` per transaction, in order. After the first failure no transaction is
        started, and :class:`EtcdBulkWriteFailed` names the failed and unsent transactions by
        their first key; a transaction whose answer was lost is "outcome unknown" and never sent
        again.
        :raises ClientException: a bad key or value, or a key given twice.
        """
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        lease_id = lease_id_of(lease)
        ops = []
        seen = set()
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ClientException('put_many items must be (key, value) pairs, got %r' % (pair,))
            key = check_key(pair[0])
            name = display(key)
            if key in seen:
                raise ClientException('got key %s twice in one put_many' % name)
            seen.add(key)
            value = to_bytes(pair[1], 'value of %s' % name) if pair[1] is not None else pair[1]
            ops.append((name, put_op(key, value, lease_id), len(key) + len(value or b'') + _PUT_FRAMING))
        bodies = []
        for chunk in chunks(ops, self.max_txn_ops, lambda op: op[2]):
            subject = chunk[0][0] if len(chunk) == 1 else '%s (and %d more keys)' % (chunk[0][0], len(chunk) - 1)
            bodies.append((subject, txn_request([], [op for _name, op, _size in chunk])))
        return self.send_txns(bodies, concurrency=concurrency, pipeline=pipeline)

    def send_txns(self, bodies: Sequence[Tuple[str, dict]], *, concurrency: int = 4, pipeline: int = 8) -> List[TxnResult]:
        """Send ``(subject, txn body)`` pairs pipelined as :meth:`put_many` does; the engine for
        batched writes of the collection's modules. Returns the :class:`TxnResult` of each."""
        check_batch_shape(concurrency, pipeline)
        if not bodies:
            return []
        self.ensure_token()  # the pipelined connections carry the token as a header
        path = self.api_prefix + '/kv/txn'
        jobs = [Job('POST', subject, path, json.dumps(body).encode('ascii')) for subject, body in bodies]

        def parse(answer: Answer, position: int) -> TxnResult:
            return parse_txn(parse_answer(answer.status, answer.text, answer.endpoint, jobs[position].subject, write=True))

        def later(exc: Exception) -> bool:
            # Refused before anything was applied: an expired token, no leader for a moment.
            return isinstance(exc, EtcdUnauthenticated) or (getattr(exc, 'retryable', False)
                                                            and not getattr(exc, 'outcome_unknown', False))

        def send_one(position: int) -> TxnResult:
            return parse_txn(self.call('/kv/txn', bodies[position][1], write=True, subject=jobs[position].subject))

        if len(jobs) == 1:
            return [send_one(0)]
        return PipelinedBatch(self._transport, jobs, concurrency=concurrency, pipeline=pipeline,
                              headers=self._transport.headers(JSON), parse=parse, later=later, send_one=send_one).run()


def _txn_subject(body: dict) -> Optional[str]:
    """The first key a transaction touches, for error messages."""
    for part in list(body.get('compare') or []) + list(body.get('success') or []):
        holder = part if 'key' in part else next((part[f] for f in ('request_put', 'request_range', 'request_delete_range')
                                                  if isinstance(part.get(f), dict)), None)
        if holder is not None and 'key' in holder:
            return display(decode_bytes(holder['key'], 'key'))
    return None
