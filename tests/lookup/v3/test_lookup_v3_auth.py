"""The v3 lookup with etcd authentication on: a user whose role may only read under a prefix.

Each version gets its own etcd (auth must not leak into the servers other tests share); auth is
disabled again and the users removed in a finally, before the server goes.
"""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client
from tests.harness import v3_state
from tests.harness.etcd_server import EtcdServer, EtcdUnavailable, find_etcd
from tests.lookup.v3.conftest import put_many

ROOT_PW = 'r00t-Pw-for-tests'
READER_PW = 'reader-Pw-Secret'


@pytest.fixture(params=['3.5', '3.4'], ids=['etcd3.5', 'etcd3.4'])
def auth_server(request):
    try:
        find_etcd(request.param)
    except EtcdUnavailable as exc:
        pytest.skip(str(exc))
    with EtcdServer(request.param, enable_v2=False) as server:
        put_many(server, {'app/port': '8080', 'app/db/host': 'db1', 'app/empty': '', 'secret/key': 'hidden'})
        admin = Etcd3Client(host=server.url, username='root', password=ROOT_PW)
        try:
            admin.user_add('root', ROOT_PW)
            admin.user_grant_role('root', 'root')
            admin.role_add('app-reader')
            admin.role_grant_permission('app-reader', 'app/', prefix=True, perm_type='read')
            admin.user_add('reader', READER_PW)
            admin.user_grant_role('reader', 'app-reader')
            admin.auth_enable()
            yield server
        finally:
            try:
                admin.auth_disable()
            finally:
                admin.close()
            assert v3_state.etcdctl(server, 'get', 'secret/key', '--print-value-only').stdout.strip() == b'hidden'


@pytest.fixture
def reader(auth_server):
    return {'host': [auth_server.url], 'api_version': 'v3', 'username': 'reader', 'password': READER_PW, 'timeout': 5}


def test_reader_reads_keys_and_directory_under_its_prefix(reader, run_lookup):
    assert run_lookup(['app/port', 'app/empty', 'app/'], **reader) == ['8080', '', {
        'db': {'host': 'db1'}, 'empty': '', 'port': '8080'}]
    assert run_lookup('app/', prefix=True, flat=True, **reader) == [{'app/db/host': 'db1', 'app/empty': '',
                                                                     'app/port': '8080'}]


def test_reading_outside_the_role_fails_naming_the_key_never_the_default(auth_server, reader, run_lookup):
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup('secret/key', default='x', **reader)
    message = str(info.value)
    assert 'permission denied' in message and 'secret/key' in message and auth_server.url in message
    assert READER_PW not in message and 'hidden' not in message


def test_a_refused_batch_names_the_refused_key(reader, run_lookup):
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(['app/port', 'app/empty', 'secret/key', 'app/db/host'], **reader)
    message = str(info.value)
    assert 'reading key secret/key failed' in message and 'permission denied' in message


def test_without_credentials_the_read_is_refused(auth_server, run_lookup):
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup('app/port', host=[auth_server.url], api_version='v3', default='x')
    assert 'app/port' in str(info.value)


def test_a_wrong_password_fails_without_showing_it(auth_server, run_lookup):
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup('app/port', host=[auth_server.url], api_version='v3', username='reader', password='Wr0ng-Pass')
    assert 'authentication failed' in str(info.value) and 'Wr0ng-Pass' not in str(info.value)


def test_wait_with_auth(auth_server, reader, run_lookup):
    import threading  # pylint: disable=import-outside-toplevel
    import time  # pylint: disable=import-outside-toplevel

    def later():
        time.sleep(0.7)
        v3_state.etcdctl(auth_server, 'put', 'app/port', '9090', user='root:' + ROOT_PW)
    thread = threading.Thread(target=later, daemon=True)
    thread.start()
    assert run_lookup('app/port', wait=True, wait_timeout=20, **reader) == ['9090']
    thread.join(10)
