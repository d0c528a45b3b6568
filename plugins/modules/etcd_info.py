#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
module: etcd_info
short_description: Read etcd versions, health, leader, members, statistics and one key or directory
version_added: 0.1.0
description:
  - Reads facts about an etcd cluster through its v2 API, and optionally one key or directory.
  - Never writes anything and never reports a change.
author:
  - pyetcd.etcd contributors (!UNKNOWN)
extends_documentation_fragment:
  - pyetcd.etcd.connection
attributes:
  check_mode:
    support: full
    description: Runs the same reads in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  idempotent:
    support: full
    description: Only reads.
  action_group:
    support: full
    description: Connection options can be set once for the play with C(module_defaults) for C(group/pyetcd.etcd.etcd).
    membership:
      - pyetcd.etcd.etcd
options:
  gather:
    description:
      - Which facts about the cluster to read. Each is one request (V(stats) is two).
      - Use an empty list to read only O(key).
    type: list
    elements: str
    choices: [version, health, leader, members, stats]
    default: [version, health, leader, members, stats]
    version_added: 0.1.0
  key:
    description:
      - A key or directory to read as well, for example V(/config/app).
      - A key that does not exist is not an error; RV(exists) is then V(false).
    type: str
    version_added: 0.1.0
  recursive:
    description:
      - With a directory in O(key), read the whole tree below it instead of its direct children only.
    type: bool
    default: false
    version_added: 0.1.0
  quorum:
    description:
      - Read O(key) through the cluster's consensus, so the answer is never a stale copy of a
        lagging member.
    type: bool
    default: false
    version_added: 0.1.0
seealso:
  - module: pyetcd.etcd.etcd_key
  - module: pyetcd.etcd.etcd_dir
  - module: pyetcd.etcd.etcd_cas
  - plugin: pyetcd.etcd.etcd
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Read everything about the cluster
  pyetcd.etcd.etcd_info:
    host: 127.0.0.1:2379
  register: etcd

- name: Fail early when the cluster is not healthy
  ansible.builtin.assert:
    that:
      - etcd.health
      - etcd.members | length >= 1
    fail_msg: "etcd at {{ etcd.endpoint }} is not healthy"

- name: Read a directory tree and nothing else
  pyetcd.etcd.etcd_info:
    gather: []
    key: /config/app
    recursive: true
  register: app_config

- name: Show whether a key exists
  ansible.builtin.debug:
    msg: "{{ app_config.exists }}"
'''

RETURN = r'''
endpoint:
  description: Base URL of the member that answered the last request.
  returned: always
  type: str
  sample: http://127.0.0.1:2379
version:
  description: Versions of the answering member (C(server)) and of the cluster (C(cluster)).
  returned: when V(version) is in O(gather)
  type: dict
  sample: {server: 3.5.1, cluster: 3.5.0}
health:
  description: Whether the answering member reports itself healthy.
  returned: when V(health) is in O(gather)
  type: bool
  sample: true
leader:
  description: The leader member.
  returned: when V(leader) is in O(gather)
  type: dict
  sample:
    id: 8e9e05c52164694d
    name: default
    peerURLs: [http://127.0.0.1:2380]
    clientURLs: [http://127.0.0.1:2379]
members:
  description: All members of the cluster.
  returned: when V(members) is in O(gather)
  type: list
  elements: dict
  sample:
    - id: 8e9e05c52164694d
      name: default
      peerURLs: [http://127.0.0.1:2380]
      clientURLs: [http://127.0.0.1:2379]
stats:
  description: Raft statistics of the answering member (C(self)) and its store counters (C(store)), as etcd reports them.
  returned: when V(stats) is in O(gather)
  type: dict
  sample:
    self:
      name: default
      state: StateLeader
      startTime: "2026-11-27T02:48:55.368129296Z"
      recvAppendRequestCnt: 0
      sendAppendRequestCnt: 0
    store:
      getsSuccess: 4
      setsSuccess: 2
      watchers: 0
exists:
  description: Whether O(key) exists.
  returned: when O(key) is given
  type: bool
  sample: true
node:
  description:
    - O(key) as read; a directory has C(children) (nested with O(recursive=true)) instead of C(value).
    - V(null) when the key does not exist.
  returned: when O(key) is given
  type: dict
  sample:
    key: /config/app
    dir: true
    created_index: 5
    modified_index: 5
    ttl: null
    expiration: null
    children:
      - key: /config/app/port
        dir: false
        value: "8080"
        created_index: 6
        modified_index: 6
        ttl: null
        expiration: null
etcd_index:
  description: The C(X-Etcd-Index) of the read of O(key), to start a watch after it. V(null) when the key does not exist.
  returned: when O(key) is given
  type: int
  sample: 6
'''

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.module import ERRORS, EtcdModule
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.info import SECTIONS, gather_info


def main() -> None:
    module = EtcdModule({
        'gather': {'type': 'list', 'elements': 'str', 'choices': list(SECTIONS), 'default': list(SECTIONS)},
        # 'key' names an etcd path, not a secret: say so to validate-modules.
        'key': {'type': 'str', 'no_log': False},
        'recursive': {'type': 'bool', 'default': False},
        'quorum': {'type': 'bool', 'default': False},
    })
    params = module.params
    try:
        with module.client() as client:
            info = gather_info(client, params['gather'], key=params['key'], recursive=params['recursive'],
                               quorum=params['quorum'])
    except ERRORS as exc:
        module.fail_from(exc, key=params['key'])
    module.exit(changed=False, **info)


if __name__ == '__main__':
    main()
