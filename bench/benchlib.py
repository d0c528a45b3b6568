"""Shared plumbing for the benchmark scripts in bench/.

Benchmark-only code: the collection's plugins never import it. Nothing here decides what is
measured; the scripts do, and print their own figures.

What it provides:
- ``collections_dir()``: a directory with ansible_collections/pyetcd/etcd -> this checkout, put
  first on sys.path so ``ansible_collections.pyetcd.etcd.plugins...`` imports work.
- ``etcd_endpoint()``: the etcd to measure against: ETCD_URL when run_all.py (or the harness
  CLI) set it, otherwise a throwaway etcd 3.5 started through tests/harness for this process.
- ``machine()``: nproc, CPU model, Python and etcd version, for every results file.
- ``write_json()``: the one results format run_all.py reads back.
"""
from __future__ import annotations

import atexit
import json
import os
import platform
import statistics
import sys
import time
import urllib.request
from typing import Callable, Dict, List, Optional, Tuple, TypeVar

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HARNESS = os.path.join(ROOT, 'tests', 'harness')


# Every write counter of etcd's /v2/stats/store: their sum moves by one per v2 write, applied or
# refused.
V2_WRITE_COUNTERS = ('setsSuccess', 'setsFail', 'createSuccess', 'createFail', 'updateSuccess', 'updateFail',
                     'compareAndSwapSuccess', 'compareAndSwapFail', 'deleteSuccess', 'deleteFail',
                     'compareAndDeleteSuccess', 'compareAndDeleteFail')


T = TypeVar('T')


def v2_writes(before: Dict[str, int], after: Dict[str, int]) -> int:
    """The v2 writes between two reads of /v2/stats/store."""
    return sum(after[name] - before[name] for name in V2_WRITE_COUNTERS)


def collections_dir() -> str:
    """The per-checkout collection link of tests/harness/collections_link.py, put first on sys.path."""
    if HARNESS not in sys.path:
        sys.path.insert(0, HARNESS)
    from collections_link import collections_dir as make_link  # pylint: disable=import-outside-toplevel,import-error
    base = make_link()
    if base not in sys.path:
        sys.path.insert(0, base)
    return base


def etcd_endpoint() -> Tuple[str, str, int]:
    """(url, host, port) of the etcd to use; starts a private etcd 3.5 when none is given."""
    url = os.environ.get('ETCD_URL')
    if url:
        host = os.environ.get('ETCD_HOST', '127.0.0.1')
        port = int(os.environ.get('ETCD_PORT') or url.rsplit(':', 1)[1])
        return url, host, port
    if HARNESS not in sys.path:
        sys.path.insert(0, HARNESS)
    from etcd_server import EtcdServer  # pylint: disable=import-outside-toplevel,import-error
    server = EtcdServer(os.environ.get('ETCD_TEST_VERSION', '3.5')).start()
    atexit.register(server.destroy)
    os.environ.update(ETCD_URL=server.url, ETCD_HOST=server.host, ETCD_PORT=str(server.port),
                      ETCD_VERSION=server.version)
    return server.url, server.host, server.port


def etcd_version(url: str) -> str:
    with urllib.request.urlopen(url + '/version', timeout=5) as resp:
        return json.loads(resp.read().decode()).get('etcdserver', '?')


def cpu_model() -> str:
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as handle:
            for line in handle:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def machine(url: Optional[str] = None) -> Dict[str, str]:
    """What the figures were measured on; quoted next to every absolute number."""
    info = {
        'nproc': str(os.cpu_count()),
        'cpu': cpu_model(),
        'python': platform.python_version(),
        'os': '%s %s' % (platform.system(), platform.release()),
    }
    if url:
        try:
            info['etcd'] = etcd_version(url)
        except OSError:
            info['etcd'] = 'unknown'
    return info


def rotated(items: List[T], number: int) -> List[T]:
    """``items`` in the order of round ``number``: moved on by one each round, so that no
    contender always runs first, or always right after the same other one (in a fixed order the
    first one after a switch of phase ran 8-15% slower in the v3 benchmark)."""
    if not items:
        return []
    shift = number % len(items)
    return items[shift:] + items[:shift]


def best_of(rounds: List[float]) -> float:
    """The median: the machines are shared and noisy, and a single lucky round misleads."""
    return statistics.median(rounds)


def bulk_rows(totals: Dict[str, List[float]], reads: Dict[str, List[float]], keys: int) -> List[dict]:
    """Result rows of a bulk benchmark: each contender's best total, split into write and read."""
    rows = []
    for name, samples in totals.items():
        total = best_of(samples)
        read = best_of(reads[name])
        rows.append({'name': name, 'op': 'bulk', 'keys': keys, 'seconds': round(total, 4),
                     'write_seconds': round(total - read, 4), 'read_seconds': round(read, 4),
                     'rounds': [round(s, 4) for s in samples]})
    return rows


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def write_json(path: Optional[str], title: str, rows: List[dict], ratios: Dict[str, float],
               notes: Optional[List[str]] = None, url: Optional[str] = None) -> None:
    """Results file read by run_all.py: title, machine, rows (name, seconds, ...), ratios."""
    if not path:
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump({'title': title, 'machine': machine(url), 'rows': rows, 'ratios': ratios,
                   'notes': notes or []}, handle, indent=2)
        handle.write('\n')
