"""Version, health, members, leader, machines and statistics against a real etcd."""
from __future__ import annotations

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import Client


def test_versions(client, etcd_server):
    expected = {'3.5': ('3.5.1', '3.5.0'), '3.4': ('3.4.23', '3.4.0')}[etcd_server.version]
    assert client.version() == expected[0]
    assert client.version_server() == expected[0]
    assert client.version_cluster() == expected[1]


def test_health_members_leader_machines(client, etcd_server):
    assert client.health is True
    members = client.members()
    assert len(members) == 1
    assert members[0]['clientURLs'] == [etcd_server.url]
    assert members[0]['name'] == etcd_server.name
    assert client.leader()['id'] == members[0]['id']
    assert client.machines() == [etcd_server.url]


def test_stats(client, key_prefix):
    client.write(key_prefix + '/s', 'v')
    me = client.stats_self()
    assert me.state == 'StateLeader'
    assert me.name and me.id and me.startTime
    assert me.leaderInfo['leader'] == me.id
    assert me.leader == me.id
    assert isinstance(me.recvAppendRequestCnt, int)
    assert isinstance(me.sendAppendRequestCnt, int)
    store = client.stats_store()
    assert store.data['setsSuccess'] >= 1
    lead = client.stats_leader()
    assert lead.leader == me.id
    assert lead.followers == {}


def test_cluster_view(etcd_cluster):
    cli = Client(host=etcd_cluster.hosts, timeout=5)
    members = cli.members()
    assert sorted(m['name'] for m in members) == ['node0', 'node1', 'node2']
    assert sorted(cli.machines()) == sorted(etcd_cluster.urls)
    leader = etcd_cluster.leader()
    assert cli.leader()['name'] == leader.name
    # stats/leader is answered only by the leader; the client finds it from any member.
    follower = etcd_cluster.followers()[0]
    via_follower = Client(host=(follower.host, follower.port))
    assert via_follower.stats_self().state == 'StateFollower'
    stats = via_follower.stats_leader()
    assert stats.leader == cli.leader()['id']
    assert len(stats.followers) == 2
    assert all(cli.health for _attempt in range(3))


@pytest.mark.parametrize('attr', ['action', 'followers', 'id', 'leader', 'leaderInfo', 'name', 'node', 'prevNode',
                                  'recvAppendRequestCnt', 'sendAppendRequestCnt', 'startTime', 'state',
                                  'version_etcdcluster', 'version_etcdserver', 'x_etcd_index', 'raft_index',
                                  'raft_term', 'cluster_id'])
def test_every_documented_result_property_exists(client, key_prefix, attr):
    result = client.write(key_prefix + '/p', 'v')
    getattr(result, attr)  # a missing field is None, never an AttributeError
