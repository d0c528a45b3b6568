# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_migrate against real etcd 3.5 and 3.4: v2 state read over plain HTTP, v3 with etcdctl.

Each test migrates its own v2 directory (``key_prefix``), so tests on the shared server never
see each other's keys.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.migrate import (
    MigrationConflict,
    MigrationRequest,
    MigrationStopped,
    ensure_migration,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdConnectionFailed
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client
from tests.harness.v3_state import etcdctl, kv, lease_ttl, leases, prefix_kvs, revision, values
from tests.modules.module_process import run_module

MIB = 1024 * 1024


def raw_node(server, key, recursive=False):
    """A v2 node straight from etcd's HTTP API (None when missing), bypassing the collection."""
    query = '?recursive=true' if recursive else ''
    try:
        with urllib.request.urlopen('%s/v2/keys%s%s' % (server.url, urllib.parse.quote(key), query), timeout=5) as answer:
            return json.loads(answer.read())['node']
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def v2_put(server, key, value=None, ttl=None, directory=False):
    """A v2 write over plain HTTP."""
    params = {'dir': 'true'} if directory else {'value': value}
    if ttl is not None:
        params['ttl'] = str(ttl)
    request = urllib.request.Request('%s/v2/keys%s' % (server.url, urllib.parse.quote(key)),
                                     data=urllib.parse.urlencode(params).encode(), method='PUT')
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())['node']


def v2_state(node):
    """``{key: (value, modified index)}`` of the leaves of a v2 node (no TTLs: they run down)."""
    if node is None:
        return {}
    if not node.get('dir'):
        return {node['key']: (node.get('value'), node['modifiedIndex'])}
    return {key: item for child in node.get('nodes') or [] for key, item in v2_state(child).items()}


def v2_leaves(node):
    if node is None:
        return []
    if not node.get('dir'):
        return [node['key']]
    return [key for child in node.get('nodes') or [] for key in v2_leaves(child)]


def args(server, path, **extra):
    return dict(host=[server.url], path=path, **extra)


def clients(server):
    return Client(host=[server.url]), Etcd3Client(host=[server.url])


VALUES = {
    'unicode': 'grüße, 日本語, emoji \U0001F600',
    'spaces and ?#%&': 'a b?c#d%e&f=g',
    'empty': '',
    'json': '{"a": [1, 2, {"b": null}]}',
    'newlines': 'line one\nline two\r\n\ttabbed',
}


def test_values_copied_exactly_and_rerun_writes_nothing(etcd_server, key_prefix):
    for name, value in VALUES.items():
        v2_put(etcd_server, '%s/values/%s' % (key_prefix, name), value)
    big = ''.join(chr(0x41 + i % 26) for i in range(MIB - 2)) + 'é'  # 1 MiB of UTF-8 text
    v2_put(etcd_server, key_prefix + '/big', big)
    first = run_module('etcd_migrate', args(etcd_server, key_prefix))
    assert first['changed'] is True and not first.get('failed'), first
    expected = {'%s/values/%s' % (key_prefix, name): value for name, value in VALUES.items()}
    expected[key_prefix + '/big'] = big
    assert sorted(first['migrated']) == sorted(expected)
    stored = values(etcd_server, key_prefix + '/')
    assert stored == expected
    assert len(stored[key_prefix + '/big'].encode()) == MIB
    # v2 untouched without delete_source.
    assert sorted(v2_leaves(raw_node(etcd_server, key_prefix, recursive=True))) == sorted(expected)
    assert sorted(first['left_in_v2']) == sorted(expected)
    before = revision(etcd_server)
    second = run_module('etcd_migrate', args(etcd_server, key_prefix))
    assert second['changed'] is False and second['migrated'] == [], second
    assert sorted(second['unchanged']) == sorted(expected)
    assert revision(etcd_server) == before, 'a re-run wrote to v3'


def test_api_version_v3_still_reads_v2_and_prefix_is_prepended(etcd_server, key_prefix):
    v2_put(etcd_server, key_prefix + '/a/b', '1')
    result = run_module('etcd_migrate', args(etcd_server, key_prefix, prefix='/legacy', api_version='v3'))
    assert result['migrated'] == ['/legacy%s/a/b' % key_prefix], result
    assert kv(etcd_server, '/legacy%s/a/b' % key_prefix)['value'] == '1'
    assert kv(etcd_server, '%s/a/b' % key_prefix) is None


def test_many_keys_in_small_transactions(etcd_server, key_prefix):
    client = Client(host=[etcd_server.url])
    items = {'%s/k/%04d' % (key_prefix, i): 'v%d' % i for i in range(300)}
    client.write_many(items)
    result = run_module('etcd_migrate', args(etcd_server, key_prefix, max_txn_ops=7))
    assert result['counts']['migrated'] == 300, result['counts']
    assert values(etcd_server, key_prefix + '/') == items
    # Every key in one of 43 transactions: the keys of one transaction share a revision.
    revisions = {item['mod_revision'] for item in prefix_kvs(etcd_server, key_prefix + '/').values()}
    assert len(revisions) == 43


def test_ttl_becomes_a_lease_with_the_time_left(etcd_server, key_prefix):
    v2_put(etcd_server, key_prefix + '/ttl/a', 'a', ttl=120)
    v2_put(etcd_server, key_prefix + '/ttl/b', 'b', ttl=120)
    v2_put(etcd_server, key_prefix + '/ttl/long', 'c', ttl=600)
    v2_put(etcd_server, key_prefix + '/ttl/permanent', 'd')
    time.sleep(2.2)  # the v2 TTLs run down: the leases must get what is left, not the original TTL
    result = run_module('etcd_migrate', args(etcd_server, key_prefix))
    assert not result.get('failed'), result
    stored = prefix_kvs(etcd_server, key_prefix + '/')
    assert stored[key_prefix + '/ttl/permanent']['lease'] == 0
    shared = stored[key_prefix + '/ttl/a']['lease']
    assert shared and shared == stored[key_prefix + '/ttl/b']['lease'], 'same TTL left: one lease'
    lease = lease_ttl(etcd_server, shared)
    assert 115 <= lease['granted_ttl'] <= 118 and lease['ttl'] <= lease['granted_ttl'], lease
    assert sorted(lease['keys']) == [key_prefix + '/ttl/a', key_prefix + '/ttl/b']
    long = lease_ttl(etcd_server, stored[key_prefix + '/ttl/long']['lease'])
    assert 595 <= long['granted_ttl'] <= 598, long
    wanted = sorted([(long['granted_ttl'], 1), (lease['granted_ttl'], 2)])
    assert sorted((item['v2_ttl'], item['keys']) for item in result['leases']) == wanted
    again = run_module('etcd_migrate', args(etcd_server, key_prefix))
    assert again['changed'] is False and again['leases'] == [], again


def test_hidden_keys_are_copied_and_listed(etcd_server, key_prefix):
    v2_put(etcd_server, key_prefix + '/app/visible', 'v')
    v2_put(etcd_server, key_prefix + '/app/_hidden', 'h')
    v2_put(etcd_server, key_prefix + '/_dir/a', 'in a hidden dir')
    v2_put(etcd_server, key_prefix + '/_dir/_deeper/b', 'hidden twice')
    v2_put(etcd_server, key_prefix + '/only/_x', 'x')
    listing = v2_leaves(raw_node(etcd_server, key_prefix, recursive=True))
    assert listing == [key_prefix + '/app/visible'], 'v2 lists hidden keys after all: %s' % listing
    result = run_module('etcd_migrate', args(etcd_server, key_prefix))
    hidden = [key_prefix + '/_dir/_deeper/b', key_prefix + '/_dir/a', key_prefix + '/app/_hidden', key_prefix + '/only/_x']
    assert result['hidden'] == hidden, result
    assert result['empty_dirs'] == [], 'a directory holding a hidden key found is not empty'
    assert values(etcd_server, key_prefix + '/') == {key_prefix + '/app/visible': 'v', key_prefix + '/app/_hidden': 'h',
                                                     key_prefix + '/_dir/a': 'in a hidden dir',
                                                     key_prefix + '/_dir/_deeper/b': 'hidden twice',
                                                     key_prefix + '/only/_x': 'x'}


def test_old_hidden_key_is_invisible_unless_named(etcd_server, key_prefix):
    v2_put(etcd_server, key_prefix + '/old/_secret', 's')
    v2_put(etcd_server, key_prefix + '/old/_lockdir/holder', 'me')
    # 1,000 later writes push them out of v2's event history.
    Client(host=[etcd_server.url]).write_many({'%s-filler/%d' % (key_prefix, i): 'f' for i in range(1001)})
    blind = run_module('etcd_migrate', args(etcd_server, key_prefix), check=True)
    assert blind['hidden'] == [] and blind['migrated'] == [], blind
    assert blind['empty_dirs'] == [key_prefix + '/old'], 'a directory of unseen hidden keys looks empty'
    named = run_module('etcd_migrate', args(etcd_server, key_prefix, delete_source=True,
                                            hidden_keys=[key_prefix + '/old/_secret', key_prefix + '/old/_lockdir']))
    assert named['hidden'] == [key_prefix + '/old/_lockdir/holder', key_prefix + '/old/_secret'], named
    assert kv(etcd_server, key_prefix + '/old/_secret')['value'] == 's'
    assert named['left_in_v2'] == [] and named['left_dirs_in_v2'] == []
    assert raw_node(etcd_server, key_prefix) is None


def test_unseen_hidden_key_keeps_its_directory(etcd_server, key_prefix):
    v2_put(etcd_server, key_prefix + '/d/_unseen', 'u')
    v2_put(etcd_server, key_prefix + '/d/seen', 's')
    Client(host=[etcd_server.url]).write_many({'%s-filler/%d' % (key_prefix, i): 'f' for i in range(1001)})
    result = run_module('etcd_migrate', args(etcd_server, key_prefix, delete_source=True))
    assert result['deleted_from_v2'] == [key_prefix + '/d/seen'], result
    # etcd refused to delete the directory: it still holds the hidden key nobody could list.
    assert result['left_dirs_in_v2'] == [key_prefix, key_prefix + '/d'], result
    assert raw_node(etcd_server, key_prefix + '/d/_unseen')['value'] == 'u'


def test_empty_directories_are_reported(etcd_server, key_prefix):
    v2_put(etcd_server, key_prefix + '/empty', directory=True)
    v2_put(etcd_server, key_prefix + '/nested/empty', directory=True)
    v2_put(etcd_server, key_prefix + '/full/k', 'v')
    result = run_module('etcd_migrate', args(etcd_server, key_prefix))
    assert result['empty_dirs'] == [key_prefix + '/empty', key_prefix + '/nested/empty'], result
    assert result['migrated'] == [key_prefix + '/full/k']
    cleaned = run_module('etcd_migrate', args(etcd_server, key_prefix, delete_source=True))
    assert sorted(cleaned['deleted_dirs']) == sorted([key_prefix, key_prefix + '/empty', key_prefix + '/full',
                                                      key_prefix + '/nested', key_prefix + '/nested/empty']), cleaned
    assert raw_node(etcd_server, key_prefix) is None


def test_conflicts_fail_listing_keys_then_overwrite(etcd_server, key_prefix):
    for name in ('same', 'differs', 'new', 'also-differs'):
        v2_put(etcd_server, '%s/%s' % (key_prefix, name), 'v2-' + name)
    etcdctl(etcd_server, 'put', key_prefix + '/same', 'v2-same')
    etcdctl(etcd_server, 'put', key_prefix + '/differs', 'v3 value')
    etcdctl(etcd_server, 'put', key_prefix + '/also-differs', 'v3 value')
    # The keys under the prefix as etcd holds them (the store revision itself may move: a lease of
    # another test sharing this server can expire meanwhile).
    before = prefix_kvs(etcd_server, key_prefix + '/')
    failed = run_module('etcd_migrate', args(etcd_server, key_prefix, delete_source=True))
    assert failed['failed'] is True
    assert key_prefix + '/differs' in failed['msg'] and key_prefix + '/also-differs' in failed['msg'], failed['msg']
    assert sorted(item['key'] for item in failed['conflicts']) == [key_prefix + '/also-differs', key_prefix + '/differs']
    assert failed['skipped'] == [key_prefix + '/new'] and failed['unchanged'] == [key_prefix + '/same']
    assert prefix_kvs(etcd_server, key_prefix + '/') == before, 'a conflict must stop the run before any write'
    assert raw_node(etcd_server, key_prefix + '/same') is not None, 'nothing deleted from v2 on a conflict'
    replaced = run_module('etcd_migrate', args(etcd_server, key_prefix, overwrite=True), diff=True)
    assert not replaced.get('failed'), replaced
    assert sorted(replaced['migrated']) == [key_prefix + '/also-differs', key_prefix + '/differs', key_prefix + '/new']
    assert replaced['diff']['before']['sample'][key_prefix + '/differs'] == 'v3 value'
    assert replaced['diff']['after']['sample'][key_prefix + '/differs'] == 'v2-differs'
    assert values(etcd_server, key_prefix + '/') == {'%s/%s' % (key_prefix, n): 'v2-' + n
                                                     for n in ('same', 'differs', 'new', 'also-differs')}


class WritesMeanwhile:
    """An Etcd3Client that lets another writer act just before its first transaction with puts."""

    def __init__(self, client, before_writes):
        self._client = client
        self._before = before_writes

    def __getattr__(self, name):
        return getattr(self._client, name)

    def send_txns(self, bodies, **kwargs):
        if self._before and any('request_put' in op for _subject, body in bodies for op in body.get('success', [])):
            before, self._before = self._before, None
            before()
        return self._client.send_txns(bodies, **kwargs)


@pytest.mark.parametrize('overwrite', [False, True], ids=['create', 'overwrite'])
def test_v3_key_written_meanwhile_is_never_overwritten(etcd_server, key_prefix, overwrite):
    names = ['%s/k%02d' % (key_prefix, i) for i in range(20)]
    for name in names:
        v2_put(etcd_server, name, 'from v2')
    if overwrite:
        etcdctl(etcd_server, 'put', names[5], 'old v3')
    raced = names[5]
    v2, v3 = clients(etcd_server)
    racing = WritesMeanwhile(v3, lambda: etcdctl(etcd_server, 'put', raced, 'written meanwhile'))
    with pytest.raises(MigrationConflict) as caught:
        ensure_migration(v2, racing, MigrationRequest(path=key_prefix, overwrite=overwrite, delete_source=True))
    outcome = caught.value.outcome
    assert [item['key'] for item in outcome.conflicts] == [raced]
    assert 'during the migration' in outcome.conflicts[0]['reason']
    assert kv(etcd_server, raced)['value'] == 'written meanwhile'
    # The other keys of the refused transaction went again.
    stored = values(etcd_server, key_prefix + '/')
    assert all(stored[name] == 'from v2' for name in names if name != raced)
    assert outcome.deleted == [], 'nothing deleted from v2 while a conflict stands'


class ChangesV2BeforeDeletes:
    """A v2 Client whose store changes just before its first batch of deletes."""

    def __init__(self, client, before_deletes):
        self._client = client
        self._before = before_deletes

    def __getattr__(self, name):
        return getattr(self._client, name)

    def send_many(self, operations, **kwargs):
        if self._before:
            before, self._before = self._before, None
            before()
        return self._client.send_many(operations, **kwargs)


class SpoilsCopy:
    """An Etcd3Client after whose writes someone changes one copy (so it fails its read-back)."""

    def __init__(self, client, key, server):
        self._client, self._key, self._server = client, key, server

    def __getattr__(self, name):
        return getattr(self._client, name)

    def send_txns(self, bodies, **kwargs):
        answers = self._client.send_txns(bodies, **kwargs)
        if any('request_put' in op for _subject, body in bodies for op in body.get('success', [])):
            etcdctl(self._server, 'put', self._key, 'spoiled')
        return answers


def test_delete_source_deletes_only_verified_unchanged_keys(etcd_server, key_prefix):
    names = ['%s/d/k%02d' % (key_prefix, i) for i in range(10)]
    for name in names:
        v2_put(etcd_server, name, 'v')
    changed, spoiled = names[2], names[7]
    v2, v3 = clients(etcd_server)
    meddling = ChangesV2BeforeDeletes(v2, lambda: v2_put(etcd_server, changed, 'changed in v2'))
    outcome = ensure_migration(meddling, SpoilsCopy(v3, spoiled, etcd_server),
                               MigrationRequest(path=key_prefix, delete_source=True))
    assert spoiled not in outcome.verified and len(outcome.verified) == 9
    assert outcome.changed_in_v2 == [{'key': changed, 'reason': 'changed in v2 during the migration'}]
    assert outcome.deleted == sorted(set(names) - {changed, spoiled})
    assert outcome.left_in_v2 == sorted([changed, spoiled])
    assert outcome.left_dirs == [key_prefix, key_prefix + '/d']
    assert sorted(v2_leaves(raw_node(etcd_server, key_prefix, recursive=True))) == sorted([changed, spoiled])
    assert raw_node(etcd_server, changed)['value'] == 'changed in v2'
    # The next run copies the change (overwrite: the v3 copy holds the older value) and finishes.
    final = run_module('etcd_migrate', args(etcd_server, key_prefix, delete_source=True, overwrite=True))
    assert not final.get('failed') and final['left_in_v2'] == [] and final['left_dirs_in_v2'] == [], final
    assert kv(etcd_server, changed)['value'] == 'changed in v2'
    assert raw_node(etcd_server, key_prefix) is None


def test_delete_source_module_empties_the_tree(etcd_server, key_prefix):
    v2_put(etcd_server, key_prefix + '/a/b/c', '1')
    v2_put(etcd_server, key_prefix + '/a/_h', '2')
    v2_put(etcd_server, key_prefix + '/t', '3', ttl=300)
    result = run_module('etcd_migrate', args(etcd_server, key_prefix, delete_source=True))
    assert not result.get('failed'), result
    assert result['deleted_from_v2'] == sorted([key_prefix + '/a/b/c', key_prefix + '/a/_h', key_prefix + '/t'])
    assert result['left_in_v2'] == [] and result['left_dirs_in_v2'] == []
    assert raw_node(etcd_server, key_prefix) is None
    assert values(etcd_server, key_prefix + '/') == {key_prefix + '/a/b/c': '1', key_prefix + '/a/_h': '2',
                                                     key_prefix + '/t': '3'}
    again = run_module('etcd_migrate', args(etcd_server, key_prefix, delete_source=True))
    assert again['changed'] is False and again['counts']['source'] == 0, again


def test_check_mode_writes_nothing(etcd_server, key_prefix):
    v2_put(etcd_server, key_prefix + '/k', 'v')
    v2_put(etcd_server, key_prefix + '/t', 'v', ttl=300)
    v2_put(etcd_server, key_prefix + '/_h', 'h')
    before_v2 = v2_state(raw_node(etcd_server, key_prefix, recursive=True))
    before_leases = set(leases(etcd_server))
    result = run_module('etcd_migrate', args(etcd_server, key_prefix, delete_source=True), check=True, diff=True)
    assert result['changed'] is True and not result.get('failed'), result
    assert sorted(result['migrated']) == sorted([key_prefix + '/k', key_prefix + '/t', key_prefix + '/_h'])
    assert result['deleted_from_v2'] == sorted([key_prefix + '/_h', key_prefix + '/k', key_prefix + '/t'])
    assert result['diff']['after']['sample'][key_prefix + '/k'] == 'v'
    # Nothing written under the prefix, no lease granted (others' leases may expire meanwhile).
    assert prefix_kvs(etcd_server, key_prefix + '/') == {} and set(leases(etcd_server)) <= before_leases
    assert v2_state(raw_node(etcd_server, key_prefix, recursive=True)) == before_v2
    assert raw_node(etcd_server, key_prefix + '/_h')['value'] == 'h'


def test_sensitive_hides_values(etcd_server, key_prefix):
    v2_put(etcd_server, key_prefix + '/secret', 's3cr3t-value')
    etcdctl(etcd_server, 'put', key_prefix + '/other', 'old-s3cr3t')
    v2_put(etcd_server, key_prefix + '/other', 'new-s3cr3t')
    result = run_module('etcd_migrate', args(etcd_server, key_prefix, sensitive=True, overwrite=True), diff=True)
    assert result['diff']['after']['sample'] == {key_prefix + '/other': '<hidden>', key_prefix + '/secret': '<hidden>'}
    assert result['diff']['before']['sample'] == {key_prefix + '/other': '<hidden>', key_prefix + '/secret': None}
    assert 's3cr3t' not in json.dumps(result)
    assert kv(etcd_server, key_prefix + '/secret')['value'] == 's3cr3t-value'


class FailsAfterFirst:
    """An Etcd3Client whose connection drops after the first write transaction."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def send_txns(self, bodies, **kwargs):
        if any('request_put' in op for _subject, body in bodies for op in body.get('success', [])):
            self._client.send_txns(bodies[:1], **kwargs)
            raise EtcdConnectionFailed('connection dropped', endpoint=self._client.current_endpoint)
        return self._client.send_txns(bodies, **kwargs)


def test_rerun_after_partial_failure_completes(etcd_server, key_prefix):
    items = {'%s/p/%03d' % (key_prefix, i): 'v%d' % i for i in range(50)}
    Client(host=[etcd_server.url]).write_many(items)
    v2, v3 = clients(etcd_server)
    v3.max_txn_ops = 10
    with pytest.raises(MigrationStopped) as caught:
        ensure_migration(v2, FailsAfterFirst(v3), MigrationRequest(path=key_prefix, delete_source=True))
    assert 'a re-run completes' in str(caught.value)
    assert len(values(etcd_server, key_prefix + '/')) == 10
    assert len(v2_leaves(raw_node(etcd_server, key_prefix, recursive=True))) == 50, 'nothing deleted from v2'
    result = run_module('etcd_migrate', args(etcd_server, key_prefix, delete_source=True))
    assert result['counts']['migrated'] == 40 and result['counts']['unchanged'] == 10, result['counts']
    assert values(etcd_server, key_prefix + '/') == items
    assert raw_node(etcd_server, key_prefix) is None


def test_hidden_keys_outside_path_refused(etcd_server, key_prefix):
    result = run_module('etcd_migrate', args(etcd_server, key_prefix, hidden_keys=['/elsewhere/_x']))
    assert result['failed'] is True and 'not under path' in result['msg'], result
