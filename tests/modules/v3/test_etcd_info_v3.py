# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_info with api_version=v3 against real etcd 3.5 and 3.4 (and a 3-member 3.5 cluster),
checked with etcdctl and the raw gateway.
"""
from __future__ import annotations

import json
import time
import urllib.request
import uuid

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdUnavailable
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client
from tests.harness.v3_state import etcdctl, kv, lease_ttl, revision
from tests.modules.module_process import run_module


@pytest.fixture
def prefix():
    return 'v3info-%s/' % uuid.uuid4().hex[:10]


def args(server, **extra):
    return dict(host=[server.url] if not isinstance(server, list) else server, api_version='v3', **extra)


def ctl_json(server, *command):
    return json.loads(etcdctl(server, *command, '-w', 'json').stdout)


def test_default_gather_reads_every_v3_section_as_etcd_reports_it(etcd_server):
    result = run_module('etcd_info', args(etcd_server))
    assert result['changed'] is False, result
    assert set(result) >= {'version', 'health', 'leader', 'members', 'status', 'alarms', 'endpoint'}
    assert 'stats' not in result and 'exists' not in result
    with urllib.request.urlopen(etcd_server.url + '/version', timeout=5) as answer:
        version = json.loads(answer.read())
    assert result['version'] == {'server': version['etcdserver'], 'cluster': version['etcdcluster']}
    assert result['health'] is True
    members = ctl_json(etcd_server, 'member', 'list')['members']
    assert [m['id'] for m in result['members']] == ['%x' % m['ID'] for m in members]
    assert result['members'][0]['name'] == members[0]['name'] == 'node0'
    assert result['members'][0]['clientURLs'] == [etcd_server.url] and result['members'][0]['is_learner'] is False
    assert result['leader'] == result['members'][0]
    status = ctl_json(etcd_server, 'endpoint', 'status')[0]['Status']
    [row] = result['status']
    assert row['endpoint'] == etcd_server.url and row['reachable'] is True
    assert row['id'] == '%x' % status['header']['member_id'] and row['name'] == 'node0'
    assert row['is_leader'] is True and row['leader'] == row['id'] and row['is_learner'] is False
    assert row['version'] == version['etcdserver']
    assert row['raft_term'] == status['raftTerm'] and 0 < row['raft_index'] <= status['raftIndex']  # etcdctl asked later
    assert row['db_size'] > 0 and row['errors'] == [] and row['alarms'] == []
    assert result['alarms'] == []
    assert result['endpoint'] == etcd_server.url


def test_one_key_with_its_revisions_and_lease(etcd_server, prefix):
    key = prefix + 'port'
    etcdctl(etcd_server, 'put', key, '80')
    etcdctl(etcd_server, 'put', key, '8080')
    result = run_module('etcd_info', args(etcd_server, gather=[], key=key))
    stored = kv(etcd_server, key)
    assert set(result) >= {'exists', 'node', 'revision', 'endpoint'} and 'members' not in result
    assert 'etcd_index' not in result and 'nodes' not in result
    node = result['node']
    assert result['exists'] is True and node['key'] == key and node['value'] == '8080'
    for name in ('create_revision', 'mod_revision', 'version', 'lease'):
        assert node[name] == stored[name], name
    assert node['created_index'] == stored['create_revision'] and node['modified_index'] == stored['mod_revision']
    assert node['version'] == 2 and node['ttl'] is None
    assert result['revision'] >= stored['mod_revision']
    # Verbatim: the key with a leading / is another key.
    other = run_module('etcd_info', args(etcd_server, gather=[], key='/' + key))
    assert other['exists'] is False and other['node'] is None and other['revision'] >= stored['mod_revision']
    # A key with a lease: its lease ID and the seconds it has left.
    lease = int(etcdctl(etcd_server, 'lease', 'grant', '60').stdout.split()[1], 16)
    etcdctl(etcd_server, 'put', prefix + 'alive', 'up', '--lease=%x' % lease)
    leased = run_module('etcd_info', args(etcd_server, gather=[], key=prefix + 'alive', serializable=True))
    assert leased['node']['lease'] == lease and 0 < leased['node']['ttl'] <= lease_ttl(etcd_server, lease)['granted_ttl']


def test_prefix_reads_every_key_in_key_order(etcd_server, prefix):
    for name, value in (('b', '2'), ('a', '1'), ('c/deep', '3')):
        etcdctl(etcd_server, 'put', prefix + name, value)
    etcdctl(etcd_server, 'put', prefix[:-1] + 'x', 'not under the prefix')
    result = run_module('etcd_info', args(etcd_server, gather=[], key=prefix, prefix=True))
    assert result['exists'] is True and result['count'] == 3 and 'node' not in result
    assert [(n['key'], n['value']) for n in result['nodes']] == [(prefix + 'a', '1'), (prefix + 'b', '2'),
                                                                 (prefix + 'c/deep', '3')]
    assert all(n['mod_revision'] == kv(etcd_server, n['key'])['mod_revision'] for n in result['nodes'])
    empty = run_module('etcd_info', args(etcd_server, gather=[], key=prefix + 'none/', prefix=True))
    assert empty['exists'] is False and empty['nodes'] == [] and empty['count'] == 0


def test_read_at_a_revision_and_compacted_or_future_revisions_fail_clearly(etcd_server, prefix):
    key = prefix + 'mode'
    etcdctl(etcd_server, 'put', key, 'old')
    old_revision = kv(etcd_server, key)['mod_revision']
    etcdctl(etcd_server, 'put', key, 'new')
    then = run_module('etcd_info', args(etcd_server, gather=[], key=key, revision=old_revision))
    assert then['node']['value'] == 'old' and then['node']['mod_revision'] == old_revision
    assert then['revision'] == revision(etcd_server)  # the store revision of the answer, not the one asked
    before = run_module('etcd_info', args(etcd_server, gather=[], key=key, revision=old_revision - 1))
    assert before['exists'] is False
    future = run_module('etcd_info', args(etcd_server, gather=[], key=key, revision=revision(etcd_server) + 1000))
    assert future['failed'] and 'future revision' in future['msg'] and '\n' not in future['msg'], future['msg']
    etcdctl(etcd_server, 'compact', str(revision(etcd_server)))
    gone = run_module('etcd_info', args(etcd_server, gather=[], key=key, revision=old_revision))
    assert gone['failed'], gone
    assert gone['msg'].startswith('on %s: revision compacted: revision %d of %s is no longer readable'
                                  % (etcd_server.url, old_revision, key)), gone['msg']
    assert 'Traceback' not in gone['msg'] and '\n' not in gone['msg']
    bad = run_module('etcd_info', args(etcd_server, gather=[], key=key, revision=0))
    assert bad['failed'] and 'revision must be >= 1' in bad['msg']


def test_sections_and_options_of_the_other_api_fail_before_sending(etcd_server, prefix):
    cases = [
        (args(etcd_server, gather=['stats']), 'gather=stats needs api_version=v2'),
        (args(etcd_server, key=prefix, quorum=True), 'quorum needs api_version=v2'),
        (args(etcd_server, key=prefix, recursive=True, quorum=True), 'quorum, recursive need api_version=v2'),
        (dict(host=[etcd_server.url], gather=['status']), 'gather=status needs api_version=v3'),
        (dict(host=[etcd_server.url], gather=['alarms']), 'gather=alarms needs api_version=v3'),
        (dict(host=[etcd_server.url], key='/x', prefix=True), 'prefix needs api_version=v3'),
        (dict(host=[etcd_server.url], key='/x', revision=3), 'revision needs api_version=v3'),
        (dict(host=[etcd_server.url], key='/x', serializable=True), 'serializable needs api_version=v3'),
        (args(etcd_server, prefix=True), 'prefix needs key'),
        (args(etcd_server, gather=['weather']), 'weather'),
    ]
    for options, words in cases:
        result = run_module('etcd_info', options)
        assert result.get('failed') and words in result['msg'], (options, result.get('msg'))
        assert '\n' not in result['msg']


def test_default_gather_on_v2_is_unchanged(etcd_server):
    result = run_module('etcd_info', dict(host=[etcd_server.url]))
    assert set(result) >= {'version', 'health', 'leader', 'members', 'stats'}, result
    assert 'status' not in result and 'alarms' not in result and 'is_learner' not in result['members'][0]


def test_module_never_writes(etcd_server, prefix):
    before = revision(etcd_server)
    for check in (False, True):
        result = run_module('etcd_info', args(etcd_server, key=prefix, prefix=True), check=check)
        assert result['changed'] is False and result['health'] is True and result['exists'] is False
    assert revision(etcd_server) == before


def _add_learner(client, url, deadline=30.0):
    """A learner, added as soon as etcd takes membership changes (a fresh cluster refuses them
    for its first seconds: "unhealthy cluster")."""
    end = time.monotonic() + deadline
    while True:
        try:
            return client.add_member(url, learner=True)
        except EtcdUnavailable:
            if time.monotonic() > end:
                raise
            time.sleep(0.5)


def test_cluster_status_per_member_learners_and_a_member_down(etcd_cluster):
    urls = etcd_cluster.urls
    result = run_module('etcd_info', args(urls, gather=['status', 'leader', 'members']))
    rows = result['status']
    assert [row['endpoint'] for row in rows] == urls and all(row['reachable'] for row in rows), rows
    leaders = [row for row in rows if row['is_leader']]
    assert len(leaders) == 1 and leaders[0]['id'] == result['leader']['id']
    assert {row['leader'] for row in rows} == {result['leader']['id']}
    leader_url = etcd_cluster.leader().url
    assert leaders[0]['endpoint'] == leader_url and result['leader']['clientURLs'] == [leader_url]
    assert sorted(row['name'] for row in rows) == ['node0', 'node1', 'node2']
    listed = ctl_json(etcd_cluster.members[0], 'member', 'list')['members']
    assert {row['id'] for row in rows} == {'%x' % m['ID'] for m in listed}
    assert len({row['raft_term'] for row in rows}) == 1 and all(row['raft_index'] > 0 for row in rows)

    with Etcd3Client(host=urls) as client:
        learner = _add_learner(client, 'http://127.0.0.1:1')  # never started: it need not be
        try:
            seen = run_module('etcd_info', args(urls, gather=['members']))['members']
            [added] = [m for m in seen if m['id'] == learner.id_hex]
            assert added['is_learner'] is True and added['name'] == '' and added['peerURLs'] == ['http://127.0.0.1:1']
            assert added['clientURLs'] == []
            assert not any(m['is_learner'] for m in seen if m['id'] != learner.id_hex)
            listed = ctl_json(etcd_cluster.members[0], 'member', 'list')['members']
            assert [m.get('isLearner', False) for m in listed if '%x' % m['ID'] == learner.id_hex] == [True]
        finally:
            client.remove_member(learner.id)
    after = run_module('etcd_info', args(urls, gather=['members']))['members']
    assert learner.id_hex not in [m['id'] for m in after] and len(after) == 3

    # A member that is down is a row of its own, not a failed task.
    down = etcd_cluster.followers()[0]
    down.stop()
    result = run_module('etcd_info', args(urls, gather=['status'], timeout=2))
    rows = {row['endpoint']: row for row in result['status']}
    assert rows[down.url]['reachable'] is False and set(rows[down.url]) == {'endpoint', 'reachable', 'error'}
    assert down.url in rows[down.url]['error'] or 'refused' in rows[down.url]['error']
    assert sum(row['reachable'] for row in rows.values()) == 2
