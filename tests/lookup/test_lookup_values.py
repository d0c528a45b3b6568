"""pyetcd.etcd.etcd lookup against a real etcd: values, directories, defaults, metadata, wait.

The plugin is loaded through ansible-core's plugin loader and run in-process; keys are
written and checked with the collection's client directly (or plain HTTP where the point is
to look at the server's own counters).
"""
from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client


def _store_stats(server) -> dict:
    with urllib.request.urlopen(server.url + '/v2/stats/store', timeout=5) as resp:
        return json.loads(resp.read().decode())


@pytest.fixture
def conn(etcd_server):
    """Connection options for the lookup, as keywords."""
    return {'host': [etcd_server.url], 'timeout': 5}


def test_single_key_returns_its_value(client, conn, run_lookup, key_prefix):
    client.write(key_prefix + '/port', '8080')
    assert run_lookup(key_prefix + '/port', **conn) == ['8080']


def test_several_terms_return_values_in_order(client, conn, run_lookup, key_prefix):
    for name, value in (('a', '1'), ('b', 'two'), ('c', '')):
        client.write('%s/%s' % (key_prefix, name), value)
    terms = [key_prefix + '/c', key_prefix + '/a', key_prefix + '/b']
    assert run_lookup(terms, **conn) == ['', '1', 'two']


def test_a_list_term_is_read_key_by_key(client, conn, run_lookup, key_prefix):
    client.write(key_prefix + '/a', '1')
    client.write(key_prefix + '/b', '2')
    assert run_lookup([[key_prefix + '/a', key_prefix + '/b']], **conn) == ['1', '2']


def test_keys_with_special_characters(client, conn, run_lookup, key_prefix):
    key = key_prefix + '/with space?&#%/ünï'
    client.write(key, 'a value with spaces & ünïcode')
    assert run_lookup(key, **conn) == ['a value with spaces & ünïcode']


def test_key_without_leading_slash(client, conn, run_lookup, key_prefix):
    client.write(key_prefix + '/k', 'v')
    assert run_lookup(key_prefix.lstrip('/') + '/k', **conn) == ['v']


def _tree(client, prefix):
    client.write(prefix + '/app/port', '8080')
    client.write(prefix + '/app/mode', 'prod')
    client.write(prefix + '/app/db/host', 'db1')
    client.write(prefix + '/app/db/replicas/r1', 'db2')
    client.mkdir(prefix + '/app/empty')


def test_directory_returns_nested_dict(client, conn, run_lookup, key_prefix):
    _tree(client, key_prefix)
    assert run_lookup(key_prefix + '/app', **conn) == [{
        'db': {'host': 'db1', 'replicas': {'r1': 'db2'}},
        'empty': {},
        'mode': 'prod',
        'port': '8080',
    }]


def test_directory_non_recursive_gives_direct_children_only(client, conn, run_lookup, key_prefix):
    _tree(client, key_prefix)
    assert run_lookup(key_prefix + '/app', recursive=False, **conn) == [{
        'db': {}, 'empty': {}, 'mode': 'prod', 'port': '8080',
    }]


def test_directory_children_come_in_key_order(client, conn, run_lookup, key_prefix):
    for name in ('zeta', 'alpha', 'mid', 'beta'):
        client.write('%s/d/%s' % (key_prefix, name), name)
    assert list(run_lookup(key_prefix + '/d', **conn)[0]) == ['alpha', 'beta', 'mid', 'zeta']


def test_hidden_keys_are_left_out_of_directories_but_readable(client, conn, run_lookup, key_prefix):
    client.write(key_prefix + '/d/visible', 'v')
    client.write(key_prefix + '/d/_hidden', 'h')
    client.write(key_prefix + '/d/_hiddendir/x', 'hx')
    assert run_lookup(key_prefix + '/d', **conn) == [{'visible': 'v'}]
    assert run_lookup([key_prefix + '/d/_hidden', key_prefix + '/d/_hiddendir'], **conn) == ['h', {'x': 'hx'}]


def test_default_for_missing_keys_only(client, conn, run_lookup, key_prefix):
    client.write(key_prefix + '/there', 'yes')
    terms = [key_prefix + '/there', key_prefix + '/missing', key_prefix + '/nodir/missing']
    assert run_lookup(terms, default='fallback', **conn) == ['yes', 'fallback', 'fallback']


@pytest.mark.parametrize('default', [None, '', 0, {'a': 1}])
def test_default_can_be_any_value_even_null(conn, run_lookup, key_prefix, default):
    assert run_lookup(key_prefix + '/missing', default=default, **conn) == [default]


def test_missing_key_raises_naming_key_and_endpoint(etcd_server, conn, run_lookup, key_prefix):
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(key_prefix + '/missing', **conn)
    message = str(info.value)
    assert key_prefix + '/missing' in message
    assert etcd_server.url in message
    assert 'not found' in message
    assert 'default=' in message


def test_metadata_of_a_key(client, conn, run_lookup, key_prefix):
    written = client.write(key_prefix + '/k', 'v', ttl=300)
    meta = run_lookup(key_prefix + '/k', metadata=True, **conn)[0]
    assert meta['key'] == key_prefix + '/k'
    assert meta['value'] == 'v'
    assert meta['dir'] is False
    assert meta['created_index'] == written.node.created_index
    assert meta['modified_index'] == written.node.modified_index
    assert 0 < meta['ttl'] <= 300
    assert meta['expiration'] == written.node.expiration
    assert meta['action'] == 'get'
    assert meta['etcd_index'] >= written.node.modified_index


def test_metadata_of_a_permanent_key_has_no_ttl(client, conn, run_lookup, key_prefix):
    client.write(key_prefix + '/k', 'v')
    meta = run_lookup(key_prefix + '/k', metadata=True, **conn)[0]
    assert meta['ttl'] is None
    assert meta['expiration'] is None


def test_metadata_of_a_directory_nests_children_by_name(client, conn, run_lookup, key_prefix):
    _tree(client, key_prefix)
    meta = run_lookup(key_prefix + '/app', metadata=True, **conn)[0]
    assert meta['dir'] is True
    assert 'value' not in meta
    assert sorted(meta['children']) == ['db', 'empty', 'mode', 'port']
    replica = meta['children']['db']['children']['replicas']['children']['r1']
    assert replica['key'] == key_prefix + '/app/db/replicas/r1'
    assert replica['value'] == 'db2'
    assert meta['children']['empty'] == dict(meta['children']['empty'], dir=True, children={})


def test_quorum_read(client, conn, run_lookup, key_prefix):
    client.write(key_prefix + '/k', 'v')
    assert run_lookup(key_prefix + '/k', quorum=True, **conn) == ['v']


def _pool_counters(client) -> tuple:
    """(connections opened, requests sent) by the client's urllib3 pools so far."""
    pools = list(client._session.adapters['http://'].poolmanager.pools._container.values())  # pylint: disable=protected-access
    return sum(pool.num_connections for pool in pools), sum(pool.num_requests for pool in pools)


def _spy_clients(plugin, monkeypatch) -> list:
    """Record, for every Client the lookup builds, its pool counters when the lookup closes it.

    The clients are the real ones; only close() is wrapped to read the counters first (closing
    drops the pools and their counters).
    """
    module = sys.modules[type(plugin).__module__]
    closed: list = []
    original = module.client_from_options

    def build(get_option):
        client = original(get_option)
        real_close = client.close

        def close():
            closed.append(_pool_counters(client))
            real_close()

        client.close = close
        return client

    monkeypatch.setattr(module, 'client_from_options', build)
    return closed


def test_all_terms_share_one_client_and_one_connection(client, conn, lookup_instance, key_prefix, monkeypatch):
    for i in range(50):
        client.write('%s/k%02d' % (key_prefix, i), str(i))
    plugin = lookup_instance()
    closed = _spy_clients(plugin, monkeypatch)
    values = plugin.run(['%s/k%02d' % (key_prefix, i) for i in range(50)], variables={}, **conn)
    assert values == [str(i) for i in range(50)]
    # One client, closed at the end of the call, having used one connection for 50 requests.
    assert closed == [(1, 50)]


def test_directory_read_is_one_request(etcd35, lookup_instance, key_prefix, monkeypatch):
    writer = Client(host=etcd35.url)
    for i in range(200):
        writer.write('%s/big/sub%d/k%03d' % (key_prefix, i % 4, i), str(i))
    writer.close()
    plugin = lookup_instance()
    closed = _spy_clients(plugin, monkeypatch)
    before = _store_stats(etcd35)['getsSuccess']
    tree = plugin.run([key_prefix + '/big'], variables={}, host=etcd35.url)[0]
    after = _store_stats(etcd35)['getsSuccess']

    assert sum(len(sub) for sub in tree.values()) == 200
    assert tree['sub1']['k001'] == '1'
    assert closed == [(1, 1)]
    assert after - before == 1


def _wait_for_watcher(server, deadline_s: float = 10.0) -> None:
    """Block until etcd reports a watcher registered (the lookup's long poll has arrived)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if _store_stats(server)['watchers'] > 0:
            return
        time.sleep(0.02)


def test_wait_returns_the_value_another_thread_writes(etcd35, run_lookup, key_prefix):
    writer = Client(host=etcd35.url)
    key = key_prefix + '/published'

    def publish():
        _wait_for_watcher(etcd35)
        writer.write(key, 'primary-1')

    thread = threading.Thread(target=publish)
    thread.start()
    try:
        assert run_lookup(key, wait=True, wait_timeout=30, host=etcd35.url) == ['primary-1']
    finally:
        thread.join()
        writer.close()


def test_wait_on_a_directory_returns_the_changed_key_with_metadata(etcd35, run_lookup, key_prefix):
    writer = Client(host=etcd35.url)
    writer.write(key_prefix + '/dir/old', 'x')

    def publish():
        _wait_for_watcher(etcd35)
        writer.write(key_prefix + '/dir/new', 'y')

    thread = threading.Thread(target=publish)
    thread.start()
    try:
        meta = run_lookup(key_prefix + '/dir', wait=True, wait_timeout=30, metadata=True, host=etcd35.url)[0]
    finally:
        thread.join()
        writer.close()
    assert meta['key'] == key_prefix + '/dir/new'
    assert meta['value'] == 'y'
    assert meta['action'] == 'set'


def test_wait_index_returns_a_change_made_before_the_call(client, conn, run_lookup, key_prefix):
    key = key_prefix + '/k'
    first = client.write(key, 'one')
    client.write(key, 'two')
    # From the index just after the first write: the second write is returned at once.
    meta = run_lookup(key, wait=True, wait_index=first.node.modified_index + 1, metadata=True, **conn)[0]
    assert meta['value'] == 'two'
    assert meta['modified_index'] > first.node.modified_index


def test_wait_then_read_pattern_with_etcd_index(client, conn, run_lookup, key_prefix):
    key = key_prefix + '/k'
    client.write(key, 'one')
    seen = run_lookup(key, metadata=True, **conn)[0]
    client.write(key, 'two')
    assert run_lookup(key, wait=True, wait_index=seen['etcd_index'] + 1, **conn) == ['two']


def test_wait_reports_a_deletion_as_null(client, conn, run_lookup, key_prefix):
    key = key_prefix + '/k'
    first = client.write(key, 'one')
    client.delete(key)
    meta = run_lookup(key, wait=True, wait_index=first.node.modified_index + 1, metadata=True, **conn)[0]
    assert meta['action'] == 'delete'
    assert meta['value'] is None
    assert run_lookup(key, wait=True, wait_index=first.node.modified_index + 1, **conn) == [None]


def test_wait_times_out_with_a_clear_error(etcd_server, conn, run_lookup, key_prefix):
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(key_prefix + '/never', wait=True, wait_timeout=0.5, **conn)
    message = str(info.value)
    assert key_prefix + '/never' in message
    assert 'timed out' in message


def test_wait_timeout_is_not_covered_by_default(conn, run_lookup, key_prefix):
    with pytest.raises(AnsibleLookupError, match='timed out'):
        run_lookup(key_prefix + '/never', wait=True, wait_timeout=0.5, default='x', **conn)


def test_wait_index_older_than_history_explains_recovery(etcd35, run_lookup, key_prefix):
    writer = Client(host=etcd35.url)
    first = writer.write(key_prefix + '/k', '0')
    # etcd keeps the last 1000 events; push the first one out of the history.
    for i in range(1005):
        writer.write(key_prefix + '/filler', str(i))
    writer.close()
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(key_prefix + '/k', wait=True, wait_index=first.node.modified_index, wait_timeout=5, host=etcd35.url)
    message = str(info.value)
    assert key_prefix + '/k' in message
    assert '1000' in message
    assert 'etcd_index + 1' in message


def test_wait_index_without_wait_is_refused(conn, run_lookup, key_prefix):
    with pytest.raises(AnsibleLookupError, match='wait_index needs wait=true'):
        run_lookup(key_prefix + '/k', wait_index=5, **conn)


def test_non_string_term_is_refused(conn, run_lookup):
    with pytest.raises(AnsibleLookupError, match='must be a key'):
        run_lookup([42], **conn)
