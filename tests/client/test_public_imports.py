"""Every public import path the README names keeps working after the move into _transport/
and _v2/, and gives the same objects."""
from __future__ import annotations

import importlib

import pytest

BASE = 'ansible_collections.pyetcd.etcd.plugins.module_utils.'
PUBLIC = {
    'pyetcd': ['Client', 'normalize_key', 'EtcdResult', 'ResponseNode', 'EtcdException', 'ClientException',
               'EtcdKeyNotFound', 'EtcdConnectionFailed', 'EtcdTLSError', 'EtcdOutcomeUnknown', 'EtcdBulkWriteFailed',
               'EtcdEmptyResponse', 'EtcdInvalidResponse', 'EtcdV2NotEnabled', 'EtcdWatchTimedOut'],
    'client': ['Client', 'normalize_key', 'DEFAULT_TIMEOUT', 'HostSpec', 'MAX_REQUEST_LINE'],
    'result': ['EtcdResult', 'ResponseNode'],
    'exceptions': ['ERROR_CODES', 'exception_for', 'EtcdException', 'ClientException', 'EtcdLeaderElect'],
    'discovery': ['srv_endpoints', 'order_records'],
}


@pytest.mark.parametrize('module', sorted(PUBLIC))
def test_every_documented_name_imports(module):
    loaded = importlib.import_module(BASE + module)
    missing = [name for name in PUBLIC[module] if not hasattr(loaded, name)]
    assert not missing, '%s lacks %s' % (module, missing)


def test_the_paths_give_the_same_objects():
    pyetcd = importlib.import_module(BASE + 'pyetcd')
    assert pyetcd.Client is importlib.import_module(BASE + 'client').Client is importlib.import_module(BASE + '_v2.client').Client
    assert pyetcd.ResponseNode is importlib.import_module(BASE + 'result').ResponseNode
    exceptions = importlib.import_module(BASE + 'exceptions')
    for name in exceptions.__all__:
        assert getattr(pyetcd, name) is getattr(exceptions, name), name


def test_star_import_gives_the_api_and_nothing_else():
    namespace: dict = {}
    exec('from %spyetcd import *' % BASE, namespace)  # pylint: disable=exec-used
    assert 'Client' in namespace and 'EtcdKeyNotFound' in namespace
    assert 'Optional' not in namespace and 'annotations' not in namespace
