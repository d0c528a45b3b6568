# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_cas with api_version=v3 against real etcd 3.5 and 3.4, checked with etcdctl: every
condition in one txn, the lock with its own lease, mismatches, check mode, diff, sensitive.

Also the v3 connection cases for etcd_key and etcd_cas: auth with a role limited to a prefix
(own 3.5 server) and TLS with a client certificate.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import time
import uuid

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.cas import CasRequest, ensure_cas
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store_v3 import V3Store
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client
from tests.harness.etcd_server import EtcdServer
from tests.harness.tls import make_pki, server_tls
from tests.harness.v3_state import ETCDCTL, etcdctl, kv, lease_ttl, leases
from tests.modules.module_process import run_module


@pytest.fixture
def key():
    return 'v3cas-%s/locks/deploy' % uuid.uuid4().hex[:10]


def args(server, *options, **extra):
    """Module arguments for ``server`` on v3: the ``options`` dicts, then ``extra``."""
    merged = dict(host=[server.url], api_version='v3')
    for option in options:
        merged.update(option)
    merged.update(extra)
    return merged


class Recording(Etcd3Client):
    """An Etcd3Client that notes every call that may write (method, body)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.writes = []

    def call(self, method, body, *, write, subject=None, read_timeout=None):
        if write:
            self.writes.append((method, body))
        return super().call(method, body, write=write, subject=subject, read_timeout=read_timeout)


def _compares(body):
    """The compares of a txn body as (target, result, operand) with the operand decoded."""
    found = []
    for compare in body.get('compare', []):
        target = compare['target']
        operand = {'VALUE': lambda c: base64.b64decode(c.get('value', '')).decode(),
                   'CREATE': lambda c: int(c['create_revision']), 'VERSION': lambda c: int(c['version']),
                   'MOD': lambda c: int(c['mod_revision']), 'LEASE': lambda c: int(c['lease'])}[target](compare)
        found.append((target, compare['result'], operand))
    return sorted(found)


def _ops(body):
    return [next(iter(op)) for op in body.get('success', [])]


@pytest.mark.parametrize('case', ['create', 'value+index+exists', 'exists', 'delete-value+index', 'delete-none'])
def test_every_condition_goes_in_one_txn(etcd_server, key, case):
    if case != 'create':
        etcdctl(etcd_server, 'put', key, 'old')
    mod = kv(etcd_server, key)['mod_revision'] if case != 'create' else None
    request, compares, op = {
        'create': (CasRequest(key=key, value='new', prev_exist=False, ttl=30), [('CREATE', 'EQUAL', 0)], 'request_put'),
        'value+index+exists': (CasRequest(key=key, value='new', prev_value='old', prev_index=mod, prev_exist=True),
                               [('MOD', 'EQUAL', mod), ('VALUE', 'EQUAL', 'old'), ('VERSION', 'GREATER', 0)],
                               'request_put'),
        'exists': (CasRequest(key=key, value='new', prev_exist=True), [('VERSION', 'GREATER', 0)], 'request_put'),
        'delete-value+index': (CasRequest(key=key, state='absent', prev_value='old', prev_index=mod),
                               [('MOD', 'EQUAL', mod), ('VALUE', 'EQUAL', 'old')], 'request_delete_range'),
        'delete-none': (CasRequest(key=key, state='absent'), [], 'request_delete_range'),
    }[case]
    with Recording(host=etcd_server.url) as client:
        outcome = ensure_cas(V3Store(client), request)
    assert outcome.swapped
    txns = [body for method, body in client.writes if method == '/kv/txn']
    others = [method for method, _body in client.writes if method != '/kv/txn']
    assert len(txns) == 1, client.writes
    assert _compares(txns[0]) == sorted(compares) and _ops(txns[0]) == [op]
    # Only the lease grant of a TTL besides the txn; nothing else writes.
    assert others == (['/lease/grant'] if request.ttl else []), others
    stored = kv(etcd_server, key)
    if request.state == 'absent':
        assert stored is None
    else:
        assert stored['value'] == 'new'


def test_lock_take_renew_release(etcd_server, key):
    take = dict(key=key, value='run-1', prev_exist=False, ttl=10)
    first = run_module('etcd_cas', args(etcd_server, take))
    assert first['changed'] and first['swapped'] and first['prev_node'] is None, first
    stored = kv(etcd_server, key)
    assert stored['value'] == 'run-1' and stored['lease'] != 0
    lease = lease_ttl(etcd_server, stored['lease'])
    assert lease['granted_ttl'] == 10 and lease['keys'] == [key], 'the lock key carries its own lease'
    node = first['node']
    assert node['lease'] == stored['lease'] and node['mod_revision'] == stored['mod_revision'] == first['revision']
    assert node['create_revision'] == node['created_index'] == stored['create_revision'] and node['version'] == 1
    assert node['ttl'] == 10

    # Another run cannot take it: a mismatch that speaks of the mod_revision.
    take_2 = dict(take, value='run-2')
    other = run_module('etcd_cas', args(etcd_server, take_2))
    assert other['failed'] and not other['swapped'], other
    assert ('condition prev_exist=false not met (prev_exist failed): the key is at mod_revision %d with value '
            "'run-1'" % stored['mod_revision']) in other['msg'], other['msg']
    assert 'modifiedIndex' not in other['msg'] and other['msg'] == other['mismatch']
    waiting = run_module('etcd_cas', args(etcd_server, take_2, fail_on_mismatch=False))
    assert not waiting.get('failed') and waiting['changed'] is False and waiting['swapped'] is False
    assert 'mod_revision' in waiting['mismatch'] and waiting['node']['value'] == 'run-1'
    # The same run cannot take it twice either (it cannot tell its own write from another's).
    again = run_module('etcd_cas', args(etcd_server, take))
    assert again['failed'] and 'prev_exist failed' in again['msg']
    assert kv(etcd_server, key) == stored

    # Renew while this run holds it: the same lease kept alive, no write.
    renew = dict(key=key, prev_value='run-1', ttl=10, refresh_ttl=True)
    if lease_ttl(etcd_server, stored['lease'])['ttl'] >= 6:
        early = run_module('etcd_cas', args(etcd_server, renew))
        assert early['changed'] is False, 'more than half of the TTL left: nothing to renew'
    while lease_ttl(etcd_server, stored['lease'])['ttl'] >= 4:
        time.sleep(0.5)
    renewed = run_module('etcd_cas', args(etcd_server, renew), diff=True)
    assert renewed['changed'] and renewed['swapped'], renewed
    assert renewed['diff']['before']['ttl'] < 5 and renewed['diff']['after']['ttl'] == 10
    after = kv(etcd_server, key)
    assert after == stored, 'a keep-alive is no write: same value, lease, mod_revision'
    assert lease_ttl(etcd_server, stored['lease'])['ttl'] >= 8
    renew_2 = dict(renew, prev_value='run-2')
    stolen = run_module('etcd_cas', args(etcd_server, renew_2))
    assert stolen['failed'] and 'conditional TTL refresh' in stolen['msg'] and 'mod_revision' in stolen['msg']

    # Release: only the holder.
    wrong = run_module('etcd_cas', args(etcd_server, key=key, state='absent', prev_value='run-2'))
    assert wrong['failed'] and 'compare-and-delete' in wrong['msg'] and kv(etcd_server, key) is not None
    check = run_module('etcd_cas', args(etcd_server, key=key, state='absent', prev_value='run-1'), check=True, diff=True)
    assert check['changed'] and check['node'] is None and check['diff']['after'] == {'state': 'absent'}
    assert kv(etcd_server, key) == stored
    released = run_module('etcd_cas', args(etcd_server, key=key, state='absent', prev_value='run-1'))
    assert released['changed'] and released['node'] is None and released['prev_node']['value'] == 'run-1'
    assert kv(etcd_server, key) is None
    # Released: the next run takes it.
    assert run_module('etcd_cas', args(etcd_server, take_2))['changed']


def test_refresh_with_another_ttl_puts_a_new_lease(etcd_server, key):
    run_module('etcd_cas', args(etcd_server, key=key, value='me', prev_exist=False, ttl=30))
    before = kv(etcd_server, key)
    longer = run_module('etcd_cas', args(etcd_server, key=key, prev_value='me', ttl=100, refresh_ttl=True))
    assert longer['changed'], longer
    after = kv(etcd_server, key)
    assert after['value'] == 'me' and after['lease'] not in (0, before['lease'])
    assert after['mod_revision'] > before['mod_revision'] and longer['node']['mod_revision'] == after['mod_revision']
    assert lease_ttl(etcd_server, after['lease'])['granted_ttl'] == 100


def test_prev_index_is_the_mod_revision(etcd_server, key):
    etcdctl(etcd_server, 'put', key, 'a')
    etcdctl(etcd_server, 'put', key, 'b')
    stored = kv(etcd_server, key)
    stale = run_module('etcd_cas', args(etcd_server, key=key, value='c', prev_index=stored['create_revision']))
    assert stale['failed'] and 'prev_index=%d' % stored['create_revision'] in stale['msg']
    assert 'mod_revision %d' % stored['mod_revision'] in stale['msg'] and kv(etcd_server, key) == stored
    swapped = run_module('etcd_cas', args(etcd_server, key=key, value='c', prev_index=stored['mod_revision']))
    assert swapped['changed'] and kv(etcd_server, key)['value'] == 'c'
    assert swapped['prev_node']['mod_revision'] == stored['mod_revision']
    assert swapped['node']['version'] == 3 and swapped['revision'] == kv(etcd_server, key)['mod_revision']


def test_prev_exist_true_and_an_empty_prev_value(etcd_server, key):
    missing = run_module('etcd_cas', args(etcd_server, key=key, value='x', prev_exist=True))
    assert missing['failed'] and 'the key does not exist' in missing['msg'] and kv(etcd_server, key) is None
    etcdctl(etcd_server, 'put', key, '')
    # The v3 store compares with the empty string (v2 cannot).
    swapped = run_module('etcd_cas', args(etcd_server, key=key, value='filled', prev_value=''))
    assert swapped['changed'], swapped
    assert kv(etcd_server, key)['value'] == 'filled'
    refused = run_module('etcd_cas', dict(host=[etcd_server.url], key='/' + key, value='x', prev_value=''))
    assert refused['failed'] and 'prev_value must not be empty' in refused['msg']


def test_check_mode_predicts_and_writes_nothing(etcd_server, key):
    result = run_module('etcd_cas', args(etcd_server, key=key, value='new', prev_exist=False, ttl=30), check=True,
                        diff=True)
    assert result['changed'] and result['swapped'] and result['prev_node'] is None
    assert result['diff']['before'] == {'state': 'absent'} and result['diff']['after']['value'] == 'new'
    node = result['node']
    assert node['value'] == 'new' and node['ttl'] == 30 and node['mod_revision'] is None and node['lease'] is None
    assert kv(etcd_server, key) is None
    etcdctl(etcd_server, 'put', key, 'old')
    stored = kv(etcd_server, key)
    result = run_module('etcd_cas', args(etcd_server, key=key, value='new', prev_value='old'), check=True)
    assert result['changed'] and result['node']['create_revision'] == stored['create_revision']
    assert kv(etcd_server, key) == stored


def test_sensitive_values_never_shown(etcd_server, key):
    etcdctl(etcd_server, 'put', key, 'hunter2-old')
    result = run_module('etcd_cas', args(etcd_server, key=key, value='hunter2-new', prev_value='hunter2-old',
                                         sensitive=True), diff=True)
    assert result['changed'] and 'hunter2' not in json.dumps(result), result
    assert kv(etcd_server, key)['value'] == 'hunter2-new'
    mismatch = run_module('etcd_cas', args(etcd_server, key=key, value='hunter2-x', prev_value='hunter2-old',
                                           sensitive=True))
    assert mismatch['failed'] and 'hunter2' not in json.dumps(mismatch), mismatch
    # A value that is not UTF-8 comes back as base64: hidden as well.
    subprocess.run([ETCDCTL, '--endpoints', etcd_server.url, 'put', key], input=b'\xff\xfe-hunter2',
                   env=dict(os.environ, ETCDCTL_API='3'), check=True, capture_output=True)
    binary = run_module('etcd_cas', args(etcd_server, key=key, state='absent', prev_value='other', sensitive=True,
                                         fail_on_mismatch=False))
    assert binary['prev_node']['value_base64'] == '<hidden>' and binary['prev_node']['value'] == '<hidden>'
    assert base64.b64encode(b'\xff\xfe-hunter2').decode() not in json.dumps(binary)


def test_a_racing_writer_makes_a_mismatch_from_the_fresh_read(etcd_server, key):
    """Another writer changes the key between the read and the txn: the txn's compares refuse
    the write, the key is read again and the conditions fail against that read."""
    etcdctl(etcd_server, 'put', key, 'free')
    before = set(leases(etcd_server))

    class Racing(V3Store):
        raced = False

        def read(self, key):
            node = super().read(key)
            if not Racing.raced:
                Racing.raced = True
                etcdctl(etcd_server, 'put', key, 'taken')
            return node

    with Etcd3Client(host=etcd_server.url) as client:
        outcome = ensure_cas(Racing(client), CasRequest(key=key, value='mine', prev_value='free', ttl=30,
                                                        api_version='v3'))
    assert outcome.mismatch and not outcome.swapped and 'mod_revision' in outcome.message
    assert kv(etcd_server, key)['value'] == 'taken'
    assert set(leases(etcd_server)) == before, 'the lease granted for the refused write was left behind'


def test_options_of_the_other_api_fail_clearly(etcd_server, key):
    result = run_module('etcd_cas', args(etcd_server, key=key, value='x', version_prefix='v2beta'))
    assert result['failed'] and 'version_prefix needs api_version=v2' in result['msg']
    assert kv(etcd_server, key) is None


# -- auth and TLS on v3 (etcd_key and etcd_cas) ---------------------------------------------------

ROOT_PASSWORD = 'r00t-pw-Zq81'
APP_PASSWORD = 'app-pw-Kx93'


def test_auth_with_a_role_limited_to_a_prefix():
    with EtcdServer('3.5') as server:
        with Etcd3Client(host=server.url) as admin:
            admin.user_add('root', ROOT_PASSWORD)
            admin.role_add('root')
            admin.user_grant_role('root', 'root')
            admin.role_add('app')
            admin.role_grant_permission('app', 'app/', prefix=True, perm_type='readwrite')
            admin.user_add('appuser', APP_PASSWORD)
            admin.user_grant_role('appuser', 'app')
        user = dict(host=[server.url], api_version='v3', username='appuser', password=APP_PASSWORD)
        # Credentials given while auth is off are not an error.
        before = run_module('etcd_key', dict(user, key='app/before', value='1'))
        assert before['changed'] and not before.get('failed'), before
        with Etcd3Client(host=server.url) as admin:
            admin.auth_enable()

        written = run_module('etcd_key', dict(user, key='app/config', value='v1'))
        assert written['changed'] and written['node']['value'] == 'v1', written
        got = json.loads(etcdctl(server, 'get', 'app/config', '-w', 'json', user='appuser:' + APP_PASSWORD).stdout)
        assert base64.b64decode(got['kvs'][0]['value']).decode() == 'v1'
        assert etcdctl(server, 'get', 'app/config', check=False).returncode != 0, 'etcd does not enforce auth'
        lock = run_module('etcd_cas', dict(user, key='app/lock', value='me', prev_exist=False, ttl=30))
        assert lock['changed'] and lock['node']['lease'], lock
        taken = run_module('etcd_cas', dict(user, key='app/lock', value='you', prev_exist=False))
        assert taken['failed'] and 'mod_revision' in taken['msg']
        assert not run_module('etcd_key', dict(user, key='app/config', value='v1')).get('changed')

        for module, extra in (('etcd_key', dict(key='other/x', value='1')),
                              ('etcd_cas', dict(key='other/x', value='1', prev_exist=False)),
                              ('etcd_cas', dict(key='app/lock', state='absent', prev_value='me', username='appuser',
                                                password='wrong-' + APP_PASSWORD))):
            refused = run_module(module, dict(user, **extra))
            assert refused['failed'], refused
            message = refused['msg']
            assert '\n' not in message and APP_PASSWORD not in json.dumps(refused), refused
            if extra['key'] == 'other/x':
                assert 'permission denied' in message and 'other/x' in message, message
            else:
                assert 'authentication failed' in message, message
        check = json.loads(etcdctl(server, 'get', 'other/', '--prefix', '-w', 'json',
                                   user='root:' + ROOT_PASSWORD).stdout)
        assert not check.get('kvs'), 'a refused write wrote'
        assert json.loads(etcdctl(server, 'get', 'app/lock', '-w', 'json',
                                  user='root:' + ROOT_PASSWORD).stdout)['kvs'], 'the refused release deleted the lock'


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    return make_pki(str(tmp_path_factory.mktemp('pki-v3')))


@pytest.mark.parametrize('version', ['3.5', '3.4'])
def test_tls_with_a_client_certificate(pki, version):
    from tests.harness.etcd_server import EtcdUnavailable, find_etcd  # pylint: disable=import-outside-toplevel
    try:
        find_etcd(version)
    except EtcdUnavailable as exc:
        pytest.skip(str(exc))
    key = 'tls-%s/app/port' % uuid.uuid4().hex[:8]
    with EtcdServer(version, tls=server_tls(pki, client_cert_auth=True)) as server:
        assert server.url.startswith('https://')
        tls = dict(host=[server.url], api_version='v3', ca_cert=pki['ca'], client_cert=pki['client_cert'],
                   client_key=pki['client_key'])
        first = run_module('etcd_key', dict(tls, key=key, value='443'))
        assert first['changed'] and first['node']['value'] == '443', first
        assert not run_module('etcd_key', dict(tls, key=key, value='443'))['changed']
        out = etcdctl(server, '--cacert', pki['ca'], '--cert', pki['client_cert'], '--key', pki['client_key'],
                      'get', key, '-w', 'json').stdout
        assert base64.b64decode(json.loads(out)['kvs'][0]['value']).decode() == '443'
        no_cert = run_module('etcd_key', dict(tls, key=key, value='80', client_cert=None, client_key=None))
        message = no_cert['msg']
        assert no_cert['failed'] and message.startswith('key %s' % key) and 'TLS error' in message, message
        assert server.url in message and 'refused the client certificate' in message and '\n' not in message
        wrong_ca = run_module('etcd_key', dict(tls, key=key, value='80', ca_cert=pki['other_ca']))
        assert wrong_ca['failed'] and 'certificate verify failed' in wrong_ca['msg'] and '\n' not in wrong_ca['msg']
        info = run_module('etcd_info', dict(tls, gather=['health', 'status'], key=key))
        assert info['health'] and info['node']['value'] == '443' and info['status'][0]['reachable'], info
