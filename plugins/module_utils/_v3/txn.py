# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request bodies of the etcd v3 KV API (range, put, delete, txn) and the parser of txn answers.

Everything here only builds or reads JSON; nothing is sent. The builders check their arguments
and raise :class:`ClientException` naming the bad one, so a wrong call never reaches etcd.

* ``range_request``/``put_request``/``delete_request``/``txn_request``: the bodies for
  ``/v3/kv/range``, ``/v3/kv/put``, ``/v3/kv/deleterange``, ``/v3/kv/txn``;
* ``get_op``/``put_op``/``delete_op``/``txn_op``: the same requests as operations of a txn;
* ``compare_value``/``compare_version``/``compare_create``/``compare_mod``/``compare_lease``
  (and the general :func:`compare`): txn conditions, with the operators ``==``, ``!=``, ``>``,
  ``<`` (or etcd's names EQUAL, NOT_EQUAL, GREATER, LESS);
* :class:`Txn`: a small builder (``Txn().when(...).then(...).otherwise(...)``);
* :func:`parse_txn`: a txn answer as a :class:`TxnResult`;
* :func:`chunks`: operations cut into transactions bounded by ``max_txn_ops`` and by
  :data:`MAX_TXN_BYTES`.

Facts behind the choices (checked on etcd 3.4 and 3.5): only the field that matches the compare
target counts (a mismatched one is silently 0), so :func:`compare` always sets the right one; on a
missing key VERSION/CREATE/MOD/LEASE compare as 0 and every VALUE compare is false; an absent
``succeeded`` in the answer means false; compares, success ops and failure ops are each limited to
the server's ``--max-txn-ops`` (default 128), which etcd checks, not this module.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, TypeVar

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import ClientException, EtcdInvalidResponse
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import (
    check_bool,
    check_choice,
    check_key,
    check_lease,
    check_range_end,
    check_revision,
    check_whole,
    encode,
    prefix_range_end,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.result import (
    DeleteResult,
    PutResult,
    RangeResult,
    ResponseHeader,
    TxnResult,
)

OPERATORS = {'==': 'EQUAL', '!=': 'NOT_EQUAL', '>': 'GREATER', '<': 'LESS'}
RESULTS = ('EQUAL', 'NOT_EQUAL', 'GREATER', 'LESS')
# compare target -> the one request field etcd reads for it
TARGET_FIELDS = {'VALUE': 'value', 'VERSION': 'version', 'CREATE': 'create_revision', 'MOD': 'mod_revision', 'LEASE': 'lease'}
SORT_ORDERS = ('NONE', 'ASCEND', 'DESCEND')
SORT_TARGETS = ('KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE')

# Bytes of keys and values one batched transaction carries at most. etcd refuses a request over
# its --max-request-bytes (1.5 MiB by default: "request is too large"); this much plus the
# protobuf framing of 128 operations stays well below it.
MAX_TXN_BYTES = 1024 * 1024

T = TypeVar('T')

_OP_KINDS = {'request_range': 'get', 'request_put': 'put', 'request_delete_range': 'delete', 'request_txn': 'txn'}


def _range_fields(body: Dict[str, Any], key: Any, range_end: Any, prefix: bool, key_name: str = 'key') -> None:
    """Set ``key`` and ``range_end`` of ``body``: one key, an explicit range, or a prefix."""
    data = check_key(key, key_name)
    check_bool(prefix, 'prefix')
    end = check_range_end(range_end)
    if prefix and end is not None:
        raise ClientException('give either prefix=True or range_end, not both')
    if prefix:
        end = prefix_range_end(data, key_name)
    body['key'] = encode(data)
    if end is not None:
        body['range_end'] = encode(end)


# -- compares -----------------------------------------------------------------------------------

def compare(target: str, key: Any, op: str, operand: Any, range_end: Any = None, prefix: bool = False) -> Dict[str, Any]:
    """A txn compare: ``target`` (VALUE, VERSION, CREATE, MOD, LEASE) of ``key`` ``op`` ``operand``.

    ``op`` is ``==``, ``!=``, ``>``, ``<`` or EQUAL, NOT_EQUAL, GREATER, LESS. ``operand`` is a value
    (str/bytes) for VALUE, a whole number >= 0 for VERSION/CREATE/MOD (0 = key absent), a lease ID for
    LEASE (0 = no lease). With ``range_end``/``prefix`` the compare must hold for every key of the range.
    """
    target_name = check_choice(target, 'target', tuple(TARGET_FIELDS))
    result = OPERATORS.get(op) if isinstance(op, str) else None
    if result is None:
        result = check_choice(op, 'op', tuple(OPERATORS) + RESULTS)
    body: Dict[str, Any] = {}
    _range_fields(body, key, range_end, prefix)
    body['target'] = target_name
    body['result'] = result
    if target_name == 'VALUE':
        body['value'] = encode(operand, 'value')
    elif target_name == 'LEASE':
        body['lease'] = str(check_lease(operand, 'lease'))
    else:
        body[TARGET_FIELDS[target_name]] = str(check_whole(operand, TARGET_FIELDS[target_name], 0))
    return body


def compare_value(key: Any, op: str, value: Any, range_end: Any = None, prefix: bool = False) -> Dict[str, Any]:
    """``value(key) op value``. False for a missing key whatever the operator (etcd's rule)."""
    return compare('VALUE', key, op, value, range_end, prefix)


def compare_version(key: Any, op: str, version: Any, range_end: Any = None, prefix: bool = False) -> Dict[str, Any]:
    """``version(key) op version``; a missing key has version 0."""
    return compare('VERSION', key, op, version, range_end, prefix)


def compare_create(key: Any, op: str, revision: Any, range_end: Any = None, prefix: bool = False) -> Dict[str, Any]:
    """``create_revision(key) op revision``; ``compare_create(key, '==', 0)`` means "key absent"."""
    return compare('CREATE', key, op, revision, range_end, prefix)


def compare_mod(key: Any, op: str, revision: Any, range_end: Any = None, prefix: bool = False) -> Dict[str, Any]:
    """``mod_revision(key) op revision`` (``==`` with the revision read earlier: "unchanged since")."""
    return compare('MOD', key, op, revision, range_end, prefix)


def compare_lease(key: Any, op: str, lease: Any, range_end: Any = None, prefix: bool = False) -> Dict[str, Any]:
    """``lease(key) op lease``; 0 is "no lease" (and a missing key)."""
    return compare('LEASE', key, op, lease, range_end, prefix)


# -- request bodies -----------------------------------------------------------------------------

def range_request(key: Any, range_end: Any = None, prefix: bool = False, limit: Any = 0, revision: Any = 0,
                  serializable: bool = False, keys_only: bool = False, count_only: bool = False,
                  sort_order: Optional[str] = None, sort_target: Optional[str] = None) -> Dict[str, Any]:
    """Body of ``/v3/kv/range``: one key, ``range_end`` (``b'\\0'``: all keys from ``key`` on) or
    ``prefix``. ``limit`` 0 = no limit; ``revision`` 0 = latest; ``serializable`` reads the
    member's local data (no quorum); ``sort_order`` NONE/ASCEND/DESCEND, ``sort_target``
    KEY/VERSION/CREATE/MOD/VALUE. Only fields that differ from etcd's defaults are sent."""
    body: Dict[str, Any] = {}
    _range_fields(body, key, range_end, prefix)
    limit = check_whole(limit, 'limit', 0)
    revision = check_revision(revision, 'revision', 0)
    if limit:
        body['limit'] = str(limit)
    if revision:
        body['revision'] = str(revision)
    for name, flag in (('serializable', serializable), ('keys_only', keys_only), ('count_only', count_only)):
        if check_bool(flag, name):
            body[name] = True
    if sort_order is not None:
        body['sort_order'] = check_choice(sort_order, 'sort_order', SORT_ORDERS)
    if sort_target is not None:
        body['sort_target'] = check_choice(sort_target, 'sort_target', SORT_TARGETS)
    return body


def put_request(key: Any, value: Any = None, lease: Any = None, prev_kv: bool = False,
                ignore_value: bool = False, ignore_lease: bool = False) -> Dict[str, Any]:
    """Body of ``/v3/kv/put``. ``value`` (str/bytes, may be empty) is required unless
    ``ignore_value`` keeps the stored one (the key must then exist); ``lease`` attaches the key to a
    lease (a put without ``lease`` or ``ignore_lease`` detaches it from its lease); ``prev_kv`` asks
    for the previous key-value. Every put bumps the revision, even with an unchanged value."""
    body: Dict[str, Any] = {'key': encode(check_key(key))}
    check_bool(ignore_value, 'ignore_value')
    check_bool(ignore_lease, 'ignore_lease')
    if ignore_value:
        if value is not None:
            raise ClientException('value must not be given with ignore_value=True')
        body['ignore_value'] = True
    elif value is None:
        raise ClientException('value is required (use "" for an empty value, or ignore_value=True to keep the stored one)')
    else:
        body['value'] = encode(value, 'value')
    if lease is not None:
        if ignore_lease:
            raise ClientException('lease must not be given with ignore_lease=True')
        lease = check_lease(lease)
        if lease:
            body['lease'] = str(lease)
    if ignore_lease:
        body['ignore_lease'] = True
    if check_bool(prev_kv, 'prev_kv'):
        body['prev_kv'] = True
    return body


def delete_request(key: Any, range_end: Any = None, prefix: bool = False, prev_kv: bool = False) -> Dict[str, Any]:
    """Body of ``/v3/kv/deleterange``: one key, a range or a prefix; ``prev_kv`` returns what was deleted."""
    body: Dict[str, Any] = {}
    _range_fields(body, key, range_end, prefix)
    if check_bool(prev_kv, 'prev_kv'):
        body['prev_kv'] = True
    return body


def _check_list(items: Optional[Iterable[Any]], name: str, check) -> List[Dict[str, Any]]:
    if items is None:
        return []
    if isinstance(items, (dict, str, bytes)):
        raise ClientException('%s must be a list, got %s' % (name, type(items).__name__))
    try:
        items = list(items)
    except TypeError:
        raise ClientException('%s must be a list, got %s' % (name, type(items).__name__)) from None
    for position, item in enumerate(items):
        check(item, '%s[%d]' % (name, position))
    return items


def _check_compare(item: Any, name: str) -> None:
    if not (isinstance(item, dict) and item.get('target') in TARGET_FIELDS and 'key' in item):
        raise ClientException('%s must be a compare built by compare_*(), got %.100r' % (name, item))


def _check_op(item: Any, name: str) -> None:
    if not (isinstance(item, dict) and len(item) == 1 and next(iter(item)) in _OP_KINDS):
        raise ClientException('%s must be an operation built by get_op/put_op/delete_op/txn_op, got %.100r' % (name, item))


def txn_request(compare_list: Optional[Iterable[Any]] = None, success: Optional[Iterable[Any]] = None,
                failure: Optional[Iterable[Any]] = None) -> Dict[str, Any]:
    """Body of ``/v3/kv/txn``: if every compare holds, run the ``success`` ops, else the ``failure``
    ops, atomically and at one revision. An empty txn succeeds. A key may be written only once per
    branch (etcd: ``duplicate key given in txn request``)."""
    body: Dict[str, Any] = {}
    for name, items, check in (('compare', compare_list, _check_compare), ('success', success, _check_op),
                               ('failure', failure, _check_op)):
        items = _check_list(items, name, check)
        if items:
            body[name] = items
    return body


# -- txn operations -----------------------------------------------------------------------------

def get_op(key: Any, range_end: Any = None, prefix: bool = False, **options: Any) -> Dict[str, Any]:
    """A range inside a txn; ``options`` as for :func:`range_request`."""
    return {'request_range': range_request(key, range_end, prefix, **options)}


def put_op(key: Any, value: Any = None, lease: Any = None, prev_kv: bool = False, **options: Any) -> Dict[str, Any]:
    """A put inside a txn; ``options`` (``ignore_value``, ``ignore_lease``) as for :func:`put_request`."""
    return {'request_put': put_request(key, value, lease, prev_kv, **options)}


def delete_op(key: Any, range_end: Any = None, prev_kv: bool = False, prefix: bool = False) -> Dict[str, Any]:
    """A delete inside a txn."""
    return {'request_delete_range': delete_request(key, range_end, prefix, prev_kv)}


def txn_op(compare_list: Optional[Iterable[Any]] = None, success: Optional[Iterable[Any]] = None,
           failure: Optional[Iterable[Any]] = None) -> Dict[str, Any]:
    """A txn nested in a txn (etcd 3.3 and later); its answer is a nested :class:`TxnResult`."""
    return {'request_txn': txn_request(compare_list, success, failure)}


class Txn:
    """Builder of a txn body: ``Txn().when(c1, c2).then(op1).otherwise(op2).body()``.

    ``when``/``then``/``otherwise`` append and return the builder; :meth:`body` gives the
    ``/v3/kv/txn`` body, :meth:`op` the same txn as an operation of an enclosing txn.
    """

    def __init__(self, compare_list: Optional[Iterable[Any]] = None, success: Optional[Iterable[Any]] = None,
                 failure: Optional[Iterable[Any]] = None):
        self.compare = _check_list(compare_list, 'compare', _check_compare)
        self.success = _check_list(success, 'success', _check_op)
        self.failure = _check_list(failure, 'failure', _check_op)

    def when(self, *compares: Dict[str, Any]) -> 'Txn':
        self.compare.extend(_check_list(compares, 'compare', _check_compare))
        return self

    def then(self, *ops: Dict[str, Any]) -> 'Txn':
        self.success.extend(_check_list(ops, 'success', _check_op))
        return self

    def otherwise(self, *ops: Dict[str, Any]) -> 'Txn':
        self.failure.extend(_check_list(ops, 'failure', _check_op))
        return self

    def body(self) -> Dict[str, Any]:
        return txn_request(self.compare, self.success, self.failure)

    def op(self) -> Dict[str, Any]:
        return {'request_txn': self.body()}


# -- txn answers --------------------------------------------------------------------------------

_RESPONSE_PARSERS = {
    'response_range': RangeResult.from_json,
    'response_put': PutResult.from_json,
    'response_delete_range': DeleteResult.from_json,
}


def parse_txn(answer: Any) -> TxnResult:
    """A txn answer (the JSON of ``/v3/kv/txn`` or a nested ``response_txn``) as a :class:`TxnResult`.

    ``succeeded`` absent means false; ``responses`` absent means no op ran. Raises
    :class:`EtcdInvalidResponse` for a shape etcd does not send.
    """
    if not isinstance(answer, dict):
        raise EtcdInvalidResponse('txn answer is not a JSON object: %.200r' % (answer,))
    responses = answer.get('responses')
    if responses is None:
        responses = []
    if not isinstance(responses, list):
        raise EtcdInvalidResponse('txn responses is not a list: %.200r' % (responses,))
    parsed = []
    for item in responses:
        if not isinstance(item, dict) or len(item) != 1:
            raise EtcdInvalidResponse('txn response is not one response_* object: %.200r' % (item,))
        kind, data = next(iter(item.items()))
        if kind == 'response_txn':
            parsed.append(parse_txn(data or {}))
        elif kind in _RESPONSE_PARSERS:
            parsed.append(_RESPONSE_PARSERS[kind](data or {}))
        else:
            raise EtcdInvalidResponse('unknown txn response kind %r' % kind)
    return TxnResult(ResponseHeader.from_json(answer.get('header')), bool(answer.get('succeeded', False)), tuple(parsed))


def chunks(items: Iterable[T], max_ops: int, cost: Callable[[T], int], max_bytes: int = MAX_TXN_BYTES) -> List[List[T]]:
    """Cut ``items`` into runs of at most ``max_ops`` items whose ``cost`` (bytes in the request)
    adds up to at most ``max_bytes`` (an item costing more goes alone), keeping their order: the
    transactions of a batched read or write."""
    out: List[List[T]] = []
    current: List[T] = []
    used = 0
    for item in items:
        size = cost(item)
        if current and (len(current) >= max_ops or used + size > max_bytes):
            out.append(current)
            current, used = [], 0
        current.append(item)
        used += size
    if current:
        out.append(current)
    return out


__all__ = ['compare', 'compare_value', 'compare_version', 'compare_create', 'compare_mod', 'compare_lease',
           'range_request', 'put_request', 'delete_request', 'txn_request', 'get_op', 'put_op', 'delete_op', 'txn_op',
           'Txn', 'parse_txn', 'OPERATORS', 'TARGET_FIELDS', 'SORT_ORDERS', 'SORT_TARGETS']
