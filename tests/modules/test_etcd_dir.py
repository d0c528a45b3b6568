# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_dir against a real etcd (3.5 and 3.4): the module logic and the module process.

State is verified by reading etcd's HTTP API directly, and request counts by etcd's own store
counters, never through the code under test.
"""
from __future__ import annotations

import pytest
import requests

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir import DirNotEmpty, DirWriteError, ensure_dir, execute
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_plan import DirPlanError, plan_absent, plan_present
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store_v2 import V2Store
from tests.modules.etcd_store_stats import StoreDelta
from tests.modules.module_process import run_module


def raw_tree(server, path):
    """The tree below ``path`` as {name: value or subtree}, read with plain HTTP; None if missing."""
    answer = requests.get(server.url + '/v2/keys' + requests.utils.quote(path, safe='/'),
                          params={'recursive': 'true'}, timeout=5)
    if answer.status_code == 404:
        return None
    node = answer.json()['node']

    def walk(current):
        return {child['key'].rsplit('/', 1)[-1]: walk(child) if child.get('dir') else child['value']
                for child in current.get('nodes', [])}
    return walk(node) if node.get('dir') else node['value']


def raw_node(server, path):
    return requests.get(server.url + '/v2/keys' + requests.utils.quote(path, safe='/'), timeout=5).json().get('node')


def raw_put(server, path, value):
    """Write a key with plain HTTP, behind the back of the code under test."""
    answer = requests.put(server.url + '/v2/keys' + requests.utils.quote(path, safe='/'), data={'value': value}, timeout=5)
    assert answer.status_code in (200, 201), answer.text


def raw_exists(server, path):
    """True when a node (hidden ones included: they are read by name) exists at ``path``."""
    return requests.get(server.url + '/v2/keys' + requests.utils.quote(path, safe='/'), timeout=5).status_code == 200


CONTENT = {'port': 8080, 'debug': False, 'name': 'app one', 'db': {'host': 'db1', 'opts': {}}}
STORED = {'port': '8080', 'debug': 'false', 'name': 'app one', 'db': {'host': 'db1', 'opts': {}}}


def test_creates_the_tree_then_a_rerun_is_one_read_and_no_write(client, etcd_server, key_prefix):
    outcome = ensure_dir(V2Store(client), key_prefix, content=CONTENT)
    assert outcome.changed
    assert raw_tree(etcd_server, key_prefix) == STORED
    assert outcome.plan.created == sorted([key_prefix] + [key_prefix + p for p in (
        '/port', '/debug', '/name', '/db', '/db/host', '/db/opts')])
    with StoreDelta(etcd_server.url) as delta:
        again = ensure_dir(V2Store(client), key_prefix, content=CONTENT)
    assert not again.changed and again.writes == 0
    assert (delta.reads, delta.writes) == (1, 0)


def test_updates_only_what_differs(client, etcd_server, key_prefix):
    ensure_dir(V2Store(client), key_prefix, content=CONTENT)
    with StoreDelta(etcd_server.url) as delta:
        outcome = ensure_dir(V2Store(client), key_prefix, content={'port': 9090, 'db': {'host': 'db1', 'user': 'u'}})
    assert outcome.plan.updated == [key_prefix + '/port']
    assert outcome.plan.created == [key_prefix + '/db/user']
    assert delta.writes == 2 and delta.reads == 1
    tree = raw_tree(etcd_server, key_prefix)
    assert tree['port'] == '9090' and tree['db']['user'] == 'u' and tree['name'] == 'app one'


def test_purge_removes_what_is_not_in_content(client, etcd_server, key_prefix):
    ensure_dir(V2Store(client), key_prefix, content=CONTENT)
    outcome = ensure_dir(V2Store(client), key_prefix, content={'port': '8080', 'db': {}}, purge=True)
    assert raw_tree(etcd_server, key_prefix) == {'port': '8080', 'db': {}}
    assert outcome.plan.deleted == sorted(key_prefix + p for p in ('/debug', '/name', '/db/host', '/db/opts'))
    assert not ensure_dir(V2Store(client), key_prefix, content={'port': '8080', 'db': {}}, purge=True).changed


def test_kind_conflict_fails_and_writes_nothing_without_purge(client, etcd_server, key_prefix):
    ensure_dir(V2Store(client), key_prefix, content=CONTENT)
    with StoreDelta(etcd_server.url) as delta:
        with pytest.raises(DirPlanError, match=r'%s/db \(directory, wanted key\)' % key_prefix):
            ensure_dir(V2Store(client), key_prefix, content={'db': 'flat', 'port': 1})
    assert delta.writes == 0
    assert raw_tree(etcd_server, key_prefix) == STORED
    ensure_dir(V2Store(client), key_prefix, content={'db': 'flat', 'port': {'n': 1}}, purge=True)
    assert raw_tree(etcd_server, key_prefix) == {'db': 'flat', 'port': {'n': '1'}}


def test_check_mode_plans_but_writes_nothing(client, etcd_server, key_prefix):
    with StoreDelta(etcd_server.url) as delta:
        outcome = ensure_dir(V2Store(client), key_prefix, content=CONTENT, check_mode=True)
    assert outcome.changed and outcome.writes == 0
    assert (delta.reads, delta.writes) == (0, 0)  # the path is missing: the one get fails
    assert raw_tree(etcd_server, key_prefix) is None


def test_absent(client, etcd_server, key_prefix):
    ensure_dir(V2Store(client), key_prefix, content=CONTENT)
    with pytest.raises(DirPlanError, match='is not empty'):
        ensure_dir(V2Store(client), key_prefix, state='absent')
    assert raw_tree(etcd_server, key_prefix) == STORED
    outcome = ensure_dir(V2Store(client), key_prefix, state='absent', recursive=True)
    assert key_prefix + '/db/host' in outcome.plan.deleted
    assert raw_tree(etcd_server, key_prefix) is None
    assert not ensure_dir(V2Store(client), key_prefix, state='absent', recursive=True).changed


def test_absent_without_recursive_keeps_a_directory_that_holds_only_hidden_keys(client, etcd_server, key_prefix):
    # etcd does not list "_" nodes, so the read sees an empty directory; etcd itself must refuse.
    raw_put(etcd_server, key_prefix + '/_lease', 'held')
    with pytest.raises(DirNotEmpty, match='^%s is not empty' % key_prefix):
        ensure_dir(V2Store(client), key_prefix, state='absent')
    assert raw_exists(etcd_server, key_prefix + '/_lease')
    assert raw_node(etcd_server, key_prefix + '/_lease')['value'] == 'held'


def test_absent_without_recursive_keeps_a_child_written_after_the_read(client, etcd_server, key_prefix):
    ensure_dir(V2Store(client), key_prefix)
    plan = plan_absent(key_prefix, V2Store(client).read_tree(key_prefix))
    raw_put(etcd_server, key_prefix + '/late', 'arrived')
    with pytest.raises(DirNotEmpty, match='^%s is not empty' % key_prefix):
        execute(V2Store(client), plan)
    assert raw_tree(etcd_server, key_prefix) == {'late': 'arrived'}


def test_absent_with_recursive_removes_hidden_keys_too(client, etcd_server, key_prefix):
    raw_put(etcd_server, key_prefix + '/_lease', 'held')
    raw_put(etcd_server, key_prefix + '/k', 'v')
    outcome = ensure_dir(V2Store(client), key_prefix, state='absent', recursive=True)
    # Only what the read listed is reported; the hidden key goes with the tree as documented.
    assert outcome.plan.deleted == [key_prefix, key_prefix + '/k']
    assert not raw_exists(etcd_server, key_prefix + '/_lease') and raw_tree(etcd_server, key_prefix) is None


def test_purge_keeps_hidden_keys_and_the_directories_holding_them(client, etcd_server, key_prefix):
    raw_put(etcd_server, key_prefix + '/keep', '1')
    raw_put(etcd_server, key_prefix + '/old/_lease', 'held')
    raw_put(etcd_server, key_prefix + '/old/k', 'v')
    raw_put(etcd_server, key_prefix + '/old/deep/er/k', 'v')
    raw_put(etcd_server, key_prefix + '/gone/sub/k', 'v')
    outcome = ensure_dir(V2Store(client), key_prefix, content={'keep': '1'}, purge=True)
    assert raw_node(etcd_server, key_prefix + '/old/_lease')['value'] == 'held'
    assert raw_tree(etcd_server, key_prefix) == {'keep': '1', 'old': {}}
    assert outcome.plan.deleted == sorted(key_prefix + p for p in (
        '/old/k', '/old/deep', '/old/deep/er', '/old/deep/er/k', '/gone', '/gone/sub', '/gone/sub/k'))
    assert outcome.kept == [key_prefix + '/old']
    assert outcome.plan.after == {'keep': '1', 'old': {}}
    # Nothing left that etcd would let go: a re-run deletes nothing and reports no change.
    again = ensure_dir(V2Store(client), key_prefix, content={'keep': '1'}, purge=True)
    assert not again.changed and again.writes == 0 and again.kept == [key_prefix + '/old']
    assert raw_node(etcd_server, key_prefix + '/old/_lease')['value'] == 'held'


@pytest.mark.parametrize('concurrency', [1, 4])
def test_purge_sends_the_rest_of_a_pipelined_phase_after_a_directory_is_kept(client, etcd_server, key_prefix,
                                                                             concurrency):
    for number in range(40):
        requests.put(etcd_server.url + '/v2/keys%s/d%02d' % (key_prefix, number), data={'dir': 'true'}, timeout=5)
    raw_put(etcd_server, key_prefix + '/d05/_lease', 'held')
    outcome = ensure_dir(V2Store(client), key_prefix, content={}, purge=True, concurrency=concurrency)
    assert raw_tree(etcd_server, key_prefix) == {'d05': {}}
    assert raw_node(etcd_server, key_prefix + '/d05/_lease')['value'] == 'held'
    assert outcome.kept == [key_prefix + '/d05'] and outcome.writes == 39 and outcome.changed
    assert outcome.plan.deleted == ['%s/d%02d' % (key_prefix, n) for n in range(40) if n != 5]


def test_purge_keeps_a_key_written_into_a_purged_directory_after_the_read(client, etcd_server, key_prefix):
    ensure_dir(V2Store(client), key_prefix, content={'keep': '1', 'old': {'a': '1', 'sub': {'b': '2'}}, 'other': {'c': '3'}})
    plan = plan_present(key_prefix, V2Store(client).read_tree(key_prefix), {'keep': '1'}, purge=True)
    raw_put(etcd_server, key_prefix + '/old/sub/late', 'arrived')
    results = execute(V2Store(client), plan)
    assert raw_tree(etcd_server, key_prefix) == {'keep': '1', 'old': {'sub': {'late': 'arrived'}}}
    # The directory holding the late key and its parent are kept, and not reported deleted.
    assert plan.kept == [key_prefix + '/old', key_prefix + '/old/sub']
    assert plan.deleted == sorted(key_prefix + p for p in ('/old/a', '/old/sub/b', '/other', '/other/c'))
    assert len(results) == 4


def test_purge_replacing_a_directory_that_is_not_empty_fails_naming_it(client, etcd_server, key_prefix):
    raw_put(etcd_server, key_prefix + '/sub/_lease', 'held')
    raw_put(etcd_server, key_prefix + '/sub/k', 'v')
    with pytest.raises(DirNotEmpty, match='^%s/sub is not empty' % key_prefix):
        ensure_dir(V2Store(client), key_prefix, content={'sub': 'flat'}, purge=True)
    assert raw_node(etcd_server, key_prefix + '/sub/_lease')['value'] == 'held'
    assert raw_node(etcd_server, key_prefix + '/sub')['dir']


@pytest.mark.parametrize('ttl', [0, -1])
def test_a_ttl_below_one_is_refused_before_anything_is_sent(client, etcd_server, key_prefix, ttl):
    with StoreDelta(etcd_server.url) as delta:
        with pytest.raises(DirPlanError, match='ttl must be at least 1'):
            ensure_dir(V2Store(client), key_prefix, content={'a': '1'}, ttl=ttl)
    assert (delta.reads, delta.writes) == (0, 0)
    assert raw_tree(etcd_server, key_prefix) is None


def test_awkward_names_and_values_round_trip(client, etcd_server, key_prefix):
    content = {'with space': 'a b', 'q?mark': '?', 'hash#': '#', 'per%cent': '%', 'amp&': '&', 'ünï': '键'}
    ensure_dir(V2Store(client), key_prefix, content=content)
    assert raw_tree(etcd_server, key_prefix) == content
    assert not ensure_dir(V2Store(client), key_prefix, content=content).changed


def test_new_directory_gets_the_ttl_and_a_rerun_keeps_its_countdown(client, etcd_server, key_prefix):
    ensure_dir(V2Store(client), key_prefix, content={'a': '1'}, ttl=300)
    assert 0 < raw_node(etcd_server, key_prefix)['ttl'] <= 300
    assert not ensure_dir(V2Store(client), key_prefix, content={'a': '1'}, ttl=300).changed
    # Omitted ttl leaves an existing TTL alone.
    assert not ensure_dir(V2Store(client), key_prefix, content={'a': '1'}).changed
    assert 'ttl' in raw_node(etcd_server, key_prefix)


def test_setting_a_ttl_on_an_existing_directory(client, etcd_server, key_prefix):
    ensure_dir(V2Store(client), key_prefix, content={'a': '1'})
    if etcd_server.version == '3.5':
        # etcd 3.5's v2 store refuses any update of an existing directory.
        with pytest.raises(DirWriteError, match='cannot change the TTL of an existing directory'):
            ensure_dir(V2Store(client), key_prefix, content={'a': '1'}, ttl=120)
        assert 'ttl' not in raw_node(etcd_server, key_prefix)
    else:
        assert ensure_dir(V2Store(client), key_prefix, content={'a': '1'}, ttl=120).changed
        assert 0 < raw_node(etcd_server, key_prefix)['ttl'] <= 120
        assert raw_tree(etcd_server, key_prefix) == {'a': '1'}


def test_a_key_changed_after_the_read_is_not_overwritten(client, etcd_server, key_prefix):
    ensure_dir(V2Store(client), key_prefix, content={'a': '1', 'b': '1'})
    plan = plan_present(key_prefix, V2Store(client).read_tree(key_prefix), {'a': '2'})
    client.write(key_prefix + '/a', 'someone else')
    with pytest.raises(DirWriteError) as err:
        execute(V2Store(client), plan)
    assert err.value.operation.key == key_prefix + '/a'
    assert 'no write was applied' in str(err.value)
    assert raw_tree(etcd_server, key_prefix)['a'] == 'someone else'


def test_a_key_created_after_the_read_is_not_overwritten(client, etcd_server, key_prefix):
    plan = plan_present(key_prefix, V2Store(client).read_tree(key_prefix), {'a': 'mine'})
    client.write(key_prefix + '/a', 'theirs')
    with pytest.raises(DirWriteError, match='/a'):
        execute(V2Store(client), plan)
    assert raw_tree(etcd_server, key_prefix) == {'a': 'theirs'}


def test_a_failure_part_way_reports_how_many_writes_were_applied(client, etcd_server, key_prefix):
    content = {'k%02d' % i: str(i) for i in range(20)}
    plan = plan_present(key_prefix, None, content)
    client.write(key_prefix + '/k19', 'theirs')
    with pytest.raises(DirWriteError) as err:
        execute(V2Store(client), plan, concurrency=1)
    assert (err.value.done, err.value.total) == (19, 20)
    assert 'after 19 of 20 writes were applied' in str(err.value)
    ensure_dir(V2Store(client), key_prefix, content=content, purge=True)
    assert raw_tree(etcd_server, key_prefix) == content


def test_a_failure_among_pipelined_writes_counts_exactly_what_was_applied(client, etcd_server, key_prefix):
    content = {'k%03d' % i: str(i) for i in range(200)}
    plan = plan_present(key_prefix, None, content)
    client.write(key_prefix + '/k100', 'theirs')
    with pytest.raises(DirWriteError) as err:
        execute(V2Store(client), plan, concurrency=4)
    stored = raw_tree(etcd_server, key_prefix)
    assert err.value.operation.key == key_prefix + '/k100' and stored['k100'] == 'theirs'
    # The writes already in flight were answered; nothing more was started after the failure.
    assert err.value.done == len(stored) - 1 < 200
    assert 'after %d of 200 writes were applied' % err.value.done in str(err.value)
    ensure_dir(V2Store(client), key_prefix, content=content, purge=True)
    assert raw_tree(etcd_server, key_prefix) == content


def test_a_thousand_keys_in_one_run(client, etcd_server, key_prefix):
    content = {'d%d' % d: {'k%03d' % k: 'value %d/%d' % (d, k) for k in range(100)} for d in range(10)}
    outcome = ensure_dir(V2Store(client), key_prefix, content=content)
    assert outcome.writes == 1000
    assert raw_tree(etcd_server, key_prefix) == content
    with StoreDelta(etcd_server.url) as delta:
        assert not ensure_dir(V2Store(client), key_prefix, content=content, purge=True).changed
    assert (delta.reads, delta.writes) == (1, 0)


def test_root_directory_content(client, etcd_server, key_prefix):
    name = key_prefix.strip('/')
    outcome = ensure_dir(V2Store(client), '/', content={name: {'x': '1'}})
    assert outcome.plan.created == [key_prefix, key_prefix + '/x']
    assert raw_tree(etcd_server, key_prefix) == {'x': '1'}


# ------------------------------------------------------------------ the module process

def test_module_check_diff_and_rerun(etcd_server, key_prefix):
    args = {'host': [etcd_server.url], 'path': key_prefix, 'content': CONTENT}
    checked = run_module('etcd_dir', args, check=True, diff=True)
    assert checked['changed'] and checked['writes'] == 0 and checked['planned_writes'] == 5
    assert checked['diff']['before'] == {} and checked['diff']['after'] == STORED
    assert checked['diff']['before_header'] == '%s (absent)' % key_prefix
    assert raw_tree(etcd_server, key_prefix) is None
    done = run_module('etcd_dir', args)
    assert done['changed'] and done['writes'] == 5 and 'diff' not in done
    assert raw_tree(etcd_server, key_prefix) == STORED
    again = run_module('etcd_dir', args, diff=True)
    assert not again['changed'] and again['diff']['before'] == again['diff']['after'] == STORED


def test_module_sensitive_hides_values_everywhere(etcd_server, key_prefix):
    args = {'host': [etcd_server.url], 'path': key_prefix, 'content': {'pw': 's3cr3t-value', 'n': {'t': 'tok3n'}},
            'sensitive': True}
    result = run_module('etcd_dir', args, diff=True)
    assert result['changed']
    text = repr(result)
    assert 's3cr3t' not in text and 'tok3n' not in text
    assert result['diff']['after'] == {'pw': '<hidden>', 'n': {'t': '<hidden>'}}
    # ansible-core 2.21 returns the invocation only when the controller asks for it.
    if 'invocation' in result:
        assert result['invocation']['module_args']['content'] == {'pw': '<hidden>', 'n': {'t': '<hidden>'}}
    assert raw_tree(etcd_server, key_prefix) == {'pw': 's3cr3t-value', 'n': {'t': 'tok3n'}}


@pytest.mark.parametrize('args, message', [
    ({'content': {'a': None}}, "content key {p}/a is null"),
    ({'content': {'a': [1, 2]}}, 'content key {p}/a is a list'),
    ({'content': {'_h': 'x'}}, 'starts with "_"'),
    ({'state': 'absent', 'content': {}}, '{p}: content only apply to state=present'),
    ({'recursive': True}, '{p}: recursive only applies to state=absent'),
    ({'purge': True}, 'purge is True but all of the following are missing: content'),
    ({'ttl': 0}, 'ttl must be at least 1 second, got 0 (directory {p})'),
    ({'ttl': -1}, 'ttl must be at least 1 second, got -1 (directory {p})'),
    ({'concurrency': 0}, 'concurrency must be at least 1, got 0'),
])
def test_module_refuses_bad_options_before_connecting(key_prefix, args, message):
    # Port 1 on loopback refuses connections: these must fail before any connection attempt.
    result = run_module('etcd_dir', dict({'host': ['127.0.0.1:1'], 'path': key_prefix}, **args))
    assert result['failed']
    assert message.format(p=key_prefix) in result['msg']


def test_module_unreachable_endpoint(key_prefix):
    result = run_module('etcd_dir', {'host': ['127.0.0.1:1'], 'path': key_prefix, 'timeout': 2})
    assert result['failed']
    assert result['msg'].startswith('unreachable')
    assert 'http://127.0.0.1:1' in result['msg'] and key_prefix in result['msg']
    assert '\n' not in result['msg']


def test_module_conflict_message(etcd_server, key_prefix):
    requests.put(etcd_server.url + '/v2/keys' + key_prefix + '/a', data={'value': 'x'}, timeout=5)
    result = run_module('etcd_dir', {'host': [etcd_server.url], 'path': key_prefix, 'content': {'a': {'b': '1'}}})
    assert result['failed']
    # One style for every failure: where, the cause in a few words, then the planner's message.
    assert result['msg'] == ('on {u}: conflict: content of {p} conflicts with what is there: {p}/a (key, wanted '
                             'directory); set purge: true to replace them').format(p=key_prefix, u=etcd_server.url)


def test_module_absent_refuses_a_directory_etcd_finds_not_empty(etcd_server, key_prefix):
    raw_put(etcd_server, key_prefix + '/_lease', 'held')
    result = run_module('etcd_dir', {'host': [etcd_server.url], 'path': key_prefix, 'state': 'absent'})
    assert result['failed'] and not result.get('changed')
    assert result['msg'].startswith('on %s: directory not empty: %s is not empty' % (etcd_server.url, key_prefix))
    assert '\n' not in result['msg']
    assert raw_node(etcd_server, key_prefix + '/_lease')['value'] == 'held'


def test_module_purge_reports_the_directories_it_kept(etcd_server, key_prefix):
    raw_put(etcd_server, key_prefix + '/old/_lease', 'held')
    raw_put(etcd_server, key_prefix + '/old/k', 'v')
    args = {'host': [etcd_server.url], 'path': key_prefix, 'content': {}, 'purge': True}
    result = run_module('etcd_dir', args, diff=True)
    assert result['changed'] and result['writes'] == 1
    assert result['deleted'] == [key_prefix + '/old/k'] and result['kept'] == [key_prefix + '/old']
    assert result['diff']['after'] == {'old': {}}
    # ansible-core 2.19 returns warnings as structured events: look for the text anywhere in them.
    assert 'purge kept 1 directory' in str(result['warnings']) and key_prefix + '/old' in str(result['warnings'])
    assert raw_node(etcd_server, key_prefix + '/old/_lease')['value'] == 'held'
    assert raw_tree(etcd_server, key_prefix) == {'old': {}}
