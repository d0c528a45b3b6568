# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_dir on the v3 store: a v2 directory is the v3 prefix ``path + '/'``.

The v3 store has no directories, only keys; what v2 called the directory ``config/app`` is
every key starting with ``config/app/``. So:

* one linearizable range read of the prefix, at store revision R, is the whole "tree";
* the plan (:func:`plan_prefix_present`, :func:`plan_prefix_absent`, pure) reuses the content
  rules of :mod:`dir_plan` (``flatten_content``, ``content_value``) and its :class:`DirPlan`,
  so results and diffs have the v2 shape;
* the change is sent by :class:`PrefixStore`, the only part here that talks to the client.
  A change that fits ``max_txn_ops`` (success ops and compares counted separately) is ONE
  transaction, guarded by ``MOD < R+1`` over the prefix range (no key of the prefix was
  created or changed after the read) and ``MOD == read`` on every key it updates or deletes
  (a range compare cannot see a key that vanished). Either every key gets the transaction's
  revision, or nothing is written and :class:`PrefixChanged` names what changed. A larger
  change goes as several transactions, each guarded key by key (CREATE == 0 for a create,
  MOD == read otherwise) and pipelined; a failure part way is :class:`DirTxnError`, saying
  how many were applied (a re-run completes the rest).

Directories have no v3 equivalent: an empty directory in ``content`` (``{}``) or a task without
content on an empty prefix writes nothing and says so in :attr:`PrefixPlan.warnings`. A key
that is also the prefix of other keys (``a`` and ``a/b``, legal on v3) is shown in the trees
under the name ``''`` inside its directory.

``ttl`` is a lease: every key the run writes shares one, so they expire together as the keys
of a v2 directory with a TTL did. A content key holding its value on a lease that ends within
``ttl`` seconds is left alone (the rule of etcd_key); when the kept keys share one such lease,
the keys written join it (as a key written into a v2 directory expires with the directory),
otherwise one lease is granted for the run and revoked again if no write used it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import StateError
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir import (
    DirOutcome, DirWriteError, present_only_options,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_plan import (
    DELETE, RMTREE, SET, DirPlan, DirPlanError, Operation, check_ttl, flatten_content,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3 import txn
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdBulkWriteFailed, EtcdException

# Names of keys shown in one failure message: enough to see what happened, one line.
SHOWN = 5


@dataclass(frozen=True)
class PrefixKey:
    """One key read below the prefix. ``value`` is bytes when it is not UTF-8; ``text`` is
    False when the key's name is not UTF-8 (its relative name then holds replacement marks)."""

    value: Union[str, bytes]
    mod_revision: int
    lease: int = 0
    text: bool = True


@dataclass
class PrefixRead:
    """The prefix at store revision ``revision``: relative name -> :class:`PrefixKey`."""

    revision: int
    keys: Dict[str, PrefixKey] = field(default_factory=dict)


@dataclass
class PrefixPlan:
    """What etcd_dir does on v3: ``plan`` (a :class:`DirPlan`, for the results and the diff)
    and the writes: ``puts`` (SET: ``create`` for a new key, else ``prev_index`` = the
    mod_revision read; ``ttl`` set when the key goes on the run's lease) and ``deletes``
    (DELETE with ``prev_index``, or one RMTREE of the prefix for ``state=absent``).

    ``lease`` is the existing lease the leased puts join, or None (one is granted when a put
    needs it). ``warnings`` say what has no v3 equivalent.
    """

    plan: DirPlan
    prefix: str
    read: PrefixRead
    puts: List[Operation] = field(default_factory=list)
    deletes: List[Operation] = field(default_factory=list)
    lease: Optional[int] = None
    warnings: List[str] = field(default_factory=list)

    @property
    def operations(self) -> List[Operation]:
        return self.puts + self.deletes

    @property
    def needs_lease(self) -> bool:
        """True when a put goes on a lease that must be granted first."""
        return self.lease is None and any(op.ttl is not None for op in self.puts)


@dataclass
class V3DirOutcome(DirOutcome):
    """:class:`DirOutcome` plus the store ``revision`` after the run (the read's when nothing
    was written) and the plan's warnings."""

    revision: Optional[int] = None
    warnings: List[str] = field(default_factory=list)


class PrefixChanged(StateError):
    """The one transaction was refused: keys of the prefix changed after the read. Nothing was
    written. ``changed`` names them (with the revision that wrote them, or "deleted")."""

    def __init__(self, prefix: str, revision: int, changed: List[str], endpoint: Optional[str] = None):
        self.changed = changed
        super().__init__('keys under %s changed after the read at revision %d: %s; nothing was written, a re-run plans '
                         'again from what is there' % (prefix, revision, _names(changed) or 'none named'),
                         category='condition failed', endpoint=endpoint)


class DirTxnError(DirWriteError):
    """A transaction of the v3 change failed or was refused (see :class:`DirWriteError`).

    ``done`` counts the writes (keys put or deleted) of the transactions applied; ``applied`` of
    ``txns`` transactions were applied, ``unknown`` more may have been (no answer came back);
    ``position`` (from 1) is the transaction that failed.
    """

    def __init__(self, operation: Operation, cause: BaseException, done: int, total: int, applied: int = 0,
                 txns: int = 1, unknown: int = 0, position: int = 1):
        self.applied = applied
        self.txns = txns
        self.unknown = unknown
        self.position = position
        super().__init__(operation, cause, done, total)

    @property
    def progress(self) -> str:
        if self.txns == 1:
            if self.unknown:
                return ('no answer came to the one transaction of %d writes: it may or may not have been applied; '
                        'a re-run reads what is there and completes the rest' % self.total)
            return 'the one transaction of %d writes was not applied; nothing was written' % self.total
        text = ('transaction %d of %d failed; %d of %d transactions (%d of %d writes) were applied'
                % (self.position, self.txns, self.applied, self.txns, self.done, self.total))
        if self.unknown:
            text += ', %d more may or may not have been (no answer came back)' % self.unknown
        return text + '; a re-run completes the rest'


# --------------------------------------------------------------------------- paths and options

def v3_path(path: Any) -> Tuple[str, str]:
    """``(path, prefix)`` for the v3 store: ``path`` verbatim but without trailing ``/``, and the
    prefix ``path + '/'`` its keys start with. ``/`` (or only slashes) is the prefix ``/``."""
    if not isinstance(path, str) or not path:
        raise DirPlanError('path must be a non-empty string, got %r' % (path,))
    trimmed = path.rstrip('/')
    if not trimmed:
        return '/', '/'
    return trimmed, trimmed + '/'


def check_options_v3(path: Any, state: str = 'present', content: Optional[Mapping[str, Any]] = None,
                     purge: bool = False, ttl: Optional[int] = None, concurrency: int = 8) -> Tuple[str, str]:
    """Refuse the task's options before anything is sent; returns :func:`v3_path`.

    The same rules as on v2 (:func:`dir.check_options`), with the path taken verbatim and names
    starting with ``_`` accepted (the v3 store hides nothing).
    """
    shown, prefix = v3_path(path)
    misplaced = present_only_options(state, content=content, ttl=ttl, purge=purge)
    if misplaced:
        raise DirPlanError('%s: %s' % (shown, misplaced))
    if purge and content is None:
        raise DirPlanError('purge on %s needs content: give content ({} to remove every key below it)' % shown)
    check_ttl(ttl, shown)
    if concurrency < 1:
        raise DirPlanError('concurrency must be at least 1, got %d (1 sends one transaction at a time)' % concurrency)
    if content is not None:
        flatten_content(content, shown, underscore=True)
    return shown, prefix


# --------------------------------------------------------------------------- planning (pure)

def shown_value(value: Union[str, bytes]) -> str:
    """A value as the diff shows it: the text, or a placeholder for bytes that are not UTF-8."""
    return value if isinstance(value, str) else '<%d bytes, not UTF-8>' % len(value)


def prefix_tree(flat: Mapping[str, str]) -> Dict[str, Any]:
    """Nested dicts of relative key names split at ``/``, as the v2 trees are shown.

    A key that is also the prefix of other keys is shown under ``''`` in its directory.
    """
    tree: Dict[str, Any] = {}
    for rel in sorted(flat):
        parts = rel.split('/')
        node = tree
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {} if child is None else {'': child}
            node = child
        if isinstance(node.get(parts[-1]), dict):
            node[parts[-1]][''] = flat[rel]
        else:
            node[parts[-1]] = flat[rel]
    return tree


def lease_ids(read: PrefixRead, content: Optional[Mapping[str, Any]], path: str) -> List[int]:
    """The leases of the content keys that exist: their time left decides the ttl rule."""
    if content is None:
        return []
    wanted = flatten_content(content, path, underscore=True)
    return sorted({read.keys[rel].lease for rel, value in wanted.items()
                   if value is not None and rel in read.keys and read.keys[rel].lease})


def plan_prefix_present(path: str, prefix: str, read: PrefixRead, content: Optional[Mapping[str, Any]] = None,
                        purge: bool = False, ttl: Optional[int] = None,
                        lease_left: Optional[Mapping[int, Optional[int]]] = None) -> PrefixPlan:
    """Plan ``state=present`` on the prefix from ``read``.

    ``lease_left`` maps each lease of :func:`lease_ids` to its seconds left (None: gone); it is
    only used with ``ttl``. Raises :class:`DirPlanError` for refused content and for a key
    that purge would have to delete but whose name is not UTF-8.
    """
    ttl = check_ttl(ttl, path)
    wanted_all = flatten_content(content, path, underscore=True) if content is not None else {}
    wanted = {rel: value for rel, value in wanted_all.items() if value is not None}
    have = read.keys
    left = dict(lease_left or {})
    plan = DirPlan(path=path, existed=bool(have))
    result = PrefixPlan(plan, prefix, read)
    kept_leases = set()
    for rel in sorted(wanted):
        key, value, current = prefix + rel, wanted[rel], have.get(rel)
        if current is None:
            result.puts.append(Operation(SET, key, value=value, ttl=ttl, create=True))
            plan.created.append(key)
        elif current.value != value or (ttl is not None and not _within(left, current.lease, ttl)):
            # A changed value, or (with ttl) no lease ending within ttl: put it on the run's lease.
            result.puts.append(Operation(SET, key, value=value, ttl=ttl, prev_index=current.mod_revision))
            plan.updated.append(key)
        elif ttl is not None:
            kept_leases.add(current.lease)
    if purge:
        for rel in sorted(have):
            if rel in wanted:
                continue
            if not have[rel].text:
                raise DirPlanError('purge would delete a key under %s whose name is not UTF-8 (%r): delete it with etcdctl'
                                   % (prefix, prefix + rel), category='not UTF-8')
            result.deletes.append(Operation(DELETE, prefix + rel, prev_index=have[rel].mod_revision))
            plan.deleted.append(prefix + rel)
    if len(kept_leases) == 1:
        result.lease = next(iter(kept_leases))
    plan.phases = [result.operations] if result.operations else []

    before = {rel: shown_value(item.value) for rel, item in have.items()}
    after = {rel: value for rel, value in before.items() if prefix + rel not in plan.deleted}
    after.update(wanted)
    plan.before, plan.after = prefix_tree(before), prefix_tree(after)
    plan.exists_after = bool(after)
    if ttl is not None:
        leases_before = {have[rel].lease for rel in wanted if rel in have}
        plan.ttl_before = left.get(next(iter(leases_before))) if len(leases_before) == 1 else None
        plan.ttl_after = (left.get(result.lease) if result.lease else ttl) if result.puts else plan.ttl_before
    result.warnings = _warnings(path, prefix, wanted_all, after, content, ttl)
    return result


def _within(left: Mapping[int, Optional[int]], lease: int, ttl: int) -> bool:
    """True when ``lease`` exists and ends within ``ttl`` seconds from now (the etcd_key rule)."""
    seconds = left.get(lease) if lease else None
    return seconds is not None and 0 < seconds <= ttl


def _warnings(path: str, prefix: str, wanted_all: Mapping[str, Optional[str]], after: Mapping[str, str],
              content: Any, ttl: Optional[int]) -> List[str]:
    warnings = []
    empty = sorted(prefix + rel for rel, value in wanted_all.items()
                   if value is None and not any(name.startswith(rel + '/') for name in after))
    if empty:
        warnings.append('empty directories have no v3 equivalent (a prefix exists only through the keys below it); '
                        'nothing was written for: %s' % ', '.join(empty))
    if content is None and not after:
        warnings.append('%s holds no key: an empty directory has no v3 equivalent, nothing was written' % prefix)
    if ttl is not None and not any(value is not None for value in wanted_all.values()):
        warnings.append('ttl applies to the keys written from content on v3 (a prefix has no TTL of its own); '
                        'with no key in content it has no effect')
    return warnings


def plan_prefix_absent(path: str, prefix: str, read: PrefixRead) -> PrefixPlan:
    """Plan ``state=absent``: nothing when the prefix holds no key, else one delete of the
    whole prefix (everything below it, whatever the read listed)."""
    plan = DirPlan(path=path, exists_after=False, existed=bool(read.keys))
    result = PrefixPlan(plan, prefix, read)
    if read.keys:
        result.deletes.append(Operation(RMTREE, prefix))
        plan.phases = [result.operations]
        plan.deleted = sorted(prefix + rel for rel in read.keys)
        plan.before = prefix_tree({rel: shown_value(item.value) for rel, item in read.keys.items()})
    return result


def _names(names: List[str]) -> str:
    more = ' and %d more' % (len(names) - SHOWN) if len(names) > SHOWN else ''
    return ', '.join(names[:SHOWN]) + more


# --------------------------------------------------------------------------- the store side

def _guard(op: Operation) -> Dict[str, Any]:
    """The per-key compare of a write: absent for a create, unchanged since the read otherwise."""
    return txn.compare_create(op.key, '==', 0) if op.create else txn.compare_mod(op.key, '==', op.prev_index)


def _request(op: Operation, lease_id: Optional[int]) -> Dict[str, Any]:
    if op.action == DELETE:
        return txn.delete_op(op.key)
    if op.ttl is not None:
        return txn.put_op(op.key, op.value, lease_id)
    if op.create:
        return txn.put_op(op.key, op.value)
    # No ttl: an existing key keeps whatever lease it has (as v2 left a directory's TTL alone).
    return txn.put_op(op.key, op.value, ignore_lease=True)


def _cost(op: Operation) -> int:
    """Bytes one operation puts in a transaction: its key (compare and request) and its value,
    plus the JSON around them."""
    value = op.value or ''
    return 2 * len(op.key.encode('utf-8')) + len(value.encode('utf-8') if isinstance(value, str) else value) + 64


class PrefixStore:
    """Reads and writes one prefix through an ``Etcd3Client`` (which the caller opens and closes)."""

    def __init__(self, client: Any, pipeline: int = 8):
        self.client = client
        self.pipeline = pipeline

    @property
    def current_endpoint(self) -> str:
        return self.client.current_endpoint

    @property
    def max_txn_ops(self) -> int:
        return self.client.max_txn_ops

    def read(self, prefix: str) -> PrefixRead:
        """One linearizable range read of every key starting with ``prefix``."""
        answer = self.client.range(prefix, prefix=True)
        read = PrefixRead(answer.header.revision)
        for kv in answer.kvs:
            text = isinstance(kv.key, str)
            name = kv.key if text else kv.key_bytes.decode('utf-8', 'replace')
            read.keys[name[len(prefix):]] = PrefixKey(kv.value, kv.mod_revision, kv.lease, text)
        return read

    def lease_left(self, ids: List[int]) -> Dict[int, Optional[int]]:
        """Seconds left of each lease (None when it is gone): one read per lease."""
        left: Dict[int, Optional[int]] = {}
        for lease_id in ids:
            info = self.client.lease_time_to_live(lease_id)
            left[lease_id] = None if info is None else info.ttl
        return left

    # -- writes -------------------------------------------------------------------------------

    def apply(self, plan: PrefixPlan, ttl: Optional[int], concurrency: int) -> Tuple[int, int]:
        """Send the plan; returns ``(writes applied, store revision after)``.

        Raises :class:`PrefixChanged` (the one transaction refused: nothing written) or
        :class:`DirTxnError`.
        """
        lease = self.client.lease(ttl) if plan.needs_lease else None
        lease_id = lease.id if lease is not None else plan.lease
        used = False
        try:
            if self._fits(plan):
                writes, revision = self._one_txn(plan, lease_id)
            else:
                writes, revision = self._chunked(plan, lease_id, concurrency)
            used = True
            return writes, revision
        except DirTxnError as exc:
            used = exc.applied > 0 or exc.unknown > 0
            raise
        finally:
            if lease is not None and not used:
                try:
                    lease.revoke()  # no key holds it
                except EtcdException:
                    pass  # it expires on its own

    def _fits(self, plan: PrefixPlan) -> bool:
        """Whether one transaction can carry the plan: its operations and its compares each within
        ``max_txn_ops``, and its keys and values within the request size etcd accepts."""
        guarded = sum(1 for op in plan.operations if op.action == DELETE or (op.action == SET and not op.create))
        return (len(plan.operations) <= self.max_txn_ops and 1 + guarded <= self.max_txn_ops
                and sum(_cost(op) for op in plan.operations) <= txn.MAX_TXN_BYTES)

    def _one_txn(self, plan: PrefixPlan, lease_id: Optional[int]) -> Tuple[int, int]:
        prefix, revision = plan.prefix, plan.read.revision
        compares = [txn.compare_mod(prefix, '<', revision + 1, prefix=True)]
        absent = plan.deletes and plan.deletes[0].action == RMTREE
        if absent:
            listed = [(prefix + rel, item.mod_revision) for rel, item in sorted(plan.read.keys.items()) if item.text]
            per_key = 1 + len(listed) <= self.max_txn_ops
            if per_key:
                compares += [txn.compare_mod(key, '==', mod) for key, mod in listed]
            # Without per-key compares a key deleted meanwhile is not seen: ask what went.
            success = [txn.delete_op(prefix, prefix=True, prev_kv=not per_key)]
        else:
            compares += [_guard(op) for op in plan.operations if not op.create]
            success = [_request(op, lease_id) for op in plan.operations]
        failure = [txn.get_op(prefix, prefix=True, keys_only=True)]
        first = plan.operations[0]
        try:
            answer = self.client.transaction(compares, success, failure)
        except EtcdException as exc:
            raise DirTxnError(first, exc, 0, len(plan.operations), unknown=int(exc.outcome_unknown)) from exc
        if not answer.succeeded:
            now = {_text(kv): kv.mod_revision for kv in answer.responses[0].kvs} if answer.responses else {}
            changed = ['%s (written at revision %d)' % (key, mod) for key, mod in sorted(now.items()) if mod > revision]
            expected = [prefix + rel for rel in plan.read.keys] if absent else [op.key for op in plan.operations if not op.create]
            changed += ['%s (deleted)' % key for key in sorted(expected) if key not in now]
            raise PrefixChanged(prefix, revision, changed, endpoint=self.current_endpoint)
        if absent and not per_key:
            gone = sorted(_text(kv) for kv in answer.responses[0].prev_kvs)
            plan.plan.deleted = gone
        return len(plan.operations), answer.header.revision

    def _chunked(self, plan: PrefixPlan, lease_id: Optional[int], concurrency: int) -> Tuple[int, int]:
        chunks = txn.chunks(plan.operations, self.max_txn_ops, _cost)
        bodies = []
        for chunk in chunks:
            subject = chunk[0].key if len(chunk) == 1 else '%s (and %d more keys)' % (chunk[0].key, len(chunk) - 1)
            bodies.append((subject, txn.txn_request([_guard(op) for op in chunk], [_request(op, lease_id) for op in chunk],
                                                    [txn.get_op(op.key, keys_only=True) for op in chunk])))
        try:
            results = self.client.send_txns(bodies, concurrency=concurrency, pipeline=self.pipeline)
            failures: Dict[int, BaseException] = {}
        except EtcdBulkWriteFailed as exc:
            results = exc.results
            by_subject = dict(exc.failures)
            failures = {position: by_subject[subject] for position, (subject, _body) in enumerate(bodies)
                        if subject in by_subject}
        applied = [position for position, answer in enumerate(results) if answer is not None and answer.succeeded]
        done = sum(len(chunks[position]) for position in applied)
        revision = max([results[position].header.revision for position in applied] or [plan.read.revision])
        refused = [position for position, answer in enumerate(results) if answer is not None and not answer.succeeded]
        if not refused and not failures:
            return done, revision
        unknown = sum(1 for cause in failures.values() if getattr(cause, 'outcome_unknown', False))
        if refused:
            position = refused[0]
            changed = _changed_in_chunk(chunks[position], results[position])
            cause: BaseException = StateError('another writer changed %s after the read at revision %d'
                                              % (_names(changed) or 'a key of this transaction', plan.read.revision),
                                              category='condition failed', endpoint=self.current_endpoint)
        else:
            position = min(failures)
            cause = failures[position]
        raise DirTxnError(chunks[position][0], cause, done, len(plan.operations), applied=len(applied), txns=len(chunks),
                          unknown=unknown, position=position + 1)


def _text(kv: Any) -> str:
    return kv.key if isinstance(kv.key, str) else kv.key_bytes.decode('utf-8', 'replace')


def _changed_in_chunk(chunk: List[Operation], answer: Any) -> List[str]:
    """The keys of a refused chunk that no longer are as read (from its failure ranges)."""
    changed = []
    for op, found in zip(chunk, answer.responses):
        kv = found.kv
        if op.create and kv is not None:
            changed.append('%s (created at revision %d)' % (op.key, kv.mod_revision))
        elif not op.create and kv is None:
            changed.append('%s (deleted)' % op.key)
        elif not op.create and kv.mod_revision != op.prev_index:
            changed.append('%s (written at revision %d)' % (op.key, kv.mod_revision))
    return changed


# --------------------------------------------------------------------------- the whole run

def ensure_prefix(client: Any, path: str, state: str = 'present', content: Optional[Mapping[str, Any]] = None,
                  purge: bool = False, ttl: Optional[int] = None, check_mode: bool = False,
                  concurrency: int = 8) -> V3DirOutcome:
    """Read the prefix once, plan, and (unless ``check_mode``) write; see the module docstring.

    Raises DirPlanError for options and content that cannot be planned (before anything is
    sent), PrefixChanged / DirTxnError when the write is refused or fails, and the client's
    exceptions when the read fails.
    """
    shown, prefix = check_options_v3(path, state, content, purge, ttl, concurrency)
    store = PrefixStore(client)
    read = store.read(prefix)
    try:
        if state == 'absent':
            plan = plan_prefix_absent(shown, prefix, read)
        else:
            left = store.lease_left(lease_ids(read, content, shown)) if ttl is not None else {}
            plan = plan_prefix_present(shown, prefix, read, content, purge=purge, ttl=ttl, lease_left=left)
    except DirPlanError as exc:
        exc.endpoint = store.current_endpoint
        raise
    outcome = V3DirOutcome(plan.plan, revision=read.revision, warnings=plan.warnings)
    if check_mode or not plan.operations:
        return outcome
    outcome.executed = True
    try:
        outcome.writes, outcome.revision = store.apply(plan, ttl, concurrency)
    except DirTxnError as exc:
        exc.endpoint = exc.endpoint or store.current_endpoint
        raise
    return outcome
