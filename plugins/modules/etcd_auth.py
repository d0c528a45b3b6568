#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
module: etcd_auth
short_description: Turn etcd v3 authentication on or off
version_added: 0.2.0
description:
  - Makes etcd's authentication enabled or disabled. Reads the current state first (etcd 3.5's
    auth status; on etcd 3.4, which has none, what an authentication attempt answers) and changes it
    only when it differs.
  - Enabling needs a user C(root) that has the role C(root); without one the task fails before
    sending anything and says how to create it with M(pyetcd.etcd.etcd_user).
  - Once authentication is on, every request needs a user; give O(username) and O(password) (the
    user C(root) to change users, roles and this switch). The same credentials work while
    authentication is still off, so one play can create the users, enable authentication and go on.
  - Needs O(api_version=v3).
author:
  - pyetcd.etcd contributors (!UNKNOWN)
extends_documentation_fragment:
  - pyetcd.etcd.connection
attributes:
  check_mode:
    support: full
    description: Reads the state (and checks for user root) and reports whether it would change it.
  diff_mode:
    support: full
    description: Shows the state before and after.
  idempotent:
    support: full
    description: A re-run reports no change.
  action_group:
    support: full
    description: Connection options can be set once for the play with C(module_defaults) for C(group/pyetcd.etcd.etcd).
    membership:
      - pyetcd.etcd.etcd
options:
  state:
    description: V(enabled) turns authentication on, V(disabled) off (users and roles stay).
    type: str
    choices: [enabled, disabled]
    required: true
    version_added: 0.2.0
notes:
  - etcd's JSON gateway, which this collection talks to, rejects a client certificate that has a common name
    while authentication is on (HTTP 400 "CommonName of client sending a request against gateway will be
    ignored"). With C(--client-cert-auth) and authentication together, use client certificates without a
    common name and O(username)/O(password).
seealso:
  - module: pyetcd.etcd.etcd_user
  - module: pyetcd.etcd.etcd_role
'''

EXAMPLES = r'''
- name: Users and roles first (etcd_user, etcd_role), then the switch
  pyetcd.etcd.etcd_user:
    api_version: v3
    host: 127.0.0.1:2379
    name: root
    user_password: "{{ vault_etcd_root_password }}"
    roles: [root]

- name: Turn authentication on (the credentials also work while it is still off)
  pyetcd.etcd.etcd_auth:
    api_version: v3
    state: enabled
    username: root
    password: "{{ vault_etcd_root_password }}"

- name: And off again
  pyetcd.etcd.etcd_auth:
    api_version: v3
    state: disabled
    username: root
    password: "{{ vault_etcd_root_password }}"
'''

RETURN = r'''
state:
  description: The state the task asked for, which authentication is now in (or would be, in check mode).
  returned: always
  type: str
  sample: enabled
previous_state:
  description: The state before the task.
  returned: always
  type: str
  sample: disabled
'''

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.module import ERRORS, EtcdModule
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.access import ensure_auth


def main() -> None:
    module = EtcdModule({'state': {'type': 'str', 'required': True, 'choices': ['enabled', 'disabled']}})
    module.require_v3('etcd_auth')
    try:
        with module.client() as client:
            result = ensure_auth(client, module.params['state'], check_mode=module.check_mode)
    except ERRORS as exc:
        module.fail_from(exc)
    module.exit_with_diff(result)


if __name__ == '__main__':
    main()
