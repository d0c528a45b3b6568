"""Many terms in few requests: read-only txns of at most max_txn_ops ranges, each batch at one
revision, and a second batched pass only for the directories of the missing keys."""
from __future__ import annotations

import math

from tests.harness import v3_state
from tests.lookup.v3.conftest import put_many

DEFAULT_OPS = 128


def _txns(sent):
    return [body for path, body in sent if path.endswith('/kv/txn')]


def test_a_thousand_terms_cost_few_requests(etcd_server, conn, run_lookup, pfx, sent_bodies):
    items = {'%sk%04d' % (pfx, n): 'v%d' % n for n in range(1000)}
    put_many(etcd_server, items)
    sent_bodies.clear()
    result = run_lookup(list(items), **conn)
    assert result == list(items.values())
    txns = _txns(sent_bodies)
    assert len(txns) == math.ceil(1000 / DEFAULT_OPS)
    assert all(len(body['success']) <= DEFAULT_OPS for body in txns)
    # Besides the txns: at most the /version probe of the gateway prefix.
    assert len(sent_bodies) <= len(txns) + 2, [path for path, _body in sent_bodies]


def test_missing_terms_cost_one_more_batched_pass(etcd_server, conn, run_lookup, pfx, sent_bodies):
    items = {'%sk%04d' % (pfx, n): 'v%d' % n for n in range(0, 1000, 2)}
    items.update({'%sk%04d/child' % (pfx, n): 'c%d' % n for n in range(1, 1000, 4)})
    put_many(etcd_server, items)
    terms = ['%sk%04d' % (pfx, n) for n in range(1000)]
    sent_bodies.clear()
    result = run_lookup(terms, default='-', **conn)
    for n, value in enumerate(result):
        if n % 2 == 0:
            assert value == 'v%d' % n
        elif n % 4 == 1:
            assert value == {'child': 'c%d' % n}
        else:
            assert value == '-'
    txns = _txns(sent_bodies)
    assert len(txns) == math.ceil(1000 / DEFAULT_OPS) + math.ceil(500 / DEFAULT_OPS)
    assert len(sent_bodies) <= len(txns) + 2


def test_the_second_pass_reads_at_the_revision_of_the_first(etcd_server, conn, run_lookup, pfx, sent_bodies):
    put_many(etcd_server, {pfx + 'key': 'v', pfx + 'dir/x': 'y'})
    run_lookup([pfx + 'key', pfx + 'dir'], **conn)
    first, second = _txns(sent_bodies)
    assert 'revision' not in first['success'][0]['request_range']
    assert int(second['success'][0]['request_range']['revision']) >= v3_state.kv(etcd_server, pfx + 'dir/x')['mod_revision']
    assert len(second['success']) == 1


def test_max_txn_ops_sets_the_batch_size(etcd_server, conn, run_lookup, pfx, sent_bodies):
    items = {'%sk%03d' % (pfx, n): str(n) for n in range(120)}
    put_many(etcd_server, items)
    sent_bodies.clear()
    assert run_lookup(list(items), max_txn_ops=50, **conn) == list(items.values())
    assert [len(body['success']) for body in _txns(sent_bodies)] == [50, 50, 20]


def test_metadata_asks_once_per_lease(etcd_server, conn, run_lookup, pfx, sent_bodies):
    from tests.lookup.v3.conftest import grant, put  # pylint: disable=import-outside-toplevel
    lease = grant(etcd_server, 60)
    for n in range(20):
        put(etcd_server, '%sl%02d' % (pfx, n), 'x', lease=lease)
    sent_bodies.clear()
    result = run_lookup(['%sl%02d' % (pfx, n) for n in range(20)], metadata=True, **conn)
    assert {item['lease'] for item in result} == {lease}
    assert len([p for p, _body in sent_bodies if p.endswith('/lease/timetolive')]) == 1
