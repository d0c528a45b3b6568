"""Make the collection importable as ansible_collections.pyetcd.etcd and load the etcd fixtures.

The repository root is the collection root. Ansible (and the absolute imports of our plugins)
need it at <dir>/ansible_collections/pyetcd/etcd, so the tests point a symlink at it from a
per-checkout directory outside the tree and put that directory first on sys.path. Tests that
run ansible-playbook get the same directory through ANSIBLE_COLLECTIONS_PATH (see
``tests/harness/collections_link.py``).
"""
from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.harness.collections_link import collections_dir  # noqa: E402  pylint: disable=wrong-import-position

COLLECTIONS_DIR = collections_dir()
os.environ['PYETCD_COLLECTIONS_DIR'] = COLLECTIONS_DIR
if COLLECTIONS_DIR not in sys.path:
    sys.path.insert(0, COLLECTIONS_DIR)

pytest_plugins = ['tests.harness.pytest_etcd']
