"""etcd_cas against a real etcd (3.5 and 3.4): the module logic and the module process.

State is verified by reading etcd's HTTP API directly and request counts by etcd's own store
counters.
"""
from __future__ import annotations

import pytest
import requests

from ansible_collections.pyetcd.etcd.plugins.module_utils.cas_plan import SWAP, CasDecision, CasPlanError
from ansible_collections.pyetcd.etcd.plugins.module_utils.cas_state import CasRequest, ensure_cas, send
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdTestFailed
from tests.modules.etcd_store_stats import StoreDelta
from tests.modules.module_process import run_module


def raw_node(server, key):
    answer = requests.get(server.url + '/v2/keys' + requests.utils.quote(key, safe='/'), timeout=5)
    return None if answer.status_code == 404 else answer.json()['node']


def raw_put(server, key, value):
    return requests.put(server.url + '/v2/keys' + key, data={'value': value}, timeout=5).json()['node']


def test_swap_on_prev_value_then_rerun_is_ok_without_write(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'old')
    request = CasRequest(key, value='new', prev_value='old')
    outcome = ensure_cas(client, request)
    assert outcome.swapped and outcome.before.value == 'old' and outcome.after.value == 'new'
    assert raw_node(etcd_server, key)['value'] == 'new'
    with StoreDelta(etcd_server.url) as delta:
        again = ensure_cas(client, request)
    assert not again.swapped and not again.mismatch
    assert (delta.reads, delta.writes) == (1, 0)


def test_every_condition_goes_to_the_server_in_one_request(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    node = raw_put(etcd_server, key, 'old')
    # Bypass the local decision: the right value with a wrong index must be refused by etcd,
    # which only happens if prevIndex travelled with prevValue.
    request = CasRequest(key, value='new', prev_value='old', prev_index=node['modifiedIndex'] + 100)
    with StoreDelta(etcd_server.url) as delta:
        with pytest.raises(EtcdTestFailed):
            send(client, request, CasDecision(SWAP))
    assert delta.by_kind.get('compareAndSwapFail') == 1 and delta.writes == 1
    assert raw_node(etcd_server, key)['value'] == 'old'
    send(client, CasRequest(key, value='new', prev_value='old', prev_index=node['modifiedIndex'],
                            prev_exist=True), CasDecision(SWAP))
    assert raw_node(etcd_server, key)['value'] == 'new'


def test_prev_index_swap(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    node = raw_put(etcd_server, key, 'a')
    outcome = ensure_cas(client, CasRequest(key, value='b', prev_index=node['modifiedIndex']))
    assert outcome.swapped and raw_node(etcd_server, key)['value'] == 'b'


def test_create_only_with_prev_exist_false(client, etcd_server, key_prefix):
    key = key_prefix + '/lock'
    outcome = ensure_cas(client, CasRequest(key, value='me', prev_exist=False, ttl=60))
    assert outcome.swapped and outcome.before is None
    assert raw_node(etcd_server, key)['value'] == 'me' and 0 < raw_node(etcd_server, key)['ttl'] <= 60
    # Held by us already: ok without a write.
    assert not ensure_cas(client, CasRequest(key, value='me', prev_exist=False, ttl=60)).swapped
    # Held by someone else: a mismatch naming the current index, nothing written.
    taken = ensure_cas(client, CasRequest(key, value='you', prev_exist=False))
    assert taken.mismatch and not taken.swapped
    assert 'prev_exist=false not met' in taken.message
    assert 'modifiedIndex %d' % raw_node(etcd_server, key)['modifiedIndex'] in taken.message
    assert raw_node(etcd_server, key)['value'] == 'me'


def test_mismatch_writes_nothing(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'current')
    with StoreDelta(etcd_server.url) as delta:
        outcome = ensure_cas(client, CasRequest(key, value='new', prev_value='expected'))
    assert outcome.mismatch and delta.writes == 0
    assert "prev_value='expected' not met" in outcome.message and "value 'current'" in outcome.message
    assert etcd_server.url in outcome.message


def test_compare_and_delete(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'mine')
    refused = ensure_cas(client, CasRequest(key, state='absent', prev_value='theirs'))
    assert refused.mismatch and raw_node(etcd_server, key) is not None
    done = ensure_cas(client, CasRequest(key, state='absent', prev_value='mine'))
    assert done.swapped and done.after is None and raw_node(etcd_server, key) is None
    with StoreDelta(etcd_server.url) as delta:
        assert not ensure_cas(client, CasRequest(key, state='absent', prev_value='mine')).swapped
    assert delta.writes == 0


def test_check_mode_writes_nothing(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'old')
    with StoreDelta(etcd_server.url) as delta:
        outcome = ensure_cas(client, CasRequest(key, value='new', prev_value='old'), check_mode=True)
    assert outcome.swapped and outcome.after['value'] == 'new'
    assert delta.writes == 0 and raw_node(etcd_server, key)['value'] == 'old'


def test_a_directory_is_refused(client, etcd_server, key_prefix):
    requests.put(etcd_server.url + '/v2/keys' + key_prefix + '/d', data={'dir': 'true'}, timeout=5)
    with pytest.raises(CasPlanError, match='is a directory'):
        ensure_cas(client, CasRequest(key_prefix + '/d', value='v', prev_exist=True))


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


def test_race_to_the_desired_value_is_ok(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'old')
    outcome = ensure_cas(RacingClient(client, key, 'new'), CasRequest(key, value='new', prev_value='old'))
    assert not outcome.swapped and not outcome.mismatch
    assert raw_node(etcd_server, key)['value'] == 'new'


def test_race_to_another_value_is_a_mismatch_from_a_fresh_read(client, etcd_server, key_prefix):
    key = key_prefix + '/k'
    raw_put(etcd_server, key, 'old')
    outcome = ensure_cas(RacingClient(client, key, 'other'), CasRequest(key, value='new', prev_value='old'))
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
    assert not again['changed'] and again['swapped'] is False and 'mismatch' not in again


@pytest.mark.parametrize('args, message', [
    ({'value': 'v', 'prev_exist': False, 'prev_value': 'a'}, 'prev_exist=false cannot be combined'),
    ({'value': 'v', 'prev_index': 0}, 'prev_index must be >= 1'),
    ({'value': 'v', 'prev_value': ''}, 'prev_value must not be empty'),
    ({'state': 'absent', 'value': 'v'}, 'value applies to state=present'),
    ({'prev_value': 'a'}, 'state is present but all of the following are missing: value'),
])
def test_module_refuses_contradictions_before_connecting(key_prefix, args, message):
    result = run_module('etcd_cas', dict({'host': ['127.0.0.1:1'], 'key': key_prefix + '/k'}, **args))
    assert result['failed'] and message in result['msg']


def test_module_unreachable_endpoint(key_prefix):
    result = run_module('etcd_cas', {'host': ['127.0.0.1:1'], 'key': key_prefix + '/k', 'value': 'v',
                                     'prev_exist': False, 'timeout': 2})
    assert result['failed'] and result['msg'].startswith('unreachable')
    assert 'http://127.0.0.1:1' in result['msg'] and key_prefix + '/k' in result['msg']
