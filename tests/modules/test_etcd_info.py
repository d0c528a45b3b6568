# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_info against a real etcd: gather_info and the module process."""
from __future__ import annotations

import json
import urllib.request

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.info import SECTIONS, gather_info
from tests.modules.module_process import run_module


def http_json(server, path):
    with urllib.request.urlopen(server.url + path, timeout=5) as answer:
        return json.loads(answer.read())


def test_sections_match_what_etcd_says(client, etcd_server):
    info = gather_info(client)
    assert set(info) == set(SECTIONS) | {'endpoint'}
    version = http_json(etcd_server, '/version')
    assert info['version'] == {'server': version['etcdserver'], 'cluster': version['etcdcluster']}
    assert info['version']['server'].startswith(etcd_server.version)
    assert info['health'] is True
    members = http_json(etcd_server, '/v2/members')['members']
    assert [m['id'] for m in info['members']] == [m['id'] for m in members]
    assert info['leader']['id'] == members[0]['id']
    assert info['stats']['self']['state'] == 'StateLeader'
    assert 'getsSuccess' in info['stats']['store']
    assert info['endpoint'] == etcd_server.url


def test_key_and_directory(client, key_prefix):
    client.write(key_prefix + '/a/b', 'deep')
    client.write(key_prefix + '/c', 'flat', ttl=100)
    flat = gather_info(client, [], key=key_prefix)
    assert flat['exists'] is True and flat['node']['dir'] is True
    children = {child['key']: child for child in flat['node']['children']}
    assert children[key_prefix + '/a']['children'] == []
    assert children[key_prefix + '/c']['value'] == 'flat' and 0 < children[key_prefix + '/c']['ttl'] <= 100
    deep = gather_info(client, [], key=key_prefix, recursive=True, quorum=True)
    nested = {child['key']: child for child in deep['node']['children']}
    assert nested[key_prefix + '/a']['children'][0]['value'] == 'deep'
    assert deep['etcd_index'] >= deep['node']['modified_index']


def test_missing_key_is_not_an_error(client, key_prefix):
    expected = {'exists': False, 'node': None, 'etcd_index': None, 'endpoint': client.current_endpoint}
    assert gather_info(client, [], key=key_prefix + '/none') == expected


def test_unknown_section():
    with pytest.raises(ValueError):
        gather_info(None, ['weather'])


def test_module_never_changes(etcd_server, key_prefix):
    args = {'host': [etcd_server.url], 'key': key_prefix}
    before = http_json(etcd_server, '/v2/stats/store')
    for check in (False, True):
        result = run_module('etcd_info', args, check=check)
        assert result['changed'] is False and result['health'] is True and result['exists'] is False
    after = http_json(etcd_server, '/v2/stats/store')
    writes = ('setsSuccess', 'createSuccess', 'updateSuccess', 'deleteSuccess', 'compareAndSwapSuccess')
    assert [after[name] for name in writes] == [before[name] for name in writes]


def test_module_gather_subset_and_failure(etcd_server):
    result = run_module('etcd_info', {'host': [etcd_server.url], 'gather': ['version']})
    assert set(result) >= {'version', 'endpoint'} and 'members' not in result and 'exists' not in result
    result = run_module('etcd_info', {'host': ['127.0.0.1:1'], 'timeout': 1, 'gather': ['health']})
    assert result['failed'] is True and result['msg'].startswith('unreachable: ') and '127.0.0.1:1' in result['msg']
    result = run_module('etcd_info', {'host': [etcd_server.url], 'gather': ['weather']})
    assert result['failed'] is True and 'weather' in result['msg']
