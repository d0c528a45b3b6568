"""pyetcd.etcd.etcd wait=true on the v3 store: a watch from the read revision + 1, woken by an
etcdctl put from another thread; chaining with wait_revision; deletions, timeouts, compaction."""
from __future__ import annotations

import threading
import time

import pytest
from ansible.errors import AnsibleLookupError

from tests.harness import v3_state
from tests.lookup.v3.conftest import compact, delete, put


def _later(server, *args, delay=0.7):
    def run():
        time.sleep(delay)
        v3_state.etcdctl(server, *args)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_wait_is_woken_by_a_put(etcd_server, conn, run_lookup, pfx):
    put(etcd_server, pfx + 'primary', 'old')
    thread = _later(etcd_server, 'put', pfx + 'primary', 'new')
    started = time.monotonic()
    assert run_lookup(pfx + 'primary', wait=True, wait_timeout=20, **conn) == ['new']
    assert time.monotonic() - started >= 0.5
    thread.join(10)


def test_wait_on_a_missing_key_sees_it_created(etcd_server, conn, run_lookup, pfx):
    thread = _later(etcd_server, 'put', pfx + 'later', 'born')
    data = run_lookup(pfx + 'later', wait=True, metadata=True, wait_timeout=20, **conn)[0]
    thread.join(10)
    assert data['value'] == 'born' and data['action'] == 'put'
    assert data['mod_revision'] == v3_state.kv(etcd_server, pfx + 'later')['mod_revision']


def test_wait_on_a_directory_sees_a_change_under_it(etcd_server, conn, run_lookup, pfx):
    put(etcd_server, pfx + 'd/a', '1')
    thread = _later(etcd_server, 'put', pfx + 'd/b', '2')
    assert run_lookup(pfx + 'd', wait=True, flat=True, wait_timeout=20, **conn) == [{pfx + 'd/b': '2'}]
    thread.join(10)


def test_wait_on_a_prefix(etcd_server, conn, run_lookup, pfx):
    thread = _later(etcd_server, 'put', pfx + 'prefixed-key', 'p')
    assert run_lookup(pfx + 'prefix', prefix=True, wait=True, wait_timeout=20, **conn) == ['p']
    thread.join(10)


def test_a_deletion_returns_null(etcd_server, conn, run_lookup, pfx):
    put(etcd_server, pfx + 'gone', 'x')
    thread = _later(etcd_server, 'del', pfx + 'gone')
    assert run_lookup(pfx + 'gone', wait=True, wait_timeout=20, **conn) == [None]
    thread.join(10)


def test_chaining_waits_misses_no_change(etcd_server, conn, run_lookup, pfx):
    key = pfx + 'chain'
    read = run_lookup(key, metadata=True, default=None, **conn)[0]
    assert read is None
    start = v3_state.revision(etcd_server)
    revs = [put(etcd_server, key, value) for value in ('v1', 'v2')]
    delete_rev = delete(etcd_server, key)
    first = run_lookup(key, wait=True, metadata=True, wait_revision=start + 1, **conn)[0]
    assert (first['value'], first['mod_revision']) == ('v1', revs[0])
    second = run_lookup(key, wait=True, metadata=True, wait_revision=first['mod_revision'] + 1, **conn)[0]
    assert (second['value'], second['mod_revision']) == ('v2', revs[1])
    third = run_lookup(key, wait=True, metadata=True, wait_revision=second['mod_revision'] + 1, **conn)[0]
    assert third['action'] == 'delete' and third['value'] is None and third['mod_revision'] == delete_rev
    thread = _later(etcd_server, 'put', key, 'v3')
    fourth = run_lookup(key, wait=True, metadata=True, wait_timeout=20, wait_revision=third['mod_revision'] + 1,
                        **conn)[0]
    thread.join(10)
    assert fourth['value'] == 'v3' and fourth['mod_revision'] == v3_state.kv(etcd_server, key)['mod_revision']


def test_wait_starts_after_the_read(etcd_server, conn, run_lookup, pfx):
    """Without wait_revision the watch starts at the read's revision + 1: an older change is
    not returned, the next one is."""
    put(etcd_server, pfx + 'k', 'before')
    thread = _later(etcd_server, 'put', pfx + 'k', 'after')
    assert run_lookup(pfx + 'k', wait=True, wait_timeout=20, **conn) == ['after']
    thread.join(10)


def test_wait_times_out_naming_key_and_member(etcd_server, conn, run_lookup, pfx):
    put(etcd_server, pfx + 'quiet', 'q')
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(pfx + 'quiet', wait=True, wait_timeout=1, default='never', **conn)
    message = str(info.value)
    assert 'timed out' in message and 'no change within 1s' in message
    assert pfx + 'quiet' in message and etcd_server.url in message


def test_wait_from_a_compacted_revision_names_it(etcd_server, conn, run_lookup, pfx):
    first = put(etcd_server, pfx + 'k', 'a')
    latest = put(etcd_server, pfx + 'k', 'b')
    compact(etcd_server, latest)
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(pfx + 'k', wait=True, wait_revision=first, wait_timeout=5, **conn)
    message = str(info.value)
    assert 'compacted' in message and 'revision %d' % first in message and pfx + 'k' in message
