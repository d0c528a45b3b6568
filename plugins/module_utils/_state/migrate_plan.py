# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan a copy of a v2 tree into v3 keys: pure functions, no I/O (the logic behind etcd_migrate).

Rules, each applied to one v2 key (a leaf; v2 directories have no v3 equivalent):

* its v3 key is ``prefix + v2 key``: with the default empty prefix, v2 ``/a/b`` is v3 ``/a/b``;
* a v3 key that is absent is **created**, guarded by ``create_revision == 0`` so that a key
  created by someone else after the read is never overwritten;
* a v3 key that holds exactly the v2 value (the same bytes) is **unchanged** and not written;
* a v3 key that holds another value is a **conflict**; with ``overwrite`` it is **overwritten**
  instead, guarded by ``mod_revision ==`` the revision read;
* a v2 key with a TTL gets a lease of the seconds it had left when read. Keys whose v2 TTLs
  read the same whole number of seconds end within one second of each other and share one
  lease (:func:`lease_groups`);
* a key is **hidden** when a segment of its path starts with ``_`` (v2 leaves such keys out of
  directory listings; :func:`hidden_roots` names the nodes to read directly);
* a directory with nothing under it is an **empty directory**: reported, nothing to copy.

Writes are cut into transactions of at most ``max_txn_ops`` operations and about
``_v3.txn.MAX_TXN_BYTES`` of keys and values (:func:`chunks`), under etcd's default request limit
of 1.5 MiB; a single larger key goes alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar

from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.txn import chunks as txn_chunks

CREATE = 'create'
OVERWRITE = 'overwrite'
UNCHANGED = 'unchanged'
CONFLICT = 'conflict'

# Per operation on top of its key and value: the JSON field names, compare, base64 growth is
# not counted because etcd's limit applies to the decoded request.
OP_OVERHEAD = 64

T = TypeVar('T')


@dataclass(frozen=True)
class SourceKey:
    """One v2 key as read: ``modified_index`` guards its deletion, ``ttl`` is the whole seconds
    it had left (None: permanent)."""

    key: str
    value: str
    modified_index: int
    ttl: Optional[int] = None

    @property
    def hidden(self) -> bool:
        return is_hidden(self.key)

    @property
    def data(self) -> bytes:
        return self.value.encode('utf-8')


@dataclass(frozen=True)
class TargetKey:
    """The v3 key as read: its exact bytes and ``mod_revision``."""

    value: bytes
    mod_revision: int


@dataclass(frozen=True)
class Step:
    """What to do with one v2 key: ``action`` (create, overwrite, unchanged, conflict), its
    ``target`` v3 key and, for an overwrite or a conflict, the ``mod_revision`` read there."""

    source: SourceKey
    target: str
    action: str
    mod_revision: int = 0


@dataclass
class MigrationPlan:
    """Every step, in v2 key order, with the views the module reports."""

    steps: List[Step] = field(default_factory=list)

    def of(self, *actions: str) -> List[Step]:
        return [step for step in self.steps if step.action in actions]

    @property
    def writes(self) -> List[Step]:
        return self.of(CREATE, OVERWRITE)

    @property
    def conflicts(self) -> List[Step]:
        return self.of(CONFLICT)


def target_key(prefix: str, v2_key: str) -> str:
    """The v3 key of a v2 key: ``prefix`` then the v2 key as it is (``/a/b``)."""
    return prefix + v2_key


def is_hidden(key: str) -> bool:
    """True when a segment of ``key`` starts with ``_`` (v2 does not list it)."""
    return any(segment.startswith('_') for segment in key.split('/'))


def hidden_roots(key: str, below: str = '/') -> List[str]:
    """The hidden nodes on the way to ``key`` (at or below ``below``), shallowest first.

    A v2 listing skips hidden nodes at every level, so each one must be read directly:
    for ``/a/_h/b/_c`` that is ``/a/_h`` (which lists ``/a/_h/b``) and ``/a/_h/b/_c``.
    """
    base = below.rstrip('/')
    segments = key.split('/')
    roots = []
    for position in range(1, len(segments)):
        path = '/'.join(segments[:position + 1])
        if segments[position].startswith('_') and (path == base or path.startswith(base + '/') or not base):
            roots.append(path)
    return roots


def plan_migration(sources: Iterable[SourceKey], targets: Dict[str, Optional[TargetKey]], prefix: str,
                   overwrite: bool) -> MigrationPlan:
    """One :class:`Step` per v2 key; ``targets`` maps each v3 key to what it holds (None: absent)."""
    plan = MigrationPlan()
    for source in sorted(sources, key=lambda item: item.key):
        name = target_key(prefix, source.key)
        plan.steps.append(plan_step(source, name, targets.get(name), overwrite))
    return plan


def plan_step(source: SourceKey, name: str, current: Optional[TargetKey], overwrite: bool) -> Step:
    """The step for one key, given what its v3 key holds now."""
    if current is None:
        return Step(source, name, CREATE)
    if current.value == source.data:
        return Step(source, name, UNCHANGED, current.mod_revision)
    return Step(source, name, OVERWRITE if overwrite else CONFLICT, current.mod_revision)


def lease_groups(steps: Iterable[Step]) -> Dict[int, List[Step]]:
    """The steps that need a lease, by the TTL the lease gets (one lease per TTL)."""
    groups: Dict[int, List[Step]] = {}
    for step in steps:
        if step.source.ttl is not None:
            groups.setdefault(max(int(step.source.ttl), 1), []).append(step)
    return groups


def chunks(items: Sequence[T], max_ops: int, size: Callable[[T], int]) -> List[List[T]]:
    """Cut ``items`` into transactions (``_v3.txn.chunks``), each item costing its ``size`` plus
    :data:`OP_OVERHEAD`."""
    return txn_chunks(items, max_ops, lambda item: size(item) + OP_OVERHEAD)


def write_size(step: Step) -> int:
    """Bytes a write of ``step`` puts in a transaction (its key twice: compare and put)."""
    return 2 * len(step.target.encode('utf-8')) + len(step.source.data)


def read_size(step: Step) -> int:
    """Bytes a read-back of ``step`` is expected to bring back."""
    return len(step.target.encode('utf-8')) + len(step.source.data)


def tree_contents(node: Any) -> Tuple[List[SourceKey], List[str], List[str]]:
    """The leaves of a v2 node (a ``ResponseNode``), every directory, and the directories with
    nothing under them, as the read listed them."""
    leaves: List[SourceKey] = []
    dirs: List[str] = []
    empty: List[str] = []

    def walk(item: Any) -> None:
        if not item.dir:
            leaves.append(SourceKey(item.key, item.value if item.value is not None else '', int(item.modified_index),
                                    int(item.ttl) if item.ttl is not None else None))
            return
        dirs.append(item.key)
        if not item.children:
            empty.append(item.key)
        for child in item.children:
            walk(child)

    walk(node)
    return leaves, dirs, empty


def deletable_dirs(dirs: Iterable[str], kept: Iterable[str]) -> List[List[str]]:
    """Directories to delete once their keys are gone, deepest first, one list per depth.

    A directory holding a key that stays (``kept``) stays; the v2 root ``/`` cannot be deleted.
    """
    kept_paths = list(kept)
    by_depth: Dict[int, List[str]] = {}
    for path in set(dirs):
        if path in ('', '/'):
            continue
        if any(item.startswith(path.rstrip('/') + '/') for item in kept_paths):
            continue
        by_depth.setdefault(path.count('/'), []).append(path)
    return [sorted(by_depth[depth]) for depth in sorted(by_depth, reverse=True)]


def sample(items: Sequence[T], size: int = 10) -> List[T]:
    """The first ``size`` items: what the diff shows of a long list."""
    return list(items[:size])
