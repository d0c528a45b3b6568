# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one-line error messages: cause categories, key and endpoint, secrets masked."""
from __future__ import annotations

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.errors import describe_error, error_category, redact
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.failures import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    REFUSED,
    Attempt,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    EtcdConnectionFailed,
    EtcdKeyNotFound,
    EtcdNotFile,
    EtcdOutcomeUnknown,
    EtcdTestFailed,
    EtcdTLSError,
    EtcdUnauthorized,
    EtcdV2NotEnabled,
)


@pytest.mark.parametrize('exc,category', [
    (EtcdConnectionFailed(None, [('http://a:1', 'connection refused')]), 'unreachable'),
    # The kind of each failure travels with it (the text is for people, never parsed back).
    (EtcdConnectionFailed(None, [Attempt('http://a:1', 'no answer within 1s', READ_TIMEOUT),
                                 Attempt('http://b:1', 'no connection within 1s', CONNECT_TIMEOUT)]), 'timed out'),
    (EtcdConnectionFailed(None, [Attempt('http://a:1', 'no answer within 1s', READ_TIMEOUT),
                                 Attempt('http://b:1', 'connection refused', REFUSED)]), 'unreachable'),
    (EtcdConnectionFailed(None, [('http://a:1', 'timed out, says the text')]), 'unreachable'),
    (EtcdTLSError(None, [('https://a:1', 'TLS: certificate verify failed')]), 'TLS error'),
    (EtcdOutcomeUnknown('no answer to a PUT that was sent', [('http://a:1', 'no answer within 1s')]), 'outcome unknown'),
    (EtcdV2NotEnabled(status=404, endpoint='http://a:1'), 'v2 API not enabled'),
    (EtcdUnauthorized('The request requires user authentication', error_code=110), 'unauthorized'),
    (EtcdTestFailed('Compare failed', error_code=101, cause='[3 != 4]'), 'condition failed'),
    (EtcdKeyNotFound('Key not found', error_code=100, cause='/k'), 'not found'),
    (EtcdNotFile('Not a file', error_code=102, cause='/k'), 'is a directory'),
    (ClientException('ttl must be a positive integer'), 'invalid argument'),
    (ValueError('nope'), 'invalid argument'),
    (RuntimeError('odd'), 'error'),
])
def test_error_category(exc, category):
    assert error_category(exc).startswith(category)
    message = describe_error(exc, key='/k')
    assert '\n' not in message
    assert category in message


def test_describe_error_names_key_endpoint_and_cause():
    exc = EtcdTestFailed('Compare failed', error_code=101, cause='[3 != 4]', index=9, endpoint='http://m1:2379')
    message = describe_error(exc, key='/app/x')
    assert message.startswith('key /app/x')
    assert 'http://m1:2379' in message and 'condition failed' in message and '[3 != 4]' in message


def test_describe_error_uses_an_own_category():
    class Refused(Exception):
        category = 'is a directory'
    assert describe_error(Refused('use etcd_dir'), key='/d') == 'key /d: is a directory: use etcd_dir'


def test_describe_error_hides_secrets():
    exc = EtcdTestFailed('Compare failed', error_code=101, cause='[hunter2 != hunter3]')
    message = describe_error(exc, key='/k', hide=['hunter2', 'hunter3', None, ''])
    assert 'hunter' not in message and '********' in message


def test_redact_short_values_only_as_words():
    assert redact('index 1 of 12 [1 != 2]', ['1']) == 'index ******** of 12 [******** != 2]'
    assert redact('abcabc', ['abc']) == '********'  # one mask for a run of hidden text
    # Key names are kept whole: hiding a value never rewrites the key it is stored under.
    assert redact('key /app/ab/x: [ab != cd]', ['ab'], keep=['/app/ab/x']) == 'key /app/ab/x: [******** != cd]'
    assert redact('/app/ab/x [/app/ab/x-pw]', ['/app/ab/x-pw'], keep=['/app/ab/x']) == '/app/ab/x [********]'
    # Longer secrets first, so a secret containing another is hidden whole.
    assert redact('pw=longsecret', ['long', 'longsecret']) == 'pw=********'
