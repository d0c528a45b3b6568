# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bring one etcd key to a declared state: the logic behind the etcd_key module.

The flow is read, plan, write:

* ``read_key`` reads the key once (a quorum read, so the decision is not taken on a stale
  follower's copy);
* ``plan_key`` compares what was read with what is wanted and names the single write needed
  (or none); it is a pure function, unit tested without a server;
* ``apply_plan`` performs that write as a compare-and-swap on the ``modifiedIndex`` that was
  read (or a create-only write when the key was absent), so the write replaces exactly the
  node that the plan, the diff and ``prev_node`` describe.

If another writer changes the key between the read and the write, the condition fails and
``ensure_key`` reads and plans again, a bounded number of times. Check mode stops after the
plan; nothing else differs between check mode and a real run.

TTL rule: with ``ttl`` given, a key whose value already matches and that already expires no
later than ``ttl`` seconds from now is left alone, so a re-run reports ok instead of pushing
the expiry forward on every run. ``refresh_ttl`` renews the TTL (a refresh, which does not
notify watchers) by the renewal rule shared with etcd_cas (``cas_plan.renewal_due``): a key
whose value matches and that has at least half of ``ttl`` seconds left, and not more than
``ttl``, is left alone (ok); otherwise it is refreshed to ``ttl`` (changed). A heartbeat run
more often than every ``ttl / 2`` seconds therefore reports a change only every other
interval or so, never on every run. Without ``ttl`` the key is wanted permanent: an existing
TTL is removed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils.cas_plan import renewal_due
from ansible_collections.pyetcd.etcd.plugins.module_utils.connection import etcd_exc

NONE = 'none'
CREATE = 'create'
UPDATE = 'update'
SET_TTL = 'set_ttl'
REMOVE_TTL = 'remove_ttl'
REFRESH_TTL = 'refresh_ttl'
DELETE = 'delete'

HIDDEN = '<hidden>'
HIDDEN_CHANGED = '<hidden, changed>'

# Each extra attempt means another writer changed the key between our read and our write;
# a few are enough to win against occasional writers without spinning on a hot key.
MAX_ATTEMPTS = 3


class KeyStateError(Exception):
    """The declared state cannot be reached (the key is a directory, another writer keeps
    changing it...). ``str()`` is a one-line message naming the key; ``category`` names the
    cause in a few words for ``describe_error``."""

    def __init__(self, message: str, category: str = 'invalid argument', endpoint: Optional[str] = None):
        super().__init__(message)
        self.category = category
        self.endpoint = endpoint


@dataclass(frozen=True)
class DesiredKey:
    """What the task asks for."""

    key: str
    state: str = 'present'
    value: Optional[str] = None
    ttl: Optional[int] = None
    refresh_ttl: bool = False
    sensitive: bool = False

    def validate(self) -> None:
        """Raise KeyStateError for combinations the module cannot act on."""
        if not self.key or not self.key.strip('/'):
            raise KeyStateError('key must name a key below the root, got %r' % self.key)
        if self.state not in ('present', 'absent'):
            raise KeyStateError('state must be present or absent, got %r' % self.state)
        if self.state == 'present' and self.value is None:
            raise KeyStateError('value is required with state=present (key %s)' % self.key)
        if self.ttl is not None and self.ttl < 1:
            raise KeyStateError('ttl must be at least 1 second (key %s); omit ttl for a key that never expires' % self.key)
        if self.refresh_ttl and self.ttl is None:
            raise KeyStateError('refresh_ttl needs ttl (key %s)' % self.key)


@dataclass(frozen=True)
class KeyPlan:
    """The one write needed to reach the desired state, and why."""

    action: str
    reason: str

    @property
    def changed(self) -> bool:
        return self.action != NONE


def plan_key(current: Any, desired: DesiredKey) -> KeyPlan:
    """Decide the write that brings ``current`` (a ResponseNode, or None when the key does
    not exist) to ``desired``. Sends nothing. Raises KeyStateError for a directory."""
    if current is not None and current.dir:
        raise KeyStateError('etcd_key manages single keys, not directories; use pyetcd.etcd.etcd_dir',
                            category='is a directory')
    if desired.state == 'absent':
        if current is None:
            return KeyPlan(NONE, 'key is absent')
        return KeyPlan(DELETE, 'key exists')
    if current is None:
        return KeyPlan(CREATE, 'key is absent')
    if current.value != desired.value:
        return KeyPlan(UPDATE, 'value differs')
    current_ttl = current.ttl
    if desired.ttl is None:
        if current_ttl is not None:
            return KeyPlan(REMOVE_TTL, 'key has a TTL and none is wanted')
        return KeyPlan(NONE, 'value matches and key is permanent')
    if current_ttl is None:
        return KeyPlan(SET_TTL, 'key is permanent and a TTL is wanted')
    if desired.refresh_ttl:
        if renewal_due(current_ttl, desired.ttl):
            return KeyPlan(REFRESH_TTL, 'refresh_ttl and less than half of ttl left, or more than ttl')
        return KeyPlan(NONE, 'value matches and at least half of ttl is left')
    if current_ttl > desired.ttl:
        return KeyPlan(SET_TTL, 'key expires later than ttl allows')
    return KeyPlan(NONE, 'value matches and key expires within ttl')


def node_to_dict(node: Any) -> Optional[Dict[str, Any]]:
    """Plain data for a ResponseNode (None stays None)."""
    return None if node is None else node.to_dict()


def predict_node(current: Any, desired: DesiredKey, plan: KeyPlan) -> Optional[Dict[str, Any]]:
    """The node the plan would leave behind, as returned in check mode.

    Indexes and expiration of what would be written are unknown before writing and are None.
    """
    if plan.action == DELETE or (plan.action == NONE and current is None):
        return None
    if plan.action == NONE:
        return node_to_dict(current)
    node = {
        'key': current.key if current is not None else desired.key,
        'dir': False,
        'value': desired.value,
        'created_index': current.created_index if current is not None else None,
        'modified_index': None,
        'ttl': desired.ttl,
        'expiration': None,
    }
    return node


def apply_plan(client: Any, desired: DesiredKey, current: Any, plan: KeyPlan) -> Any:
    """Perform the write of ``plan`` and return the client's EtcdResult (None for no write).

    Sends, by action: create -> PUT prevExist=false; update/set_ttl/remove_ttl -> PUT value
    (with ttl when wanted) prevIndex=<read modifiedIndex>; refresh_ttl -> PUT refresh=true ttl
    prevIndex; delete -> DELETE prevIndex. Raises the client's exceptions (EtcdTestFailed,
    EtcdNodeExist or EtcdKeyNotFound when another writer got in between).
    """
    key = desired.key
    if plan.action == NONE:
        return None
    if plan.action == CREATE:
        return client.write(key, desired.value, ttl=desired.ttl, prev_exist=False)
    index = current.modified_index
    if plan.action in (UPDATE, SET_TTL, REMOVE_TTL):
        # A write without ttl makes the key permanent, which is what REMOVE_TTL and an
        # update without ttl want.
        return client.write(key, desired.value, ttl=desired.ttl, prev_index=index)
    if plan.action == REFRESH_TTL:
        return client.write(key, None, ttl=desired.ttl, refresh=True, prev_index=index)
    if plan.action == DELETE:
        return client.delete(key, prev_index=index)
    raise KeyStateError('unknown action %r for key %s' % (plan.action, key), category='internal error')


def read_key(client: Any, key: str) -> Any:
    """Read ``key`` with a quorum read; return its ResponseNode, or None when it does not exist."""
    try:
        return client.read(key, quorum=True).node
    except etcd_exc.EtcdKeyNotFound:
        return None


def _race_errors() -> tuple:
    # The write's condition no longer holds: someone changed, created or deleted the key.
    return (etcd_exc.EtcdTestFailed, etcd_exc.EtcdNodeExist, etcd_exc.EtcdKeyNotFound)


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


def ensure_key(client: Any, desired: DesiredKey, check_mode: bool = False) -> KeyOutcome:
    """Read, plan and (unless ``check_mode``) write, retrying when another writer interferes.

    Raises KeyStateError when the state cannot be reached and the client's exceptions for
    anything the server or the network did.
    """
    desired.validate()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        current = read_key(client, desired.key)
        try:
            plan = plan_key(current, desired)
        except KeyStateError as exc:
            exc.endpoint = client.current_endpoint
            raise
        before = node_to_dict(current)
        if check_mode or not plan.changed:
            return KeyOutcome(plan, before, predict_node(current, desired, plan), attempt)
        try:
            result = apply_plan(client, desired, current, plan)
        except _race_errors():
            # Another writer changed the key after our read: plan again from a fresh read
            # (for a delete, the next read may find the key already gone).
            continue
        after = None if plan.action == DELETE else node_to_dict(result.node)
        return KeyOutcome(plan, before, after, attempt)
    raise KeyStateError('another writer changed %s during each of %d read-and-write attempts; nothing written'
                        % (desired.key, MAX_ATTEMPTS), category='condition failed', endpoint=client.current_endpoint)


def _shown(node: Optional[Dict[str, Any]], desired: DesiredKey, hidden: str) -> Optional[Dict[str, Any]]:
    if node is None or not desired.sensitive:
        return node
    shown = dict(node)
    if 'value' in shown:
        shown['value'] = hidden
    return shown


def outcome_nodes(outcome: KeyOutcome, desired: DesiredKey) -> Dict[str, Any]:
    """``node`` and ``prev_node`` for the module's result, values hidden when sensitive."""
    return {
        'node': _shown(outcome.after, desired, HIDDEN),
        'prev_node': _shown(outcome.before, desired, HIDDEN),
    }


def _diff_side(node: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if node is None:
        return {'state': 'absent'}
    return {'state': 'present', 'value': node.get('value'), 'ttl': node.get('ttl')}


def key_diff(outcome: KeyOutcome, desired: DesiredKey) -> Dict[str, Any]:
    """Diff of the key for ``--diff``: before/after as small dicts (state, value, ttl).

    A TTL that the plan does not touch shows the same on both sides (it only counted down).
    Sensitive values show as ``<hidden>`` (``<hidden, changed>`` after a value change).
    """
    before = _diff_side(outcome.before)
    if outcome.plan.action == NONE:
        after = dict(before)
    else:
        after = _diff_side(outcome.after)
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
