"""Fixtures of the v3 lookup tests: connection keywords for ``api_version=v3``, a unique key
prefix without a leading ``/`` (v3 keys are verbatim), and fast writes through the gateway.

Writes go straight to etcd's JSON gateway (or etcdctl), never through the collection, and the
tests read etcd's state back the same way (tests/harness/v3_state.py).
"""
from __future__ import annotations

import base64
import uuid
from typing import Dict, Optional, Union

import pytest
import requests

Bytes = Union[str, bytes]


@pytest.fixture(autouse=True)
def _no_v3_env(monkeypatch):
    for name in ('PYETCD_API_VERSION', 'PYETCD_MAX_TXN_OPS'):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def conn(etcd_server):
    """Keywords of a v3 lookup on ``etcd_server``."""
    return {'host': [etcd_server.url], 'timeout': 5, 'api_version': 'v3'}


@pytest.fixture
def pfx() -> str:
    """A unique key prefix per test, without a leading slash."""
    return 'lk3-%s/' % uuid.uuid4().hex[:10]


def _b64(data: Bytes) -> str:
    return base64.b64encode(data.encode('utf-8') if isinstance(data, str) else data).decode('ascii')


def gateway(server, method: str, body: dict) -> dict:
    """POST ``body`` to ``/v3<method>`` of ``server`` and return the JSON answer (asserting 200)."""
    answer = requests.post(server.url + '/v3' + method, json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def put(server, key: Bytes, value: Bytes, lease: Optional[int] = None) -> int:
    """Write one key through the gateway; the revision of the write."""
    body = {'key': _b64(key), 'value': _b64(value)}
    if lease:
        body['lease'] = str(lease)
    return int(gateway(server, '/kv/put', body)['header']['revision'])


def put_many(server, items: Dict[str, str]) -> int:
    """Write many keys in txns of 100 puts; the revision of the last one."""
    pairs = list(items.items())
    revision = 0
    for start in range(0, len(pairs), 100):
        ops = [{'request_put': {'key': _b64(k), 'value': _b64(v)}} for k, v in pairs[start:start + 100]]
        revision = int(gateway(server, '/kv/txn', {'success': ops})['header']['revision'])
    return revision


def delete(server, key: str) -> int:
    return int(gateway(server, '/kv/deleterange', {'key': _b64(key)})['header']['revision'])


def grant(server, ttl: int) -> int:
    return int(gateway(server, '/lease/grant', {'TTL': ttl})['ID'])


def compact(server, revision: int) -> None:
    gateway(server, '/kv/compaction', {'revision': str(revision), 'physical': True})


@pytest.fixture
def sent_bodies(monkeypatch):
    """Every request the collection's transport sends, as ``(path, JSON body or None)``."""
    import json  # pylint: disable=import-outside-toplevel
    from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.transport import Transport  # pylint: disable=import-outside-toplevel
    seen = []
    original = Transport.send

    def send(self, method, path, *args, **kwargs):
        body = kwargs.get('body')
        seen.append((path, json.loads(body) if body else None))
        return original(self, method, path, *args, **kwargs)

    monkeypatch.setattr(Transport, 'send', send)
    return seen
