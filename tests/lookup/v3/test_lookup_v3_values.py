"""pyetcd.etcd.etcd with api_version=v3 against real etcd 3.5 and 3.4: values, directories,
prefixes, revisions, metadata.

Keys are written straight through etcd's gateway (tests/lookup/v3/conftest.py) and checked with
etcdctl (tests/harness/v3_state.py); the lookup is loaded through ansible-core's plugin loader.
"""
from __future__ import annotations

import base64

import pytest
from ansible.errors import AnsibleLookupError

from tests.harness import v3_state
from tests.lookup.v3.conftest import compact, grant, put, put_many


def test_single_key_returns_its_value(etcd_server, conn, run_lookup, pfx):
    put(etcd_server, pfx + 'port', '8080')
    assert v3_state.kv(etcd_server, pfx + 'port')['value'] == '8080'
    assert run_lookup(pfx + 'port', **conn) == ['8080']


def test_a_term_is_the_key_verbatim(etcd_server, conn, run_lookup, pfx):
    put(etcd_server, pfx + 'k', 'no slash')
    put(etcd_server, '/' + pfx + 'k', 'slash')
    assert run_lookup([pfx + 'k', '/' + pfx + 'k'], **conn) == ['no slash', 'slash']
    with pytest.raises(AnsibleLookupError, match='not found'):
        run_lookup('//' + pfx + 'k', **conn)


def test_several_terms_in_order_and_the_empty_value_is_a_value(etcd_server, conn, run_lookup, pfx):
    put_many(etcd_server, {pfx + 'a': '1', pfx + 'b': 'two', pfx + 'c': ''})
    assert v3_state.kv(etcd_server, pfx + 'c')['value'] == ''
    terms = [pfx + 'c', pfx + 'a', pfx + 'b', pfx + 'c']
    assert run_lookup(terms, **conn) == ['', '1', 'two', '']
    assert run_lookup(pfx + 'c', default='fallback', **conn) == ['']


def test_a_list_term_is_read_key_by_key(etcd_server, conn, run_lookup, pfx):
    put_many(etcd_server, {pfx + 'a': '1', pfx + 'b': '2'})
    assert run_lookup([[pfx + 'a', pfx + 'b']], **conn) == ['1', '2']


def test_unicode_keys_and_values(etcd_server, conn, run_lookup, pfx):
    key = pfx + 'with space?&#%/ünï'
    put(etcd_server, key, 'a value with spaces & ünïcode')
    assert run_lookup(key, **conn) == ['a value with spaces & ünïcode']


def test_missing_key_fails_naming_key_endpoint_and_revision(etcd_server, conn, run_lookup, pfx):
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(pfx + 'missing', **conn)
    message = str(info.value)
    assert pfx + 'missing' in message
    assert etcd_server.url in message
    assert 'not found' in message and 'revision' in message
    assert 'default=' in message


def test_default_for_missing_keys_only(etcd_server, conn, run_lookup, pfx):
    put(etcd_server, pfx + 'there', 'yes')
    terms = [pfx + 'there', pfx + 'missing', pfx + 'nodir/missing']
    assert run_lookup(terms, default='fallback', **conn) == ['yes', 'fallback', 'fallback']


@pytest.mark.parametrize('default', [None, '', 0, {'a': 1}])
def test_default_can_be_any_value_even_null(conn, run_lookup, pfx, default):
    assert run_lookup(pfx + 'missing', default=default, **conn) == [default]


def _tree(server, pfx):
    put_many(server, {pfx + 'app/port': '8080', pfx + 'app/mode': 'prod', pfx + 'app/db/host': 'db1',
                      pfx + 'app/db/replicas/r1': 'db2', pfx + 'app/empty': '', pfx + 'apple': 'fruit'})


def test_a_term_without_key_but_keys_under_it_is_a_nested_dict(etcd_server, conn, run_lookup, pfx):
    _tree(etcd_server, pfx)
    expected = {'db': {'host': 'db1', 'replicas': {'r1': 'db2'}}, 'empty': '', 'mode': 'prod', 'port': '8080'}
    assert run_lookup(pfx + 'app', **conn) == [expected]
    # A trailing slash names the same directory; the dict keeps etcd's key order.
    result = run_lookup(pfx + 'app/', **conn)
    assert result == [expected]
    assert list(result[0]) == ['db', 'empty', 'mode', 'port']
    assert v3_state.values(etcd_server, pfx + 'app/')[pfx + 'app/db/host'] == 'db1'


def test_a_key_wins_over_the_keys_under_it(etcd_server, conn, run_lookup, pfx):
    put_many(etcd_server, {pfx + 'both': 'itself', pfx + 'both/child': 'c'})
    assert run_lookup(pfx + 'both', **conn) == ['itself']
    assert run_lookup(pfx + 'both/', **conn) == [{'child': 'c'}]


def test_directory_flat_gives_full_keys(etcd_server, conn, run_lookup, pfx):
    _tree(etcd_server, pfx)
    assert run_lookup(pfx + 'app', flat=True, **conn) == [{
        pfx + 'app/db/host': 'db1', pfx + 'app/db/replicas/r1': 'db2', pfx + 'app/empty': '',
        pfx + 'app/mode': 'prod', pfx + 'app/port': '8080'}]
    assert run_lookup(pfx + 'apple', flat=True, **conn) == [{pfx + 'apple': 'fruit'}]


def test_a_value_with_keys_under_it_cannot_nest_and_says_flat(etcd_server, conn, run_lookup, pfx):
    put_many(etcd_server, {pfx + 'd/a': '1', pfx + 'd/a/b': '2'})
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(pfx + 'd', **conn)
    assert pfx + 'd/a' in str(info.value) and 'flat=true' in str(info.value)
    assert run_lookup(pfx + 'd', flat=True, **conn) == [{pfx + 'd/a': '1', pfx + 'd/a/b': '2'}]


def test_prefix_reads_everything_starting_with_the_term(etcd_server, conn, run_lookup, pfx):
    _tree(etcd_server, pfx)
    assert run_lookup(pfx + 'app', prefix=True, flat=True, **conn) == [
        dict(v3_state.values(etcd_server, pfx + 'app'))]
    assert pfx + 'apple' in run_lookup(pfx + 'app', prefix=True, flat=True, **conn)[0]
    assert run_lookup(pfx + 'app/d', prefix=True, **conn) == [{'b': {'host': 'db1', 'replicas': {'r1': 'db2'}}}]
    assert run_lookup(pfx + 'app/', prefix=True, **conn) == run_lookup(pfx + 'app', **conn)


def test_prefix_without_keys_is_an_empty_dict(conn, run_lookup, pfx):
    assert run_lookup(pfx + 'nothing/', prefix=True, **conn) == [{}]
    assert run_lookup(pfx + 'nothing/', prefix=True, flat=True, default='unused', **conn) == [{}]


def test_non_utf8_value_fails_naming_the_key_and_metadata_gives_base64(etcd_server, conn, run_lookup, pfx):
    put(etcd_server, pfx + 'bin', b'\xff\x00\xfe')
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(pfx + 'bin', **conn)
    assert pfx + 'bin' in str(info.value) and 'UTF-8' in str(info.value) and 'metadata=true' in str(info.value)
    data = run_lookup(pfx + 'bin', metadata=True, **conn)[0]
    assert data['value'] is None
    assert base64.b64decode(data['value_base64']) == b'\xff\x00\xfe'
    with pytest.raises(AnsibleLookupError, match='bin'):
        run_lookup(pfx, prefix=True, **conn)


def test_revision_reads_the_store_as_it_was(etcd_server, conn, run_lookup, pfx):
    first = put(etcd_server, pfx + 'k', 'old')
    put_many(etcd_server, {pfx + 'k': 'new', pfx + 'd/x': 'later'})
    assert run_lookup(pfx + 'k', **conn) == ['new']
    assert run_lookup(pfx + 'k', revision=first, **conn) == ['old']
    # The directory did not exist at that revision: the second pass is pinned to it too.
    assert run_lookup([pfx + 'k', pfx + 'd'], revision=first, default='absent', **conn) == ['old', 'absent']
    meta = run_lookup(pfx + 'k', revision=first, metadata=True, **conn)[0]
    assert meta['revision'] == first and meta['mod_revision'] == first


def test_a_compacted_revision_is_an_error_naming_it(etcd_server, conn, run_lookup, pfx):
    first = put(etcd_server, pfx + 'k', 'old')
    latest = put(etcd_server, pfx + 'k', 'new')
    compact(etcd_server, latest)
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(pfx + 'k', revision=first, default='never for errors', **conn)
    message = str(info.value)
    assert 'revision %d' % first in message and 'compacted' in message
    assert pfx + 'k' in message and etcd_server.url in message


def test_a_future_revision_is_an_error(etcd_server, conn, run_lookup, pfx):
    now = v3_state.revision(etcd_server)
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(pfx + 'k', revision=now + 1000, default='x', **conn)
    assert 'future revision' in str(info.value) and str(now + 1000) in str(info.value)


def test_serializable_reads_the_members_copy(etcd_server, conn, run_lookup, pfx, sent_bodies):
    put_many(etcd_server, {pfx + 'k': 'v', pfx + 'd/x': 'y'})
    assert run_lookup([pfx + 'k', pfx + 'd'], serializable=True, **conn) == ['v', {'x': 'y'}]
    txns = [body for path, body in sent_bodies if path.endswith('/kv/txn')]
    assert len(txns) == 2
    assert all(op['request_range'].get('serializable') is True for body in txns for op in body['success'])
    sent_bodies.clear()
    run_lookup(pfx + 'k', **conn)
    assert not any('serializable' in op['request_range'] for _p, body in sent_bodies if _p.endswith('/kv/txn')
                   for op in body['success'])


def test_metadata_of_a_key_with_a_lease(etcd_server, conn, run_lookup, pfx):
    lease = grant(etcd_server, 120)
    put(etcd_server, pfx + 'leased', 'v1', lease=lease)
    put(etcd_server, pfx + 'leased', 'v2', lease=lease)
    put(etcd_server, pfx + 'plain', '')
    leased, plain = run_lookup([pfx + 'leased', pfx + 'plain'], metadata=True, **conn)
    state = v3_state.kv(etcd_server, pfx + 'leased')
    ttl = v3_state.lease_ttl(etcd_server, lease)
    assert leased['key'] == pfx + 'leased' and leased['value'] == 'v2'
    for name in ('create_revision', 'mod_revision', 'version', 'lease'):
        assert leased[name] == state[name], name
    assert leased['created_index'] == state['create_revision'] and leased['modified_index'] == state['mod_revision']
    assert leased['version'] == 2 and leased['lease'] == lease
    assert abs(leased['ttl'] - ttl['ttl']) <= 2 and 100 < leased['ttl'] <= 120
    assert leased['revision'] >= state['mod_revision'] and leased['action'] == 'get' and leased['dir'] is False
    assert plain['value'] == '' and plain['lease'] == 0 and plain['ttl'] is None


def test_metadata_of_a_directory(etcd_server, conn, run_lookup, pfx):
    put_many(etcd_server, {pfx + 'd/a': '1', pfx + 'd/sub/b': '2'})
    data = run_lookup(pfx + 'd', metadata=True, **conn)[0]
    assert data['dir'] is True and data['key'] == pfx + 'd'
    assert data['children']['a']['value'] == '1' and data['children']['a']['key'] == pfx + 'd/a'
    assert data['children']['sub']['dir'] is True
    assert data['children']['sub']['children']['b']['mod_revision'] == v3_state.kv(etcd_server, pfx + 'd/sub/b')['mod_revision']
    flat = run_lookup(pfx + 'd', metadata=True, flat=True, **conn)[0]
    assert sorted(flat) == [pfx + 'd/a', pfx + 'd/sub/b'] and flat[pfx + 'd/a']['value'] == '1'
