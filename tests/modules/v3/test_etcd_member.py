# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_member against real etcd: a 3-member 3.5 cluster (a fresh one per test) and the one-member 3.5/3.4 servers.

The membership is read back with ``etcdctl member list -w json``, never only through the module.
A joining member is a 4th etcd process started with ``--initial-cluster-state existing``.
"""
from __future__ import annotations

import json

import pytest

from tests.harness.etcd_server import EtcdServer, free_port
from tests.harness.v3_state import etcdctl
from tests.modules.module_process import run_module

# etcd refuses membership changes for 5 s after its members connected (just after the cluster
# started): the module keeps trying for this long.
WAIT = 20


class JoiningServer(EtcdServer):
    """A member that joins a running cluster (--initial-cluster-state existing)."""

    def command(self, new=True):
        return super().command(new=False)


def listing(server):
    """{hex id: member} as etcdctl lists them."""
    out = json.loads(etcdctl(server, 'member', 'list', '-w', 'json').stdout)
    return {'%x' % m['ID']: m for m in out['members']}


def task(servers, **options):
    return dict(options, api_version='v3', host=[s.url for s in servers], timeout=5)


def peer(port):
    return 'http://127.0.0.1:%d' % port


def test_learner_is_added_started_promoted_and_removed(etcd_cluster):
    nodes = etcd_cluster.members
    port = free_port()
    before = listing(nodes[0])
    assert len(before) == 3
    join = task(nodes, name='node3', peer_urls=[peer(port)], learner=True, wait_timeout=WAIT)

    checked = run_module('etcd_member', join, check=True, diff=True)
    assert checked['changed'] is True and checked['actions'] == ['add'], checked
    assert checked['member'] == {'id': None, 'name': '', 'peer_urls': [peer(port)], 'client_urls': [], 'is_learner': True}
    assert len(checked['diff']['before']['members']) == 3 and len(checked['diff']['after']['members']) == 4
    assert listing(nodes[0]) == before, 'check mode changed the membership'

    added = run_module('etcd_member', join)
    assert added['changed'] is True and added['actions'] == ['add'], added
    new_id = added['member']['id']
    seen = listing(nodes[0])[new_id]
    assert seen['isLearner'] is True and seen['peerURLs'] == [peer(port)] and not seen.get('name')
    assert added['member']['is_learner'] is True and added['member']['name'] == ''
    assert len(added['members']) == 4

    # Not started yet, so it has no name: found by its peer URL.
    again = run_module('etcd_member', join)
    assert again['changed'] is False and again['actions'] == ['none'] and again['member']['id'] == new_id, again

    # An unstarted learner is not in sync: etcd's reason, at once.
    early = run_module('etcd_member', task(nodes, peer_urls=[peer(port)], promote=True))
    assert early['failed'] and 'learner not in sync' in early['msg'] and 'in sync with leader' in early['msg'], early
    assert listing(nodes[0])[new_id]['isLearner'] is True

    initial = ','.join(['%s=%s' % (m.name, peer(m.peer_port)) for m in nodes] + ['node3=%s' % peer(port)])
    joining = JoiningServer('3.5', etcd_cluster.workdir, name='node3', peer_port=port, initial_cluster=initial)
    try:
        joining.start(timeout=60)
        started = run_module('etcd_member', join)  # now found by its name; client URLs are facts
        assert started['changed'] is False and started['member']['name'] == 'node3', started
        assert started['member']['client_urls'] == [joining.url] and started['member']['id'] == new_id

        promote = task(nodes, name='node3', promote=True, wait_timeout=60)
        promoted = run_module('etcd_member', promote, diff=True)
        assert promoted['changed'] is True and promoted['actions'] == ['promote'], promoted
        assert promoted['member']['is_learner'] is False
        assert listing(nodes[0])[new_id].get('isLearner') is not True
        after = {m['id']: m for m in promoted['diff']['after']['members']}
        assert after[new_id]['is_learner'] is False
        assert {m['id']: m for m in promoted['diff']['before']['members']}[new_id]['is_learner'] is True
        assert run_module('etcd_member', promote)['changed'] is False
        assert run_module('etcd_member', join)['changed'] is False, 'learner=true demoted nothing, so it is ok'

        remove = task(nodes, id=new_id, state='absent', wait_timeout=WAIT)
        checked = run_module('etcd_member', remove, check=True)
        assert checked['changed'] is True and checked['actions'] == ['remove'] and len(checked['members']) == 3  # predicted
        assert new_id in listing(nodes[0])

        # node3 is a healthy voter not in host: the guard asks it through its own client URL.
        removed = run_module('etcd_member', remove)
        assert removed['changed'] is True and removed['member']['name'] == 'node3', removed
        assert new_id not in listing(nodes[0]) and len(removed['members']) == 3
        gone = run_module('etcd_member', remove)
        assert gone['changed'] is False and gone['member'] is None and gone['actions'] == ['none'], gone
    finally:
        joining.destroy()


def test_quorum_guard_refuses_and_says_why(etcd_cluster):
    nodes = etcd_cluster.members
    nodes[2].kill()
    alive = nodes[:2]
    before = listing(alive[0])

    # 2 of 3 healthy: removing a healthy voter leaves node0 and the dead node2, 1 healthy of 2.
    healthy_voter = task(nodes, name='node1', state='absent')
    for check in (True, False):
        refused = run_module('etcd_member', healthy_voter, check=check)
        assert refused['failed'] and refused['msg'].startswith('would lose quorum: '), refused
        assert 'removing the healthy voting member' in refused['msg'] and '(node1)' in refused['msg']
        assert '2 voting members with 1 healthy, fewer than the quorum of 2' in refused['msg']
        assert '(node2): ' in refused['msg'] and 'force=true' in refused['msg'] and '\n' not in refused['msg']
    assert listing(alive[0]) == before

    # force skips the guard only; etcd checks again and refuses on its own (nothing proposed).
    forced = run_module('etcd_member', dict(healthy_voter, force=True))
    assert forced['failed'] and 'would lose quorum' not in forced['msg'] and 'unhealthy cluster' in forced['msg'], forced
    assert listing(alive[0]) == before

    # Removing a voter that is down keeps the healthy count: allowed.
    dead = run_module('etcd_member', task(nodes, name='node2', state='absent', wait_timeout=WAIT))
    assert dead['changed'] is True, dead
    assert sorted(m['name'] for m in listing(alive[0]).values()) == ['node0', 'node1']

    # 2 started and healthy of 3 voters is a quorum: allowed (etcd allows it too).
    a_port, b_port = free_port(), free_port()
    first = run_module('etcd_member', task(alive, peer_urls=[peer(a_port)], wait_timeout=WAIT))
    assert first['changed'] is True and first['member']['is_learner'] is False, first
    unstarted = first['member']['id']
    before = listing(alive[0])

    # Another voter while that one has not started: 2 of 4 is not a quorum.
    for check in (True, False):
        refused = run_module('etcd_member', task(alive, peer_urls=[peer(b_port)]), check=check)
        assert refused['failed'] and refused['msg'].startswith('would lose quorum: '), refused
        assert '4 voting members with 2 started and healthy, fewer than the quorum of 3' in refused['msg']
        assert '%s (not started): not started' % unstarted in refused['msg'] and 'learner=true' in refused['msg']
    assert listing(alive[0]) == before
    # ... but as a learner it is fine.
    learner = run_module('etcd_member', task(alive, peer_urls=[peer(b_port)], learner=True), check=True)
    assert learner['changed'] is True and not learner.get('failed'), learner

    refused = run_module('etcd_member', task(alive, name='node1', state='absent'))
    assert refused['failed'] and '2 voting members with 1 healthy' in refused['msg'], refused

    # The unstarted voter is not healthy either: removing it is allowed.
    removed = run_module('etcd_member', task(alive, peer_urls=[peer(a_port)], state='absent', wait_timeout=WAIT))
    assert removed['changed'] is True and removed['member']['id'] == unstarted, removed
    assert sorted(m['name'] for m in listing(alive[0]).values()) == ['node0', 'node1']


def test_identify_and_update_peer_urls(etcd_cluster):
    nodes = etcd_cluster.members
    ids = {m['name']: key for key, m in listing(nodes[0]).items()}
    node1 = peer(nodes[1].peer_port)
    for options in ({'name': 'node1'}, {'peer_urls': [node1]}, {'id': ids['node1']}, {'id': ids['node1'].upper()},
                    {'name': 'node1', 'peer_urls': [node1 + '/']}):
        found = run_module('etcd_member', task(nodes, **options))
        assert found['changed'] is False and found['member']['id'] == ids['node1'], (options, found)
        assert found['member']['client_urls'] == [nodes[1].url] and found['member']['peer_urls'] == [node1]

    mismatch = run_module('etcd_member', task(nodes, name='other', peer_urls=[node1]))
    assert mismatch['failed'] and 'is named node1, not other' in mismatch['msg'], mismatch
    missing = run_module('etcd_member', task(nodes, name='nobody'))
    assert missing['failed'] and 'give peer_urls to add it' in missing['msg'], missing
    unknown_id = run_module('etcd_member', task(nodes, id='1234abcd', peer_urls=[peer(free_port())]))
    assert unknown_id['failed'] and 'no member has ID 1234abcd' in unknown_id['msg'], unknown_id
    assert run_module('etcd_member', task(nodes, id='1234abcd', state='absent'))['changed'] is False

    old, new = peer(free_port()), peer(free_port())
    added = run_module('etcd_member', task(nodes, peer_urls=[old], wait_timeout=WAIT))
    assert added['changed'] is True, added
    voter = added['member']['id']
    update = task(nodes, id=voter, peer_urls=[new], wait_timeout=WAIT)
    checked = run_module('etcd_member', update, check=True, diff=True)
    assert checked['changed'] is True and checked['actions'] == ['update'] and checked['member']['peer_urls'] == [new]
    assert listing(nodes[0])[voter]['peerURLs'] == [old]
    updated = run_module('etcd_member', update)
    assert updated['changed'] is True and updated['member']['peer_urls'] == [new], updated
    assert listing(nodes[0])[voter]['peerURLs'] == [new]
    assert run_module('etcd_member', update)['changed'] is False

    taken = run_module('etcd_member', task(nodes, id=voter, peer_urls=[node1]))
    assert taken['failed'] and 'belongs to member %s (node1) already' % ids['node1'] in taken['msg'], taken
    assert listing(nodes[0])[voter]['peerURLs'] == [new]

    # While a voter has not started, etcd refuses every other change ("unhealthy cluster"); the message says why.
    learner_url = peer(free_port())
    blocked = run_module('etcd_member', task(nodes, peer_urls=[learner_url], learner=True, wait_timeout=1))
    assert blocked['failed'] and 'unhealthy cluster' in blocked['msg'], blocked
    assert 'not started: %s' % voter in blocked['msg'] and '\n' not in blocked['msg']
    assert run_module('etcd_member', task(nodes, id=voter, state='absent', wait_timeout=WAIT))['changed'] is True

    # etcd 3.4/3.5 forget a learner's flag when its peer URLs change: refused without force.
    learner = run_module('etcd_member', task(nodes, peer_urls=[learner_url], learner=True, wait_timeout=WAIT))
    assert learner['changed'] is True, learner
    moved = run_module('etcd_member', task(nodes, id=learner['member']['id'], peer_urls=[peer(free_port())]))
    assert moved['failed'] and 'is a learner' in moved['msg'], moved
    assert listing(nodes[0])[learner['member']['id']]['peerURLs'] == [learner_url]


@pytest.mark.parametrize('options,message', [
    ({'peer_urls': ['not a url']}, "'not a url' is not a peer URL"),
    ({'peer_urls': ['ftp://10.0.0.4:2380']}, 'is not a peer URL'),
    ({'peer_urls': ['http://10.0.0.4']}, 'is not a peer URL'),
    ({'peer_urls': ['http://10.0.0.4:2380/path']}, 'is not a peer URL'),
    ({'id': 'not-hex'}, 'id must be a member ID'),
    ({'name': ''}, 'name must not be empty'),
    ({'name': 'a', 'wait_timeout': -1}, 'wait_timeout must be'),
    ({'name': 'a', 'promote': True, 'state': 'absent'}, 'promote needs state=present'),
    ({'name': 'a', 'learner': True, 'promote': True}, 'mutually exclusive: learner|promote'),
    ({'state': 'absent'}, 'one of the following is required: name, peer_urls, id'),
    ({'name': 'a', 'api_version': 'v2'}, 'etcd_member needs api_version=v3'),
])
def test_bad_input_is_refused_before_anything_is_sent(options, message):
    # Nothing listens on this port: any request would fail as "unreachable" instead.
    args = dict({'api_version': 'v3', 'host': ['127.0.0.1:%d' % free_port()]}, **options)
    result = run_module('etcd_member', args)
    assert result['failed'] and message in result['msg'], result
    assert 'unreachable' not in result['msg'] and '\n' not in result['msg']


def test_one_member_facts_learner_and_guard(etcd_server):
    me = peer(etcd_server.peer_port)
    facts = run_module('etcd_member', task([etcd_server], name=etcd_server.name))
    assert facts['changed'] is False and facts['actions'] == ['none'], facts
    assert facts['member']['client_urls'] == [etcd_server.url] and facts['member']['peer_urls'] == [me]
    assert facts['member']['is_learner'] is False and facts['members'] == [facts['member']]
    assert facts['member']['id'] in listing(etcd_server)
    assert run_module('etcd_member', task([etcd_server], peer_urls=[me]))['member'] == facts['member']

    # A second voter in a one-member cluster costs quorum until it runs (etcd itself allows it).
    voter = run_module('etcd_member', task([etcd_server], peer_urls=[peer(free_port())]), check=True)
    assert voter['failed'] and '2 voting members with 1 started and healthy' in voter['msg'], voter
    alone = run_module('etcd_member', task([etcd_server], peer_urls=[me], state='absent'), check=True)
    assert alone['failed'] and 'the only voting member' in alone['msg'], alone

    # Learners exist on 3.4 too.
    url = peer(free_port())
    learner = task([etcd_server], peer_urls=[url], learner=True, wait_timeout=WAIT)
    added = run_module('etcd_member', learner)
    try:
        assert added['changed'] is True, added
        assert listing(etcd_server)[added['member']['id']]['isLearner'] is True
        assert run_module('etcd_member', learner)['changed'] is False
        removed = run_module('etcd_member', dict(learner, state='absent'))
        assert removed['changed'] is True and removed['members'] == [facts['member']], removed
    finally:
        for key, member in listing(etcd_server).items():
            if member['peerURLs'] == [url]:
                etcdctl(etcd_server, 'member', 'remove', key)
    assert len(listing(etcd_server)) == 1
