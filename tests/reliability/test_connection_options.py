"""Connection options at the playbook level, against a real etcd 3.5.

An empty host list (``host: []``, ``host: ""``, an empty inventory group) is an error, never
127.0.0.1:2379; ``validate_certs: false`` says nothing for plain-http members and keeps
urllib3's own warning off stderr for https members (tests/reliability/test_tls.py).
"""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.reliability.conftest import failed_messages, run_playbook


def _play(tasks: str) -> str:
    return '''
- hosts: localhost
  gather_facts: false
  tasks:
%s''' % tasks


@pytest.mark.parametrize('host', ['[]', '""', "\"{{ groups['no_such_group'] | default([]) }}\""])
def test_a_host_list_naming_no_member_fails_before_anything_is_sent(etcd35, playbook_dir, host):
    key = '/empty-host-%s' % uuid.uuid4().hex[:8]
    tasks = '''    - name: write with an empty host list
      pyetcd.etcd.etcd_key:
        host: %s
        key: %s
        value: lost
''' % (host, key)
    # Even with PYETCD_HOST pointing at a live member, an explicit empty list is not "unset".
    proc = run_playbook(_play(tasks), playbook_dir, extra_env={'PYETCD_HOST': etcd35.url})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    messages = failed_messages(proc.stdout)
    assert len(messages) == 1 and 'host names no etcd member' in messages[0], messages
    assert requests.get(etcd35.url + '/v2/keys' + key, timeout=5).status_code == 404


def test_validate_certs_false_on_plain_http_members_says_nothing(etcd35, playbook_dir):
    key = '/plain-insecure-%s' % uuid.uuid4().hex[:8]
    conn = json.dumps({'host': etcd35.url, 'validate_certs': False})
    tasks = '''    - name: write over plain http with validate_certs false
      pyetcd.etcd.etcd_key:
        key: %s
        value: plain
      args: %s
''' % (key, conn)
    proc = run_playbook(_play(tasks), playbook_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'validate_certs=false' not in proc.stdout + proc.stderr
    assert requests.get(etcd35.url + '/v2/keys' + key, timeout=5).json()['node']['value'] == 'plain'
