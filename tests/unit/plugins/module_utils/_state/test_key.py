# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Decision logic of etcd_key (plan_key, predict_node, key_diff, outcome_nodes): no server needed."""
from __future__ import annotations

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import HIDDEN
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.key import (
    HIDDEN_CHANGED, KeyOutcome, key_diff, outcome_nodes, predict_node,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.key_plan import (
    CREATE, DELETE, NONE, REFRESH_TTL, REMOVE_TTL, SET_TTL, UPDATE, DesiredKey, KeyPlan, KeyStateError, plan_key,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.result import ResponseNode


def key(value='v', ttl=None, index=7):
    return ResponseNode(key='/k', value=value, created_index=3, modified_index=index, ttl=ttl)


def want(**kwargs):
    kwargs.setdefault('key', '/k')
    return DesiredKey(**kwargs)


# (current node, desired, expected action): the whole decision table of state=present/absent.
TABLE = [
    (None, want(value='v'), CREATE),
    (None, want(value='v', ttl=10), CREATE),
    (key('old'), want(value='v'), UPDATE),
    (key('old', ttl=5), want(value='v', ttl=10), UPDATE),
    (key('v'), want(value='v'), NONE),
    (key('v', ttl=5), want(value='v'), REMOVE_TTL),
    (key('v'), want(value='v', ttl=10), SET_TTL),
    # A TTL that counted down below the wanted one is satisfied: re-runs stay ok.
    (key('v', ttl=4), want(value='v', ttl=10), NONE),
    (key('v', ttl=10), want(value='v', ttl=10), NONE),
    # A key that would live longer than the wanted TTL gets the shorter one.
    (key('v', ttl=3600), want(value='v', ttl=10), SET_TTL),
    # refresh_ttl renews when less than half of ttl is left, or more than ttl; else ok.
    (key('v', ttl=4), want(value='v', ttl=10, refresh_ttl=True), REFRESH_TTL),
    (key('v', ttl=5), want(value='v', ttl=10, refresh_ttl=True), NONE),
    (key('v', ttl=10), want(value='v', ttl=10, refresh_ttl=True), NONE),
    (key('v', ttl=11), want(value='v', ttl=10, refresh_ttl=True), REFRESH_TTL),
    (key('old', ttl=10), want(value='v', ttl=10, refresh_ttl=True), UPDATE),
    (key('v'), want(value='v', ttl=10, refresh_ttl=True), SET_TTL),
    # The empty string is a value like any other, distinct from "absent".
    (key(''), want(value=''), NONE),
    (None, want(value=''), CREATE),
    (key('v'), want(state='absent'), DELETE),
    (key('v', ttl=3), want(state='absent'), DELETE),
    (None, want(state='absent'), NONE),
]


@pytest.mark.parametrize('current,desired,action', TABLE)
def test_plan_table(current, desired, action):
    desired.validate()
    plan = plan_key(current, desired)
    assert plan.action == action
    assert plan.changed is (action != NONE)
    assert plan.reason


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_directory_is_refused(state):
    directory = ResponseNode(key='/k', dir=True, created_index=1, modified_index=1)
    with pytest.raises(KeyStateError) as info:
        plan_key(directory, want(state=state, value='v'))
    assert info.value.category == 'is a directory'
    assert 'etcd_dir' in str(info.value)


@pytest.mark.parametrize('desired,words', [
    (want(value=None), 'value is required'),
    (want(value='v', ttl=0), 'ttl must be at least 1'),
    (want(value='v', ttl=-5), 'ttl must be at least 1'),
    (want(value='v', refresh_ttl=True), 'refresh_ttl needs ttl'),
    (want(key='/', value='v'), 'key must name a key'),
    (want(key='', value='v'), 'key must name a key'),
    (want(value='v', state='gone'), 'state must be'),
])
def test_validate_refuses(desired, words):
    with pytest.raises(KeyStateError) as info:
        desired.validate()
    assert words in str(info.value)


def test_predict_create_and_update():
    created = predict_node(None, want(value='new', ttl=9), KeyPlan(CREATE, ''))
    assert created == {'key': '/k', 'dir': False, 'value': 'new', 'created_index': None, 'modified_index': None,
                       'ttl': 9, 'expiration': None}
    updated = predict_node(key('old'), want(value='new'), KeyPlan(UPDATE, ''))
    assert updated['value'] == 'new' and updated['created_index'] == 3 and updated['modified_index'] is None


def test_predict_none_and_delete():
    current = key('v', ttl=4)
    assert predict_node(current, want(value='v', ttl=10), KeyPlan(NONE, '')) == current.to_dict()
    assert predict_node(None, want(state='absent'), KeyPlan(NONE, '')) is None
    assert predict_node(current, want(state='absent'), KeyPlan(DELETE, '')) is None


def outcome(action, before, after):
    return KeyOutcome(KeyPlan(action, ''), before, after, 1)


def test_diff_create_shows_absent_before():
    desired = want(value='v', ttl=30)
    diff = key_diff(outcome(CREATE, None, dict(key('v', ttl=29).to_dict())), desired)
    assert diff['before'] == {'state': 'absent'}
    # What was asked, not the answer's TTL that may already have counted down.
    assert diff['after'] == {'state': 'present', 'value': 'v', 'ttl': 30}
    assert '/k' in diff['before_header']


def test_diff_no_change_is_identical():
    current = key('v', ttl=4).to_dict()
    diff = key_diff(outcome(NONE, current, current), want(value='v', ttl=10))
    assert diff['before'] == diff['after'] == {'state': 'present', 'value': 'v', 'ttl': 4}


def test_diff_remove_ttl_and_delete():
    diff = key_diff(outcome(REMOVE_TTL, key('v', ttl=4).to_dict(), key('v').to_dict()), want(value='v'))
    assert diff['before']['ttl'] == 4 and diff['after']['ttl'] is None
    diff = key_diff(outcome(DELETE, key('v').to_dict(), None), want(state='absent'))
    assert diff['after'] == {'state': 'absent'}


def test_sensitive_hides_values_everywhere():
    desired = want(value='s3cret-new', sensitive=True)
    result = outcome(UPDATE, key('s3cret-old').to_dict(), key('s3cret-new', index=8).to_dict())
    diff = key_diff(result, desired)
    assert diff['before']['value'] == HIDDEN
    assert diff['after']['value'] == HIDDEN_CHANGED
    nodes = outcome_nodes(result, desired)
    assert nodes['node']['value'] == HIDDEN and nodes['prev_node']['value'] == HIDDEN
    assert 's3cret' not in repr(diff) + repr(nodes)
    # Hiding works on copies: the outcome itself still holds the real node.
    assert result.after['value'] == 's3cret-new'


def test_sensitive_unchanged_value_is_marked_unchanged():
    desired = want(value='s3cret', ttl=10, sensitive=True)
    diff = key_diff(outcome(SET_TTL, key('s3cret').to_dict(), key('s3cret', ttl=10).to_dict()), desired)
    assert diff['before']['value'] == diff['after']['value'] == HIDDEN
    assert diff['after']['ttl'] == 10


def test_not_sensitive_nodes_are_returned_as_read():
    result = outcome(UPDATE, key('a').to_dict(), key('b').to_dict())
    nodes = outcome_nodes(result, want(value='b'))
    assert nodes['prev_node']['value'] == 'a' and nodes['node']['value'] == 'b'
