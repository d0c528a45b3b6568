# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_role, etcd_user and etcd_auth against real etcd 3.5 and 3.4, checked with etcdctl.

Each test that turns auth on gets a server of its own (auth is cluster-wide and would break
the shared servers); what the modules did is read back with etcdctl, as root or as the user.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.harness.etcd_server import EtcdServer
from tests.harness.tls import make_pki, server_tls
from tests.harness.v3_state import etcdctl
from tests.modules.module_process import run_module

ROOT_PW = 'r00t-Secret-9f2'
READER_PW = 'reader-Secret-4c1'
NEW_READER_PW = 'reader-Rotated-7d3'


@pytest.fixture
def own_server(etcd_server):
    # The version of the shared server (3.5 and 3.4), in a server of the test's own.
    with EtcdServer(etcd_server.version) as server:
        yield server


def v3(server, **extra):
    return dict(host=[server.url], api_version='v3', **extra)


def as_root(server, **extra):
    return v3(server, username='root', password=ROOT_PW, **extra)


def role_perms(server, role, user='root:' + ROOT_PW):
    """The role's permissions as etcdctl lists them: sorted (type, key, range_end) with text keys."""
    out = etcdctl(server, 'role', 'get', role, '-w', 'json', user=user).stdout

    def text(value):
        return base64.b64decode(value).decode() if value else None
    kinds = {0: 'READ', 1: 'WRITE', 2: 'READWRITE'}  # etcdctl's JSON gives the enum number
    return sorted((kinds.get(p.get('permType', 0), p.get('permType')), text(p.get('key')), text(p.get('range_end')))
                  for p in json.loads(out).get('perm') or [])


PLAY = '''
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/pyetcd.etcd.etcd:
      host: "{{ etcd_url }}"
      api_version: v3
      username: root
      password: "{{ root_password }}"
  tasks:
    - name: role root
      pyetcd.etcd.etcd_role: {name: root}
    - name: user root
      pyetcd.etcd.etcd_user: {name: root, user_password: "{{ root_password }}", roles: [root]}
    - name: role app-reader
      pyetcd.etcd.etcd_role:
        name: app-reader
        permissions:
          - {prefix: app/, type: read}
          - {key: shared/flag, type: read}
    - name: user reader
      pyetcd.etcd.etcd_user: {name: reader, user_password: "{{ reader_password }}", roles: [app-reader]}
    - name: auth on
      pyetcd.etcd.etcd_auth: {state: enabled}
'''


def play(server, tmp_path, *extra, reader_password=READER_PW):
    path = tmp_path / 'rbac.yml'
    path.write_text(PLAY)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.environ['PYETCD_COLLECTIONS_DIR'], ANSIBLE_NOCOLOR='1',
               ANSIBLE_HOME=str(tmp_path / 'home'))
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, '-e', 'etcd_url=%s' % server.url,
               '-e', yaml.safe_dump({'root_password': ROOT_PW, 'reader_password': reader_password}, default_flow_style=True).strip(),
               str(path)] + list(extra)
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)


def test_rbac_from_nothing_then_auth_then_rerun_is_ok(own_server, tmp_path):
    server = own_server
    etcdctl(server, 'put', 'app/port', '8080')
    first = play(server, tmp_path, '-vvv')
    assert first.returncode == 0, first.stdout + first.stderr
    for secret in (ROOT_PW, READER_PW):
        assert secret not in first.stdout + first.stderr, 'a password was printed at -vvv'
    # Auth is on: without a user etcdctl is refused, root may do everything.
    assert etcdctl(server, 'get', 'app/port', check=False).returncode != 0
    assert etcdctl(server, 'user', 'get', 'reader', '-w', 'json', user='root:' + ROOT_PW).returncode == 0
    # The reader reads its prefix and is refused a write there and a read elsewhere.
    got = etcdctl(server, 'get', 'app/port', '--print-value-only', user='reader:' + READER_PW)
    assert got.stdout.decode().strip() == '8080'
    refused = etcdctl(server, 'put', 'app/port', '9', user='reader:' + READER_PW, check=False)
    assert refused.returncode != 0 and b'permission denied' in refused.stderr
    assert etcdctl(server, 'get', 'other', user='reader:' + READER_PW, check=False).returncode != 0
    assert role_perms(server, 'app-reader') == sorted([('READ', 'app/', 'app0'), ('READ', 'shared/flag', None)])

    again = play(server, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert 'changed=0' in again.stdout, again.stdout

    # A new password is one change, and only the new one works afterwards.
    rotated = play(server, tmp_path, reader_password=NEW_READER_PW)
    assert rotated.returncode == 0 and 'changed=1' in rotated.stdout, rotated.stdout
    assert etcdctl(server, 'get', 'app/port', user='reader:' + READER_PW, check=False).returncode != 0
    assert etcdctl(server, 'get', 'app/port', user='reader:' + NEW_READER_PW).returncode == 0


def test_removing_a_permission_revokes_only_it(own_server):
    server = own_server
    both = [{'prefix': 'app/', 'type': 'read'}, {'key': 'shared/flag', 'type': 'readwrite'}]
    assert run_module('etcd_role', v3(server, name='ops', permissions=both))['changed']
    assert run_module('etcd_role', v3(server, name='ops', permissions=both))['changed'] is False
    result = run_module('etcd_role', v3(server, name='ops', permissions=both[:1]), diff=True)
    assert result['changed'] and result['revoked'] == [{'key': 'shared/flag', 'type': 'readwrite'}] and result['granted'] == []
    assert result['diff']['after']['permissions'] == [{'prefix': 'app/', 'type': 'read'}]
    assert role_perms(server, 'ops', user=None) == [('READ', 'app/', 'app0')]
    # Another type for the same range: one grant.
    changed = run_module('etcd_role', v3(server, name='ops', permissions=[{'prefix': 'app/', 'type': 'readwrite'}]))
    assert changed['granted'] == [{'prefix': 'app/', 'type': 'readwrite'}] and changed['revoked'] == []
    assert role_perms(server, 'ops', user=None) == [('READWRITE', 'app/', 'app0')]
    # exclusive: false only adds.
    added = run_module('etcd_role', v3(server, name='ops', exclusive=False, permissions=[{'key': 'x', 'type': 'write'}]))
    assert added['changed'] and role_perms(server, 'ops', user=None) == [('READWRITE', 'app/', 'app0'), ('WRITE', 'x', None)]
    gone = run_module('etcd_role', v3(server, name='ops', state='absent'))
    assert gone['changed'] and b'ops' not in etcdctl(server, 'role', 'list').stdout


def test_check_mode_changes_nothing(own_server):
    server = own_server
    preview = run_module('etcd_role', v3(server, name='r1', permissions=[{'prefix': 'a/', 'type': 'read'}]), check=True)
    assert preview['changed'] and preview['granted']
    assert b'r1' not in etcdctl(server, 'role', 'list').stdout
    preview = run_module('etcd_user', v3(server, name='u1', user_password='pw-123456', roles=['root']), check=True)
    assert preview['changed'] and preview['created']
    assert b'u1' not in etcdctl(server, 'user', 'list').stdout
    run_module('etcd_user', v3(server, name='root', user_password=ROOT_PW, roles=['root']))
    preview = run_module('etcd_auth', v3(server, state='enabled'), check=True)
    assert preview['changed'] and preview['previous_state'] == 'disabled'
    assert etcdctl(server, 'user', 'list').returncode == 0  # still no auth


def test_user_roles_and_deletion(own_server):
    server = own_server
    for role in ('a', 'b'):
        run_module('etcd_role', v3(server, name=role))
    created = run_module('etcd_user', v3(server, name='u', user_password='pw-a-123', roles=['a', 'b']))
    assert created['changed'] and created['created'] and created['roles'] == ['a', 'b']
    narrowed = run_module('etcd_user', v3(server, name='u', roles=['b']))
    assert narrowed['changed'] and narrowed['revoked_roles'] == ['a']
    assert json.loads(etcdctl(server, 'user', 'get', 'u', '-w', 'json').stdout)['roles'] == ['b']
    missing = run_module('etcd_user', v3(server, name='u', roles=['nope']))
    assert missing['failed'] and 'no such role nope' in missing['msg']
    assert run_module('etcd_user', v3(server, name='u', state='absent'))['changed']
    assert run_module('etcd_user', v3(server, name='u', state='absent'))['changed'] is False
    no_pw = run_module('etcd_user', v3(server, name='certuser', no_password=True))
    assert no_pw['changed'] and b'certuser' in etcdctl(server, 'user', 'list').stdout
    needs = run_module('etcd_user', v3(server, name='nobody'))
    assert needs['failed'] and 'give user_password' in needs['msg']


def test_password_of_existing_user_while_auth_is_off_is_set_again(own_server):
    server = own_server
    run_module('etcd_user', v3(server, name='u', user_password='first-pw-1'))
    again = run_module('etcd_user', v3(server, name='u', user_password='first-pw-1'))
    # etcd checks no password with auth off: it is set again, and the result says it was not checked.
    assert again['changed'] and again['password_changed'] and again['password_checked'] is False
    keep = run_module('etcd_user', v3(server, name='u', user_password='other-pw-2', update_password='on_create'))
    assert keep['changed'] is False


def test_enable_without_root_is_refused_with_advice(own_server):
    server = own_server
    result = run_module('etcd_auth', v3(server, state='enabled'))
    assert result['failed'] and 'there is no user root' in result['msg'] and 'etcd_user' in result['msg']
    run_module('etcd_user', v3(server, name='root', user_password=ROOT_PW))
    result = run_module('etcd_auth', v3(server, state='enabled'))
    assert result['failed'] and 'does not have the role root' in result['msg']
    assert etcdctl(server, 'user', 'list').returncode == 0  # auth still off


def test_auth_on_then_off_with_the_same_credentials(own_server):
    server = own_server
    # Credentials while auth is off are fine.
    assert run_module('etcd_user', as_root(server, name='root', user_password=ROOT_PW, roles=['root']))['changed']
    on = run_module('etcd_auth', as_root(server, state='enabled'))
    assert on['changed'] and on['previous_state'] == 'disabled'
    assert run_module('etcd_auth', as_root(server, state='enabled'))['changed'] is False
    assert etcdctl(server, 'user', 'list', check=False).returncode != 0
    wrong = run_module('etcd_role', v3(server, name='x', username='root', password='wrong-pw-0'))
    assert wrong['failed'] and 'wrong-pw-0' not in wrong['msg'] and 'authentication failed' in wrong['msg']
    off = run_module('etcd_auth', as_root(server, state='disabled'))
    assert off['changed'] and etcdctl(server, 'user', 'list').returncode == 0


def test_bad_input_and_v2_refused(own_server):
    server = own_server
    result = run_module('etcd_role', dict(host=[server.url], name='x'))
    assert result['failed'] and 'needs api_version=v3' in result['msg']
    result = run_module('etcd_role', v3(server, name='x', permissions=[{'key': 'a', 'prefix': 'b', 'type': 'read'}]))
    assert result['failed'] and 'exactly one of key or prefix' in result['msg']
    result = run_module('etcd_role', v3(server, name='root', permissions=[{'key': 'a', 'type': 'read'}]))
    assert result['failed'] and 'takes no permissions' in result['msg']
    result = run_module('etcd_role', v3(server, name='x', permissions=[{'key': 'b', 'range_end': 'a', 'type': 'read'}]))
    assert result['failed'] and 'not after key' in result['msg']
    assert b'x' not in etcdctl(server, 'role', 'list').stdout.split()


def test_tls_client_certificate_and_auth_together(etcd_server, tmp_path):
    """With --client-cert-auth and auth on, the gateway refuses a certificate with a common name
    (HTTP 400, plain text); a certificate without one and a user work."""
    pki = make_pki(str(tmp_path / 'pki'))
    with EtcdServer(etcd_server.version, tls=server_tls(pki)) as server:
        tls = dict(ca_cert=pki['ca'], client_cert=pki['client_nocn_cert'], client_key=pki['client_nocn_key'])
        base = dict(v3(server, **tls), username='root', password=ROOT_PW)
        assert run_module('etcd_user', dict(base, name='root', user_password=ROOT_PW, roles=['root']))['changed']
        assert run_module('etcd_auth', dict(base, state='enabled'))['changed']
        ok = run_module('etcd_key', dict(base, key='tls/key', value='v'))
        assert ok['changed'], ok
        with_cn = dict(base, client_cert=pki['client_cert'], client_key=pki['client_key'])
        refused = run_module('etcd_key', dict(with_cn, key='tls/key', value='w'))
        assert refused['failed'] and 'CommonName' in refused['msg'] and ROOT_PW not in refused['msg'], refused
        assert run_module('etcd_auth', dict(base, state='disabled'))['changed']


def test_a_prefix_limited_user_runs_every_module_inside_its_prefix_only(own_server):
    """RBAC from the modules, then the v3 modules and the lookup as a user whose role allows
    readwrite on app/ only: inside it they work (checked with etcdctl), outside they are refused
    in one line that never shows the password."""
    server = own_server
    user_pw = 'app-Secret-55x'
    root = as_root(server)
    assert run_module('etcd_user', dict(root, name='root', user_password=ROOT_PW, roles=['root']))['changed']
    run_module('etcd_role', dict(root, name='app-rw', permissions=[{'prefix': 'app/', 'type': 'readwrite'}]))
    run_module('etcd_user', dict(root, name='app', user_password=user_pw, roles=['app-rw']))
    assert run_module('etcd_auth', dict(root, state='enabled'))['changed']
    app = v3(server, username='app', password=user_pw)
    tree = run_module('etcd_dir', dict(app, path='app/cfg', content={'port': 8080, 'db': {'host': 'h1'}}))
    assert tree['changed'], tree
    assert run_module('etcd_dir', dict(app, path='app/cfg', content={'port': 8080, 'db': {'host': 'h1'}}))['changed'] is False
    assert run_module('etcd_key', dict(app, key='app/flag', value='on'))['changed']
    assert run_module('etcd_cas', dict(app, key='app/lock', value='me', prev_exist=False, ttl=60))['changed']
    got = etcdctl(server, 'get', 'app/', '--prefix', '--keys-only', user='app:' + user_pw).stdout.decode().split()
    assert sorted(got) == ['app/cfg/db/host', 'app/cfg/port', 'app/flag', 'app/lock']
    for module, extra in (('etcd_dir', {'path': 'other/cfg', 'content': {'a': 1}}),
                          ('etcd_key', {'key': 'other/flag', 'value': 'x'})):
        refused = run_module(module, dict(app, **extra))
        assert refused['failed'] and 'permission denied' in refused['msg'], refused
        assert '\n' not in refused['msg'] and user_pw not in repr(refused)
    assert etcdctl(server, 'get', 'other/', '--prefix', '--keys-only', user='root:' + ROOT_PW).stdout.strip() == b''
    assert run_module('etcd_auth', dict(root, state='disabled'))['changed']
