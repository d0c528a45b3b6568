# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_cas against a real etcd (3.5 and 3.4): the module logic and the module process.

State is verified by reading etcd's HTTP API directly and request counts by etcd's own store
counters.
"""
from __future__ import annotations

import json

import pytest
import requests

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.cas import CasRequest, ensure_cas, send
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.cas_plan import REFRESH, SWAP, CasDecision, CasPlanError
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import ConditionFailed
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store_v2 import V2Store
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdTestFailed
from tests.modules.etcd_store_stats import StoreDelta
from tests.modules.module_process import run_module


def raw_node(server, key):
    answer = requests.get(server.url + '/v2/keys' + requests.utils.quote(key, safe='/'), timeout=5)
    return None if answer.status_code == 404 else answer.json()['node']


def raw_put(server, key, value):
    return requests.put(server.url + '/v2/keys' + key, data={'value': value}, timeout=5).json()['node']


def test_swap_on_prev_value_then_rerun_is_a_mismatch_unless_asked_for(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'old')
    request = CasRequest(key, value='new', prev_value='old')
    outcome = ensure_cas(V2Store(client), request)
    assert outcome.swapped and outcome.before.value == 'old' and outcome.after.value == 'new'
    assert raw_node(etcd_server, key)['value'] == 'new'
    index = raw_node(etcd_server, key)['modifiedIndex']
    # The same task again: the key no longer holds 'old', and the task cannot tell its own
    # earlier swap from another writer's, so it is a mismatch, even though the value matches.
    with StoreDelta(etcd_server.url) as delta:
        again = ensure_cas(V2Store(client), request)
    assert again.mismatch and not again.swapped
    assert (delta.reads, delta.writes) == (1, 0)
    # Accepting the value already there is explicit: prev_value equal to value.
    with StoreDelta(etcd_server.url) as delta:
        accepted = ensure_cas(V2Store(client), CasRequest(key, value='new', prev_value='new'))
    assert not accepted.swapped and not accepted.mismatch
    assert (delta.reads, delta.writes) == (1, 0)
    assert raw_node(etcd_server, key)['modifiedIndex'] == index


def test_every_condition_goes_to_the_server_in_one_request(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    node = raw_put(etcd_server, key, 'old')
    # Bypass the local decision: the right value with a wrong index must be refused by etcd,
    # which only happens if prevIndex travelled with prevValue.
    request = CasRequest(key, value='new', prev_value='old', prev_index=node['modifiedIndex'] + 100)
    with StoreDelta(etcd_server.url) as delta:
        with pytest.raises(ConditionFailed) as refused:
            send(V2Store(client), request, CasDecision(SWAP))
    assert isinstance(refused.value.cause, EtcdTestFailed)
    assert delta.by_kind.get('compareAndSwapFail') == 1 and delta.writes == 1
    assert raw_node(etcd_server, key)['value'] == 'old'
    send(V2Store(client), CasRequest(key, value='new', prev_value='old', prev_index=node['modifiedIndex'],
                                     prev_exist=True), CasDecision(SWAP))
    assert raw_node(etcd_server, key)['value'] == 'new'


def test_prev_index_swap(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    node = raw_put(etcd_server, key, 'a')
    outcome = ensure_cas(V2Store(client), CasRequest(key, value='b', prev_index=node['modifiedIndex']))
    assert outcome.swapped and raw_node(etcd_server, key)['value'] == 'b'


def test_create_only_with_prev_exist_false(client, etcd_server, key_prefix):
    key = key_prefix + '/lock'
    outcome = ensure_cas(V2Store(client), CasRequest(key, value='me', prev_exist=False, ttl=60))
    assert outcome.swapped and outcome.before is None
    assert raw_node(etcd_server, key)['value'] == 'me' and 0 < raw_node(etcd_server, key)['ttl'] <= 60
    # Held under the same value already: still taken, so not ours to enter.
    same = ensure_cas(V2Store(client), CasRequest(key, value='me', prev_exist=False, ttl=60))
    assert same.mismatch and not same.swapped
    # Held by someone else: a mismatch naming the current index, nothing written.
    taken = ensure_cas(V2Store(client), CasRequest(key, value='you', prev_exist=False))
    assert taken.mismatch and not taken.swapped
    assert 'prev_exist=false not met' in taken.message
    assert 'modifiedIndex %d' % raw_node(etcd_server, key)['modifiedIndex'] in taken.message
    assert raw_node(etcd_server, key)['value'] == 'me'


def test_mismatch_writes_nothing(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'current')
    with StoreDelta(etcd_server.url) as delta:
        outcome = ensure_cas(V2Store(client), CasRequest(key, value='new', prev_value='expected'))
    assert outcome.mismatch and delta.writes == 0
    assert "prev_value='expected' not met" in outcome.message and "value 'current'" in outcome.message
    assert etcd_server.url in outcome.message


def test_compare_and_delete(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'mine')
    refused = ensure_cas(V2Store(client), CasRequest(key, state='absent', prev_value='theirs'))
    assert refused.mismatch and raw_node(etcd_server, key) is not None
    done = ensure_cas(V2Store(client), CasRequest(key, state='absent', prev_value='mine'))
    assert done.swapped and done.after is None and raw_node(etcd_server, key) is None
    with StoreDelta(etcd_server.url) as delta:
        assert not ensure_cas(V2Store(client), CasRequest(key, state='absent', prev_value='mine')).swapped
    assert delta.writes == 0


def test_check_mode_writes_nothing(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'old')
    with StoreDelta(etcd_server.url) as delta:
        outcome = ensure_cas(V2Store(client), CasRequest(key, value='new', prev_value='old'), check_mode=True)
    assert outcome.swapped and outcome.after['value'] == 'new'
    assert delta.writes == 0 and raw_node(etcd_server, key)['value'] == 'old'


def test_a_directory_is_refused(client, etcd_server, key_prefix):
    requests.put(etcd_server.url + '/v2/keys' + key_prefix + '/d', data={'dir': 'true'}, timeout=5)
    with pytest.raises(CasPlanError, match='is a directory'):
        ensure_cas(V2Store(client), CasRequest(key_prefix + '/d', value='v', prev_exist=True))


class RacingClient:
    """The client under test, with another writer changing the key right after the first read."""

    def __init__(self, client, key, value):
        self._client = client
        self._pending = (key, value)

    def read(self, *args, **kwargs):
        result = self._client.read(*args, **kwargs)
        if self._pending:
            key, value = self._pending
            self._pending = None
            self._client.write(key, value)
        return result

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_race_to_the_desired_value_is_a_mismatch(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'old')
    outcome = ensure_cas(V2Store(RacingClient(client, key, 'new')), CasRequest(key, value='new', prev_value='old'))
    # Another writer put 'new' in between: prev_value='old' no longer holds.
    assert not outcome.swapped and outcome.mismatch and "value 'new'" in outcome.message
    assert raw_node(etcd_server, key)['value'] == 'new'


def test_race_to_another_value_is_a_mismatch_from_a_fresh_read(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'old')
    outcome = ensure_cas(V2Store(RacingClient(client, key, 'other')), CasRequest(key, value='new', prev_value='old'))
    assert outcome.mismatch and "value 'other'" in outcome.message
    assert raw_node(etcd_server, key)['value'] == 'other'


# ------------------------------------------------------------------ the module process

def test_module_mismatch_fails_with_the_condition_and_index(etcd_server, key_prefix):
    key = key_prefix + '/k'
    node = raw_put(etcd_server, key, 'current')
    args = {'host': [etcd_server.url], 'key': key, 'value': 'new', 'prev_value': 'expected', 'prev_index': 3}
    result = run_module('etcd_cas', args)
    assert result['failed'] and not result['changed'] and result['swapped'] is False
    assert result['msg'] == ("compare-and-swap of {k} at {u} not done: condition prev_value='expected', prev_index=3 "
                             "not met (prev_value, prev_index failed): the key is at modifiedIndex {i} with value "
                             "'current'").format(k=key, u=etcd_server.url, i=node['modifiedIndex'])
    reported = run_module('etcd_cas', dict(args, fail_on_mismatch=False))
    assert 'failed' not in reported and reported['swapped'] is False and not reported['changed']
    assert reported['mismatch'] == result['msg']


def test_module_sensitive_hides_values(etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'actual-secret')
    args = {'host': [etcd_server.url], 'key': key, 'value': 'new-secret', 'prev_value': 'guessed-secret',
            'sensitive': True}
    result = run_module('etcd_cas', args, diff=True)
    assert result['failed']
    text = repr(result)
    assert 'actual-secret' not in text and 'guessed-secret' not in text and 'new-secret' not in text
    assert 'prev_value=<hidden>' in result['msg'] and 'modifiedIndex' in result['msg']


def test_module_check_mode_and_diff(etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'a')
    args = {'host': [etcd_server.url], 'key': key, 'value': 'b', 'prev_value': 'a'}
    checked = run_module('etcd_cas', args, check=True, diff=True)
    assert checked['changed'] and checked['swapped']
    assert checked['diff']['before'] == {'state': 'present', 'value': 'a', 'ttl': None}
    assert checked['diff']['after'] == {'state': 'present', 'value': 'b', 'ttl': None}
    assert raw_node(etcd_server, key)['value'] == 'a'
    assert run_module('etcd_cas', args)['changed']
    again = run_module('etcd_cas', args)
    assert again['failed'] and not again['changed'] and again['swapped'] is False
    accepted = run_module('etcd_cas', dict(args, prev_value='b'), diff=True)
    assert 'failed' not in accepted and not accepted['changed'] and 'mismatch' not in accepted
    assert accepted['diff']['before'] == accepted['diff']['after'] == {'state': 'present', 'value': 'b', 'ttl': None}


@pytest.mark.parametrize('args, message', [
    ({'value': 'v', 'prev_exist': False, 'prev_value': 'a'}, 'prev_exist=false cannot be combined'),
    ({'value': 'v', 'prev_index': 0}, 'prev_index must be >= 1'),
    ({'value': 'v', 'prev_value': ''}, 'prev_value must not be empty'),
    ({'state': 'absent', 'value': 'v'}, 'value applies to state=present'),
    ({'prev_value': 'a'}, 'state=present needs value'),
    ({'value': ['a']}, 'value is a list'),
    ({'value': {'a': 1}}, 'value is a dict'),
    ({'value': 'v', 'prev_value': ['a']}, 'prev_value is a list'),
    ({'prev_value': 'a', 'refresh_ttl': True}, 'refresh_ttl needs ttl'),
    ({'value': 'v', 'prev_value': 'v', 'ttl': 5, 'refresh_ttl': True}, 'value cannot be combined with refresh_ttl'),
])
def test_module_refuses_contradictions_before_connecting(key_prefix, args, message):
    result = run_module('etcd_cas', dict({'host': ['127.0.0.1:1'], 'key': key_prefix + '/k'}, **args))
    assert result['failed'] and message in result['msg']


def test_module_unreachable_endpoint(key_prefix):
    result = run_module('etcd_cas', {'host': ['127.0.0.1:1'], 'key': key_prefix + '/k', 'value': 'v',
                                     'prev_exist': False, 'timeout': 2})
    assert result['failed'] and result['msg'].startswith('unreachable')
    assert 'http://127.0.0.1:1' in result['msg'] and key_prefix + '/k' in result['msg']


# ------------------------------------------------------------------ locks (conditions first)

def lock_args(server, key, **extra):
    return dict({'host': [server.url], 'key': key, 'prev_exist': False, 'ttl': 600}, **extra)


def test_module_second_run_with_the_same_hostname_does_not_get_the_lock(etcd_server, key_prefix):
    # The lock as documented before: value is the inventory hostname. Two runs for web1.
    key = key_prefix + '/lock'
    first = run_module('etcd_cas', lock_args(etcd_server, key, value='web1'))
    assert first['changed'] and first['swapped']
    held = raw_node(etcd_server, key)
    second = run_module('etcd_cas', lock_args(etcd_server, key, value='web1'))
    assert second['failed'] and second['swapped'] is False and not second['changed']
    assert 'prev_exist=false not met' in second['msg']
    waiting = run_module('etcd_cas', lock_args(etcd_server, key, value='web1', fail_on_mismatch=False))
    assert 'failed' not in waiting and waiting['swapped'] is False and 'mismatch' in waiting
    assert raw_node(etcd_server, key)['modifiedIndex'] == held['modifiedIndex']


def test_module_lock_with_run_tokens_keeps_the_second_run_out_and_its_release_harmless(etcd_server, key_prefix):
    key = key_prefix + '/lock'
    assert run_module('etcd_cas', lock_args(etcd_server, key, value='web1-run-a'))['swapped']
    held = raw_node(etcd_server, key)
    other = run_module('etcd_cas', lock_args(etcd_server, key, value='web1-run-b', fail_on_mismatch=False))
    assert other['swapped'] is False
    release = {'host': [etcd_server.url], 'key': key, 'state': 'absent'}
    refused = run_module('etcd_cas', dict(release, prev_value='web1-run-b'))
    assert refused['failed'] and 'compare-and-delete' in refused['msg']
    node = raw_node(etcd_server, key)
    assert node['value'] == 'web1-run-a' and node['modifiedIndex'] == held['modifiedIndex']
    assert run_module('etcd_cas', dict(release, prev_value='web1-run-a'))['changed']
    assert raw_node(etcd_server, key) is None
    # Releasing again: the key is gone, so "it holds web1-run-a" does not hold either.
    gone = run_module('etcd_cas', dict(release, prev_value='web1-run-a', fail_on_mismatch=False))
    assert gone['swapped'] is False and 'the key does not exist' in gone['mismatch']


# ------------------------------------------------------------------ conditional TTL refresh

def test_module_refresh_renews_only_for_the_holder_in_one_request(etcd_server, key_prefix):
    key = key_prefix + '/lock'
    requests.put(etcd_server.url + '/v2/keys' + key, data={'value': 'token-a', 'ttl': 10}, timeout=5)
    held = raw_node(etcd_server, key)
    renew = {'host': [etcd_server.url], 'key': key, 'ttl': 600, 'refresh_ttl': True}
    # Someone else's token: refused, nothing written.
    with StoreDelta(etcd_server.url) as delta:
        stolen = run_module('etcd_cas', dict(renew, prev_value='token-b'))
    assert stolen['failed'] and 'conditional TTL refresh of %s' % key in stolen['msg']
    assert delta.writes == 0
    node = raw_node(etcd_server, key)
    assert node['modifiedIndex'] == held['modifiedIndex'] and node['ttl'] <= 10
    # Check mode: reported, not written.
    checked = run_module('etcd_cas', dict(renew, prev_value='token-a'), check=True, diff=True)
    assert checked['changed'] and checked['node']['value'] == 'token-a' and checked['node']['ttl'] == 600
    assert raw_node(etcd_server, key)['modifiedIndex'] == held['modifiedIndex']
    # The holder: 10 s left of 600 is less than half, so the TTL is renewed with one write.
    with StoreDelta(etcd_server.url) as delta:
        renewed = run_module('etcd_cas', dict(renew, prev_value='token-a'), diff=True)
    assert renewed['changed'] and renewed['swapped'] and delta.writes == 1
    assert renewed['diff']['after']['value'] == 'token-a'
    node = raw_node(etcd_server, key)
    assert node['value'] == 'token-a' and 300 < node['ttl'] <= 600
    # At least half of the TTL left: ok, no write.
    with StoreDelta(etcd_server.url) as delta:
        again = run_module('etcd_cas', dict(renew, prev_value='token-a'))
    assert not again['changed'] and again['swapped'] is False and 'failed' not in again
    assert delta.writes == 0
    assert raw_node(etcd_server, key)['modifiedIndex'] == node['modifiedIndex']


def test_refresh_sends_the_conditions_to_the_server(client, etcd_server, key_prefix):
    key = key_prefix + '/lock'
    requests.put(etcd_server.url + '/v2/keys' + key, data={'value': 'token-a', 'ttl': 10}, timeout=5)
    request = CasRequest(key, prev_value='token-b', ttl=600, refresh_ttl=True)
    # Bypass the local decision: etcd itself must refuse a refresh for the wrong holder.
    with pytest.raises(ConditionFailed) as refused:
        send(V2Store(client), request, CasDecision(REFRESH))
    assert isinstance(refused.value.cause, EtcdTestFailed)
    assert raw_node(etcd_server, key)['ttl'] <= 10


# ------------------------------------------------------------------ values and sensitive

def test_module_stores_booleans_and_numbers_as_etcd_dir_does(etcd_server, key_prefix):
    key = key_prefix + '/flag'
    assert run_module('etcd_cas', {'host': [etcd_server.url], 'key': key, 'value': True, 'prev_exist': False})['changed']
    assert raw_node(etcd_server, key)['value'] == 'true'
    swapped = run_module('etcd_cas', {'host': [etcd_server.url], 'key': key, 'value': 8080, 'prev_value': True})
    assert swapped['changed'] and raw_node(etcd_server, key)['value'] == '8080'


def test_module_refuses_structures_before_sending(etcd_server, key_prefix):
    key = key_prefix + '/k'
    with StoreDelta(etcd_server.url) as delta:
        result = run_module('etcd_cas', {'host': [etcd_server.url], 'key': key, 'value': {'a': 1}, 'prev_exist': False})
    assert result['failed'] and 'value is a dict' in result['msg'] and 'to_json' in result['msg']
    assert '\n' not in result['msg']
    assert delta.reads == 0 and delta.writes == 0 and raw_node(etcd_server, key) is None


def test_module_sensitive_short_value_leaves_key_names_intact(etcd_server, key_prefix):
    key = key_prefix + '/app/zq/x'
    raw_put(etcd_server, key, 'zq')
    args = {'host': [etcd_server.url], 'key': key, 'value': 'zq', 'prev_value': 'qz', 'sensitive': True}
    result = run_module('etcd_cas', args, diff=True)
    assert result['failed'] and result['key'] == key
    assert result['msg'].startswith('compare-and-swap of %s at ' % key)
    assert result['diff']['before_header'] == '%s (etcd key)' % key
    assert result['prev_node']['key'] == key and result['prev_node']['value'] == '<hidden>'
    # ansible-core 2.21 returns the invocation only when the controller asks for it.
    if 'invocation' in result:
        assert result['invocation']['module_args']['value'] == '<hidden>'
        assert result['invocation']['module_args']['prev_value'] == '<hidden>'
    # The values appear nowhere but inside the key name.
    text = json.dumps(result).replace(key, '')
    assert 'zq' not in text and 'qz' not in text
    swapped = run_module('etcd_cas', dict(args, value='qz', prev_value='zq'), diff=True)
    assert swapped['changed'] and swapped['key'] == key and swapped['node']['key'] == key
    text = json.dumps(swapped).replace(key, '')
    assert 'zq' not in text and 'qz' not in text
    assert raw_node(etcd_server, key)['value'] == 'qz'
