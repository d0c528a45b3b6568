# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Answers of the etcd v3 API as Python objects, built from the gateway's JSON.

Every ``from_json`` applies the gateway's rules: int64/uint64 fields arrive as strings, and a field
holding its zero value is left out (no ``count`` means 0, no ``succeeded`` means false, no event
``type`` means PUT, no ``value`` means the empty value). Keys and values keep their raw bytes
(``key_bytes``, ``value_bytes``); ``key`` and ``value`` are ``str`` when the bytes are valid
UTF-8 and the same ``bytes`` otherwise, so binary data is never altered. A ``from_json`` given
something that is not the expected JSON object raises :class:`EtcdInvalidResponse`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple, Union

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdInvalidResponse
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import decode_bytes, decode_text, encode, to_int


def _object(data: Any, what: str) -> Dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise EtcdInvalidResponse('%s in the answer is not a JSON object: %.200r' % (what, data))
    return data


def _list(data: Any, what: str) -> list:
    if data is None:
        return []
    if not isinstance(data, list):
        raise EtcdInvalidResponse('%s in the answer is not a JSON list: %.200r' % (what, data))
    return data


@dataclass(frozen=True)
class ResponseHeader:
    """The ``header`` of every answer: ``cluster_id``, ``member_id`` (of the member that answered),
    ``revision`` (store revision when the answer was made; 0 where etcd leaves it out, as in
    cluster calls), ``raft_term``."""

    cluster_id: int = 0
    member_id: int = 0
    revision: int = 0
    raft_term: int = 0

    @classmethod
    def from_json(cls, data: Any) -> 'ResponseHeader':
        data = _object(data, 'header')
        get = data.get
        return cls(to_int(get('cluster_id'), 'cluster_id'), to_int(get('member_id'), 'member_id'),
                   to_int(get('revision'), 'revision'), to_int(get('raft_term'), 'raft_term'))

    @property
    def member_id_hex(self) -> str:
        """The member ID as etcdctl prints it (lower-case hex)."""
        return format(self.member_id, 'x')


@dataclass(frozen=True)
class KeyValue:
    """One key as etcd stores it. ``lease`` is 0 for a key without lease; ``version`` counts the
    puts since the key was (re)created."""

    key_bytes: bytes
    value_bytes: bytes = b''
    create_revision: int = 0
    mod_revision: int = 0
    version: int = 0
    lease: int = 0

    @classmethod
    def from_json(cls, data: Any) -> 'KeyValue':
        data = _object(data, 'kv')
        return cls(key_bytes=decode_bytes(data.get('key'), 'key'), value_bytes=decode_bytes(data.get('value'), 'value'),
                   create_revision=to_int(data.get('create_revision'), 'create_revision'),
                   mod_revision=to_int(data.get('mod_revision'), 'mod_revision'),
                   version=to_int(data.get('version'), 'version'), lease=to_int(data.get('lease'), 'lease'))

    @property
    def key(self) -> Union[str, bytes]:
        """The key: ``str`` when it is UTF-8, else the raw bytes."""
        return decode_text(self.key_bytes)

    @property
    def value(self) -> Union[str, bytes]:
        """The value: ``str`` when it is UTF-8, else the raw bytes (``value_bytes`` is always bytes)."""
        return decode_text(self.value_bytes)

    @property
    def is_text(self) -> bool:
        """True when both key and value are valid UTF-8."""
        return isinstance(self.key, str) and isinstance(self.value, str)

    def to_dict(self) -> Dict[str, Any]:
        """Plain JSON-safe data (as modules return it): ``key``/``value`` are the text or None when
        not UTF-8; ``key_base64``/``value_base64`` always hold the exact bytes."""
        key, value = self.key, self.value
        return {
            'key': key if isinstance(key, str) else None,
            'value': value if isinstance(value, str) else None,
            'key_base64': encode(self.key_bytes),
            'value_base64': encode(self.value_bytes),
            'create_revision': self.create_revision,
            'mod_revision': self.mod_revision,
            'version': self.version,
            'lease': self.lease,
        }


def _kvs(data: Any, what: str = 'kvs') -> Tuple[KeyValue, ...]:
    return tuple(KeyValue.from_json(item) for item in _list(data, what))


def _optional_kv(data: Any) -> Optional[KeyValue]:
    return KeyValue.from_json(data) if data else None


@dataclass(frozen=True)
class RangeResult:
    """Answer of ``/v3/kv/range`` (or a txn ``response_range``): ``kvs`` found (none for a missing
    key: not an error), ``count`` of all keys in the range (ignores ``limit``), ``more`` when
    ``limit`` cut the list short."""

    header: ResponseHeader
    kvs: Tuple[KeyValue, ...] = ()
    count: int = 0
    more: bool = False

    @classmethod
    def from_json(cls, data: Any) -> 'RangeResult':
        data = _object(data, 'range answer')
        return cls(ResponseHeader.from_json(data.get('header')), _kvs(data.get('kvs')),
                   to_int(data.get('count'), 'count'), bool(data.get('more', False)))

    @property
    def kv(self) -> Optional[KeyValue]:
        """The first key found, or None (the answer for a single-key read)."""
        return self.kvs[0] if self.kvs else None


@dataclass(frozen=True)
class PutResult:
    """Answer of ``/v3/kv/put``: ``prev_kv`` only when asked for and the key existed."""

    header: ResponseHeader
    prev_kv: Optional[KeyValue] = None

    @classmethod
    def from_json(cls, data: Any) -> 'PutResult':
        data = _object(data, 'put answer')
        return cls(ResponseHeader.from_json(data.get('header')), _optional_kv(data.get('prev_kv')))


@dataclass(frozen=True)
class DeleteResult:
    """Answer of ``/v3/kv/deleterange``: ``deleted`` count (0 when nothing matched; the revision is
    then not bumped), ``prev_kvs`` when asked for."""

    header: ResponseHeader
    deleted: int = 0
    prev_kvs: Tuple[KeyValue, ...] = ()

    @classmethod
    def from_json(cls, data: Any) -> 'DeleteResult':
        data = _object(data, 'delete answer')
        return cls(ResponseHeader.from_json(data.get('header')), to_int(data.get('deleted'), 'deleted'),
                   _kvs(data.get('prev_kvs'), 'prev_kvs'))


@dataclass(frozen=True)
class TxnResult:
    """Answer of ``/v3/kv/txn`` (built by ``_v3.txn.parse_txn``): ``succeeded`` (the compares held,
    so the success ops ran), one result per op that ran, in order: :class:`RangeResult`,
    :class:`PutResult`, :class:`DeleteResult` or a nested :class:`TxnResult`."""

    header: ResponseHeader
    succeeded: bool = False
    responses: Tuple[Any, ...] = ()


@dataclass(frozen=True)
class Event:
    """One change seen by a watch: ``type`` ``'PUT'`` or ``'DELETE'``, the ``kv`` after it (for a
    delete only key and mod_revision), ``prev_kv`` when the watch asked for it."""

    type: str
    kv: KeyValue
    prev_kv: Optional[KeyValue] = None

    @classmethod
    def from_json(cls, data: Any) -> 'Event':
        data = _object(data, 'event')
        kind = data.get('type') or 'PUT'
        if kind in (0, 1):
            kind = ('PUT', 'DELETE')[kind]
        if kind not in ('PUT', 'DELETE'):
            raise EtcdInvalidResponse('unknown event type in the answer: %r' % (kind,))
        return cls(kind, KeyValue.from_json(data.get('kv')), _optional_kv(data.get('prev_kv')))


@dataclass(frozen=True)
class WatchResult:
    """One ``result`` of a ``/v3/watch`` stream: creation, events, progress or cancellation.

    ``compact_revision`` is set on a watch cancelled because its start revision was compacted
    (``_v3.answers.watch_cancel_error`` turns that into :class:`EtcdCompacted`)."""

    header: ResponseHeader
    watch_id: int = 0
    created: bool = False
    canceled: bool = False
    compact_revision: int = 0
    cancel_reason: str = ''
    fragment: bool = False
    events: Tuple[Event, ...] = ()

    @classmethod
    def from_json(cls, data: Any) -> 'WatchResult':
        data = _object(data, 'watch result')
        return cls(ResponseHeader.from_json(data.get('header')), to_int(data.get('watch_id'), 'watch_id'),
                   bool(data.get('created', False)), bool(data.get('canceled', False)),
                   to_int(data.get('compact_revision'), 'compact_revision'), data.get('cancel_reason') or '',
                   bool(data.get('fragment', False)), tuple(Event.from_json(item) for item in _list(data.get('events'), 'events')))


@dataclass(frozen=True)
class Lease:
    """Answer of lease grant, time-to-live or one keepalive: ``id``, ``ttl`` left (-1 from
    time-to-live and 0 from keepalive when the lease does not exist), ``granted_ttl`` (time-to-live
    only), ``keys`` attached (time-to-live with ``keys``, as bytes)."""

    header: ResponseHeader
    id: int
    ttl: int = 0
    granted_ttl: int = 0
    keys: Tuple[bytes, ...] = ()

    @classmethod
    def from_json(cls, data: Any) -> 'Lease':
        data = _object(data, 'lease answer')
        return cls(ResponseHeader.from_json(data.get('header')), to_int(data.get('ID'), 'ID'), to_int(data.get('TTL'), 'TTL'),
                   to_int(data.get('grantedTTL'), 'grantedTTL'),
                   tuple(decode_bytes(key, 'keys') for key in _list(data.get('keys'), 'keys')))


@dataclass(frozen=True)
class Member:
    """One cluster member: ``id`` (int; ``id_hex`` as etcdctl prints it), ``name`` (empty until an
    added member has started), ``peer_urls``, ``client_urls``, ``is_learner``."""

    id: int
    name: str = ''
    peer_urls: Tuple[str, ...] = ()
    client_urls: Tuple[str, ...] = ()
    is_learner: bool = False

    @classmethod
    def from_json(cls, data: Any) -> 'Member':
        data = _object(data, 'member')
        return cls(to_int(data.get('ID'), 'ID'), data.get('name') or '', tuple(_list(data.get('peerURLs'), 'peerURLs')),
                   tuple(_list(data.get('clientURLs'), 'clientURLs')), bool(data.get('isLearner', False)))

    @property
    def id_hex(self) -> str:
        return format(self.id, 'x')

    @property
    def started(self) -> bool:
        """False for a member that was added but has not joined yet (it has no name)."""
        return bool(self.name)


@dataclass(frozen=True)
class MemberList:
    """Answer of member list/add/remove/update/promote: ``members``, and ``member`` (the added one)."""

    header: ResponseHeader
    members: Tuple[Member, ...] = ()
    member: Optional[Member] = None

    @classmethod
    def from_json(cls, data: Any) -> 'MemberList':
        data = _object(data, 'member answer')
        return cls(ResponseHeader.from_json(data.get('header')),
                   tuple(Member.from_json(item) for item in _list(data.get('members'), 'members')),
                   Member.from_json(data['member']) if data.get('member') else None)


@dataclass(frozen=True)
class Status:
    """Answer of ``/v3/maintenance/status`` for the member that answered (``header.member_id``).

    ``leader`` is 0 when the member knows no leader (then ``errors`` says ``etcdserver: no
    leader``); ``errors`` also lists active alarms. ``db_size_in_use`` and ``raft_applied_index``
    exist from 3.4 on, ``is_learner`` from 3.4 (absent = false)."""

    header: ResponseHeader
    version: str = ''
    db_size: int = 0
    db_size_in_use: int = 0
    leader: int = 0
    raft_index: int = 0
    raft_term: int = 0
    raft_applied_index: int = 0
    errors: Tuple[str, ...] = ()
    is_learner: bool = False

    @classmethod
    def from_json(cls, data: Any) -> 'Status':
        data = _object(data, 'status answer')
        return cls(ResponseHeader.from_json(data.get('header')), data.get('version') or '', to_int(data.get('dbSize'), 'dbSize'),
                   to_int(data.get('dbSizeInUse'), 'dbSizeInUse'), to_int(data.get('leader'), 'leader'),
                   to_int(data.get('raftIndex'), 'raftIndex'), to_int(data.get('raftTerm'), 'raftTerm'),
                   to_int(data.get('raftAppliedIndex'), 'raftAppliedIndex'), tuple(_list(data.get('errors'), 'errors')),
                   bool(data.get('isLearner', False)))

    @property
    def member_id(self) -> int:
        return self.header.member_id

    @property
    def is_leader(self) -> bool:
        return bool(self.leader) and self.leader == self.header.member_id


ALARM_TYPES = ('NONE', 'NOSPACE', 'CORRUPT')


@dataclass(frozen=True)
class Alarm:
    """One active alarm: ``member_id`` and ``alarm`` (``'NOSPACE'``, ``'CORRUPT'``; ``'NONE'``
    where etcd left it out)."""

    member_id: int
    alarm: str = 'NONE'

    @classmethod
    def from_json(cls, data: Any) -> 'Alarm':
        data = _object(data, 'alarm')
        alarm = data.get('alarm') or 'NONE'
        if isinstance(alarm, int) and 0 <= alarm < len(ALARM_TYPES):
            alarm = ALARM_TYPES[alarm]
        return cls(to_int(data.get('memberID'), 'memberID'), str(alarm))


def alarms_from_json(data: Any) -> List[Alarm]:
    """The alarms of a ``/v3/maintenance/alarm`` answer (3.4 without alarms answers ``{}``)."""
    data = _object(data, 'alarm answer')
    return [Alarm.from_json(item) for item in _list(data.get('alarms'), 'alarms')]


__all__ = ['ResponseHeader', 'KeyValue', 'RangeResult', 'PutResult', 'DeleteResult', 'TxnResult', 'Event', 'WatchResult',
           'Lease', 'Member', 'MemberList', 'Status', 'Alarm', 'alarms_from_json', 'ALARM_TYPES']
