"""Reliability through ansible-playbook: cluster faults, a lock race and bad input, using the
modules (etcd_key, etcd_dir, etcd_cas, etcd_info) and the lookup against real etcd.

* A killed leader: the play still converges through the other members, and a re-run reports
  no change.
* All members down: the first task fails with one line naming every member; after the
  members are restarted a re-run converges, and one more run changes nothing.
* A frozen member listed first: every task moves on after its timeout and the play converges.
  These three run the same play on the v2 store and on the v3 store (api_version), checked
  through the v2 API or etcdctl.
* Two ansible-playbook runs racing for one lock key with etcd_cas: exactly one wins.
* Bad input to the modules: each task fails with one line naming the problem, no traceback,
  and nothing is written.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import Client, EtcdKeyNotFound
from tests.harness import v3_state
from tests.reliability.conftest import failed_messages, run_playbook

CONVERGE = '''
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/pyetcd.etcd.etcd:
      host: {hosts}
      timeout: {timeout}
      api_version: {api}
  tasks:
    - name: a key
      pyetcd.etcd.etcd_key:
        key: {prefix}/config/mode
        value: active
    - name: a directory tree
      pyetcd.etcd.etcd_dir:
        path: {prefix}/app
        content:
          port: 8080
          flags:
            debug: false
    - name: a lock taken only if free (a re-run finds it taken and reports swapped=false)
      pyetcd.etcd.etcd_cas:
        key: {prefix}/lock
        value: me
        prev_exist: false
        fail_on_mismatch: false
    - name: cluster facts
      pyetcd.etcd.etcd_info:
        gather: [health]
        key: {prefix}/app/port
      register: info
    - name: read back through the lookup
      ansible.builtin.assert:
        that:
          - lookup('pyetcd.etcd.etcd', '{prefix}/config/mode', host={hosts}, timeout={timeout}, api_version='{api}') == 'active'
          - lookup('pyetcd.etcd.etcd', '{prefix}/app/port', host={hosts}, timeout={timeout}, api_version='{api}') == '8080'
          - info.exists
'''


def _converge_play(hosts, prefix: str, timeout: float = 2, ignore_errors: bool = False, api: str = 'v2') -> str:
    play = CONVERGE.format(hosts=json.dumps(hosts), prefix=prefix, timeout=timeout, api=api)
    if ignore_errors:
        # Every task runs (and fails) on its own: each module and the lookup meet the fault.
        play = '\n'.join(line + ('\n      ignore_errors: true' if line.startswith('    - name: ') else '')
                         for line in play.splitlines())
    return play


def _recap(stdout: str) -> dict:
    """The numbers of the PLAY RECAP line for localhost."""
    for line in stdout.splitlines():
        if line.startswith('localhost') and 'ok=' in line:
            return {k: int(v) for k, v in (item.split('=') for item in line.split(':', 1)[1].split())}
    raise AssertionError('no PLAY RECAP in:\n' + stdout[-2000:])


def _check_tree(urls, prefix: str, api: str = 'v2') -> None:
    """What the play wrote, read without the modules: the v2 API, or etcdctl for v3."""
    wanted = {'/config/mode': 'active', '/app/port': '8080', '/app/flags/debug': 'false', '/lock': 'me'}
    if api == 'v3':
        found = v3_state.values(urls[-1], prefix + '/')
        assert found == {prefix + key: value for key, value in wanted.items()}, found
        return
    client = Client(host=urls, timeout=5)
    for key, value in wanted.items():
        assert client.read(prefix + key, quorum=True).node.value == value


@pytest.mark.slow
@pytest.mark.parametrize('api', ['v2', 'v3'])
def test_playbook_survives_a_killed_leader_and_reruns_clean(etcd_cluster, playbook_dir, figures, api):
    prefix = '/play-%s' % uuid.uuid4().hex[:8]
    leader = etcd_cluster.leader()
    # The dead leader is listed first, so every task meets it.
    urls = [leader.url] + [m.url for m in etcd_cluster.members if m is not leader]
    leader.kill()
    # The survivors elect a new leader (the client-level test covers writes during the
    # election itself); the play then meets the dead member first on every task.
    etcd_cluster.leader()
    proc = run_playbook(_converge_play(urls, prefix, api=api), playbook_dir)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert _recap(proc.stdout)['changed'] == 3
    again = run_playbook(_converge_play(urls, prefix, api=api), playbook_dir)
    assert again.returncode == 0 and _recap(again.stdout)['changed'] == 0, again.stdout[-3000:]
    _check_tree(urls[1:], prefix, api)
    figures.add('faults: playbook runs through a dead leader (%s)' % api, 2)


@pytest.mark.slow
@pytest.mark.parametrize('api', ['v2', 'v3'])
def test_playbook_with_all_members_down_fails_clearly_then_converges(etcd_cluster, playbook_dir, figures, api):
    prefix = '/play-%s' % uuid.uuid4().hex[:8]
    urls = etcd_cluster.urls
    for member in etcd_cluster.members:
        member.kill()
    proc = run_playbook(_converge_play(urls, prefix, api=api), playbook_dir)
    assert proc.returncode == 2
    messages = failed_messages(proc.stdout)
    assert len(messages) == 1, messages      # the play stops at the first failed task
    assert '\n' not in messages[0] and prefix + '/config/mode' in messages[0]
    for url in urls:
        assert '%s: connection refused' % url in messages[0]
    assert 'Traceback' not in proc.stdout + proc.stderr

    # Every module and the lookup, each on its own: one line each, naming every member.
    proc = run_playbook(_converge_play(urls, prefix, ignore_errors=True, api=api), playbook_dir)
    messages = failed_messages(proc.stdout)
    assert len(messages) == 5, messages
    for message in messages:
        assert '\n' not in message and all('%s: connection refused' % url in message for url in urls), message
    assert 'Traceback' not in proc.stdout + proc.stderr

    for member in etcd_cluster.members:
        member.start(wait=False)
    for member in etcd_cluster.members:
        member.wait_healthy(60)
    proc = run_playbook(_converge_play(urls, prefix, api=api), playbook_dir)
    assert proc.returncode == 0 and _recap(proc.stdout)['changed'] == 3, proc.stdout[-3000:]
    again = run_playbook(_converge_play(urls, prefix, api=api), playbook_dir)
    assert again.returncode == 0 and _recap(again.stdout)['changed'] == 0, again.stdout[-3000:]
    _check_tree(urls, prefix, api)
    figures.add('faults: playbook all-members-down then recovery (%s)' % api, 1)
    figures.add('faults: playbook runs checked (%s)' % api, 4)


@pytest.mark.slow
@pytest.mark.parametrize('api', ['v2', 'v3'])
def test_playbook_with_a_frozen_first_member_converges(etcd_cluster, playbook_dir, figures, api):
    prefix = '/play-%s' % uuid.uuid4().hex[:8]
    frozen = etcd_cluster.followers()[0]
    urls = [frozen.url] + [m.url for m in etcd_cluster.members if m is not frozen]
    frozen.freeze()
    try:
        proc = run_playbook(_converge_play(urls, prefix, timeout=1, api=api), playbook_dir)
    finally:
        frozen.thaw()
    # Reads move on after 1 s; a write that met the frozen member first would be "outcome
    # unknown", but the modules read first (and the read already moved to a live member).
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert _recap(proc.stdout)['changed'] == 3
    _check_tree(urls[1:], prefix, api)
    figures.add('faults: playbook runs through a frozen member (%s)' % api, 1)


LOCK_PLAY = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: wait for the start signal
      ansible.builtin.set_fact:
        go: "{{{{ lookup('pyetcd.etcd.etcd', '{go}', host='{url}', wait=true, wait_index={index}, wait_timeout=60) }}}}"
    - name: take the lock
      pyetcd.etcd.etcd_cas:
        host: "{url}"
        key: {lock}
        value: "{owner}"
        prev_exist: false
        fail_on_mismatch: false
      register: lock
    - name: report
      ansible.builtin.debug:
        msg: "RESULT swapped={{{{ lock.swapped }}}} changed={{{{ lock.changed }}}} END"
'''


@pytest.mark.slow
def test_two_playbooks_racing_for_a_lock_exactly_one_wins(etcd35, tmp_path, figures):
    lock = '/race-%s/lock' % uuid.uuid4().hex[:8]
    go = lock + '-go'
    client = Client(host=etcd35.url, timeout=5)
    index = client.write(go, 'wait').x_etcd_index + 1
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.environ['PYETCD_COLLECTIONS_DIR'], ANSIBLE_NOCOLOR='1',
               ANSIBLE_HOME=str(tmp_path / 'home'), ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'))
    procs, outputs, waiting = [], {}, {}
    for owner in ('runner-a', 'runner-b'):
        workdir = tmp_path / owner
        workdir.mkdir()
        (workdir / 'play.yml').write_text(LOCK_PLAY.format(go=go, url=etcd35.url, index=index, lock=lock, owner=owner))
        (workdir / 'inventory.yml').write_text('all:\n  hosts:\n    localhost:\n      ansible_connection: local\n'
                                               '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n')
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'inventory.yml', 'play.yml']
        proc = subprocess.Popen(cmd, cwd=str(workdir), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        procs.append((owner, proc))
        outputs[owner] = []
        waiting[owner] = threading.Event()

    def pump(owner, proc):
        for line in proc.stdout:
            outputs[owner].append(line)
            if 'TASK [wait for the start signal]' in line:
                waiting[owner].set()

    pumps = [threading.Thread(target=pump, args=pair, daemon=True) for pair in procs]
    for thread in pumps:
        thread.start()
    try:
        for owner, _proc in procs:
            assert waiting[owner].wait(120), 'playbook %s never started' % owner
        # Both are (about to be) blocked on the watch: release them together.
        time.sleep(0.5)
        client.write(go, 'go')
        for _owner, proc in procs:
            proc.wait(timeout=120)
    finally:
        for _owner, proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for thread in pumps:
        thread.join(timeout=10)
    results = {}
    for owner, proc in procs:
        text = ''.join(outputs[owner])
        assert proc.returncode == 0, text[-3000:]
        line = next(l for l in text.splitlines() if 'RESULT swapped=' in l)
        fields = dict(item.split('=') for item in line[line.index('RESULT ') + 7:line.index(' END')].split())
        results[owner] = {name: value == 'True' for name, value in fields.items()}
    winners = [owner for owner, result in results.items() if result['swapped']]
    assert len(winners) == 1, results
    assert results[winners[0]]['changed'] is True
    assert client.read(lock, quorum=True).node.value == winners[0]
    figures.add('concurrency: playbook lock races, exactly one winner')


BAD_TASKS = [
    # (name, module, args, words in the message)
    ('empty key', 'etcd_key', {'key': '', 'value': 'v'}, "got ''"),
    ('dot-dot key', 'etcd_key', {'key': '{p}/a/../b', 'value': 'v'}, "'..'"),
    ('negative ttl', 'etcd_key', {'key': '{p}/k', 'value': 'v', 'ttl': -5}, 'ttl'),
    ('ttl not a number', 'etcd_key', {'key': '{p}/k', 'value': 'v', 'ttl': 'soon'}, 'ttl'),
    ('present without value', 'etcd_key', {'key': '{p}/k'}, 'value'),
    ('key where a directory is', 'etcd_key', {'key': '{p}/dir', 'value': 'v'}, '{p}/dir'),
    ('directory where a key is', 'etcd_dir', {'path': '{p}/key', 'content': {'a': '1'}}, '{p}/key'),
    ('directory removal on a key', 'etcd_dir', {'path': '{p}/key', 'state': 'absent'}, '{p}/key'),
    ('key removal on a directory', 'etcd_key', {'key': '{p}/dir', 'state': 'absent'}, '{p}/dir'),
    ('compare-and-delete on a directory', 'etcd_cas', {'key': '{p}/dir', 'state': 'absent', 'prev_value': 'c'}, '{p}/dir'),
    ('prev_index not a number', 'etcd_cas', {'key': '{p}/k', 'value': 'v', 'prev_index': 'abc'}, 'prev_index'),
    ('prev_index zero', 'etcd_cas', {'key': '{p}/k', 'value': 'v', 'prev_index': 0}, 'prev_index'),
    ('create with prev_value', 'etcd_cas', {'key': '{p}/k', 'value': 'v', 'prev_exist': False, 'prev_value': 'x'},
     'prev_value'),
    ('empty prev_value', 'etcd_cas', {'key': '{p}/k', 'value': 'v', 'prev_value': ''}, 'prev_value'),
    ('too long key', 'etcd_key', {'key': '{p}/' + 'k' * 5000, 'value': 'v'}, 'too long'),
    ('unknown option', 'etcd_key', {'key': '{p}/k', 'value': 'v', 'colour': 'red'}, 'colour'),
]


@pytest.mark.slow
def test_bad_input_to_the_modules_fails_cleanly_and_writes_nothing(etcd35, playbook_dir, figures):
    prefix = '/badplay-%s' % uuid.uuid4().hex[:8]
    client = Client(host=etcd35.url, timeout=5)
    client.mkdir(prefix + '/dir')
    client.write(prefix + '/dir/child', 'c')
    client.write(prefix + '/key', 'k')
    snapshot = json.dumps(client.read(prefix, recursive=True, sorted=True).data['node'], sort_keys=True)

    tasks = []
    for name, module, args, _words in BAD_TASKS:
        rendered = json.loads(json.dumps(args).replace('{p}', prefix))
        rendered['host'] = etcd35.url
        tasks.append({'name': name, 'pyetcd.etcd.' + module: rendered, 'ignore_errors': True})
    # Inputs that must round-trip through a module and the lookup.
    odd_key = prefix + '/odd key ?#%&/ünï'
    big_value = 'x' * (1 << 20)
    tasks.append({'name': 'odd key', 'pyetcd.etcd.etcd_key': {'host': etcd35.url, 'key': odd_key, 'value': 'odd'}})
    tasks.append({'name': 'big value', 'pyetcd.etcd.etcd_key': {'host': etcd35.url, 'key': prefix + '-big', 'value': big_value}})
    host = json.dumps(etcd35.url)
    tasks.append({'name': 'odd key through the lookup', 'ansible.builtin.assert': {'that': [
        "lookup('pyetcd.etcd.etcd', %s, host=%s) == 'odd'" % (json.dumps(odd_key), host),
        "lookup('pyetcd.etcd.etcd', %s, host=%s) | length == %d" % (json.dumps(prefix + '-big'), host, len(big_value)),
    ]}})
    play = json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}])
    proc = run_playbook(play, playbook_dir)
    output = proc.stdout + proc.stderr
    assert 'Traceback' not in output
    messages = failed_messages(proc.stdout)
    assert len(messages) == len(BAD_TASKS), "\n".join(messages)
    for (name, _module, _args, words), message in zip(BAD_TASKS, messages):
        expected = words.replace('{p}', prefix)
        assert expected in message and '\n' not in message, (name, message)
    assert _recap(proc.stdout)['ignored'] == len(BAD_TASKS)
    assert client.read(odd_key).node.value == 'odd'
    assert client.read(prefix + '-big').node.value == big_value
    # Nothing was written by a refused task: the fixture tree is exactly as before, plus the odd key.
    client.delete(odd_key)
    client.rmdir(prefix + '/odd key ?#%&')
    assert json.dumps(client.read(prefix, recursive=True, sorted=True).data['node'], sort_keys=True) == snapshot
    for absent in (prefix + '/k', prefix + '/b'):
        with pytest.raises(EtcdKeyNotFound):
            client.read(absent)
    figures.add('bad input: inputs tried', len(BAD_TASKS) + 2)
