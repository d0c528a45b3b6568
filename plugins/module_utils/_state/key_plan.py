# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of the etcd_key module, as a pure function: :func:`plan_key` (nothing is sent here).

From the node read at the key (or ``None`` when it is missing) and what the task wants
(:class:`DesiredKey`), :func:`plan_key` names the single write needed, or none.

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
from typing import Any, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.cas_plan import renewal_due
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import StateError

NONE = 'none'
CREATE = 'create'
UPDATE = 'update'
SET_TTL = 'set_ttl'
REMOVE_TTL = 'remove_ttl'
REFRESH_TTL = 'refresh_ttl'
DELETE = 'delete'


class KeyStateError(StateError):
    """The declared state cannot be reached (the key is a directory, another writer keeps
    changing it...). ``str()`` is a one-line message naming the key; ``category`` names the
    cause in a few words for ``describe_error``."""


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
    """Decide the write that brings ``current`` (the node read, or None when the key does
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
