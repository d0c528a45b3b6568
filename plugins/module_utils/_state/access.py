# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd's access control brought to a declared state: roles, users, the auth switch.

The logic of etcd_role, etcd_user and etcd_auth. Each reads what etcd has, plans the smallest
set of calls that reaches what the task declares (pure functions, unit tested), and sends them
unless in check mode. Nothing here imports Ansible.

Permissions are compared as etcd stores them: a key and a range end as bytes (no range end: one
key; the end of a prefix: every key starting with it) with a type (READ, WRITE, READWRITE). A
grant of a range the role already has replaces its type, so a changed type is one grant.

Passwords are checked by authenticating with them (a failed check means "change it", not an
error); they appear in no result, diff or message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import StateError
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import prefix_range_end, to_bytes
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    EtcdAuthNotEnabled, EtcdRoleNotFound, EtcdUserNotFound,
)

TYPES = ('read', 'write', 'readwrite')
ROOT = 'root'

# A permission as compared: (key bytes, range end bytes, b'' for one key).
Range = Tuple[bytes, bytes]


class AccessError(StateError):
    """A task that cannot be planned (bad permissions, a refused change); one line."""


# -- permissions --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Permission:
    """One permission of a role: ``key`` and ``range_end`` as bytes, ``type`` in lower case."""

    key: bytes
    range_end: bytes
    type: str

    @property
    def range(self) -> Range:
        return (self.key, self.range_end)

    def to_dict(self) -> Dict[str, Any]:
        """As the module returns it: ``prefix`` when the range is one, else ``key`` (and ``range_end``)."""
        key = self.key.decode('utf-8', 'replace')
        if self.range_end and self.key and self.range_end == prefix_range_end(self.key):
            return {'prefix': key, 'type': self.type}
        data = {'key': key, 'type': self.type}
        if self.range_end:
            data['range_end'] = self.range_end.decode('utf-8', 'replace')
        return data

    def call_arguments(self) -> Dict[str, Any]:
        """Keyword arguments of ``role_grant_permission``/``role_revoke_permission``."""
        return {'key': self.key, 'range_end': self.range_end or None}


def wanted_permissions(items: Optional[Sequence[Any]], role: str) -> List[Permission]:
    """The task's ``permissions`` checked and converted; raises AccessError naming the entry.

    Each entry is ``{key: K}`` (one key), ``{prefix: P}`` (every key starting with P),
    ``{key: K, range_end: E}`` (K up to, not including, E; ``"\\0"``: every key from K on), with
    ``type`` read, write or readwrite.
    """
    result: Dict[Range, Permission] = {}
    for number, item in enumerate(items or [], 1):
        where = 'permissions[%d] of role %s' % (number, role)
        if not isinstance(item, dict):
            raise AccessError('%s must be a dict with key or prefix, and type; got %r' % (where, item))
        unknown = sorted(set(item) - {'key', 'prefix', 'range_end', 'type'})
        if unknown:
            raise AccessError('%s has unknown field%s %s (expected key, prefix, range_end, type)'
                              % (where, 's' if len(unknown) > 1 else '', ', '.join(unknown)))
        kind = item.get('type')
        if not isinstance(kind, str) or kind.lower() not in TYPES:
            raise AccessError('%s needs type read, write or readwrite, got %r' % (where, kind))
        key, prefix, end = item.get('key'), item.get('prefix'), item.get('range_end')
        if (key is None) == (prefix is None):
            raise AccessError('%s needs exactly one of key or prefix' % where)
        if prefix is not None and end is not None:
            raise AccessError('%s: range_end goes with key, not with prefix' % where)
        text = key if key is not None else prefix
        if not isinstance(text, str) or not text:
            raise AccessError('%s: %s must be a non-empty string' % (where, 'key' if key is not None else 'prefix'))
        if end is not None and (not isinstance(end, str) or not end):
            raise AccessError('%s: range_end must be a non-empty string ("\\0" for every key from key on)' % where)
        start = to_bytes(text, 'key')
        if prefix is not None:
            stop = prefix_range_end(start)
        else:
            stop = to_bytes(end, 'range_end') if end is not None else b''
        if stop and stop != b'\0' and stop <= start:
            raise AccessError('%s: range_end %r is not after key %r' % (where, end, text))
        permission = Permission(start, stop, kind.lower())
        if permission.range in result and result[permission.range] != permission:
            raise AccessError('%s gives the range of an earlier entry another type' % where)
        result[permission.range] = permission
    return list(result.values())


def current_permissions(listed: Sequence[Dict[str, Any]]) -> List[Permission]:
    """``role_get``'s answer as :class:`Permission` objects."""
    import base64  # pylint: disable=import-outside-toplevel
    found = []
    for item in listed:
        key = base64.b64decode(item.get('key_base64') or '')
        end = base64.b64decode(item.get('range_end_base64') or '') if item.get('range_end_base64') else b''
        found.append(Permission(key, end, str(item.get('type') or 'READ').lower()))
    return found


@dataclass
class RolePlan:
    """The calls that bring one role to the declared state."""

    create: bool = False
    delete: bool = False
    grant: List[Permission] = field(default_factory=list)
    revoke: List[Permission] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.create or self.delete or bool(self.grant) or bool(self.revoke)


def plan_role(exists: bool, current: Sequence[Permission], state: str, wanted: Optional[Sequence[Permission]],
              exclusive: bool) -> RolePlan:
    """Create/delete the role, grant what is missing or of another type, revoke (with
    ``exclusive``) what is not wanted. ``wanted`` None leaves the permissions alone."""
    if state == 'absent':
        return RolePlan(delete=exists)
    plan = RolePlan(create=not exists)
    if wanted is None:
        return plan
    have = {perm.range: perm for perm in current}
    plan.grant = [perm for perm in wanted if have.get(perm.range) != perm]
    if exclusive:
        keep = {perm.range for perm in wanted}
        plan.revoke = [perm for perm in current if perm.range not in keep]
    return plan


def ensure_role(client: Any, name: str, state: str = 'present', permissions: Optional[Sequence[Any]] = None,
                exclusive: bool = True, check_mode: bool = False) -> Dict[str, Any]:
    """Bring role ``name`` to the declared state; returns the module's result."""
    if name == ROOT and permissions is not None:
        raise AccessError('role root may do everything and takes no permissions; leave permissions out')
    wanted = None if permissions is None else wanted_permissions(permissions, name)
    try:
        current = current_permissions(client.role_get(name))
        exists = True
    except EtcdRoleNotFound:
        current, exists = [], False
    plan = plan_role(exists, current, state, wanted, exclusive)
    if not check_mode:
        if plan.delete:
            client.role_delete(name)
        if plan.create:
            client.role_add(name)
        # Revoke first: a grant of the same range with another type is not in revoke.
        for perm in plan.revoke:
            client.role_revoke_permission(name, **perm.call_arguments())
        for perm in plan.grant:
            client.role_grant_permission(name, perm_type=perm.type, **perm.call_arguments())
    before = [perm.to_dict() for perm in current] if exists else None
    if state == 'absent':
        after = None
    else:
        granted = {perm.range for perm in plan.grant}
        kept = [perm for perm in current if perm not in plan.revoke and perm.range not in granted]
        after = [perm.to_dict() for perm in kept + plan.grant]
    return {
        'changed': plan.changed,
        'role': name,
        'permissions': after,
        'granted': [perm.to_dict() for perm in plan.grant],
        'revoked': [perm.to_dict() for perm in plan.revoke],
        'diff': {'before': {'state': 'present' if exists else 'absent', 'permissions': before},
                 'after': {'state': state, 'permissions': after},
                 'before_header': 'role %s' % name, 'after_header': 'role %s' % name},
    }


# -- users --------------------------------------------------------------------------------------

@dataclass
class UserPlan:
    create: bool = False
    delete: bool = False
    password: bool = False
    grant: List[str] = field(default_factory=list)
    revoke: List[str] = field(default_factory=list)
    password_unchecked: bool = False

    @property
    def changed(self) -> bool:
        return self.create or self.delete or self.password or bool(self.grant) or bool(self.revoke)


def plan_user(exists: bool, current_roles: Sequence[str], state: str, roles: Optional[Sequence[str]], exclusive: bool,
              password_matches: Optional[bool], update_password: str, has_password: bool) -> UserPlan:
    """The calls for one user. ``password_matches``: True/False when checked, None when it could
    not be (auth off) or no password is given."""
    if state == 'absent':
        return UserPlan(delete=exists)
    plan = UserPlan(create=not exists)
    if exists and has_password and update_password == 'always':
        if password_matches is None:
            plan.password, plan.password_unchecked = True, True
        else:
            plan.password = not password_matches
    if roles is not None:
        have = list(current_roles) if exists else []
        plan.grant = [role for role in roles if role not in have]
        if exclusive:
            plan.revoke = [role for role in have if role not in roles]
    return plan


def ensure_user(client: Any, name: str, state: str = 'present', password: Optional[str] = None,
                no_password: bool = False, roles: Optional[Sequence[str]] = None, exclusive_roles: bool = True,
                update_password: str = 'always', check_mode: bool = False) -> Dict[str, Any]:
    """Bring user ``name`` to the declared state; returns the module's result (no password in it)."""
    if roles is not None:
        roles = list(dict.fromkeys(roles))
        bad = [role for role in roles if not isinstance(role, str) or not role]
        if bad:
            raise AccessError('roles of user %s must be non-empty strings, got %r' % (name, bad[0]))
    try:
        current_roles = client.user_get(name)
        exists = True
    except EtcdUserNotFound:
        current_roles, exists = [], False
    if state == 'present' and not exists and password is None and not no_password:
        raise AccessError('user %s does not exist: give user_password (or no_password: true) to create it' % name)
    matches: Optional[bool] = None
    if exists and state == 'present' and password is not None and update_password == 'always':
        try:
            matches = client.check_password(name, password)
        except EtcdAuthNotEnabled:
            matches = None  # auth is off: etcd checks no password, so it is set again
    plan = plan_user(exists, current_roles, state, roles, exclusive_roles, matches, update_password,
                     password is not None)
    if plan.grant:
        known = set(client.role_list())
        # Role root needs no role/add: etcd knows it.
        missing = [role for role in plan.grant if role not in known and role != ROOT]
        if missing:
            raise AccessError('user %s: no such role%s %s; create %s with pyetcd.etcd.etcd_role first'
                              % (name, 's' if len(missing) > 1 else '', ', '.join(missing),
                                 'them' if len(missing) > 1 else 'it'))
    if not check_mode:
        if plan.delete:
            client.user_delete(name)
        if plan.create:
            client.user_add(name, password=None if no_password else password, no_password=no_password)
        if plan.password:
            client.user_change_password(name, password)
        for role in plan.revoke:
            client.user_revoke_role(name, role)
        for role in plan.grant:
            client.user_grant_role(name, role)
    after_roles = None if state == 'absent' else [r for r in (current_roles if exists else []) if r not in plan.revoke] + plan.grant
    return {
        'changed': plan.changed,
        'user': name,
        'roles': after_roles,
        'created': plan.create,
        'password_changed': plan.password,
        'password_checked': not plan.password_unchecked,
        'granted_roles': plan.grant,
        'revoked_roles': plan.revoke,
        'diff': {'before': {'state': 'present' if exists else 'absent', 'roles': list(current_roles) if exists else None},
                 'after': {'state': state, 'roles': after_roles,
                           **({'password': '<changed>'} if plan.password else {})},
                 'before_header': 'user %s' % name, 'after_header': 'user %s' % name},
    }


# -- the switch ---------------------------------------------------------------------------------

def ensure_auth(client: Any, state: str, check_mode: bool = False) -> Dict[str, Any]:
    """Turn auth on (``enabled``) or off (``disabled``). Enabling needs user root with role
    root: without it etcd would refuse, and this says how to create them first."""
    enabled = client.auth_enabled()
    want = state == 'enabled'
    if want and not enabled:
        try:
            roles = client.user_get(ROOT)
        except EtcdUserNotFound:
            roles = None
        if roles is None or ROOT not in roles:
            raise AccessError('auth cannot be enabled: %s; create it first: pyetcd.etcd.etcd_user with name: root, '
                              'password: <a secret>, roles: [root]'
                              % ('there is no user root' if roles is None else 'user root does not have the role root'),
                              category='precondition')
    changed = want != enabled
    if changed and not check_mode:
        if want:
            client.auth_enable()
        else:
            client.auth_disable()
    before = 'enabled' if enabled else 'disabled'
    return {'changed': changed, 'state': state, 'previous_state': before,
            'diff': {'before': {'auth': before}, 'after': {'auth': state}}}
