# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan the writes of the etcd_dir module from one recursive read.

Everything here is pure: no request is sent. The caller reads the directory once with
``store.read_tree(path)`` (``None`` when it is missing), hands the resulting node to :func:`plan_present` or :func:`plan_absent`, and gets back a
:class:`DirPlan`: the writes to send, grouped in phases, plus what will be created, updated
and deleted, and the before/after trees for diff mode.

Rules decided here (and documented in the module):

* ``content`` is a nested dict. A dict is a directory (an empty dict an empty directory), any
  other value a key. Strings are stored as given; integers and floats as ``str(value)``;
  booleans as ``true``/``false`` (the YAML/JSON spelling). ``None``, lists and other types are
  refused with a message naming the key path, because there is no single obvious string for
  them.
* Names in ``content`` are single path segments: empty names, ``.``, ``..`` and names
  containing ``/`` are refused. Names starting with ``_`` are refused too: etcd hides such
  nodes from directory listings, so one recursive read could never see them and every run
  would rewrite them.
* A key where a directory is wanted, or a directory where a key is wanted, is replaced only
  when ``purge`` is true (purge means "make it exactly this"); otherwise the plan fails and
  names every such conflict.
* ``purge`` deletes only what the read listed: each key read, on the index read, then each
  directory, deepest first, with a plain directory delete (RMDIR), which etcd refuses for a
  directory that is not empty. A directory holding hidden nodes (never listed) or nodes written after the
  read therefore stays; the executor keeps it and reports it (:meth:`DirPlan.keep`).
* ``state=absent`` without ``recursive`` sends the same plain directory delete, so etcd
  itself refuses a directory that holds anything, listed or not. With ``recursive`` it is one
  recursive delete: etcd removes everything below the path, hidden nodes and nodes written after
  the read included, but only what the read listed can be reported as deleted.
* ``ttl`` is a whole number of seconds, at least 1 (:func:`check_ttl`). It applies to the
  directory at ``path`` only. Given, the TTL is set when the directory
  has none or would expire later than ``ttl`` seconds from now, and an existing shorter
  countdown is left alone (resetting it would make every run a change): etcd_key's rule.
  Omitted, an existing TTL is left alone, unlike etcd_key: etcd 3.5's v2 store refuses every
  update of an existing directory, so removing a TTL would fail there. Keys in ``content``
  are written without a TTL.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import HIDDEN, StateError, attr

# Operation kinds. A store turns each into requests of its API (store_v2.request_for).
MKDIR = 'mkdir'          # create a directory where nothing is (with ttl when given)
SET_DIR_TTL = 'dir_ttl'  # set (or, with ttl None, remove) the TTL of an existing directory
SET = 'set'              # store a key's value (etcd creates missing parent directories itself)
DELETE = 'delete'        # delete one key, only if it is unchanged since the index read
RMDIR = 'rmdir'          # delete one directory: etcd refuses it (108) unless it is empty
RMTREE = 'rmtree'        # delete a directory and all below it, hidden nodes too


class DirPlanError(StateError, ValueError):
    """The requested state cannot be planned; the message names the key path and the reason.

    ``category`` says why in a few words: ``invalid argument`` for the task's options and
    content, others (``conflict``, ``not a directory``, ...) for what the read found.
    """


@dataclass(frozen=True)
class Operation:
    """One write. ``key`` is absolute; ``value`` only for SET, ``ttl`` for MKDIR/SET_DIR_TTL.

    ``prev_index`` (SET of a changed key, DELETE) is the ``modified_index`` read, and ``create``
    (SET of a new key) makes the write a create: the write then fails instead of overwriting a
    node another writer changed or created after the read.
    """

    action: str
    key: str
    value: Optional[str] = None
    ttl: Optional[int] = None
    prev_index: Optional[int] = None
    create: bool = False


@dataclass
class DirPlan:
    """What etcd_dir will do.

    ``phases`` is a list of lists of operations: phases run in order, the operations of one
    phase touch disjoint keys and may run concurrently. ``created``/``updated``/``deleted``
    are absolute paths of every node (key or directory) that appears, changes value or
    disappears, sorted. ``before``/``after`` are nested dicts of the tree under ``path``.

    ``prune`` is True when the RMDIR operations empty out a purge: a directory etcd refuses to
    delete because it is not empty is then kept (:meth:`keep`) instead of failing the run.
    ``replaced`` lists the directories that must go because a key takes their place; one of
    those that etcd keeps fails the run. ``kept`` lists the directories that stayed.
    """

    path: str
    phases: List[List[Operation]] = field(default_factory=list)
    created: List[str] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)
    deleted: List[str] = field(default_factory=list)
    before: Dict[str, Any] = field(default_factory=dict)
    after: Dict[str, Any] = field(default_factory=dict)
    existed: bool = False
    path_was_key: bool = False
    exists_after: bool = True
    ttl_before: Optional[int] = None
    ttl_after: Optional[int] = None
    prune: bool = False
    replaced: List[str] = field(default_factory=list)
    kept: List[str] = field(default_factory=list)

    def keep(self, directory: str) -> None:
        """Record that ``directory`` (absolute) stayed: etcd found it not empty.

        It leaves ``deleted`` and comes back into ``after`` as a directory (what is in it was
        not read, so it is shown empty); the keys read below it stay deleted.
        """
        if directory in self.kept:
            return
        self.kept.append(directory)
        self.kept.sort()
        if directory in self.deleted:
            self.deleted.remove(directory)
        rel = _rel(self.path, directory)
        parent = self.after
        for part in rel.split('/') if rel else ():
            child = parent.get(part)
            if not isinstance(child, dict):
                child = parent[part] = {}
            parent = child

    @property
    def operations(self) -> List[Operation]:
        """All operations in the order they will be sent (phase by phase)."""
        return [op for phase in self.phases for op in phase]

    @property
    def changed(self) -> bool:
        return bool(self.operations)

    def diff(self, hide_values: bool = False) -> Dict[str, Any]:
        """Ansible diff dict: the trees before and after, values replaced when ``hide_values``."""
        before = mask_tree(self.before) if hide_values else self.before
        after = mask_tree(self.after) if hide_values else self.after
        return {
            'before': before,
            'after': after,
            'before_header': '%s (a key)' % self.path if self.path_was_key else _header(self.path, self.existed, self.ttl_before),
            'after_header': _header(self.path, self.exists_after, self.ttl_after),
        }


# --------------------------------------------------------------------------- options

def check_ttl(ttl: Any, path: str) -> Optional[int]:
    """``ttl`` when it is None or a whole number >= 1; otherwise :class:`DirPlanError`.

    etcd takes ``ttl=0`` as "expire now" (the tree would vanish on every run) and answers a
    negative one with an error only after the read: both are refused before anything is sent.
    """
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int):
        raise DirPlanError('ttl must be a whole number of seconds, got %r (directory %s)' % (ttl, path))
    if ttl < 1:
        raise DirPlanError('ttl must be at least 1 second, got %d (directory %s); omit ttl for a directory '
                           'that never expires' % (ttl, path))
    return ttl


# --------------------------------------------------------------------------- paths

def normalize_path(path: str) -> str:
    """``path`` with one leading ``/``, no trailing or doubled ``/``; ``.``/``..`` refused."""
    if not isinstance(path, str) or not path.strip('/'):
        if isinstance(path, str) and path.startswith('/'):
            return '/'
        raise DirPlanError('path must be a non-empty string, got %r' % (path,))
    parts = [part for part in path.split('/') if part]
    for part in parts:
        if part in ('.', '..'):
            raise DirPlanError("path %r contains %r: give the path without '.' or '..' segments" % (path, part))
    return '/' + '/'.join(parts)


def _join(base: str, rel: str) -> str:
    return base.rstrip('/') + '/' + rel if rel else base


def _rel(base: str, key: str) -> str:
    """Path of ``key`` relative to ``base`` ('' for base itself)."""
    key = '/' + key.strip('/')
    if base == '/':
        return key.strip('/')
    if key == base:
        return ''
    if not key.startswith(base + '/'):
        raise DirPlanError('node %s read under %s is outside it' % (key, base), category='invalid answer')
    return key[len(base) + 1:]


# --------------------------------------------------------------------------- content

def content_value(value: Any, where: str) -> str:
    """The string stored for a scalar of ``content``; ``where`` names it in errors."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        raise DirPlanError("content key %s is null: quote the value ('' for an empty value) or remove the key" % where)
    if isinstance(value, (list, tuple, set)):
        raise DirPlanError('content key %s is a list: etcd stores strings; pass it as a JSON string, '
                           "e.g. '{{ my_list | to_json }}'" % where)
    raise DirPlanError('content key %s has a value of type %s: give a string, number, boolean or dict'
                       % (where, type(value).__name__))


def _check_name(name: Any, parent: str, underscore: bool = False) -> str:
    name = str(name) if isinstance(name, (int, float)) and not isinstance(name, bool) else name
    if not isinstance(name, str) or name in ('', '.', '..') or '/' in name:
        raise DirPlanError('content name %r under %s is not a single path segment: nest a dict instead of using '
                           "'/', and do not use empty names, '.' or '..'" % (name, parent))
    if name.startswith('_') and not underscore:
        raise DirPlanError('content name %s under %s starts with "_": etcd hides such nodes from directory '
                           'listings, so etcd_dir cannot manage them; use etcd_key' % (name, parent))
    return name


def flatten_content(content: Mapping[str, Any], path: str, underscore: bool = False) -> Dict[str, Optional[str]]:
    """Map relative path -> string value (keys) or ``None`` (directories) for ``content``.

    Every directory appears, including the parents of keys, so the result lists every node
    the content declares. Raises :class:`DirPlanError` for values and names that are refused.
    ``underscore`` accepts names starting with ``_``: the v3 store hides nothing, so only the
    v2 planner refuses them.
    """
    flat: Dict[str, Optional[str]] = {}

    def walk(mapping: Mapping[str, Any], prefix: str) -> None:
        for raw_name, value in mapping.items():
            name = _check_name(raw_name, _join(path, prefix) if prefix else path, underscore)
            rel = prefix + '/' + name if prefix else name
            if isinstance(value, Mapping):
                flat[rel] = None
                walk(value, rel)
            else:
                flat[rel] = content_value(value, _join(path, rel))

    if not isinstance(content, Mapping):
        raise DirPlanError('content must be a dict (directories) of keys and values, got %s' % type(content).__name__)
    walk(content, '')
    return flat


# --------------------------------------------------------------------------- current tree

def flatten_node(node: Any, path: str) -> Dict[str, Optional[str]]:
    """Map relative path -> value (keys) or ``None`` (directories) below a recursive read.

    ``node`` is the node of ``store.read_tree(path)`` (attributes ``key``, ``dir``,
    ``value``, ``children``). The node at ``path`` itself is not included.
    """
    flat: Dict[str, Optional[str]] = {}

    def walk(current: Any) -> None:
        for child in attr(current, 'children') or ():
            rel = _rel(path, attr(child, 'key') or '/')
            if child.dir:
                flat[rel] = None
                walk(child)
            else:
                value = attr(child, 'value')
                flat[rel] = '' if value is None else value

    walk(node)
    return flat


def flatten_indexes(node: Any, path: str) -> Dict[str, Optional[int]]:
    """Map relative path -> ``modified_index`` of every node below a recursive read."""
    indexes: Dict[str, Optional[int]] = {}

    def walk(current: Any) -> None:
        for child in attr(current, 'children') or ():
            indexes[_rel(path, attr(child, 'key') or '/')] = attr(child, 'modified_index')
            if child.dir:
                walk(child)

    walk(node)
    return indexes


def nest(flat: Mapping[str, Optional[str]]) -> Dict[str, Any]:
    """Nested dict (directories as dicts) from a flat relative-path map, for diffs and returns."""
    tree: Dict[str, Any] = {}
    for rel in sorted(flat, key=lambda r: r.count('/')):
        parts = rel.split('/')
        parent = tree
        for part in parts[:-1]:
            parent = parent.setdefault(part, {})
        if flat[rel] is None:
            parent.setdefault(parts[-1], {})
        else:
            parent[parts[-1]] = flat[rel]
    return tree


def mask_tree(tree: Mapping[str, Any]) -> Dict[str, Any]:
    """``tree`` with every key's value replaced by ``<hidden>`` (directories kept)."""
    return {name: mask_tree(value) if isinstance(value, Mapping) else HIDDEN for name, value in tree.items()}


def _header(path: str, exists: bool, ttl: Optional[int]) -> str:
    if not exists:
        return '%s (absent)' % path
    return '%s (ttl %ss)' % (path, ttl) if ttl else path


def _inside(rel: str, dirs: Any) -> bool:
    """True when ``rel`` lies strictly below one of the relative paths in ``dirs``."""
    while '/' in rel:
        rel = rel.rsplit('/', 1)[0]
        if rel in dirs:
            return True
    return False


def _top_level(paths: Any) -> set:
    """The paths of ``paths`` that are not below another one of them."""
    paths = set(paths)
    return {rel for rel in paths if not _inside(rel, paths)}


def _kind(value: Optional[str]) -> str:
    return 'directory' if value is None else 'key'


# --------------------------------------------------------------------------- planning

def plan_present(path: str, current: Any, content: Optional[Mapping[str, Any]] = None,
                 purge: bool = False, ttl: Optional[int] = None) -> DirPlan:
    """Plan ``state=present`` for ``path``.

    ``current`` is the node read recursively at ``path`` or ``None`` when the path is missing.
    ``content`` ``None`` only makes sure the directory exists (``purge`` then is refused).
    Raises :class:`DirPlanError` for refused content and unresolvable conflicts.
    """
    path = normalize_path(path)
    if purge and content is None:
        raise DirPlanError('purge on %s needs content: give content ({} to empty the directory)' % path)
    ttl = check_ttl(ttl, path)
    wanted = flatten_content(content, path) if content is not None else {}
    plan = DirPlan(path=path, prune=True)
    plan.existed = current is not None
    first: List[Operation] = []
    deletes: List[Operation] = []
    writes: List[Operation] = []

    if current is not None and not current.dir:
        # The path itself is a key.
        if not purge:
            raise DirPlanError('%s is a key, not a directory: set purge: true to replace it with a directory, '
                               'or manage it with etcd_key' % path, category='not a directory')
        if path == '/':
            raise DirPlanError('/ is the root directory', category='root is read-only')
        deletes.append(Operation(DELETE, path, prev_index=attr(current, 'modified_index')))
        plan.deleted.append(path)
        plan.path_was_key = True
        current = None

    have = flatten_node(current, path) if current is not None else {}
    indexes = flatten_indexes(current, path) if current is not None else {}
    plan.before = nest(have)
    plan.ttl_before = attr(current, 'ttl') if current is not None else None

    if current is None:
        if path != '/':
            plan.created.append(path)
        # Keys create their parents; an explicit mkdir is needed only to carry a TTL or when
        # no key will be written under the path at all.
        if ttl is not None or not wanted:
            first.append(Operation(MKDIR, path, ttl=ttl))
        plan.ttl_after = ttl
    else:
        plan.ttl_after = plan.ttl_before
        if _ttl_needs_write(plan.ttl_before, ttl) and path != '/':
            first.append(Operation(SET_DIR_TTL, path, ttl=ttl))
            plan.ttl_after = ttl

    conflicts: set = set()
    for rel, value in wanted.items():
        if rel in have and not _inside(rel, conflicts) and (value is None) != (have[rel] is None):
            conflicts.add(rel)
    if conflicts and not purge:
        shown = ', '.join('%s (%s, wanted %s)' % (_join(path, rel), _kind(have[rel]), _kind(wanted[rel]))
                          for rel in sorted(conflicts)[:5])
        more = ' and %d more' % (len(conflicts) - 5) if len(conflicts) > 5 else ''
        raise DirPlanError('content of %s conflicts with what is there: %s%s; set purge: true to replace them'
                           % (path, shown, more), category='conflict')

    # Nodes to remove: the wrong kind (only reached with purge) and, with purge, the extras.
    removed = set(conflicts)
    if purge:
        removed.update(rel for rel in have if rel not in wanted)
    # Only what was read goes, one node at a time: the keys on the index read, then the
    # directories deepest first with a delete etcd refuses when a directory is not empty (etcd
    # takes no index condition on a directory). A recursive delete would also take hidden nodes
    # and nodes written after the read.
    tops = _top_level(removed)
    gone = {rel for rel in have if rel in tops or _inside(rel, tops)}
    deletes.extend(Operation(DELETE, _join(path, rel), prev_index=indexes.get(rel))
                   for rel in gone if have[rel] is not None)
    by_depth: Dict[int, List[Operation]] = {}
    for rel in gone:
        if have[rel] is None:
            by_depth.setdefault(rel.count('/'), []).append(Operation(RMDIR, _join(path, rel)))
    rmdirs = [by_depth[depth] for depth in sorted(by_depth, reverse=True)]
    plan.replaced = sorted(_join(path, rel) for rel in conflicts if have[rel] is None)
    plan.deleted.extend(_join(path, rel) for rel in gone)

    # Nodes to write: missing or changed keys, and the empty directories no write below creates.
    parents = {rel.rsplit('/', 1)[0] for rel in wanted if '/' in rel}
    for rel, value in wanted.items():
        exists = rel in have and rel not in gone
        if exists and (value is None or have[rel] == value):
            continue
        if not exists:
            plan.created.append(_join(path, rel))
        else:
            plan.updated.append(_join(path, rel))
        if value is not None:
            writes.append(Operation(SET, _join(path, rel), value=value, create=not exists,
                                    prev_index=indexes.get(rel) if exists else None))
        elif rel not in parents:
            writes.append(Operation(MKDIR, _join(path, rel)))

    after = {rel: value for rel, value in have.items() if rel not in gone}
    after.update(wanted)
    plan.after = nest(after)
    # Deletes first: a key at path (or below) replaced by a directory must be gone before the
    # directory is made, and a directory only empties once what was below it is gone. The
    # operations within each phase touch disjoint keys.
    plan.phases = [sorted(phase, key=_op_key) for phase in [deletes] + rmdirs + [first, writes] if phase]
    plan.created.sort()
    plan.updated.sort()
    plan.deleted.sort()
    return plan


def plan_absent(path: str, current: Any, recursive: bool = False) -> DirPlan:
    """Plan ``state=absent`` for ``path``: nothing when missing, else one delete.

    Without ``recursive`` that is an RMDIR, which etcd refuses when the directory holds
    anything (hidden nodes the read could not list, or nodes written after it); with it an
    RMTREE. Refuses a key at ``path`` (use etcd_key), the root directory, and a directory the
    read shows not empty without ``recursive``.
    """
    path = normalize_path(path)
    plan = DirPlan(path=path, exists_after=False)
    if current is None:
        return plan
    if path == '/':
        raise DirPlanError('/ is the root directory and cannot be removed; remove its children instead',
                           category='root is read-only')
    if not current.dir:
        raise DirPlanError('%s is a key, not a directory: remove it with etcd_key' % path, category='not a directory')
    have = flatten_node(current, path)
    plan.existed = True
    plan.ttl_before = attr(current, 'ttl')
    plan.before = nest(have)
    if have and not recursive:
        raise DirPlanError('%s is not empty (%d nodes below it): set recursive: true to remove it with its content'
                           % (path, len(have)), category='directory not empty')
    plan.phases = [[Operation(RMTREE if recursive else RMDIR, path)]]
    plan.deleted = sorted([path] + [_join(path, rel) for rel in have])
    return plan


def _ttl_needs_write(current: Optional[int], wanted: Optional[int]) -> bool:
    """A TTL is written when one is wanted and the directory has none or a longer one."""
    if wanted is None:
        return False
    return not current or current > wanted


def _op_key(op: Operation) -> Tuple[str, str]:
    return (op.key, op.action)
