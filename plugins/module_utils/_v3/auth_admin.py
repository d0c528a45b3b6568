# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Users, roles and the auth switch (a mixin of :class:`~plugins.module_utils.pyetcd3.Etcd3Client`).

Every call is a ``POST /auth/...`` and, once auth is on, needs a user with the root role.
Passwords go into request bodies only: never into a message, a subject, a repr or an exception
(etcd's own answers do not repeat them either).

Permissions are plain data (:func:`permission_dict`): ``key``/``range_end`` (text, or None when
not UTF-8 / not set), ``key_base64``/``range_end_base64`` (the exact bytes), ``type`` (``READ``,
``WRITE`` or ``READWRITE``) and ``prefix`` (True when ``range_end`` is the end of ``key`` as a
prefix, as ``etcdctl role grant-permission --prefix`` makes it). ``range_end`` ``"\\0"`` means
every key from ``key`` on.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import (
    check_bool,
    check_key,
    check_range_end,
    decode_bytes,
    decode_text,
    display,
    encode,
    prefix_range_end,
    to_int,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    EtcdAuthFailed,
    EtcdAuthNotEnabled,
    EtcdException,
    EtcdUnauthenticated,
    EtcdV3NotAvailable,
)

PERMISSION_TYPES = ('READ', 'WRITE', 'READWRITE')


def _name(value: Any, name: str) -> str:
    """A user or role name: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ClientException('%s must be a non-empty string, got %r' % (name, value))
    return value


def _password(value: Any, name: str = 'password') -> str:
    """A password: a non-empty string. The message never shows the value."""
    if not isinstance(value, str) or not value:
        got = 'an empty string' if value == '' else type(value).__name__
        raise ClientException('%s must be a non-empty string (got %s)' % (name, got))
    return value


def _text(data: bytes) -> Optional[str]:
    value = decode_text(data)
    return value if isinstance(value, str) else None


def _permission_range(key: Any, range_end: Any, prefix: Any) -> Dict[str, str]:
    """``key`` and ``range_end`` of a permission, base64 for the wire."""
    key_bytes = check_key(key)
    check_bool(prefix, 'prefix')
    end = check_range_end(range_end)
    if prefix:
        if end is not None:
            raise ClientException('give range_end or prefix=True, not both')
        end = prefix_range_end(key_bytes, 'key')
    body = {'key': encode(key_bytes)}
    if end is not None:
        body['range_end'] = encode(end, 'range_end')
    return body


def permission_dict(data: Any) -> Dict[str, Any]:
    """One permission of a ``role/get`` answer as plain data (see the module docstring)."""
    if not isinstance(data, dict):
        data = {}
    key = decode_bytes(data.get('key'), 'key')
    end = decode_bytes(data.get('range_end'), 'range_end')
    kind = data.get('permType') or 'READ'  # READ is 0: the gateway leaves it out
    if isinstance(kind, int) and 0 <= kind < len(PERMISSION_TYPES):
        kind = PERMISSION_TYPES[kind]
    return {
        'key': _text(key),
        'range_end': _text(end) if end else None,
        'key_base64': encode(key),
        'range_end_base64': encode(end) if end else None,
        'type': str(kind),
        'prefix': bool(end) and bool(key) and end == prefix_range_end(key),
    }


class AuthAdminMixin:
    """``auth_enable``, ``auth_disable``, ``auth_status``, ``auth_enabled``, ``check_password``, ``user_add``, ``user_get``,
    ``user_list``, ``user_delete``, ``user_change_password``, ``user_grant_role``,
    ``user_revoke_role``, ``role_add``, ``role_get``, ``role_list``, ``role_delete``,
    ``role_grant_permission``, ``role_revoke_permission``."""

    # -- the switch ---------------------------------------------------------------------------

    def auth_enable(self) -> None:
        """Turn auth on (``POST /auth/enable``). The client's own requests then need its
        ``username``/``password`` (it authenticates when etcd first asks for a token).

        :raises EtcdFailedPrecondition: ``root user does not exist`` / ``root user does not
            have root role``: add user ``root`` and grant it role ``root`` first.
        """
        self.call('/auth/enable', {}, write=True, subject='auth enable')

    def auth_disable(self) -> None:
        """Turn auth off (``POST /auth/disable``; needs the root role while auth is on).
        Users and roles stay; a later :meth:`auth_enable` applies them again."""
        self.call('/auth/disable', {}, write=True, subject='auth disable')

    def auth_status(self) -> Dict[str, Any]:
        """``{'enabled': bool, 'auth_revision': int}`` from ``POST /auth/status`` (etcd 3.5 and
        later; with auth on it needs a user).

        :raises EtcdV3NotAvailable: the member does not serve it (etcd 3.4 answers a plain 404).
        """
        try:
            data = self.call('/auth/status', {}, write=False, subject='auth status')
        except EtcdV3NotAvailable as exc:
            raise EtcdV3NotAvailable('auth_status needs etcd 3.5 or later: %s does not serve %s/auth/status (etcd '
                                     '3.4 has no such call; try authenticating or user_list instead)'
                                     % (exc.endpoint or 'the member', self.api_prefix), status=exc.status,
                                     endpoint=exc.endpoint, key='auth status') from None
        return {'enabled': bool(data.get('enabled', False)),
                'auth_revision': to_int(data.get('authRevision'), 'authRevision')}

    def auth_enabled(self) -> bool:
        """Whether auth is on: :meth:`auth_status` where the member has it (3.5 and later), else
        (3.4) what ``/auth/authenticate`` says: "authentication is not enabled" means off.

        :raises Etcd3Exception: the member could not tell (unreachable, refused).
        """
        try:
            return self.auth_status()['enabled']
        except EtcdV3NotAvailable:
            pass
        except EtcdUnauthenticated:
            return True  # a token is needed to ask: it is on
        try:
            self.call('/auth/authenticate', {'name': self.username or 'pyetcd-probe', 'password': self._password or ''},
                      write=False, subject='auth status (3.4)')
        except EtcdAuthNotEnabled:
            return False
        except (EtcdAuthFailed, EtcdUnauthenticated):
            return True
        return True

    def check_password(self, name: str, password: str) -> bool:
        """Whether ``password`` is user ``name``'s: one ``/auth/authenticate`` with them (the
        token it gets is dropped; the client's own token is not touched). False for a wrong
        password, an unknown user or a user without password.

        :raises EtcdAuthNotEnabled: auth is off, so etcd checks no password.
        """
        _name(name, 'name')
        body = {'name': name, 'password': _password(password)}
        try:
            self._post('/auth/authenticate', body, write=False, subject='authenticate user %s' % name)
        except EtcdAuthFailed:
            return False
        except EtcdException as exc:
            # A user made with no_password answers code 2 "password was given for no password user".
            if 'no password user' in str(exc):
                return False
            raise
        return True

    # -- users --------------------------------------------------------------------------------

    def user_add(self, name: str, password: Optional[str] = None, no_password: bool = False) -> None:
        """Add user ``name`` (``POST /auth/user/add``) with ``password``, or with
        ``no_password=True`` a user that cannot log in with a password (for client certificates,
        which the gateway does not accept when auth is on).

        :raises EtcdUserExists: the user exists already.
        :raises ClientException: no password and not ``no_password``, or both (nothing is sent).
        """
        _name(name, 'name')
        check_bool(no_password, 'no_password')
        body: Dict[str, Any] = {'name': name}
        if no_password:
            if password is not None:
                raise ClientException('give a password or no_password=True, not both')
            body['options'] = {'no_password': True}
        else:
            if password is None:
                raise ClientException('user_add needs a password (or no_password=True)')
            body['password'] = _password(password)
        self.call('/auth/user/add', body, write=True, subject='user %s' % name)

    def user_get(self, name: str) -> List[str]:
        """The roles of user ``name`` (``POST /auth/user/get``).

        :raises EtcdUserNotFound: no such user.
        """
        _name(name, 'name')
        data = self.call('/auth/user/get', {'name': name}, write=False, subject='user %s' % name)
        return list(data.get('roles') or [])

    def user_list(self) -> List[str]:
        """The names of all users (``POST /auth/user/list``)."""
        return list(self.call('/auth/user/list', {}, write=False, subject='users').get('users') or [])

    def user_delete(self, name: str) -> None:
        """Delete user ``name`` (``POST /auth/user/delete``).

        :raises EtcdUserNotFound: no such user.
        :raises EtcdFailedPrecondition: ``root`` while auth is on (etcd refuses).
        """
        _name(name, 'name')
        self.call('/auth/user/delete', {'name': name}, write=True, subject='user %s' % name)

    def user_change_password(self, name: str, password: str) -> None:
        """Set user ``name``'s password (``POST /auth/user/changepw``). The user's tokens stop
        working (this client authenticates again if it is that user).

        :raises EtcdUserNotFound: no such user.
        """
        _name(name, 'name')
        body = {'name': name, 'password': _password(password)}
        self.call('/auth/user/changepw', body, write=True, subject='user %s' % name)

    def user_grant_role(self, user: str, role: str) -> None:
        """Give ``user`` the role ``role`` (``POST /auth/user/grant``).

        :raises EtcdUserNotFound: / :raises EtcdRoleNotFound: no such user / role.
        """
        _name(user, 'user')
        _name(role, 'role')
        self.call('/auth/user/grant', {'user': user, 'role': role}, write=True, subject='user %s' % user)

    def user_revoke_role(self, user: str, role: str) -> None:
        """Take role ``role`` from ``user`` (``POST /auth/user/revoke``).

        :raises EtcdFailedPrecondition: ``role is not granted to the user``.
        :raises EtcdUserNotFound: no such user.
        """
        _name(user, 'user')
        _name(role, 'role')
        self.call('/auth/user/revoke', {'name': user, 'role': role}, write=True, subject='user %s' % user)

    # -- roles --------------------------------------------------------------------------------

    def role_add(self, name: str) -> None:
        """Add role ``name`` (``POST /auth/role/add``), without permissions.

        :raises EtcdRoleExists: the role exists already.
        """
        _name(name, 'name')
        self.call('/auth/role/add', {'name': name}, write=True, subject='role %s' % name)

    def role_get(self, name: str) -> List[Dict[str, Any]]:
        """The permissions of role ``name`` (``POST /auth/role/get``) as plain data (see the
        module docstring); [] for a role without any. The role ``root`` has none listed: it may
        do everything.

        :raises EtcdRoleNotFound: no such role.
        """
        _name(name, 'name')
        data = self.call('/auth/role/get', {'role': name}, write=False, subject='role %s' % name)
        perms = data.get('perm') or []
        return [permission_dict(item) for item in (perms if isinstance(perms, list) else [])]

    def role_list(self) -> List[str]:
        """The names of all roles (``POST /auth/role/list``)."""
        return list(self.call('/auth/role/list', {}, write=False, subject='roles').get('roles') or [])

    def role_delete(self, name: str) -> None:
        """Delete role ``name`` (``POST /auth/role/delete``); users that had it lose it.

        :raises EtcdRoleNotFound: no such role.
        """
        _name(name, 'name')
        self.call('/auth/role/delete', {'role': name}, write=True, subject='role %s' % name)

    def role_grant_permission(self, role: str, key: Any, range_end: Any = None, prefix: bool = False,
                              perm_type: str = 'readwrite') -> None:
        """Let ``role`` read and/or write ``key`` (``POST /auth/role/grant``): one key, the keys
        up to ``range_end`` (``"\\0"``: every key from ``key`` on), or every key starting with
        ``key`` (``prefix=True``). ``perm_type``: ``read``, ``write`` or ``readwrite``.
        Granting a range the role has already replaces its type.

        :raises EtcdRoleNotFound: no such role.
        :raises ClientException: a bad argument, or both ``range_end`` and ``prefix`` (nothing is sent).
        """
        _name(role, 'role')
        if not isinstance(perm_type, str) or perm_type.upper() not in PERMISSION_TYPES:
            raise ClientException('perm_type must be one of read, write, readwrite, got %r' % (perm_type,))
        perm = _permission_range(key, range_end, prefix)
        perm['permType'] = perm_type.upper()
        self.call('/auth/role/grant', {'name': role, 'perm': perm}, write=True,
                  subject='role %s, key %s' % (role, display(check_key(key))))

    def role_revoke_permission(self, role: str, key: Any, range_end: Any = None, prefix: bool = False) -> None:
        """Take from ``role`` the permission on exactly this key or range (``POST /auth/role/revoke``):
        ``key``, ``range_end`` and ``prefix`` as given to :meth:`role_grant_permission`.

        :raises EtcdFailedPrecondition: ``permission is not granted to the role``.
        :raises EtcdRoleNotFound: no such role.
        """
        _name(role, 'role')
        body = _permission_range(key, range_end, prefix)
        body['role'] = role
        self.call('/auth/role/revoke', body, write=True, subject='role %s, key %s' % (role, display(check_key(key))))


__all__ = ['AuthAdminMixin', 'PERMISSION_TYPES', 'permission_dict']
