#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
module: etcd_migrate
short_description: Copy a tree of etcd's v2 store into v3 keys, verify it, and optionally delete the v2 copy
version_added: 0.2.0
description:
  - Reads every key under O(path) from the v2 store and writes it to the v3 store as the key O(prefix)
    followed by the v2 key, so with the default empty O(prefix) the v2 key V(/a/b) becomes the v3 key
    V(/a/b) and a playbook keeps working once its tasks say O(api_version=v3).
  - B(Always reads v2 and writes v3, whatever O(api_version) says); the two clients share the other connection
    options. The members must serve the v2 API (etcd 3.4 or 3.5 started with C(--enable-v2=true)).
  - Values are copied exactly (any unicode text, up to etcd's request limit). A v2 key with a TTL gets a v3
    lease of the seconds it had left when it was read; keys whose TTLs read the same number of seconds
    (they end within a second of each other) share one lease. The lease may be a little longer than the
    v2 TTL (the time between the read and the grant, and etcd's minimum lease TTL).
  - v2 directories have no v3 equivalent; the keys in them are copied, and directories with nothing in
    them are returned in RV(empty_dirs).
  - Hidden keys (a path segment starting with V(_)) are copied too and returned in RV(hidden). The v2
    API leaves them out of every listing, so they are found (1) under the paths given in O(hidden_keys),
    and (2) in the v2 event history, which keeps the last 1,000 changes of the store, hidden keys
    included. B(A hidden key last changed more than 1,000 v2 writes ago and not under O(hidden_keys)
    cannot be seen through the v2 API); C(etcdutl check v2store) (etcd 3.5.18 and later) finds any user
    data left. A directory holding only such keys looks empty (it is in RV(empty_dirs)), and with
    O(delete_source=true) it is not deleted (etcd refuses, as it is not empty) and stays in RV(left_dirs_in_v2).
  - Idempotent. A v3 key that already holds the v2 value is left alone (RV(unchanged)). A v3 key that holds
    another value is a conflict, which fails the task listing the keys before anything is written, unless
    O(overwrite=true).
  - Writes are transactions of at most O(max_txn_ops) keys, pipelined; each key of a transaction is
    guarded (a new key only if it still does not exist, an overwritten one only if unchanged since it
    was read), so a v3 key created or changed by someone else during the run is never overwritten; it
    is reported as a conflict and the task fails. When the task fails part-way, running it again completes
    the migration.
  - With O(delete_source=true), every v3 copy is read back first, and only the keys whose copy holds
    the v2 value (copied in this run or an earlier one) are deleted from v2, each only if its v2 modified
    index is still the one read; a v2 key changed during the run is kept and returned in RV(changed_in_v2).
    Directories left empty are deleted. RV(left_in_v2) and RV(left_dirs_in_v2) say what is left.
author:
  - pyetcd.etcd contributors (!UNKNOWN)
extends_documentation_fragment:
  - pyetcd.etcd.connection
attributes:
  check_mode:
    support: full
    description: Reads both stores and returns what would be copied and deleted; nothing is written, no lease granted.
  diff_mode:
    support: full
    description: Counts, and the first keys to be written with their v3 values before and after (hidden with O(sensitive=true)).
  idempotent:
    support: full
    description: A re-run finds every key unchanged and writes nothing to v3.
  action_group:
    support: full
    description: Connection options can be set once for the play with C(module_defaults) for C(group/pyetcd.etcd.etcd).
    membership:
      - pyetcd.etcd.etcd
options:
  path:
    description:
      - The v2 key or directory to copy, with everything below it. A missing leading V(/) is added.
    type: str
    default: /
    version_added: 0.2.0
  prefix:
    description:
      - Text put before every v2 key to make its v3 key, verbatim (V(/legacy) turns V(/a/b) into V(/legacy/a/b)).
    type: str
    default: ''
    version_added: 0.2.0
  delete_source:
    description:
      - Delete from v2 the keys whose v3 copy was read back holding the v2 value, and the directories left empty.
    type: bool
    default: false
    version_added: 0.2.0
  overwrite:
    description:
      - Replace v3 keys that hold another value than their v2 key, instead of failing.
    type: bool
    default: false
    version_added: 0.2.0
  hidden_keys:
    description:
      - Hidden v2 keys or directories (a segment starting with V(_)) below O(path) to copy as well, read
        directly, with everything the v2 API lists below them. Needed only for hidden keys that have not
        changed in the last 1,000 v2 writes (the others are found in the v2 event history).
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  sensitive:
    description:
      - Hide the values in the diff and in error messages. Key names are never hidden.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - Needs the v2 API (C(--enable-v2=true), etcd 3.4 or 3.5) and the v3 gateway on the same members.
    etcd 3.6 has no v2 API, so migrate before upgrading (see the collection's C(docs/upgrade-to-etcd-3.6.md)).
  - v2 create and modified indexes are not carried over; v3 numbers its revisions itself.
seealso:
  - module: pyetcd.etcd.etcd_key
  - module: pyetcd.etcd.etcd_dir
  - plugin: pyetcd.etcd.etcd
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Copy the whole v2 store into v3 (same key names)
  pyetcd.etcd.etcd_migrate:
    host: [etcd1:2379, etcd2:2379, etcd3:2379]

- name: Copy one tree under another v3 prefix, replacing what differs
  pyetcd.etcd.etcd_migrate:
    path: /config
    prefix: /legacy
    overwrite: true

- name: Copy, verify and delete the v2 data, including hidden keys that have not changed lately
  pyetcd.etcd.etcd_migrate:
    hidden_keys: [/locks/_owner, /_internal]
    delete_source: true
  register: migration

- name: Stop when something is left in v2
  ansible.builtin.assert:
    that: migration.left_in_v2 | length == 0
'''

RETURN = r'''
v2_path:
  description: The v2 path copied, with its leading V(/).
  returned: always
  type: str
  sample: /config
v3_prefix:
  description: The O(prefix) put before every v2 key.
  returned: always
  type: str
  sample: ''
migrated:
  description: v3 keys written (in check mode, that would be written).
  returned: always
  type: list
  elements: str
  sample: [/config/app/port]
unchanged:
  description: v3 keys that already held their v2 value.
  returned: always
  type: list
  elements: str
conflicts:
  description:
    - v3 keys that hold another value than their v2 key (the task fails when there is any), with their
      v2 key and why (V(holds another value), V(created in v3 during the migration), ...).
  returned: always
  type: list
  elements: dict
  sample: [{key: /config/app/port, v2_key: /config/app/port, reason: holds another value}]
skipped:
  description: v2 keys not copied because the task found conflicts (nothing is written then).
  returned: always
  type: list
  elements: str
hidden:
  description: Hidden v2 keys found and copied (see O(hidden_keys)).
  returned: always
  type: list
  elements: str
hidden_search:
  description:
    - How hidden keys were looked for - V(named) (O(hidden_keys)), the v2 indexes of the event history read
      (V(history_from_index) to V(history_to_index)), how many history reads that took, and the hidden keys
      the history showed.
  returned: always
  type: dict
empty_dirs:
  description: v2 directories with nothing listed in them; v3 has no directories, so nothing is copied for them.
  returned: always
  type: list
  elements: str
leases:
  description: The v3 leases granted for keys with a v2 TTL - V(id), V(ttl) (as granted), V(v2_ttl), V(keys) (how many).
  returned: always
  type: list
  elements: dict
  sample: [{id: 7587869000000000001, ttl: 300, v2_ttl: 300, keys: 12}]
verified:
  description: With O(delete_source=true), the v2 keys whose v3 copy was read back holding the v2 value.
  returned: always
  type: list
  elements: str
deleted_from_v2:
  description: v2 keys deleted (in check mode, that would be deleted).
  returned: always
  type: list
  elements: str
deleted_dirs:
  description: v2 directories deleted because they were left empty.
  returned: always
  type: list
  elements: str
changed_in_v2:
  description: v2 keys kept because they changed (or went) in v2 during the run, with the reason.
  returned: always
  type: list
  elements: dict
left_in_v2:
  description:
    - v2 keys under O(path) still there after the task (all of them without O(delete_source)). Hidden keys
      nobody named and that are not in the event history cannot be listed (see the description).
  returned: always
  type: list
  elements: str
left_dirs_in_v2:
  description: v2 directories under O(path) still there after the task.
  returned: always
  type: list
  elements: str
counts:
  description: The length of each list above, and V(source), the number of v2 keys read.
  returned: always
  type: dict
  sample: {source: 3, migrated: 2, unchanged: 1, conflicts: 0, deleted_from_v2: 3, left_in_v2: 0}
revision:
  description: The v3 store revision of the last answer.
  returned: always
  type: int
'''

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.module import ERRORS, EtcdModule
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.migrate import (
    MigrationConflict,
    MigrationRequest,
    MigrationStopped,
    ensure_migration,
    migration_result,
)


def main() -> None:
    module = EtcdModule(
        {
            'path': {'type': 'str', 'default': '/'},
            'prefix': {'type': 'str', 'default': ''},
            'delete_source': {'type': 'bool', 'default': False},
            'overwrite': {'type': 'bool', 'default': False},
            'hidden_keys': {'type': 'list', 'elements': 'str', 'default': [], 'no_log': False},
            'sensitive': {'type': 'bool', 'default': False},
        },
    )
    params = module.params
    request = MigrationRequest(path=params['path'], prefix=params['prefix'], delete_source=params['delete_source'],
                               overwrite=params['overwrite'], hidden_keys=tuple(params['hidden_keys']))
    v2, v3 = module.client('v2'), module.client('v3')
    try:
        with v2, v3:
            outcome = ensure_migration(v2, v3, request, check_mode=module.check_mode)
    except MigrationStopped as exc:
        module.fail('%s (%s)' % (module.message(exc.cause), exc.progress),
                    **migration_result(exc.outcome, request, params['sensitive'], module.diff))
    except MigrationConflict as exc:
        module.fail(module.message(exc), **migration_result(exc.outcome, request, params['sensitive'], module.diff))
    except ERRORS as exc:
        module.fail_from(exc, key=request.path)
    module.exit(**migration_result(outcome, request, params['sensitive'], module.diff))


if __name__ == '__main__':
    main()
