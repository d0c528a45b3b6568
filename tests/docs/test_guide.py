"""The user guide's playbooks, extracted from docs/guide.md and run against a real etcd.

docs/guide.md marks each complete file with ``<!-- guide-file: NAME -->`` right before its
fenced block. This test writes those blocks out unchanged and runs them in the order the guide's
"Putting it together" section gives, then checks the outcome by reading etcd directly (the v2
API over plain HTTP, the v3 store with etcdctl) and the files the playbooks wrote, so the guide
cannot silently drift from the modules. Every test runs twice: with ``etcd_api_version=v2`` and
with ``etcd_api_version=v3``, the one variable the guide says to flip.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Dict, Optional

import pytest

from tests.harness import v3_state
from tests.harness.etcd_server import EtcdServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUIDE = os.path.join(ROOT, 'docs', 'guide.md')
BLOCK = re.compile(r'<!-- guide-file: (\S+) -->\s*\n```ya?ml\n(.*?)\n```', re.S)


def guide_files() -> Dict[str, str]:
    with open(GUIDE, encoding='utf-8') as handle:
        return {name: body + '\n' for name, body in BLOCK.findall(handle.read())}


def etcd_get(server, api: str, key: str) -> Optional[str]:
    """Value of ``key`` read straight from etcd's ``api`` store (None when it does not exist)."""
    if api == 'v3':
        found = v3_state.kv(server, key)
        return None if found is None else found['value']
    url = server.url
    try:
        with urllib.request.urlopen('%s/v2/keys%s' % (url, key), timeout=5) as resp:
            return json.loads(resp.read().decode())['node'].get('value')
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


@pytest.fixture(scope='module', params=['v2', 'v3'])
def api(request) -> str:
    return request.param


@pytest.fixture(scope='module')
def server(api):  # pylint: disable=unused-argument
    # A server of its own per API: the guide uses fixed keys (/services/web/...).
    with EtcdServer('3.5') as etcd:
        yield etcd


@pytest.fixture(scope='module')
def workdir(tmp_path_factory, api):
    path = tmp_path_factory.mktemp('guide-%s-' % api)
    for name, body in guide_files().items():
        (path / name).write_text(body, encoding='utf-8')
    return path


def play(workdir, server, playbook: str, *extra: str, api: Optional[str] = None) -> subprocess.CompletedProcess:
    api = api or workdir.name.split('-')[1]  # the workdir fixture names its directory guide-<api>-N
    env = {name: value for name, value in os.environ.items() if not name.startswith(('ANSIBLE_', 'PYETCD_'))}
    env.update(ANSIBLE_COLLECTIONS_PATH=os.environ['PYETCD_COLLECTIONS_DIR'], ANSIBLE_HOME=str(workdir / 'home'),
               ANSIBLE_NOCOLOR='1', ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false')
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'inventory.yml', playbook,
               '-e', 'etcd_host=%s:%d' % (server.host, server.port), '-e', 'deploy_root=%s' % (workdir / 'srv'),
               '-e', 'etcd_api_version=%s' % api,
               *extra]
    return subprocess.run(command, cwd=str(workdir), env=env, capture_output=True, text=True, timeout=600, check=False)


def recap_changed(output: str) -> int:
    return sum(int(n) for n in re.findall(r'changed=(\d+)', output.split('PLAY RECAP', 1)[-1]))


def test_guide_has_the_three_playbooks_and_an_inventory():
    assert sorted(guide_files()) == ['configure.yml', 'deploy.yml', 'inventory.yml', 'publish.yml', 'secure.yml']


def test_worked_example_end_to_end(workdir, server, api):

    first = play(workdir, server, 'publish.yml')
    assert first.returncode == 0, first.stdout + first.stderr
    assert etcd_get(server, api, '/services/web/config/listen_port') == '8080'
    assert etcd_get(server, api, '/services/web/config/debug') == 'false'
    assert etcd_get(server, api, '/services/web/config/database/host') == 'db1.internal'
    assert json.loads(etcd_get(server, api, '/services/web/config/upstreams')) == ['10.0.0.11:9000', '10.0.0.12:9000']
    assert etcd_get(server, api, '/services/web/release') == '1.4.2'

    configure = play(workdir, server, 'configure.yml')
    assert configure.returncode == 0, configure.stdout + configure.stderr
    for host in ('web1', 'web2', 'web3'):
        ini = (workdir / 'srv' / host / 'web.ini').read_text(encoding='utf-8')
        assert 'port = 8080' in ini and 'workers = 4' in ini and 'log_level = info' in ini
        assert 'upstreams = 10.0.0.11:9000,10.0.0.12:9000' in ini and 'host = db1.internal' in ini

    deploy = play(workdir, server, 'deploy.yml')
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert etcd_get(server, api, '/services/web/release') == '1.5.0'
    assert etcd_get(server, api, '/services/web/deploy-lock') is None, 'the lock must be released'
    for host in ('web1', 'web2', 'web3'):
        assert (workdir / 'srv' / host / 'RELEASE').read_text(encoding='utf-8') == '1.5.0\n'

    again = play(workdir, server, 'publish.yml')
    assert again.returncode == 0, again.stdout + again.stderr
    assert recap_changed(again.stdout) == 0, again.stdout

    # The same rollout again: the pointer no longer says 1.4.2, so it stops before any host.
    rerun = play(workdir, server, 'deploy.yml')
    assert rerun.returncode != 0 and 'Take the deploy lock' not in rerun.stdout, rerun.stdout
    # Asked for explicitly, a redeploy at the release the pointer names is ok.
    redeploy = play(workdir, server, 'deploy.yml', '-e', 'from_release=1.5.0')
    assert redeploy.returncode == 0, redeploy.stdout + redeploy.stderr
    assert etcd_get(server, api, '/services/web/release') == '1.5.0'
    assert etcd_get(server, api, '/services/web/deploy-lock') is None


def test_deploy_from_an_unexpected_release_touches_no_host(workdir, server, api):
    # Runs after the end-to-end test (module order): the pointer says 1.5.0 by now.
    before = etcd_get(server, api, '/services/web/release')
    marker = workdir / 'srv' / 'web1' / 'RELEASE'
    stamp = marker.stat().st_mtime_ns if marker.exists() else None
    # The guide's claim as it stands: to_release (1.5.0) is what the pointer already holds, and
    # the wrong from_release must still stop the rollout.
    assert before == '1.5.0'
    proc = play(workdir, server, 'deploy.yml', '-e', 'from_release=1.3.0')
    assert proc.returncode != 0
    assert '/services/web/release' in proc.stdout and "prev_value='1.3.0' not met" in proc.stdout
    assert etcd_get(server, api, '/services/web/release') == before
    # The failed first play ends the playbook: the second play never starts.
    assert 'Take the deploy lock' not in proc.stdout, proc.stdout
    assert (marker.stat().st_mtime_ns if marker.exists() else None) == stamp


def test_a_second_run_for_the_same_host_waits_for_the_lock(workdir, server, api):
    # Another run for web1 holds the lock (under the bare host name, as the guide once wrote it).
    key = '/services/web/deploy-lock'
    lock_url = '%s/v2/keys%s' % (server.url, key)
    if api == 'v3':
        lease = v3_state.etcdctl(server, 'lease', 'grant', '600').stdout.split()[1].decode()
        v3_state.etcdctl(server, 'put', key, 'web1', '--lease=%s' % lease)
        held = v3_state.kv(server, key)['mod_revision']
    else:
        request = urllib.request.Request(lock_url, data=b'value=web1&ttl=600', method='PUT')
        with urllib.request.urlopen(request, timeout=5) as resp:
            held = json.loads(resp.read().decode())['node']['modifiedIndex']
    marker = workdir / 'srv' / 'web1' / 'RELEASE'
    stamp = marker.stat().st_mtime_ns
    try:
        proc = play(workdir, server, 'deploy.yml', '-e', 'from_release=1.5.0', '-e', 'lock_retries=1',
                    '-e', 'lock_delay=0')
        assert proc.returncode != 0, proc.stdout
        if api == 'v3':
            found = v3_state.kv(server, key)
            now = (found['value'], found['mod_revision'])
        else:
            with urllib.request.urlopen(lock_url, timeout=5) as resp:
                node = json.loads(resp.read().decode())['node']
            now = (node['value'], node['modifiedIndex'])
        # Not entered, and the other run's lock neither overwritten nor released.
        assert now == ('web1', held)
        assert marker.stat().st_mtime_ns == stamp
    finally:
        if api == 'v3':
            v3_state.etcdctl(server, 'del', key)
        else:
            urllib.request.urlopen(urllib.request.Request(lock_url, method='DELETE'), timeout=5).close()


def test_bootstrap_a_secured_cluster(tmp_path):
    """The guide's secure.yml on a server of its own (auth is cluster-wide): users, roles and
    auth from nothing; a re-run is all ok; etcdctl as each user sees what the roles allow."""
    for name, body in guide_files().items():
        (tmp_path / name).write_text(body, encoding='utf-8')
    secrets = {'etcd_root_password': 'guide-root-pw-1', 'etcd_web_password': 'guide-web-pw-2',
               'etcd_deployer_password': 'guide-deployer-pw-3'}
    (tmp_path / 'secrets.yml').write_text(json.dumps(secrets), encoding='utf-8')
    with EtcdServer('3.5') as server:
        v3_state.etcdctl(server, 'put', '/services/web/release', '1.4.2')
        extra = ('-e', '@secrets.yml')
        first = play(tmp_path, server, 'secure.yml', *extra, api='v3')
        assert first.returncode == 0, first.stdout + first.stderr
        assert not any(secret in first.stdout + first.stderr for secret in secrets.values())
        again = play(tmp_path, server, 'secure.yml', *extra, api='v3')
        assert again.returncode == 0 and recap_changed(again.stdout) == 0, again.stdout
        web = 'web:' + secrets['etcd_web_password']
        deployer = 'deployer:' + secrets['etcd_deployer_password']
        read = v3_state.etcdctl(server, 'get', '/services/web/release', '--print-value-only', user=web)
        assert read.stdout.decode().strip() == '1.4.2'
        refused = v3_state.etcdctl(server, 'put', '/services/web/release', '9', user=web, check=False)
        assert refused.returncode != 0 and b'permission denied' in refused.stderr
        v3_state.etcdctl(server, 'put', '/services/web/release', '1.5.0', user=deployer)
        assert v3_state.etcdctl(server, 'get', '/x', check=False).returncode != 0, 'auth is not on'
