# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bring an etcd directory to a declared state: the logic behind the etcd_dir module.

One linearizable recursive read, a pure plan (:mod:`dir_plan`), then the planned writes. The
writes of one phase touch disjoint keys, so they go out together through
``store.apply_many``: on a few connections, each carrying several pipelined requests, so etcd
batches many proposals into one raft round and no write waits for the round trip of the one
before. That is what makes a thousand keys in one task fast. A run with nothing to change
sends exactly one request.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import BatchFailed, StateError
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_plan import (
    RMDIR, SET_DIR_TTL, DirPlan, DirPlanError, Operation, check_ttl, content_value, flatten_content, mask_tree,
    normalize_path, plan_absent, plan_present,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store import KeyStore
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException, EtcdDirNotEmpty, EtcdException,
)

DEFAULT_CONCURRENCY = 8


class DirWriteError(StateError):
    """A planned write failed. ``done`` writes were applied before it (the run is partial).

    ``str()`` is one line: the failing operation and key, how far the run got, and the cause.
    ``category`` is None: the cause's own category applies (the module describes ``cause``
    and adds :attr:`progress`).
    """

    def __init__(self, operation: Operation, cause: BaseException, done: int, total: int):
        self.operation = operation
        self.cause = cause
        self.done = done
        self.total = total
        super().__init__('%s: %s' % (self.progress, cause), category=None, endpoint=getattr(cause, 'endpoint', None))

    @property
    def progress(self) -> str:
        """How far the run got, for the failure message."""
        if not self.done:
            return '%s of %s failed; no write was applied' % (self.operation.action, self.operation.key)
        return ('%s of %s failed after %d of %d writes were applied; a re-run completes the rest'
                % (self.operation.action, self.operation.key, self.done, self.total))


class DirNotEmpty(DirWriteError):
    """etcd refused to delete a directory that had to go, because it is not empty.

    Raised for ``state=absent`` without ``recursive``, and for a purge that replaces a directory
    by a key. What is in the directory was not listed by the read: hidden nodes (names starting
    with ``_``) or nodes written after it. ``str()`` is one line starting with the path.
    """

    def __init__(self, operation: Operation, cause: BaseException, done: int, total: int, advice: str):
        self.advice = advice
        super().__init__(operation, cause, done, total)
        self.category = 'directory not empty'
        self.args = ('%s is not empty: etcd refused to delete it because it holds nodes the read did not list '
                     '(hidden ones, whose names start with "_", or ones written after the read); %s%s'
                     % (operation.key, advice, '' if not done else '; %d of %d writes were applied' % (done, total)),)

    def __str__(self) -> str:
        return self.args[0]


@dataclass
class DirOutcome:
    """What ensure_dir planned and, unless in check mode, did.

    ``writes`` counts the writes etcd applied. A purge can leave directories etcd found not
    empty (``kept``), so a run whose only planned writes were such deletes changes nothing.
    """

    plan: DirPlan
    writes: int = 0
    results: List[Any] = field(default_factory=list)
    executed: bool = False

    @property
    def changed(self) -> bool:
        return self.writes > 0 if self.executed else self.plan.changed

    @property
    def kept(self) -> List[str]:
        return self.plan.kept


def execute(store: KeyStore, plan: DirPlan, concurrency: int = DEFAULT_CONCURRENCY) -> List[Any]:
    """Send the plan's operations phase by phase; returns the results of the applied writes.

    Within a phase the requests go out together through ``store.apply_many`` on up to
    ``concurrency`` connections (``concurrency=1``: one request at a time); a phase with a
    single request uses the client's keep-alive connection. After the first failure no new
    request is started (those already sent are answered) and :class:`DirWriteError` is raised
    with the number of writes that were applied.

    An RMDIR that etcd refuses because the directory is not empty is not a failure in a purge
    (``plan.prune``): the directory is kept (:meth:`DirPlan.keep`), so are the directories
    above it without a request, and the rest of the phase is sent. It is a failure,
    :class:`DirNotEmpty`, for ``state=absent`` and for a directory a key was to replace.
    """
    total = len(plan.operations)
    results: List[Any] = []
    for phase in plan.phases:
        _check_replaced(plan, len(results), total)
        todo = []
        for op in phase:
            if op.action == RMDIR and any(kept.startswith(op.key + '/') for kept in plan.kept):
                plan.keep(op.key)  # it holds a kept directory: etcd would refuse it as well
            else:
                todo.append(op)
        while todo:
            todo = _send_phase(store, plan, todo, concurrency, results, total)
    return results


def _send_phase(store: KeyStore, plan: DirPlan, todo: List[Operation], concurrency: int, results: List[Any],
                total: int) -> List[Operation]:
    """Send ``todo`` (one phase), appending applied results; returns the operations still to send.

    Those are the ones not started because etcd refused a directory a purge may keep: the
    batch stops at the first refusal, so the rest goes out again.
    """
    # A directory's TTL change reads before it writes, so it never joins a batch.
    if len(todo) == 1 or any(op.action == SET_DIR_TTL for op in todo):
        for op in todo:
            try:
                results.append(store.apply(op))
            except EtcdDirNotEmpty as exc:
                _refused(plan, op, exc, len(results), total)
            except (EtcdException, ClientException) as exc:
                raise DirWriteError(op, exc, len(results), total) from exc
        return []
    try:
        results.extend(store.apply_many(todo, concurrency))
        return []
    except BatchFailed as exc:
        results.extend(result for result in exc.results if result is not None)
        for op, cause in exc.failures:
            if not isinstance(cause, EtcdDirNotEmpty):
                raise DirWriteError(op, cause, len(results), total) from cause
        for op, cause in exc.failures:
            _refused(plan, op, cause, len(results), total)
        return list(exc.not_sent)


def _refused(plan: DirPlan, op: Operation, cause: BaseException, done: int, total: int) -> None:
    """etcd answered "directory not empty" to ``op``: keep the directory, or fail."""
    if op.action == RMDIR and plan.prune:
        plan.keep(op.key)
        return
    if op.action == RMDIR:
        raise DirNotEmpty(op, cause, done, total, 'set recursive: true to remove it with everything in it') from cause
    raise DirWriteError(op, cause, done, total) from cause


def _check_replaced(plan: DirPlan, done: int, total: int) -> None:
    """Stop before the writes when a directory that a key was to replace has been kept."""
    for directory in plan.replaced:
        if directory in plan.kept:
            op = next(op for op in plan.operations if op.key == directory and op.action == RMDIR)
            raise DirNotEmpty(op, EtcdDirNotEmpty('directory not empty', key=directory), done, total,
                              'it was not replaced by a key; remove what is in it, then run again')


def check_options(path: str, state: str = 'present', content: Optional[Dict[str, Any]] = None, purge: bool = False,
                  ttl: Optional[int] = None, recursive: bool = False,
                  concurrency: int = DEFAULT_CONCURRENCY) -> str:
    """Refuse the task's options before anything is sent; returns the normalized path.

    Raises DirPlanError naming the path: an option the ``state`` does not use, a bad ttl or
    concurrency, content that cannot be stored.
    """
    path = normalize_path(path)
    misplaced = present_only_options(state, content=content, ttl=ttl, purge=purge, recursive=recursive)
    if misplaced:
        raise DirPlanError('%s: %s' % (path, misplaced))
    check_ttl(ttl, path)
    if concurrency < 1:
        raise DirPlanError('concurrency must be at least 1, got %d (1 sends one write at a time)' % concurrency)
    if content is not None:
        flatten_content(content, path)
    return path


def ensure_dir(store: KeyStore, path: str, state: str = 'present', content: Optional[Dict[str, Any]] = None,
               purge: bool = False, ttl: Optional[int] = None, recursive: bool = False,
               check_mode: bool = False, concurrency: int = DEFAULT_CONCURRENCY) -> DirOutcome:
    """Read once, plan, and (unless ``check_mode``) write.

    Raises DirPlanError for content or state that cannot be planned, DirWriteError when a
    write fails, and the client's exceptions when the read fails.
    """
    if state == 'present':
        # Refuse bad content and a bad ttl before talking to etcd at all.
        check_ttl(ttl, normalize_path(path))
        if content is not None:
            flatten_content(content, normalize_path(path))
    current = store.read_tree(path)
    try:
        if state == 'absent':
            plan = plan_absent(path, current, recursive=recursive)
        else:
            plan = plan_present(path, current, content, purge=purge, ttl=ttl)
    except DirPlanError as exc:
        exc.endpoint = store.current_endpoint
        raise
    outcome = DirOutcome(plan)
    if check_mode or not plan.changed:
        return outcome
    outcome.executed = True
    try:
        outcome.results = execute(store, plan, concurrency)
    except DirWriteError as exc:
        # A refusal found without a request (a kept directory) names no member yet.
        exc.endpoint = exc.endpoint or store.current_endpoint
        raise
    outcome.writes = len(outcome.results)
    return outcome


def dir_result(outcome: DirOutcome, diff: bool = False, sensitive: bool = False) -> Dict[str, Any]:
    """The module's return values (see RETURN of etcd_dir)."""
    plan = outcome.plan
    result: Dict[str, Any] = {
        'changed': outcome.changed,
        'path': plan.path,
        'created': plan.created,
        'updated': plan.updated,
        'deleted': plan.deleted,
        'kept': plan.kept,
        'writes': outcome.writes,
        'planned_writes': len(plan.operations),
    }
    if diff:
        result['diff'] = plan.diff(hide_values=sensitive)
    return result


def masked_invocation(params: Dict[str, Any]) -> Dict[str, Any]:
    """The task's arguments with every value of ``content`` replaced, for ``sensitive=true``.

    Returned as the module's ``invocation`` so that ``-vvv`` output does not show the values.
    (Adding them to ``no_log_values`` instead would mask every occurrence of a short value
    such as ``1`` inside key paths of the result.)
    """
    args = dict(params)
    if isinstance(args.get('content'), dict):
        args['content'] = mask_tree(args['content'])
    return {'module_args': args}


def present_only_options(state: str, content: Any = None, ttl: Optional[int] = None, purge: bool = False,
                         recursive: bool = False) -> Optional[str]:
    """A message when an option is given that the chosen ``state`` does not use, else None."""
    if state == 'absent':
        given = [name for name, value in (('content', content), ('ttl', ttl)) if value is not None]
        given += ['purge'] if purge else []
        if given:
            return '%s only apply to state=present' % ', '.join(given)
    elif recursive:
        return 'recursive only applies to state=absent'
    return None


def content_secrets(content: Any) -> List[str]:
    """Every value of ``content`` as it would be stored, to scrub from error messages."""
    found: List[str] = []
    if isinstance(content, dict):
        for value in content.values():
            if isinstance(value, dict):
                found.extend(content_secrets(value))
            else:
                try:
                    found.append(content_value(value, ''))
                except ValueError:
                    continue
    return found
