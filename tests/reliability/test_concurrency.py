"""No lost update: many writers increment one counter with compare-and-swap retry loops.

Each writer reads the counter, writes value+1 with ``prev_index`` set to the index it read,
and on EtcdTestFailed reads again and retries. Each writer also appends a marker key for each
increment it got acknowledged, so the final counter must equal both the number of
acknowledged increments and the number of markers: an update lost by the client (a condition
not sent) or applied twice (a re-sent write) would break the equality.
"""
from __future__ import annotations

import multiprocessing
import threading
import uuid

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import Client, EtcdTestFailed

INCREMENTS = 25


def _increment(client: Client, key: str, marker_dir: str, writer: str, count: int) -> dict:
    done = conflicts = 0
    while done < count:
        node = client.read(key, quorum=True).node
        try:
            client.compare_and_swap(key, str(int(node.value) + 1), prev_index=node.modified_index)
        except EtcdTestFailed:
            conflicts += 1
            continue
        client.write('%s/%s-%d' % (marker_dir, writer, done), 'x')
        done += 1
    return {'done': done, 'conflicts': conflicts}


def _process_worker(hosts, key, marker_dir, writer, count, queue):
    # A separate process has its own client and its own first member.
    client = Client(host=hosts, timeout=10)
    try:
        queue.put(_increment(client, key, marker_dir, writer, count))
    except Exception as exc:  # report to the parent instead of dying silently
        queue.put({'error': repr(exc)})
    finally:
        client.close()


def _check(client: Client, key: str, marker_dir: str, results: list, writers: int) -> int:
    errors = [r['error'] for r in results if 'error' in r]
    assert not errors, errors
    acknowledged = sum(r['done'] for r in results)
    assert acknowledged == writers * INCREMENTS
    final = int(client.read(key, quorum=True).node.value)
    markers = len(client.read(marker_dir, recursive=True).node.children)
    assert final == acknowledged == markers, 'counter %d, acknowledged %d, markers %d' % (final, acknowledged, markers)
    return sum(r['conflicts'] for r in results)


@pytest.mark.slow
def test_processes_on_different_members_lose_no_update(etcd_cluster, figures):
    key = '/counter-%s' % uuid.uuid4().hex[:8]
    marker_dir = key + '-markers'
    setup = Client(host=etcd_cluster.hosts, timeout=10)
    setup.write(key, '0')
    writers = 6
    ctx = multiprocessing.get_context('spawn')
    queue = ctx.Queue()
    hosts = etcd_cluster.hosts
    procs = []
    for n in range(writers):
        # Rotate the member order so that the writers start on different members: the
        # compare-and-swap must hold across members, through raft.
        order = hosts[n % 3:] + hosts[:n % 3]
        proc = ctx.Process(target=_process_worker, args=(order, key, marker_dir, 'p%d' % n, INCREMENTS, queue))
        proc.start()
        procs.append(proc)
    results = [queue.get(timeout=120) for _proc in procs]
    for proc in procs:
        proc.join(timeout=30)
    conflicts = _check(setup, key, marker_dir, results, writers)
    assert conflicts > 0, 'the writers never collided, so the test proved nothing'
    figures.add('concurrency: increments checked', writers * INCREMENTS)
    figures.add('concurrency: CAS conflicts retried', conflicts)
    setup.close()


def test_threads_sharing_one_client_lose_no_update(etcd35, figures):
    key = '/counter-%s' % uuid.uuid4().hex[:8]
    marker_dir = key + '-markers'
    client = Client(host=etcd35.host, port=etcd35.port, timeout=10)
    client.write(key, '0')
    writers = 8
    results = [None] * writers

    def run(n):
        try:
            results[n] = _increment(client, key, marker_dir, 't%d' % n, INCREMENTS)
        except Exception as exc:  # surface in the main thread
            results[n] = {'error': repr(exc)}

    threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(not t.is_alive() for t in threads), 'a writer thread hung'
    conflicts = _check(client, key, marker_dir, results, writers)
    assert conflicts > 0, 'the threads never collided, so the test proved nothing'
    figures.add('concurrency: increments checked', writers * INCREMENTS)
    figures.add('concurrency: CAS conflicts retried', conflicts)
    client.close()
