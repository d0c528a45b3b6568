# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare-and-swap / compare-and-delete as a declared state: the logic behind etcd_cas.

Read the key (quorum), decide with :func:`cas_plan.decide`, then send the one conditional
write with every given condition in the same request, so the server re-checks them
atomically. If the server refuses the condition (another writer got in between the read and
the write), the key is read and decided again: the conditions are checked first, so a key
that another writer changed is a mismatch described from that fresh read, even when it now
holds the wanted value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils.cas_plan import (
    DELETE, HIDDEN_VALUE, MISMATCH, NOTHING, REFRESH, SWAP, CasDecision, CasPlanError, decide, mismatch_message,
    validate,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.connection import etcd_exc

# A refused condition with a fresh read that says the write is still due means another writer
# changed the key in between; a few attempts win against occasional writers.
MAX_ATTEMPTS = 3


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

    def conditions(self) -> Dict[str, Any]:
        """The given conditions as client keyword arguments (state=absent takes no prev_exist)."""
        given = {'prev_value': self.prev_value, 'prev_index': self.prev_index}
        if self.state == 'present':
            given['prev_exist'] = self.prev_exist
        return {name: value for name, value in given.items() if value is not None}


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


def read_key(client: Any, key: str) -> Any:
    """Quorum read of ``key``: its ResponseNode, or None when it does not exist."""
    try:
        return client.read(key, quorum=True).node
    except etcd_exc.EtcdKeyNotFound:
        return None


def send(client: Any, request: CasRequest, decision: CasDecision) -> Any:
    """Send the write of ``decision`` with every condition; returns the EtcdResult.

    SWAP: PUT value [ttl] with prevValue/prevIndex/prevExist as given (a plain set when none
    is given). DELETE: DELETE with prevValue/prevIndex as given (a plain delete when none).
    REFRESH: one PUT refresh=true ttl with every condition (and prevExist=true unless given).
    """
    conditions = request.conditions()
    if decision.action == REFRESH:
        return client.write(request.key, None, ttl=request.ttl, refresh=True, **conditions)
    if decision.action == SWAP:
        if conditions:
            return client.compare_and_swap(request.key, request.value, ttl=request.ttl, **conditions)
        return client.write(request.key, request.value, ttl=request.ttl)
    if decision.action == DELETE:
        if conditions:
            return client.compare_and_delete(request.key, **conditions)
        return client.delete(request.key)
    raise ValueError('nothing to send for %r' % (decision.action,))


def _condition_refused() -> tuple:
    # How the server says a condition did not hold: a value/index test failed, the key
    # exists for prevExist=false, or it is missing for prevExist=true/prevValue/prevIndex.
    return (etcd_exc.EtcdTestFailed, etcd_exc.EtcdNodeExist, etcd_exc.EtcdKeyNotFound)


def ensure_cas(client: Any, request: CasRequest, check_mode: bool = False) -> CasOutcome:
    """Read, decide and (unless ``check_mode``) send the conditional write.

    Raises CasPlanError for contradictory options, a directory, or a key that other writers
    keep changing between our read and our write; the client's exceptions for anything else
    the server or the network did.
    """
    validate(request.state, request.value, request.prev_value, request.prev_index, request.prev_exist, request.ttl,
             request.refresh_ttl)
    for _attempt in range(MAX_ATTEMPTS):
        current = read_key(client, request.key)
        decision = _decide(current, request)
        if decision.action in (NOTHING, MISMATCH):
            return _settled(client, request, decision, current)
        if check_mode:
            return CasOutcome(decision, current, predict(current, request, decision), swapped=True)
        try:
            result = send(client, request, decision)
        except _condition_refused():
            # The key changed after our read; the next read shows whether the conditions now
            # fail or still hold.
            continue
        after = None if decision.action == DELETE else result.node
        return CasOutcome(decision, current, after, swapped=True)
    raise CasPlanError('key %s changed concurrently during %d attempts; not written' % (request.key, MAX_ATTEMPTS))


def _decide(current: Any, request: CasRequest) -> CasDecision:
    return decide(current, request.state, request.value, request.prev_value, request.prev_index,
                  request.prev_exist, request.ttl, request.refresh_ttl)


def _settled(client: Any, request: CasRequest, decision: CasDecision, current: Any) -> CasOutcome:
    message = None
    if decision.action == MISMATCH:
        message = mismatch_message(request.key, client.current_endpoint, request.state, current, decision,
                                   request.prev_value, request.prev_index,
                                   request.prev_exist if request.state == 'present' else None,
                                   hide_values=request.sensitive, refresh_ttl=request.refresh_ttl)
    return CasOutcome(decision, current, current, swapped=False, message=message)


def predict(current: Any, request: CasRequest, decision: CasDecision) -> Optional[Dict[str, Any]]:
    """The node a write would leave (check mode); unknown indexes and expiration are None."""
    if decision.action == DELETE:
        return None
    return {
        'key': request.key,
        'dir': False,
        # A refresh keeps the value the key holds.
        'value': current.value if decision.action == REFRESH else request.value,
        'created_index': current.created_index if current is not None else None,
        'modified_index': None,
        'ttl': request.ttl,
        'expiration': None,
    }


def node_data(node: Any, sensitive: bool = False) -> Optional[Dict[str, Any]]:
    """Plain data for a ResponseNode or a predicted node dict; the value hidden when sensitive."""
    if node is None:
        return None
    # A ResponseNode is a dict too (etcd's own field names); to_dict() gives the result's names.
    data = node.to_dict() if hasattr(node, 'to_dict') else dict(node)
    if sensitive and 'value' in data:
        data['value'] = HIDDEN_VALUE
    return data


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
            'before': _diff_side(outcome.before, request.sensitive),
            'after': _diff_side(outcome.after, request.sensitive),
            'before_header': '%s (etcd key)' % request.key,
            'after_header': '%s (etcd key)' % request.key,
        }
    return result


def _diff_side(node: Any, sensitive: bool) -> Dict[str, Any]:
    data = node_data(node, sensitive)
    if data is None:
        return {'state': 'absent'}
    return {'state': 'present', 'value': data.get('value'), 'ttl': data.get('ttl')}
