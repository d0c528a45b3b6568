"""Etcd3Client keys against a real etcd (3.5 and 3.4), cross-checked with etcdctl.

What the client writes, etcdctl reads; what etcdctl writes, the client reads. State is read
back with etcdctl (or a raw gateway request), not only through the client under test.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid

import pytest
import requests

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    EtcdBulkWriteFailed,
    EtcdCompacted,
    EtcdConnectionFailed,
    EtcdTooManyTxnOps,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client, KeyValue, transactions as t
from harness import v3_state

ETCDCTL = os.path.join(os.path.dirname(sys.executable), 'etcdctl')


def etcdctl(server, *args: str, stdin: bytes = None) -> bytes:
    env = dict(os.environ, ETCDCTL_API='3')
    proc = subprocess.run([ETCDCTL, '--endpoints', server.url, '--dial-timeout', '5s'] + list(args), input=stdin,
                          capture_output=True, env=env, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def stored(server, key: str):
    """The value etcd holds for ``key``, read with etcdctl (None when missing)."""
    out = json.loads(etcdctl(server, 'get', key, '-w', 'json'))
    kvs = out.get('kvs') or []
    return base64.b64decode(kvs[0].get('value', '')).decode() if kvs else None


@pytest.fixture
def v3(etcd_server):
    with Etcd3Client(host=etcd_server.url, timeout=5) as cli:
        yield cli


@pytest.fixture
def prefix() -> str:
    return 'v3test-%s/' % uuid.uuid4().hex[:10]


def test_put_get_and_etcdctl_agree(v3, etcd_server, prefix):
    result = v3.put(prefix + 'a', 'one')
    assert result.header.revision > 0
    assert stored(etcd_server, prefix + 'a') == 'one'
    etcdctl(etcd_server, 'put', prefix + 'b', 'from etcdctl')
    kv = v3.get(prefix + 'b')
    assert isinstance(kv, KeyValue) and kv.value == 'from etcdctl' and kv.key == prefix + 'b'
    assert kv.version == 1 and kv.create_revision == kv.mod_revision and kv.lease == 0
    assert v3.get(prefix + 'missing') is None
    # Keys are verbatim: no leading slash is added or stripped.
    v3.put('/' + prefix + 'a', 'slashed')
    assert stored(etcd_server, '/' + prefix + 'a') == 'slashed' and stored(etcd_server, prefix + 'a') == 'one'


def test_values_round_trip_exactly(v3, etcd_server, prefix):
    big = 'x' * (1024 * 1024)  # 1 MiB
    v3.put(prefix + 'big', big)
    assert v3.get(prefix + 'big').value == big
    v3.put(prefix + 'uni', 'ünïcødé ✓ \n tabs\t')
    assert stored(etcd_server, prefix + 'uni') == 'ünïcødé ✓ \n tabs\t'
    v3.put(prefix + 'raw', b'\xff\xfe\x00binary')
    kv = v3.get(prefix + 'raw')
    assert kv.value == b'\xff\xfe\x00binary' and kv.value_bytes == b'\xff\xfe\x00binary'  # never mangled
    v3.put(prefix + 'empty', '')
    assert v3.get(prefix + 'empty').value == ''


def test_prefix_range_count_sort_limit(v3, prefix):
    for number in range(12):
        v3.put('%sk%02d' % (prefix, number), str(number))
    v3.put(prefix[:-1] + 'x', 'outside')  # shares the text but not the prefix with its slash
    keys = [kv.key for kv in v3.get_prefix(prefix)]
    assert keys == ['%sk%02d' % (prefix, number) for number in range(12)]
    assert v3.count_prefix(prefix) == 12
    assert [kv.key for kv in v3.get_prefix(prefix, limit=3)] == keys[:3]
    assert [kv.key for kv in v3.get_prefix(prefix, sort='key', sort_order='descend', limit=2)] == keys[::-1][:2]
    assert all(kv.value_bytes == b'' for kv in v3.get_prefix(prefix, keys_only=True))
    assert [kv.key for kv in v3.get_range(prefix + 'k03', prefix + 'k06')] == keys[3:6]
    more = v3.range(prefix, prefix=True, limit=5)
    assert more.more is True and more.count == 12


def test_delete_and_delete_prefix(v3, etcd_server, prefix):
    v3.put(prefix + 'a', '1')
    v3.put(prefix + 'd/x', '2')
    v3.put(prefix + 'd/y', '3')
    assert v3.delete(prefix + 'a') == 1 and v3.delete(prefix + 'a') == 0
    assert v3.delete_prefix(prefix + 'd/') == 2
    assert etcdctl(etcd_server, 'get', prefix, '--prefix', '--keys-only').strip() == b''


def test_read_at_an_old_revision_and_after_compaction(v3, prefix):
    first = v3.put(prefix + 'r', 'one').header.revision
    v3.put(prefix + 'r', 'two')
    assert v3.get(prefix + 'r', revision=first).value == 'one'
    assert v3.get(prefix + 'r', serializable=True).value == 'two'
    latest = v3.put(prefix + 'r', 'three').header.revision
    v3.call('/kv/compaction', {'revision': str(latest)}, write=True)
    with pytest.raises(EtcdCompacted):
        v3.get(prefix + 'r', revision=first)


def test_transactions_and_conditional_helpers(v3, etcd_server, prefix):
    key = prefix + 'cas'
    assert v3.put_if_absent(key, 'v1') is True
    assert v3.put_if_absent(key, 'other') is False
    assert stored(etcd_server, key) == 'v1'
    assert v3.replace(key, 'wrong', 'v2') is False and v3.replace(key, 'v1', 'v2') is True
    assert stored(etcd_server, key) == 'v2'
    kv = v3.get(key)
    assert v3.delete_if(key, mod_revision=kv.mod_revision - 1) is False
    assert v3.delete_if(key, value='v2', mod_revision=kv.mod_revision) is True
    assert stored(etcd_server, key) is None
    result = v3.transaction([t.compare_version(prefix + 'n', '==', 0)],
                            [t.put_op(prefix + 'n', 'created'), t.get_op(prefix + 'n')],
                            [t.get_op(prefix + 'n')])
    assert result.succeeded and result.responses[1].kv.value == 'created'
    with pytest.raises(ClientException):
        v3.delete_if(key)


def test_put_many_fits_one_transaction_atomically(v3, etcd_server, prefix):
    items = {'%sm%03d' % (prefix, number): 'v%d' % number for number in range(100)}
    results = v3.put_many(items)
    assert len(results) == 1 and results[0].succeeded
    revisions = {kv.mod_revision for kv in v3.get_prefix(prefix)}
    assert revisions == {results[0].header.revision}  # one revision: one transaction
    assert len(etcdctl(etcd_server, 'get', prefix, '--prefix', '--keys-only').split()) == 100


def test_put_many_splits_at_max_txn_ops_and_pipelines(etcd_server, prefix):
    with Etcd3Client(host=etcd_server.url, max_txn_ops=50) as cli:
        items = [('%sb%04d' % (prefix, number), str(number)) for number in range(1000)]
        results = cli.put_many(items, concurrency=3, pipeline=4)
        assert len(results) == 20 and all(result.succeeded for result in results)
        assert {kv.key: kv.value for kv in cli.get_prefix(prefix)} == dict(items)
        assert len({result.header.revision for result in results}) == 20


def test_too_many_ops_in_one_transaction_is_refused_clearly(v3, prefix):
    ops = [t.put_op('%so%03d' % (prefix, number), 'v') for number in range(129)]
    with pytest.raises(EtcdTooManyTxnOps):
        v3.transaction([], ops)
    assert v3.count_prefix(prefix) == 0  # nothing half written


def test_bad_input_is_refused_before_anything_is_sent(prefix):
    offline = Etcd3Client(host='127.0.0.1:1', timeout=1)
    for call, words in [
        (lambda: offline.put('', 'v'), 'key'),
        (lambda: offline.put(prefix + 'k', None), 'value'),
        (lambda: offline.put(prefix + 'k', 5), 'value'),
        (lambda: offline.get_prefix(prefix, sort='size'), 'sort'),
        (lambda: offline.put_many([(prefix + 'a', '1'), (prefix + 'a', '2')]), 'twice'),
        (lambda: offline.put_many([(prefix + 'a',)]), 'pairs'),
        (lambda: offline.put_many({prefix + 'a': '1'}, concurrency=0), 'concurrency'),
    ]:
        with pytest.raises(ClientException, match=words):
            call()
    for kwargs, words in [({'host': []}, 'host names no etcd member'), ({'max_txn_ops': 0}, 'max_txn_ops'),
                          ({'api_prefix': ''}, 'api_prefix'), ({'password': 'pw'}, 'username'),
                          ({'timeout': 0}, 'timeout')]:
        with pytest.raises(ClientException, match=words):
            Etcd3Client(**kwargs)


def test_no_member_answers(prefix):
    with pytest.raises(EtcdConnectionFailed) as err:
        Etcd3Client(host=['127.0.0.1:1', '127.0.0.1:2'], timeout=1, api_prefix='/v3').put(prefix + 'k', 'v')
    assert 'connection refused' in str(err.value) and not err.value.outcome_unknown


def test_put_many_splits_by_bytes_as_well_as_by_count(etcd_server, prefix):
    # Five values of 400 KiB: 2 MiB in all, over etcd's default 1.5 MiB request limit in one
    # transaction, so they go in transactions of at most 1 MiB of keys and values.
    big = {'%sb%d' % (prefix, number): chr(ord('a') + number) * (400 * 1024) for number in range(5)}
    with Etcd3Client(host=etcd_server.url) as cli:
        results = cli.put_many(big, concurrency=1, pipeline=1)
    assert len(results) == 3  # 2 + 2 + 1 values of 400 KiB
    assert v3_state.values(etcd_server, prefix) == big


def test_gateway_prefix_follows_the_server_version(etcd_server):
    cli = Etcd3Client(host=etcd_server.url)
    assert cli.api_prefix == '/v3'
    assert Etcd3Client(host=etcd_server.url, api_prefix='v3beta').api_prefix == '/v3beta'


def test_put_many_failure_reports_what_went(etcd_server, prefix):
    # A transaction etcd refuses (a value over etcd's request limit, which goes in a
    # transaction of its own) stops the batch; each transaction is either applied, failed or
    # not sent, and etcd agrees.
    with Etcd3Client(host=etcd_server.url, max_txn_ops=10) as cli:
        items = [('%sf%03d' % (prefix, number), 'v') for number in range(60)]
        items[25] = (prefix + 'f025', 'x' * (2 * 1024 * 1024))
        with pytest.raises(EtcdBulkWriteFailed) as err:
            cli.put_many(items, concurrency=1, pipeline=1)
        exc = err.value
        done = [result for result in exc.results if result is not None]
        assert [key for key, _failure in exc.failures] == [prefix + 'f025']
        assert len(done) == 3  # f000-f009, f010-f019, f020-f024; f025 alone failed; the rest not sent
        assert sorted(v3_state.values(etcd_server, prefix)) == ['%sf%03d' % (prefix, number) for number in range(25)]
        assert requests.post(etcd_server.url + '/v3/kv/range', timeout=5, json={
            'key': base64.b64encode((prefix + 'f025').encode()).decode()}).json().get('kvs') is None
