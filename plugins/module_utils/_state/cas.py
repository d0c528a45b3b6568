# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compare-and-swap / compare-and-delete as a declared state: the logic behind etcd_cas.

Read the key (linearizable), decide with :func:`cas_plan.decide`, then send the one conditional
write with every given condition in the same request, so the server re-checks them
atomically. If the server refuses the condition (another writer got in between the read and
the write), the key is read and decided again: the conditions are checked first, so a key
that another writer changed is a mismatch described from that fresh read, even when it now
holds the wanted value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.cas_plan import (
    DELETE, MISMATCH, NOTHING, REFRESH, SWAP, CasDecision, CasPlanError, decide, mismatch_message, validate,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import (
    MAX_ATTEMPTS, ConditionFailed, attr, diff_side, node_data, predicted_node,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store import Condition, KeyStore


@dataclass(frozen=True)
class CasRequest:
    """The task's options (state, value, the conditions, ttl, refresh_ttl)."""

    key: str
    state: str = 'present'
    value: Optional[str] = None
    prev_value: Optional[str] = None
    prev_index: Optional[int] = None
    prev_exist: Optional[bool] = None
    ttl: Optional[int] = None
    sensitive: bool = False
    refresh_ttl: bool = False
    # The API of the store: the v3 one compares with an empty prev_value, and names the
    # modification index mod_revision in messages.
    api_version: str = 'v2'

    def condition(self) -> Condition:
        """Every given condition, together (state=absent takes no prev_exist)."""
        return Condition(exists=self.prev_exist if self.state == 'present' else None, value=self.prev_value,
                         index=self.prev_index)

    def validate(self) -> None:
        """Refuse contradictory options (:func:`cas_plan.validate`); raises CasPlanError."""
        validate(self.state, self.value, self.prev_value, self.prev_index, self.prev_exist, self.ttl, self.refresh_ttl,
                 self.api_version)


@dataclass
class CasOutcome:
    """The decision, the node before and after, and the mismatch message when there is one."""

    decision: CasDecision
    before: Any
    after: Any
    swapped: bool
    message: Optional[str] = None

    @property
    def changed(self) -> bool:
        return self.swapped

    @property
    def mismatch(self) -> bool:
        return self.decision.action == MISMATCH


def send(store: KeyStore, request: CasRequest, decision: CasDecision) -> Any:
    """Send the write of ``decision`` with every condition; returns the store's result.

    SWAP: put the value [ttl] if the conditions hold (a plain put when none is given).
    DELETE: delete if they hold (a plain delete when none). REFRESH: one TTL refresh with every
    condition, which also needs the key to exist. Raises ConditionFailed when the server
    refuses the conditions.
    """
    when = request.condition()
    if decision.action == REFRESH:
        return store.refresh(request.key, request.ttl, when=when)
    if decision.action == SWAP:
        return store.put(request.key, request.value, ttl=request.ttl, when=when)
    if decision.action == DELETE:
        return store.delete(request.key, when=when)
    raise ValueError('nothing to send for %r' % (decision.action,))


def ensure_cas(store: KeyStore, request: CasRequest, check_mode: bool = False) -> CasOutcome:
    """Read, decide and (unless ``check_mode``) send the conditional write.

    Raises CasPlanError for contradictory options, a directory, or a key that other writers
    keep changing between our read and our write; the client's exceptions for anything else
    the server or the network did.
    """
    request.validate()
    for _attempt in range(MAX_ATTEMPTS):
        current = store.read(request.key)
        try:
            decision = _decide(current, request)
        except CasPlanError as exc:
            exc.endpoint = store.current_endpoint
            raise
        if decision.action in (NOTHING, MISMATCH):
            return _settled(store, request, decision, current)
        if check_mode:
            return CasOutcome(decision, current, predict(current, request, decision), swapped=True)
        try:
            result = send(store, request, decision)
        except ConditionFailed:
            # The key changed after our read; the next read shows whether the conditions now
            # fail or still hold.
            continue
        after = None if decision.action == DELETE else result.node
        return CasOutcome(decision, current, after, swapped=True)
    raise CasPlanError('key %s changed concurrently during %d attempts; not written' % (request.key, MAX_ATTEMPTS),
                       category='condition failed', endpoint=store.current_endpoint)


def _decide(current: Any, request: CasRequest) -> CasDecision:
    return decide(current, request.state, request.value, request.prev_value, request.prev_index,
                  request.prev_exist, request.ttl, request.refresh_ttl, request.api_version)


def _settled(store: KeyStore, request: CasRequest, decision: CasDecision, current: Any) -> CasOutcome:
    message = None
    if decision.action == MISMATCH:
        message = mismatch_message(request.key, store.current_endpoint, request.state, current, decision,
                                   request.prev_value, request.prev_index,
                                   request.prev_exist if request.state == 'present' else None,
                                   hide_values=request.sensitive, refresh_ttl=request.refresh_ttl,
                                   api_version=request.api_version)
    return CasOutcome(decision, current, current, swapped=False, message=message)


def predict(current: Any, request: CasRequest, decision: CasDecision) -> Optional[Dict[str, Any]]:
    """The node a write would leave (check mode); unknown indexes and expiration are None.

    On v3 the node also has the v3 fields: ``create_revision`` as read (None for a create),
    the rest only the write would tell (None), except a refresh, which keeps them all.
    """
    if decision.action == DELETE:
        return None
    # A refresh keeps the value the key holds.
    value = current.value if decision.action == REFRESH else request.value
    node = predicted_node(request.key, value, request.ttl, current)
    if request.api_version == 'v3':
        node.update(create_revision=attr(current, 'create_revision'), mod_revision=None, version=None, lease=None)
        if decision.action == REFRESH:
            node.update(modified_index=attr(current, 'mod_revision'), mod_revision=attr(current, 'mod_revision'),
                        version=attr(current, 'version'), lease=attr(current, 'lease'))
    return node


def cas_result(outcome: CasOutcome, request: CasRequest, diff: bool = False) -> Dict[str, Any]:
    """The module's return values (see RETURN of etcd_cas)."""
    result: Dict[str, Any] = {
        'changed': outcome.changed,
        'key': request.key,
        'swapped': outcome.swapped,
        'node': node_data(outcome.after, request.sensitive),
        'prev_node': node_data(outcome.before, request.sensitive),
    }
    if outcome.message:
        result['mismatch'] = outcome.message
    if diff:
        result['diff'] = {
            'before': diff_side(outcome.before, request.sensitive),
            'after': diff_side(outcome.after, request.sensitive),
            'before_header': '%s (etcd key)' % request.key,
            'after_header': '%s (etcd key)' % request.key,
        }
    return result
