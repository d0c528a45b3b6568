#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
module: etcd_cas
short_description: Compare-and-swap or compare-and-delete one etcd v2 key
version_added: 0.1.0
description:
  - Sets a key to O(value) only if it still holds O(prev_value), is still at O(prev_index), or
    does (or does not) exist (O(prev_exist)); or, with O(state=absent), deletes it only if it
    holds O(prev_value) or is at O(prev_index). Useful for locks, leader flags and gating
    rolling changes.
  - Every condition given is sent to etcd in the same request, so the server checks them all
    atomically.
  - The key is read first (a quorum read). If it already holds O(value) (or is already absent
    for O(state=absent)) the task reports ok and writes nothing, whatever the conditions say,
    so a re-run of a swap that succeeded does not fail.
  - If a condition does not hold, nothing is written and the task fails with a message showing
    the conditions and the key's current C(modifiedIndex), unless O(fail_on_mismatch=false),
    which reports RV(swapped=false) instead.
  - Without any condition the module sets or deletes the key unconditionally, like M(pyetcd.etcd.etcd_key).
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
    support: full
    description: Once the key holds O(value) (or is absent), a re-run reports no change and writes nothing.
  action_group:
    support: full
    description: Connection options can be set once for the play with C(module_defaults) for C(group/pyetcd.etcd.etcd).
    membership:
      - pyetcd.etcd.etcd
options:
  key:
    description:
      - Path of the key, for example V(/locks/deploy). A missing leading V(/) is added.
    type: str
    required: true
    version_added: 0.1.0
  value:
    description:
      - Value to write when the conditions hold. Required with O(state=present); not used with O(state=absent).
    type: str
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
      - Condition - the key must currently hold this value. An empty string cannot be compared by etcd and is refused.
    type: str
    version_added: 0.1.0
  prev_index:
    description:
      - Condition - the key's C(modifiedIndex) must currently be this number (at least V(1)).
    type: int
    version_added: 0.1.0
  prev_exist:
    description:
      - Condition - V(true) the key must exist, V(false) it must not exist (create only).
      - V(false) cannot be combined with O(prev_value) or O(prev_index), which etcd would ignore.
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
    type: int
    version_added: 0.1.0
  fail_on_mismatch:
    description:
      - When a condition does not hold and the key does not already hold the wanted state, fail the task (V(true)),
        or report RV(swapped=false) with RV(mismatch) and succeed without a change (V(false)).
    type: bool
    default: true
    version_added: 0.1.0
  sensitive:
    description:
      - Treat O(value) and O(prev_value) as secret; hide them and the key's values in the diff, in the returned
        nodes and in messages, and mask them in all output of the task.
      - Ansible may still log the module's arguments on the managed host; set C(no_log) on the task
        to keep the values out of every log as well.
    type: bool
    default: false
    version_added: 0.1.0
notes:
  - Between the read and the write another writer may change the key. The server then refuses the
    condition and the module reads again, up to three times, before deciding.
seealso:
  - module: pyetcd.etcd.etcd_key
  - module: pyetcd.etcd.etcd_dir
  - module: pyetcd.etcd.etcd_info
  - plugin: pyetcd.etcd.etcd
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Take a deploy lock only if nobody holds it
  pyetcd.etcd.etcd_cas:
    host: 127.0.0.1:2379
    key: /locks/deploy
    value: "{{ inventory_hostname }}"
    prev_exist: false
    ttl: 600

- name: Move the release pointer from the version we expect to the new one
  pyetcd.etcd.etcd_cas:
    key: /release/current
    prev_value: "1.4.2"
    value: "1.5.0"

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

- name: Release the lock only if we still hold it
  pyetcd.etcd.etcd_cas:
    key: /locks/deploy
    state: absent
    prev_value: "{{ inventory_hostname }}"

- name: Swap only if nobody wrote the key since we read it at index 42
  pyetcd.etcd.etcd_cas:
    key: /config/app/mode
    value: maintenance
    prev_index: 42
'''

RETURN = r'''
key:
  description: The key, with a leading V(/).
  returned: always
  type: str
  sample: /locks/deploy
swapped:
  description:
    - Whether the write (swap or delete) was made; in check mode, whether it would be made.
    - V(false) when the key already held the wanted state, and on a condition mismatch with O(fail_on_mismatch=false).
  returned: always
  type: bool
  sample: true
mismatch:
  description:
    - Why nothing was written, when a condition did not hold (with O(fail_on_mismatch=false)).
      Names the conditions and the key's current C(modifiedIndex).
  returned: when a condition did not hold
  type: str
  sample: "compare-and-swap of /leader at http://127.0.0.1:2379 not done: condition prev_value='standby' not met
    (prev_value failed): the key is at modifiedIndex 12 with value 'web2'"
node:
  description:
    - The key after the task; V(null) when it does not exist afterwards.
    - In check mode, the predicted node; indexes and expiration of a write that was not made are V(null).
    - The value is V(<hidden>) when O(sensitive=true).
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
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyetcd.etcd.plugins.module_utils.cas_plan import CasPlanError, validate
from ansible_collections.pyetcd.etcd.plugins.module_utils.cas_state import CasRequest, cas_result, ensure_cas
from ansible_collections.pyetcd.etcd.plugins.module_utils.connection import (
    CONNECTION_REQUIRED_TOGETHER,
    client_errors,
    client_from_module,
    connection_argument_spec,
    describe_error,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.key_value import (
    KeyValueError,
    hide_in_invocation,
    hide_outside,
    stored_value,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=connection_argument_spec(
            # 'key' names an etcd path, not a secret: say so to validate-modules.
            key={'type': 'str', 'required': True, 'no_log': False},
            # raw, not str: Ansible's str conversion would turn a boolean into 'True'.
            value={'type': 'raw'},
            state={'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
            prev_value={'type': 'raw'},
            prev_index={'type': 'int'},
            prev_exist={'type': 'bool'},
            ttl={'type': 'int'},
            refresh_ttl={'type': 'bool', 'default': False},
            fail_on_mismatch={'type': 'bool', 'default': True},
            sensitive={'type': 'bool', 'default': False},
        ),
        required_together=CONNECTION_REQUIRED_TOGETHER,
        supports_check_mode=True,
    )
    params = module.params
    key = '/' + params['key'].lstrip('/')
    sensitive = params['sensitive']
    raw = {name: params[name] for name in ('value', 'prev_value')}
    if sensitive:
        # Hidden in the invocation only: no_log_values would mask the values' text in key names too.
        hide_in_invocation(params, ['value', 'prev_value'])
    try:
        value, prev_value = (stored_value(raw[name], name) for name in ('value', 'prev_value'))
        request = CasRequest(key=key, state=params['state'], value=value, prev_value=prev_value,
                             prev_index=params['prev_index'], prev_exist=params['prev_exist'], ttl=params['ttl'],
                             sensitive=sensitive, refresh_ttl=params['refresh_ttl'])
        # Contradictory options fail before anything is sent.
        validate(request.state, request.value, request.prev_value, request.prev_index, request.prev_exist, request.ttl,
                 request.refresh_ttl)
    except (KeyValueError, CasPlanError) as exc:
        module.fail_json(msg='%s: %s' % (key, exc), key=key)
    secrets = [value, prev_value] if sensitive else []
    client = client_from_module(module)
    endpoint = client.current_endpoint
    try:
        with client:
            outcome = ensure_cas(client, request, check_mode=module.check_mode)
    except CasPlanError as exc:
        module.fail_json(msg='%s (etcd at %s)' % (hide_outside(str(exc), key, secrets), endpoint), key=key)
    except client_errors() as exc:
        module.fail_json(msg=hide_outside(describe_error(exc, key=key, hide=[params['password']]), key, secrets),
                         key=key)
    result = cas_result(outcome, request, diff=module._diff)  # pylint: disable=protected-access
    if outcome.mismatch and params['fail_on_mismatch']:
        module.fail_json(msg=outcome.message, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
