# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision table of the etcd_cas module, as pure functions (nothing is sent here).

From the node read at ``key`` (or ``None`` when the key is missing), the desired state and the
conditions, :func:`decide` answers one of:

* ``MISMATCH``: a given condition fails against what was read; nothing is sent. The module
  fails (or, with ``fail_on_mismatch=false``, reports ``swapped=false``). The conditions are
  checked first, always: a key that already holds ``value`` is no excuse, because the task
  cannot tell its own earlier write from another writer's (two runs taking a lock under the
  same name). A task that means to accept its own value says so with a condition that holds
  for it, such as ``prev_value`` equal to ``value``.
* ``NOTHING``: the conditions hold and the desired state is already there (the key holds
  ``value`` with a TTL that counts as reached, is absent for ``state=absent``, or, for
  ``refresh_ttl``, has a TTL that needs no renewal). Reported ok without a write.
* ``SWAP`` / ``DELETE`` / ``REFRESH``: the conditions hold; the write is sent with every
  given condition so that the server checks them again atomically. ``REFRESH`` renews the
  TTL without touching the value (a refresh, which does not wake watchers).

TTL rules. For a swap, a desired TTL counts as reached when the key already expires within
``ttl`` seconds (a countdown is never equal to the requested number; etcd_key's rule); with
``ttl`` omitted the key's TTL does not matter for the decision, but a swap without ``ttl``
writes a key without a TTL, as etcd does for every write. For ``refresh_ttl`` (the renewal
rule shared with etcd_key): a key whose remaining TTL is at least half of ``ttl`` and not more
than ``ttl`` is left alone; otherwise (less than half left, longer than ``ttl``, or no TTL)
it is refreshed to ``ttl``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import HIDDEN, StateError, attr

NOTHING = 'nothing'
SWAP = 'swap'
DELETE = 'delete'
MISMATCH = 'mismatch'
REFRESH = 'renew'


class CasPlanError(StateError, ValueError):
    """The request is contradictory (``category`` invalid argument; the message says which
    option), targets a directory, or loses every race against other writers."""


@dataclass(frozen=True)
class CasDecision:
    """``action`` is one of NOTHING, SWAP, DELETE, REFRESH, MISMATCH; ``failed`` names failing conditions."""

    action: str
    failed: Tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        return self.action in (SWAP, DELETE, REFRESH)


def validate(state: str, value: Optional[str] = None, prev_value: Optional[str] = None,
             prev_index: Optional[int] = None, prev_exist: Optional[bool] = None,
             ttl: Optional[int] = None, refresh_ttl: bool = False, api_version: str = 'v2') -> None:
    """Refuse combinations the server would ignore or misread; raises :class:`CasPlanError`.

    ``api_version`` ``'v3'`` accepts an empty ``prev_value``: a v3 txn compares a value with
    the empty string exactly (and fails for a missing key), the v2 API cannot.
    """
    if state == 'present' and refresh_ttl:
        if value is not None:
            raise CasPlanError('value cannot be combined with refresh_ttl: a refresh keeps the value the key holds '
                               '(name it with prev_value)')
        if ttl is None:
            raise CasPlanError('refresh_ttl needs ttl: the number of seconds to renew the key for')
        if prev_value is None and prev_index is None:
            raise CasPlanError('refresh_ttl needs prev_value or prev_index: the condition under which the TTL is '
                               'renewed (use pyetcd.etcd.etcd_key to refresh unconditionally)')
        if prev_exist is False:
            raise CasPlanError('prev_exist=false cannot be combined with refresh_ttl: only an existing key can be '
                               'refreshed')
    elif state == 'present':
        if value is None:
            raise CasPlanError("state=present needs value (a string, number or boolean; quote it, '' for an "
                               'empty value)')
        if prev_exist is False and (prev_value is not None or prev_index is not None):
            # etcd treats prevExist=false as a plain create and ignores the other conditions.
            raise CasPlanError('prev_exist=false cannot be combined with prev_value or prev_index: '
                               'a key that must not exist has neither')
    elif state == 'absent':
        for name, given in (('value', value), ('prev_exist', prev_exist), ('ttl', ttl),
                            ('refresh_ttl', refresh_ttl or None)):
            if given is not None:
                raise CasPlanError('%s applies to state=present only (compare-and-delete checks prev_value '
                                   'and prev_index)' % name)
    else:
        raise CasPlanError('state must be present or absent, got %r' % (state,))
    if prev_value == '' and api_version != 'v3':
        # The server answers 201 "PrevValue is Required" for an empty prevValue.
        raise CasPlanError('prev_value must not be empty: etcd cannot compare against an empty value')
    if prev_index is not None and prev_index < 1:
        # prevIndex=0 passes on the server for any key: it would not be a condition at all.
        raise CasPlanError('prev_index must be >= 1, got %d' % prev_index)
    if ttl is not None and ttl < 1:
        raise CasPlanError('ttl must be >= 1 second, got %d' % ttl)


def failed_conditions(current: Any, prev_value: Optional[str] = None, prev_index: Optional[int] = None,
                      prev_exist: Optional[bool] = None) -> Tuple[str, ...]:
    """Names of the given conditions that ``current`` (a node or ``None``) does not meet."""
    failed: List[str] = []
    exists = current is not None
    if prev_exist is not None and prev_exist != exists:
        failed.append('prev_exist')
    if prev_value is not None and (not exists or attr(current, 'value') != prev_value):
        failed.append('prev_value')
    if prev_index is not None and (not exists or attr(current, 'modified_index') != prev_index):
        failed.append('prev_index')
    return tuple(failed)


def _ttl_reached(current: Optional[int], wanted: Optional[int]) -> bool:
    return wanted is None or (bool(current) and current <= wanted)


def renewal_due(current: Optional[int], wanted: int) -> bool:
    """The renewal rule of ``refresh_ttl`` (etcd_cas and etcd_key): refresh unless the key has
    at least half of ``wanted`` seconds left and not more than ``wanted``."""
    return not current or current * 2 < wanted or current > wanted


def decide(current: Any, state: str, value: Optional[str] = None, prev_value: Optional[str] = None,
           prev_index: Optional[int] = None, prev_exist: Optional[bool] = None,
           ttl: Optional[int] = None, refresh_ttl: bool = False, api_version: str = 'v2') -> CasDecision:
    """The decision for ``current`` (the node read at the key, or ``None`` when missing).

    Raises :class:`CasPlanError` for contradictory options and when ``current`` is a directory.
    """
    validate(state, value, prev_value, prev_index, prev_exist, ttl, refresh_ttl, api_version)
    if current is not None and current.dir:
        raise CasPlanError('%s is a directory: compare-and-swap works on keys only'
                           % (attr(current, 'key') or 'the key'), category='is a directory')
    if state == 'absent':
        failed = failed_conditions(current, prev_value, prev_index)
        if failed:
            return CasDecision(MISMATCH, failed)
        return CasDecision(NOTHING) if current is None else CasDecision(DELETE)
    failed = failed_conditions(current, prev_value, prev_index, prev_exist)
    if failed:
        return CasDecision(MISMATCH, failed)
    if refresh_ttl:
        # The conditions name an existing key (prev_value or prev_index is required).
        return CasDecision(REFRESH) if renewal_due(attr(current, 'ttl'), ttl) else CasDecision(NOTHING)
    if current is not None and attr(current, 'value') == value and _ttl_reached(attr(current, 'ttl'), ttl):
        return CasDecision(NOTHING)
    return CasDecision(SWAP)


def describe_conditions(prev_value: Optional[str] = None, prev_index: Optional[int] = None,
                        prev_exist: Optional[bool] = None, hide_values: bool = False) -> str:
    """The given conditions as ``prev_value='a', prev_index=7`` (values hidden on request)."""
    parts: List[str] = []
    if prev_exist is not None:
        parts.append('prev_exist=%s' % ('true' if prev_exist else 'false'))
    if prev_value is not None:
        parts.append('prev_value=%s' % (HIDDEN if hide_values else repr(prev_value)))
    if prev_index is not None:
        parts.append('prev_index=%d' % prev_index)
    return ', '.join(parts) if parts else 'no condition'


# How each API names the number that prev_index compares with.
INDEX_NAMES = {'v2': 'modifiedIndex', 'v3': 'mod_revision'}


def describe_current(current: Any, hide_values: bool = False, index_name: str = INDEX_NAMES['v2']) -> str:
    """What the key holds now, for a mismatch message: its modification index (``index_name``:
    ``modifiedIndex`` on v2, ``mod_revision`` on v3) and (unless hidden) value."""
    if current is None:
        return 'the key does not exist'
    text = 'the key is at %s %s' % (index_name, attr(current, 'modified_index'))
    if not hide_values:
        text += ' with value %r' % (attr(current, 'value'),)
    return text


def mismatch_message(key: str, endpoint: Optional[str], state: str, current: Any, decision: CasDecision,
                     prev_value: Optional[str] = None, prev_index: Optional[int] = None,
                     prev_exist: Optional[bool] = None, hide_values: bool = False, refresh_ttl: bool = False,
                     api_version: str = 'v2') -> str:
    """One line: operation, key, endpoint, the conditions, which failed, and the current index
    (``modifiedIndex`` on v2, ``mod_revision`` with ``api_version`` ``'v3'``)."""
    operation = 'compare-and-swap' if state == 'present' else 'compare-and-delete'
    if refresh_ttl:
        operation = 'conditional TTL refresh'
    where = ' at %s' % endpoint if endpoint else ''
    failed = ', '.join(decision.failed) or 'a condition'
    return ('%s of %s%s not done: condition %s not met (%s failed): %s'
            % (operation, key, where, describe_conditions(prev_value, prev_index, prev_exist, hide_values),
               failed, describe_current(current, hide_values, INDEX_NAMES.get(api_version, INDEX_NAMES['v2']))))
