#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
module: etcd_key
short_description: Set or remove one etcd key (v2 keys API or v3 store)
version_added: 0.1.0
description:
  - Makes one etcd key hold a value (optionally with a TTL), or makes sure it does not exist.
  - The key is read first (a quorum read); the module writes only when the value differs or the
    TTL must be set or removed, so a second run with the same options reports no change.
  - Every write is conditional on the C(modifiedIndex) that was read (a key that was absent is
    created with C(prevExist=false)). If another writer changes the key in between, the module
    reads and decides again, up to three times, so the returned RV(prev_node) and diff
    always describe the node that was actually replaced.
  - A directory is never treated as a key; use M(pyetcd.etcd.etcd_dir) for directories.
  - "With O(api_version=v3): the key is used verbatim (V(config/app) and V(/config/app) are different keys); every
    write is one transaction guarded by what was read (C(MOD ==) the C(mod_revision) read, or C(CREATE == 0) for a
    key that was absent); a TTL is a lease (see O(ttl) and O(refresh_ttl)); RV(node) gains the v3 fields and
    RV(revision) is returned."
author:
  - pyetcd.etcd contributors (!UNKNOWN)
extends_documentation_fragment:
  - pyetcd.etcd.connection
attributes:
  check_mode:
    support: full
    description: Reads the key and reports what would change; nothing is written.
  diff_mode:
    support: full
    description: Shows state, value and TTL before and after. Values are hidden when O(sensitive=true).
  idempotent:
    support: full
    description: A re-run with the same options reports no change, including with O(ttl) (see there).
  action_group:
    support: full
    description: Connection options can be set once for the play with C(module_defaults) for C(group/pyetcd.etcd.etcd).
    membership:
      - pyetcd.etcd.etcd
options:
  key:
    description:
      - Path of the key, for example V(/config/app/port). On v2 a missing leading V(/) is added.
      - With O(api_version=v3) the key is used verbatim; nothing is added or stripped.
    type: str
    required: true
    version_added: 0.1.0
  value:
    description:
      - Value the key must hold. Required with O(state=present).
      - etcd stores strings. Strings are stored as given, integers and floats as their decimal text,
        and booleans as V(true) or V(false) (the rule of M(pyetcd.etcd.etcd_dir)). Lists, dictionaries
        and null are refused with a message naming the option; pass structures as JSON text, for
        example V({{ my_list | to_json }}).
    type: raw
    version_added: 0.1.0
  state:
    description:
      - V(present) makes the key exist with O(value) (and O(ttl)); V(absent) deletes it if it exists.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  ttl:
    description:
      - Seconds after which etcd deletes the key. Must be at least V(1).
      - When the key already holds O(value) and already expires within O(ttl) seconds, it is left
        alone, so a re-run does not push the expiry forward and reports no change. A key that
        expires later than O(ttl) seconds from now, or that never expires, gets the TTL set.
      - Writing a new value resets the TTL to O(ttl).
      - When omitted, the key must be permanent, so an existing TTL is removed.
      - With O(api_version=v3), a lease of O(ttl) seconds is granted and the key is put with it (setting or
        shortening a TTL is a put with a new lease; removing it is a put without one). The key's time left is
        its lease's. When the put is refused because the key changed, the new lease is revoked again.
    type: int
    version_added: 0.1.0
  refresh_ttl:
    description:
      - Renew the TTL of a key that already holds O(value) to O(ttl) (a heartbeat or a service
        registration). Uses etcd's TTL refresh, which does not notify watchers.
      - "Renewal rule (shared with M(pyetcd.etcd.etcd_cas)): a key that holds O(value) with at least half of
        O(ttl) seconds left, and not more than O(ttl), is left alone and reported ok; with less than half
        left, or more than O(ttl), its TTL is refreshed to O(ttl) and reported changed. Run the task more
        often than every O(ttl)/2 seconds and the key stays alive, reporting a change only about every
        O(ttl)/2 seconds, not on every run. Raising O(ttl) above twice the time left renews at once."
      - A key without a TTL gets it set (a write of O(value) with O(ttl)).
      - The refresh is conditional on the C(modifiedIndex) read, like every write of this module; it
        does not check who holds the key. To renew a lock only while you hold it, use
        M(pyetcd.etcd.etcd_cas) with its O(pyetcd.etcd.etcd_cas#module:refresh_ttl) and
        O(pyetcd.etcd.etcd_cas#module:prev_value) options.
      - "With O(api_version=v3): when the key's lease is its own (it holds no other key) and was granted for O(ttl)
        seconds, a transaction checks that the key is unchanged (C(MOD ==) the C(mod_revision) read, C(LEASE ==) its
        lease), then the lease is kept alive (a lease keep-alive: no write, no new revision, watchers are not woken).
        Otherwise (a lease granted for another TTL, a lease shared with other keys, or no lease) the value is put
        again with a new lease of O(ttl) seconds, which is a write with a new C(mod_revision); a shared lease is
        never kept alive, so keys the task did not name are not extended."
      - Requires O(ttl).
    type: bool
    default: false
    version_added: 0.1.0
  sensitive:
    description:
      - Treat the value as secret; hide the old and new values in the diff, in the returned nodes,
        in the returned C(invocation) and in error messages. Key names are never masked, even when
        they contain the value's text.
    type: bool
    default: false
    version_added: 0.1.0
notes:
  - Keys are sent URL-encoded, so spaces, V(?), V(#), V(%), V(&) and unicode are safe in keys and values.
    With O(api_version=v3), keys and values are sent base64-encoded, so any text is safe.
seealso:
  - module: pyetcd.etcd.etcd_dir
  - module: pyetcd.etcd.etcd_cas
  - module: pyetcd.etcd.etcd_info
  - plugin: pyetcd.etcd.etcd
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Set a key
  pyetcd.etcd.etcd_key:
    host: 127.0.0.1:2379
    key: /config/app/port
    value: "8080"

- name: Set a key that expires after an hour unless refreshed
  pyetcd.etcd.etcd_key:
    key: /locks/backup
    value: "{{ inventory_hostname }}"
    ttl: 3600

- name: Keep a service registration alive (renewed when less than half of the TTL is left)
  pyetcd.etcd.etcd_key:
    key: /alive/{{ inventory_hostname }}
    value: up
    ttl: 30
    refresh_ttl: true

- name: A boolean is stored as the text true
  pyetcd.etcd.etcd_key:
    key: /config/app/debug
    value: true

- name: A list goes in as JSON text
  pyetcd.etcd.etcd_key:
    key: /config/app/upstreams
    value: "{{ ['10.0.0.1:80', '10.0.0.2:80'] | to_json }}"

- name: Store a secret without showing it in diffs or output
  pyetcd.etcd.etcd_key:
    key: /config/app/db_password
    value: "{{ vault_db_password }}"
    sensitive: true

- name: Remove a key
  pyetcd.etcd.etcd_key:
    key: /config/app/legacy
    state: absent

- name: Keep a v3 service registration alive (the key holds its own lease of 30 seconds)
  pyetcd.etcd.etcd_key:
    api_version: v3
    key: alive/{{ inventory_hostname }}
    value: up
    ttl: 30
    refresh_ttl: true
  register: registration

- name: The lease and the revision of the write
  ansible.builtin.debug:
    msg: "lease {{ registration.node.lease }} at revision {{ registration.revision }}"

- name: Set the connection once for every pyetcd.etcd module of a play
  module_defaults:
    group/pyetcd.etcd.etcd:
      host:
        - https://etcd1.example.com:2379
        - https://etcd2.example.com:2379
      ca_cert: /etc/etcd/ca.pem
      username: app
      password: "{{ etcd_password }}"
  block:
    - name: Set a key on the cluster
      pyetcd.etcd.etcd_key:
        key: /config/app/mode
        value: production
'''

RETURN = r'''
key:
  description: The key, with a leading V(/) on v2; as given with O(api_version=v3).
  returned: always
  type: str
  sample: /config/app/port
action:
  description:
    - The write performed (or, in check mode, that would be performed).
    - One of V(none), V(create), V(update), V(set_ttl), V(remove_ttl), V(refresh_ttl), V(delete).
  returned: always
  type: str
  sample: update
node:
  description:
    - The key after the task, as etcd answered the write; V(null) when the key does not exist
      afterwards.
    - In check mode, the predicted node; indexes and expiration of a write that was not made are V(null).
    - The value is V(<hidden>) when O(sensitive=true).
    - "With O(api_version=v3) the node also has C(create_revision), C(mod_revision), C(version) (writes since the
      key was created) and C(lease) (the lease ID, V(0) for none); C(created_index) and C(modified_index) repeat the
      two revisions and C(ttl) is the seconds the lease has left. A value that is not UTF-8 is V(null), with its bytes
      in C(value_base64)."
  returned: always
  type: dict
  sample:
    key: /config/app/port
    value: "8080"
    dir: false
    created_index: 7
    modified_index: 12
    ttl: null
    expiration: null
prev_node:
  description:
    - The key as read before the task; V(null) when it did not exist.
    - The value is V(<hidden>) when O(sensitive=true).
  returned: always
  type: dict
  sample:
    key: /config/app/port
    value: "8000"
    dir: false
    created_index: 7
    modified_index: 7
    ttl: null
    expiration: null
revision:
  description:
    - The store revision of etcd's last answer, the write's transaction when one was sent (else the read).
  returned: always, with O(api_version=v3)
  type: int
  sample: 12
'''

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.module import ERRORS, EtcdModule
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.key import DesiredKey, ensure_key, key_result
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store import open_store
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.values import stored_value


def main() -> None:
    module = EtcdModule(
        {
            # 'key' names an etcd path, not a secret: say so to validate-modules.
            'key': {'type': 'str', 'required': True, 'no_log': False},
            # raw, not str: Ansible's str conversion would store a boolean as 'True'.
            'value': {'type': 'raw'},
            'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
            'ttl': {'type': 'int'},
            'refresh_ttl': {'type': 'bool', 'default': False},
            'sensitive': {'type': 'bool', 'default': False},
        },
        required_if=[['state', 'present', ['value']], ['refresh_ttl', True, ['ttl']]],
    )
    params = module.params
    key = module.key()
    module.include(key=key)
    raw_value = params['value']
    if params['sensitive']:
        module.hide_options(['value'])
    try:
        value = stored_value(raw_value, 'value')
        desired = DesiredKey(key=key, state=params['state'], value=value, ttl=params['ttl'],
                             refresh_ttl=params['refresh_ttl'], sensitive=params['sensitive'])
        if desired.sensitive:
            module.hide_values([value])
        with module.client() as client:
            store = open_store(client)
            outcome = ensure_key(store, desired, check_mode=module.check_mode)
    except ERRORS as exc:  # KeyValueError is a ValueError, among them
        module.fail_from(exc, key=key)
    result = key_result(outcome, desired, diff=module.diff)
    if module.v3:
        result['revision'] = store.revision
    module.exit(**result)


if __name__ == '__main__':
    main()
