#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
module: etcd_snapshot
short_description: Save a checked snapshot of etcd's v3 store to a file
version_added: 0.2.0
description:
  - Streams a snapshot of one member's v3 database (etcd's C(/v3/maintenance/snapshot), what
    C(etcdctl snapshot save) uses) to O(dest) on the host that runs the module.
  - The stream is checked as it arrives (etcd's chunk sizes, then the SHA-256 etcd sends after the
    data). It goes to a temporary file next to O(dest), which is flushed to disk and renamed to
    O(dest) only when it is complete and its hash matches, so O(dest) never holds a partial
    snapshot; a cut stream, a hash mismatch or a full disk fail the task and leave O(dest) as it was.
  - The file is what C(etcdctl snapshot save) writes, the database followed by its SHA-256, and is
    accepted by C(etcdutl snapshot status) and C(etcdutl snapshot restore).
  - An existing O(dest) is a backup and is kept unless O(force=true), so a playbook that takes a
    backup before a change can be re-run without replacing it with a snapshot taken after the
    change. The kept file is checked (its SHA-256 trailer must match its data) and described.
  - Always uses the v3 maintenance API, whatever O(api_version) says. The snapshot holds the v3
    store only; etcd's v2 store (O(api_version=v2) data) is not part of it.
author:
  - pyetcd.etcd contributors (!UNKNOWN)
extends_documentation_fragment:
  - pyetcd.etcd.connection
attributes:
  check_mode:
    support: full
    description: Reports whether a snapshot would be written; contacts nobody and writes nothing.
  diff_mode:
    support: none
    description: A snapshot is binary; there is nothing to show.
  idempotent:
    support: full
    description: With O(force=false) (the default) a re-run keeps the snapshot the first run wrote and reports ok.
  action_group:
    support: full
    description: Connection options can be set once for the play with C(module_defaults) for C(group/pyetcd.etcd.etcd).
    membership:
      - pyetcd.etcd.etcd
options:
  dest:
    description:
      - Path of the snapshot file on the host that runs the module. Its directory must exist.
    type: path
    required: true
    version_added: 0.2.0
  mode:
    description:
      - Permissions of the snapshot file, in the forms the C(mode) of Ansible's file module takes (for example V('0600') or V(u=rw,g=r)).
        A snapshot holds every key and value of the store, secrets included; the default keeps it to its owner.
      - Applied to a new snapshot before it is renamed into place, and to a kept O(dest) (a change).
    type: raw
    default: '0600'
    version_added: 0.2.0
  force:
    description:
      - Take a new snapshot and replace O(dest) even when it already holds one.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - With authentication on, etcd serves snapshots only to a user with the C(root) role.
  - The snapshot comes from the first member of O(host) that answers (RV(member) names it).
seealso:
  - module: pyetcd.etcd.etcd_info
  - name: etcd disaster recovery
    description: How etcd restores a cluster from a snapshot.
    link: https://etcd.io/docs/v3.5/op-guide/recovery/
'''

EXAMPLES = r'''
- name: Back up the v3 store before a change (a re-run keeps this backup)
  pyetcd.etcd.etcd_snapshot:
    host: 127.0.0.1:2379
    dest: /tmp/etcd-before-change.db
  register: backup

- name: Show what was saved
  ansible.builtin.debug:
    msg: "{{ backup.size }} bytes at revision {{ backup.revision }}, sha256 {{ backup.sha256 }}"

- name: A fresh snapshot every run, readable by the backup group
  pyetcd.etcd.etcd_snapshot:
    dest: /tmp/etcd-latest.db
    mode: '0640'
    force: true
'''

RETURN = r'''
dest:
  description: Absolute path of the snapshot file.
  returned: always
  type: str
  sample: /var/backups/etcd/before-upgrade.db
size:
  description: Size of the file in bytes (the database plus the 32-byte SHA-256). V(null) in check mode.
  returned: always
  type: int
  sample: 24608
sha256:
  description: The SHA-256 (hex) of the database, as etcd sent it and the file ends with. V(null) in check mode.
  returned: always
  type: str
  sample: 3b1f4c0e5d0c1e0f6e2b2a8a7d1b8a1b4f9c8e7d6c5b4a39281706f5e4d3c2b1
revision:
  description:
    - The store revision the snapshot holds (as C(etcdutl snapshot status) reports it). V(null) in check
      mode, and when the database format is one this module cannot read the revision from.
  returned: always
  type: int
  sample: 1042
member:
  description: Client URL of the member that sent the snapshot; V(null) when no new snapshot was taken.
  returned: always
  type: str
  sample: http://127.0.0.1:2379
'''

import os

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.module import ERRORS, EtcdModule
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.snapshot import ensure_snapshot


def main() -> None:
    module = EtcdModule({
        'dest': {'type': 'path', 'required': True},
        'mode': {'type': 'raw', 'default': '0600'},
        'force': {'type': 'bool', 'default': False},
    })
    params = module.params
    dest = os.path.abspath(params['dest'])
    module.include(dest=dest)
    ansible = module.module

    def finish(path: str) -> None:
        ansible.set_mode_if_different(path, params['mode'], False)

    try:
        with module.client('v3') as client:  # building it sends nothing
            outcome = ensure_snapshot(client, dest, force=params['force'], check_mode=module.check_mode, finish=finish)
    except ERRORS as exc:
        module.fail_from(exc, key=None)
    result = outcome.result()
    if not outcome.changed:
        # A kept backup gets the wanted mode (a change, as ansible.builtin.file reports it).
        result['changed'] = ansible.set_mode_if_different(dest, params['mode'], False)
    module.exit(**result)


if __name__ == '__main__':
    main()
