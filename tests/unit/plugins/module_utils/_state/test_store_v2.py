# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The v2 store: planned operations and conditions as v2 requests (no server: a recording client)."""
from __future__ import annotations

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import ConditionFailed
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_plan import (
    DELETE, MKDIR, RMDIR, RMTREE, SET, SET_DIR_TTL, Operation,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store import Condition
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store_v2 import V2Store, request_for
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdNodeExist, EtcdNotFile


@pytest.mark.parametrize('op, expected', [
    (Operation(SET, '/d/k', 'v', create=True), ('PUT', '/d/k', {'value': 'v', 'prevExist': 'false'})),
    (Operation(SET, '/d/k', 'v', prev_index=7), ('PUT', '/d/k', {'value': 'v', 'prevIndex': '7'})),
    (Operation(MKDIR, '/d'), ('PUT', '/d', {'dir': 'true', 'prevExist': 'false'})),
    (Operation(MKDIR, '/d', ttl=30), ('PUT', '/d', {'dir': 'true', 'prevExist': 'false', 'ttl': '30'})),
    (Operation(DELETE, '/d/k', prev_index=9), ('DELETE', '/d/k', {'prevIndex': '9'})),
    (Operation(RMDIR, '/d'), ('DELETE', '/d', {'dir': 'true'})),
    (Operation(RMTREE, '/d'), ('DELETE', '/d', {'dir': 'true', 'recursive': 'true'})),
])
def test_each_operation_is_one_v2_request(op, expected):
    assert request_for(op) == expected


def test_a_directory_ttl_change_is_no_single_request():
    with pytest.raises(ValueError):
        request_for(Operation(SET_DIR_TTL, '/d', ttl=5))


class Recorder:
    """Stands in for the v2 client: records the calls, answers with ``answer``."""

    current_endpoint = 'http://m1:2379'

    def __init__(self, answer=None):
        self.calls = []
        self.answer = answer

    def _call(self, name, *args, **kwargs):
        self.calls.append((name, args, kwargs))
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    def write(self, *args, **kwargs):
        return self._call('write', *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call('delete', *args, **kwargs)


def test_conditions_become_the_client_arguments():
    client = Recorder()
    store = V2Store(client)
    store.put('/k', 'v', when=Condition.absent())
    store.put('/k', 'v', ttl=5, when=Condition.unchanged_since(7))
    store.put('/k', 'v', when=Condition(exists=True, value='old', index=3))
    store.put('/k', 'v')
    store.refresh('/k', 30, when=Condition(value='mine'))
    store.delete('/k', when=Condition.unchanged_since(4))
    assert client.calls == [
        ('write', ('/k', 'v'), {'ttl': None, 'prev_exist': False}),
        ('write', ('/k', 'v'), {'ttl': 5, 'prev_index': 7}),
        ('write', ('/k', 'v'), {'ttl': None, 'prev_exist': True, 'prev_value': 'old', 'prev_index': 3}),
        ('write', ('/k', 'v'), {'ttl': None}),
        ('write', ('/k', None), {'ttl': 30, 'refresh': True, 'prev_value': 'mine'}),
        ('delete', ('/k',), {'prev_index': 4}),
    ]
    assert store.current_endpoint == 'http://m1:2379'


def test_a_refused_condition_is_condition_failed_and_other_errors_pass():
    refused = EtcdNodeExist('Key already exists', error_code=105)
    with pytest.raises(ConditionFailed) as info:
        V2Store(Recorder(refused)).put('/k', 'v', when=Condition.absent())
    assert info.value.cause is refused and info.value.key == '/k'
    with pytest.raises(EtcdNotFile):
        V2Store(Recorder(EtcdNotFile('Not a file', error_code=102))).put('/k', 'v')
    with pytest.raises(ValueError):
        V2Store(Recorder()).delete('/k', when=Condition.absent())
