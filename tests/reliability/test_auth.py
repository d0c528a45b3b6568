"""etcd v2 auth on a real etcd 3.5: a root user, a role limited to one prefix, a user with
that role, and the guest role stripped of its default full access.

The right user reads and writes under its prefix; a wrong password, an unknown user, no
credentials and a key outside the prefix all fail as "unauthorized" naming the key; the
password never appears in any message, nor anywhere in the output of a playbook run at
-vvv that uses the modules and the lookup with right and wrong credentials.
"""
from __future__ import annotations

import json
import os
import uuid

import pytest
import requests

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import Client, EtcdBulkWriteFailed, EtcdUnauthorized
from tests.harness.etcd_server import EtcdServer
from tests.reliability.conftest import failed_messages, run_playbook

ROOT_PASSWORD = 'R00t-' + uuid.uuid4().hex
APP_PASSWORD = 'App-Pw-' + uuid.uuid4().hex   # unique enough that any occurrence in output is a leak
WRONG_PASSWORD = 'Wrong-Pw-' + uuid.uuid4().hex


@pytest.fixture(scope='module')
def auth_server():
    server = EtcdServer('3.5')
    server.start()
    try:
        base, root = server.url + '/v2/auth', ('root', ROOT_PASSWORD)
        steps = [
            ('PUT', '/users/root', None, {'user': 'root', 'password': ROOT_PASSWORD}),
            ('PUT', '/enable', None, None),
            # Enabling auth gives the guest role read/write on everything: take it away.
            ('PUT', '/roles/guest', root, {'role': 'guest', 'revoke': {'kv': {'read': ['/*'], 'write': ['/*']}}}),
            ('PUT', '/roles/app', root, {'role': 'app', 'permissions': {'kv': {'read': ['/app/*'], 'write': ['/app/*']}}}),
            ('PUT', '/users/alice', root, {'user': 'alice', 'password': APP_PASSWORD, 'roles': ['app']}),
        ]
        for method, path, auth, body in steps:
            response = requests.request(method, base + path, auth=auth, json=body, timeout=10)
            assert response.status_code in (200, 201), (path, response.status_code, response.text)
        # Something outside the app's prefix, written as root.
        Client(host=server.url, username='root', password=ROOT_PASSWORD).write('/other/secret', 'root-only')
        yield server
    finally:
        server.destroy()


def _assert_no_password(text: str) -> None:
    for secret in (APP_PASSWORD, WRONG_PASSWORD, ROOT_PASSWORD):
        assert secret not in text, 'a password appears in the output'


def test_right_user_reads_and_writes_its_prefix(auth_server, figures):
    client = Client(host=auth_server.url, username='alice', password=APP_PASSWORD)
    assert client.write('/app/config', 'v1').node.value == 'v1'
    assert client.read('/app/config').node.value == 'v1'
    assert client.compare_and_swap('/app/config', 'v2', prev_value='v1').node.value == 'v2'
    _assert_no_password(repr(client))
    figures.add('tls/auth: cases checked')


def test_write_many_sends_the_credentials_on_every_pipelined_request(auth_server, figures):
    items = [('/app/bulk/k%03d' % number, str(number)) for number in range(60)]
    client = Client(host=auth_server.url, username='alice', password=APP_PASSWORD)
    assert len(client.write_many(items, concurrency=2, pipeline=16)) == 60
    assert {node.key: node.value for node in client.read('/app/bulk', recursive=True).node.leaves()} == dict(items)
    # A wrong password: every request sent is refused (none applied), the message names keys only.
    wrong = Client(host=auth_server.url, username='alice', password=WRONG_PASSWORD)
    with pytest.raises(EtcdBulkWriteFailed) as err:
        wrong.write_many([('/app/bulk/k000', 'changed'), ('/app/bulk/k001', 'changed')], concurrency=1)
    assert all(isinstance(exc, EtcdUnauthorized) for _key, exc in err.value.failures)
    assert not err.value.outcome_unknown and '/app/bulk/k000' in str(err.value)
    _assert_no_password(str(err.value) + repr(err.value) + repr(wrong))
    assert client.read('/app/bulk/k000').node.value == '0'
    figures.add('tls/auth: cases checked')


@pytest.mark.parametrize('case, username, password, key', [
    ('wrong-password', 'alice', WRONG_PASSWORD, '/app/config'),
    ('unknown-user', 'mallory', WRONG_PASSWORD, '/app/config'),
    ('no-credentials', None, None, '/app/config'),
    ('forbidden-prefix-read', 'alice', APP_PASSWORD, '/other/secret'),
    ('forbidden-prefix-write', 'alice', APP_PASSWORD, '/other/new'),
])
def test_unauthorized_names_the_key_and_never_the_password(auth_server, figures, case, username, password, key):
    client = Client(host=auth_server.url, username=username, password=password)
    calls = [lambda: client.read(key)] if case.endswith('-read') else \
        [lambda: client.write(key, 'x')] if case.endswith('-write') else \
        [lambda: client.read(key), lambda: client.write(key, 'x')]
    for call in calls:
        with pytest.raises(EtcdUnauthorized) as err:
            call()
        message = str(err.value)
        assert key in message and '\n' not in message
        assert err.value.error_code == 110 and err.value.status == 401
        _assert_no_password(message + repr(err.value) + repr(client))
    # Nothing was changed by the refused requests.
    root = Client(host=auth_server.url, username='root', password=ROOT_PASSWORD)
    assert root.read('/other/secret').node.value == 'root-only'
    figures.add('tls/auth: cases checked')


@pytest.mark.slow
def test_playbook_never_prints_the_password(auth_server, playbook_dir, figures):
    play = '''
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/pyetcd.etcd.etcd:
      host: "%(url)s"
      username: alice
  tasks:
    - name: right user writes its prefix
      pyetcd.etcd.etcd_key:
        key: /app/from-playbook
        value: hello
        password: "{{ app_password }}"
    - name: right user reads through the lookup
      ansible.builtin.assert:
        that: lookup('pyetcd.etcd.etcd', '/app/from-playbook', host='%(url)s', username='alice',
                     password=app_password) == 'hello'
    - name: wrong password
      pyetcd.etcd.etcd_key:
        key: /app/from-playbook
        value: changed
        password: "{{ wrong_password }}"
      ignore_errors: true
    - name: forbidden prefix
      pyetcd.etcd.etcd_key:
        key: /other/from-playbook
        value: x
        password: "{{ app_password }}"
      ignore_errors: true
    - name: forbidden prefix through etcd_cas
      pyetcd.etcd.etcd_cas:
        key: /other/secret
        value: stolen
        prev_value: root-only
        password: "{{ app_password }}"
      ignore_errors: true
    - name: wrong password through etcd_info
      pyetcd.etcd.etcd_info:
        key: /app/from-playbook
        gather: []
        password: "{{ wrong_password }}"
      ignore_errors: true
    - name: wrong password through the lookup
      ansible.builtin.debug:
        msg: "{{ lookup('pyetcd.etcd.etcd', '/app/from-playbook', host='%(url)s', username='alice',
                 password=wrong_password) }}"
      ignore_errors: true
''' % {'url': auth_server.url}
    varfile = os.path.join(playbook_dir, 'secrets.json')
    with open(varfile, 'w', encoding='utf-8') as handle:
        json.dump({'app_password': APP_PASSWORD, 'wrong_password': WRONG_PASSWORD}, handle)
    # -vvv prints module arguments and results in full: the strictest place to look for leaks.
    proc = run_playbook(play, playbook_dir, extra_env={'ANSIBLE_VERBOSITY': '3'}, args=['-e', '@' + varfile])
    output = proc.stdout + proc.stderr
    _assert_no_password(output)
    assert 'Traceback' not in output
    messages = failed_messages(proc.stdout)
    assert len(messages) == 5, messages
    for message, key in zip(messages, ['/app/from-playbook', '/other/from-playbook', '/other/secret',
                                       '/app/from-playbook', '/app/from-playbook']):
        assert 'unauthorized' in message.lower() and key in message and '\n' not in message, message
    assert 'ignored=5' in proc.stdout, proc.stdout[-500:]
    root = Client(host=auth_server.url, username='root', password=ROOT_PASSWORD)
    assert root.read('/app/from-playbook').node.value == 'hello'
    assert root.read('/other/secret').node.value == 'root-only'
    figures.add('tls/auth: playbook runs checked')
    figures.add('tls/auth: cases checked', 6)
