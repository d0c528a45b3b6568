"""The lookup's wait on a 3-member etcd 3.5 cluster whose first-listed member is frozen (SIGSTOP).

A frozen member accepts connections and never answers, so a watch sent to it cannot tell a quiet
key from a dead member. The lookup first finds a member with a bounded normal read (which moves
past a member that does not answer) and watches there; these tests change the key through a
healthy member and check that the lookup returns that change rather than "no change", and that a
member that does not answer is reported as such.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdKeyNotFound

TIMEOUT = 1


def _watchers(member) -> int:
    with urllib.request.urlopen(member.url + '/v2/stats/store', timeout=2) as resp:
        return json.loads(resp.read().decode())['watchers']


def _wait_for_a_watcher(members, done: threading.Event, limit: float = 60.0) -> None:
    """Until one of ``members`` holds a v2 watcher, the lookup is over or ``limit`` passed."""
    deadline = time.monotonic() + limit
    while not done.is_set() and time.monotonic() < deadline:
        if any(_watchers(member) > 0 for member in members):
            return
        time.sleep(0.02)


def _hosts(first, cluster):
    return [first.url] + [member.url for member in cluster.members if member is not first]


class _Background(threading.Thread):
    """Runs ``action`` and keeps what it raised, so the test can report it."""

    def __init__(self, action):
        super().__init__(daemon=True)
        self.action = action
        self.error = None

    def run(self):
        try:
            self.action()
        except Exception as exc:  # pylint: disable=broad-except
            self.error = exc


@pytest.mark.slow
def test_wait_past_a_frozen_first_member_returns_the_change(etcd_cluster, run_lookup, key_prefix):
    frozen = etcd_cluster.followers()[0]  # a follower: no election stalls the writes
    healthy = [m for m in etcd_cluster.members if m is not frozen]
    key = key_prefix + '/published'
    writer = Client(host=[m.url for m in healthy], timeout=5)
    writer.write(key, 'before')
    written = {}
    done = threading.Event()

    def publish():
        # Once the lookup's watch is registered on a live member (or the lookup ended), change the key.
        _wait_for_a_watcher(healthy, done)
        written['result'] = writer.write(key, 'after')

    thread = _Background(publish)
    frozen.freeze()
    try:
        thread.start()
        try:
            meta = run_lookup(key, wait=True, wait_timeout=20, metadata=True, timeout=TIMEOUT,
                              host=_hosts(frozen, etcd_cluster))[0]
        finally:
            done.set()
            thread.join(30)
    finally:
        frozen.thaw()
    assert thread.error is None
    assert meta['value'] == 'after'
    assert meta['action'] == 'set'
    assert meta['modified_index'] == written['result'].node.modified_index
    # The server holds what the lookup returned.
    assert writer.read(key, quorum=True).node.value == 'after'
    writer.close()


@pytest.mark.slow
def test_chained_waits_past_a_frozen_first_member_see_two_events(etcd_cluster, run_lookup, key_prefix):
    frozen = etcd_cluster.followers()[0]  # a follower: no election stalls the writes
    key = key_prefix + '/k'
    writer = Client(host=[m.url for m in etcd_cluster.members if m is not frozen], timeout=5)
    first = writer.write(key, 'one')
    second = writer.write(key, 'two')
    third = writer.write(key, 'three')
    conn = {'host': _hosts(frozen, etcd_cluster), 'timeout': TIMEOUT}
    frozen.freeze()
    try:
        # The changes happened before the call: from the index after the first write, the
        # second write is returned at once; the next wait starts after the change returned.
        seen = run_lookup(key, wait=True, wait_index=first.node.modified_index + 1, wait_timeout=20, metadata=True,
                          **conn)[0]
        after = run_lookup(key, wait=True, wait_index=seen['modified_index'] + 1, wait_timeout=20, metadata=True,
                           **conn)[0]
    finally:
        frozen.thaw()
    assert (seen['value'], seen['modified_index']) == ('two', second.node.modified_index)
    assert (after['value'], after['modified_index']) == ('three', third.node.modified_index)
    # Why the next wait starts at modified_index + 1: the answer's etcd_index is already past
    # the third write, so waiting from etcd_index + 1 would have skipped it.
    assert seen['etcd_index'] >= third.node.modified_index
    assert writer.read(key, quorum=True).node.modified_index == third.node.modified_index
    writer.close()


@pytest.mark.slow
def test_wait_when_no_member_answers_says_so_not_no_change(etcd_cluster, run_lookup, key_prefix):
    key = key_prefix + '/k'
    with Client(host=etcd_cluster.urls, timeout=5) as writer:
        writer.write(key, 'v')
    for member in etcd_cluster.members:
        member.freeze()
    try:
        with pytest.raises(AnsibleLookupError) as info:
            run_lookup(key, wait=True, wait_timeout=3, timeout=TIMEOUT, host=etcd_cluster.urls)
    finally:
        for member in etcd_cluster.members:
            member.thaw()
    message = str(info.value)
    assert 'no change' not in message
    assert 'did not answer' in message
    assert key in message
    for url in etcd_cluster.urls:
        assert url in message
    assert '\n' not in message


@pytest.mark.slow
def test_a_member_that_freezes_during_the_wait_is_not_taken_for_no_change(etcd_cluster, run_lookup, key_prefix):
    # A follower: freezing the leader would stall the write behind an election, which on a busy
    # machine can outlast the wait and turn the test's premise into a race.
    watched = etcd_cluster.followers()[0]
    others = [m for m in etcd_cluster.members if m is not watched]
    key = key_prefix + '/k'
    writer = Client(host=[m.url for m in others], timeout=5)
    writer.write(key, 'before')
    written = {}
    done = threading.Event()

    def freeze_then_publish():
        # The lookup's watch is on the first member: freeze that member, then change the key elsewhere.
        _wait_for_a_watcher([watched], done)
        if done.is_set():
            return
        watched.freeze()
        written['result'] = writer.write(key, 'after')

    thread = _Background(freeze_then_publish)
    thread.start()
    try:
        try:
            meta = run_lookup(key, wait=True, wait_timeout=4, metadata=True, timeout=TIMEOUT,
                              host=_hosts(watched, etcd_cluster))[0]
        finally:
            done.set()
            thread.join(30)
    finally:
        watched.thaw()
    assert thread.error is None
    assert meta['value'] == 'after'
    assert meta['modified_index'] == written['result'].node.modified_index
    assert writer.read(key, quorum=True).node.value == 'after'
    writer.close()


def test_chained_waits_on_one_member_see_two_events(etcd_server, run_lookup, key_prefix):
    """The same chain on a single healthy member, on each etcd version."""
    key = key_prefix + '/k'
    with Client(host=etcd_server.url, timeout=5) as writer:
        first = writer.write(key, 'one')
        second = writer.write(key, 'two')
        third = writer.delete(key)
        conn = {'host': [etcd_server.url], 'timeout': 5, 'wait_timeout': 10, 'metadata': True}
        seen = run_lookup(key, wait=True, wait_index=first.node.modified_index + 1, **conn)[0]
        after = run_lookup(key, wait=True, wait_index=seen['modified_index'] + 1, **conn)[0]
        assert (seen['action'], seen['value'], seen['modified_index']) == ('set', 'two', second.node.modified_index)
        assert (after['action'], after['value'], after['modified_index']) == ('delete', None, third.node.modified_index)
        with pytest.raises(EtcdKeyNotFound):
            writer.read(key)


def test_wait_without_index_catches_a_change_made_once_the_watch_is_up(etcd35, run_lookup, key_prefix):
    """Without wait_index the watch starts just after the locating read; a later change is returned."""
    key = key_prefix + '/k'
    with Client(host=etcd35.url, timeout=5) as writer:
        writer.write(key, 'old')
        done = threading.Event()
        thread = _Background(lambda: (_wait_for_a_watcher([etcd35], done), writer.write(key, 'new')))
        thread.start()
        try:
            assert run_lookup(key, wait=True, wait_timeout=20, host=etcd35.url) == ['new']
        finally:
            done.set()
            thread.join(30)
        assert thread.error is None
        assert writer.read(key).node.value == 'new'
