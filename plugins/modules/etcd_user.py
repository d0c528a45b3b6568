#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
module: etcd_user
short_description: Manage an etcd v3 user, its password and its roles
version_added: 0.2.0
description:
  - Makes an etcd user exist with a password (or none, for certificate-only users) and the declared
    roles, or makes sure it does not exist.
  - The password (O(user_password)) is idempotent. An existing user's password is checked by authenticating with it; a
    failed check is not an error, it means the password is changed. With authentication off etcd
    checks no password, so an existing user's password is set again and the task reports a change
    (with O(update_password=always)); once authentication is on, a re-run is ok.
  - The password never appears in the output, the diff or a message, also with C(-vvv).
  - Needs O(api_version=v3). With authentication on, the connection's user needs the C(root) role.
author:
  - pyetcd.etcd contributors (!UNKNOWN)
extends_documentation_fragment:
  - pyetcd.etcd.connection
attributes:
  check_mode:
    support: full
    description: Reads the user (and checks the password) and reports what it would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the user's state and roles before and after, and C(password=<changed>) when it would change.
  idempotent:
    support: full
    description:
      - A re-run reports no change while authentication is on. With authentication off, a given password of an
        existing user cannot be checked and is set again (a change), unless O(update_password=on_create).
  action_group:
    support: full
    description: Connection options can be set once for the play with C(module_defaults) for C(group/pyetcd.etcd.etcd).
    membership:
      - pyetcd.etcd.etcd
options:
  name:
    description: Name of the user.
    type: str
    required: true
    version_added: 0.2.0
  user_password:
    description:
      - The password of the user O(name). Needed to create a user, unless O(no_password=true).
      - Given for an existing user, it is checked and changed when it differs (see O(update_password)).
      - Not called C(password), because O(password) is the connection's own credential (the user the module
        logs in as, often set for the whole play with C(module_defaults)); a shared name would let that
        credential become the managed user's password.
    type: str
    version_added: 0.2.0
  no_password:
    description:
      - Create the user without a password, so that it cannot authenticate with one (for users that connect
        with a client certificate; note that etcd's JSON gateway, which this collection uses, rejects
        certificates with a common name while authentication is on).
      - Only applies when the user is created; an existing user is not changed.
    type: bool
    default: false
    version_added: 0.2.0
  update_password:
    description:
      - V(always) checks the password of an existing user and changes it when it differs; V(on_create) sets it only
        when the user is created.
    type: str
    choices: [always, on_create]
    default: always
    version_added: 0.2.0
  roles:
    description:
      - Roles the user must have. Each must exist (see M(pyetcd.etcd.etcd_role)).
      - Not given, the user's roles are left as they are.
    type: list
    elements: str
    version_added: 0.2.0
  exclusive_roles:
    description:
      - With V(true), roles the user has that are not in O(roles) are revoked; with V(false) O(roles) are only added.
    type: bool
    default: true
    version_added: 0.2.0
  state:
    description: V(present) makes the user exist; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.2.0
notes:
  - etcd refuses to delete user V(root) while authentication is on.
seealso:
  - module: pyetcd.etcd.etcd_role
  - module: pyetcd.etcd.etcd_auth
'''

EXAMPLES = r'''
- name: The root user, which authentication needs
  pyetcd.etcd.etcd_user:
    api_version: v3
    host: 127.0.0.1:2379
    name: root
    user_password: "{{ vault_etcd_root_password }}"
    roles: [root]

- name: The role of the application's user
  pyetcd.etcd.etcd_role:
    api_version: v3
    name: app-reader
    permissions:
      - prefix: /config/app/
        type: read

- name: A read-only user for the application
  pyetcd.etcd.etcd_user:
    api_version: v3
    name: app
    user_password: "{{ vault_etcd_app_password }}"
    roles: [app-reader]

- name: Set the password only when the user is created (a rotated password is kept)
  pyetcd.etcd.etcd_user:
    api_version: v3
    name: batch
    user_password: "{{ vault_etcd_batch_password }}"
    update_password: on_create

- name: A user that was removed
  pyetcd.etcd.etcd_user:
    api_version: v3
    name: former-colleague
    state: absent
'''

RETURN = r'''
user:
  description: The user's name.
  returned: always
  type: str
  sample: app
roles:
  description: The user's roles after the task (predicted in check mode); V(null) when the user is absent.
  returned: always
  type: list
  elements: str
  sample: [app-reader]
created:
  description: Whether the user was (or in check mode would be) created.
  returned: always
  type: bool
  sample: false
password_changed:
  description: Whether the password was (or would be) set on an existing user.
  returned: always
  type: bool
  sample: false
password_checked:
  description: V(false) when the password of an existing user could not be checked because authentication is off.
  returned: always
  type: bool
  sample: true
granted_roles:
  description: Roles granted (or that would be).
  returned: always
  type: list
  elements: str
  sample: [app-reader]
revoked_roles:
  description: Roles revoked (or that would be).
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.module import ERRORS, EtcdModule
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.access import ensure_user


def main() -> None:
    module = EtcdModule({
        'name': {'type': 'str', 'required': True},
        'user_password': {'type': 'str', 'no_log': True},
        'no_password': {'type': 'bool', 'default': False, 'no_log': False},
        'update_password': {'type': 'str', 'default': 'always', 'choices': ['always', 'on_create'], 'no_log': False},
        'roles': {'type': 'list', 'elements': 'str'},
        'exclusive_roles': {'type': 'bool', 'default': True},
        'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
    }, mutually_exclusive=[['user_password', 'no_password']])
    module.require_v3('etcd_user')
    params = module.params
    module.hide_values([params['user_password']])
    try:
        with module.client() as client:
            result = ensure_user(client, params['name'], params['state'], password=params['user_password'],
                                 no_password=params['no_password'], roles=params['roles'],
                                 exclusive_roles=params['exclusive_roles'], update_password=params['update_password'],
                                 check_mode=module.check_mode)
    except ERRORS as exc:
        module.fail_from(exc)
    module.exit_with_diff(result)


if __name__ == '__main__':
    main()
