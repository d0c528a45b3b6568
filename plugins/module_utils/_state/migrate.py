# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Copy a v2 tree into v3 keys, verify, and optionally delete the v2 copy: etcd_migrate's logic.

The run, in order (check mode stops after step 3):

1. **Read v2**: one recursive quorum read of ``path``. v2 leaves hidden nodes (a segment
   starting with ``_``) out of every listing, so they are found two other ways: the hidden
   paths the caller names, and v2's event history (the last 1,000 changes, which do include
   hidden keys). Only the history entries that the listing does not explain are asked for (an
   entry whose index is the modified index of a listed key is that key), so a tree without
   recent unexplained changes costs no extra request. Each hidden node found is read directly.
2. **Read v3**: the v3 keys of those v2 keys, in read-only transactions of ranges.
3. **Plan** (``migrate_plan``): create, unchanged, overwrite or conflict per key. Conflicts
   without ``overwrite`` stop the run here: nothing is written.
4. **Write**: guarded transactions (``create_revision == 0`` for new keys, ``mod_revision ==``
   the one read for overwrites), pipelined. A transaction whose guard failed is read again:
   keys that still hold what was read go again, keys that now hold the v2 value are unchanged,
   and keys someone else wrote meanwhile are conflicts, never overwritten.
5. With ``delete_source``: **verify** (read every v3 copy back), then **delete** from v2 each
   verified key conditional on the modified index read: a key changed in v2
   during the run is kept and reported. Directories left empty are deleted without
   ``recursive``, so one that still holds something (a hidden key nobody named) stays and is
   reported. A last recursive read tells what is left in v2.

Nothing here imports Ansible. The clients are the v2 ``Client`` and the ``Etcd3Client``.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import (
    HIDDEN,
    MAX_ATTEMPTS,
    BatchFailed,
    StateError,
    absolute_key,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_plan import DELETE, RMDIR, Operation
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.migrate_plan import (
    CREATE,
    MigrationPlan,
    SourceKey,
    Step,
    TargetKey,
    chunks,
    deletable_dirs,
    hidden_roots,
    is_hidden,
    lease_groups,
    plan_migration,
    plan_step,
    tree_contents,
    write_size,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store import open_store
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3 import txn
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    EtcdBulkWriteFailed,
    EtcdDirNotEmpty,
    EtcdEventIndexCleared,
    EtcdException,
    EtcdKeyNotFound,
    EtcdTestFailed,
    EtcdWatchTimedOut,
)

# v2 keeps this many events (etcd's store history); older ones are gone.
V2_HISTORY = 1000
# Seconds a history read waits for an event at or after the index asked: an event already in
# the history comes back at once, so waiting only happens when none is left below ``path``.
HISTORY_WAIT = 1.0


class MigrationConflict(StateError):
    """v3 keys hold other values than their v2 keys (and ``overwrite`` is off), or were written
    by someone else during the run. ``outcome`` has everything the run found and did."""

    def __init__(self, outcome: 'MigrationOutcome'):
        conflicts = outcome.conflicts
        shown = ', '.join(item['key'] for item in conflicts[:10])
        more = '' if len(conflicts) <= 10 else ' and %d more' % (len(conflicts) - 10)
        written = len(outcome.migrated)
        super().__init__('%d v3 key%s hold%s a value other than the v2 key%s: %s%s; %s'
                         % (len(conflicts), '' if len(conflicts) == 1 else 's', 's' if len(conflicts) == 1 else '',
                            '' if len(conflicts) == 1 else 's', shown, more,
                            ('%d keys were copied, nothing was deleted from v2' % written) if written else
                            'nothing was written; set overwrite: true to replace them with the v2 values'),
                         category='conflict')
        self.outcome = outcome


class MigrationStopped(StateError):
    """A write or delete failed part-way; ``outcome`` says how far the run got, and a re-run
    completes it (keys already copied are then unchanged). ``cause`` is the client's error."""

    def __init__(self, stage: str, cause: BaseException, outcome: 'MigrationOutcome'):
        self.progress = ('%s failed after %d keys were copied and %d deleted from v2; a re-run completes the migration'
                         % (stage, len(outcome.migrated), len(outcome.deleted)))
        super().__init__('%s: %s' % (self.progress, cause), category=None, endpoint=getattr(cause, 'endpoint', None))
        self.cause = cause
        self.outcome = outcome


@dataclass(frozen=True)
class MigrationRequest:
    """What the task asks: the v2 ``path``, the v3 ``prefix``, and the options of etcd_migrate."""

    path: str = '/'
    prefix: str = ''
    delete_source: bool = False
    overwrite: bool = False
    hidden_keys: Tuple[str, ...] = ()
    concurrency: int = 4
    pipeline: int = 8


@dataclass
class MigrationOutcome:
    """What the run found and did (in check mode: would do). Lists hold keys in key order."""

    check_mode: bool = False
    plan: MigrationPlan = field(default_factory=MigrationPlan)
    migrated: List[Step] = field(default_factory=list)
    unchanged: List[Step] = field(default_factory=list)
    conflicts: List[Dict[str, str]] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    hidden: List[str] = field(default_factory=list)
    dirs: List[str] = field(default_factory=list)
    empty_dirs: List[str] = field(default_factory=list)
    leases: List[Dict[str, Any]] = field(default_factory=list)
    verified: List[str] = field(default_factory=list)
    deleted: List[str] = field(default_factory=list)
    deleted_dirs: List[str] = field(default_factory=list)
    changed_in_v2: List[Dict[str, str]] = field(default_factory=list)
    left_in_v2: List[str] = field(default_factory=list)
    left_dirs: List[str] = field(default_factory=list)
    hidden_search: Dict[str, Any] = field(default_factory=dict)
    v3_before: Dict[str, Optional[bytes]] = field(default_factory=dict)
    revision: Optional[int] = None

    @property
    def changed(self) -> bool:
        return bool(self.migrated or self.deleted or self.deleted_dirs)


def ensure_migration(v2: Any, v3: Any, request: MigrationRequest, check_mode: bool = False) -> MigrationOutcome:
    """Run the migration (see the module docstring); returns what was done.

    :raises MigrationConflict: conflicts were found (nothing deleted from v2).
    :raises MigrationStopped: a write or delete failed part-way.
    :raises EtcdException: a read failed (nothing was written).
    """
    outcome = MigrationOutcome(check_mode=check_mode)
    sources = read_source(v2, request, outcome)
    targets = read_targets(v3, [step_target(request, source) for source in sources], outcome)
    outcome.v3_before = {name: (target.value if target else None) for name, target in targets.items()}
    plan = plan_migration(sources, targets, request.prefix, request.overwrite)
    outcome.plan = plan
    outcome.unchanged = plan.of('unchanged')
    if plan.conflicts:
        outcome.conflicts = [conflict(step, 'holds another value') for step in plan.conflicts]
        outcome.skipped = [step.source.key for step in plan.writes]
        outcome.left_in_v2 = [source.key for source in sources]
        outcome.left_dirs = list(outcome.dirs)
        raise MigrationConflict(outcome)
    if check_mode:
        outcome.migrated = plan.writes
        if request.delete_source:
            outcome.deleted = sorted(step.source.key for step in outcome.migrated + outcome.unchanged)
            outcome.deleted_dirs = [path for depth in deletable_dirs(outcome.dirs, []) for path in depth]
        else:
            outcome.left_in_v2 = [source.key for source in sources]
            outcome.left_dirs = list(outcome.dirs)
        return outcome
    try:
        write_steps(v3, plan.writes, request, outcome)
    except EtcdException as exc:
        raise MigrationStopped('writing to v3', exc, outcome) from None
    if request.delete_source and not outcome.conflicts:
        verify(v3, outcome.migrated + outcome.unchanged, outcome)
        try:
            delete_source(v2, request, outcome)
        except EtcdException as exc:
            raise MigrationStopped('deleting from v2', exc, outcome) from None
        read_leftovers(v2, request, outcome)
    else:
        outcome.left_in_v2 = [source.key for source in sources]
        outcome.left_dirs = list(outcome.dirs)
    if outcome.conflicts:
        raise MigrationConflict(outcome)
    return outcome


def step_target(request: MigrationRequest, source: SourceKey) -> str:
    return request.prefix + source.key


def conflict(step: Step, reason: str) -> Dict[str, str]:
    return {'key': step.target, 'v2_key': step.source.key, 'reason': reason}


# -- 1. the v2 side ---------------------------------------------------------------------------

def read_source(v2: Any, request: MigrationRequest, outcome: MigrationOutcome) -> List[SourceKey]:
    """Every v2 key under ``path``, hidden ones included as far as v2 lets them be found."""
    path = absolute_key(request.path)
    found: Dict[str, SourceKey] = {}
    dirs: Set[str] = set()
    empty: Set[str] = set()
    try:
        answer = v2.read(path, recursive=True, quorum=True)
    except EtcdKeyNotFound:
        answer = None
    index = getattr(answer, 'x_etcd_index', None) if answer is not None else None
    if answer is not None:
        add_tree(answer.node, found, dirs, empty)
    named = [absolute_key(key) for key in request.hidden_keys]
    for key in named:
        if not (key == path or key.startswith(path.rstrip('/') + '/')):
            raise StateError('hidden_keys: %s is not under path %s' % (key, path))
    roots: List[str] = []
    for key in named:
        roots.extend(hidden_roots(key, path) or [key])
    history = scan_history(v2, path, {source.modified_index for source in found.values()}, index)
    for key in history['keys']:
        roots.extend(hidden_roots(key, path))
    seen: Set[str] = {path} if answer is not None else set()
    for root in roots:
        if root in seen or root in found:
            continue
        seen.add(root)
        try:
            node = v2.read(root, recursive=True, quorum=True).node
        except EtcdKeyNotFound:
            continue  # deleted or expired since
        add_tree(node, found, dirs, empty)
    # A directory that looked empty is not, when a hidden key found since lies below it.
    empty = {d for d in empty if not any(key.startswith(d.rstrip('/') + '/') for key in found)}
    outcome.dirs = sorted(d for d in dirs if d != '/')
    outcome.empty_dirs = sorted(d for d in empty if d != '/')
    outcome.hidden = sorted(key for key in found if is_hidden(key))
    outcome.hidden_search = {'named': named, 'history_from_index': history['from'], 'history_to_index': index,
                             'history_reads': history['reads'],
                             'history_found': sorted(key for key in history['keys'] if is_hidden(key))}
    return sorted(found.values(), key=lambda item: item.key)


def add_tree(node: Any, found: Dict[str, SourceKey], dirs: Set[str], empty: Set[str]) -> None:
    leaves, tree_dirs, tree_empty = tree_contents(node)
    for leaf in leaves:
        found[leaf.key] = leaf
    dirs.update(tree_dirs)
    empty.update(tree_empty)


def scan_history(v2: Any, path: str, explained: Set[int], index: Optional[int]) -> Dict[str, Any]:
    """The keys of v2's retained events below ``path`` that the listing does not explain.

    v2 numbers every change; it keeps the last :data:`V2_HISTORY` of them and returns the first
    one at or after an index to a watch of ``path`` (hidden keys included, unlike a listing).
    An index equal to a listed key's modified index is that key's last change and is not
    asked for; for the others, one watch read each, skipping every index the answer passed.
    """
    result: Dict[str, Any] = {'keys': set(), 'reads': 0, 'from': None}
    if not index:
        return result
    low = max(1, index - V2_HISTORY + 1)
    result['from'] = low
    wanted = [number for number in range(low, index + 1) if number not in explained]
    position = 0
    while position < len(wanted):
        result['reads'] += 1
        try:
            event = v2.read(path, recursive=True, wait=True, wait_index=wanted[position], timeout=HISTORY_WAIT).node
        except EtcdEventIndexCleared:
            # Writes meanwhile pushed this index out of the history: it is older than anything
            # a listing after them would miss, so move on.
            position += 1
            continue
        except (EtcdWatchTimedOut, EtcdKeyNotFound):
            break  # no event left below path (the rest were elsewhere in the store)
        if event is None or event.modified_index is None:
            break
        if event.key:
            result['keys'].add(event.key)
        position = bisect.bisect_right(wanted, int(event.modified_index))
    return result


# -- 2. the v3 side ---------------------------------------------------------------------------

def read_targets(v3: Any, names: Sequence[str], outcome: MigrationOutcome,
                 sizes: Optional[Dict[str, int]] = None) -> Dict[str, Optional[TargetKey]]:
    """What each v3 key holds now (None: absent), read in read-only transactions of ranges."""
    found: Dict[str, Optional[TargetKey]] = {name: None for name in names}
    if not names:
        return found
    batches = chunks(list(names), v3.max_txn_ops, lambda name: len(name) + (sizes or {}).get(name, 0))
    bodies = [(batch[0] if len(batch) == 1 else '%s (and %d more keys)' % (batch[0], len(batch) - 1),
               txn.txn_request([], [txn.get_op(name) for name in batch])) for batch in batches]
    for batch, answer in zip(batches, v3.send_txns(bodies)):
        outcome.revision = max(outcome.revision or 0, answer.header.revision)
        for name, response in zip(batch, answer.responses):
            kv = response.kv
            found[name] = TargetKey(kv.value_bytes, kv.mod_revision) if kv is not None else None
    return found


def grant_leases(v3: Any, steps: Sequence[Step], outcome: MigrationOutcome) -> Dict[str, Any]:
    """One lease per v2 TTL among ``steps``; returns the lease of each v3 key that needs one."""
    by_key: Dict[str, Any] = {}
    for ttl, group in sorted(lease_groups(steps).items()):
        lease = v3.lease(ttl)
        outcome.leases.append({'id': lease.id, 'ttl': lease.ttl, 'v2_ttl': ttl, 'keys': 0})
        for step in group:
            by_key[step.target] = (lease, outcome.leases[-1])
    return by_key


def guarded_write(step: Step, lease: Any) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The compare and the put of one step."""
    if step.action == CREATE:
        guard = txn.compare_create(step.target, '==', 0)
    else:
        guard = txn.compare_mod(step.target, '==', step.mod_revision)
    return guard, txn.put_op(step.target, step.source.value, lease.id if lease is not None else None)


def write_steps(v3: Any, steps: Sequence[Step], request: MigrationRequest, outcome: MigrationOutcome) -> None:
    """Send the writes; re-plan the keys of transactions whose guard failed (see step 4)."""
    leases = grant_leases(v3, steps, outcome)
    pending = list(steps)
    for _attempt in range(MAX_ATTEMPTS):
        if not pending:
            break
        batches = chunks(pending, v3.max_txn_ops, write_size)
        bodies = []
        for batch in batches:
            parts = [guarded_write(step, leases.get(step.target, (None,))[0]) for step in batch]
            subject = batch[0].target if len(batch) == 1 else '%s (and %d more keys)' % (batch[0].target, len(batch) - 1)
            bodies.append((subject, txn.txn_request([guard for guard, _put in parts], [put for _guard, put in parts])))
        try:
            answers = v3.send_txns(bodies, concurrency=request.concurrency, pipeline=request.pipeline)
        except EtcdBulkWriteFailed as exc:
            for batch, answer in zip(batches, exc.results):
                if answer is not None and answer.succeeded:
                    record_written(batch, leases, outcome, answer.header.revision)
            raise
        refused: List[Step] = []
        for batch, answer in zip(batches, answers):
            if answer.succeeded:
                record_written(batch, leases, outcome, answer.header.revision)
            else:
                refused.extend(batch)
        pending = replan(v3, refused, request, outcome)
    for step in pending:
        outcome.conflicts.append(conflict(step, 'kept changing in v3 during the migration'))
    outcome.migrated.sort(key=lambda step: step.target)
    revoke_unused(v3, outcome)


def record_written(batch: Sequence[Step], leases: Dict[str, Any], outcome: MigrationOutcome, revision: int) -> None:
    outcome.migrated.extend(batch)
    outcome.revision = max(outcome.revision or 0, revision)
    for step in batch:
        if step.target in leases:
            leases[step.target][1]['keys'] += 1


def replan(v3: Any, refused: Sequence[Step], request: MigrationRequest, outcome: MigrationOutcome) -> List[Step]:
    """Read the keys of refused transactions again: the ones still as read go again, the others
    are unchanged (someone wrote the v2 value) or conflicts (someone wrote something else)."""
    if not refused:
        return []
    now = read_targets(v3, [step.target for step in refused], outcome)
    again = []
    for step in refused:
        current = now[step.target]
        expected = None if step.action == CREATE else step.mod_revision
        if (current.mod_revision if current is not None else None) == expected:
            again.append(step)  # its own guard held; another key of the transaction failed it
            continue
        fresh = plan_step(step.source, step.target, current, overwrite=False)
        if fresh.action == 'unchanged':
            outcome.unchanged.append(fresh)
        else:
            outcome.conflicts.append(conflict(step, 'created in v3 during the migration' if step.action == CREATE
                                              else 'changed in v3 during the migration'))
    return again


def revoke_unused(v3: Any, outcome: MigrationOutcome) -> None:
    """Revoke the leases granted for keys that were not written after all."""
    for lease in outcome.leases:
        if not lease['keys']:
            try:
                v3.revoke_lease(lease['id'])
            except EtcdException:
                pass  # it expires on its own, and holds no key
    outcome.leases = [lease for lease in outcome.leases if lease['keys']]


# -- 5. verify and delete ---------------------------------------------------------------------

def verify(v3: Any, steps: Sequence[Step], outcome: MigrationOutcome) -> None:
    """Read every v3 copy back; the keys holding exactly the v2 value are verified."""
    now = read_targets(v3, [step.target for step in steps], outcome,
                       sizes={step.target: len(step.source.data) for step in steps})
    outcome.verified = sorted(step.source.key for step in steps
                              if now[step.target] is not None and now[step.target].value == step.source.data)


def delete_source(v2: Any, request: MigrationRequest, outcome: MigrationOutcome) -> None:
    """Delete the verified keys from v2 (each only if unchanged since read), then the
    directories left empty, deepest first."""
    store = open_store(v2)
    index_of = {step.source.key: step.source.modified_index for step in outcome.migrated + outcome.unchanged}
    operations = [Operation(DELETE, key, prev_index=index_of[key]) for key in outcome.verified]
    done, failed = send_all(store, operations, request)
    outcome.deleted = sorted(done)
    for key, exc in failed:
        if isinstance(exc, EtcdTestFailed):
            outcome.changed_in_v2.append({'key': key, 'reason': 'changed in v2 during the migration'})
        elif isinstance(exc, EtcdKeyNotFound):
            outcome.changed_in_v2.append({'key': key, 'reason': 'deleted or expired in v2 during the migration'})
        else:
            raise exc
    kept = [source.key for source in (step.source for step in outcome.plan.steps) if source.key not in done]
    for depth in deletable_dirs(outcome.dirs, kept):
        done, failed = send_all(store, [Operation(RMDIR, path) for path in depth], request)
        outcome.deleted_dirs.extend(sorted(done))
        for path, exc in failed:
            if not isinstance(exc, (EtcdDirNotEmpty, EtcdKeyNotFound)):
                raise exc
            # Not empty: it holds keys no listing showed (hidden, or written meanwhile); its
            # parents stay too (the next depth's delete says so by itself).
    outcome.deleted_dirs.sort()


def send_all(store: Any, operations: List[Operation],
             request: MigrationRequest) -> Tuple[Set[str], List[Tuple[str, BaseException]]]:
    """Send every operation (pipelined); a refused one does not stop the others. Returns the
    keys done and the ``(key, error)`` of the refused ones; raises for an outcome unknown."""
    done: Set[str] = set()
    failed: List[Tuple[str, BaseException]] = []
    pending = operations
    while pending:
        try:
            store.apply_many(pending, concurrency=request.concurrency * 2)
        except BatchFailed as exc:
            for operation, result in zip(pending, exc.results):
                if result is not None:
                    done.add(operation.key)
            for operation, error in exc.failures:
                if getattr(error, 'outcome_unknown', False):
                    raise error
                failed.append((operation.key, error))
            pending = list(exc.not_sent)
            continue
        done.update(operation.key for operation in pending)
        pending = []
    return done, failed


def read_leftovers(v2: Any, request: MigrationRequest, outcome: MigrationOutcome) -> None:
    """What the v2 store still holds under ``path`` (a last recursive read), with the hidden
    keys that were kept (a listing cannot show them)."""
    path = absolute_key(request.path)
    try:
        node = v2.read(path, recursive=True, quorum=True).node
    except EtcdKeyNotFound:
        node = None
    left: Set[str] = {item['key'] for item in outcome.changed_in_v2}
    dirs: Set[str] = set(d for d in outcome.dirs if d not in outcome.deleted_dirs)
    if node is not None:
        leaves, tree_dirs, _empty = tree_contents(node)
        left.update(leaf.key for leaf in leaves)
        dirs.update(d for d in tree_dirs if d != '/')
    else:
        dirs = set()
    outcome.left_in_v2 = sorted(left)
    outcome.left_dirs = sorted(dirs)


# -- the module's result ----------------------------------------------------------------------

SAMPLE = 10


def _shown(value: Optional[bytes], sensitive: bool) -> Optional[str]:
    if value is None:
        return None
    if sensitive:
        return HIDDEN
    try:
        return value.decode('utf-8')
    except UnicodeDecodeError:
        return '<%d bytes, not UTF-8>' % len(value)


def migration_result(outcome: MigrationOutcome, request: MigrationRequest, sensitive: bool = False,
                     diff: bool = False) -> Dict[str, Any]:
    """The fields etcd_migrate returns (see its RETURN), from ``outcome``."""
    counts = {
        'source': len(outcome.plan.steps), 'migrated': len(outcome.migrated), 'unchanged': len(outcome.unchanged),
        'conflicts': len(outcome.conflicts), 'skipped': len(outcome.skipped), 'hidden': len(outcome.hidden),
        'empty_dirs': len(outcome.empty_dirs), 'leases': len(outcome.leases), 'verified': len(outcome.verified),
        'deleted_from_v2': len(outcome.deleted), 'deleted_dirs': len(outcome.deleted_dirs),
        'changed_in_v2': len(outcome.changed_in_v2), 'left_in_v2': len(outcome.left_in_v2),
    }
    result: Dict[str, Any] = {
        'changed': outcome.changed,
        # Not 'path': Ansible would add the file attributes of that path to the result.
        'v2_path': absolute_key(request.path),
        'v3_prefix': request.prefix,
        'migrated': [step.target for step in outcome.migrated],
        'unchanged': sorted(step.target for step in outcome.unchanged),
        'conflicts': outcome.conflicts,
        'skipped': outcome.skipped,
        'hidden': outcome.hidden,
        'empty_dirs': outcome.empty_dirs,
        'leases': outcome.leases,
        'verified': outcome.verified,
        'deleted_from_v2': outcome.deleted,
        'deleted_dirs': outcome.deleted_dirs,
        'changed_in_v2': outcome.changed_in_v2,
        'left_in_v2': outcome.left_in_v2,
        'left_dirs_in_v2': outcome.left_dirs,
        'hidden_search': outcome.hidden_search,
        'counts': counts,
        'revision': outcome.revision,
    }
    if diff:
        result['diff'] = migration_diff(outcome, sensitive)
    return result


def migration_diff(outcome: MigrationOutcome, sensitive: bool) -> Dict[str, Any]:
    """Counts and the first keys written, their v3 values before and after (hidden when sensitive)."""
    written = outcome.migrated[:SAMPLE]
    before = {step.target: _shown(outcome.v3_before.get(step.target), sensitive) for step in written}
    after = {step.target: _shown(step.source.data, sensitive) for step in written}
    return {
        'before': {'v3_keys_written': 0, 'v2_keys': len(outcome.plan.steps), 'sample': before},
        'after': {'v3_keys_written': len(outcome.migrated), 'v2_keys': len(outcome.left_in_v2), 'sample': after},
    }
