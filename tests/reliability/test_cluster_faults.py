"""Cluster faults on a real 3-member etcd 3.5 cluster: a killed leader, a frozen member, all
members down.

What is proven:

* SIGKILL of the leader in the middle of a write loop: every write the client acknowledged
  is readable afterwards with the acknowledged index; every write the client reported as
  "not sent" is absent; every write reported as "outcome unknown" is looked up and counted
  either way; no write was applied twice; writes succeed again within a bounded time.
* SIGSTOP of a member (it accepts connections and never answers): a read moves on to the
  next member after the configured timeout, a write is reported as outcome-unknown after
  the configured timeout and never re-sent; nothing waits longer than its budget.
* All members down or frozen: one error naming every endpoint and what it answered, within
  (members x timeout), never a multiple of that.

The time bounds below are budgets derived from the configured timeout (a generous margin for a
shared CI machine), not speed measurements: a hang or a multiplied timeout breaks them by
orders of magnitude.
"""
from __future__ import annotations

import threading
import time
import uuid

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import (
    Client,
    EtcdBulkWriteFailed,
    EtcdConnectionFailed,
    EtcdException,
    EtcdKeyNotFound,
    EtcdOutcomeUnknown,
    EtcdWatchTimedOut,
)

TIMEOUT = 1.0
# Slack for process scheduling on a busy 2-core runner; still far below any multiplied timeout.
SLACK = 1.5


def _ordered_hosts(cluster, first):
    """(host, port) of every member with ``first`` in front, so the client starts on it."""
    return [(first.host, first.port)] + [(m.host, m.port) for m in cluster.members if m is not first]


def _classify(exc: EtcdException) -> str:
    if isinstance(exc, EtcdOutcomeUnknown) or exc.outcome_unknown:
        return 'unknown'
    if isinstance(exc, EtcdConnectionFailed):
        return 'not-sent'
    # Any other etcd error is an answer from etcd that the write was refused.
    return 'refused'


@pytest.mark.slow
def test_leader_sigkill_during_a_write_loop_loses_nothing(etcd_cluster, figures):
    leader = etcd_cluster.leader()
    client = Client(host=_ordered_hosts(etcd_cluster, leader), timeout=TIMEOUT, allow_reconnect=True)
    prefix = '/failover-%s' % uuid.uuid4().hex[:8]
    outcomes = []   # (key, value, 'ok'|'unknown'|'not-sent'|'refused', modified_index or message)
    killed = threading.Event()
    recovered_after = None
    kill_time = None
    i = 0
    deadline = time.monotonic() + 60
    # Write until 150 writes were acknowledged after the kill (or a minute passed, which fails below).
    while time.monotonic() < deadline:
        if i == 150 and not killed.is_set():
            kill_time = time.monotonic()
            leader.kill()     # SIGKILL: no goodbye to the peers or to open client connections
            killed.set()
        key, value = '%s/k%05d' % (prefix, i), 'v%d-%s' % (i, uuid.uuid4().hex[:6])
        try:
            result = client.write(key, value)
        except EtcdException as exc:
            outcomes.append((key, value, _classify(exc), str(exc)))
        else:
            outcomes.append((key, value, 'ok', result.node.modified_index))
            if killed.is_set() and recovered_after is None:
                recovered_after = time.monotonic() - kill_time
        i += 1
        acked_after_kill = sum(1 for o in outcomes[150:] if o[2] == 'ok')
        if acked_after_kill >= 150:
            break
    client.close()

    assert killed.is_set() and recovered_after is not None, 'no write succeeded after the leader was killed'
    # Recovery budget: one election (500 ms election timeout) plus at most one timed-out
    # request per remaining member.
    assert recovered_after < 2 * TIMEOUT + 2 + SLACK, 'writes resumed only after %.1fs' % recovered_after

    # Check every outcome with linearizable reads through a fresh client on the survivors.
    survivors = [m for m in etcd_cluster.members if m is not leader]
    checker = Client(host=[(m.host, m.port) for m in survivors], timeout=5)
    stored = {}
    for node in checker.read(prefix, recursive=True, quorum=True).node.children:
        stored[node.key] = node
    lost, ghosts, unknown_applied, unknown_absent = [], [], 0, 0
    for key, value, kind, detail in outcomes:
        node = stored.get(key)
        if kind == 'ok':
            if node is None or node.value != value or node.modified_index != detail:
                lost.append(key)
        elif kind == 'unknown':
            if node is None:
                unknown_absent += 1
            else:
                assert node.value == value
                unknown_applied += 1
        else:
            # The client said the request never reached etcd, or etcd refused it: must be absent.
            if node is not None:
                ghosts.append((key, kind, detail))
        if node is not None:
            # Every key was written once: a re-sent PUT would have moved modifiedIndex on.
            assert node.created_index == node.modified_index, 'write to %s applied twice' % key
    assert not lost, 'acknowledged writes missing after failover: %s' % lost[:5]
    assert not ghosts, 'writes reported as not applied are present: %s' % ghosts[:5]
    assert len(stored) == sum(1 for o in outcomes if o[2] == 'ok') + unknown_applied
    acknowledged = sum(1 for o in outcomes if o[2] == 'ok')
    failed = len(outcomes) - acknowledged
    figures.add('faults: leader SIGKILL survived')
    figures.add('faults: writes checked after failover', len(outcomes))
    figures.add('faults: acknowledged writes lost', len(lost))
    figures.add('faults: writes reported failed or unknown', failed)
    checker.close()


@pytest.mark.slow
def test_leader_sigkill_during_a_pipelined_write_many_loses_nothing(etcd_cluster, figures):
    """write_many with 8 connections x 16 pipelined writes to the leader, SIGKILLed once etcd
    has applied the 501st key: every acknowledged write survives on the other members, every
    write not sent or refused is absent, the writes in flight are reported as unknown."""
    leader = etcd_cluster.leader()
    prefix = '/bulk-failover-%s' % uuid.uuid4().hex[:8]
    items = [('%s/k%05d' % (prefix, number), 'v%d-%s' % (number, uuid.uuid4().hex[:6])) for number in range(20000)]
    watcher = Client(host=(leader.host, leader.port), timeout=30)

    def kill_when_applied() -> None:
        watcher.read(items[500][0], wait=True)   # returns when etcd has applied that write
        leader.kill()

    killer = threading.Thread(target=kill_when_applied, daemon=True)
    killer.start()
    client = Client(host=_ordered_hosts(etcd_cluster, leader), timeout=TIMEOUT)
    with pytest.raises(EtcdBulkWriteFailed) as err:
        client.write_many(items, concurrency=8, pipeline=16)
    killer.join(10)
    exc = err.value
    acknowledged = {key: result for (key, _value), result in zip(items, exc.results) if result is not None}
    failed = dict(exc.failures)
    assert len(acknowledged) + len(failed) + len(exc.not_sent) == len(items)
    assert len(acknowledged) > 100 and exc.not_sent, 'the kill did not land in the middle of the writes: %d acknowledged, ' \
        '%d not sent, first failure %s' % (len(acknowledged), len(exc.not_sent), exc.failures[:1])
    assert exc.outcome_unknown and all(_classify(failure) in ('unknown', 'refused') for failure in failed.values())

    survivors = Client(host=[(m.host, m.port) for m in etcd_cluster.members if m is not leader], timeout=5)
    deadline = time.monotonic() + 30
    while True:  # until the survivors have elected a leader and answer a quorum read
        try:
            tree = survivors.read(prefix, recursive=True, quorum=True).node
            break
        except EtcdException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    stored = {node.key: node for node in tree.leaves()}
    values = dict(items)
    lost = [key for key, result in acknowledged.items()
            if key not in stored or stored[key].value != values[key] or stored[key].modified_index != result.node.modified_index]
    ghosts = [key for key in exc.not_sent if key in stored]
    ghosts += [key for key, failure in failed.items() if _classify(failure) == 'refused' and key in stored]
    assert not lost, 'acknowledged writes missing after the leader was killed: %s' % lost[:5]
    assert not ghosts, 'writes reported as not applied are present: %s' % ghosts[:5]
    assert all(node.created_index == node.modified_index for node in stored.values()), 'a write was applied twice'
    unknown = [key for key, failure in failed.items() if _classify(failure) == 'unknown']
    assert len(stored) == len(acknowledged) + sum(1 for key in unknown if key in stored)
    figures.add('faults: leader SIGKILL during pipelined write_many survived')
    figures.add('faults: bulk writes checked after the kill', len(acknowledged) + len(failed))
    figures.add('faults: acknowledged writes lost', len(lost))
    figures.add('faults: bulk writes in flight reported unknown', len(unknown))
    survivors.close()
    watcher.close()


@pytest.mark.slow
def test_frozen_member_times_out_and_moves_on(etcd_cluster, figures):
    frozen = etcd_cluster.followers()[0]
    prefix = '/frozen-%s' % uuid.uuid4().hex[:8]
    seed = Client(host=etcd_cluster.hosts, timeout=5)
    seed.write(prefix + '/seed', 'before')
    # This client hears from the member before it freezes: the member is confirmed.
    confirmed = Client(host=_ordered_hosts(etcd_cluster, frozen), timeout=TIMEOUT)
    confirmed.read(prefix + '/seed')
    frozen.freeze()
    try:
        # A read starting on the frozen member: one timeout there, then the next member answers.
        reader = Client(host=_ordered_hosts(etcd_cluster, frozen), timeout=TIMEOUT)
        start = time.monotonic()
        assert reader.read(prefix + '/seed').node.value == 'before'
        elapsed = time.monotonic() - start
        assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + SLACK, 'read took %.2fs' % elapsed
        # The client now stays on the member that answered: the next read does not wait again.
        assert reader.current_endpoint != frozen.url
        start = time.monotonic()
        reader.read(prefix + '/seed')
        assert time.monotonic() - start < TIMEOUT
        reader.close()

        # A fresh client's write: the frozen member does not answer the health check (one
        # timeout), so the write goes to a live member and lands.
        fresh = Client(host=_ordered_hosts(etcd_cluster, frozen), timeout=TIMEOUT)
        start = time.monotonic()
        assert fresh.write(prefix + '/fresh', 'landed').endpoint != frozen.url
        assert time.monotonic() - start < TIMEOUT + SLACK
        assert seed.read(prefix + '/fresh', quorum=True).node.value == 'landed'
        fresh.close()

        # A write to the confirmed member: it was sent, so it is never re-sent elsewhere;
        # the caller hears "outcome unknown" after one timeout.
        start = time.monotonic()
        with pytest.raises(EtcdOutcomeUnknown) as err:
            confirmed.write(prefix + '/during', 'sent-to-frozen')
        elapsed = time.monotonic() - start
        assert elapsed < TIMEOUT + SLACK, 'write took %.2fs' % elapsed
        message = str(err.value)
        assert frozen.url in message and 'no answer within 1s' in message and 'may or may not' in message
        assert '\n' not in message
        # The next write starts on a healthy member and succeeds.
        assert confirmed.write(prefix + '/after', 'ok').node.value == 'ok'
        confirmed.close()

        # A watch goes only to a member that answers: etcd sends nothing while a watch is idle,
        # so a frozen member would look like a key that did not change. It is reported as a
        # member that does not answer, never as "no change".
        watcher = Client(host=[(frozen.host, frozen.port)], timeout=TIMEOUT)
        start = time.monotonic()
        with pytest.raises(EtcdConnectionFailed) as err:
            watcher.read(prefix + '/seed', wait=True, timeout=TIMEOUT)
        assert not isinstance(err.value, EtcdWatchTimedOut) and 'no answer within 1s' in str(err.value)
        assert time.monotonic() - start < TIMEOUT + SLACK
        watcher.close()
    finally:
        frozen.thaw()
    # After SIGCONT the frozen member reads the request still queued in its socket; whether
    # it applies it is exactly what "outcome unknown" means. Record which way it went.
    frozen.wait_healthy(30)
    try:
        seed.read(prefix + '/during', quorum=True)
        figures.add('faults: frozen-member writes applied after SIGCONT')
    except EtcdKeyNotFound:
        figures.add('faults: frozen-member writes never applied')
    seed.close()
    figures.add('faults: member SIGSTOP survived')
    figures.add('faults: operations checked during SIGSTOP', 6)


@pytest.mark.slow
def test_all_members_down_one_clear_error_within_budget(etcd_cluster, figures):
    client = Client(host=etcd_cluster.hosts, timeout=TIMEOUT)
    client.write('/down/k', 'v')
    for member in etcd_cluster.members:
        member.kill()
    for call in (lambda: client.read('/down/k'), lambda: client.write('/down/k', 'w')):
        start = time.monotonic()
        with pytest.raises(EtcdConnectionFailed) as err:
            call()
        elapsed = time.monotonic() - start
        assert not isinstance(err.value, EtcdOutcomeUnknown), 'a refused connection means nothing was sent'
        message = str(err.value)
        assert '\n' not in message and '/down/k' in message
        for url in etcd_cluster.urls:
            assert '%s: connection refused' % url in message
        # Each member tried exactly once.
        assert sorted(endpoint for endpoint, _reason in err.value.attempts) == sorted(etcd_cluster.urls)
        # Refused connections fail at once: far below even one timeout.
        assert elapsed < TIMEOUT
    figures.add('faults: all-members-down survived')
    figures.add('faults: operations checked with all members down', 2)


@pytest.mark.slow
def test_all_members_frozen_read_waits_once_per_member(etcd_cluster, figures):
    client = Client(host=etcd_cluster.hosts, timeout=TIMEOUT)
    client.write('/frozen-all/k', 'v')
    for member in etcd_cluster.members:
        member.freeze()
    try:
        start = time.monotonic()
        with pytest.raises(EtcdConnectionFailed) as err:
            client.read('/frozen-all/k')
        elapsed = time.monotonic() - start
        message = str(err.value)
        for url in etcd_cluster.urls:
            assert '%s: no answer within 1s' % url in message
        # One timeout per member, tried once each: 3 s, never 3 x retries x 1 s.
        assert 3 * TIMEOUT * 0.9 <= elapsed < 3 * TIMEOUT + SLACK, 'read took %.2fs' % elapsed

        # After the read no member is confirmed any more: a write asks each for /health (one
        # timeout each) and is sent nowhere, so it is not "outcome unknown".
        start = time.monotonic()
        with pytest.raises(EtcdConnectionFailed) as err:
            client.write('/frozen-all/k', 'w')
        elapsed = time.monotonic() - start
        assert not err.value.outcome_unknown and len(err.value.attempts) == 3
        assert all('to a health check' in reason for _url, reason in err.value.attempts)
        assert 3 * TIMEOUT * 0.9 <= elapsed < 3 * TIMEOUT + SLACK, 'write took %.2fs' % elapsed
    finally:
        for member in etcd_cluster.members:
            member.thaw()
    figures.add('faults: all-members-frozen survived')
    figures.add('faults: operations checked with all members frozen', 2)


@pytest.mark.slow
def test_client_without_reconnect_stays_on_its_member(etcd_cluster):
    """allow_reconnect=False: a dead first member is an error naming only that member."""
    first = etcd_cluster.followers()[0]
    client = Client(host=_ordered_hosts(etcd_cluster, first), timeout=TIMEOUT, allow_reconnect=False)
    client.write('/noreconnect/k', 'v')
    first.kill()
    with pytest.raises(EtcdConnectionFailed) as err:
        client.read('/noreconnect/k')
    assert [endpoint for endpoint, _reason in err.value.attempts] == [first.url]
