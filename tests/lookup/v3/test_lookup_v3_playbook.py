"""The v3 lookup in real ansible-playbook runs: api_version from the environment
(PYETCD_API_VERSION) and from the play variable pyetcd_api_version; a failure fails the task."""
from __future__ import annotations

from tests.lookup.v3.conftest import put, put_many


def _play(url: str, pfx: str, extra_vars: str = '') -> str:
    return '''
        - hosts: localhost
          gather_facts: false
          vars:
            prefix: %s
            pyetcd_host: %s
            %s
          tasks:
            - name: Read v3 keys, a directory and a missing key
              ansible.builtin.set_fact:
                one: "{{ lookup('pyetcd.etcd.etcd', prefix ~ 'app/port') }}"
                listed: "{{ query('pyetcd.etcd.etcd', prefix ~ 'app/port', prefix ~ 'app/empty') }}"
                tree: "{{ lookup('pyetcd.etcd.etcd', prefix ~ 'app') }}"
                meta: "{{ lookup('pyetcd.etcd.etcd', prefix ~ 'app/port', metadata=true) }}"
                missing: "{{ lookup('pyetcd.etcd.etcd', prefix ~ 'nope', default='dflt') }}"
            - name: Check them
              ansible.builtin.assert:
                that:
                  - one == '8080'
                  - listed == ['8080', '']
                  - "tree == {'db': {'host': 'db1'}, 'empty': '', 'port': '8080'}"
                  - meta.mod_revision == meta.modified_index
                  - meta.version == 1
                  - missing == 'dflt'
        ''' % (pfx, url, extra_vars)


def _tree(server, pfx):
    put_many(server, {pfx + 'app/port': '8080', pfx + 'app/empty': '', pfx + 'app/db/host': 'db1'})


def test_api_version_from_the_environment(etcd35, pfx, playbook):
    _tree(etcd35, pfx)
    proc = playbook(_play(etcd35.url, pfx), env={'PYETCD_API_VERSION': 'v3'})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_api_version_from_a_play_variable(etcd_server, pfx, playbook):
    _tree(etcd_server, pfx)
    proc = playbook(_play(etcd_server.url, pfx, 'pyetcd_api_version: v3'))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_without_api_version_the_v2_store_is_read(etcd35, pfx, playbook):
    """The default stays v2: the v3 key is not found there and the task fails saying so."""
    put(etcd35, '/' + pfx + 'k', 'v3 only')
    proc = playbook('''
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Read a key that exists only in v3
              ansible.builtin.debug:
                msg: "{{ lookup('pyetcd.etcd.etcd', '/%sk', host='%s') }}"
        ''' % (pfx, etcd35.url))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert 'not found' in out and pfx + 'k' in out


def test_a_v3_failure_fails_the_task_with_key_and_member(etcd35, pfx, playbook):
    proc = playbook('''
        - hosts: localhost
          gather_facts: false
          vars:
            pyetcd_api_version: v3
          tasks:
            - name: A v2 option on v3
              ansible.builtin.debug:
                msg: "{{ lookup('pyetcd.etcd.etcd', '%sk', host='%s', recursive=false) }}"
        ''' % (pfx, etcd35.url))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert 'recursive needs api_version=v2' in out
