"""demo/site.yml (what `make demo`, tools/demo.sh and tools/install-test.sh run) against a real etcd.

The demo must be re-runnable: a second run against the same etcd succeeds, and every task that
declares a state reports ok. The only tasks allowed to report a change on the second run are
the check-mode previews (they show a change that is not made) and the deploy lock, which the
demo takes and releases on every run. The outcome is checked by reading etcd over plain HTTP.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Optional, Set

import pytest

from tests.harness import v3_state
from tests.harness.etcd_server import EtcdServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Tasks that report a change on every run, by design.
CHANGED_ON_EVERY_RUN = {
    'Preview a change in check mode (nothing is written)',
    'Preview a configuration change with its diff (check mode writes nothing)',
    'Take the deploy lock only if nobody holds it (compare-and-swap on prevExist=false)',
    'Release the lock only if we still hold it (compare-and-delete)',
}


def etcd_get(url: str, key: str) -> Optional[dict]:
    """The node at ``key`` read straight from etcd (None when it does not exist)."""
    try:
        with urllib.request.urlopen('%s/v2/keys%s?recursive=true' % (url, key), timeout=5) as resp:
            return json.loads(resp.read().decode())['node']
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def run_demo(server: EtcdServer, home: str, api: str = 'v2') -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith(('ANSIBLE_', 'PYETCD_'))}
    env.update(ANSIBLE_COLLECTIONS_PATH=os.environ['PYETCD_COLLECTIONS_DIR'], ANSIBLE_HOME=home, ANSIBLE_NOCOLOR='1',
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false', ETCD_URL=server.url, PYETCD_API_VERSION=api)
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'demo/inventory.yml',
               'demo/site.yml']
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


def changed_tasks(output: str) -> Set[str]:
    """Names of the tasks whose result line says changed, from the default callback's output."""
    names = set()
    for block in re.split(r'\nTASK \[', output)[1:]:
        name, _sep, body = block.partition(']')
        if re.search(r'^changed: \[', body, re.M):
            names.add(name)
    return names


@pytest.fixture(scope='module')
def server():
    # A server of its own: the demo uses fixed keys (/demo/...). Both stores live in it.
    with EtcdServer('3.5') as etcd:
        yield etcd


def stored(server: EtcdServer, api: str, key: str) -> Optional[str]:
    """The value etcd's ``api`` store holds at ``key``, read without the collection."""
    if api == 'v3':
        found = v3_state.kv(server, key)
        return None if found is None else found['value']
    node = etcd_get(server.url, key)
    return None if node is None else node.get('value')


@pytest.mark.parametrize('api', ['v2', 'v3'])
def test_demo_runs_twice_against_the_same_etcd(server, tmp_path, api):
    first = run_demo(server, str(tmp_path / 'home'), api)
    assert first.returncode == 0, first.stdout + first.stderr
    second = run_demo(server, str(tmp_path / 'home'), api)
    assert second.returncode == 0, second.stdout + second.stderr
    assert changed_tasks(second.stdout) == CHANGED_ON_EVERY_RUN, second.stdout

    assert stored(server, api, '/demo/app/port') == '8080'
    assert stored(server, api, '/demo/app/mode') == 'production'
    assert stored(server, api, '/demo/app/legacy') is None
    assert stored(server, api, '/demo/service/config/port') == '8080'
    assert stored(server, api, '/demo/service/config/debug') == 'false'
    assert stored(server, api, '/demo/service/release') == '1.1'
    assert stored(server, api, '/demo/locks/deploy') is None, 'the lock must be released'
    if api == 'v3':
        # The TTL became a lease on the v3 store.
        lease = v3_state.kv(server, '/demo/app/maintenance')['lease']
        assert lease and 0 < v3_state.lease_ttl(server, lease)['ttl'] <= 600
