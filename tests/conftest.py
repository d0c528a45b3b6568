"""Make the collection importable as ansible_collections.pyetcd.etcd and load the etcd fixtures.

The repository root is the collection root. Ansible (and the absolute imports of our plugins)
need it at <dir>/ansible_collections/pyetcd/etcd, so the tests point a symlink at it from a
per-checkout directory outside the tree and put that directory first on sys.path. Tests that
run ansible-playbook get the same directory through ANSIBLE_COLLECTIONS_PATH (see
``collections_dir``).
"""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def collections_dir() -> str:
    """Directory holding ansible_collections/pyetcd/etcd -> this checkout."""
    tag = hashlib.sha1(ROOT.encode()).hexdigest()[:10]
    base = os.path.join(tempfile.gettempdir(), 'pyetcd-collections-%s' % tag)
    link = os.path.join(base, 'ansible_collections', 'pyetcd', 'etcd')
    if os.path.realpath(link) != os.path.realpath(ROOT):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        tmp = '%s.%d' % (link, os.getpid())
        os.symlink(ROOT, tmp)
        os.replace(tmp, link)
    return base


COLLECTIONS_DIR = collections_dir()
os.environ['PYETCD_COLLECTIONS_DIR'] = COLLECTIONS_DIR
if COLLECTIONS_DIR not in sys.path:
    sys.path.insert(0, COLLECTIONS_DIR)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

pytest_plugins = ['tests.harness.pytest_etcd']
