# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The option checks and secret handling of etcd_dir (pure helpers; the writes are tested against etcd)."""
from __future__ import annotations

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_plan import Operation
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir import (
    DirWriteError, content_secrets, masked_invocation, present_only_options,
)


@pytest.mark.parametrize('params, message', [
    ({'state': 'present'}, None),
    ({'state': 'present', 'content': {}, 'purge': True, 'ttl': 5}, None),
    ({'state': 'absent', 'recursive': True}, None),
    ({'state': 'absent', 'content': {}}, 'content only apply to state=present'),
    ({'state': 'absent', 'ttl': 5, 'purge': True}, 'ttl, purge only apply to state=present'),
    ({'state': 'present', 'recursive': True}, 'recursive only applies to state=absent'),
])
def test_present_only_options(params, message):
    assert present_only_options(**params) == message


def test_content_secrets_are_the_stored_strings():
    assert sorted(content_secrets({'a': 's3cret', 'n': {'b': 7, 'c': True, 'bad': None}})) == ['7', 's3cret', 'true']
    assert content_secrets(None) == []


def test_masked_invocation_keeps_the_shape_and_hides_values():
    params = {'path': '/p', 'content': {'a': 'x', 'd': {'b': 'y', 'e': {}}}, 'sensitive': True}
    assert masked_invocation(params) == {'module_args': {
        'path': '/p', 'content': {'a': '<hidden>', 'd': {'b': '<hidden>', 'e': {}}}, 'sensitive': True}}
    assert params['content']['a'] == 'x'


def test_write_error_says_how_far_the_run_got():
    op = Operation('set', '/p/k', 'v', create=True)
    assert str(DirWriteError(op, ValueError('boom'), 0, 3)) == 'set of /p/k failed; no write was applied: boom'
    assert str(DirWriteError(op, ValueError('boom'), 2, 3)) == (
        'set of /p/k failed after 2 of 3 writes were applied; a re-run completes the rest: boom')
