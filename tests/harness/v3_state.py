"""Read the v3 store straight from etcd, bypassing the collection: etcdctl and the raw gateway.

Tests of the v3 modules and lookup check what etcd holds with these, never only through the
code under test.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from typing import Any, Dict, List, Optional

ETCDCTL = os.path.join(os.path.dirname(sys.executable), 'etcdctl')


def etcdctl(server: Any, *args: str, stdin: Optional[bytes] = None, user: Optional[str] = None,
            check: bool = True) -> subprocess.CompletedProcess:
    """Run etcdctl (API v3) against ``server`` (an EtcdServer or a URL); ``user`` is ``name:password``."""
    url = server if isinstance(server, str) else server.url
    command = [ETCDCTL, '--endpoints', url, '--dial-timeout', '5s', '--command-timeout', '10s']
    if user:
        command += ['--user', user]
    proc = subprocess.run(command + list(args), input=stdin, capture_output=True, env=dict(os.environ, ETCDCTL_API='3'),
                          timeout=60, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr.decode()
    return proc


def kv(server: Any, key: str) -> Optional[Dict[str, Any]]:
    """The key as etcdctl reads it (value decoded, revisions and lease as ints), or None."""
    out = json.loads(etcdctl(server, 'get', key, '-w', 'json').stdout)
    items = out.get('kvs') or []
    if not items:
        return None
    item = items[0]
    return {'key': base64.b64decode(item['key']).decode(), 'value': base64.b64decode(item.get('value', '')).decode(),
            'create_revision': int(item.get('create_revision', 0)), 'mod_revision': int(item.get('mod_revision', 0)),
            'version': int(item.get('version', 0)), 'lease': int(item.get('lease', 0))}


def prefix_kvs(server: Any, prefix: str) -> Dict[str, Dict[str, Any]]:
    """Every key under ``prefix`` as etcdctl reads it: ``{key: kv}``."""
    out = json.loads(etcdctl(server, 'get', prefix, '--prefix', '-w', 'json').stdout)
    found = {}
    for item in out.get('kvs') or []:
        key = base64.b64decode(item['key']).decode()
        found[key] = {'value': base64.b64decode(item.get('value', '')).decode(),
                      'mod_revision': int(item.get('mod_revision', 0)), 'lease': int(item.get('lease', 0))}
    return found


def values(server: Any, prefix: str) -> Dict[str, str]:
    """``{key: value}`` under ``prefix``, read with etcdctl."""
    return {key: item['value'] for key, item in prefix_kvs(server, prefix).items()}


def revision(server: Any) -> int:
    """The store revision now, from the gateway."""
    import requests  # pylint: disable=import-outside-toplevel
    answer = requests.post((server if isinstance(server, str) else server.url) + '/v3/kv/range',
                           json={'key': base64.b64encode(b'\0').decode()}, timeout=5).json()
    return int(answer['header']['revision'])


def lease_ttl(server: Any, lease_id: int) -> Dict[str, Any]:
    """``{'ttl': left, 'granted_ttl': ..., 'keys': [...]}`` of a lease, read with etcdctl."""
    out = json.loads(etcdctl(server, 'lease', 'timetolive', '%x' % lease_id, '--keys', '-w', 'json').stdout)
    return {'ttl': int(out.get('ttl', -1)), 'granted_ttl': int(out.get('granted-ttl', 0)),
            'keys': [base64.b64decode(k).decode() for k in out.get('keys') or []]}


def leases(server: Any) -> List[int]:
    out = json.loads(etcdctl(server, 'lease', 'list', '-w', 'json').stdout)
    return [int(item['id']) for item in out.get('leases') or []]
