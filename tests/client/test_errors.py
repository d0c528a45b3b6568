"""Every error a real etcd answers becomes its own exception class with all its fields."""
from __future__ import annotations

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils import exceptions as exc_mod
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import (
    Client,
    EtcdDirNotEmpty,
    EtcdEventIndexCleared,
    EtcdException,
    EtcdIndexNaN,
    EtcdInvalidField,
    EtcdKeyNotFound,
    EtcdNodeExist,
    EtcdNotDir,
    EtcdNotFile,
    EtcdPrevValueRequired,
    EtcdRefreshTTLRequired,
    EtcdRefreshValue,
    EtcdRootROnly,
    EtcdTestFailed,
    EtcdTimeoutNaN,
    EtcdTTLNaN,
    EtcdV2NotEnabled,
)
from tests.harness.etcd_server import EtcdServer

REFERENCE_NAMES = {
    100: 'EtcdKeyNotFound', 101: 'EtcdTestFailed', 102: 'EtcdNotFile', 103: 'EtcdNoMorePeer', 104: 'EtcdNotDir',
    105: 'EtcdNodeExist', 106: 'EtcdKeyIsPreserved', 107: 'EtcdRootROnly', 108: 'EtcdDirNotEmpty',
    109: 'EtcdExistingPeerAddr', 110: 'EtcdUnauthorized', 200: 'EtcdValueRequired', 201: 'EtcdPrevValueRequired',
    202: 'EtcdTTLNaN', 203: 'EtcdIndexNaN', 204: 'EtcdValueOrTTLRequired', 205: 'EtcdTimeoutNaN',
    206: 'EtcdNameRequired', 207: 'EtcdIndexOrValueRequired', 208: 'EtcdIndexValueMutex', 209: 'EtcdInvalidField',
    210: 'EtcdInvalidForm', 211: 'EtcdRefreshValue', 212: 'EtcdRefreshTTLRequired', 300: 'EtcdRaftInternal',
    301: 'EtcdLeaderElect', 400: 'EtcdWatcherCleared', 401: 'EtcdEventIndexCleared', 402: 'EtcdStandbyInternal',
    403: 'EtcdInvalidActiveSize', 404: 'EtcdInvalidRemoveDelay', 500: 'EtcdClientInternal',
}


def test_one_class_per_code_named_as_in_the_reference():
    assert {code: cls.__name__ for code, cls in exc_mod.ERROR_CODES.items()} == REFERENCE_NAMES
    for cls in exc_mod.ERROR_CODES.values():
        assert issubclass(cls, EtcdException)
        assert getattr(exc_mod, cls.__name__) is cls
    assert not issubclass(exc_mod.ClientException, EtcdException)


def test_key_not_found_carries_code_message_cause_index_status(client, etcd_server, key_prefix):
    with pytest.raises(EtcdKeyNotFound) as err:
        client.read(key_prefix + '/missing')
    exc = err.value
    assert exc.error_code == 100
    assert exc.message == 'Key not found'
    assert exc.key == key_prefix + '/missing'
    assert exc.cause == key_prefix  # etcd names the first missing parent
    assert isinstance(exc.index, int) and exc.index > 0
    assert exc.status == 404
    assert exc.endpoint == etcd_server.url
    assert str(exc) == 'Key not found: %s (etcd error 100, index %d, on %s)' % (key_prefix + '/missing', exc.index, etcd_server.url)
    assert '\n' not in str(exc)


def test_test_failed(client, key_prefix):
    client.write(key_prefix + '/k', 'v')
    with pytest.raises(EtcdTestFailed) as err:
        client.compare_and_swap(key_prefix + '/k', 'n', prev_value='other')
    assert err.value.status == 412
    assert '[other != v]' in err.value.cause


def test_not_file_and_not_dir(client, key_prefix):
    client.write(key_prefix + '/dir/child', 'v')
    with pytest.raises(EtcdNotFile) as err:
        client.write(key_prefix + '/dir', 'v')
    assert err.value.error_code == 102
    with pytest.raises(EtcdNotFile):
        client.delete(key_prefix + '/dir')
    with pytest.raises(EtcdNotFile):
        client.compare_and_swap(key_prefix + '/dir', 'v', prev_value='x')
    with pytest.raises(EtcdNotDir):
        client.write(key_prefix + '/dir/child/below', 'v')


def test_rmdir_of_a_key_deletes_it_as_etcd_does(client, key_prefix):
    """etcd's DELETE with dir=true also removes a plain key; rmdir documents this."""
    client.write(key_prefix + '/plain', 'v')
    assert client.rmdir(key_prefix + '/plain').prevNode.value == 'v'


def test_node_exist_dir_not_empty_root_read_only(client, key_prefix):
    client.write(key_prefix + '/d/x', 'v')
    with pytest.raises(EtcdNodeExist):
        client.mkdir(key_prefix + '/d')
    with pytest.raises(EtcdDirNotEmpty) as err:
        client.rmdir(key_prefix + '/d')
    assert err.value.error_code == 108
    with pytest.raises(EtcdRootROnly):
        client.delete('/', recursive=True)


@pytest.mark.parametrize('params, cls, code', [
    ({'value': 'x', 'ttl': 'soon'}, EtcdTTLNaN, 202),
    ({'value': 'x', 'prevIndex': 'first'}, EtcdIndexNaN, 203),
    ({'value': 'x', 'prevValue': ''}, EtcdPrevValueRequired, 201),
    ({'value': 'x', 'prevExist': 'maybe'}, EtcdInvalidField, 209),
    ({'value': 'x', 'refresh': 'true', 'ttl': '5', 'prevExist': 'true'}, EtcdRefreshValue, 211),
    ({'refresh': 'true', 'prevExist': 'true'}, EtcdRefreshTTLRequired, 212),
])
def test_form_errors_from_raw_requests(client, key_prefix, params, cls, code):
    """The typed methods refuse these before sending; the raw request shows the server's answer."""
    client.write(key_prefix + '/k', 'v')
    with pytest.raises(cls) as err:
        client.request('PUT', '/v2/keys%s/k' % key_prefix, params)
    assert err.value.error_code == code
    assert err.value.status == 400


def test_timeout_nan(client, key_prefix):
    client.write(key_prefix + '/k', 'v')
    with pytest.raises((EtcdTimeoutNaN, EtcdIndexNaN)) as err:
        client.request('GET', '/v2/keys%s/k' % key_prefix, {'wait': 'true', 'waitIndex': 'soon'})
    assert err.value.status == 400


def test_event_index_cleared(client, key_prefix):
    """etcd keeps only the last 1000 events; an older wait index is error 401 with the new index."""
    first = client.write(key_prefix + '/e', '0')
    for number in range(1005):
        client.write(key_prefix + '/e', str(number))
    with pytest.raises(EtcdEventIndexCleared) as err:
        client.read(key_prefix + '/e', wait=True, wait_index=first.node.modified_index, timeout=5)
    assert err.value.error_code == 401
    assert err.value.index > first.node.modified_index + 1000


def test_v2_not_enabled_is_named():
    with EtcdServer('3.5', enable_v2=False) as server:
        cli = Client(host=server.host, port=server.port)
        with pytest.raises(EtcdV2NotEnabled) as err:
            cli.read('/anything')
        assert str(err.value).startswith('v2 API not enabled on %s' % server.url)
        with pytest.raises(EtcdV2NotEnabled):
            cli.write('/anything', 'v')
        # /version is not part of the v2 API and still answers.
        assert cli.version() == '3.5.1'
