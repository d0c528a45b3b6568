"""Bad arguments raise ClientException naming the argument, before anything is sent.

The client points at a port where nothing listens: if a request were sent, the error would be
EtcdConnectionFailed instead of ClientException.
"""
from __future__ import annotations

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import Client, ClientException, EtcdConnectionFailed
from tests.harness.etcd_server import free_port


@pytest.fixture(name='offline')
def offline_client():
    return Client(port=free_port(), timeout=1)


def test_the_offline_client_really_sends(offline):
    with pytest.raises(EtcdConnectionFailed):
        offline.read('/k')


@pytest.mark.parametrize('call, words', [
    (lambda c: c.write('', 'v'), 'key must not be empty'),
    (lambda c: c.write(None, 'v'), 'key must be a string'),
    (lambda c: c.write(5, 'v'), 'key must be a string'),
    (lambda c: c.write('/a/../b', 'v'), "'..' segment"),
    (lambda c: c.write('/a/./b', 'v'), "'.' segment"),
    (lambda c: c.write('/k', True), 'value must be a string or a number, got bool'),
    (lambda c: c.write('/k', None), 'value must be a string or a number'),
    (lambda c: c.write('/k', b'bytes'), 'value must be a string or a number'),
    (lambda c: c.write('/k', {'a': 1}), 'json.dumps'),
    (lambda c: c.write('/k', 'v', ttl=-1), 'ttl must not be negative'),
    (lambda c: c.write('/k', 'v', ttl=0), 'ttl=0 would make the key expire at once'),
    (lambda c: c.write('/k', 'v', ttl='10'), 'ttl must be a whole number'),
    (lambda c: c.write('/k', 'v', ttl=1.5), 'ttl must be a whole number'),
    (lambda c: c.write('/k', 'v', ttl=True), 'ttl must be a whole number'),
    (lambda c: c.write('/k', 'v', prev_index='3'), 'prev_index must be an integer'),
    (lambda c: c.write('/k', 'v', prev_index=0), 'prev_index must be 1 or more'),
    (lambda c: c.write('/k', 'v', prev_exist='yes'), 'prev_exist must be true or false'),
    (lambda c: c.write('/k', 'v', prev_exist=False, prev_value='x'), 'cannot be combined'),
    (lambda c: c.write('/k', 'v', refresh=True), 'value must be None'),
    (lambda c: c.write('/k', None, refresh=True), 'refresh=True needs a ttl'),
    (lambda c: c.compare_and_delete('/k', prev_index=-4), 'prev_index must be 1 or more'),
    (lambda c: c.read('/k', recursive='yes'), 'recursive must be true or false'),
    (lambda c: c.read('/k', wait_index=5), 'wait_index needs wait=True'),
    (lambda c: c.read('/k', wait=True, wait_index='x'), 'wait_index must be an integer'),
    (lambda c: c.read('/k', bogus=1), 'unknown option(s): bogus'),
    (lambda c: c.read('/k', timeout=-1), 'timeout must be a positive number'),
    (lambda c: c.mkdir('', ttl=5), 'directory must not be empty'),
    (lambda c: c.mkdir('/d', ttl=-5), 'ttl must not be negative'),
    (lambda c: c.append('/q', [7]), 'value must be a string or a number'),
    (lambda c: c.update_ttl('/k', 0), 'ttl=0'),
    (lambda c: c.request('GET', 'v2/keys'), 'path must start with /'),
])
def test_bad_arguments(offline, call, words):
    with pytest.raises(ClientException) as err:
        call(offline)
    assert words in str(err.value)


@pytest.mark.parametrize('kwargs, words', [
    ({'protocol': 'ftp'}, 'protocol must be http or https'),
    ({'host': 'https://a:2379', 'protocol': 'gopher'}, 'protocol must be http or https'),
    ({'host': 'gopher://a:2379'}, "protocol must be http or https, got 'gopher'"),
    ({'host': []}, 'host names no etcd member'),
    ({'host': ''}, 'host names no etcd member'),
    ({'host': ['', ' ']}, 'host names no etcd member'),
    ({'host': None}, 'host names no etcd member'),
    ({'host': 'a:b'}, 'port must be a number'),
    ({'host': ('a', 70000)}, 'port must be 1-65535'),
    ({'host': [('a', 1, 2)]}, 'host tuple must be (name, port)'),
    ({'host': [5]}, 'host must be a name'),
    ({'port': 'http'}, 'port must be an integer'),
    ({'port': 0}, 'port must be 1-65535'),
    ({'timeout': 0}, 'timeout must be a positive number'),
    ({'timeout': (1, 2, 3)}, 'timeout must be seconds or a (connect, read) pair'),
    ({'allow_reconnect': 'no'}, 'allow_reconnect must be true or false'),
    ({'validate_certs': 'no'}, 'validate_certs must be true or false'),
    ({'key': '/k.pem'}, 'needs cert'),
    ({'password': 'secret'}, 'password needs username'),
    ({'version_prefix': ''}, 'version_prefix must be a non-empty string'),
    ({'srv_domain': '.'}, 'srv_domain must be a non-empty domain name'),
])
def test_bad_constructor_arguments(kwargs, words):
    with pytest.raises(ClientException) as err:
        Client(**kwargs)
    assert words in str(err.value)
    assert 'secret' not in str(err.value)


@pytest.mark.parametrize('host, port, protocol, expected', [
    ('etcd1', 2379, 'http', ['http://etcd1:2379']),
    ('etcd1:4001', 2379, 'http', ['http://etcd1:4001']),
    ('https://etcd1:4001/', 2379, 'http', ['https://etcd1:4001']),
    ('etcd1', 2379, 'https', ['https://etcd1:2379']),
    (['a', 'b:2', ('c', 3)], 9, 'http', ['http://a:9', 'http://b:2', 'http://c:3']),
    (('a', 3), 9, 'http', ['http://a:3']),
    ([('a', 1), ('b', 2)], 9, 'http', ['http://a:1', 'http://b:2']),
    ('::1', 2379, 'http', ['http://[::1]:2379']),
    ('[::1]:4001', 2379, 'http', ['http://[::1]:4001']),
])
def test_host_forms(host, port, protocol, expected):
    assert Client(host=host, port=port, protocol=protocol).endpoints == expected


def test_client_repr_has_no_password():
    cli = Client(username='root', password='s3cr3t-pw')
    assert 's3cr3t-pw' not in repr(cli)


def test_port_as_a_string_of_digits_is_taken_as_pyetcd_takes_it():
    assert Client(host='etcd1', port='4001').endpoints == ['http://etcd1:4001']
