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


def run_demo(server: EtcdServer, home: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith(('ANSIBLE_', 'PYETCD_'))}
    env.update(ANSIBLE_COLLECTIONS_PATH=os.environ['PYETCD_COLLECTIONS_DIR'], ANSIBLE_HOME=home, ANSIBLE_NOCOLOR='1',
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false', ETCD_URL=server.url)
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
    # A server of its own: the demo uses fixed keys (/demo/...).
    with EtcdServer('3.5') as etcd:
        yield etcd


def test_demo_runs_twice_against_the_same_etcd(server, tmp_path):
    first = run_demo(server, str(tmp_path / 'home'))
    assert first.returncode == 0, first.stdout + first.stderr
    second = run_demo(server, str(tmp_path / 'home'))
    assert second.returncode == 0, second.stdout + second.stderr
    assert changed_tasks(second.stdout) == CHANGED_ON_EVERY_RUN, second.stdout

    url = server.url
    app = {node['key']: node['value'] for node in etcd_get(url, '/demo/app')['nodes']}
    assert app['/demo/app/port'] == '8080' and app['/demo/app/mode'] == 'production'
    config = {node['key']: node.get('value') for node in etcd_get(url, '/demo/service/config')['nodes']}
    assert config['/demo/service/config/port'] == '8080' and config['/demo/service/config/debug'] == 'false'
    assert etcd_get(url, '/demo/service/release')['value'] == '1.1'
    assert etcd_get(url, '/demo/locks/deploy') is None, 'the lock must be released'
