"""The calls pyetcd 1.11 users write, against a real etcd (3.5 and 3.4).

Written here from pyetcd 1.11.1's documented and observable behaviour (its own functional
suite covers mkdir/rmdir, TTL writes, compare-and-swap and compare-and-delete with and without
conditions, update_ttl); nothing of pyetcd is vendored. Where this client deliberately differs,
the README says so. State is checked with raw HTTP requests, not through the client.
"""
from __future__ import annotations

import json
import time

import pytest
import requests

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import (
    Client,
    ClientException,
    EtcdDirNotEmpty,
    EtcdEmptyResponse,
    EtcdException,
    EtcdInvalidResponse,
    EtcdKeyNotFound,
    EtcdNodeExist,
    EtcdResult,
    EtcdTestFailed,
    ResponseNode,
)


def raw(server, key):
    """The key's node as etcd holds it (raw v2 GET), or None when it does not exist."""
    answer = requests.get(server.url + '/v2/keys' + requests.utils.quote(key, safe='/'), timeout=5)
    return None if answer.status_code == 404 else answer.json()['node']


def test_compare_and_swap_without_a_condition_is_a_plain_write(client, etcd_server, key_prefix):
    key = key_prefix + '/foo'
    assert client.compare_and_swap(key, 'bar1').node['value'] == 'bar1'
    assert raw(etcd_server, key)['value'] == 'bar1'
    client.compare_and_swap(key, 'bar2')  # again, over the existing value
    assert raw(etcd_server, key)['value'] == 'bar2'
    with pytest.raises(EtcdNodeExist):
        client.compare_and_swap(key, 'bar3', prev_exist=False)
    with pytest.raises(EtcdTestFailed):
        client.compare_and_swap(key, 'bar3', prev_value='bar1')
    index = client.compare_and_swap(key, 'bar4', prev_index=raw(etcd_server, key)['modifiedIndex']).node['modifiedIndex']
    with pytest.raises(EtcdTestFailed):
        client.compare_and_swap(key, 'bar5', prev_index=index - 1)
    assert raw(etcd_server, key)['value'] == 'bar4'
    assert client.compare_and_swap(key_prefix + '/ttl', 'v', ttl=100).node['ttl'] == 100


def test_compare_and_delete_without_a_condition_is_a_plain_delete(client, etcd_server, key_prefix):
    key = key_prefix + '/foo'
    client.write(key, 'bar')
    assert client.compare_and_delete(key).action == 'delete'
    assert raw(etcd_server, key) is None
    client.write(key, 'bar')
    with pytest.raises(EtcdTestFailed):
        client.compare_and_delete(key, prev_value='other')
    assert raw(etcd_server, key)['value'] == 'bar'
    client.compare_and_delete(key, prev_value='bar')
    assert raw(etcd_server, key) is None


def test_directories_ttls_and_update_ttl_as_pyetcd_users_call_them(client, etcd_server, key_prefix):
    assert client.mkdir(key_prefix + '/aaa/bbb').node['key'] == key_prefix + '/aaa/bbb'
    with pytest.raises(EtcdNodeExist):
        client.mkdir(key_prefix + '/aaa/bbb')
    with pytest.raises(EtcdDirNotEmpty):
        client.rmdir(key_prefix + '/aaa')
    assert client.rmdir(key_prefix + '/aaa', recursive=True).node['key'] == key_prefix + '/aaa'
    assert raw(etcd_server, key_prefix + '/aaa') is None
    assert client.write(key_prefix + '/t', 'bar', ttl=100).node['ttl'] == 100
    assert client.update_ttl(key_prefix + '/t', 1000).node['ttl'] == 1000
    assert raw(etcd_server, key_prefix + '/t')['ttl'] > 100


def test_numbers_are_stored_as_their_text(client, etcd_server, key_prefix):
    client.write(key_prefix + '/int', 42)
    client.write(key_prefix + '/float', 1.5)
    assert raw(etcd_server, key_prefix + '/int')['value'] == '42'
    assert raw(etcd_server, key_prefix + '/float')['value'] == '1.5'
    client.compare_and_swap(key_prefix + '/int', 43, prev_value=42)
    assert raw(etcd_server, key_prefix + '/int')['value'] == '43'
    # A boolean has no one obvious text (pyetcd would store "True"): refused before sending.
    with pytest.raises(ClientException, match='got bool'):
        client.write(key_prefix + '/bool', True)
    assert raw(etcd_server, key_prefix + '/bool') is None


def test_port_given_as_text(etcd_server, key_prefix):
    cli = Client(host=etcd_server.host, port=str(etcd_server.port))
    cli.write(key_prefix + '/p', 'v')
    assert raw(etcd_server, key_prefix + '/p')['value'] == 'v'


def test_health_is_a_property_and_an_etcd_result_field(client):
    assert client.health is True
    assert client.request('GET', '/health').health is True
    assert EtcdResult(data={'health': 'false'}).health is False


def test_nodes_are_the_dicts_etcd_sent(client, etcd_server, key_prefix):
    client.write(key_prefix + '/d/plain', 'v')
    client.write(key_prefix + '/d/expiring', 'w', ttl=300)
    plain = client.read(key_prefix + '/d/plain').node
    assert isinstance(plain, dict)
    assert dict(plain) == raw(etcd_server, key_prefix + '/d/plain')
    assert json.loads(json.dumps(plain)) == raw(etcd_server, key_prefix + '/d/plain')
    assert set(plain.keys()) == {'key', 'value', 'modifiedIndex', 'createdIndex'}
    assert 'ttl' not in plain and plain.ttl is None and plain.get('ttl') is None
    expiring = client.read(key_prefix + '/d/expiring').node
    assert 'ttl' in expiring and 'expiration' in expiring and 0 < expiring['ttl'] <= 300
    # Python names for the same fields, and the snake-case form the modules return.
    assert plain.modified_index == plain['modifiedIndex'] == plain['modified_index']
    assert plain.to_dict() == {'key': key_prefix + '/d/plain', 'dir': False, 'value': 'v', 'ttl': None,
                               'expiration': None, 'created_index': plain['createdIndex'],
                               'modified_index': plain['modifiedIndex']}
    tree = client.read(key_prefix + '/d', recursive=True, sorted=True).node
    assert tree.dir and tree['dir'] is True
    assert [child['key'] for child in tree['nodes']] == [key_prefix + '/d/expiring', key_prefix + '/d/plain']
    assert all(isinstance(child, ResponseNode) for child in tree.children)
    listed = json.loads(json.dumps(tree))
    assert [child['value'] for child in listed['nodes']] == ['w', 'v']
    assert ResponseNode(key='/k', value='v', modified_index=3) == {'key': '/k', 'value': 'v', 'modifiedIndex': 3}


def test_add_and_remove_a_member_with_a_json_body(etcd_cluster):
    """A 4th member added (not started: 3 of 4 still make a quorum), then removed."""
    from tests.harness.etcd_server import free_port  # pylint: disable=import-outside-toplevel
    member = etcd_cluster.members[0]
    cli = Client(host=member.host, port=member.port, timeout=10)
    peer = 'http://127.0.0.1:%d' % free_port()
    # etcd refuses a reconfiguration (HTTP 500, "unhealthy cluster" in its log) until its
    # members have been connected to each other for a few seconds.
    for _attempt in range(40):
        try:
            added = cli.add_member([peer])
            break
        except EtcdException as exc:
            assert 'Internal Server Error' in str(exc), exc
            time.sleep(0.5)
    else:
        pytest.fail('etcd refused add_member for 20 s')
    assert added.data['peerURLs'] == [peer] and added.id
    listed = requests.get(member.url + '/v2/members', timeout=5).json()['members']
    assert [m['id'] for m in listed if m['peerURLs'] == [peer]] == [added.id]
    assert cli.remove_member(added.id) is None
    listed = requests.get(member.url + '/v2/members', timeout=5).json()['members']
    assert peer not in [url for m in listed for url in m['peerURLs']]
    with pytest.raises(ClientException, match='peer URLs'):
        cli.add_member([])
    with pytest.raises(ClientException, match='member id'):
        cli.remove_member('not-an-id')


def test_request_sends_a_json_body(client, etcd_server, key_prefix):
    # etcd's keys API reads a form, not JSON: a JSON body carries no value, which etcd
    # accepts as an empty value. This proves only the body's shape reached etcd as JSON.
    answer = client.request('PUT', '/v2/keys' + key_prefix + '/j', json={'value': 'x'})
    assert answer.node['value'] == '' and raw(etcd_server, key_prefix + '/j')['value'] == ''


def test_empty_answer_is_its_own_class():
    assert issubclass(EtcdEmptyResponse, EtcdInvalidResponse)
    with pytest.raises(EtcdEmptyResponse):
        EtcdResult(_FakeResponse(200, ''))
    assert EtcdResult(_FakeResponse(204, '')).data == {}


class _FakeResponse:
    """A stand-in requests response (no server can be made to send an empty 200 on demand)."""

    def __init__(self, status: int, text: str):
        self.status_code = status
        self.text = text
        self.headers = {}
        self.url = 'http://fake:2379/v2/keys/k'


def test_key_not_found_still_raises(client, key_prefix):
    with pytest.raises(EtcdKeyNotFound):
        client.read(key_prefix + '/missing')
