#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
module: etcd_dir
short_description: Manage an etcd directory (a v3 key prefix) and, declaratively, the keys below it
version_added: 0.1.0
description:
  - Makes a directory of etcd's v2 keys API exist (optionally with a TTL) or not exist.
  - With O(content), also makes the keys and sub-directories below it hold the given tree, and
    with O(purge=true) removes whatever is below the directory and not in O(content).
  - The whole directory is read once (a recursive quorum read) and compared with the wanted
    state; only the differences are written. A run with nothing to change sends exactly one
    request and reports no change.
  - The writes go out together on a few connections (O(concurrency)), several pipelined on each,
    so a thousand keys in one task take under a second instead of the minutes a loop of
    M(pyetcd.etcd.etcd_key) tasks would need.
  - New keys are written with C(prevExist=false) and changed or purged keys with the
    C(modifiedIndex) that was read, so a key another writer changed after the read is not
    overwritten; the task then fails naming that key.
  - Directories are deleted without C(recursive) (except with O(state=absent) and O(recursive=true)),
    so etcd itself refuses to delete a directory that is not empty. That way nothing the read did not list
    is deleted, neither hidden nodes (names starting with V(_)), which etcd never lists,
    nor nodes another writer added after the read.
  - With O(api_version=v3), the directory is the key prefix O(path) followed by V(/); every key starting
    with it is below the directory. The prefix is read once (a linearizable range read at one store revision)
    and the whole change, creates, updates and purges together, is sent as one transaction that etcd applies
    only if no key of the prefix was created or changed since the read and every key to update or delete is
    still as read. So all the keys get one revision, or nothing is written and the task fails naming what
    changed meanwhile. See the notes for larger changes, O(ttl), and what has no v3 equivalent.
author:
  - pyetcd.etcd contributors (!UNKNOWN)
extends_documentation_fragment:
  - pyetcd.etcd.connection
attributes:
  check_mode:
    support: full
    description:
      - Reads the directory (on v3, the prefix) and reports what would be created, updated and deleted;
        nothing is written (on v3 no lease is granted either).
      - The read cannot see hidden nodes, so check mode cannot predict that a directory holding only
        hidden nodes would be kept (see O(purge)) or refused (see O(recursive)).
  diff_mode:
    support: full
    description:
      - Shows the tree below O(path) before and after as nested dictionaries, and the directory's TTL in the headers.
      - Values are shown as V(<hidden>) when O(sensitive=true).
  idempotent:
    support: full
    description:
      - A re-run with the same options performs one read and no write and reports no change.
      - On v3 with O(ttl), one more read per lease the content keys hold (its time left decides the TTL rule).
  action_group:
    support: full
    description: Connection options can be set once for the play with C(module_defaults) for C(group/pyetcd.etcd.etcd).
    membership:
      - pyetcd.etcd.etcd
options:
  path:
    description:
      - Path of the directory, for example V(/config/app). A missing leading V(/) is added.
      - V(/) is the root directory; it can be given O(content) but cannot be removed or get a TTL.
      - With O(api_version=v3) the path is taken verbatim (V(config/app) and V(/config/app) are different
        prefixes; no V(/) is added), trailing V(/) removed; the keys below it start with O(path) and V(/).
        V(/) is the prefix V(/). A key named exactly O(path) is not below the directory and is never touched.
    type: str
    required: true
    version_added: 0.1.0
  state:
    description:
      - V(present) makes the directory exist (with O(content) when given); V(absent) removes it if it exists.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  content:
    description:
      - The tree wanted below O(path). A dictionary is a directory (an empty dictionary an empty
        directory); any other value is a key.
      - Strings are stored as given. Integers and floats are stored as their decimal text, and
        booleans as V(true) or V(false). A null value, a list or any other type is refused with
        a message naming the key; pass lists and structures as JSON text, for example
        V({{ ports | to_json }}).
      - Names are single path segments. Names containing V(/), empty names, V(.) and V(..) are
        refused, and so are names starting with V(_), because etcd hides such nodes from directory
        listings, so a recursive read could never see them (manage them with M(pyetcd.etcd.etcd_key)).
      - Keys and directories already below O(path) that are not in O(content) are left alone
        unless O(purge=true).
      - On v3 the keys are O(path)/name/..., and names starting with V(_) are accepted (nothing is hidden there).
        An empty dictionary has no v3 equivalent (a prefix exists only through the keys below it), so nothing is
        written for it and the task warns. Keys below O(path) that are not in O(content) are left alone unless O(purge=true).
      - Only used with O(state=present).
    type: dict
    version_added: 0.1.0
  purge:
    description:
      - Delete every key and directory below O(path) that is not in O(content), so the directory
        holds exactly O(content). Requires O(content); V({}) empties the directory.
      - Only what the read listed is deleted. Each key is deleted on the C(modifiedIndex) that was read;
        then each directory, deepest first, with a delete that etcd refuses when the directory is not empty.
      - Hidden nodes (names starting with V(_)) are not listed by etcd, so they are never purged, and
        neither are nodes written by someone else after the read. A directory that still holds such
        nodes is kept with them (and so are the directories above it); it is listed in RV(kept),
        not in RV(deleted), and the task warns about it. Keeping a directory is not a failure.
      - On v3, every key below O(path) that is not a key of O(content) is deleted, each only if unchanged since
        the read, in the same transaction as the writes. There are no directories, so there are no conflicts
        of kind; a key V(a) and keys below V(a/) can coexist, and V(a) goes only with O(purge=true).
      - Also allows replacing a key by a directory (or a directory by a key) where O(content)
        wants the other kind, including a key at O(path) itself. Without O(purge) such a conflict
        fails the task and names every conflicting node; nothing is written. When a directory that a
        key is to replace is kept (it is not empty after its listed content was deleted), the task
        fails saying so before any key is written.
    type: bool
    default: false
    version_added: 0.1.0
  recursive:
    description:
      - With O(state=absent), remove the directory together with everything below it, in one
        recursive delete. etcd then also removes what the read could not list (hidden nodes, whose
        names start with V(_), and nodes written after the read); RV(deleted) lists only what the read listed.
      - Without it, the directory is deleted only if it is empty. The task fails, saying that O(path) is
        not empty, when the read lists something below it, and when etcd refuses the delete because the
        directory holds hidden nodes or gained a node after the read; nothing is deleted then.
      - Only for O(api_version=v2); on v3 it is refused (V(recursive needs api_version=v2)). On v3,
        O(state=absent) always deletes every key below the prefix, in one delete of the prefix range,
        applied only if no key of it was created or changed since the read.
    type: bool
    default: false
    version_added: 0.1.0
  ttl:
    description:
      - Seconds after which etcd deletes the directory (and everything below it). Must be at least V(1).
        Zero, which etcd takes as "expire now", and negative numbers are refused before connecting.
      - A new directory is created with this TTL. An existing directory that already expires within
        O(ttl) seconds is left alone, so a re-run does not push the expiry forward and reports no change
        (the rule of M(pyetcd.etcd.etcd_key)); one that expires later, or never, gets the TTL set.
      - etcd 3.5 refuses to change the TTL of an existing directory in its v2 API (3.4 accepts it);
        there the task fails saying so, and nothing is written.
      - When omitted, the TTL of an existing directory is left as it is (unlike M(pyetcd.etcd.etcd_key),
        which removes it, because etcd 3.5 could not).
      - Applies to the directory at O(path) only; keys written from O(content) have no TTL.
      - On v3 a prefix has no TTL of its own; the TTL is a lease, and every key the task writes from O(content)
        goes on one lease, so they expire together (granted once per run; revoked again when the transaction is
        refused). A content key that holds its value on a lease ending within O(ttl) seconds is left alone; when those
        keys share one lease, keys written join it, as a key written into a v2 directory with a TTL expired
        with it. A content key without a lease, or on one that ends later, is put again on the task's lease
        (and listed in RV(updated)). Keys below O(path) that are not in O(content) keep their own lease or none.
        Without O(ttl), an updated key keeps the lease it has and a new key gets none.
    type: int
    version_added: 0.1.0
  sensitive:
    description:
      - Treat the values of O(content) as secret. They are shown as V(<hidden>) in the diff, in
        error messages and in the task's arguments echoed back by the module (as with C(-vvv)).
      - Ansible may still log the module's arguments on the managed host; set C(no_log) on the task
        to keep the values out of every log as well.
    type: bool
    default: false
    version_added: 0.1.0
  concurrency:
    description:
      - How many connections carry the writes when many keys change; on each, up to 16 writes are sent
        before their answers are read (HTTP pipelining). V(1) sends the writes one after another.
        Must be at least V(1).
      - The writes of one step touch distinct keys, so their order does not matter. Deletions always come
        before the writes that replace them.
      - On v3 it is the number of connections carrying the transactions of a change larger than O(max_txn_ops).
    type: int
    default: 8
    version_added: 0.1.0
notes:
  - On v3, a change fits one transaction when it has at most O(max_txn_ops) writes and at most O(max_txn_ops)
    compares (one over the prefix plus one per key updated or deleted), etcd limits each, and its keys and
    values come to at most 1 MiB (etcd refuses larger requests). A larger change goes as several transactions
    of at most O(max_txn_ops) writes and about 1 MiB each, each guarded key by key (a new key must still be
    absent, an updated or deleted key unchanged since the read) and sent pipelined. Each transaction is all or
    nothing, but together they are not atomic. When one fails or is refused, because another writer changed one
    of its keys, the task fails, names that transaction and its changed keys, and says how many transactions
    were applied (those already sent on other connections are answered and may be applied too); a re-run
    completes the rest, and a transaction whose answer was lost is never sent again.
  - On v3 the results have the same shape as on v2 but list keys only (a prefix has no node of its own),
    and RV(revision) is returned. RV(kept) is always empty, and RV(writes) counts keys put or deleted (a prefix
    delete counts one).
  - etcd's v2 API has no transactions. If a write fails part way, the writes before it stay
    applied; the task fails, says how many were done, and a re-run completes the rest.
  - The TTLs of keys below O(path) are not managed. A key rewritten because its value changed loses its TTL.
  - etcd takes no index condition on a directory delete, and deletes a key given as a directory.
    A directory that another writer replaces by a key between the read and the delete is therefore
    lost with that key; every other change made after the read is kept.
seealso:
  - module: pyetcd.etcd.etcd_key
  - module: pyetcd.etcd.etcd_cas
  - module: pyetcd.etcd.etcd_info
  - plugin: pyetcd.etcd.etcd
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Make sure a directory exists
  pyetcd.etcd.etcd_dir:
    host: 127.0.0.1:2379
    path: /config/app

- name: Publish the configuration of a service as a tree of keys
  pyetcd.etcd.etcd_dir:
    path: /config/app
    content:
      port: 8080
      debug: false
      database:
        host: db1.example.com
        name: app
      features: {}

- name: Make the directory hold exactly this content, removing anything else below it
  pyetcd.etcd.etcd_dir:
    path: /config/app
    content:
      port: "8080"
      backends: '{{ ["10.0.0.1", "10.0.0.2"] | to_json }}'
    purge: true

- name: Publish secrets without showing them in diffs or output
  pyetcd.etcd.etcd_dir:
    path: /secrets/app
    content:
      db_password: "{{ vault_db_password }}"
    sensitive: true

- name: A session directory that etcd removes after ten minutes
  pyetcd.etcd.etcd_dir:
    path: /sessions/deploy
    ttl: 600

- name: Remove a directory only if it is empty (etcd refuses otherwise, hidden nodes included)
  pyetcd.etcd.etcd_dir:
    path: /config/unused
    state: absent

- name: The same tree on the v3 store, as keys below the prefix config/app/ sharing one ten-minute lease
  pyetcd.etcd.etcd_dir:
    api_version: v3
    path: config/app
    content:
      port: 8080
      database:
        host: db1.example.com
    purge: true
    ttl: 600

- name: Delete every key below the v3 prefix config/legacy/
  pyetcd.etcd.etcd_dir:
    api_version: v3
    path: config/legacy
    state: absent

- name: Remove a v2 directory and everything below it, hidden nodes too (recursive is v2 only)
  pyetcd.etcd.etcd_dir:
    api_version: v2
    path: /config/legacy
    state: absent
    recursive: true
'''

RETURN = r'''
path:
  description:
    - The directory, with a leading V(/) and no trailing V(/).
    - On v3 as given, without trailing V(/) (the prefix is this and V(/)).
  returned: always
  type: str
  sample: /config/app
created:
  description:
    - Every key and directory that did not exist and exists after the task (or would, in check mode),
      including O(path) itself and directories created implicitly by their keys. Sorted.
    - A node replaced by a node of the other kind is listed here and in RV(deleted).
    - On v3, the keys created (full names), no directories.
  returned: always
  type: list
  elements: str
  sample: [/config/app, /config/app/database, /config/app/database/host, /config/app/port]
updated:
  description:
    - Every key whose value changed (or would change, in check mode). Sorted.
    - On v3 also the content keys put again only to go on the task's lease (see O(ttl)).
  returned: always
  type: list
  elements: str
  sample: [/config/app/port]
deleted:
  description:
    - Every key and directory the read listed that the task deleted (or would delete, in check mode). Sorted.
    - Directories in RV(kept) are not listed. After a recursive delete (O(state=absent), O(recursive=true)),
      hidden nodes and nodes written after the read are gone too but not listed, since the read could not see them.
    - On v3, the keys deleted (full names), no directories.
  returned: always
  type: list
  elements: str
  sample: [/config/app/legacy, /config/app/old, /config/app/old/flag]
kept:
  description:
    - Directories that O(purge) was to delete but etcd refused to, because they were not empty after
      their listed content was deleted, because they hold hidden nodes or nodes written after the read. They
      stay, with what is in them, and appear as empty directories in the diff after. Sorted.
    - Always empty in check mode, which cannot see hidden nodes.
  returned: always
  type: list
  elements: str
  sample: [/config/app/old]
writes:
  description:
    - Number of write requests etcd applied. V(0) in check mode and when nothing changed.
    - A directory delete that etcd refused (see RV(kept)) is not counted; a task whose only writes were refused
      reports no change.
  returned: always
  type: int
  sample: 3
planned_writes:
  description:
    - Number of write requests the plan needs. One request can create many nodes (a key creates its
      parent directories) or delete many (a recursive directory delete).
    - On v3 the number of keys to put or delete (a prefix delete counts one).
  returned: always
  type: int
  sample: 3
revision:
  description:
    - The store revision after the change (every key written has it when the change was one transaction);
      the revision of the read when nothing was written and in check mode.
  returned: when O(api_version=v3)
  type: int
  sample: 1042
'''

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.module import ERRORS, EtcdModule
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir import (
    DEFAULT_CONCURRENCY,
    DirWriteError,
    check_options,
    content_secrets,
    dir_result,
    ensure_dir,
    masked_invocation,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_plan import normalize_path
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_v3 import check_options_v3, ensure_prefix, v3_path
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store import open_store


def main() -> None:
    module = EtcdModule({
        'path': {'type': 'str', 'required': True},
        'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
        'content': {'type': 'dict'},
        'purge': {'type': 'bool', 'default': False},
        'recursive': {'type': 'bool', 'default': False},
        'ttl': {'type': 'int'},
        'sensitive': {'type': 'bool', 'default': False},
        'concurrency': {'type': 'int', 'default': DEFAULT_CONCURRENCY},
    }, required_if=[['purge', True, ['content']]])
    params = module.params
    if params['sensitive']:
        module.include(invocation=masked_invocation(params))
        module.hide_values(content_secrets(params['content']))
    # A v3 prefix delete always takes everything below the prefix: there is no non-recursive one.
    module.refuse_other_api(v2_only=['recursive'])
    options = {name: params[name] for name in ('state', 'content', 'purge', 'ttl')}
    path = params['path']
    try:
        # Refuse bad options before connecting: the message is about the task, not etcd.
        path = v3_path(path)[0] if module.v3 else normalize_path(path)
        module.include(path=path)
        if module.v3:
            check_options_v3(path, concurrency=params['concurrency'], **options)
        else:
            options['recursive'] = params['recursive']
            check_options(path, concurrency=params['concurrency'], **options)
        with module.client() as client:
            if module.v3:
                outcome = ensure_prefix(client, path, check_mode=module.check_mode,
                                        concurrency=params['concurrency'], **options)
            else:
                outcome = ensure_dir(open_store(client), path, check_mode=module.check_mode,
                                     concurrency=params['concurrency'], **options)
    except ERRORS as exc:
        partial = {'changed': exc.done > 0, 'writes': exc.done} if isinstance(exc, DirWriteError) else {}
        module.fail_from(exc, key=path, **partial)
    if outcome.kept:
        module.warn('purge kept %d director%s that etcd found not empty, holding nodes the read did not list '
                    '(hidden ones, whose names start with "_", or ones written after the read): %s'
                    % (len(outcome.kept), 'y' if len(outcome.kept) == 1 else 'ies', ', '.join(outcome.kept)))
    for warning in getattr(outcome, 'warnings', ()):
        module.warn(warning)
    result = dir_result(outcome, diff=module.diff, sensitive=params['sensitive'])
    if module.v3:
        result['revision'] = outcome.revision
    module.exit(**result)


if __name__ == '__main__':
    main()
