"""Count the requests a piece of code makes to etcd, from etcd's own counters (/v2/stats/store).

etcd's v2 store counts every successful get and every write by kind. Comparing the counters
before and after proves from the server side how many reads and writes a module made; the
tests and the benchmark use this instead of instrumenting the product.
"""
from __future__ import annotations

from typing import Dict

import requests

WRITE_COUNTERS = (
    'setsSuccess', 'setsFail', 'createSuccess', 'createFail', 'updateSuccess', 'updateFail',
    'compareAndSwapSuccess', 'compareAndSwapFail', 'deleteSuccess', 'deleteFail',
    'compareAndDeleteSuccess', 'compareAndDeleteFail',
)


def store_stats(url: str) -> Dict[str, int]:
    """etcd's store counters of the member at ``url``."""
    return requests.get(url + '/v2/stats/store', timeout=5).json()


class StoreDelta:
    """Context manager: ``reads`` (successful gets) and ``writes`` made inside the block.

    etcd adds a failed get of its own around some requests (``getsFail``), so only successful
    gets are counted as reads; every write kind, successful or not, counts as a write.
    """

    def __init__(self, url: str):
        self.url = url
        self.reads = self.writes = 0
        self.by_kind: Dict[str, int] = {}
        self._before: Dict[str, int] = {}

    def __enter__(self) -> 'StoreDelta':
        self._before = store_stats(self.url)
        return self

    def __exit__(self, *exc) -> None:
        after = store_stats(self.url)
        self.by_kind = {name: after[name] - self._before.get(name, 0)
                        for name in after if after[name] != self._before.get(name, 0)}
        self.reads = self.by_kind.get('getsSuccess', 0)
        self.writes = sum(self.by_kind.get(name, 0) for name in WRITE_COUNTERS)
