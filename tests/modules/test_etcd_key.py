# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_key against a real etcd: ensure_key (read, plan, conditional write) and the module process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.key_plan import (
    CREATE,
    DELETE,
    NONE,
    REFRESH_TTL,
    REMOVE_TTL,
    SET_TTL,
    UPDATE,
    DesiredKey,
    KeyStateError,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.key import ensure_key
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store_v2 import V2Store
from tests.modules.module_process import run_module


def raw_node(server, key):
    """Read a key straight from etcd's HTTP API, bypassing the collection's client."""
    try:
        with urllib.request.urlopen('%s/v2/keys%s' % (server.url, key), timeout=5) as answer:
            return json.loads(answer.read())['node']
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


class Interfering:
    """A client that lets another writer change the key right after each of its first
    ``times`` reads: the write planned from that read must then fail its condition."""

    def __init__(self, client, times, change):
        self._client = client
        self._times = times
        self._change = change

    def __getattr__(self, name):
        return getattr(self._client, name)

    def read(self, key, **kwargs):
        result = self._client.read(key, **kwargs)
        if self._times:
            self._times -= 1
            self._change(self._client, key, self._times)
        return result


def test_create_then_ok_then_update(client, etcd_server, key_prefix):
    key = key_prefix + '/a'
    first = ensure_key(V2Store(client), DesiredKey(key, value='one'))
    assert (first.plan.action, first.before, first.changed) == (CREATE, None, True)
    assert raw_node(etcd_server, key)['value'] == 'one'
    index = raw_node(etcd_server, key)['modifiedIndex']

    again = ensure_key(V2Store(client), DesiredKey(key, value='one'))
    assert (again.plan.action, again.changed) == (NONE, False)
    assert raw_node(etcd_server, key)['modifiedIndex'] == index

    update = ensure_key(V2Store(client), DesiredKey(key, value='two'))
    assert update.plan.action == UPDATE
    assert update.before['value'] == 'one' and update.after['value'] == 'two'
    assert raw_node(etcd_server, key)['value'] == 'two'


def test_check_mode_writes_nothing(client, etcd_server, key_prefix):
    key = key_prefix + '/a'
    created = ensure_key(V2Store(client), DesiredKey(key, value='one'), check_mode=True)
    assert created.plan.action == CREATE and created.after['value'] == 'one'
    assert raw_node(etcd_server, key) is None
    client.write(key, 'one')
    index = raw_node(etcd_server, key)['modifiedIndex']
    for desired in (DesiredKey(key, value='two'), DesiredKey(key, value='one', ttl=60), DesiredKey(key, state='absent')):
        outcome = ensure_key(V2Store(client), desired, check_mode=True)
        assert outcome.changed
        node = raw_node(etcd_server, key)
        assert (node['value'], node['modifiedIndex'], node.get('ttl')) == ('one', index, None)


def test_ttl_rules(client, etcd_server, key_prefix):
    key = key_prefix + '/t'
    assert ensure_key(V2Store(client), DesiredKey(key, value='v', ttl=100)).plan.action == CREATE
    assert 0 < raw_node(etcd_server, key)['ttl'] <= 100
    index = raw_node(etcd_server, key)['modifiedIndex']
    # Re-run: a TTL within the wanted one is kept; nothing is written.
    assert ensure_key(V2Store(client), DesiredKey(key, value='v', ttl=100)).plan.action == NONE
    assert raw_node(etcd_server, key)['modifiedIndex'] == index
    # A shorter TTL is applied.
    assert ensure_key(V2Store(client), DesiredKey(key, value='v', ttl=50)).plan.action == SET_TTL
    assert raw_node(etcd_server, key)['ttl'] <= 50
    # refresh_ttl resets it to the given TTL even when it is longer.
    refreshed = ensure_key(V2Store(client), DesiredKey(key, value='v', ttl=300, refresh_ttl=True))
    assert refreshed.plan.action == REFRESH_TTL
    node = raw_node(etcd_server, key)
    assert 200 < node['ttl'] <= 300 and node['value'] == 'v'
    # Without ttl the key is made permanent, keeping its value.
    assert ensure_key(V2Store(client), DesiredKey(key, value='v')).plan.action == REMOVE_TTL
    node = raw_node(etcd_server, key)
    assert 'ttl' not in node and node['value'] == 'v'
    assert ensure_key(V2Store(client), DesiredKey(key, value='v')).plan.action == NONE


def test_value_change_drops_or_resets_ttl(client, etcd_server, key_prefix):
    key = key_prefix + '/t'
    client.write(key, 'old', ttl=100)
    ensure_key(V2Store(client), DesiredKey(key, value='new'))
    assert 'ttl' not in raw_node(etcd_server, key)
    ensure_key(V2Store(client), DesiredKey(key, value='newer', ttl=40))
    assert raw_node(etcd_server, key)['ttl'] <= 40


def test_absent(client, etcd_server, key_prefix):
    key = key_prefix + '/gone'
    assert ensure_key(V2Store(client), DesiredKey(key, state='absent')).plan.action == NONE
    client.write(key, 'x')
    deleted = ensure_key(V2Store(client), DesiredKey(key, state='absent'))
    assert deleted.plan.action == DELETE and deleted.before['value'] == 'x' and deleted.after is None
    assert raw_node(etcd_server, key) is None


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_directory_refused_and_untouched(client, etcd_server, key_prefix, state):
    client.write(key_prefix + '/d/child', 'c')
    with pytest.raises(KeyStateError) as info:
        ensure_key(V2Store(client), DesiredKey(key_prefix + '/d', state=state, value='v'))
    assert info.value.category == 'is a directory'
    assert info.value.endpoint == client.current_endpoint
    assert raw_node(etcd_server, key_prefix + '/d/child')['value'] == 'c'


def test_concurrent_change_is_read_again(client, etcd_server, key_prefix):
    key = key_prefix + '/race'
    client.write(key, 'start')

    def other_writer(cli, key, _left):
        cli.write(key, 'theirs')

    outcome = ensure_key(V2Store(Interfering(client, 1, other_writer)), DesiredKey(key, value='mine'))
    assert outcome.attempts == 2
    # prev_node is what the successful write replaced, not the stale first read.
    assert outcome.before['value'] == 'theirs'
    assert raw_node(etcd_server, key)['value'] == 'mine'


def test_concurrent_delete_during_absent(client, etcd_server, key_prefix):
    key = key_prefix + '/race'
    client.write(key, 'start')
    outcome = ensure_key(V2Store(Interfering(client, 1, lambda cli, key, _left: cli.delete(key))),
                         DesiredKey(key, state='absent'))
    assert (outcome.plan.action, outcome.changed, outcome.attempts) == (NONE, False, 2)


def test_writer_that_never_stops_gives_up(client, etcd_server, key_prefix):
    key = key_prefix + '/race'
    client.write(key, 'start')

    def other_writer(cli, key, left):
        cli.write(key, 'theirs-%d' % left)

    with pytest.raises(KeyStateError) as info:
        ensure_key(V2Store(Interfering(client, 10, other_writer)), DesiredKey(key, value='mine'))
    assert info.value.category == 'condition failed' and key in str(info.value)
    assert raw_node(etcd_server, key)['value'].startswith('theirs')


def test_awkward_keys_and_values_round_trip(client, etcd_server, key_prefix):
    key = key_prefix + '/with space?#%&/ünï'
    value = 'a & b = 100% ? #x\nsecond line'
    assert ensure_key(V2Store(client), DesiredKey(key, value=value)).changed
    assert ensure_key(V2Store(client), DesiredKey(key, value=value)).plan.action == NONE
    assert client.read(key).node.value == value


# -- the module as Ansible runs it -------------------------------------------------------------

def conn(server):
    return {'host': [server.url], 'timeout': 5}


def test_module_result_shape_and_idempotence(etcd_server, key_prefix):
    key = key_prefix + '/m'
    first = run_module('etcd_key', dict(conn(etcd_server), key=key.lstrip('/'), value='v1'))
    assert first['changed'] is True and first['action'] == 'create' and first['key'] == key
    assert first['prev_node'] is None and first['node']['value'] == 'v1'
    assert first['node']['modified_index'] == raw_node(etcd_server, key)['modifiedIndex']
    second = run_module('etcd_key', dict(conn(etcd_server), key=key, value='v1'))
    assert second['changed'] is False and second['action'] == 'none'
    assert second['node'] == second['prev_node']


def test_module_check_and_diff(etcd_server, key_prefix):
    key = key_prefix + '/m'
    result = run_module('etcd_key', dict(conn(etcd_server), key=key, value='v1', ttl=30), check=True, diff=True)
    assert result['changed'] is True
    assert result['diff']['before'] == {'state': 'absent'}
    assert result['diff']['after'] == {'state': 'present', 'value': 'v1', 'ttl': 30}
    assert raw_node(etcd_server, key) is None


def test_module_sensitive_hides_values(etcd_server, key_prefix):
    key = key_prefix + '/secret'
    secret_old, secret_new = 'old-s3cret-value', 'new-s3cret-value'
    urllib.request.urlopen(urllib.request.Request('%s/v2/keys%s' % (etcd_server.url, key), method='PUT',
                                                  data=('value=' + secret_old).encode()), timeout=5).close()
    result = run_module('etcd_key', dict(conn(etcd_server), key=key, value=secret_new, sensitive=True), diff=True)
    assert result['changed'] is True
    text = json.dumps(result)
    assert 's3cret' not in text
    assert result['diff']['after']['value'] == '<hidden, changed>'
    assert raw_node(etcd_server, key)['value'] == secret_new


def test_module_failures_are_one_line(etcd_server, key_prefix):
    directory = key_prefix + '/dir'
    urllib.request.urlopen(urllib.request.Request('%s/v2/keys%s/x' % (etcd_server.url, directory), method='PUT',
                                                  data=b'value=1'), timeout=5).close()
    result = run_module('etcd_key', dict(conn(etcd_server), key=directory, value='v'))
    assert result['failed'] is True
    assert result['msg'].startswith('key %s on %s: is a directory: ' % (directory, etcd_server.url))
    assert '\n' not in result['msg']

    result = run_module('etcd_key', {'host': ['127.0.0.1:1'], 'timeout': 1, 'key': '/k', 'value': 'v',
                                     'username': 'u', 'password': 'pw-never-shown'})
    assert result['failed'] is True
    assert 'unreachable' in result['msg'] and 'http://127.0.0.1:1' in result['msg'] and '/k' in result['msg']
    assert 'pw-never-shown' not in json.dumps(result)

    result = run_module('etcd_key', dict(conn(etcd_server), key='/k', value='v', ttl=0))
    assert result['failed'] is True and 'ttl must be at least 1' in result['msg']

    result = run_module('etcd_key', dict(conn(etcd_server), key='/k'))
    assert result['failed'] is True and 'value' in result['msg']


def test_module_without_requests_says_what_to_install(etcd_server, key_prefix, tmp_path):
    # A real interpreter without requests is not available here, so a stand-in package named
    # "requests" that fails to import takes its place on the module's path.
    shim = tmp_path / 'requests'
    shim.mkdir()
    (shim / '__init__.py').write_text('raise ImportError("requests is hidden by the test")\n')
    args = {'ANSIBLE_MODULE_ARGS': dict(conn(etcd_server), key=key_prefix, value='v', _ansible_remote_tmp=tempfile.gettempdir())}
    args_file = tmp_path / 'args.json'
    args_file.write_text(json.dumps(args))
    env = dict(os.environ, PYTHONPATH='%s:%s' % (tmp_path, os.environ['PYETCD_COLLECTIONS_DIR']))
    proc = subprocess.run([sys.executable, '-m', 'ansible_collections.pyetcd.etcd.plugins.modules.etcd_key', str(args_file)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    result = json.loads(proc.stdout)
    assert result['failed'] is True
    assert 'Failed to import the required Python library (requests)' in result['msg']
    assert raw_node(etcd_server, key_prefix) is None


# -- renewal rule, value conversion and sensitive values ---------------------------------------

def test_refresh_ttl_renews_only_when_less_than_half_is_left(client, etcd_server, key_prefix):
    key = key_prefix + '/alive'
    registration = DesiredKey(key, value='10.0.0.1:80', ttl=120, refresh_ttl=True)
    assert ensure_key(V2Store(client), registration).plan.action == CREATE
    node = raw_node(etcd_server, key)
    # A re-run right away: more than half of the TTL is left, so ok and nothing written.
    again = ensure_key(V2Store(client), registration)
    assert (again.plan.action, again.changed) == (NONE, False)
    assert raw_node(etcd_server, key)['modifiedIndex'] == node['modifiedIndex']
    # Less than half left (the key was written with 10 s): renewed to the full TTL.
    client.write(key, '10.0.0.1:80', ttl=10)
    renewed = ensure_key(V2Store(client), registration)
    assert renewed.plan.action == REFRESH_TTL
    node = raw_node(etcd_server, key)
    assert node['value'] == '10.0.0.1:80' and 60 < node['ttl'] <= 120
    # A TTL longer than asked is brought down to it by the refresh.
    client.write(key, '10.0.0.1:80', ttl=3600)
    assert ensure_key(V2Store(client), registration).plan.action == REFRESH_TTL
    assert raw_node(etcd_server, key)['ttl'] <= 120


def test_module_refresh_ttl_rerun_reports_no_change(etcd_server, key_prefix):
    key = key_prefix + '/alive'
    args = dict(conn(etcd_server), key=key, value='up', ttl=300, refresh_ttl=True)
    assert run_module('etcd_key', args)['changed']
    index = raw_node(etcd_server, key)['modifiedIndex']
    again = run_module('etcd_key', args)
    assert again['changed'] is False and again['action'] == 'none'
    assert raw_node(etcd_server, key)['modifiedIndex'] == index


@pytest.mark.parametrize('given, stored', [(True, 'true'), (False, 'false'), (8080, '8080'), (1.5, '1.5'),
                                           ('True', 'True'), ('', '')])
def test_module_converts_values_as_etcd_dir_does(etcd_server, key_prefix, given, stored):
    key = key_prefix + '/v'
    result = run_module('etcd_key', dict(conn(etcd_server), key=key, value=given))
    assert result['changed'] and result['node']['value'] == stored
    assert raw_node(etcd_server, key)['value'] == stored
    assert run_module('etcd_key', dict(conn(etcd_server), key=key, value=given))['changed'] is False


@pytest.mark.parametrize('given, words', [(['a', 'b'], 'value is a list'), ({'a': 1}, 'value is a dict')])
def test_module_refuses_structures_naming_the_option(etcd_server, key_prefix, given, words):
    key = key_prefix + '/v'
    result = run_module('etcd_key', dict(conn(etcd_server), key=key, value=given))
    assert result['failed'] is True and words in result['msg'] and 'to_json' in result['msg']
    assert '\n' not in result['msg']
    assert raw_node(etcd_server, key) is None


def test_module_sensitive_short_value_leaves_key_names_intact(etcd_server, key_prefix):
    key = key_prefix + '/app/zq/x'
    result = run_module('etcd_key', dict(conn(etcd_server), key=key, value='zq', sensitive=True), diff=True)
    assert result['changed'] is True and result['key'] == key and result['node']['key'] == key
    assert result['diff']['after_header'] == '%s (etcd key)' % key
    assert result['node']['value'] == '<hidden>'
    # ansible-core 2.21 returns the invocation only when the controller asks for it.
    if 'invocation' in result:
        assert result['invocation']['module_args']['value'] == '<hidden>'
    assert 'zq' not in json.dumps(result).replace(key, '')
    assert raw_node(etcd_server, key)['value'] == 'zq'
    # A failure message names the key intact too (a directory below it is in the way).
    directory = key_prefix + '/app/zq'
    failed = run_module('etcd_key', dict(conn(etcd_server), key=directory, value='zq', sensitive=True))
    assert failed['failed'] is True
    assert failed['msg'].startswith('key %s on %s: is a directory' % (directory, etcd_server.url))
    assert 'zq' not in json.dumps(failed).replace(directory, '')
