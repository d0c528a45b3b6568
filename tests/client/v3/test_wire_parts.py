"""The transport-independent v3 parts against real etcd 3.5 and 3.4 gateways.

Bodies are built with _v3.txn / _v3.codec, POSTed with plain ``requests`` and the real answers are
parsed with _v3.answers / _v3.result / _v3.txn.parse_txn. Tests that change server-wide state
(compaction, auth) start their own etcd and destroy it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from ansible_collections.pyetcd.etcd.plugins.module_utils import exceptions as exc
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3 import answers, codec, txn
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.result import (
    DeleteResult,
    KeyValue,
    Lease,
    MemberList,
    PutResult,
    RangeResult,
    Status,
    WatchResult,
    alarms_from_json,
)
from tests.harness.etcd_server import EtcdServer, find_etcd

ETCDCTL = os.path.join(os.path.dirname(sys.executable), 'etcdctl')
TIMEOUT = 10


def post(server, path, body, subject=None, write=False, token=None):
    """POST ``body`` to ``/v3<path>`` and parse the answer; returns the JSON object or raises."""
    headers = {'Authorization': token} if token else {}
    answer = requests.post(server.url + '/v3' + path, json=body, headers=headers, timeout=TIMEOUT)
    return answers.parse_answer(answer.status_code, answer.text, server.url, subject, write)


def raw(server, path, body, token=None):
    headers = {'Authorization': token} if token else {}
    return requests.post(server.url + '/v3' + path, json=body, headers=headers, timeout=TIMEOUT)


def etcdctl(server, *args, user=None):
    cmd = [ETCDCTL, '--endpoints', server.url, '--dial-timeout', '5s', '--command-timeout', '10s']
    if user:
        cmd += ['--user', user]
    result = subprocess.run(cmd + list(args), capture_output=True, env=dict(os.environ, ETCDCTL_API='3'),
                            timeout=30, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def read_stream(lines, until, deadline=5.0):
    """Parsed results from the line iterator of a streamed answer until ``until(result)`` is true.

    Take one ``response.iter_lines()`` per stream: dropping such an iterator closes the connection.
    """
    seen = []
    end = time.monotonic() + deadline
    for line in lines:
        result = answers.parse_stream_line(line)
        if result is not None:
            seen.append(result)
            if until(result):
                return seen
        assert time.monotonic() < end, 'stream gave no matching result: %r' % seen
    raise AssertionError('stream ended: %r' % seen)


def fresh_server(version):
    try:
        find_etcd(version)
    except Exception as error:  # pylint: disable=broad-except
        pytest.skip(str(error))
    return EtcdServer(version, enable_v2=False).start()


# -- KV ----------------------------------------------------------------------------------------

def test_put_range_delete(etcd_server, key_prefix):
    key = key_prefix + '/k'
    first = PutResult.from_json(post(etcd_server, '/kv/put', txn.put_request(key, 'one'), key, write=True))
    assert first.prev_kv is None and first.header.revision > 0 and first.header.cluster_id and first.header.member_id
    again = PutResult.from_json(post(etcd_server, '/kv/put', txn.put_request(key, 'two', prev_kv=True), key, write=True))
    assert again.prev_kv.value == 'one' and again.prev_kv.version == 1
    assert again.header.revision == first.header.revision + 1

    found = RangeResult.from_json(post(etcd_server, '/kv/range', txn.range_request(key), key))
    assert found.count == 1 and not found.more
    kv = found.kv
    assert (kv.key, kv.value, kv.version, kv.lease) == (key, 'two', 2, 0)
    assert kv.create_revision == first.header.revision and kv.mod_revision == again.header.revision

    gone = DeleteResult.from_json(post(etcd_server, '/kv/deleterange', txn.delete_request(key, prev_kv=True), key, write=True))
    assert gone.deleted == 1 and gone.prev_kvs[0].value == 'two'
    # Nothing to delete: etcd leaves "deleted" out (= 0) and does not bump the revision.
    body = post(etcd_server, '/kv/deleterange', txn.delete_request(key), key, write=True)
    assert 'deleted' not in body and DeleteResult.from_json(body).deleted == 0
    assert DeleteResult.from_json(body).header.revision == gone.header.revision


def test_missing_key_is_an_empty_range(etcd_server, key_prefix):
    body = post(etcd_server, '/kv/range', txn.range_request(key_prefix + '/nope'))
    assert set(body) == {'header'}  # no kvs, no count
    result = RangeResult.from_json(body)
    assert result.kvs == () and result.count == 0 and result.kv is None


def test_empty_value_is_left_out_but_parsed(etcd_server, key_prefix):
    key = key_prefix + '/empty'
    post(etcd_server, '/kv/put', txn.put_request(key, ''), key, write=True)
    body = post(etcd_server, '/kv/range', txn.range_request(key))
    assert 'value' not in body['kvs'][0]
    assert RangeResult.from_json(body).kv.value == '' and RangeResult.from_json(body).kv.value_bytes == b''


def test_prefix_range_and_delete(etcd_server, key_prefix):
    for name in ('/a', '/b', '/c'):
        post(etcd_server, '/kv/put', txn.put_request(key_prefix + '/dir' + name, name), write=True)
    post(etcd_server, '/kv/put', txn.put_request(key_prefix + '/dir0', 'sibling'), write=True)  # just past the prefix
    prefix = key_prefix + '/dir/'
    every = RangeResult.from_json(post(etcd_server, '/kv/range', txn.range_request(prefix, prefix=True)))
    assert [kv.key for kv in every.kvs] == [prefix + 'a', prefix + 'b', prefix + 'c'] and every.count == 3
    page = RangeResult.from_json(post(etcd_server, '/kv/range', txn.range_request(
        prefix, prefix=True, limit=2, keys_only=True, sort_order='descend', sort_target='KEY')))
    assert [kv.key for kv in page.kvs] == [prefix + 'c', prefix + 'b'] and page.more and page.count == 3
    assert all(kv.value == '' for kv in page.kvs)  # keys_only
    counted = RangeResult.from_json(post(etcd_server, '/kv/range', txn.range_request(prefix, prefix=True, count_only=True)))
    assert counted.kvs == () and counted.count == 3
    # range_end given explicitly = the same as prefix=True
    explicit = txn.range_request(prefix, range_end=codec.prefix_range_end(prefix))
    assert explicit == txn.range_request(prefix, prefix=True)
    # "from key": range_end \0 reaches past the prefix, to the sibling
    from_key = RangeResult.from_json(post(etcd_server, '/kv/range', txn.range_request(prefix + 'b', range_end=b'\0', keys_only=True)))
    assert [kv.key for kv in from_key.kvs][:3] == [prefix + 'b', prefix + 'c', key_prefix + '/dir0']

    deleted = DeleteResult.from_json(post(etcd_server, '/kv/deleterange', txn.delete_request(prefix, prefix=True), write=True))
    assert deleted.deleted == 3
    left = RangeResult.from_json(post(etcd_server, '/kv/range', txn.range_request(key_prefix + '/', prefix=True)))
    assert [kv.key for kv in left.kvs] == [key_prefix + '/dir0']


def test_binary_key_and_value_round_trip(etcd_server, key_prefix):
    key = key_prefix.encode() + b'/bin\xff\xfe'
    value = b'\x00\xff\xc3(\x80 not utf-8'
    post(etcd_server, '/kv/put', txn.put_request(key, value), write=True)
    kv = RangeResult.from_json(post(etcd_server, '/kv/range', txn.range_request(key))).kv
    assert kv.key == key and kv.key_bytes == key and isinstance(kv.key, bytes)
    assert kv.value == value and kv.value_bytes == value and isinstance(kv.value, bytes)
    assert not kv.is_text
    data = kv.to_dict()
    assert data['value'] is None and codec.decode_bytes(data['value_base64']) == value
    json.dumps(data)  # JSON-safe for module output
    # the raw bytes as etcdctl sees them (its JSON output is base64 as well)
    listed = json.loads(etcdctl(etcd_server, 'get', key_prefix + '/bin', '--prefix', '-w', 'json'))
    assert codec.decode_bytes(listed['kvs'][0]['value']) == value
    assert codec.decode_bytes(listed['kvs'][0]['key']) == key


def test_etcdctl_reads_what_the_gateway_wrote(etcd_server, key_prefix):
    key = key_prefix + '/seen-by-etcdctl'
    post(etcd_server, '/kv/put', txn.put_request(key, 'gateway wrote ü'), write=True)
    assert etcdctl(etcd_server, 'get', key, '--print-value-only').decode('utf-8') == 'gateway wrote ü\n'
    etcdctl(etcd_server, 'put', key_prefix + '/by-etcdctl', 'etcdctl wrote')
    kv = RangeResult.from_json(post(etcd_server, '/kv/range', txn.range_request(key_prefix + '/by-etcdctl'))).kv
    assert kv.value == 'etcdctl wrote'


# -- txn ---------------------------------------------------------------------------------------

def test_txn_compare_and_swap(etcd_server, key_prefix):
    key = key_prefix + '/cas'
    post(etcd_server, '/kv/put', txn.put_request(key, 'one'), write=True)
    swap = txn.Txn().when(txn.compare_value(key, '==', 'one')).then(txn.put_op(key, 'two', prev_kv=True)) \
        .otherwise(txn.get_op(key)).body()
    done = txn.parse_txn(post(etcd_server, '/kv/txn', swap, key, write=True))
    assert done.succeeded and isinstance(done.responses[0], PutResult)
    assert done.responses[0].prev_kv.value == 'one' and done.responses[0].header.revision == done.header.revision

    body = post(etcd_server, '/kv/txn', swap, key, write=True)
    assert 'succeeded' not in body  # false is left out
    failed = txn.parse_txn(body)
    assert not failed.succeeded and isinstance(failed.responses[0], RangeResult)
    assert failed.responses[0].kv.value == 'two'


def test_txn_create_if_absent_and_other_targets(etcd_server, key_prefix):
    key = key_prefix + '/new'
    create = txn.txn_request([txn.compare_create(key, '==', 0)], [txn.put_op(key, 'a')])
    assert txn.parse_txn(post(etcd_server, '/kv/txn', create, write=True)).succeeded
    second = txn.parse_txn(post(etcd_server, '/kv/txn', create, write=True))
    assert not second.succeeded and second.responses == ()  # empty failure branch

    kv = RangeResult.from_json(post(etcd_server, '/kv/range', txn.range_request(key))).kv
    checks = [txn.compare_version(key, '>', 0), txn.compare_mod(key, '==', kv.mod_revision),
              txn.compare_create(key, '<', kv.create_revision + 1), txn.compare_lease(key, '==', 0),
              txn.compare_value(key, '!=', 'b'), txn.compare_version(key_prefix + '/', '>', 0, prefix=True)]
    nested = txn.txn_op([txn.compare_version(key, '==', 999)], failure=[txn.get_op(key, count_only=True)])
    result = txn.parse_txn(post(etcd_server, '/kv/txn', txn.txn_request(
        checks, [txn.delete_op(key, prev_kv=True), nested]), write=True))
    assert result.succeeded
    deleted, inner = result.responses
    assert isinstance(deleted, DeleteResult) and deleted.deleted == 1 and deleted.prev_kvs[0].value == 'a'
    assert not inner.succeeded and inner.responses[0].count == 0  # the nested txn sees the delete
    # on a missing key every VALUE compare is false, even != (etcd's rule)
    missing = txn.txn_request([txn.compare_value(key, '!=', 'x')])
    assert not txn.parse_txn(post(etcd_server, '/kv/txn', missing)).succeeded
    assert txn.parse_txn(post(etcd_server, '/kv/txn', txn.Txn().body())).succeeded  # empty txn


def test_too_many_txn_ops(etcd_server, key_prefix):
    ops = [txn.put_op('%s/many/%03d' % (key_prefix, number), 'x') for number in range(129)]
    with pytest.raises(exc.EtcdTooManyTxnOps) as caught:
        post(etcd_server, '/kv/txn', txn.txn_request(success=ops), key_prefix, write=True)
    assert caught.value.grpc_code == 3 and caught.value.status == 400 and not caught.value.outcome_unknown
    assert isinstance(caught.value, exc.EtcdInvalidArgument) and etcd_server.url in str(caught.value)
    assert txn.parse_txn(post(etcd_server, '/kv/txn', txn.txn_request(success=ops[:128]), write=True)).succeeded


def test_request_too_large(etcd_server, key_prefix):
    key = key_prefix + '/big'
    with pytest.raises(exc.EtcdRequestTooLarge) as caught:
        post(etcd_server, '/kv/put', txn.put_request(key, b'x' * (1600 * 1024)), key, write=True)
    assert (caught.value.grpc_code, caught.value.status) == (3, 400)
    with pytest.raises(exc.EtcdRequestTooLarge) as caught:  # past the gRPC limit (1.5 MiB + 512 KiB)
        post(etcd_server, '/kv/put', txn.put_request(key, b'x' * (2100 * 1024)), key, write=True)
    assert (caught.value.grpc_code, caught.value.status) == (8, 429)
    assert RangeResult.from_json(post(etcd_server, '/kv/range', txn.range_request(key))).kvs == ()


def test_put_errors(etcd_server, key_prefix):
    key = key_prefix + '/leased'
    with pytest.raises(exc.EtcdLeaseNotFound) as caught:
        post(etcd_server, '/kv/put', txn.put_request(key, 'v', lease=12345), key, write=True)
    assert (caught.value.grpc_code, caught.value.status, caught.value.key) == (5, 404, key)
    assert not answers.is_retryable(404, raw(etcd_server, '/kv/put', txn.put_request(key, 'v', lease=12345)).text, write=True)
    with pytest.raises(exc.Etcd3KeyNotFound) as caught:
        post(etcd_server, '/kv/put', txn.put_request(key, ignore_value=True), key, write=True)
    assert isinstance(caught.value, exc.EtcdKeyNotFound)  # the v2 class catches it too
    assert caught.value.grpc_code == 3
    # the client refuses an empty key itself; etcd's own answer to one maps to InvalidArgument
    with pytest.raises(exc.ClientException, match='key must not be empty'):
        txn.put_request('', 'v')
    with pytest.raises(exc.EtcdInvalidArgument, match='key is not provided'):
        post(etcd_server, '/kv/put', {'key': '', 'value': 'dg=='}, write=True)


def test_lease_answers(etcd_server, key_prefix):
    granted = Lease.from_json(post(etcd_server, '/lease/grant', {'TTL': 60}, write=True))
    assert granted.id > 0 and granted.ttl == 60
    key = key_prefix + '/with-lease'
    post(etcd_server, '/kv/put', txn.put_request(key, 'v', lease=granted.id), write=True)
    assert RangeResult.from_json(post(etcd_server, '/kv/range', txn.range_request(key))).kv.lease == granted.id
    alive = Lease.from_json(post(etcd_server, '/lease/timetolive', {'ID': str(granted.id), 'keys': True}))
    assert alive.granted_ttl == 60 and 0 < alive.ttl <= 60 and alive.keys == (key.encode(),)
    with requests.post(etcd_server.url + '/v3/lease/keepalive', json={'ID': str(granted.id)}, timeout=TIMEOUT,
                       stream=True) as response:
        kept = Lease.from_json(read_stream(response.iter_lines(chunk_size=1), lambda result: True)[0])
    assert kept.id == granted.id and kept.ttl == 60
    post(etcd_server, '/lease/revoke', {'ID': str(granted.id)}, write=True)
    with pytest.raises(exc.EtcdLeaseNotFound):
        post(etcd_server, '/lease/revoke', {'ID': str(granted.id)}, write=True)
    assert Lease.from_json(post(etcd_server, '/lease/timetolive', {'ID': str(granted.id)})).ttl == -1


# -- watch, compaction ---------------------------------------------------------------------------

def test_watch_events(etcd_server, key_prefix):
    prefix = key_prefix + '/w/'
    request = {'create_request': {'key': codec.encode(prefix), 'range_end': codec.encode(codec.prefix_range_end(prefix)),
                                  'prev_kv': True}}
    with requests.post(etcd_server.url + '/v3/watch', json=request, timeout=TIMEOUT, stream=True) as response:
        lines = response.iter_lines(chunk_size=1)
        created = WatchResult.from_json(read_stream(lines, lambda result: True)[0])
        assert created.created and created.events == ()
        post(etcd_server, '/kv/put', txn.put_request(prefix + 'a', '1'), write=True)
        post(etcd_server, '/kv/put', txn.put_request(prefix + 'a', '2'), write=True)
        post(etcd_server, '/kv/deleterange', txn.delete_request(prefix + 'a'), write=True)
        events = []
        for result in read_stream(lines, lambda result: any(
                event.get('type') == 'DELETE' for event in result.get('events', []))):
            events.extend(WatchResult.from_json(result).events)
    assert [(event.type, event.kv.value) for event in events] == [('PUT', '1'), ('PUT', '2'), ('DELETE', '')]
    assert events[0].prev_kv is None and events[1].prev_kv.value == '1' and events[2].prev_kv.value == '2'
    assert events[2].kv.key == prefix + 'a' and events[2].kv.mod_revision > events[1].kv.mod_revision


@pytest.mark.parametrize('version', ['3.5', '3.4'])
def test_compacted_revision(version):
    server = fresh_server(version)
    try:
        revisions = [PutResult.from_json(post(server, '/kv/put', txn.put_request('k', str(number)), write=True)).header.revision
                     for number in range(3)]
        compact_at = revisions[1]
        post(server, '/kv/compaction', {'revision': str(codec.check_revision(compact_at)), 'physical': True}, write=True)
        with pytest.raises(exc.EtcdCompacted) as caught:
            post(server, '/kv/range', txn.range_request('k', revision=revisions[0]), 'k')
        error = caught.value
        assert (error.grpc_code, error.status, error.key, error.compact_revision) == (11, 400, 'k', None)
        with pytest.raises(exc.EtcdCompacted):
            post(server, '/kv/compaction', {'revision': str(compact_at)}, write=True)
        with pytest.raises(exc.EtcdFutureRevision):
            post(server, '/kv/range', txn.range_request('k', revision=revisions[-1] + 100))
        # the unary error does not say where history starts; the watch probe does
        with requests.post(server.url + '/v3/watch', json=answers.compact_probe_request('k'), timeout=TIMEOUT,
                           stream=True) as response:
            told = None
            for line in response.iter_lines(chunk_size=1):
                told = answers.compact_revision_of(line, server.url)
                if told is not None:
                    break
        assert told == compact_at
        kv = RangeResult.from_json(post(server, '/kv/range', txn.range_request('k', revision=told))).kv
        assert kv.value == '1'
    finally:
        server.destroy()


# -- auth ----------------------------------------------------------------------------------------

@pytest.mark.parametrize('version', ['3.5', '3.4'])
def test_auth_errors(version):
    server = fresh_server(version)
    try:
        # on a member without auth, authenticate is refused with code 9 (HTTP 412 on Debian's 3.4, 400 on 3.5)
        with pytest.raises(exc.EtcdAuthNotEnabled) as caught:
            post(server, '/auth/authenticate', {'name': 'root', 'password': 'x'})
        assert caught.value.grpc_code == 9 and caught.value.status in (400, 412)
        not_enabled_status = caught.value.status

        etcdctl(server, 'user', 'add', 'root:rootpw')
        etcdctl(server, 'user', 'grant-role', 'root', 'root')
        etcdctl(server, 'role', 'add', 'reader')
        etcdctl(server, 'role', 'grant-permission', 'reader', 'read', '/ro/', '--prefix=true')
        etcdctl(server, 'user', 'add', 'ro:ropw')
        etcdctl(server, 'user', 'grant-role', 'ro', 'reader')
        etcdctl(server, 'put', '/ro/x', 'readable')
        etcdctl(server, 'auth', 'enable')

        root = post(server, '/auth/authenticate', {'name': 'root', 'password': 'rootpw'})['token']
        reader = post(server, '/auth/authenticate', {'name': 'ro', 'password': 'ropw'})['token']
        with pytest.raises(exc.EtcdAuthFailed):
            post(server, '/auth/authenticate', {'name': 'root', 'password': 'wrong'})

        with pytest.raises(exc.EtcdUnauthenticated) as caught:  # no token
            post(server, '/kv/range', txn.range_request('/ro/x'), '/ro/x')
        assert caught.value.token_missing and caught.value.grpc_code == 3 and caught.value.status == 400
        with pytest.raises(exc.EtcdUnauthenticated) as caught:  # bad token (no ".<index>": never the hanging kind)
            post(server, '/kv/range', txn.range_request('/ro/x'), '/ro/x', token='garbage')
        assert (caught.value.grpc_code, caught.value.status, caught.value.token_missing) == (16, 401, False)
        assert isinstance(caught.value, exc.EtcdUnauthorized)

        kv = RangeResult.from_json(post(server, '/kv/range', txn.range_request('/ro/x'), token=reader)).kv
        assert kv.value == 'readable'
        with pytest.raises(exc.EtcdPermissionDenied) as caught:
            post(server, '/kv/put', txn.put_request('/ro/x', 'no'), '/ro/x', write=True, token=reader)
        assert (caught.value.grpc_code, caught.value.status) == (7, 403)
        with pytest.raises(exc.EtcdPermissionDenied):
            post(server, '/kv/range', txn.range_request('/elsewhere'), token=reader)

        with pytest.raises(exc.EtcdUserExists) as caught:
            post(server, '/auth/user/add', {'name': 'ro', 'password': 'x'}, token=root)
        assert caught.value.grpc_code == 9 and caught.value.status == not_enabled_status
        with pytest.raises(exc.EtcdRoleNotFound):
            post(server, '/auth/user/grant', {'user': 'ro', 'role': 'nosuchrole'}, token=root)
        with pytest.raises(exc.EtcdUserNotFound):
            post(server, '/auth/user/get', {'name': 'nosuchuser'}, token=root)
        with pytest.raises(exc.EtcdRoleExists):
            post(server, '/auth/role/add', {'name': 'reader'}, token=root)

        # a watch without token is accepted (HTTP 200) and cancelled in the stream; the reason differs by version
        request = {'create_request': {'key': codec.encode('/ro/x')}}
        with requests.post(server.url + '/v3/watch', json=request, timeout=TIMEOUT, stream=True) as response:
            result = read_stream(response.iter_lines(chunk_size=1), lambda result: result.get('canceled'))[-1]
        error = answers.watch_cancel_error(result, server.url, '/ro/x')
        if version == '3.5':
            assert isinstance(error, exc.EtcdPermissionDenied) and error.grpc_code == 7
        else:
            assert isinstance(error, exc.EtcdUnauthenticated) and error.token_missing and error.grpc_code == 3
    finally:
        server.destroy()


# -- cluster, maintenance, gateway errors ----------------------------------------------------------

def test_members_status_alarms(etcd_server):
    members = MemberList.from_json(post(etcd_server, '/cluster/member/list', {}))
    assert len(members.members) == 1
    member = members.members[0]
    assert member.id == members.header.member_id and member.id_hex == format(member.id, 'x')
    assert member.name == 'node0' and member.client_urls == (etcd_server.url,) and not member.is_learner
    assert members.header.revision == 0  # cluster answers leave the revision out
    assert member.id_hex in etcdctl(etcd_server, 'member', 'list').decode()

    status = Status.from_json(post(etcd_server, '/maintenance/status', {}))
    assert status.version.startswith(etcd_server.version + '.') and status.is_leader and status.member_id == member.id
    assert status.db_size > 0 and status.raft_index > 0 and status.errors == ()
    assert alarms_from_json(post(etcd_server, '/maintenance/alarm', {'action': 'GET'})) == []


def test_gateway_plain_text_answers(etcd_server):
    answer = requests.post(etcd_server.url + '/v3/kv/nothing', json={}, timeout=TIMEOUT)
    assert answer.status_code == 404 and not answer.text.startswith('{')
    with pytest.raises(exc.EtcdV3NotAvailable, match='does not serve this etcd v3 call') as caught:
        answers.parse_answer(answer.status_code, answer.text, etcd_server.url)
    assert etcd_server.url in str(caught.value) and 'older than 3.4' in str(caught.value)
    # a call that 3.4 does not have yet answers the same way
    answer = requests.post(etcd_server.url + '/v3/auth/status', json={}, timeout=TIMEOUT)
    if etcd_server.version == '3.4':
        with pytest.raises(exc.EtcdV3NotAvailable):
            answers.parse_answer(answer.status_code, answer.text, etcd_server.url)
    else:
        assert 'header' in answers.parse_answer(answer.status_code, answer.text, etcd_server.url)
    answer = requests.get(etcd_server.url + '/v3/kv/range', timeout=TIMEOUT)
    with pytest.raises(exc.Etcd3Exception, match='POST only'):
        answers.parse_answer(answer.status_code, answer.text, etcd_server.url)
    answer = requests.post(etcd_server.url + '/v3/kv/range', data='{"key":', timeout=TIMEOUT)
    with pytest.raises(exc.EtcdInvalidArgument):
        answers.parse_answer(answer.status_code, answer.text, etcd_server.url)


def test_keyvalue_from_real_answer_has_raw_bytes(etcd_server, key_prefix):
    key = key_prefix + '/text'
    post(etcd_server, '/kv/put', txn.put_request(key, 'plain'), write=True)
    kv = KeyValue.from_json(post(etcd_server, '/kv/range', txn.range_request(key))['kvs'][0])
    assert kv.value == 'plain' and kv.value_bytes == b'plain' and kv.is_text
    assert kv.to_dict()['value'] == 'plain' and kv.to_dict()['key'] == key
