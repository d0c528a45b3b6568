"""Keys API against a real etcd (3.5 and 3.4): every method, read back from the server."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import (
    EtcdKeyNotFound,
    EtcdNodeExist,
    EtcdResult,
    EtcdTestFailed,
    ResponseNode,
)


def raw_get(server, key, **params):
    """Read straight from etcd's HTTP API, bypassing the client under test."""
    return requests.get(server.url + '/v2/keys' + requests.utils.quote(key, safe='/'), params=params, timeout=5).json()


def test_write_then_read(client, etcd_server, key_prefix):
    result = client.write(key_prefix + '/a', 'one')
    assert result.action == 'set'
    assert result.node.key == key_prefix + '/a'
    assert result.node.value == 'one'
    assert result.node.created_index == result.node.modified_index == result.x_etcd_index
    assert raw_get(etcd_server, key_prefix + '/a')['node']['value'] == 'one'
    read = client.read(key_prefix + '/a')
    assert read.action == 'get'
    assert read.node.value == 'one'
    assert read.node.dir is False
    assert read.raft_index >= 1 and read.raft_term >= 1 and read.cluster_id


def test_overwrite_returns_previous_node(client, key_prefix):
    client.write(key_prefix + '/a', 'one')
    result = client.write(key_prefix + '/a', 'two')
    assert result.prevNode.value == 'one'
    assert result.prev_node is result.prevNode
    assert result.node.value == 'two'


def test_key_without_leading_slash_is_normalised(client, etcd_server, key_prefix):
    client.write(key_prefix.lstrip('/') + '//x/', 'v')
    assert raw_get(etcd_server, key_prefix + '/x')['node']['value'] == 'v'


@pytest.mark.parametrize('name', ['with space', 'q?mark', 'hash#tag', 'per%cent', 'amp&ersand', 'plus+sign', 'ünïcödé-键', 'eq=ual'])
def test_awkward_keys_and_values_round_trip(client, etcd_server, key_prefix, name):
    key = '%s/%s' % (key_prefix, name)
    value = 'v %s ?&#%%=+ ü\n' % name
    client.write(key, value)
    assert client.read(key).node.value == value
    assert raw_get(etcd_server, key)['node'] == {**raw_get(etcd_server, key)['node'], 'key': key, 'value': value}
    listing = client.read(key_prefix).node.children
    assert [child.key for child in listing] == [key]


def test_empty_and_large_values(client, key_prefix):
    client.write(key_prefix + '/empty', '')
    assert client.read(key_prefix + '/empty').node.value == ''
    big = 'x' * (1024 * 1024)
    client.write(key_prefix + '/big', big)
    assert client.read(key_prefix + '/big').node.value == big


def test_ttl_is_set_and_expires(client, etcd_server, key_prefix):
    result = client.write(key_prefix + '/t', 'v', ttl=1)
    assert result.node.ttl == 1
    assert result.node.expiration
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if raw_get(etcd_server, key_prefix + '/t').get('errorCode') == 100:
            break
        time.sleep(0.2)
    else:
        pytest.fail('key with ttl=1 still there after 5s')


def test_write_without_ttl_drops_an_existing_ttl(client, key_prefix):
    client.write(key_prefix + '/t', 'v', ttl=100)
    assert client.write(key_prefix + '/t', 'v').node.ttl is None


def test_update_ttl_refreshes_and_removes(client, key_prefix):
    client.write(key_prefix + '/t', 'keep', ttl=30)
    refreshed = client.update_ttl(key_prefix + '/t', 300)
    assert refreshed.node.ttl == 300
    assert refreshed.node.value == 'keep'
    removed = client.update_ttl(key_prefix + '/t', None)
    assert removed.node.ttl is None
    assert client.read(key_prefix + '/t').node.value == 'keep'
    with pytest.raises(EtcdKeyNotFound):
        client.update_ttl(key_prefix + '/missing', 10)


def test_refresh_keeps_value(client, key_prefix):
    client.write(key_prefix + '/r', 'val', ttl=10)
    result = client.write(key_prefix + '/r', None, ttl=20, refresh=True)
    assert result.node.ttl == 20
    assert result.node.value == 'val'


def test_prev_exist_create_and_update(client, key_prefix):
    created = client.write(key_prefix + '/c', 'a', prev_exist=False)
    assert created.action == 'create'
    with pytest.raises(EtcdNodeExist):
        client.write(key_prefix + '/c', 'b', prev_exist=False)
    updated = client.write(key_prefix + '/c', 'b', prev_exist=True)
    assert updated.action == 'update'
    with pytest.raises(EtcdKeyNotFound):
        client.write(key_prefix + '/nope', 'b', prev_exist=True)


def test_compare_and_swap_sends_every_condition(client, etcd_server, key_prefix):
    key = key_prefix + '/cas'
    first = client.write(key, 'old')
    # prev_value right but prev_index wrong: an old client sending only one condition would swap.
    with pytest.raises(EtcdTestFailed) as err:
        client.compare_and_swap(key, 'new', prev_value='old', prev_index=first.node.modified_index + 100)
    assert err.value.error_code == 101
    assert raw_get(etcd_server, key)['node']['value'] == 'old'
    # prev_index right but prev_value wrong.
    with pytest.raises(EtcdTestFailed):
        client.compare_and_swap(key, 'new', prev_value='other', prev_index=first.node.modified_index)
    assert raw_get(etcd_server, key)['node']['value'] == 'old'
    # prev_exist=True with a wrong prev_value must not become a plain update.
    with pytest.raises(EtcdTestFailed):
        client.compare_and_swap(key, 'new', prev_value='other', prev_exist=True)
    swapped = client.compare_and_swap(key, 'new', prev_value='old', prev_index=first.node.modified_index, ttl=100)
    assert swapped.action == 'compareAndSwap'
    assert swapped.node.ttl == 100
    assert raw_get(etcd_server, key)['node']['value'] == 'new'


def test_compare_and_delete_sends_every_condition(client, etcd_server, key_prefix):
    key = key_prefix + '/cad'
    first = client.write(key, 'v')
    with pytest.raises(EtcdTestFailed):
        client.compare_and_delete(key, prev_value='v', prev_index=first.node.modified_index + 100)
    with pytest.raises(EtcdTestFailed):
        client.compare_and_delete(key, prev_value='x', prev_index=first.node.modified_index)
    assert raw_get(etcd_server, key)['node']['value'] == 'v'
    result = client.compare_and_delete(key, prev_value='v', prev_index=first.node.modified_index)
    assert result.action == 'compareAndDelete'
    assert result.prevNode.value == 'v'
    assert raw_get(etcd_server, key)['errorCode'] == 100


def test_delete_key_and_directories(client, etcd_server, key_prefix):
    client.write(key_prefix + '/k', 'v')
    deleted = client.delete(key_prefix + '/k')
    assert deleted.action == 'delete'
    assert deleted.prevNode.value == 'v'
    made = client.mkdir(key_prefix + '/empty')
    assert made.node.dir is True
    client.rmdir(key_prefix + '/empty')
    client.write(key_prefix + '/tree/a/b', '1')
    client.rmdir(key_prefix + '/tree', recursive=True)
    assert raw_get(etcd_server, key_prefix + '/tree')['errorCode'] == 100
    client.mkdir(key_prefix + '/d2')
    client.delete(key_prefix + '/d2', dir=True)
    client.write(key_prefix + '/d3/x', '1')
    client.delete(key_prefix + '/d3', recursive=True)
    assert raw_get(etcd_server, key_prefix + '/d3')['errorCode'] == 100


def test_mkdir_with_ttl_and_existing(client, key_prefix):
    made = client.mkdir(key_prefix + '/dt', ttl=100)
    assert made.node.ttl == 100
    with pytest.raises(EtcdNodeExist):
        client.mkdir(key_prefix + '/dt')


def test_recursive_sorted_read_builds_tree(client, key_prefix):
    for key, value in (('/b/2', 'b2'), ('/a', 'a'), ('/b/1', 'b1'), ('/c/d/e', 'e')):
        client.write(key_prefix + key, value)
    node = client.read(key_prefix, recursive=True, sorted=True).node
    assert node.dir
    assert [child.name for child in node.children] == ['a', 'b', 'c']
    assert [leaf.key for leaf in node.leaves()] == [key_prefix + k for k in ('/a', '/b/1', '/b/2', '/c/d/e')]
    flat = client.read(key_prefix, sorted=True).node
    assert [child.dir for child in flat.children] == [False, True, True]
    assert flat.children[1].children == []


def test_hidden_keys_are_readable_but_not_listed(client, key_prefix):
    client.write(key_prefix + '/_hidden', 'h')
    client.write(key_prefix + '/shown', 's')
    assert [c.name for c in client.read(key_prefix).node.children] == ['shown']
    assert client.read(key_prefix + '/_hidden').node.value == 'h'


def test_quorum_read(client, key_prefix):
    client.write(key_prefix + '/q', 'v')
    assert client.read(key_prefix + '/q', quorum=True).node.value == 'v'


def test_append_creates_in_order_keys(client, key_prefix):
    first = client.append(key_prefix + '/queue', 'job1')
    second = client.append(key_prefix + '/queue', 'job2', ttl=100)
    assert first.action == 'create'
    assert first.node.name.isdigit() and len(first.node.name) == 20
    assert int(second.node.name) > int(first.node.name)
    assert second.node.ttl == 100
    listed = client.read(key_prefix + '/queue', sorted=True).node.children
    assert [c.value for c in listed] == ['job1', 'job2']


def test_wait_returns_the_next_change(client, key_prefix):
    key = key_prefix + '/w'
    start = client.write(key, 'before')
    writer = threading.Timer(0.3, client.write, (key, 'after'))
    writer.start()
    try:
        changed = client.read(key, wait=True, timeout=10)
    finally:
        writer.join()
    assert changed.node.value == 'after'
    assert changed.prevNode.value == 'before'
    # wait_index returns a past event without waiting.
    past = client.read(key, wait=True, wait_index=start.node.modified_index, timeout=5)
    assert past.node.value == 'before'
    assert client.watch(key, index=start.node.modified_index + 1, timeout=5).node.value == 'after'


def test_recursive_wait_sees_changes_below(client, key_prefix):
    client.mkdir(key_prefix + '/dir')
    writer = threading.Timer(0.3, client.write, (key_prefix + '/dir/x/y', '1'))
    writer.start()
    try:
        changed = client.read(key_prefix + '/dir', wait=True, recursive=True, timeout=10)
    finally:
        writer.join()
    assert changed.node.key == key_prefix + '/dir/x/y'


def test_response_node_item_access_like_pyetcd(client, key_prefix):
    node = client.write(key_prefix + '/i', 'v', ttl=50).node
    assert node['key'] == node.key
    assert node['value'] == 'v'
    assert node['createdIndex'] == node.created_index
    assert node['modifiedIndex'] == node.modified_index
    assert node['ttl'] == 50
    assert node.get('nope', 'dflt') == 'dflt'
    with pytest.raises(KeyError):
        node['nope']  # pylint: disable=pointless-statement
    assert 'modifiedIndex' in node
    assert node.to_dict()['value'] == 'v'
    assert isinstance(node, ResponseNode)


def test_etcd_result_from_a_requests_response(etcd_server, key_prefix):
    response = requests.put(etcd_server.url + '/v2/keys' + key_prefix + '/r', data={'value': 'x'}, timeout=5)
    result = EtcdResult(response)
    assert result.action == 'set'
    assert result.node.value == 'x'
    assert result.x_etcd_index == int(response.headers['X-Etcd-Index'])
    missing = requests.get(etcd_server.url + '/v2/keys' + key_prefix + '/none', timeout=5)
    with pytest.raises(EtcdKeyNotFound) as err:
        EtcdResult(missing)
    assert err.value.status == 404


def test_version_prefix_is_used(etcd_server, key_prefix):
    from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import Client, EtcdV2NotEnabled
    wrong = Client(host=etcd_server.host, port=etcd_server.port, version_prefix='v9')
    with pytest.raises(EtcdV2NotEnabled):
        wrong.read(key_prefix)
    right = Client(host='%s:%d' % (etcd_server.host, etcd_server.port), version_prefix='/v2/')
    right.write(key_prefix + '/p', 'v')
    assert right.read(key_prefix + '/p').node.value == 'v'
