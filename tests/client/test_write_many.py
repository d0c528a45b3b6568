"""Client.write_many: many keys from threads sharing one client, results in order, one clear error."""
from __future__ import annotations

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import (
    Client,
    ClientException,
    EtcdBulkWriteFailed,
    EtcdKeyNotFound,
    EtcdNotFile,
    EtcdOutcomeUnknown,
)


def test_writes_every_key_and_returns_results_in_order(client, key_prefix):
    items = [('%s/k%03d' % (key_prefix, number), 'value %d' % number) for number in range(200)]
    results = client.write_many(items, concurrency=8)
    assert [result.node.key for result in results] == [key for key, _value in items]
    assert [result.node.value for result in results] == [value for _key, value in items]
    assert all(result.action == 'set' for result in results)
    stored = {node.key: node.value for node in client.read(key_prefix, recursive=True).node.leaves()}
    assert stored == dict(items)


def test_mapping_ttl_and_single_thread(client, key_prefix):
    items = {key_prefix + '/a': '1', key_prefix + '/b/c': '2'}
    results = client.write_many(items, ttl=300, concurrency=1)
    assert [result.node.key for result in results] == list(items)
    for key in items:
        node = client.read(key).node
        assert node.ttl is not None and 0 < node.ttl <= 300


def test_bad_input_is_refused_before_anything_is_sent(client, key_prefix):
    good = (key_prefix + '/good', 'v')
    cases = [
        ([good, (key_prefix + '/bad', 5)], 'must be a string'),
        ([good, ('', 'v')], 'must not be empty'),
        ([good, (key_prefix + '/good/', 'w')], 'twice'),
        ([good, (key_prefix + '/x',)], 'pairs'),
    ]
    for items, text in cases:
        with pytest.raises(ClientException, match=text):
            client.write_many(items)
    with pytest.raises(ClientException, match='ttl=0'):
        client.write_many([good], ttl=0)
    for concurrency in (0, True, 2.5):
        with pytest.raises(ClientException, match='concurrency'):
            client.write_many([good], concurrency=concurrency)
    with pytest.raises(EtcdKeyNotFound):
        client.read(good[0])


def test_failure_names_the_key_and_stops_starting_writes(client, key_prefix):
    client.mkdir(key_prefix + '/dir')
    items = [(key_prefix + '/first', '1'), (key_prefix + '/dir', 'not a file'), (key_prefix + '/after', '3')]
    with pytest.raises(EtcdBulkWriteFailed) as err:
        client.write_many(items, concurrency=1)
    exc = err.value
    assert [key for key, _exc in exc.failures] == [key_prefix + '/dir']
    assert isinstance(exc.failures[0][1], EtcdNotFile)
    assert exc.not_sent == [key_prefix + '/after']
    assert exc.results[0].node.value == '1' and exc.results[1:] == [None, None]
    assert exc.outcome_unknown is False
    text = str(exc)
    assert '1 of 3 writes failed' in text and key_prefix + '/dir' in text and '1 not sent' in text
    with pytest.raises(EtcdKeyNotFound):
        client.read(key_prefix + '/after')


def test_unknown_outcome_is_reported_and_never_resent(etcd_cluster, key_prefix):
    frozen = etcd_cluster.followers()[0]
    others = [member for member in etcd_cluster.members if member is not frozen]
    hosts = [(frozen.host, frozen.port)] + [(member.host, member.port) for member in others]
    frozen.freeze()
    try:
        writer = Client(host=hosts, timeout=1)
        with pytest.raises(EtcdBulkWriteFailed) as err:
            writer.write_many([(key_prefix + '/w1', 'maybe'), (key_prefix + '/w2', 'later')], concurrency=1)
        exc = err.value
        assert exc.outcome_unknown is True
        assert [key for key, _exc in exc.failures] == [key_prefix + '/w1']
        assert isinstance(exc.failures[0][1], EtcdOutcomeUnknown)
        assert exc.not_sent == [key_prefix + '/w2']
        assert 'may or may not have been applied' in str(exc)
        # Not re-sent to another member: the live members have neither key.
        live = Client(host=hosts[1:])
        for key in ('/w1', '/w2'):
            with pytest.raises(EtcdKeyNotFound):
                live.read(key_prefix + key, quorum=True)
    finally:
        frozen.thaw()
