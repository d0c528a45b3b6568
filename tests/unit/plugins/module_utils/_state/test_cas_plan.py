# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The etcd_cas decision table (pure: no server involved)."""
from __future__ import annotations

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.cas_plan import (
    DELETE, MISMATCH, NOTHING, REFRESH, SWAP, CasDecision, CasPlanError, decide, describe_conditions,
    mismatch_message, renewal_due,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.result import ResponseNode

CUR = ResponseNode(key='/k', value='old', created_index=4, modified_index=7)
CUR_TTL = ResponseNode(key='/k', value='new', created_index=4, modified_index=9, ttl=30)
DIR = ResponseNode(key='/k', dir=True, created_index=4, modified_index=4)

# (current, kwargs, expected action, expected failed conditions)
TABLE = [
    # present: the desired value is already there -> nothing, but only when the conditions hold
    (CUR, dict(value='old'), NOTHING, ()),
    (CUR, dict(value='old', prev_value='old'), NOTHING, ()),
    (CUR, dict(value='old', prev_exist=True, prev_index=7), NOTHING, ()),
    (CUR, dict(value='old', prev_value='other', prev_index=99), MISMATCH, ('prev_value', 'prev_index')),
    # A lock taken under the same name by an earlier run is not ours to enter.
    (CUR, dict(value='old', prev_exist=False), MISMATCH, ('prev_exist',)),
    # present: conditions hold -> swap
    (CUR, dict(value='new'), SWAP, ()),
    (CUR, dict(value='new', prev_value='old'), SWAP, ()),
    (CUR, dict(value='new', prev_index=7), SWAP, ()),
    (CUR, dict(value='new', prev_value='old', prev_index=7, prev_exist=True), SWAP, ()),
    (None, dict(value='new', prev_exist=False), SWAP, ()),
    (None, dict(value='new'), SWAP, ()),
    # present: conditions fail -> mismatch, naming each failing condition
    (CUR, dict(value='new', prev_value='other'), MISMATCH, ('prev_value',)),
    (CUR, dict(value='new', prev_index=6), MISMATCH, ('prev_index',)),
    (CUR, dict(value='new', prev_value='other', prev_index=6), MISMATCH, ('prev_value', 'prev_index')),
    (CUR, dict(value='new', prev_value='old', prev_index=6), MISMATCH, ('prev_index',)),
    (CUR, dict(value='new', prev_exist=False), MISMATCH, ('prev_exist',)),
    (None, dict(value='new', prev_exist=True), MISMATCH, ('prev_exist',)),
    (None, dict(value='new', prev_value='old'), MISMATCH, ('prev_value',)),
    (None, dict(value='new', prev_index=7), MISMATCH, ('prev_index',)),
    # present with ttl: reached only when the key already expires within ttl
    (CUR_TTL, dict(value='new', ttl=60), NOTHING, ()),
    (CUR_TTL, dict(value='new', ttl=10, prev_index=9), SWAP, ()),
    (CUR, dict(value='old', ttl=60, prev_value='old'), SWAP, ()),
    (CUR, dict(value='old', ttl=60, prev_value='gone'), MISMATCH, ('prev_value',)),
    (CUR_TTL, dict(value='new'), NOTHING, ()),
    # refresh_ttl: conditions first, then the renewal rule (refresh unless ttl/2 <= left <= ttl)
    (CUR_TTL, dict(prev_value='new', ttl=60, refresh_ttl=True), NOTHING, ()),
    (CUR_TTL, dict(prev_value='new', ttl=30, refresh_ttl=True), NOTHING, ()),
    (CUR_TTL, dict(prev_value='new', ttl=61, refresh_ttl=True), REFRESH, ()),
    (CUR_TTL, dict(prev_value='new', ttl=20, refresh_ttl=True), REFRESH, ()),
    (CUR, dict(prev_value='old', ttl=20, refresh_ttl=True), REFRESH, ()),
    (CUR_TTL, dict(prev_index=9, prev_exist=True, ttl=600, refresh_ttl=True), REFRESH, ()),
    (CUR_TTL, dict(prev_value='other', ttl=600, refresh_ttl=True), MISMATCH, ('prev_value',)),
    (CUR_TTL, dict(prev_value='other', ttl=60, refresh_ttl=True), MISMATCH, ('prev_value',)),
    (None, dict(prev_value='new', ttl=60, refresh_ttl=True), MISMATCH, ('prev_value',)),
    # absent: the conditions are checked even when the key is already gone
    (None, dict(state='absent'), NOTHING, ()),
    (None, dict(state='absent', prev_value='old', prev_index=3), MISMATCH, ('prev_value', 'prev_index')),
    (CUR, dict(state='absent'), DELETE, ()),
    (CUR, dict(state='absent', prev_value='old', prev_index=7), DELETE, ()),
    (CUR, dict(state='absent', prev_value='x'), MISMATCH, ('prev_value',)),
    (CUR, dict(state='absent', prev_index=8), MISMATCH, ('prev_index',)),
]


@pytest.mark.parametrize('current, kwargs, action, failed', TABLE)
def test_decision_table(current, kwargs, action, failed):
    kwargs.setdefault('state', 'present')
    decision = decide(current, **kwargs)
    assert decision == CasDecision(action, failed)
    assert decision.writes == (action in (SWAP, DELETE, REFRESH))


@pytest.mark.parametrize('kwargs, words', [
    (dict(state='present'), 'needs value'),
    (dict(state='present', value='v', prev_exist=False, prev_value='a'), 'prev_exist=false cannot be combined'),
    (dict(state='present', value='v', prev_exist=False, prev_index=3), 'prev_exist=false cannot be combined'),
    (dict(state='present', value='v', prev_value=''), 'prev_value must not be empty'),
    (dict(state='present', value='v', prev_index=0), 'prev_index must be >= 1'),
    (dict(state='present', value='v', ttl=0), 'ttl must be >= 1'),
    (dict(state='absent', value='v'), 'value applies to state=present'),
    (dict(state='absent', prev_exist=True), 'prev_exist applies to state=present'),
    (dict(state='absent', ttl=5), 'ttl applies to state=present'),
    (dict(state='gone'), 'state must be present or absent'),
    (dict(state='present', value='v', prev_value='v', ttl=5, refresh_ttl=True), 'value cannot be combined with refresh_ttl'),
    (dict(state='present', prev_value='v', refresh_ttl=True), 'refresh_ttl needs ttl'),
    (dict(state='present', ttl=5, refresh_ttl=True), 'refresh_ttl needs prev_value or prev_index'),
    (dict(state='present', prev_index=3, prev_exist=False, ttl=5, refresh_ttl=True),
     'prev_exist=false cannot be combined with refresh_ttl'),
    (dict(state='absent', prev_value='v', refresh_ttl=True), 'refresh_ttl applies to state=present'),
])
def test_contradictions_are_refused_before_any_request(kwargs, words):
    with pytest.raises(CasPlanError, match=words):
        decide(CUR, **kwargs)


def test_a_directory_is_refused():
    with pytest.raises(CasPlanError, match='/k is a directory'):
        decide(DIR, 'present', value='v', prev_exist=True)
    with pytest.raises(CasPlanError, match='/k is a directory'):
        decide(DIR, 'absent', prev_index=4)


def test_describe_conditions():
    assert describe_conditions('a', 7, True) == "prev_exist=true, prev_value='a', prev_index=7"
    assert describe_conditions('a', hide_values=True) == 'prev_value=<hidden>'
    assert describe_conditions() == 'no condition'


def test_mismatch_message_names_key_endpoint_conditions_and_current_index():
    decision = decide(CUR, 'present', value='new', prev_value='other', prev_index=6)
    text = mismatch_message('/k', 'http://127.0.0.1:2379', 'present', CUR, decision,
                            prev_value='other', prev_index=6)
    assert text == ("compare-and-swap of /k at http://127.0.0.1:2379 not done: condition prev_value='other', "
                    "prev_index=6 not met (prev_value, prev_index failed): the key is at modifiedIndex 7 "
                    "with value 'old'")
    assert '\n' not in text


def test_mismatch_message_hides_values_when_sensitive():
    decision = decide(CUR, 'absent', prev_value='s3cret-guess')
    text = mismatch_message('/k', None, 'absent', CUR, decision, prev_value='s3cret-guess', hide_values=True)
    assert text.startswith('compare-and-delete of /k not done')
    assert 's3cret' not in text and "'old'" not in text
    assert 'modifiedIndex 7' in text


def test_mismatch_message_for_a_missing_key():
    decision = decide(None, 'present', value='v', prev_exist=True)
    text = mismatch_message('/k', 'http://h:1', 'present', None, decision, prev_exist=True)
    assert text.endswith('condition prev_exist=true not met (prev_exist failed): the key does not exist')


@pytest.mark.parametrize('left, wanted, due', [
    (None, 10, True), (0, 10, True), (4, 10, True), (5, 10, False), (10, 10, False), (11, 10, True),
    (1, 1, False), (1, 3, True), (2, 3, False),
])
def test_renewal_rule(left, wanted, due):
    assert renewal_due(left, wanted) is due


def test_mismatch_message_of_a_refresh():
    decision = decide(CUR, 'present', prev_value='mine', ttl=60, refresh_ttl=True)
    text = mismatch_message('/k', None, 'present', CUR, decision, prev_value='mine', refresh_ttl=True)
    assert text.startswith("conditional TTL refresh of /k not done: condition prev_value='mine' not met")
