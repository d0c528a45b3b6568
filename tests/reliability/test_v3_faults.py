"""Cluster faults for the v3 client on a real 3-member etcd 3.5 cluster.

* The leader SIGKILLed during a loop of puts: every acknowledged put is there afterwards with
  its revision, every put reported "not sent" or refused is absent, every "outcome unknown" is
  looked up, nothing is applied twice (a key written once has version 1).
* The leader SIGKILLed during a pipelined ``put_many``: each transaction is all or nothing,
  acknowledged ones are kept, unsent ones absent, the ones in flight reported unknown.
* A frozen (SIGSTOP) first member: a fresh client's put lands on a live member; a put to a
  member that answered before and then froze is "outcome unknown" and never re-sent.

State is checked through a fresh client on the survivors with linearizable reads, and the
counts with etcdctl.
"""
from __future__ import annotations

import threading
import time
import uuid

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    EtcdBulkWriteFailed,
    EtcdException,
    EtcdOutcomeUnknown,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client
from tests.reliability.test_cluster_faults import _classify

TIMEOUT = 1.0


def _hosts(cluster, first):
    return [first.url] + [m.url for m in cluster.members if m is not first]


def _survivor_view(cluster, dead, prefix):
    """Every key under ``prefix`` as the surviving members hold it (waits for a new leader)."""
    survivors = Etcd3Client(host=[m.url for m in cluster.members if m is not dead], timeout=5)
    deadline = time.monotonic() + 30
    while True:
        try:
            return {kv.key: kv for kv in survivors.get_prefix(prefix)}
        except EtcdException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow
def test_leader_sigkill_during_puts_loses_nothing(etcd_cluster, figures):
    leader = etcd_cluster.leader()
    client = Etcd3Client(host=_hosts(etcd_cluster, leader), timeout=TIMEOUT)
    prefix = 'v3-failover-%s/' % uuid.uuid4().hex[:8]
    outcomes = []
    deadline = time.monotonic() + 60
    number = 0
    killed = False
    while time.monotonic() < deadline:
        if number == 150 and not killed:
            leader.kill()
            killed = True
        key, value = '%sk%05d' % (prefix, number), 'v%d-%s' % (number, uuid.uuid4().hex[:6])
        try:
            revision = client.put(key, value).header.revision
        except EtcdException as exc:
            outcomes.append((key, value, _classify(exc), str(exc)))
        else:
            outcomes.append((key, value, 'ok', revision))
        number += 1
        if killed and sum(1 for o in outcomes[150:] if o[2] == 'ok') >= 150:
            break
    client.close()
    assert killed and sum(1 for o in outcomes[150:] if o[2] == 'ok') >= 150, 'puts did not resume after the kill'
    stored = _survivor_view(etcd_cluster, leader, prefix)
    lost, ghosts, unknown_applied = [], [], 0
    for key, value, kind, detail in outcomes:
        kv = stored.get(key)
        if kind == 'ok':
            if kv is None or kv.value != value or kv.mod_revision != detail:
                lost.append(key)
        elif kind == 'unknown':
            unknown_applied += kv is not None
        elif kv is not None:
            ghosts.append((key, kind, detail))
        if kv is not None:
            assert kv.version == 1, 'put of %s applied twice' % key
    assert not lost, 'acknowledged puts missing after failover: %s' % lost[:5]
    assert not ghosts, 'puts reported as not applied are present: %s' % ghosts[:5]
    assert len(stored) == sum(1 for o in outcomes if o[2] == 'ok') + unknown_applied
    figures.add('faults: v3 leader SIGKILL survived')
    figures.add('faults: v3 puts checked after failover', len(outcomes))
    figures.add('faults: acknowledged writes lost', len(lost))


@pytest.mark.slow
def test_leader_sigkill_during_pipelined_put_many_keeps_transactions_whole(etcd_cluster, figures):
    leader = etcd_cluster.leader()
    prefix = 'v3-bulk-failover-%s/' % uuid.uuid4().hex[:8]
    size = 50
    items = [('%sk%05d' % (prefix, number), 'v%d' % number) for number in range(20000)]
    observer = Etcd3Client(host=leader.url, timeout=5)

    def kill_when_applied() -> None:
        # Kill once a good part of the batch is applied.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if observer.count_prefix(prefix) >= 2000:
                    break
            except EtcdException:
                pass
            time.sleep(0.01)
        leader.kill()

    killer = threading.Thread(target=kill_when_applied, daemon=True)
    killer.start()
    client = Etcd3Client(host=_hosts(etcd_cluster, leader), timeout=TIMEOUT, max_txn_ops=size)
    with pytest.raises(EtcdBulkWriteFailed) as err:
        client.put_many(items, concurrency=4, pipeline=8)
    killer.join(10)
    exc = err.value
    transactions = [items[start:start + size] for start in range(0, len(items), size)]
    assert len(exc.results) == len(transactions)
    stored = _survivor_view(etcd_cluster, leader, prefix)
    failed = dict(exc.failures)
    acknowledged = unknown = unknown_applied = 0
    for position, chunk in enumerate(transactions):
        present = [key for key, _value in chunk if key in stored]
        # A transaction is all or nothing, whatever happened to its answer.
        assert len(present) in (0, len(chunk)), 'transaction %d half applied: %d of %d keys' % (position, len(present), len(chunk))
        result = exc.results[position]
        if result is not None:
            acknowledged += 1
            assert len(present) == len(chunk), 'acknowledged transaction %d lost' % position
            assert {stored[key].mod_revision for key, _value in chunk} == {result.header.revision}
        else:
            subject = next((s for s in failed if s.startswith(chunk[0][0])), None)
            if subject is not None and _classify(failed[subject]) == 'unknown':
                unknown += 1
                unknown_applied += bool(present)
            else:
                assert not present, 'transaction %d reported not applied is present' % position
    assert acknowledged > 10 and exc.not_sent, 'the kill did not land in the middle of the batch'
    assert all(kv.version == 1 for kv in stored.values()), 'a put was applied twice'
    assert len(stored) == size * (acknowledged + unknown_applied)
    figures.add('faults: v3 leader SIGKILL during pipelined put_many survived')
    figures.add('faults: v3 transactions checked after the kill', len(transactions))
    figures.add('faults: v3 transactions in flight reported unknown', unknown)
    observer.close()


@pytest.mark.slow
def test_frozen_member_fresh_put_lands_elsewhere_confirmed_put_is_unknown(etcd_cluster, figures):
    frozen = etcd_cluster.followers()[0]
    others = [m for m in etcd_cluster.members if m is not frozen]
    prefix = 'v3-frozen-%s/' % uuid.uuid4().hex[:8]
    confirmed = Etcd3Client(host=_hosts(etcd_cluster, frozen), timeout=TIMEOUT, api_prefix='/v3')
    confirmed.get(prefix + 'warm-up')  # the frozen-to-be member answers: confirmed
    frozen.freeze()
    try:
        fresh = Etcd3Client(host=_hosts(etcd_cluster, frozen), timeout=TIMEOUT, api_prefix='/v3')
        assert fresh.put(prefix + 'landed', 'yes').header.revision > 0
        assert fresh.current_endpoint != frozen.url
        fresh.put_many({'%sm%03d' % (prefix, n): str(n) for n in range(300)})
        with pytest.raises(EtcdOutcomeUnknown):
            confirmed.put(prefix + 'maybe', 'v')
        checker = Etcd3Client(host=[m.url for m in others], timeout=5)
        assert checker.get(prefix + 'landed').value == 'yes'
        assert checker.count_prefix(prefix + 'm') == 300
        assert checker.get(prefix + 'maybe') is None  # not re-sent to another member
        # The next put starts past the frozen member.
        assert confirmed.put(prefix + 'after', 'v').header.revision > 0
    finally:
        frozen.thaw()
    figures.add('faults: v3 frozen member survived')
