"""Every failure of the lookup raises a clear AnsibleLookupError; none returns an empty value.

Real servers for each case: nothing listening (unreachable), https with the test PKI (TLS),
v2 authentication enabled with the guest role stripped (unauthorized), and a member started
without --enable-v2.
"""
from __future__ import annotations

import json
import urllib.request

import pytest
from ansible.errors import AnsibleLookupError

from tests.harness.etcd_server import EtcdServer, free_port
from tests.harness.tls import make_pki, server_tls

ROOT_PASSWORD = 'r00t-Pa55word-xyz'
READER_PASSWORD = 'Rd-s3cret-Pa55-0987'

# default= must not hide anything but a missing key.
WITH_AND_WITHOUT_DEFAULT = pytest.mark.parametrize('extra', [{}, {'default': 'fallback'}], ids=['no-default', 'default'])


def _expect_error(run_lookup, term, **options) -> str:
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(term, **options)
    return str(info.value)


@WITH_AND_WITHOUT_DEFAULT
def test_unreachable_member(run_lookup, key_prefix, extra):
    url = 'http://127.0.0.1:%d' % free_port()
    message = _expect_error(run_lookup, key_prefix + '/k', host=url, timeout=2, **extra)
    assert key_prefix + '/k' in message
    assert url in message
    assert 'unreachable' in message
    assert 'connection refused' in message


def test_every_unreachable_member_is_named(run_lookup, key_prefix):
    urls = ['http://127.0.0.1:%d' % free_port() for _unused in range(2)]
    message = _expect_error(run_lookup, key_prefix + '/k', host=urls, timeout=2)
    for url in urls:
        assert url in message


def test_a_dead_member_is_skipped_for_a_live_one(etcd35, client, run_lookup, key_prefix):
    from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client  # pylint: disable=import-outside-toplevel
    with Client(host=etcd35.url) as writer:
        writer.write(key_prefix + '/k', 'alive')
    dead = 'http://127.0.0.1:%d' % free_port()
    assert run_lookup(key_prefix + '/k', host=[dead, etcd35.url], timeout=2) == ['alive']


@pytest.fixture(scope='module')
def no_v2_server():
    server = EtcdServer('3.5', enable_v2=False).start()
    yield server
    server.destroy()


@WITH_AND_WITHOUT_DEFAULT
def test_v2_not_enabled(no_v2_server, run_lookup, key_prefix, extra):
    message = _expect_error(run_lookup, key_prefix + '/k', host=no_v2_server.url, **extra)
    assert 'v2 API not enabled on %s' % no_v2_server.url in message
    assert '--enable-v2' in message
    assert key_prefix + '/k' in message


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    return make_pki(str(tmp_path_factory.mktemp('pki')))


@pytest.fixture(scope='module')
def tls_server(pki):
    server = EtcdServer('3.5', tls=server_tls(pki, client_cert_auth=True)).start()
    yield server
    server.destroy()


@pytest.fixture(scope='module')
def tls_key(tls_server, pki):
    """A key written over TLS with the client certificate; returns (key, value)."""
    from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client  # pylint: disable=import-outside-toplevel
    with Client(host=tls_server.url, ca_cert=pki['ca'], cert=pki['client_cert'], key=pki['client_key']) as writer:
        writer.write('/tls/k', 'over-tls')
    return '/tls/k', 'over-tls'


def test_tls_with_ca_and_client_certificate(tls_server, tls_key, pki, run_lookup):
    key, value = tls_key
    assert run_lookup(key, host=tls_server.url, ca_cert=pki['ca'], client_cert=pki['client_cert'],
                      client_key=pki['client_key']) == [value]


def test_tls_host_and_protocol_options(tls_server, tls_key, pki, run_lookup):
    key, value = tls_key
    assert run_lookup(key, host='127.0.0.1', port=tls_server.port, protocol='https', ca_cert=pki['ca'],
                      client_cert=pki['client_cert'], client_key=pki['client_key']) == [value]


@WITH_AND_WITHOUT_DEFAULT
def test_tls_untrusted_server_certificate(tls_server, tls_key, pki, run_lookup, extra):
    key, _value = tls_key
    message = _expect_error(run_lookup, key, host=tls_server.url, ca_cert=pki['other_ca'],
                            client_cert=pki['client_cert'], client_key=pki['client_key'], **extra)
    assert 'TLS error' in message
    assert 'certificate verify failed' in message
    assert tls_server.url in message
    assert key in message


def test_https_to_a_plain_http_member_is_a_tls_error(etcd35, run_lookup, key_prefix):
    url = 'https://127.0.0.1:%d' % etcd35.port
    message = _expect_error(run_lookup, key_prefix + '/k', host=url)
    assert 'TLS error' in message
    assert url in message


def _v2_auth(server, method, path, body=None, auth=None):
    request = urllib.request.Request(server.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    if auth:
        import base64  # pylint: disable=import-outside-toplevel
        request.add_header('Authorization', 'Basic ' + base64.b64encode(('%s:%s' % auth).encode()).decode())
    with urllib.request.urlopen(request, timeout=5) as resp:
        return resp.read()


@pytest.fixture(scope='module')
def auth_server():
    """v2 auth on: root, a 'reader' user allowed to read /auth/*, and a guest role with no rights."""
    server = EtcdServer('3.5').start()
    root = ('root', ROOT_PASSWORD)
    _v2_auth(server, 'PUT', '/v2/auth/users/root', {'user': 'root', 'password': ROOT_PASSWORD})
    _v2_auth(server, 'PUT', '/v2/auth/enable')
    _v2_auth(server, 'PUT', '/v2/auth/roles/readers', {'role': 'readers', 'permissions': {'kv': {'read': ['/auth/*'], 'write': []}}},
             auth=root)
    _v2_auth(server, 'PUT', '/v2/auth/users/reader', {'user': 'reader', 'password': READER_PASSWORD, 'roles': ['readers']},
             auth=root)
    # Without this, anonymous requests still get full access through the default guest role.
    _v2_auth(server, 'PUT', '/v2/auth/roles/guest', {'role': 'guest', 'revoke': {'kv': {'read': ['/*'], 'write': ['/*']}}},
             auth=root)
    request = urllib.request.Request(server.url + '/v2/keys/auth/k', method='PUT', data=b'value=for-readers')
    request.add_header('Content-Type', 'application/x-www-form-urlencoded')
    import base64  # pylint: disable=import-outside-toplevel
    request.add_header('Authorization', 'Basic ' + base64.b64encode(('root:%s' % ROOT_PASSWORD).encode()).decode())
    urllib.request.urlopen(request, timeout=5).close()  # pylint: disable=consider-using-with
    yield server
    server.destroy()


def test_auth_with_the_right_password(auth_server, run_lookup):
    assert run_lookup('/auth/k', host=auth_server.url, username='reader', password=READER_PASSWORD) == ['for-readers']


@WITH_AND_WITHOUT_DEFAULT
def test_wrong_password_is_unauthorized_and_never_printed(auth_server, run_lookup, extra):
    wrong = 'Wr0ng-' + READER_PASSWORD
    message = _expect_error(run_lookup, '/auth/k', host=auth_server.url, username='reader', password=wrong, **extra)
    assert 'unauthorized' in message
    assert '/auth/k' in message
    assert auth_server.url in message
    assert wrong not in message
    assert READER_PASSWORD not in message


@WITH_AND_WITHOUT_DEFAULT
def test_no_credentials_is_unauthorized(auth_server, run_lookup, extra):
    message = _expect_error(run_lookup, '/auth/k', host=auth_server.url, **extra)
    assert 'unauthorized' in message
    assert auth_server.url in message


def test_key_outside_the_users_permissions_is_unauthorized_not_missing(auth_server, run_lookup):
    message = _expect_error(run_lookup, '/elsewhere/k', host=auth_server.url, username='reader',
                            password=READER_PASSWORD, default='not used')
    assert 'unauthorized' in message
    assert READER_PASSWORD not in message


def test_password_without_username_is_refused_without_printing_it(etcd35, run_lookup):
    message = _expect_error(run_lookup, '/k', host=etcd35.url, password=READER_PASSWORD)
    assert 'password needs username' in message
    assert READER_PASSWORD not in message
