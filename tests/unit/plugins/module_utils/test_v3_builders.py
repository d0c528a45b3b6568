"""The v3 codec, request builders and result parsers on their own: argument checks and edge cases.

The answers parsed here are copies of what etcd 3.4/3.5 sent in tests/client/v3 (or trimmed
versions of them) so the zero-field rules can be checked one by one.
"""
from __future__ import annotations

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import ClientException, EtcdInvalidResponse
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3 import codec, txn
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.result import (
    Alarm,
    Event,
    KeyValue,
    Member,
    ResponseHeader,
    Status,
    WatchResult,
    alarms_from_json,
)


@pytest.mark.parametrize('prefix, end', [
    (b'/app/', b'/app0'), ('a', b'b'), (b'a\xff', b'b'), (b'a\xff\xff', b'b'), (b'\xff', b'\0'), (b'\xff\xff', b'\0'),
    (b'\x00', b'\x01'), ('é', b'\xc3\xaa'),
])
def test_prefix_range_end(prefix, end):
    assert codec.prefix_range_end(prefix) == end


def test_prefix_range_end_refuses_empty():
    with pytest.raises(ClientException, match='prefix must not be empty'):
        codec.prefix_range_end(b'')


def test_encode_decode():
    assert codec.encode('foo') == 'Zm9v' and codec.encode(b'\xff') == '/w==' and codec.encode('') == ''
    assert codec.decode_bytes('Zm9v') == b'foo' and codec.decode_bytes(None) == b''
    assert codec.decode_text(b'foo') == 'foo' and codec.decode_text(b'\xff') == b'\xff'
    with pytest.raises(EtcdInvalidResponse):
        codec.decode_bytes('not base64!')
    with pytest.raises(ClientException, match='value must be a string or bytes'):
        codec.encode(5, 'value')
    with pytest.raises(ClientException, match='key must be valid text'):
        codec.to_bytes('\udcff')


def test_to_int():
    assert codec.to_int('17') == 17 and codec.to_int(None) == 0 and codec.to_int(3) == 3
    assert codec.to_int('18446744073709551615') == 2 ** 64 - 1  # uint64 member IDs
    for bad in ('x', True, [1]):
        with pytest.raises(EtcdInvalidResponse):
            codec.to_int(bad)


@pytest.mark.parametrize('value, expected', [(0, 0), (5, 5), ('12', 12), (2 ** 63 - 1, 2 ** 63 - 1)])
def test_check_whole_accepts(value, expected):
    assert codec.check_lease(value) == expected


@pytest.mark.parametrize('value, match', [
    (True, 'whole number'), (1.5, 'whole number'), ('1.0', 'whole number'), ('--1', 'whole number'), ('²', 'whole number'),
    (None, 'whole number'), (-1, 'at least 0'), (2 ** 63, 'at most'),
])
def test_check_whole_refuses(value, match):
    with pytest.raises(ClientException, match='lease must be'):
        codec.check_lease(value)
    with pytest.raises(ClientException, match=match):
        codec.check_lease(value)


def test_check_revision():
    assert codec.check_revision(1) == 1
    with pytest.raises(ClientException, match='revision must be at least 1'):
        codec.check_revision(0)
    assert codec.check_revision(0, minimum=0) == 0


def test_key_checks():
    with pytest.raises(ClientException, match='key must not be empty'):
        codec.check_key(b'')
    with pytest.raises(ClientException, match='key must be a string or bytes'):
        codec.check_key(None)
    with pytest.raises(ClientException, match='range_end must not be empty'):
        txn.range_request('a', range_end='')


def test_compare_bodies():
    assert txn.compare_value('k', '==', 'v') == {'key': 'aw==', 'target': 'VALUE', 'result': 'EQUAL', 'value': 'dg=='}
    assert txn.compare_create('k', '==', 0) == {'key': 'aw==', 'target': 'CREATE', 'result': 'EQUAL', 'create_revision': '0'}
    assert txn.compare_mod('k', '<', 9)['mod_revision'] == '9'
    assert txn.compare_version('k', 'greater', 1)['result'] == 'GREATER'
    assert txn.compare_lease('k', '!=', 7) == {'key': 'aw==', 'target': 'LEASE', 'result': 'NOT_EQUAL', 'lease': '7'}
    assert txn.compare_version('/p/', '>', 0, prefix=True)['range_end'] == codec.encode('/p0')
    with pytest.raises(ClientException, match='op must be one of'):
        txn.compare_value('k', '=~', 'v')
    with pytest.raises(ClientException, match='target must be one of'):
        txn.compare('COLOUR', 'k', '==', 1)
    with pytest.raises(ClientException, match='version must be at least 0'):
        txn.compare_version('k', '==', -1)
    with pytest.raises(ClientException, match='not both'):
        txn.compare_version('k', '==', 1, range_end='z', prefix=True)


def test_put_request_checks():
    assert txn.put_request('k', '') == {'key': 'aw==', 'value': ''}
    assert txn.put_request('k', 'v', lease=0) == {'key': 'aw==', 'value': 'dg=='}
    assert txn.put_request('k', ignore_value=True, ignore_lease=True) == {'key': 'aw==', 'ignore_value': True, 'ignore_lease': True}
    with pytest.raises(ClientException, match='value is required'):
        txn.put_request('k')
    with pytest.raises(ClientException, match='value must not be given'):
        txn.put_request('k', 'v', ignore_value=True)
    with pytest.raises(ClientException, match='lease must not be given'):
        txn.put_request('k', 'v', lease=5, ignore_lease=True)
    with pytest.raises(ClientException, match='prev_kv must be true or false'):
        txn.put_request('k', 'v', prev_kv='yes')
    with pytest.raises(ClientException, match='lease must be a whole number'):
        txn.put_request('k', 'v', lease='abc')


def test_range_request_options():
    assert txn.range_request('k') == {'key': 'aw=='}
    body = txn.range_request('k', limit=3, revision=9, serializable=True, sort_order='ascend', sort_target='mod')
    assert body == {'key': 'aw==', 'limit': '3', 'revision': '9', 'serializable': True, 'sort_order': 'ASCEND', 'sort_target': 'MOD'}
    with pytest.raises(ClientException, match='sort_order must be one of'):
        txn.range_request('k', sort_order='UP')
    with pytest.raises(ClientException, match='limit must be at least 0'):
        txn.range_request('k', limit=-1)


def test_txn_checks():
    with pytest.raises(ClientException, match=r'success\[0\] must be an operation'):
        txn.txn_request(success=[{'key': 'aw=='}])
    with pytest.raises(ClientException, match=r'compare\[1\] must be a compare'):
        txn.txn_request([txn.compare_version('k', '>', 0), txn.put_op('k', 'v')])
    with pytest.raises(ClientException, match='success must be a list'):
        txn.txn_request(success=txn.put_op('k', 'v'))
    assert txn.Txn().body() == {}
    built = txn.Txn().when(txn.compare_version('k', '>', 0)).then(txn.delete_op('k')).op()
    assert built == {'request_txn': {'compare': [txn.compare_version('k', '>', 0)], 'success': [txn.delete_op('k')]}}


def test_parse_txn():
    failed = txn.parse_txn({'header': {'revision': '4'}})
    assert not failed.succeeded and failed.responses == () and failed.header.revision == 4
    nested = txn.parse_txn({'succeeded': True, 'responses': [
        {'response_txn': {'header': {}, 'responses': [{'response_range': {'header': {'revision': '19'}, 'count': '1'}}]}},
        {'response_put': {'header': {'revision': '19'}}},
        {'response_delete_range': {'header': {'revision': '19'}}},
    ]})
    inner, put, deleted = nested.responses
    assert not inner.succeeded and inner.responses[0].count == 1 and inner.responses[0].kvs == ()
    assert put.prev_kv is None and deleted.deleted == 0
    for bad in ([], {'responses': [{'response_lock': {}}]}, {'responses': {}}, {'responses': [{'a': 1, 'b': 2}]}):
        with pytest.raises(EtcdInvalidResponse):
            txn.parse_txn(bad)


def test_zero_fields_of_results():
    kv = KeyValue.from_json({'key': 'Zm9v'})
    assert (kv.key, kv.value, kv.version, kv.lease, kv.create_revision) == ('foo', '', 0, 0, 0)
    assert ResponseHeader.from_json(None) == ResponseHeader()
    event = Event.from_json({'kv': {'key': 'Zm9v', 'mod_revision': '3'}})
    assert event.type == 'PUT' and event.prev_kv is None
    assert Event.from_json({'type': 'DELETE', 'kv': {'key': 'Zm9v'}}).type == 'DELETE'
    with pytest.raises(EtcdInvalidResponse):
        Event.from_json({'type': 'EXPIRE', 'kv': {}})
    progress = WatchResult.from_json({'header': {'revision': '5'}, 'watch_id': '-1'})
    assert progress.watch_id == -1 and not progress.created and progress.events == ()
    member = Member.from_json({'ID': '12654120702628423786', 'peerURLs': ['http://127.0.0.1:23891'], 'isLearner': True})
    assert member.id_hex == 'af9c77bc1115686a' and not member.started and member.is_learner and member.client_urls == ()
    status = Status.from_json({'header': {'member_id': '1'}, 'version': '3.5.1', 'errors': ['etcdserver: no leader']})
    assert status.leader == 0 and not status.is_leader and status.errors == ('etcdserver: no leader',)
    assert alarms_from_json({}) == [] and alarms_from_json({'alarms': [{'memberID': '7', 'alarm': 'NOSPACE'}]}) == [Alarm(7, 'NOSPACE')]
    with pytest.raises(EtcdInvalidResponse):
        KeyValue.from_json(['not', 'a', 'dict'])
