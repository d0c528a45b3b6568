# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_dir with api_version=v3 against real etcd 3.5 and 3.4, checked with etcdctl and the gateway.

A directory is the prefix ``path/``: one range read, one guarded transaction (or several, past
max_txn_ops), one lease for a ttl.
"""
from __future__ import annotations

import threading
import time
import uuid

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_v3 import DirTxnError, PrefixChanged, ensure_prefix
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client
from tests.harness.v3_state import etcdctl, kv, lease_ttl, leases, prefix_kvs, revision, values
from tests.modules.module_process import run_module

CONTENT = {'port': 8080, 'debug': False, 'name': 'app one', 'db': {'host': 'db1', 'opts': {}}}


@pytest.fixture
def path():
    return 'v3dir-%s/app' % uuid.uuid4().hex[:10]


def args(server, **extra):
    return dict(host=[server.url] if not isinstance(server, list) else server, api_version='v3', **extra)


def stored(server, path):
    """{relative name: value} below ``path/``, read with etcdctl."""
    return {key[len(path) + 1:]: value for key, value in values(server, path + '/').items()}


def warnings(result):
    """The warnings of a module result as text (newer ansible-core returns them as events)."""
    return [w['event']['msg'] if isinstance(w, dict) else w for w in result.get('warnings', [])]


class CountingClient(Etcd3Client):
    """An Etcd3Client that counts the gateway calls it makes, by path."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.calls = []

    def call(self, path, *a, **kw):  # pylint: disable=arguments-differ
        self.calls.append(path)
        return super().call(path, *a, **kw)


def test_create_then_rerun_is_one_read_and_no_write(etcd_server, path):
    first = run_module('etcd_dir', args(etcd_server, path=path, content=CONTENT))
    assert first['changed'] is True and not first.get('failed'), first
    assert stored(etcd_server, path) == {'port': '8080', 'debug': 'false', 'name': 'app one', 'db/host': 'db1'}
    # Verbatim: no leading '/' was added.
    assert values(etcd_server, '/' + path) == {}
    assert first['path'] == path
    assert first['created'] == sorted(path + '/' + name for name in ('port', 'debug', 'name', 'db/host'))
    assert first['updated'] == [] and first['deleted'] == [] and first['kept'] == []
    assert first['writes'] == first['planned_writes'] == 4
    # One transaction: every key has its revision, which is the one returned.
    mods = {item['mod_revision'] for item in prefix_kvs(etcd_server, path + '/').values()}
    assert mods == {first['revision']}
    assert any('no v3 equivalent' in w and path + '/db/opts' in w for w in warnings(first))

    before = revision(etcd_server)
    with CountingClient(host=etcd_server.url) as client:
        again = ensure_prefix(client, path, content=CONTENT)
    assert not again.changed and again.writes == 0
    assert client.calls == ['/kv/range'], client.calls
    second = run_module('etcd_dir', args(etcd_server, path=path, content=CONTENT))
    assert second['changed'] is False and second['writes'] == 0 and second['revision'] == before, second
    assert revision(etcd_server) == before, 'a no-change run wrote'


def test_update_and_purge_is_one_transaction(etcd_server, path):
    for name, value in (('a', '1'), ('b', '2'), ('c', '3'), ('extra/x', 'x'), ('extra/y', 'y')):
        etcdctl(etcd_server, 'put', path + '/' + name, value)
    etcdctl(etcd_server, 'put', path, 'the key at path itself is not below the prefix')
    etcdctl(etcd_server, 'put', path + '2/a', 'a sibling prefix')
    kept_b = kv(etcd_server, path + '/b')
    before = revision(etcd_server)
    result = run_module('etcd_dir', args(etcd_server, path=path, content={'a': 'one', 'b': '2', 'd': '4'}, purge=True))
    assert result['changed'] and result['updated'] == [path + '/a'] and result['created'] == [path + '/d'], result
    assert result['deleted'] == [path + '/c', path + '/extra/x', path + '/extra/y']
    assert stored(etcd_server, path) == {'a': 'one', 'b': '2', 'd': '4'}
    now = prefix_kvs(etcd_server, path + '/')
    assert now[path + '/a']['mod_revision'] == now[path + '/d']['mod_revision'] == result['revision'] == before + 1
    assert now[path + '/b']['mod_revision'] == kept_b['mod_revision']
    # The deletes are in the same revision: the store moved by exactly one.
    assert revision(etcd_server) == before + 1
    assert kv(etcd_server, path)['value'].startswith('the key at path') and kv(etcd_server, path + '2/a') is not None


def test_without_purge_other_keys_stay(etcd_server, path):
    etcdctl(etcd_server, 'put', path + '/other', 'o')
    result = run_module('etcd_dir', args(etcd_server, path=path, content={'a': '1'}))
    assert result['changed'] and result['deleted'] == []
    assert stored(etcd_server, path) == {'a': '1', 'other': 'o'}


def test_check_mode_writes_nothing(etcd_server, path):
    etcdctl(etcd_server, 'put', path + '/old', 'o')
    before = revision(etcd_server)
    result = run_module('etcd_dir', args(etcd_server, path=path, content={'new': 'n'}, purge=True), check=True, diff=True)
    assert result['changed'] and result['created'] == [path + '/new'] and result['deleted'] == [path + '/old']
    assert result['writes'] == 0 and result['planned_writes'] == 2 and result['revision'] == before
    assert result['diff']['after'] == {'new': 'n'}
    gone = run_module('etcd_dir', args(etcd_server, path=path, state='absent'), check=True)
    assert gone['changed'] and gone['deleted'] == [path + '/old']
    assert revision(etcd_server) == before and stored(etcd_server, path) == {'old': 'o'}


def test_diff_shows_both_trees(etcd_server, path):
    etcdctl(etcd_server, 'put', path + '/db/host', 'db1')
    etcdctl(etcd_server, 'put', path + '/gone', 'g')
    result = run_module('etcd_dir', args(etcd_server, path=path, content={'db': {'host': 'db2'}, 'port': 1}, purge=True),
                        diff=True)
    diff = result['diff']
    assert diff['before'] == {'db': {'host': 'db1'}, 'gone': 'g'}
    assert diff['after'] == {'db': {'host': 'db2'}, 'port': '1'}
    assert diff['before_header'] == path and diff['after_header'] == path
    gone = run_module('etcd_dir', args(etcd_server, path=path, state='absent'), diff=True)
    assert gone['diff']['after'] == {} and gone['diff']['after_header'] == '%s (absent)' % path


def test_sensitive_hides_values_everywhere(etcd_server, path):
    etcdctl(etcd_server, 'put', path + '/old', 'old-s3cret')
    result = run_module('etcd_dir', args(etcd_server, path=path, content={'pw': 'new-s3cret'}, purge=True,
                                         sensitive=True), diff=True)
    assert result['changed']
    assert 's3cret' not in repr(result), result
    assert result['diff']['before'] == {'old': '<hidden>'} and result['diff']['after'] == {'pw': '<hidden>'}
    assert stored(etcd_server, path) == {'pw': 'new-s3cret'}
    failed = run_module('etcd_dir', args(etcd_server, path=path, content={'pw': 'other-s3cret', 'bad': [1]},
                                         sensitive=True))
    assert failed['failed'] and 's3cret' not in repr(failed), failed


def _racing_client(server, action):
    """A client that lets another writer in right after its first read of the prefix."""
    class Racing(Etcd3Client):
        raced = False

        def range(self, *a, **kw):  # pylint: disable=arguments-differ
            answer = super().range(*a, **kw)
            if not Racing.raced:
                Racing.raced = True
                action()
            return answer
    return Racing(host=server.url)


def test_concurrent_change_makes_the_transaction_write_nothing(etcd_server, path):
    for name in ('a', 'b', 'c'):
        etcdctl(etcd_server, 'put', path + '/' + name, 'old')

    def meanwhile():
        etcdctl(etcd_server, 'put', path + '/zz-new', 'theirs')   # created after the read
        etcdctl(etcd_server, 'del', path + '/c')                # deleted after the read

    start = revision(etcd_server)
    with _racing_client(etcd_server, meanwhile) as client:
        with pytest.raises(PrefixChanged) as err:
            ensure_prefix(client, path, content={'a': 'new', 'c': 'new'}, purge=True)
    message = str(err.value)
    assert path + '/zz-new (written at revision' in message and path + '/c (deleted)' in message, message
    assert 'nothing was written' in message
    assert stored(etcd_server, path) == {'a': 'old', 'b': 'old', 'zz-new': 'theirs'}
    assert revision(etcd_server) == start + 2  # only the other writer's two changes


def test_concurrent_change_with_ttl_leaves_no_lease(etcd_server, path):
    before = set(leases(etcd_server))
    with _racing_client(etcd_server, lambda: etcdctl(etcd_server, 'put', path + '/a', 'theirs')) as client:
        with pytest.raises(PrefixChanged):
            ensure_prefix(client, path, content={'a': 'mine', 'b': 'mine'}, ttl=60)
    assert set(leases(etcd_server)) == before, 'the lease granted for the refused txn was left behind'
    assert stored(etcd_server, path) == {'a': 'theirs'}


def test_larger_than_max_txn_ops_goes_chunked_and_completes(etcd_server, path):
    content = {'k%02d' % n: 'v%d' % n for n in range(30)}
    first = run_module('etcd_dir', args(etcd_server, path=path, content=content, max_txn_ops=8))
    assert first['changed'] and first['writes'] == 30 and len(first['created']) == 30, first
    now = prefix_kvs(etcd_server, path + '/')
    assert len(now) == 30
    assert len({item['mod_revision'] for item in now.values()}) == 4  # ceil(30 / 8) transactions
    assert first['revision'] == max(item['mod_revision'] for item in now.values())
    # Update ten, purge ten, in chunks again (20 writes); a re-run is ok.
    second = dict((name, value) for name, value in list(content.items())[:20])
    second.update({'k%02d' % n: 'new%d' % n for n in range(10)})
    result = run_module('etcd_dir', args(etcd_server, path=path, content=second, purge=True, max_txn_ops=8))
    assert len(result['updated']) == 10 and len(result['deleted']) == 10 and result['writes'] == 20, result
    assert stored(etcd_server, path) == second
    before = revision(etcd_server)
    again = run_module('etcd_dir', args(etcd_server, path=path, content=second, purge=True, max_txn_ops=8))
    assert again['changed'] is False and revision(etcd_server) == before


def test_content_larger_than_one_request_goes_in_transactions_etcd_accepts(etcd_server, path):
    """Three values of 700,000 bytes: 2.1 MB is more than etcd takes in one request (its gateway
    refuses a message over 2 MiB), so the keys go in transactions of about 1 MiB each."""
    content = {name: name * 700000 for name in ('a', 'b', 'c')}
    first = run_module('etcd_dir', args(etcd_server, path=path, content=content))
    assert first['changed'] and first['writes'] == 3, first.get('msg', first)
    now = prefix_kvs(etcd_server, path + '/')
    assert {key: item['value'] for key, item in now.items()} == {path + '/' + k: v for k, v in content.items()}
    assert len({item['mod_revision'] for item in now.values()}) == 3  # one key per transaction
    before = revision(etcd_server)
    again = run_module('etcd_dir', args(etcd_server, path=path, content=content))
    assert again['changed'] is False and revision(etcd_server) == before


def test_chunked_concurrent_change_reports_the_chunk(etcd_server, path):
    content = {'k%02d' % n: 'v' for n in range(20)}
    with _racing_client(etcd_server, lambda: etcdctl(etcd_server, 'put', path + '/k10', 'theirs')) as client:
        client.max_txn_ops = 8
        with pytest.raises(DirTxnError) as err:
            ensure_prefix(client, path, content=content, concurrency=1)
    exc = err.value
    assert exc.position == 2 and exc.txns == 3 and exc.applied == 2 and exc.done == 12, exc.progress
    assert path + '/k10 (created at revision' in str(exc.cause)
    assert 'a re-run completes the rest' in exc.progress
    assert stored(etcd_server, path)['k10'] == 'theirs' and len(stored(etcd_server, path)) == 13
    # Transactions 1 and 3 (pipelined behind the refused one) were applied; 2 wrote nothing.
    rerun = run_module('etcd_dir', args(etcd_server, path=path, content=content, max_txn_ops=8))
    assert rerun['updated'] == [path + '/k10']
    assert rerun['created'] == [path + '/k%02d' % n for n in range(8, 16) if n != 10]
    assert stored(etcd_server, path) == content


def test_state_absent_deletes_the_prefix_only(etcd_server, path):
    for name in ('a', 'b/c', 'b/d'):
        etcdctl(etcd_server, 'put', path + '/' + name, 'x')
    etcdctl(etcd_server, 'put', path, 'the key at path')
    etcdctl(etcd_server, 'put', path + '-sibling/a', 'x')
    before = revision(etcd_server)
    result = run_module('etcd_dir', args(etcd_server, path=path, state='absent'))
    assert result['changed'] and result['deleted'] == [path + '/a', path + '/b/c', path + '/b/d'], result
    assert result['writes'] == 1 and result['revision'] == before + 1
    assert stored(etcd_server, path) == {}
    assert kv(etcd_server, path) is not None and kv(etcd_server, path + '-sibling/a') is not None
    again = run_module('etcd_dir', args(etcd_server, path=path, state='absent'))
    assert again['changed'] is False and revision(etcd_server) == before + 1


def test_state_absent_of_a_large_prefix_names_what_it_deleted(etcd_server, path):
    """More keys than max_txn_ops compares: one delete guarded by the range compare only."""
    with Etcd3Client(host=etcd_server.url) as client:
        client.put_many({'%s/k%02d' % (path, n): 'v' for n in range(20)})
    result = run_module('etcd_dir', args(etcd_server, path=path, state='absent', max_txn_ops=8))
    assert result['changed'] and len(result['deleted']) == 20 and stored(etcd_server, path) == {}


def test_ttl_puts_every_key_on_one_lease(etcd_server, path):
    first = run_module('etcd_dir', args(etcd_server, path=path, content={'a': '1', 'b': {'c': '2'}}, ttl=60))
    assert first['changed']
    now = prefix_kvs(etcd_server, path + '/')
    lease_ids = {item['lease'] for item in now.values()}
    assert len(lease_ids) == 1 and 0 not in lease_ids
    lease = lease_ttl(etcd_server, lease_ids.pop())
    assert lease['granted_ttl'] == 60 and sorted(lease['keys']) == [path + '/a', path + '/b/c']
    before = revision(etcd_server)
    again = run_module('etcd_dir', args(etcd_server, path=path, content={'a': '1', 'b': {'c': '2'}}, ttl=60))
    assert again['changed'] is False and revision(etcd_server) == before, again
    # A key added later joins the same lease: the keys still expire together.
    more = run_module('etcd_dir', args(etcd_server, path=path, content={'a': '1', 'b': {'c': '2'}, 'd': '3'}, ttl=60))
    assert more['created'] == [path + '/d'] and more['updated'] == []
    assert {item['lease'] for item in prefix_kvs(etcd_server, path + '/').values()} == {now[path + '/a']['lease']}
    # A shorter ttl than the lease has left: every key goes on one new lease of 10 s.
    shorter = run_module('etcd_dir', args(etcd_server, path=path, content={'a': '1', 'b': {'c': '2'}, 'd': '3'}, ttl=10))
    assert len(shorter['updated']) == 3, shorter
    leased = {item['lease'] for item in prefix_kvs(etcd_server, path + '/').values()}
    assert len(leased) == 1 and leased != {now[path + '/a']['lease']}
    assert lease_ttl(etcd_server, leased.pop())['granted_ttl'] == 10
    # Without ttl an existing lease is left alone (as v2 left a directory's TTL alone).
    plain = run_module('etcd_dir', args(etcd_server, path=path, content={'a': 'changed'}))
    assert plain['updated'] == [path + '/a']
    assert kv(etcd_server, path + '/a')['lease'] != 0


def test_recursive_is_refused_on_v3(etcd_server, path):
    etcdctl(etcd_server, 'put', path + '/a', 'x')
    result = run_module('etcd_dir', args(etcd_server, path=path, state='absent', recursive=True))
    assert result['failed'] and 'recursive needs api_version=v2' in result['msg'], result
    assert stored(etcd_server, path) == {'a': 'x'}


@pytest.mark.parametrize('bad, words', [
    ({'content': {'a': [1, 2]}}, 'content key {path}/a is a list'),
    ({'content': {'a': None}}, 'content key {path}/a is null'),
    ({'content': {'a/b': '1'}}, 'not a single path segment'),
    ({'content': {'a': '1'}, 'ttl': 0}, 'ttl must be at least 1'),
    ({'state': 'absent', 'content': {'a': '1'}}, 'content only apply to state=present'),
    ({'content': {'a': '1'}, 'concurrency': 0}, 'concurrency must be at least 1'),
])
def test_bad_input_is_refused_before_anything_is_sent(etcd_server, path, bad, words):
    before = revision(etcd_server)
    result = run_module('etcd_dir', args(etcd_server, path=path, **bad))
    assert result['failed'] and words.format(path=path) in result['msg'], result['msg']
    assert '\n' not in result['msg']
    assert revision(etcd_server) == before


def test_underscore_names_are_plain_keys_on_v3(etcd_server, path):
    result = run_module('etcd_dir', args(etcd_server, path=path, content={'_meta': 'm'}))
    assert result['changed'] and stored(etcd_server, path) == {'_meta': 'm'}


def test_present_without_content_on_an_empty_prefix_says_so(etcd_server, path):
    result = run_module('etcd_dir', args(etcd_server, path=path))
    assert result['changed'] is False and any('no v3 equivalent' in w for w in warnings(result)), result


@pytest.mark.slow
def test_leader_sigkill_mid_etcd_dir_a_rerun_completes(etcd_cluster):
    """The leader SIGKILLed while etcd_dir writes 3000 keys in 60 transactions: the run fails
    saying how many were applied; a re-run completes; every key holds its value, written once
    (version 1), whatever happened to the transactions whose answer was lost."""
    leader = etcd_cluster.leader()
    hosts = [leader.url] + [m.url for m in etcd_cluster.members if m is not leader]
    path = 'v3dir-fault-%s' % uuid.uuid4().hex[:8]
    content = {'k%05d' % n: 'v%d' % n for n in range(3000)}
    observer = Etcd3Client(host=leader.url, timeout=5)

    def kill_when_applied():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if observer.count_prefix(path + '/') >= 500:
                    break
            except Exception:  # pylint: disable=broad-except
                pass
            time.sleep(0.005)
        leader.kill()

    killer = threading.Thread(target=kill_when_applied, daemon=True)
    killer.start()
    first = run_module('etcd_dir', dict(args(hosts, path=path, content=content, max_txn_ops=50, timeout=2)))
    killer.join(30)
    assert not leader.alive()
    survivors = [m.url for m in etcd_cluster.members if m is not leader]
    # The kill lands while transactions are in flight: the run fails and says how far it got.
    assert first.get('failed'), 'the kill did not land in the middle of the write'
    assert 'a re-run completes the rest' in first['msg'] and 'transactions' in first['msg'], first['msg']
    assert first['writes'] % 50 == 0 and 0 < first['writes'] < 3000 and first['changed'] is True
    deadline = time.monotonic() + 60
    while True:
        second = run_module('etcd_dir', dict(args(hosts, path=path, content=content, max_txn_ops=50, timeout=2)))
        if not second.get('failed') or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not second.get('failed'), second['msg']
    with Etcd3Client(host=survivors, timeout=5) as checker:
        kvs = {kv.key: kv for kv in checker.get_prefix(path + '/')}
    assert {key[len(path) + 1:]: item.value for key, item in kvs.items()} == content, 'keys lost or wrong'
    assert all(item.version == 1 for item in kvs.values()), 'a key was written twice'
    # The re-run wrote only what the first run had not (the applied and the in-flight-but-applied).
    assert len(second['created']) <= 3000 - first['writes'] and second['updated'] == []
    third = run_module('etcd_dir', dict(args(hosts, path=path, content=content, max_txn_ops=50, timeout=2)))
    assert third['changed'] is False
    observer.close()


# --------------------------------------------------------------------------- the pure planner (no etcd)

def test_plan_paths_and_trees_without_a_server():
    from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_v3 import (
        PrefixKey, PrefixRead, plan_prefix_present, prefix_tree, v3_path,
    )
    assert v3_path('config/app/') == ('config/app', 'config/app/')
    assert v3_path('/config/app') == ('/config/app', '/config/app/')
    assert v3_path('///') == ('/', '/')
    # v3 keys need not form a tree: 'a' and 'a/b' coexist.
    assert prefix_tree({'a': '1', 'a/b': '2'}) == {'a': {'': '1', 'b': '2'}}
    read = PrefixRead(10, {'a': PrefixKey('1', 5, lease=7), 'b': PrefixKey('2', 6, lease=7), 'c': PrefixKey('3', 8)})
    # a and b hold their values on lease 7, which ends within ttl: left alone; d joins lease 7;
    # c has no lease: put again on it too.
    plan = plan_prefix_present('p', 'p/', read, {'a': '1', 'b': '2', 'c': '3', 'd': '4'}, ttl=60, lease_left={7: 30})
    assert plan.lease == 7 and not plan.needs_lease
    assert [op.key for op in plan.puts] == ['p/c', 'p/d'] and plan.plan.updated == ['p/c'] and plan.plan.created == ['p/d']
    # Lease 7 ends later than ttl: every key goes on a new lease.
    later = plan_prefix_present('p', 'p/', read, {'a': '1', 'b': '2'}, ttl=10, lease_left={7: 30})
    assert later.needs_lease and [op.key for op in later.puts] == ['p/a', 'p/b']
