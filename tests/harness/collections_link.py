"""The per-checkout ansible_collections/pyetcd/etcd link that tests and benchmarks import through.

The repository root is the collection root; Ansible and the plugins' absolute imports need it
at <dir>/ansible_collections/pyetcd/etcd. One symlink per checkout, outside the tree, stands in
for an install. tools/collections-dir.sh makes the same link for the shell scripts (same hash
of the checkout path, so all of them share it).
"""
from __future__ import annotations

import hashlib
import os
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def collections_dir() -> str:
    """Directory holding ansible_collections/pyetcd/etcd -> this checkout (made if missing)."""
    tag = hashlib.sha1(ROOT.encode()).hexdigest()[:10]
    base = os.path.join(tempfile.gettempdir(), 'pyetcd-collections-%s' % tag)
    link = os.path.join(base, 'ansible_collections', 'pyetcd', 'etcd')
    if os.path.realpath(link) != os.path.realpath(ROOT):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        # Replace atomically: a concurrent run may be reading the same link.
        tmp = '%s.%d' % (link, os.getpid())
        os.symlink(ROOT, tmp)
        os.replace(tmp, link)
    return base
