# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bring one etcd key to a declared state: the logic behind the etcd_key module.

The flow is read, plan, write:

* the store reads the key once (linearizable, so the decision is not taken on a stale
  follower's copy);
* ``key_plan.plan_key`` compares what was read with what is wanted and names the single write
  needed (or none); it is a pure function, unit tested without a server;
* :func:`apply_plan` performs that write on the condition that the key is unchanged since the
  read (or absent, for a create), so the write replaces exactly the node that the plan, the
  diff and ``prev_node`` describe.

If another writer changes the key between the read and the write, the condition fails and
:func:`ensure_key` reads and plans again, a bounded number of times. Check mode stops after the
plan; nothing else differs between check mode and a real run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import (
    HIDDEN, MAX_ATTEMPTS, ConditionFailed, diff_side, node_data, predicted_node,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.key_plan import (
    CREATE, DELETE, NONE, REFRESH_TTL, REMOVE_TTL, SET_TTL, UPDATE, DesiredKey, KeyPlan, KeyStateError, plan_key,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store import Condition, KeyStore

HIDDEN_CHANGED = '<hidden, changed>'


def predict_node(current: Any, desired: DesiredKey, plan: KeyPlan) -> Optional[Dict[str, Any]]:
    """The node the plan would leave behind, as returned in check mode."""
    if plan.action == DELETE or (plan.action == NONE and current is None):
        return None
    if plan.action == NONE:
        return node_data(current)
    return predicted_node(current.key if current is not None else desired.key, desired.value, desired.ttl, current)


def apply_plan(store: KeyStore, desired: DesiredKey, current: Any, plan: KeyPlan) -> Any:
    """Perform the write of ``plan`` and return the store's result (None for no write).

    By action: create -> put if absent; update/set_ttl/remove_ttl -> put the value (with ttl
    when wanted) if unchanged since the read; refresh_ttl -> refresh if unchanged; delete ->
    delete if unchanged. Raises ConditionFailed when another writer got in between.
    """
    key = desired.key
    if plan.action == NONE:
        return None
    if plan.action == CREATE:
        return store.put(key, desired.value, ttl=desired.ttl, when=Condition.absent())
    unchanged = Condition.unchanged_since(current.modified_index)
    if plan.action in (UPDATE, SET_TTL, REMOVE_TTL):
        # A write without ttl makes the key permanent, which is what REMOVE_TTL and an
        # update without ttl want.
        return store.put(key, desired.value, ttl=desired.ttl, when=unchanged)
    if plan.action == REFRESH_TTL:
        return store.refresh(key, desired.ttl, when=unchanged)
    if plan.action == DELETE:
        return store.delete(key, when=unchanged)
    raise KeyStateError('unknown action %r for key %s' % (plan.action, key), category='internal error')


@dataclass
class KeyOutcome:
    """What ensure_key did: the plan, the node before and after (as plain data), and how many
    read-and-write attempts it took."""

    plan: KeyPlan
    before: Optional[Dict[str, Any]]
    after: Optional[Dict[str, Any]]
    attempts: int

    @property
    def changed(self) -> bool:
        return self.plan.changed


def ensure_key(store: KeyStore, desired: DesiredKey, check_mode: bool = False) -> KeyOutcome:
    """Read, plan and (unless ``check_mode``) write, retrying when another writer interferes.

    Raises KeyStateError when the state cannot be reached and the client's exceptions for
    anything the server or the network did.
    """
    desired.validate()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        current = store.read(desired.key)
        try:
            plan = plan_key(current, desired)
        except KeyStateError as exc:
            exc.endpoint = store.current_endpoint
            raise
        before = node_data(current)
        if check_mode or not plan.changed:
            return KeyOutcome(plan, before, predict_node(current, desired, plan), attempt)
        try:
            result = apply_plan(store, desired, current, plan)
        except ConditionFailed:
            # Another writer changed the key after our read: plan again from a fresh read
            # (for a delete, the next read may find the key already gone).
            continue
        after = None if plan.action == DELETE else node_data(result.node)
        return KeyOutcome(plan, before, after, attempt)
    raise KeyStateError('another writer changed %s during each of %d read-and-write attempts; nothing written'
                        % (desired.key, MAX_ATTEMPTS), category='condition failed', endpoint=store.current_endpoint)


def _shown(node: Optional[Dict[str, Any]], desired: DesiredKey) -> Optional[Dict[str, Any]]:
    if node is None or not desired.sensitive:
        return node
    return node_data(node, sensitive=True)


def outcome_nodes(outcome: KeyOutcome, desired: DesiredKey) -> Dict[str, Any]:
    """``node`` and ``prev_node`` for the module's result, values hidden when sensitive."""
    return {
        'node': _shown(outcome.after, desired),
        'prev_node': _shown(outcome.before, desired),
    }


def key_diff(outcome: KeyOutcome, desired: DesiredKey) -> Dict[str, Any]:
    """Diff of the key for ``--diff``: before/after as small dicts (state, value, ttl).

    A TTL that the plan does not touch shows the same on both sides (it only counted down).
    Sensitive values show as ``<hidden>`` (``<hidden, changed>`` after a value change).
    """
    before = diff_side(outcome.before)
    if outcome.plan.action == NONE:
        after = dict(before)
    else:
        after = diff_side(outcome.after)
        if after['state'] == 'present' and outcome.plan.action in (CREATE, UPDATE, SET_TTL, REFRESH_TTL):
            # The answer's TTL may already be a second lower than asked; show what was asked.
            after['ttl'] = desired.ttl
    if desired.sensitive:
        changed_value = before.get('value') != after.get('value')
        if 'value' in before:
            before['value'] = HIDDEN
        if 'value' in after:
            after['value'] = HIDDEN_CHANGED if changed_value else HIDDEN
    return {
        'before': before,
        'after': after,
        'before_header': '%s (etcd key)' % desired.key,
        'after_header': '%s (etcd key)' % desired.key,
    }


def key_result(outcome: KeyOutcome, desired: DesiredKey, diff: bool = False) -> Dict[str, Any]:
    """The module's return values (see RETURN of etcd_key)."""
    result: Dict[str, Any] = dict(changed=outcome.changed, key=desired.key, action=outcome.plan.action,
                                  **outcome_nodes(outcome, desired))
    if diff:
        result['diff'] = key_diff(outcome, desired)
    return result
