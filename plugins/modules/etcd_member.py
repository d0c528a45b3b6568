#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
module: etcd_member
short_description: Add, update, promote and remove etcd cluster members
version_added: 0.2.0
description:
  - Makes one member part of the cluster (V(present)) or not (V(absent)), through etcd's v3 member
    API (what C(etcdctl member add/update/promote/remove) use).
  - The member is found by O(id), else by O(name), else by any of its O(peer_urls). A member that
    was added but has not started yet has no name, so it is found by its peer URL.
  - With O(state=present) a missing member is added (as a learner with O(learner=true)), an existing
    one gets new peer URLs when O(peer_urls) differs, and a learner is promoted with O(promote=true).
    Otherwise nothing is sent and the task reports ok.
  - Adding a member only registers it; start etcd on it afterwards with C(--initial-cluster-state existing)
    and an C(--initial-cluster) that lists every member and the new one.
  - "Quorum guard: unless O(force=true), the module refuses, saying why, to add a voting member when the
    voting members that are started and healthy would be fewer than the quorum (a majority) of the
    cluster with the new member, and to remove a healthy voting member when the healthy voting members
    left would be fewer than the quorum of the voting members left. Learners never count. Each voting
    member is asked for its status: through O(host) when it is one of those endpoints, else through its
    own client URLs with the task's TLS and auth options."
  - The member list is read from the leader, so a change made a moment ago through another member is seen.
  - Needs O(api_version=v3); with O(api_version=v2) the task fails (the member API is part of etcd's v3 API).
author:
  - pyetcd.etcd contributors (!UNKNOWN)
extends_documentation_fragment:
  - pyetcd.etcd.connection
attributes:
  check_mode:
    support: full
    description:
      - Reads the members (and their health for the quorum guard) and reports what would change;
        no change is sent. Whether etcd would accept a promotion (the learner is in sync) is not known in check mode.
  diff_mode:
    support: full
    description: Shows the member list before and after.
  idempotent:
    support: full
    description: A re-run with the same options reports no change.
  action_group:
    support: full
    description: Connection options can be set once for the play with C(module_defaults) for C(group/pyetcd.etcd.etcd).
    membership:
      - pyetcd.etcd.etcd
options:
  name:
    description:
      - The member's name (etcd's C(--name)). etcd learns it when the member starts; it is not sent when
        adding a member, only used to find it.
      - When O(peer_urls) or O(id) find a started member with another name, the task fails.
    type: str
    version_added: 0.2.0
  peer_urls:
    description:
      - The member's peer URLs, each V(http://host:port) or V(https://host:port) (etcd's
        C(--initial-advertise-peer-urls)). A trailing V(/) is dropped.
      - Required to add a member. For an existing member, the peer URLs it must have, compared as a set;
        when they differ they are updated.
      - A URL that already belongs to another member fails the task.
      - A learner's peer URLs are not updated unless O(force=true), since etcd 3.4 and 3.5 forget that a member
        is a learner when its peer URLs change (etcd-io/etcd#21694). Remove it and add it again instead.
    type: list
    elements: str
    version_added: 0.2.0
  id:
    description:
      - The member's ID as hex text, as C(etcdctl member list) prints it and RV(member.id) returns it
        (for example V(8e9e05c52164694d)). Quote it in YAML so that an ID of digits only stays text.
      - Identifies an existing member only; with O(state=present), an ID no member has fails the task
        (etcd chooses the ID of a member it adds).
    type: str
    version_added: 0.2.0
  state:
    description:
      - V(present) makes the member part of the cluster; V(absent) removes it if it is there.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.2.0
  learner:
    description:
      - Add the member as a learner, a member that receives the data but does not vote, so adding it
        never changes the quorum. Promote it with O(promote=true) once it runs.
      - Only used when the member is added; an existing voting member stays one (etcd cannot demote).
      - Learners exist on etcd 3.4 and later.
    type: bool
    default: false
    version_added: 0.2.0
  promote:
    description:
      - Make the member, a learner, a voting member. etcd promotes a learner only once it is in sync with
        the leader; until then the task fails with etcd's reason, or retries for up to O(wait_timeout) seconds.
      - A member that votes already is left alone (ok). A member that is not in the cluster fails the task;
        add it with O(learner=true) first.
      - Excludes O(learner).
    type: bool
    default: false
    version_added: 0.2.0
  wait_timeout:
    description:
      - Seconds to keep sending a change again while etcd refuses it without doing anything. That is a
        promotion of a learner that is not in sync yet, and any change refused as C(unhealthy cluster), since
        etcd takes membership changes only once the leader has been connected to every voting member for
        5 seconds, so not just after a member started, nor while a voting member is down or not started.
      - V(0) fails at the first refusal.
    type: float
    default: 0
    version_added: 0.2.0
  force:
    description:
      - Skip the quorum guard (see the description). etcd's own checks still apply; it refuses, for example,
        to add a voting member when too few members are started.
      - Also lets a learner's peer URLs be updated (see O(peer_urls)); only on an etcd with the fix of
        etcd-io/etcd#21694.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - The member API needs no authentication on etcd 3.4 and 3.5 before 3.5.28; later releases (and 3.6) require
    a user with the C(root) role when authentication is on.
  - Removing the member O(host) points at works, but later tasks need another member in O(host).
seealso:
  - module: pyetcd.etcd.etcd_info
  - module: pyetcd.etcd.etcd_snapshot
  - name: etcd runtime reconfiguration
    description: Adding, removing and updating members, and why a learner first.
    link: https://etcd.io/docs/v3.5/op-guide/runtime-configuration/
'''

EXAMPLES = r'''
- name: Join etcd4 to the cluster (the tasks run for the new host only)
  when: inventory_hostname == 'etcd4.example.com'
  block:
    - name: Register etcd4 as a learner (it does not vote, so quorum does not change)
      pyetcd.etcd.etcd_member:
        api_version: v3
        host: https://etcd1.example.com:2379
        name: etcd4
        peer_urls: https://10.0.0.4:2380
        learner: true

    - name: Start etcd on etcd4 (with --initial-cluster-state existing and an --initial-cluster that lists etcd4)
      ansible.builtin.service:
        name: etcd
        state: started

    - name: Promote etcd4 once it has caught up with the leader (waits up to two minutes)
      pyetcd.etcd.etcd_member:
        api_version: v3
        host: https://etcd1.example.com:2379
        name: etcd4
        promote: true
        wait_timeout: 120

- name: Remove a member that is gone for good, found by its peer URL
  pyetcd.etcd.etcd_member:
    api_version: v3
    peer_urls: https://10.0.0.3:2380
    state: absent

- name: Remove a member by the ID etcdctl prints
  pyetcd.etcd.etcd_member:
    api_version: v3
    id: "2b8a4f1c3d5e6f70"
    state: absent
'''

RETURN = r'''
actions:
  description:
    - What was sent (in check mode, what would be), any of V(none), V(add), V(update) (peer URLs),
      V(promote), V(remove). An update and a promotion can come together.
  returned: always
  type: list
  elements: str
  sample: [add]
member:
  description:
    - The member after the task; for V(absent), the member that was removed, V(null) when there was none.
    - In check mode, what the member would be; a member that would be added has the V(id) V(null).
  returned: always
  type: dict
  contains:
    id:
      description:
        - The member ID as hex text, as C(etcdctl member list) prints it and O(id) takes it.
        - Text rather than a number, since IDs are 64-bit and do not all fit a JSON number.
      type: str
      sample: 8e9e05c52164694d
    name:
      description: The member's name; empty until a member that was added has started.
      type: str
      sample: etcd4
    peer_urls:
      description: Its peer URLs.
      type: list
      elements: str
      sample: [https://10.0.0.4:2380]
    client_urls:
      description: Its client URLs, read-only (etcd learns them when the member starts; empty before).
      type: list
      elements: str
      sample: [https://10.0.0.4:2379]
    is_learner:
      description: Whether it is a learner (does not vote).
      type: bool
      sample: true
members:
  description:
    - Every member of the cluster after the task (in check mode, as it would be), each as RV(member),
      sorted by name, members that have not started last.
  returned: always
  type: list
  elements: dict
  sample:
    - {id: 8e9e05c52164694d, name: etcd1, peer_urls: [https://10.0.0.1:2380], client_urls: [https://10.0.0.1:2379], is_learner: false}
    - {id: 2b8a4f1c3d5e6f70, name: '', peer_urls: [https://10.0.0.4:2380], client_urls: [], is_learner: true}
msg:
  description: What the task did, in words.
  returned: always
  type: str
  sample: added a learner 2b8a4f1c3d5e6f70 with peer URLs https://10.0.0.4:2380; start it with --initial-cluster-state existing
'''

from typing import Any, Sequence

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.module import ERRORS, EtcdModule
from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.options import client_from_options
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.member import DesiredMember, ensure_member

OPTIONS = {
    'name': {'type': 'str'},
    'peer_urls': {'type': 'list', 'elements': 'str'},
    'id': {'type': 'str'},
    'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
    'learner': {'type': 'bool', 'default': False},
    'promote': {'type': 'bool', 'default': False},
    'wait_timeout': {'type': 'float', 'default': 0},
    'force': {'type': 'bool', 'default': False},
}


def member_status(params: dict, urls: Sequence[str]) -> Any:
    """The status of one member asked through its own client URLs, with the task's other connection options."""
    def option(name: str) -> Any:
        return list(urls) if name == 'host' else None if name == 'srv_domain' else params.get(name)
    with client_from_options(option) as client:
        return client.status()


def main() -> None:
    module = EtcdModule(OPTIONS, required_one_of=[['name', 'peer_urls', 'id']], mutually_exclusive=[['learner', 'promote']])
    module.require_v3('etcd_member')
    params = module.params
    try:
        desired = DesiredMember.from_options(**{name: params[name] for name in OPTIONS})
        with module.client() as client:
            outcome = ensure_member(client, desired, check_mode=module.check_mode,
                                    probe=lambda urls: member_status(params, urls))
    except ERRORS as exc:
        module.fail_from(exc)
    module.exit(**outcome.result(diff=module.diff))


if __name__ == '__main__':
    main()
