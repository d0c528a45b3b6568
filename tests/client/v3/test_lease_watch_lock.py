"""Leases, watches, compaction and locks of Etcd3Client against real etcd 3.5 and 3.4.

State is checked with etcdctl (or raw gateway requests), not only through the client. Tests
that compact start their own etcd, so the shared servers keep their history.
"""
from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from ansible_collections.pyetcd.etcd.plugins.module_utils import exceptions as exc
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client, LeaseHandle, Lock, Watch
from tests.harness.etcd_server import EtcdServer, EtcdUnavailable, find_etcd, free_port

ETCDCTL = os.path.join(os.path.dirname(sys.executable), 'etcdctl')


def etcdctl(url, *args, check=True):
    cmd = [ETCDCTL, '--endpoints', url, '--dial-timeout', '3s', '--command-timeout', '10s'] + list(args)
    result = subprocess.run(cmd, capture_output=True, env=dict(os.environ, ETCDCTL_API='3'), timeout=30, check=False)
    if check:
        assert result.returncode == 0, result.stderr.decode()
    return result


def etcdctl_keys(url, prefix):
    """Keys under ``prefix`` as etcdctl sees them."""
    return etcdctl(url, 'get', '--prefix', '--keys-only', prefix).stdout.decode().split()


def lock_process(url, name, *command, ttl=2):
    """``etcdctl lock --ttl N name -- command...`` started in the background."""
    cmd = [ETCDCTL, '--endpoints', url, '--dial-timeout', '3s', 'lock', '--ttl', str(ttl), name]
    if command:
        cmd += ['--'] + list(command)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # pylint: disable=consider-using-with
                            env=dict(os.environ, ETCDCTL_API='3'))


def stop_process(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def wait_for(predicate, deadline=15.0, what='condition'):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError('%s not reached within %gs' % (what, deadline))


@pytest.fixture
def v3(etcd_server):
    cli = Etcd3Client(host=etcd_server.host, port=etcd_server.port, timeout=5)
    yield cli
    cli.close()


@pytest.fixture(params=('3.5', '3.4'), ids=['etcd3.5', 'etcd3.4'])
def own_server(request):
    """A server of its own (compaction is server-wide), with progress notifications every 0.5s."""
    try:
        find_etcd(request.param)
    except EtcdUnavailable as error:
        pytest.skip(str(error))
    server = EtcdServer(request.param, extra_args=('--experimental-watch-progress-notify-interval', '500ms')).start()
    yield server
    server.destroy()


# -- leases -------------------------------------------------------------------------------------

def test_lease_grant_refresh_keys_revoke(v3, etcd_server, key_prefix):
    lease = v3.lease(30)
    assert isinstance(lease, LeaseHandle) and lease.id > 0 and lease.ttl == 30
    out = etcdctl(etcd_server.url, 'lease', 'timetolive', format(lease.id, 'x')).stdout.decode()
    assert 'granted with TTL(30s)' in out
    assert 0 < lease.remaining() <= 30
    key = key_prefix + '/leased'
    v3.put(key, 'v', lease=lease)
    v3.put(key_prefix + '/plain', 'v')
    assert lease.keys() == [key]
    assert lease in v3.leases()
    assert lease.refresh().ttl == 30
    assert v3.refresh_lease(lease.id).id == lease.id
    assert v3.get_lease(lease.id).ttl == 30

    lease.revoke()
    assert etcdctl_keys(etcd_server.url, key_prefix) == [key_prefix + '/plain']
    out = etcdctl(etcd_server.url, 'lease', 'timetolive', format(lease.id, 'x')).stdout.decode()
    assert 'already expired' in out
    assert v3.get_lease(lease.id) is None
    with pytest.raises(exc.EtcdLeaseNotFound) as info:
        lease.refresh()
    assert format(lease.id, 'x') in str(info.value)
    with pytest.raises(exc.EtcdLeaseNotFound):
        v3.revoke_lease(lease.id)
    with pytest.raises(exc.EtcdLeaseNotFound):
        lease.remaining()


def test_lease_with_chosen_id(v3, etcd_server):
    lease_id = int(time.time() * 1000) * 1000 + os.getpid() % 1000
    lease = v3.lease(20, lease_id=lease_id)
    try:
        assert lease.id == lease_id
        assert format(lease_id, 'x') in etcdctl(etcd_server.url, 'lease', 'list').stdout.decode()
        with pytest.raises(exc.EtcdLeaseExists):
            v3.lease(20, lease_id=lease_id)
    finally:
        v3.revoke_lease(lease_id)


def test_lease_expires_and_takes_its_keys(v3, etcd_server, key_prefix):
    lease = v3.lease(1)
    key = key_prefix + '/short'
    v3.put(key, 'v', lease=lease.id)
    wait_for(lambda: v3.get_lease(lease.id) is None, what='lease expiry')
    assert etcdctl_keys(etcd_server.url, key_prefix) == []
    with pytest.raises(exc.EtcdLeaseNotFound):
        v3.refresh_lease(lease.id)


def test_unknown_lease(v3):
    assert v3.get_lease(4242424242) is None
    with pytest.raises(exc.EtcdLeaseNotFound):
        v3.refresh_lease(4242424242)


# -- bad input: refused before anything is sent ---------------------------------------------------

@pytest.mark.parametrize('call, argument', [
    (lambda c: c.lease(0), 'ttl'),
    (lambda c: c.lease(1.5), 'ttl'),
    (lambda c: c.lease('ten'), 'ttl'),
    (lambda c: c.lease(True), 'ttl'),
    (lambda c: c.lease(10 ** 10), 'ttl'),
    (lambda c: c.lease(10, lease_id=0), 'lease_id'),
    (lambda c: c.refresh_lease(-1), 'lease_id'),
    (lambda c: c.get_lease('x'), 'lease_id'),
    (lambda c: c.watch(''), 'key'),
    (lambda c: c.watch(5), 'key'),
    (lambda c: c.watch('k', prefix=True, range_end='z'), 'prefix'),
    (lambda c: c.watch('k', start_revision=0), 'start_revision'),
    (lambda c: c.watch('k', filters=['noget']), 'filters'),
    (lambda c: c.watch('k', filters='noput'), 'filters'),
    (lambda c: c.watch('k', timeout=0), 'timeout'),
    (lambda c: c.watch('k', prev_kv='yes'), 'prev_kv'),
    (lambda c: c.watch_once('k', timeout=-1), 'timeout'),
    (lambda c: c.compact(0), 'revision'),
    (lambda c: c.compact(5, physical=1), 'physical'),
    (lambda c: c.lock(''), 'name'),
    (lambda c: c.lock('n', ttl=0), 'ttl'),
    (lambda c: c.lock('n', timeout=-2), 'timeout'),
    (lambda c: c.lock('n').acquire(timeout='soon'), 'timeout'),
])
def test_bad_input_is_refused_before_sending(call, argument):
    # Nothing listens on this port: anything sent would fail with EtcdConnectionFailed.
    client = Etcd3Client(port=free_port(), api_prefix='/v3', timeout=1)
    with pytest.raises(exc.ClientException) as info:
        call(client)
    assert argument in str(info.value)


# -- watch --------------------------------------------------------------------------------------

def test_watch_put_and_delete(v3, etcd_server, key_prefix):
    key = key_prefix + '/w'
    with v3.watch(key, timeout=10) as watch:
        assert isinstance(watch, Watch)
        etcdctl(etcd_server.url, 'put', key, 'one')
        etcdctl(etcd_server.url, 'put', key_prefix + '/other', 'x')
        etcdctl(etcd_server.url, 'del', key)
        put, delete = next(watch), next(watch)
    assert (put.type, put.kv.key, put.kv.value, put.kv.version) == ('PUT', key, 'one', 1)
    assert (delete.type, delete.kv.key) == ('DELETE', key)
    assert delete.kv.mod_revision > put.kv.mod_revision
    assert watch.revision == delete.kv.mod_revision
    assert watch.closed
    with pytest.raises(StopIteration):
        next(watch)


def test_watch_prefix_prev_kv_and_filters(v3, key_prefix):
    watch = v3.watch(key_prefix + '/dir/', prefix=True, prev_kv=True, filters=['nodelete'], timeout=10)
    v3.put(key_prefix + '/dir/a', '1')
    v3.put(key_prefix + '/dirt', 'outside')
    v3.put(key_prefix + '/dir/a', '2')
    v3.delete(key_prefix + '/dir/a')
    v3.put(key_prefix + '/dir/b', '3')
    seen = [next(watch) for _number in range(3)]
    watch.close()
    assert [(e.type, e.kv.key, e.kv.value) for e in seen] == [
        ('PUT', key_prefix + '/dir/a', '1'), ('PUT', key_prefix + '/dir/a', '2'), ('PUT', key_prefix + '/dir/b', '3')]
    assert seen[0].prev_kv is None
    assert seen[1].prev_kv.value == '1'


def test_watch_replays_from_start_revision(v3, key_prefix):
    key = key_prefix + '/hist'
    revisions = [v3.put(key, str(number)).header.revision for number in range(3)]
    with v3.watch(key, start_revision=revisions[0], timeout=10) as watch:
        events = [next(watch) for _number in range(3)]
    assert [e.kv.value for e in events] == ['0', '1', '2']
    assert [e.kv.mod_revision for e in events] == revisions


def test_watch_timeout_and_resume_without_loss(v3, key_prefix):
    key = key_prefix + '/quiet'
    watch = v3.watch(key, timeout=1)
    started = time.monotonic()
    with pytest.raises(exc.EtcdWatchTimedOut) as info:
        next(watch)
    assert time.monotonic() - started < 10  # bounded, not a hang
    assert not info.value.outcome_unknown and key in str(info.value)
    # A change made while no stream was open is still delivered, once.
    revision = v3.put(key, 'late').header.revision
    event = next(watch)
    assert (event.kv.value, event.kv.mod_revision) == ('late', revision)
    with pytest.raises(exc.EtcdWatchTimedOut):
        next(watch)
    watch.close()


def test_watch_once(v3, key_prefix):
    key = key_prefix + '/once'
    timer = threading.Timer(0.5, v3.put, (key, 'fired'))
    timer.start()
    try:
        event = v3.watch_once(key, timeout=10)
    finally:
        timer.join()
    assert (event.type, event.kv.value) == ('PUT', 'fired')
    with pytest.raises(exc.EtcdWatchTimedOut):
        v3.watch_once(key, timeout=0.5)


def test_breaking_out_of_a_watch_closes_it(v3, key_prefix):
    key = key_prefix + '/loop'
    watch = v3.watch(key, timeout=10)
    v3.put(key, 'a')
    for event in watch:
        assert event.kv.value == 'a'
        break
    watch.close()
    assert watch.closed and list(watch) == []


# -- compaction (a server of its own) -----------------------------------------------------------

def test_watch_from_compacted_revision(own_server):
    client = Etcd3Client(host=own_server.host, port=own_server.port, timeout=5)
    revisions = [client.put('c/k', str(number)).header.revision for number in range(3)]
    etcdctl(own_server.url, 'compact', str(revisions[2]))
    watch = client.watch('c/k', start_revision=revisions[0], timeout=5)
    with pytest.raises(exc.EtcdCompacted) as info:
        next(watch)
    assert info.value.compact_revision == revisions[2]
    assert 'revision %d' % revisions[2] in str(info.value)
    assert watch.closed
    # From the compaction revision on it works.
    with client.watch('c/k', start_revision=revisions[2], timeout=5) as watch:
        assert next(watch).kv.value == '2'


def test_resumed_watch_after_compaction_and_progress(own_server):
    client = Etcd3Client(host=own_server.host, port=own_server.port, timeout=5)
    watch = client.watch('r/k', progress_notify=True, timeout=3)
    first = client.put('r/k', 'a').header.revision
    assert next(watch).kv.mod_revision == first
    # Progress notifications are not events, but they move the watch's revision on.
    other = client.put('r/unrelated', 'x').header.revision
    with pytest.raises(exc.EtcdWatchTimedOut):
        next(watch)
    assert watch.revision >= other
    # The watch resumes from watch.revision + 1; make that history vanish meanwhile.
    client.put('r/k', 'b')
    last = client.put('r/k', 'c').header.revision
    header = client.compact(last, physical=True)
    assert header.revision >= last
    assert etcdctl(own_server.url, 'get', '--rev', str(first), 'r/k', check=False).returncode != 0
    with pytest.raises(exc.EtcdCompacted) as info:
        next(watch)
    assert info.value.compact_revision == last
    assert 'resumed' in str(info.value)
    with pytest.raises(exc.EtcdCompacted):
        client.compact(last)
    with pytest.raises(exc.EtcdFutureRevision):
        client.compact(last + 1000)


# -- a member that takes connections but never answers -----------------------------------------

def test_watch_skips_frozen_member_and_resumes_on_another(etcd_cluster):
    first, second, third = etcd_cluster.members
    client = Etcd3Client(host=etcd_cluster.hosts, timeout=2)
    first.freeze()
    try:
        watch = client.watch('f/k', timeout=15)
        assert watch.endpoint != first.url
        etcdctl(third.url, 'put', 'f/k', 'seen')
        assert next(watch).kv.value == 'seen'
    finally:
        first.thaw()
    first.wait_healthy(30)  # back in the cluster before another member goes
    # The member the watch is on goes away: it is opened again elsewhere, nothing lost or repeated.
    victim = first if watch.endpoint == first.url else second if watch.endpoint == second.url else third
    victim.kill()
    survivors = [m for m in etcd_cluster.members if m is not victim]
    for member in survivors:
        member.wait_healthy(30)  # a leader again (the victim may have been the leader)
    etcdctl(survivors[0].url, 'put', 'f/k', 'after')
    event = next(watch)
    assert event.kv.value == 'after'
    assert watch.endpoint != victim.url
    watch.close()


# -- locks --------------------------------------------------------------------------------------

def test_our_lock_excludes_etcdctl(v3, etcd_server, key_prefix):
    name = key_prefix + '-lock'
    lock = v3.lock(name, ttl=20)
    assert isinstance(lock, Lock)
    with lock:
        assert lock.is_acquired()
        assert etcdctl_keys(etcd_server.url, name + '/') == [lock.key.decode()]
        proc = lock_process(etcd_server.url, name, 'true')
        try:
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=2)
        finally:
            stop_process(proc)
        assert lock.refresh() == 20
    assert not lock.is_acquired()
    wait_for(lambda: etcdctl_keys(etcd_server.url, name + '/') == [], what='lock keys gone')
    proc = lock_process(etcd_server.url, name, 'true')
    assert proc.wait(timeout=20) == 0, proc.stderr.read().decode()


def test_etcdctl_lock_blocks_ours(v3, etcd_server, key_prefix):
    name = key_prefix + '-held'
    proc = lock_process(etcd_server.url, name, 'sleep', '3', ttl=5)
    try:
        wait_for(lambda: len(etcdctl_keys(etcd_server.url, name + '/')) == 1, what='etcdctl holding the lock')
        holder = etcdctl_keys(etcd_server.url, name + '/')
        leases_before = {lease.id for lease in v3.leases()}
        lock = v3.lock(name, ttl=10, timeout=1)
        with pytest.raises(exc.EtcdDeadlineExceeded) as info:
            lock.acquire()
        assert name in str(info.value) and 'within 1s' in str(info.value)
        assert not lock.is_acquired()
        # Nothing of ours is left: no waiting key, no lease.
        assert etcdctl_keys(etcd_server.url, name + '/') == holder
        assert {lease.id for lease in v3.leases()} <= leases_before
        # Without a short timeout ours waits until etcdctl's command ended.
        assert lock.acquire(timeout=30)
        assert etcdctl_keys(etcd_server.url, name + '/') == [lock.key.decode()]
        assert proc.wait(timeout=10) == 0
        lock.release()
    finally:
        stop_process(proc)


def test_lock_released_after_exception(v3, etcd_server, key_prefix):
    name = key_prefix + '-exc'
    with pytest.raises(RuntimeError):
        with v3.lock(name, ttl=30) as lock:
            key, lease_id = lock.key, lock.lease.id
            raise RuntimeError('boom')
    assert etcdctl_keys(etcd_server.url, name + '/') == []
    assert v3.get_lease(lease_id) is None
    assert v3.get(key) is None
    assert lock.release() is False


def test_two_clients_contend(etcd_server, key_prefix):
    name = key_prefix + '-two'
    one = Etcd3Client(host=etcd_server.host, port=etcd_server.port, timeout=5)
    two = Etcd3Client(host=etcd_server.host, port=etcd_server.port, timeout=5)
    order = []
    first = one.lock(name, ttl=30)
    first.acquire()
    got = threading.Event()

    def second():
        with two.lock(name, ttl=30, timeout=30) as lock:
            order.append(('second', lock.key))
            got.set()

    thread = threading.Thread(target=second)
    thread.start()
    try:
        wait_for(lambda: len(etcdctl_keys(etcd_server.url, name + '/')) == 2, what='second waiting')
        assert not got.wait(1.0)
        order.append(('first released', first.key))
        first.release()
        assert got.wait(15)
    finally:
        first.release()
        thread.join(30)
    assert [step for step, _key in order] == ['first released', 'second']
    assert etcdctl_keys(etcd_server.url, name + '/') == []


def test_lock_answer_checked_with_raw_gateway(v3, etcd_server, key_prefix):
    """The lock key is the gateway's ``name/<lease hex>`` key on our lease."""
    name = key_prefix + '-raw'
    with v3.lock(name, ttl=15) as lock:
        assert lock.key == ('%s/%x' % (name, lock.lease.id)).encode()
        answer = requests.post(etcd_server.url + '/v3/kv/range', json={'key': base64.b64encode(lock.key).decode()},
                               timeout=5).json()
        assert int(answer['kvs'][0]['lease']) == lock.lease.id


# -- auth: a watch refused for an expired token is opened again after authenticating ------------

@pytest.fixture(params=('3.5', '3.4'), ids=['etcd3.5', 'etcd3.4'])
def auth_server(request):
    """A server of its own with auth on and simple tokens that expire after 2 idle seconds."""
    try:
        find_etcd(request.param)
    except EtcdUnavailable as error:
        pytest.skip(str(error))
    server = EtcdServer(request.param, extra_args=('--auth-token-ttl', '2')).start()
    etcdctl(server.url, 'user', 'add', 'root:rootpw')
    etcdctl(server.url, 'user', 'grant-role', 'root', 'root')
    etcdctl(server.url, 'auth', 'enable')
    yield server
    server.destroy()


def test_watch_renews_an_expired_token(auth_server):
    client = Etcd3Client(host=auth_server.host, port=auth_server.port, username='root', password='rootpw', timeout=5)
    client.put('a/k', 'first')
    stale = client.auth_token
    time.sleep(4)  # the simple token expires after 2 idle seconds
    with client.watch('a/k', timeout=10) as watch:
        assert client.auth_token != stale
        etcdctl(auth_server.url, '--user', 'root:rootpw', 'put', 'a/k', 'second')
        assert next(watch).kv.value == 'second'
    client.close()
