#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
module: etcd_info
short_description: Read etcd versions, health, leader, members, status, alarms and one key, directory or prefix
version_added: 0.1.0
description:
  - Reads facts about an etcd cluster, through its v2 API or, with O(api_version=v3), its v3 API, and optionally
    one key (a directory on v2, a prefix on v3).
  - The results keep the same names on both APIs where the concept is the same (RV(version), RV(health),
    RV(leader), RV(members), RV(exists), RV(node)), so one playbook reads either; what exists on one API only is
    marked in RV(stats), RV(status), RV(alarms), RV(nodes) and RV(revision).
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
      - Which facts about the cluster to read. Use an empty list to read only O(key).
      - When omitted, every section of the API in use is read; on v2 V(version), V(health), V(leader), V(members)
        and V(stats); with O(api_version=v3) V(version), V(health), V(leader), V(members), V(status) and V(alarms).
        (Before version 0.2.0 the default was the v2 list itself; the sections read on v2 are the same.)
      - V(stats) exists on v2 only (two requests). V(status) and V(alarms) exist on v3 only; a section of the other
        API fails the task before anything is sent (C(gather=stats needs api_version=v2)).
      - On v3, V(leader) is derived from the answering member's status (the leader's ID, looked up in the member
        list), and V(status) asks each endpoint the task connects to on its own.
    type: list
    elements: str
    choices: [version, health, leader, members, stats, status, alarms]
    version_added: 0.1.0
  key:
    description:
      - A key to read as well, for example V(/config/app).
      - On v2 a directory is read with its children, and a missing leading V(/) is added.
      - With O(api_version=v3) the key is used verbatim (V(config/app) and V(/config/app) are different keys);
        with O(prefix=true), every key that starts with it is read.
      - A key that does not exist is not an error; RV(exists) is then V(false).
    type: str
    version_added: 0.1.0
  recursive:
    description:
      - With a directory in O(key), read the whole tree below it instead of its direct children only.
      - v2 only; with O(api_version=v3) use O(prefix).
    type: bool
    default: false
    version_added: 0.1.0
  quorum:
    description:
      - Read O(key) through the cluster's consensus, so the answer is never a stale copy of a
        lagging member.
      - v2 only. On v3 every read is linearizable (through the consensus) unless O(serializable=true).
    type: bool
    default: false
    version_added: 0.1.0
  prefix:
    description:
      - Read every key that starts with O(key) (the v3 range of the prefix), in key order, into RV(nodes).
      - Only with O(api_version=v3); needs O(key).
    type: bool
    default: false
    version_added: 0.2.0
  revision:
    description:
      - Read O(key) as the store was at this revision (at least V(1)); omitted, the latest.
      - A revision that etcd has compacted away fails the task with C(revision compacted), one later than the
        store's with C(future revision).
      - Only with O(api_version=v3); needs O(key).
    type: int
    version_added: 0.2.0
  serializable:
    description:
      - Read O(key) from the answering member's own copy, without a round trip through the consensus. Faster, and
        works without quorum, but a lagging member may answer with stale data.
      - Only with O(api_version=v3); needs O(key).
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - With O(api_version=v3), V(status) lists only the endpoints the task connects to (O(host), or the members found
    through O(srv_domain)); give every member in O(host) to see each one. A member that does not answer is listed
    with C(reachable=false) and the reason; the task fails only when none answers.
  - The C(ttl) of a v3 key is what its lease has left now, also with O(revision).
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

- name: Read a v2 directory tree and nothing else (recursive is v2 only; on v3 see prefix)
  pyetcd.etcd.etcd_info:
    api_version: v2
    gather: []
    key: /config/app
    recursive: true
  register: app_config

- name: Show whether a key exists
  ansible.builtin.debug:
    msg: "{{ app_config.exists }}"

- name: Ask every member of a v3 cluster for its status
  pyetcd.etcd.etcd_info:
    api_version: v3
    host:
      - https://etcd1.example.com:2379
      - https://etcd2.example.com:2379
      - https://etcd3.example.com:2379
    ca_cert: /etc/etcd/ca.pem
    gather: [status, alarms, members]
  register: cluster

- name: Fail when a member is down, raises an alarm, or is not promoted yet
  ansible.builtin.assert:
    that:
      - cluster.status | rejectattr('reachable') | list | length == 0
      - cluster.alarms | length == 0
      - cluster.members | selectattr('is_learner') | list | length == 0

- name: Read every key under a v3 prefix, and nothing else
  pyetcd.etcd.etcd_info:
    api_version: v3
    gather: []
    key: config/app/
    prefix: true
  register: app_keys

- name: The keys as a dict of key to value
  ansible.builtin.debug:
    msg: "{{ app_keys.nodes | items2dict(key_name='key', value_name='value') }}"

- name: Read a key as it was at a revision
  pyetcd.etcd.etcd_info:
    api_version: v3
    gather: []
    key: config/app/mode
    revision: "{{ app_keys.revision }}"
'''

RETURN = r'''
endpoint:
  description: Base URL of the member that answered the last request.
  returned: always
  type: str
  sample: http://127.0.0.1:2379
version:
  description: Versions of the answering member (C(server)) and of the cluster (C(cluster)).
  returned: when V(version) is read (see O(gather))
  type: dict
  sample: {server: 3.5.1, cluster: 3.5.0}
health:
  description: Whether the answering member reports itself healthy.
  returned: when V(health) is read (see O(gather))
  type: bool
  sample: true
leader:
  description:
    - The leader member, with the fields of an item of RV(members).
    - With O(api_version=v3), the leader named by the answering member's status; V(null) when that member knows no
      leader (no quorum).
  returned: when V(leader) is read (see O(gather))
  type: dict
  sample:
    id: 8e9e05c52164694d
    name: default
    peerURLs: [http://127.0.0.1:2380]
    clientURLs: [http://127.0.0.1:2379]
    is_learner: false
members:
  description:
    - All members of the cluster. C(id) is the member ID in hex, as etcdctl prints it.
    - A member that was added but has not started yet has an empty C(name) and no C(clientURLs).
    - With O(api_version=v3) each member also has C(is_learner), V(true) for a non-voting learner.
  returned: when V(members) is read (see O(gather))
  type: list
  elements: dict
  sample:
    - id: 8e9e05c52164694d
      name: default
      peerURLs: [http://127.0.0.1:2380]
      clientURLs: [http://127.0.0.1:2379]
      is_learner: false
stats:
  description: Raft statistics of the answering member (C(self)) and its store counters (C(store)), as etcd reports them.
  returned: when V(stats) is read (v2 only)
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
status:
  description:
    - The status of each endpoint the task connects to, asked of each member on its own, in the order of the
      endpoints.
    - C(endpoint) and C(reachable) always; a member that did not answer has C(reachable=false) and C(error) (the
      reason) and nothing else.
    - "A member that answered has C(id) and C(name) (from the member list), C(version) (its etcd version),
      C(is_leader), C(is_learner), C(leader) (the ID of the leader it knows, V(null) for none), C(raft_index),
      C(raft_term), C(raft_applied_index), C(db_size) and C(db_size_in_use) (bytes), C(errors) (as etcd reports
      them, for example C(etcdserver: no leader) or an active alarm) and C(alarms) (the types of the alarms
      active on this member, such as V(NOSPACE))."
  returned: when V(status) is read (with O(api_version=v3))
  type: list
  elements: dict
  sample:
    - endpoint: http://127.0.0.1:2379
      reachable: true
      id: 8e9e05c52164694d
      name: default
      version: 3.5.1
      is_leader: true
      is_learner: false
      leader: 8e9e05c52164694d
      raft_index: 12
      raft_term: 2
      raft_applied_index: 12
      db_size: 20480
      db_size_in_use: 16384
      errors: []
      alarms: []
    - endpoint: http://127.0.0.1:22379
      reachable: false
      error: "unreachable: connection refused"
alarms:
  description: The active alarms of the cluster; C(member_id) in hex, C(alarm) V(NOSPACE) or V(CORRUPT). Empty when none.
  returned: when V(alarms) is read (with O(api_version=v3))
  type: list
  elements: dict
  sample:
    - member_id: 8e9e05c52164694d
      alarm: NOSPACE
exists:
  description: Whether O(key) exists; with O(prefix=true), whether any key starts with it.
  returned: when O(key) is given
  type: bool
  sample: true
node:
  description:
    - O(key) as read; V(null) when the key does not exist.
    - On v2, a directory has C(children) (nested with O(recursive=true)) instead of C(value).
    - With O(api_version=v3), C(key), C(value), C(create_revision), C(mod_revision), C(version) (the number of
      writes since the key was created), C(lease) (its lease ID, V(0) for none) and C(ttl) (the seconds its lease
      has left now, V(null) without a lease); C(created_index) and C(modified_index) repeat the two revisions, so
      a playbook written for v2 reads them too. A value that is not UTF-8 is V(null), with its bytes in
      C(value_base64).
    - Not returned with O(prefix=true); see RV(nodes).
  returned: when O(key) is given, without O(prefix=true)
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
nodes:
  description:
    - Every key that starts with O(key), in key order, each with the fields of a v3 RV(node). Empty when none.
  returned: with O(prefix=true) (O(api_version=v3))
  type: list
  elements: dict
  sample:
    - key: config/app/port
      value: "8080"
      create_revision: 6
      mod_revision: 9
      version: 2
      lease: 0
      ttl: null
      created_index: 6
      modified_index: 9
      dir: false
      expiration: null
count:
  description: How many keys RV(nodes) holds.
  returned: with O(prefix=true) (O(api_version=v3))
  type: int
  sample: 1
revision:
  description:
    - The store revision when etcd answered the read of O(key); the latest revision, also with O(revision). Read
      or watch from it for a consistent view.
  returned: when O(key) is given, with O(api_version=v3)
  type: int
  sample: 42
etcd_index:
  description: The C(X-Etcd-Index) of the read of O(key), to start a watch after it. V(null) when the key does not exist.
  returned: when O(key) is given, on v2
  type: int
  sample: 6
'''

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.module import ERRORS, EtcdModule
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.info import ALL_SECTIONS, gather_info, sections_for
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.info_v3 import gather_info_v3

# Options that only one API has (refused on the other with "quorum needs api_version=v2").
V2_ONLY = ('recursive', 'quorum')
V3_ONLY = ('prefix', 'revision', 'serializable')


def main() -> None:
    module = EtcdModule({
        # No default: the sections of the API in use (they differ between v2 and v3).
        'gather': {'type': 'list', 'elements': 'str', 'choices': list(ALL_SECTIONS)},
        # 'key' names an etcd path, not a secret: say so to validate-modules.
        'key': {'type': 'str', 'no_log': False},
        'recursive': {'type': 'bool', 'default': False},
        'quorum': {'type': 'bool', 'default': False},
        'prefix': {'type': 'bool', 'default': False},
        'revision': {'type': 'int'},
        'serializable': {'type': 'bool', 'default': False},
    })
    params = module.params
    module.refuse_other_api(v2_only=V2_ONLY, v3_only=V3_ONLY)
    if params['key'] is None:
        without = [name for name in V2_ONLY + V3_ONLY if params[name] not in (None, False)]
        if without:
            module.fail('invalid argument: %s need%s key' % (', '.join(without), 's' if len(without) == 1 else ''))
    if params['revision'] is not None and params['revision'] < 1:
        module.fail('invalid argument: revision must be >= 1 (omit it to read the latest), got %d' % params['revision'])
    key = module.key() if params['key'] is not None else None
    try:
        sections = sections_for(module.api_version, params['gather'])
    except ValueError as exc:
        module.fail('invalid argument: %s' % exc)
    try:
        with module.client() as client:
            if module.v3:
                info = gather_info_v3(client, sections, key=key, prefix=params['prefix'], revision=params['revision'],
                                      serializable=params['serializable'])
            else:
                info = gather_info(client, sections, key=key, recursive=params['recursive'], quorum=params['quorum'])
    except ERRORS as exc:
        module.fail_from(exc, key=key)
    module.exit(changed=False, **info)


if __name__ == '__main__':
    main()
