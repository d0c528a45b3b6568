#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
module: etcd_cas
short_description: Compare-and-swap or compare-and-delete one etcd key (v2 or v3)
version_added: 0.1.0
description:
  - Sets a key to O(value) only if it still holds O(prev_value), is still at O(prev_index), or
    does (or does not) exist (O(prev_exist)); or, with O(state=absent), deletes it only if it
    holds O(prev_value) or is at O(prev_index). Useful for locks, leader flags and gating
    rolling changes.
  - Every condition given is sent to etcd in the same request, so the server checks them all
    atomically. With O(api_version=v3) that request is one transaction whose compares are the conditions
    (see the options for how each maps) and whose only operation is the put or the delete.
  - The key is read first (a quorum read) and the conditions are checked against it first. If a
    condition does not hold, nothing is written and the task fails with a message showing the
    conditions and the key's current C(modifiedIndex) (C(mod_revision) on v3), unless O(fail_on_mismatch=false), which
    reports RV(swapped=false) instead. This holds even when the key already holds O(value); the
    task cannot tell its own earlier write from another writer's, so two runs taking a lock under
    the same name must not both get it.
  - When the conditions hold and the key already holds O(value) (or is already absent for
    O(state=absent)), the task reports ok and writes nothing.
  - A re-run of a swap that succeeded therefore fails, because its condition (for example
    O(prev_value)) no longer holds. To accept a key that already holds your value, say so with a
    condition that holds for it, such as O(prev_value) equal to O(value); for a lock, put a
    unique run id in O(value) so that only the run that took the lock can renew or release it.
  - With O(refresh_ttl=true) the task renews the key's TTL without changing its value, only while
    O(prev_value) or O(prev_index) hold (for example while you still hold a lock).
  - Without any condition the module sets or deletes the key unconditionally, like M(pyetcd.etcd.etcd_key).
  - "With O(api_version=v3): the key is used verbatim; a TTL is a lease granted for the write (the key goes when
    the lease expires, and the lease is revoked again when the condition fails); RV(node) has the v3 fields and
    RV(revision) is returned. A lock taken with O(prev_exist=false) and O(ttl) is therefore a key holding its own
    lease; see O(refresh_ttl) for renewing it."
author:
  - pyetcd.etcd contributors (!UNKNOWN)
extends_documentation_fragment:
  - pyetcd.etcd.connection
attributes:
  check_mode:
    support: full
    description: Reads the key and evaluates the conditions against it; reports whether it would swap; writes nothing.
  diff_mode:
    support: full
    description: Shows state, value and TTL before and after. Values are hidden when O(sensitive=true).
  idempotent:
    support: partial
    description:
      - A re-run whose conditions still hold and whose key already holds O(value) (or is absent) reports no change
        and writes nothing, for example with O(prev_value) equal to O(value), or O(refresh_ttl) within the renewal rule.
      - A re-run whose condition no longer holds fails (or reports RV(swapped=false)), even when the key holds O(value).
  action_group:
    support: full
    description: Connection options can be set once for the play with C(module_defaults) for C(group/pyetcd.etcd.etcd).
    membership:
      - pyetcd.etcd.etcd
options:
  key:
    description:
      - Path of the key, for example V(/locks/deploy). On v2 a missing leading V(/) is added.
      - With O(api_version=v3) the key is used verbatim (V(locks/deploy) and V(/locks/deploy) are different keys).
    type: str
    required: true
    version_added: 0.1.0
  value:
    description:
      - Value to write when the conditions hold. Required with O(state=present), except with O(refresh_ttl=true),
        which keeps the key's value and refuses O(value); not used with O(state=absent).
      - Strings are stored as given, integers and floats as their decimal text, booleans as V(true) or V(false)
        (the rule of M(pyetcd.etcd.etcd_dir)). Lists, dictionaries and null are refused; pass structures as JSON
        text, for example V({{ my_list | to_json }}).
    type: raw
    version_added: 0.1.0
  state:
    description:
      - V(present) swaps the value in (compare-and-swap); V(absent) deletes the key (compare-and-delete).
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  prev_value:
    description:
      - Condition - the key must currently hold this value. On v2 an empty string cannot be compared by etcd and
        is refused.
      - Converted to text with the same rule as O(value) (V(true) compares with the stored text V(true)).
      - With O(api_version=v3), the txn compare C(VALUE == prev_value) (which fails for a missing key); an empty
        string compares with an empty value.
    type: raw
    version_added: 0.1.0
  prev_index:
    description:
      - Condition - the key's C(modifiedIndex) must currently be this number (at least V(1)).
      - With O(api_version=v3), the key's C(mod_revision) (the store revision of its last write, C(mod_revision) in RV(node)),
        checked by the txn compare C(MOD == prev_index).
    type: int
    version_added: 0.1.0
  prev_exist:
    description:
      - Condition - V(true) the key must exist, V(false) it must not exist (create only).
      - V(false) cannot be combined with O(prev_value) or O(prev_index), which etcd would ignore.
      - With O(api_version=v3), V(false) is the txn compare C(CREATE == 0) (the key has no create revision, so it does
        not exist) and V(true) C(VERSION > 0).
      - Only with O(state=present).
    type: bool
    version_added: 0.1.0
  ttl:
    description:
      - Seconds after which etcd deletes the key, set by the swap. Must be at least V(1). Only with O(state=present).
      - A key that already holds O(value) and expires within O(ttl) seconds counts as done (the rule of
        M(pyetcd.etcd.etcd_key)); one that expires later or never is swapped again if the conditions hold.
      - Without O(ttl) the swapped key has no TTL, as after any etcd write. An existing TTL does not matter
        when deciding whether the key already holds O(value).
      - With O(refresh_ttl=true), the TTL the key is renewed to.
      - With O(api_version=v3), a lease of O(ttl) seconds is granted and the key is put with it; the key's time
        left (C(ttl) in RV(node)) is its lease's.
    type: int
    version_added: 0.1.0
  refresh_ttl:
    description:
      - Renew the TTL of the key to O(ttl) without changing its value, only if the conditions hold (etcd's
        C(refresh=true), which does not notify watchers). One request carries the refresh and every condition,
        so the server checks them atomically; use it to keep a lock alive only while you still hold it.
      - Requires O(ttl) and O(prev_value) or O(prev_index); refuses O(value) and O(prev_exist=false).
      - "Renewal rule (shared with M(pyetcd.etcd.etcd_key)): a key with at least half of O(ttl) seconds left, and not
        more than O(ttl), is left alone and reported ok; one with less than half left, more than O(ttl) left, or no
        TTL is refreshed to O(ttl) and reported changed. Running the task more often than every O(ttl)/2 seconds
        therefore keeps the key alive without a change on every run."
      - "With O(api_version=v3): when the key's lease was granted for O(ttl) seconds and holds no other key, a
        transaction checks the conditions together with C(LEASE ==) the key's lease, then that lease is kept alive
        (a lease keep-alive: no write, no new revision, watchers are not woken). Otherwise (another TTL, a lease
        shared with other keys, or no lease) the key's value is put again with a new lease of O(ttl) seconds, in
        one transaction with the conditions; that is a write, with a new C(mod_revision). The keep-alive itself
        cannot be part of a transaction, so it follows the check as a second request."
      - Only with O(state=present).
    type: bool
    default: false
    version_added: 0.1.0
  fail_on_mismatch:
    description:
      - When a condition does not hold (even if the key already holds O(value)), fail the task (V(true)),
        or report RV(swapped=false) with RV(mismatch) and succeed without a change (V(false)), for example to
        wait for a lock with C(until).
    type: bool
    default: true
    version_added: 0.1.0
  sensitive:
    description:
      - Treat O(value) and O(prev_value) as secret; hide them and the key's values in the diff, in the returned
        nodes, in the returned C(invocation) and in messages. Key names are never masked, even when they
        contain the value's text.
      - Ansible may still log the module's arguments on the managed host; set C(no_log) on the task
        to keep the values out of every log as well.
    type: bool
    default: false
    version_added: 0.1.0
notes:
  - Between the read and the write another writer may change the key. The server then refuses the
    condition and the module reads again, up to three times, before deciding.
  - With O(api_version=v3), releasing a lock (O(state=absent)) deletes the key; its lease, then holding nothing,
    expires on its own.
seealso:
  - module: pyetcd.etcd.etcd_key
  - module: pyetcd.etcd.etcd_dir
  - module: pyetcd.etcd.etcd_info
  - plugin: pyetcd.etcd.etcd
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: A token unique to this run, so that only this run can renew or release its lock
  ansible.builtin.set_fact:
    lock_owner: "{{ inventory_hostname }}-{{ lookup('ansible.builtin.password', '/dev/null', chars=['ascii_lowercase', 'digits'], length=16) }}"

- name: Take a deploy lock only if nobody holds it (another run for the same host fails here too)
  pyetcd.etcd.etcd_cas:
    host: 127.0.0.1:2379
    key: /locks/deploy
    value: "{{ lock_owner }}"
    prev_exist: false
    ttl: 600

- name: Keep the lock alive during a long step, only while this run still holds it
  pyetcd.etcd.etcd_cas:
    key: /locks/deploy
    prev_value: "{{ lock_owner }}"
    ttl: 600
    refresh_ttl: true

- name: Release the lock only if this run still holds it
  pyetcd.etcd.etcd_cas:
    key: /locks/deploy
    state: absent
    prev_value: "{{ lock_owner }}"

- name: Try to take over a flag, and just report whether it worked
  pyetcd.etcd.etcd_cas:
    key: /leader
    value: "{{ inventory_hostname }}"
    prev_value: standby
    fail_on_mismatch: false
  register: takeover

- name: Act only when the swap happened
  ansible.builtin.debug:
    msg: "{{ takeover.mismatch | default('took over') }}"

- name: Move the release pointer from the version we expect to the new one (fails once it moved)
  pyetcd.etcd.etcd_cas:
    key: /release/current
    prev_value: "1.4.2"
    value: "1.5.0"

- name: Accept a pointer that already names the new version (ok without a write)
  pyetcd.etcd.etcd_cas:
    key: /release/current
    prev_value: "1.5.0"
    value: "1.5.0"

- name: Swap only if nobody wrote the key since we read it at index 42
  pyetcd.etcd.etcd_cas:
    key: /config/app/mode
    value: maintenance
    prev_index: 42

- name: The same lock on the v3 store (the key carries its own lease of 600 seconds)
  module_defaults:
    group/pyetcd.etcd.etcd:
      api_version: v3
      host: 127.0.0.1:2379
  block:
    - name: Take the lock (one txn, compare CREATE == 0, put with the lease)
      pyetcd.etcd.etcd_cas:
        key: locks/deploy
        value: "{{ lock_owner }}"
        prev_exist: false
        ttl: 600
      register: lock

    - name: Keep it alive while this run holds it (compare VALUE, then a lease keep-alive)
      pyetcd.etcd.etcd_cas:
        key: locks/deploy
        prev_value: "{{ lock_owner }}"
        ttl: 600
        refresh_ttl: true

    - name: Swap only if nobody wrote the key since the lock was taken (compare MOD == mod_revision)
      pyetcd.etcd.etcd_cas:
        key: locks/deploy
        value: "{{ lock_owner }}-done"
        prev_index: "{{ lock.node.mod_revision }}"

    - name: Release it (one txn, compare VALUE, delete)
      pyetcd.etcd.etcd_cas:
        key: locks/deploy
        state: absent
        prev_value: "{{ lock_owner }}-done"
'''

RETURN = r'''
key:
  description: The key, with a leading V(/) on v2; as given with O(api_version=v3).
  returned: always
  type: str
  sample: /locks/deploy
swapped:
  description:
    - Whether the write (swap or delete) was made; in check mode, whether it would be made.
    - V(false) when the key already held the wanted state, and on a condition mismatch with O(fail_on_mismatch=false).
    - With O(refresh_ttl=true), whether the TTL was (or would be) refreshed.
  returned: always
  type: bool
  sample: true
mismatch:
  description:
    - Why nothing was written, when a condition did not hold (with O(fail_on_mismatch=false)).
      Names the conditions and the key's current C(modifiedIndex) (C(mod_revision) with O(api_version=v3)).
  returned: when a condition did not hold
  type: str
  sample: "compare-and-swap of /leader at http://127.0.0.1:2379 not done: condition prev_value='standby' not met
    (prev_value failed): the key is at modifiedIndex 12 with value 'web2'"
node:
  description:
    - The key after the task; V(null) when it does not exist afterwards.
    - In check mode, the predicted node; indexes and expiration of a write that was not made are V(null).
    - The value is V(<hidden>) when O(sensitive=true).
    - "With O(api_version=v3) the node also has C(create_revision), C(mod_revision), C(version) (writes since the
      key was created) and C(lease) (the lease ID, V(0) for none); C(created_index) and C(modified_index) repeat the
      two revisions and C(ttl) is the seconds the lease has left. A value that is not UTF-8 is V(null), with its bytes
      in C(value_base64). In check mode C(mod_revision), C(version) and C(lease) of a write not made are V(null)."
  returned: always
  type: dict
  sample:
    key: /locks/deploy
    value: web1
    dir: false
    created_index: 15
    modified_index: 15
    ttl: 600
    expiration: "2026-01-01T12:10:00.000000000Z"
prev_node:
  description:
    - The key as read before the task; V(null) when it did not exist.
    - The value is V(<hidden>) when O(sensitive=true).
  returned: always
  type: dict
  sample:
    key: /release/current
    value: "1.4.2"
    dir: false
    created_index: 7
    modified_index: 9
    ttl: null
    expiration: null
revision:
  description:
    - The store revision of etcd's last answer, the write's transaction when one was sent (else the read). Read or
      watch from it for a view that includes this task's write.
  returned: always, with O(api_version=v3)
  type: int
  sample: 16
'''

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.module import ERRORS, EtcdModule
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.cas import CasRequest, cas_result, ensure_cas
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store import open_store
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.values import stored_value


def main() -> None:
    module = EtcdModule({
        # 'key' names an etcd path, not a secret: say so to validate-modules.
        'key': {'type': 'str', 'required': True, 'no_log': False},
        # raw, not str: Ansible's str conversion would turn a boolean into 'True'.
        'value': {'type': 'raw'},
        'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
        'prev_value': {'type': 'raw'},
        'prev_index': {'type': 'int'},
        'prev_exist': {'type': 'bool'},
        'ttl': {'type': 'int'},
        'refresh_ttl': {'type': 'bool', 'default': False},
        'fail_on_mismatch': {'type': 'bool', 'default': True},
        'sensitive': {'type': 'bool', 'default': False},
    })
    params = module.params
    key = module.key()
    module.include(key=key)
    raw = {name: params[name] for name in ('value', 'prev_value')}
    if params['sensitive']:
        module.hide_options(['value', 'prev_value'])
    try:
        request = CasRequest(key=key, state=params['state'], value=stored_value(raw['value'], 'value'),
                             prev_value=stored_value(raw['prev_value'], 'prev_value'), prev_index=params['prev_index'],
                             prev_exist=params['prev_exist'], ttl=params['ttl'], sensitive=params['sensitive'],
                             refresh_ttl=params['refresh_ttl'], api_version=module.api_version)
        if request.sensitive:
            module.hide_values([request.value, request.prev_value])
        request.validate()  # contradictory options fail before anything is sent
        with module.client() as client:
            store = open_store(client)
            outcome = ensure_cas(store, request, check_mode=module.check_mode)
    except ERRORS as exc:  # KeyValueError is a ValueError, among them
        module.fail_from(exc, key=key)
    result = cas_result(outcome, request, diff=module.diff)
    if module.v3:
        result['revision'] = store.revision
    if outcome.mismatch and params['fail_on_mismatch']:
        module.fail(outcome.message, **result)
    module.exit(**result)


if __name__ == '__main__':
    main()
