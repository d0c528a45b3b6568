#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
module: etcd_role
short_description: Manage an etcd v3 role and its key permissions
version_added: 0.2.0
description:
  - Makes an etcd role exist with exactly the declared permissions (or, with O(exclusive=false), at
    least them), or makes sure it does not exist.
  - Reads the role's permissions first and sends only the grants and revokes of the difference; a
    permission whose range is right but whose type differs is one grant (etcd replaces the type).
    A re-run reports ok and sends nothing.
  - Needs O(api_version=v3). With authentication on, the connection's user needs the C(root) role.
author:
  - pyetcd.etcd contributors (!UNKNOWN)
extends_documentation_fragment:
  - pyetcd.etcd.connection
attributes:
  check_mode:
    support: full
    description: Reads the role and reports the grants and revokes it would send; sends none.
  diff_mode:
    support: full
    description: Shows the role's state and permissions before and after.
  idempotent:
    support: full
    description: A re-run with the same options reports no change and sends no write.
  action_group:
    support: full
    description: Connection options can be set once for the play with C(module_defaults) for C(group/pyetcd.etcd.etcd).
    membership:
      - pyetcd.etcd.etcd
options:
  name:
    description:
      - Name of the role. The role V(root) may do everything and takes no O(permissions).
    type: str
    required: true
    version_added: 0.2.0
  state:
    description:
      - V(present) makes the role exist (with O(permissions)); V(absent) deletes it, and users that had it lose it.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.2.0
  permissions:
    description:
      - The key permissions of the role. Each item names one key (O(permissions[].key)), a range
        (O(permissions[].key) with O(permissions[].range_end)) or every key starting with a prefix
        (O(permissions[].prefix)), and a O(permissions[].type).
      - Not given, the role's permissions are left as they are.
      - Keys are v3 keys, verbatim (V(/app/) and V(app/) are different prefixes).
    type: list
    elements: dict
    version_added: 0.2.0
    suboptions:
      key:
        description: One key, or with O(permissions[].range_end) the first key of a range.
        type: str
      prefix:
        description: Every key that starts with this (as C(etcdctl role grant-permission --prefix)).
        type: str
      range_end:
        description:
          - With O(permissions[].key), the end of the range (not included). V("\\0") means every key from
            O(permissions[].key) on.
        type: str
      type:
        description: What the role may do there.
        type: str
        required: true
        choices: [read, write, readwrite]
  exclusive:
    description:
      - With V(true), permissions the role has that are not in O(permissions) are revoked. With V(false)
        they are kept and O(permissions) are only added.
    type: bool
    default: true
    version_added: 0.2.0
seealso:
  - module: pyetcd.etcd.etcd_user
  - module: pyetcd.etcd.etcd_auth
  - name: etcd role-based access control
    description: etcd's own description of users, roles and permissions.
    link: https://etcd.io/docs/v3.5/op-guide/authentication/rbac/
'''

EXAMPLES = r'''
- name: A role that may read the app configuration and nothing else
  pyetcd.etcd.etcd_role:
    api_version: v3
    host: 127.0.0.1:2379
    name: app-reader
    permissions:
      - prefix: /config/app/
        type: read

- name: A deployer may change the release pointer and the locks, and read the configuration
  pyetcd.etcd.etcd_role:
    api_version: v3
    name: deployer
    permissions:
      - key: /services/web/release
        type: readwrite
      - prefix: /locks/
        type: readwrite
      - prefix: /config/
        type: read

- name: The role root must exist before auth is enabled
  pyetcd.etcd.etcd_role:
    api_version: v3
    name: root

- name: An old role, gone
  pyetcd.etcd.etcd_role:
    api_version: v3
    name: legacy
    state: absent
'''

RETURN = r'''
role:
  description: The role's name.
  returned: always
  type: str
  sample: app-reader
permissions:
  description:
    - The role's permissions after the task (predicted in check mode); V(null) when the role is absent.
    - Each has O(permissions[].type) and either C(prefix), or C(key) (and C(range_end) for a range).
  returned: always
  type: list
  elements: dict
  sample: [{prefix: /config/app/, type: read}]
granted:
  description: The permissions granted (or, in check mode, that would be).
  returned: always
  type: list
  elements: dict
  sample: [{prefix: /config/app/, type: read}]
revoked:
  description: The permissions revoked (or, in check mode, that would be).
  returned: always
  type: list
  elements: dict
  sample: []
'''

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.module import ERRORS, EtcdModule
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.access import ensure_role


def main() -> None:
    module = EtcdModule({
        'name': {'type': 'str', 'required': True},
        'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
        'permissions': {'type': 'list', 'elements': 'dict', 'options': {
            'key': {'type': 'str', 'no_log': False},
            'prefix': {'type': 'str'},
            'range_end': {'type': 'str'},
            'type': {'type': 'str', 'required': True, 'choices': ['read', 'write', 'readwrite']},
        }},
        'exclusive': {'type': 'bool', 'default': True},
    })
    module.require_v3('etcd_role')
    params = module.params
    # The argument spec fills unset suboptions with None: keep only what the task gave.
    permissions = None if params['permissions'] is None else [
        {name: value for name, value in item.items() if value is not None} for item in params['permissions']]
    try:
        with module.client() as client:
            result = ensure_role(client, params['name'], params['state'], permissions, params['exclusive'],
                                 check_mode=module.check_mode)
    except ERRORS as exc:
        module.fail_from(exc)
    module.exit_with_diff(result)


if __name__ == '__main__':
    main()
