# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_key with api_version=v3 against real etcd 3.5 and 3.4, checked with etcdctl.

Keys are verbatim, a TTL is a lease, every write is one txn guarded by what was read.
"""
from __future__ import annotations

import uuid

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.key import ensure_key
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.key_plan import DesiredKey
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store_v3 import V3Store
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client
from tests.harness.v3_state import etcdctl, kv, lease_ttl, leases
from tests.modules.module_process import run_module


@pytest.fixture
def key():
    return 'v3key-%s/app/port' % uuid.uuid4().hex[:10]


def args(server, **extra):
    return dict(host=[server.url], api_version='v3', **extra)


def test_create_then_rerun_is_ok_and_key_is_verbatim(etcd_server, key):
    first = run_module('etcd_key', args(etcd_server, key=key, value='8080'))
    assert first['changed'] is True and first['action'] == 'create', first
    stored = kv(etcd_server, key)
    assert stored['value'] == '8080'
    # Nothing added: 'v3key-...' was not turned into '/v3key-...'.
    assert kv(etcd_server, '/' + key) is None
    assert first['key'] == key
    assert first['node']['mod_revision'] == stored['mod_revision'] == first['node']['modified_index']
    assert first['node']['version'] == 1 and first['node']['lease'] == 0
    assert first['revision'] == stored['mod_revision']
    second = run_module('etcd_key', args(etcd_server, key=key, value='8080'))
    assert second['changed'] is False and second['action'] == 'none', second
    assert kv(etcd_server, key)['mod_revision'] == stored['mod_revision'], 'a no-change run wrote'


def test_update_and_delete_without_value(etcd_server, key):
    etcdctl(etcd_server, 'put', key, 'old')
    updated = run_module('etcd_key', args(etcd_server, key=key, value='new'), diff=True)
    assert updated['changed'] and updated['action'] == 'update'
    assert updated['prev_node']['value'] == 'old' and updated['node']['value'] == 'new'
    assert updated['diff']['before']['value'] == 'old' and updated['diff']['after']['value'] == 'new'
    assert kv(etcd_server, key)['value'] == 'new'
    gone = run_module('etcd_key', args(etcd_server, key=key, state='absent'))
    assert gone['changed'] and gone['action'] == 'delete' and gone['node'] is None
    assert kv(etcd_server, key) is None
    again = run_module('etcd_key', args(etcd_server, key=key, state='absent'))
    assert again['changed'] is False


def test_check_mode_writes_nothing(etcd_server, key):
    result = run_module('etcd_key', args(etcd_server, key=key, value='x'), check=True, diff=True)
    assert result['changed'] is True and result['diff']['after']['value'] == 'x'
    assert kv(etcd_server, key) is None
    etcdctl(etcd_server, 'put', key, 'y')
    before = kv(etcd_server, key)
    result = run_module('etcd_key', args(etcd_server, key=key, state='absent'), check=True)
    assert result['changed'] is True
    assert kv(etcd_server, key) == before


def test_ttl_is_a_lease_and_rerun_within_ttl_is_ok(etcd_server, key):
    first = run_module('etcd_key', args(etcd_server, key=key, value='v', ttl=60))
    assert first['changed']
    stored = kv(etcd_server, key)
    assert stored['lease'] != 0 and first['node']['lease'] == stored['lease']
    lease = lease_ttl(etcd_server, stored['lease'])
    assert lease['granted_ttl'] == 60 and 55 <= lease['ttl'] <= 60 and lease['keys'] == [key]
    second = run_module('etcd_key', args(etcd_server, key=key, value='v', ttl=60))
    assert second['changed'] is False, second
    assert 0 < second['node']['ttl'] <= 60
    assert kv(etcd_server, key)['mod_revision'] == stored['mod_revision']
    # A shorter TTL than the key has left: a new lease, the key now expires sooner.
    shorter = run_module('etcd_key', args(etcd_server, key=key, value='v', ttl=10))
    assert shorter['changed'] and shorter['action'] == 'set_ttl'
    now = kv(etcd_server, key)
    assert now['lease'] not in (0, stored['lease']) and lease_ttl(etcd_server, now['lease'])['granted_ttl'] == 10
    # No ttl: the key is made permanent.
    permanent = run_module('etcd_key', args(etcd_server, key=key, value='v'))
    assert permanent['changed'] and permanent['action'] == 'remove_ttl'
    assert kv(etcd_server, key)['lease'] == 0


def test_refresh_ttl_keeps_the_lease_alive_without_a_write(etcd_server, key):
    # A lease of 20 s attached by etcdctl, with little time left compared to ttl=40: a new
    # lease (granted TTL differs) is needed.
    run_module('etcd_key', args(etcd_server, key=key, value='hb', ttl=4))
    lease_before = kv(etcd_server, key)['lease']
    revision_before = kv(etcd_server, key)['mod_revision']
    import time
    time.sleep(2.5)  # less than half of 4 s left
    refreshed = run_module('etcd_key', args(etcd_server, key=key, value='hb', ttl=4, refresh_ttl=True))
    assert refreshed['changed'] and refreshed['action'] == 'refresh_ttl', refreshed
    after = kv(etcd_server, key)
    # The same lease, kept alive: no put, so no new revision and watchers are not woken.
    assert after['lease'] == lease_before and after['mod_revision'] == revision_before
    assert lease_ttl(etcd_server, lease_before)['ttl'] >= 3
    ok = run_module('etcd_key', args(etcd_server, key=key, value='hb', ttl=4, refresh_ttl=True))
    assert ok['changed'] is False


def test_refresh_never_extends_keys_the_task_did_not_name(etcd_server, key):
    other = key + '-other'
    lease = int(etcdctl(etcd_server, 'lease', 'grant', '30').stdout.split()[1], 16)
    etcdctl(etcd_server, 'put', key, 'x', '--lease=%x' % lease)
    etcdctl(etcd_server, 'put', other, 'y', '--lease=%x' % lease)
    result = run_module('etcd_key', args(etcd_server, key=key, value='x', ttl=100, refresh_ttl=True))
    assert result['changed']  # more than ttl left? no: 30 < 100/2 -> renewal due
    mine = kv(etcd_server, key)
    assert mine['lease'] != lease, 'the shared lease was kept alive, extending a key the task did not name'
    assert kv(etcd_server, other)['lease'] == lease
    assert lease_ttl(etcd_server, mine['lease'])['granted_ttl'] == 100


def test_failed_condition_leaves_no_lease_behind(etcd_server, key):
    """A create whose key appeared meanwhile: the txn refuses it and the granted lease is revoked."""
    with Etcd3Client(host=etcd_server.url) as client:
        store = V3Store(client)
        assert store.read(key) is None
        etcdctl(etcd_server, 'put', key, 'theirs')
        before = set(leases(etcd_server))
        from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import ConditionFailed
        from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store import Condition
        with pytest.raises(ConditionFailed):
            store.put(key, 'mine', ttl=30, when=Condition.absent())
        assert kv(etcd_server, key)['value'] == 'theirs'
        assert set(leases(etcd_server)) == before


def test_concurrent_change_is_never_overwritten(etcd_server, key):
    """Another writer changes the key between the read and the write: the txn compare on the
    mod_revision refuses the write and ensure_key plans again from a fresh read."""
    etcdctl(etcd_server, 'put', key, 'start')

    class Racing(V3Store):
        raced = False

        def read(self, key):  # pylint: disable=redefined-outer-name
            node = super().read(key)
            if not Racing.raced:
                Racing.raced = True
                etcdctl(etcd_server, 'put', key, 'target')  # what the task wants, written meanwhile
            return node

    with Etcd3Client(host=etcd_server.url) as client:
        outcome = ensure_key(Racing(client), DesiredKey(key=key, value='target'))
    assert outcome.attempts == 2 and outcome.changed is False
    assert kv(etcd_server, key)['version'] == 2  # start, target: our write was not sent


def test_sensitive_value_never_shown(etcd_server, key):
    result = run_module('etcd_key', args(etcd_server, key=key, value='s3cret-value', sensitive=True), diff=True)
    assert result['changed']
    assert 's3cret-value' not in repr(result)
    assert kv(etcd_server, key)['value'] == 's3cret-value'


def test_options_of_the_other_api_fail_clearly(etcd_server, key):
    result = run_module('etcd_key', args(etcd_server, key=key, value='x', version_prefix='v2beta'))
    assert result['failed'] and 'version_prefix needs api_version=v2' in result['msg']
    result = run_module('etcd_key', dict(host=[etcd_server.url], key=key, value='x', max_txn_ops=64))
    assert result['failed'] and 'max_txn_ops needs api_version=v3' in result['msg']
    assert kv(etcd_server, key) is None


def test_bad_value_is_refused_before_anything_is_sent(etcd_server, key):
    result = run_module('etcd_key', args(etcd_server, key=key, value=['a', 'list']))
    assert result['failed'] and 'value' in result['msg']
    assert kv(etcd_server, key) is None


def test_v2_not_enabled_suggests_v3(etcd_server, key):
    """A member without --enable-v2 refuses the v2 API; the message says what to set. (The
    harness servers have v2 on, so this starts one without it.)"""
    from tests.harness.etcd_server import EtcdServer
    with EtcdServer(etcd_server.version, enable_v2=False) as plain:
        result = run_module('etcd_key', dict(host=[plain.url], key=key, value='x'))
        assert result['failed'] and 'api_version: v3' in result['msg'], result['msg']
        ok = run_module('etcd_key', dict(host=[plain.url], key=key, value='x', api_version='v3'))
        assert ok['changed'] and kv(plain, key)['value'] == 'x'
