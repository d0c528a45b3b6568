# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shipped playbook ``pyetcd.etcd.upgrade_v2_to_v3`` end to end on 3-member clusters.

Run as an operator runs it (``ansible-playbook pyetcd.etcd.upgrade_v2_to_v3``, addressed by its
collection name). Afterwards every v2 key must read the same through v3 (checked with
etcdctl), the v2 tree must be empty (checked over plain HTTP), and a second run must change
nothing. On etcd 3.5, a member is SIGKILLed while 10,000 keys are being moved: a re-run must
complete the move with nothing lost.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client
from tests.harness.etcd_server import EtcdCluster, EtcdUnavailable, find_etcd
from tests.harness.v3_state import values
from tests.modules.v3.test_etcd_migrate import raw_node, v2_leaves, v2_put

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def cluster_of(version):
    try:
        find_etcd(version)
    except EtcdUnavailable as exc:
        if os.environ.get('PYETCD_REQUIRE_ALL_ETCD') == '1':
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    return EtcdCluster(version, size=3)


def playbook(cluster, tmp_path, background=False, **extra):
    env = {name: value for name, value in os.environ.items() if not name.startswith(('ANSIBLE_', 'PYETCD_'))}
    env.update(ANSIBLE_COLLECTIONS_PATH=os.environ['PYETCD_COLLECTIONS_DIR'], ANSIBLE_HOME=str(tmp_path / 'home'),
               ANSIBLE_NOCOLOR='1', ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false', ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    variables = dict(pyetcd_host=cluster.urls, etcd_snapshot_dest=str(tmp_path / 'before.db'), **extra)
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), 'pyetcd.etcd.upgrade_v2_to_v3',
               '-e', json.dumps(variables)]
    if background:
        return subprocess.Popen(command, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,  # pylint: disable=consider-using-with
                                stderr=subprocess.STDOUT, text=True)
    return subprocess.run(command, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=900, check=False)


def recap(output):
    match = re.search(r'localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', output)
    assert match, output
    return {'ok': int(match.group(1)), 'changed': int(match.group(2)), 'failed': int(match.group(4))}


def v2_tree_is_empty(cluster):
    root = raw_node(cluster.members[0], '/', recursive=True)
    return not root.get('nodes'), root


def v3_count(url, prefix):
    body = json.dumps({'key': base64.b64encode(prefix.encode()).decode(),
                       'range_end': base64.b64encode(prefix[:-1].encode() + bytes([ord(prefix[-1]) + 1])).decode(),
                       'count_only': True}).encode()
    request = urllib.request.Request(url + '/v3/kv/range', data=body, method='POST')
    with urllib.request.urlopen(request, timeout=2) as answer:
        return int(json.loads(answer.read()).get('count', 0))


DATA = {
    '/app/config/port': '8080',
    '/app/config/name': 'grüße 日本語 \U0001F600',
    '/app/config/empty': '',
    '/app/config/spaces and ?#%&': 'a b?c#d',
    '/app/_hidden': 'hidden value',
    '/_internal/state': 'a hidden directory',
    '/deep/a/b/c/d/e': 'deep',
}


@pytest.mark.cluster
@pytest.mark.parametrize('version', ['3.5', '3.4'])
def test_upgrade_playbook_moves_everything_and_reruns_clean(version, tmp_path):
    cluster = cluster_of(version)
    try:
        cluster.start()
        leader = cluster.leader()
        for key, value in DATA.items():
            v2_put(leader, key, value)
        v2_put(leader, '/app/session', 'expiring', ttl=600)
        v2_put(leader, '/empty/dir', directory=True)
        Client(host=cluster.urls).write_many({'/bulk/%03d' % i: 'value %d' % i for i in range(300)})
        expected = dict(DATA, **{'/app/session': 'expiring'}, **{'/bulk/%03d' % i: 'value %d' % i for i in range(300)})

        first = playbook(cluster, tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        assert recap(first.stdout)['failed'] == 0
        assert '%d keys read the same through v2 and v3' % len(expected) in first.stdout, first.stdout
        for member in cluster.members:  # every member serves the copy
            assert values(member, '/') == expected
        empty, root = v2_tree_is_empty(cluster)
        assert empty, root
        assert os.path.getsize(str(tmp_path / 'before.db')) > 0

        second = playbook(cluster, tmp_path)
        assert second.returncode == 0, second.stdout + second.stderr
        assert recap(second.stdout)['changed'] == 0, second.stdout
        assert values(cluster.members[1], '/') == expected
    finally:
        cluster.destroy()


@pytest.mark.slow
@pytest.mark.cluster
def test_member_killed_during_a_10000_key_move_then_rerun_completes(tmp_path):
    cluster = cluster_of('3.5')
    try:
        cluster.start()
        items = {'/bulk/%05d' % i: ('%05d-' % i) + 'x' * 200 for i in range(10000)}
        Client(host=cluster.urls).write_many(items)
        victim = cluster.members[0]  # the first member of the host list: the one the run talks to
        running = playbook(cluster, tmp_path, background=True, etcd_max_txn_ops=16)
        deadline = time.monotonic() + 120
        seen = 0
        while time.monotonic() < deadline and running.poll() is None:
            try:
                seen = v3_count(cluster.members[1].url, '/bulk/')
            except OSError:
                seen = 0
            if seen:
                break
            time.sleep(0.01)
        assert 0 < seen < len(items), 'the kill must land while the keys are being copied (%d)' % seen
        victim.kill()
        output = running.communicate(timeout=600)[0]
        copied_at_kill = seen
        victim.start()
        survivors = cluster.members[1:]
        # Whatever the first run reported, nothing it read may be gone from both stores.
        v3_now = values(survivors[0], '/bulk/')
        v2_now = {key: raw_node(survivors[0], key)['value'] for key in v2_leaves(raw_node(survivors[0], '/bulk', True))}
        assert set(v3_now) | set(v2_now) == set(items), output
        assert all(items[key] == value for key, value in list(v3_now.items()) + list(v2_now.items()))

        rerun = playbook(cluster, tmp_path, etcd_max_txn_ops=16)
        assert rerun.returncode == 0, output + rerun.stdout + rerun.stderr
        for member in cluster.members:
            assert values(member, '/bulk/') == items, 'lost keys on %s' % member.url
        empty, root = v2_tree_is_empty(cluster)
        assert empty, root
        print('killed %s with %d of %d keys copied; first run rc %d'
              % (victim.url, copied_at_kill, len(items), running.returncode))
    finally:
        cluster.destroy()
