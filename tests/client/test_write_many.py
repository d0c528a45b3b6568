"""Client.write_many against real etcd: many keys on a few connections with pipelined requests,
results in order, one clear error, nothing re-sent whose outcome is unknown."""
from __future__ import annotations

import socket

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import (
    Client,
    ClientException,
    EtcdBulkWriteFailed,
    EtcdConnectionFailed,
    EtcdKeyNotFound,
    EtcdNodeExist,
    EtcdNotFile,
    EtcdOutcomeUnknown,
    EtcdTestFailed,
)


@pytest.fixture
def free_port():
    """A loopback port nothing listens on (bound and released)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


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
    assert client.write_many({}) == [] and client.send_many([]) == []  # nothing to do, nothing sent
    for key in items:
        node = client.read(key).node
        assert node.ttl is not None and 0 < node.ttl <= 300


def test_bad_input_is_refused_before_anything_is_sent(client, key_prefix):
    good = (key_prefix + '/good', 'v')
    cases = [
        ([good, (key_prefix + '/bad', True)], 'must be a string or a number'),
        ([good, (key_prefix + '/bad', None)], 'must be a string or a number'),
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
        with pytest.raises(ClientException, match='pipeline'):
            client.write_many([good], pipeline=concurrency)
    with pytest.raises(ClientException, match='too long'):
        client.write_many([good, (key_prefix + '/' + 'x' * 5000, 'v')])
    with pytest.raises(EtcdKeyNotFound):
        client.read(good[0])


def test_failure_names_the_key_and_stops_starting_writes(client, key_prefix):
    client.mkdir(key_prefix + '/dir')
    items = [(key_prefix + '/first', '1'), (key_prefix + '/dir', 'not a file'), (key_prefix + '/after', '3')]
    with pytest.raises(EtcdBulkWriteFailed) as err:
        client.write_many(items, concurrency=1, pipeline=1)
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


@pytest.fixture
def frozen_first(etcd_cluster):
    """Members of a fresh cluster, and a client (timeout 1 s) whose first member answered it and
    was then stopped with SIGSTOP: it takes connections (the kernel accepts them) and never
    answers. (A fresh client would ask it for /health first and write elsewhere: see
    test_failover.py.)"""
    frozen = etcd_cluster.followers()[0]
    others = [member for member in etcd_cluster.members if member is not frozen]
    hosts = [(frozen.host, frozen.port)] + [(member.host, member.port) for member in others]
    writer = Client(host=hosts, timeout=1)
    writer.read('/')
    frozen.freeze()
    try:
        yield hosts, writer
    finally:
        frozen.thaw()


def test_unknown_outcome_is_reported_and_never_resent(frozen_first, key_prefix):
    hosts, writer = frozen_first
    with pytest.raises(EtcdBulkWriteFailed) as err:
        writer.write_many([(key_prefix + '/w1', 'maybe'), (key_prefix + '/w2', 'later')], concurrency=1, pipeline=1)
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


def test_pipelined_failure_answers_what_was_sent_and_starts_nothing_more(client, key_prefix):
    client.mkdir(key_prefix + '/dir')
    items = [('%s/k%02d' % (key_prefix, number), str(number)) for number in range(60)]
    items[10] = (key_prefix + '/dir', 'not a file')
    with pytest.raises(EtcdBulkWriteFailed) as err:
        client.write_many(items, concurrency=1, pipeline=4)
    exc = err.value
    assert [key for key, _exc in exc.failures] == [key_prefix + '/dir']
    assert isinstance(exc.failures[0][1], EtcdNotFile) and exc.outcome_unknown is False
    # Every item is exactly one of: written (with its result), failed, not sent.
    done = [key for (key, _value), result in zip(items, exc.results) if result is not None]
    assert done == [key for key, _value in items[:len(done) + 1] if key != key_prefix + '/dir']
    assert len(done) + 1 + len(exc.not_sent) == len(items)
    # At most one window was in flight when the failure came back, so most keys were never sent.
    assert 0 < len(exc.not_sent) <= 60 - 11 and exc.not_sent == [key for key, _value in items[-len(exc.not_sent):]]
    stored = {node.key: node.value for node in client.read(key_prefix, recursive=True).node.leaves() if not node.dir}
    assert stored == {key: value for key, value in items if key in done}


def test_values_larger_than_the_window_are_written_without_stalling(client, key_prefix):
    # 24 values of 1 MB on one connection: the answers echo each value, so an uncapped pipeline of them would fill
    # both directions of the connection and stall until the timeout.
    items = [('%s/big%02d' % (key_prefix, number), chr(65 + number) * 1_000_000) for number in range(24)]
    results = Client(host=client.endpoints, timeout=20).write_many(items, concurrency=1, pipeline=16)
    assert [result.node.key for result in results] == [key for key, _value in items]
    for key, value in items[::5]:
        assert client.read(key).node.value == value


def test_a_member_that_refuses_is_skipped_before_anything_is_sent(etcd_server, key_prefix, free_port):
    cli = Client(host=[('127.0.0.1', free_port), (etcd_server.host, etcd_server.port)], timeout=2)
    items = [('%s/k%d' % (key_prefix, number), 'v') for number in range(30)]
    assert len(cli.write_many(items)) == 30
    assert cli.current_endpoint == etcd_server.url
    assert len(list(cli.read(key_prefix, recursive=True).node.leaves())) == 30


def test_no_member_reachable_names_the_first_key_and_sends_nothing(free_port):
    cli = Client(host=[('127.0.0.1', free_port)], timeout=1)
    with pytest.raises(EtcdBulkWriteFailed) as err:
        cli.write_many([('/a', '1'), ('/b', '2'), ('/c', '3')], concurrency=2)
    exc = err.value
    assert [key for key, _exc in exc.failures] == ['/a']
    assert isinstance(exc.failures[0][1], EtcdConnectionFailed) and exc.outcome_unknown is False
    assert 'connection refused' in str(exc) and exc.not_sent == ['/b', '/c']


def test_pipelined_unknown_outcomes_are_every_write_in_flight(frozen_first, key_prefix):
    items = [('%s/w%d' % (key_prefix, number), 'maybe') for number in range(5)]
    with pytest.raises(EtcdBulkWriteFailed) as err:
        frozen_first[1].write_many(items, concurrency=1, pipeline=8)
    exc = err.value
    assert exc.outcome_unknown is True and exc.not_sent == []
    assert [key for key, _exc in exc.failures] == [key for key, _value in items]
    assert all(isinstance(failure, EtcdOutcomeUnknown) for _key, failure in exc.failures)
    assert 'no answer within 1s' in str(exc)
    live = Client(host=frozen_first[0][1:])
    for key, _value in items:
        with pytest.raises(EtcdKeyNotFound):
            live.read(key, quorum=True)


def test_send_many_pipelines_conditional_puts_and_deletes(client, key_prefix):
    old = client.write(key_prefix + '/old', 'v1').node.modified_index
    gone = client.write(key_prefix + '/gone', 'x').node.modified_index
    client.write(key_prefix + '/tree/a/b', 'deep')
    results = client.send_many([
        ('PUT', key_prefix + '/old', {'value': 'v2', 'prevIndex': str(old)}),
        ('PUT', key_prefix + '/new', {'value': 'fresh', 'prevExist': 'false'}),
        ('DELETE', key_prefix + '/gone', {'prevIndex': str(gone)}),
        ('delete', key_prefix + '/tree', {'dir': 'true', 'recursive': 'true'}),
        ('PUT', key_prefix + '/sub', {'dir': 'true', 'prevExist': 'false'}),
    ], concurrency=2)
    assert [result.action for result in results] == ['compareAndSwap', 'create', 'compareAndDelete', 'delete', 'create']
    stored = {node.key: node.value for node in client.read(key_prefix, recursive=True).node.leaves()}
    assert stored == {key_prefix + '/old': 'v2', key_prefix + '/new': 'fresh'}  # leaves() skips the empty directory
    assert client.read(key_prefix + '/sub').node.dir is True
    with pytest.raises(EtcdKeyNotFound):
        client.read(key_prefix + '/tree')


def test_send_many_reports_a_failed_condition_and_applies_the_rest_of_its_window(client, key_prefix):
    stale = client.write(key_prefix + '/a', '1').node.modified_index
    client.write(key_prefix + '/a', '2')
    with pytest.raises(EtcdBulkWriteFailed) as err:
        client.send_many([('PUT', key_prefix + '/a', {'value': '3', 'prevIndex': str(stale)}),
                          ('PUT', key_prefix + '/b', {'value': 'b', 'prevExist': 'false'})], concurrency=1)
    (key, failure), = err.value.failures
    assert key == key_prefix + '/a' and isinstance(failure, EtcdTestFailed) and not err.value.outcome_unknown
    assert client.read(key_prefix + '/a').node.value == '2'
    assert err.value.results[1].node.value == 'b' and client.read(key_prefix + '/b').node.value == 'b'


def test_send_many_refuses_bad_operations_before_sending(client, key_prefix):
    good = ('PUT', key_prefix + '/good', {'value': 'v'})
    cases = [
        ([good, ('POST', key_prefix + '/q', {'value': 'v'})], 'PUT and DELETE only'),
        ([good, ('GET', key_prefix + '/q', {})], 'PUT and DELETE only'),
        ([good, ('PUT', key_prefix + '/n', {'value': 'v', 'prevIndex': 7})], 'prevIndex of %s/n must be a string' % key_prefix),
        ([good, ('DELETE', key_prefix + '/good', {})], 'twice'),
        ([good, ('PUT', key_prefix + '/x')], 'triples'),
        ([good, ('PUT', '', {'value': 'v'})], 'must not be empty'),
    ]
    for operations, text in cases:
        with pytest.raises(ClientException, match=text):
            client.send_many(operations)
    with pytest.raises(EtcdKeyNotFound):
        client.read(good[1])


def test_send_is_one_operation_on_the_keep_alive_connection(client, key_prefix):
    created = client.send('PUT', key_prefix + '/one', {'value': 'v', 'prevExist': 'false'})
    assert created.action == 'create' and created.node.value == 'v'
    with pytest.raises(EtcdNodeExist):
        client.send('put', key_prefix + '/one', {'value': 'w', 'prevExist': 'false'})
    deleted = client.send('DELETE', key_prefix + '/one', {'prevIndex': str(created.node.modified_index)})
    assert deleted.action == 'compareAndDelete'
    with pytest.raises(ClientException, match='PUT and DELETE only'):
        client.send('POST', key_prefix + '/one', {'value': 'v'})
    with pytest.raises(ClientException, match='must be a string'):
        client.send('PUT', key_prefix + '/one', {'value': 1})
    with pytest.raises(EtcdKeyNotFound):
        client.read(key_prefix + '/one')
