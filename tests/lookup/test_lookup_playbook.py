"""The lookup in real ansible-playbook runs: FQCN and short name, query(), failures, and where
connection options come from (keyword, vars, environment, ansible.cfg) and in which order.
"""
from __future__ import annotations

import os
import re

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client
from tests.harness.etcd_server import free_port

SECRET = 'pl4ybook-Secret-Pa55'


@pytest.fixture
def tree(etcd35, key_prefix):
    with Client(host=etcd35.url) as writer:
        writer.write(key_prefix + '/app/port', '8080')
        writer.write(key_prefix + '/app/mode', 'prod')
        writer.write(key_prefix + '/app/db/host', 'db1')
    return key_prefix


def _lookup_plugins_dir() -> str:
    return os.path.join(os.environ['PYETCD_COLLECTIONS_DIR'], 'ansible_collections', 'pyetcd', 'etcd', 'plugins', 'lookup')


def _dead_url() -> str:
    return 'http://127.0.0.1:%d' % free_port()


def test_fqcn_lookup_query_and_directory_in_a_play(etcd35, tree, playbook):
    proc = playbook('''
        - hosts: localhost
          gather_facts: false
          vars:
            prefix: %s
            pyetcd_host: %s
          tasks:
            - name: Read values, several terms, a list and a directory
              ansible.builtin.set_fact:
                one: "{{ lookup('pyetcd.etcd.etcd', prefix ~ '/app/port') }}"
                joined: "{{ lookup('pyetcd.etcd.etcd', prefix ~ '/app/port', prefix ~ '/app/mode') }}"
                listed: "{{ query('pyetcd.etcd.etcd', prefix ~ '/app/port', prefix ~ '/app/mode') }}"
                wanted: "{{ lookup('pyetcd.etcd.etcd', prefix ~ '/app/port', wantlist=true) }}"
                tree: "{{ lookup('pyetcd.etcd.etcd', prefix ~ '/app') }}"
                missing: "{{ lookup('pyetcd.etcd.etcd', prefix ~ '/app/nope', default='dflt') }}"
            - name: Check them
              ansible.builtin.assert:
                that:
                  - one == '8080'
                  - joined == '8080,prod'
                  - listed == ['8080', 'prod']
                  - wanted == ['8080']
                  - "tree == {'db': {'host': 'db1'}, 'mode': 'prod', 'port': '8080'}"
                  - tree.db.host == 'db1'
                  - missing == 'dflt'
        ''' % (tree, etcd35.url))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_failures_fail_the_task_and_never_show_the_password(playbook, key_prefix):
    dead = _dead_url()
    proc = playbook('''
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Read from a member that is not there
              ansible.builtin.debug:
                msg: "{{ lookup('pyetcd.etcd.etcd', '%s/k', host='%s', username='u', password='%s', default='x') }}"
        ''' % (key_prefix, dead, SECRET), extra_args=('-vvv',))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert 'unreachable' in out
    assert dead in out
    assert key_prefix + '/k' in out
    assert SECRET not in out


@pytest.mark.parametrize('how', ['ansible.cfg', 'environment'])
def test_short_name_with_lookup_plugins_setting(etcd35, tree, playbook, how):
    cfg, env = '', {}
    if how == 'ansible.cfg':
        cfg = '[defaults]\nlookup_plugins = %s\n' % _lookup_plugins_dir()
    else:
        env = {'ANSIBLE_LOOKUP_PLUGINS': _lookup_plugins_dir()}
    proc = playbook('''
        - hosts: localhost
          gather_facts: false
          vars:
            pyetcd_host: %s
          tasks:
            - name: Short name reads through this collection's plugin
              ansible.builtin.set_fact:
                port: "{{ lookup('etcd', '%s/app/port') }}"
                meta: "{{ lookup('etcd', '%s/app/port', metadata=true) }}"
            - name: Only this collection's lookup has these options and answers
              ansible.builtin.assert:
                that:
                  - port == '8080'
                  - meta.action == 'get'
                  - meta.modified_index > 0
            - name: A missing key fails instead of giving null
              ansible.builtin.set_fact:
                missing: "{{ lookup('etcd', '%s/app/nope') }}"
              ignore_errors: true
              register: missing_result
            - name: Check the failure
              ansible.builtin.assert:
                that:
                  - missing_result is failed
                  - "'not found' in missing_result.msg"
        ''' % (etcd35.url, tree, tree, tree), cfg=cfg, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_short_name_without_the_setting_is_not_this_plugin(etcd35, tree, playbook):
    # Why the README's setting is needed: ansible-core redirects the bare name to
    # community.general.etcd (not installed here; where it is, it returns null on errors).
    proc = playbook('''
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Bare name without lookup_plugins
              ansible.builtin.debug:
                msg: "{{ lookup('etcd', '%s/app/port', host='%s') }}"
        ''' % (tree, etcd35.url))
    out = proc.stdout + proc.stderr
    # This plugin would have read the key; the bare name went elsewhere. ansible-core 2.19 names
    # the community.general redirect, 2.16 and 2.21 only say the lookup was not found.
    assert proc.returncode != 0, out
    assert 'community.general' in out or re.search(r"lookup plugin \(?'?etcd'?\)? (was )?not found", out, re.I), out


PRECEDENCE_PLAY = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Read with the configured connection
      ansible.builtin.set_fact:
        got: "{{ lookup('pyetcd.etcd.etcd', '%(key)s' %(keyword)s) }}"
      vars: %(vars)s
    - name: Check the value
      ansible.builtin.assert:
        that: got == 'precedence-ok'
'''


@pytest.fixture
def precedence_key(etcd35, key_prefix):
    with Client(host=etcd35.url) as writer:
        writer.write(key_prefix + '/p', 'precedence-ok')
    return key_prefix + '/p'


def _precedence_run(playbook, key, ini=None, env=None, var=None, keyword=None):
    """Each source names one member; all but the one expected to win name a dead port."""
    cfg = '[pyetcd]\nhost = %s\ntimeout = 2\n' % ini if ini else ''
    play = PRECEDENCE_PLAY % {
        'key': key,
        'keyword': ", host='%s'" % keyword if keyword else '',
        'vars': '{pyetcd_host: "%s"}' % var if var else '{}',
    }
    return playbook(play, cfg=cfg, env={'PYETCD_HOST': env} if env else {})


def test_options_from_ansible_cfg(etcd35, precedence_key, playbook):
    proc = _precedence_run(playbook, precedence_key, ini=etcd35.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_environment_beats_ansible_cfg(etcd35, precedence_key, playbook):
    proc = _precedence_run(playbook, precedence_key, ini=_dead_url(), env=etcd35.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_variables_beat_environment_and_ansible_cfg(etcd35, precedence_key, playbook):
    proc = _precedence_run(playbook, precedence_key, ini=_dead_url(), env=_dead_url(), var=etcd35.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_keyword_beats_everything(etcd35, precedence_key, playbook):
    proc = _precedence_run(playbook, precedence_key, ini=_dead_url(), env=_dead_url(), var=_dead_url(), keyword=etcd35.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_dead_higher_source_is_really_used(etcd35, precedence_key, playbook):
    # The counterpart of the tests above: the winning source is used even when it is wrong.
    dead = _dead_url()
    proc = _precedence_run(playbook, precedence_key, ini=etcd35.url, env=etcd35.url, var=dead)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert dead in out


def test_option_variables_are_templated(etcd35, precedence_key, playbook):
    # Variables reach a lookup untemplated; the plugin renders the ones its options read, so
    # references and typed values (an int port, a bool) work as in any other variable.
    proc = playbook('''
        - hosts: localhost
          gather_facts: false
          vars:
            etcd_address: 127.0.0.1
            etcd_client_port: %d
            reconnect: false
            pyetcd_host: "{{ etcd_address }}"
            pyetcd_port: "{{ etcd_client_port }}"
            pyetcd_allow_reconnect: "{{ reconnect }}"
            pyetcd_timeout: "{{ 2 + 1 }}"
          tasks:
            - name: Read with templated connection variables
              ansible.builtin.assert:
                that: lookup('pyetcd.etcd.etcd', '%s') == 'precedence-ok'
        ''' % (etcd35.port, precedence_key))
    assert proc.returncode == 0, proc.stdout + proc.stderr
