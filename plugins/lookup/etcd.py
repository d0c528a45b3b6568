# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
name: etcd
author:
  - pyetcd.etcd contributors (!UNKNOWN)
version_added: 0.1.0
short_description: Read keys and directories from etcd (v2 keys API or v3 store)
description:
  - Returns the value of each key given as a term, in the order of the terms.
  - With O(api_version=v2) (the default), reads etcd's v2 keys API. A directory returns a dictionary
    of its children by name; subdirectories are nested dictionaries. The whole directory is read with
    one request.
  - With O(api_version=v3), reads the v3 store through etcd's JSON gateway. A term is a key, taken
    verbatim. When that key does not exist but keys under C(term/) do, the term is read like a v2
    directory and returns the nested dictionary of the names between the V(/) (O(flat=true) gives
    the full keys instead). O(prefix=true) reads every key starting with the term.
  - On v3 all terms of one call are read in as few requests as possible, in read-only transactions
    of at most O(max_txn_ops) reads each; the terms of one transaction are read at one revision.
  - Every failure raises an error that names the key and the etcd member. A missing key is an
    error too, unless O(default) is given. An unreachable member, a TLS failure, missing
    permissions, a compacted revision or a server without the API asked for never produce an
    empty result or a warning instead.
  - All terms of one call share one connection to etcd.
  - Can wait for a key to change (O(wait)), so a play can block until another host publishes it.
  - A keyword that is not an option (a misspelt V(recursve=false)) is an error naming it. An option
    of the other API (O(recursive) with O(api_version=v3), O(prefix) with V(v2), ...) is an error
    naming it too.
options:
  _terms:
    description:
      - Keys or directories to read, for example V(/config/app/port).
      - On O(api_version=v2), a missing leading V(/) is added.
      - On O(api_version=v3), the key is used exactly as given (V(config/port) and V(/config/port) are
        two different keys). A term ending in V(/) is read as a key first, then as the directory of
        the keys starting with it.
      - A term that is a list is read as if each of its items were a term.
    type: list
    elements: str
    required: true
  recursive:
    description:
      - For a directory, read the whole tree below it (V(true)), or only its direct children
        (V(false)). With V(false), a subdirectory appears as an empty dictionary.
      - With O(wait=true), V(true) waits for a change anywhere below the term.
      - Only with O(api_version=v2); on V(v3) a directory is always read whole and giving this
        option is an error.
    type: bool
    default: true
    version_added: 0.1.0
  default:
    description:
      - Value returned for a key that does not exist, instead of failing.
      - Applies to missing keys only. Unreachable members, TLS errors, missing permissions and
        other errors still fail.
      - On O(api_version=v3), a term is missing when neither its key nor any key under C(term/)
        exists. An empty value (V('')) is a value, not a missing key. With O(prefix=true) a prefix
        without keys returns an empty dictionary, not the default.
    type: raw
    version_added: 0.1.0
  metadata:
    description:
      - Return, for each term, a dictionary describing the node instead of the bare value
        (see RV(_raw)) with its key, value (or children), indexes, TTL and expiration, the etcd index
        of the answer and the action that produced it.
      - On O(api_version=v3), a key's dictionary holds C(key), C(value), C(create_revision),
        C(mod_revision), C(version), C(lease), C(ttl) (the seconds the key's lease has left, V(null)
        without a lease), the store C(revision) the key was read at, and C(created_index) and
        C(modified_index) (the same revisions under the v2 names, so a playbook reads both APIs'
        results alike). A directory is a dictionary with C(dir=true) and its C(children) by name;
        with O(flat=true), a dictionary from full key to the key's dictionary.
      - "On v3 C(value_base64) always holds the value's exact bytes in base64: a value that is not
        UTF-8 text has C(value=null) there. Without O(metadata), such a value is an error naming
        the key (the lookup never returns altered bytes)."
    type: bool
    default: false
    version_added: 0.1.0
  prefix:
    description:
      - Read every key that starts with the term (a prefix, not a directory; V(app) also reads
        V(apple)), and return them as a nested dictionary of the rest of each key, split at V(/)
        (end the term with V(/) to get the names below a directory), or with O(flat=true) as a
        dictionary from full key to value.
      - A prefix without keys returns an empty dictionary.
      - With O(wait=true), waits for a change of any key starting with the term.
      - Only with O(api_version=v3).
    type: bool
    default: false
    version_added: 0.2.0
  flat:
    description:
      - Return a dictionary from full key to value (to metadata with O(metadata=true)) instead of
        the nested dictionary of names, for a directory, a prefix (O(prefix=true)) and a single key
        alike.
      - Needed when a key both holds a value and has keys under it (V(a) and V(a/b)); that cannot be
        a nested dictionary, and the lookup fails saying so.
      - Only with O(api_version=v3).
    type: bool
    default: false
    version_added: 0.2.0
  revision:
    description:
      - Read the store as it was at this revision (the RV(_raw[].revision) or
        RV(_raw[].mod_revision) of an earlier read). V(0) reads the latest.
      - A revision older than the last compaction fails with an error naming the revision; a
        revision newer than the store fails too.
      - With O(metadata=true), C(ttl) is the time the lease has left now.
      - Only with O(api_version=v3).
    type: int
    version_added: 0.2.0
  serializable:
    description:
      - Read the answering member's own copy of the data without asking the leader (a serializable
        read). Faster, and works on a member that lost its quorum, but a member that lags behind may
        return older values.
      - The default is a linearizable read. This is the v3 opposite of O(quorum).
      - Only with O(api_version=v3).
    type: bool
    default: false
    version_added: 0.2.0
  quorum:
    description:
      - Read through the raft log (a linearizable read), so a member that lags behind the leader
        cannot return an old value. Slower. Ignored with O(wait=true).
      - Only with O(api_version=v2); v3 reads are linearizable unless O(serializable=true).
    type: bool
    default: false
    version_added: 0.1.0
  wait:
    description:
      - Wait until the key (with O(recursive=true), anything below it) changes, and return the
        node as it is after that change. A deletion or expiry returns V(null) as the value
        (O(metadata=true) shows the action).
      - The lookup first reads the key normally (bounded by O(timeout), moving past members that
        do not answer as O(allow_reconnect) allows) and then watches on the member that answered,
        so a member that accepts connections but never answers is not mistaken for a key that did
        not change.
      - Without O(wait_index), the changes after that first read count. To also catch a change that
        happened since an earlier read, give O(wait_index) as the RV(_raw[].etcd_index) of that
        read plus one. To wait for the change after one returned by O(wait), give the
        RV(_raw[].modified_index) of that result plus one.
      - Fails with "no change within N s" when nothing changes within O(wait_timeout) seconds. When
        the watched member stops answering during the wait, another member is asked for the
        changes since the start; when no member answers, the error says so and names them.
      - On O(api_version=v3), a watch from the revision of the read plus one (or from
        O(wait_revision)), so a change made between the read and the watch is not missed. A key
        watches the key (a missing key waits for its creation), a directory the keys under
        C(term/), O(prefix=true) every key starting with the term. A deletion returns V(null)
        (O(metadata=true) shows C(action=delete)). Chain waits with the RV(_raw[].mod_revision)
        of the change plus one as O(wait_revision). A transaction that changes several watched
        keys at once returns the first of them. A watch that breaks is opened again from where it
        was, on the same or another member; silence for O(wait_timeout) seconds fails with
        "no change within N s", naming the member.
    type: bool
    default: false
    version_added: 0.1.0
  wait_index:
    description:
      - With O(wait=true), return the first change at or after this etcd index, even if it
        happened before the request. etcd keeps the last 1000 changes only; an older index fails
        with a message saying so.
      - After a plain read use its RV(_raw[].etcd_index) plus one; after a result of O(wait), its
        RV(_raw[].modified_index) plus one.
      - Only with O(api_version=v2); use O(wait_revision) on V(v3).
    type: int
    version_added: 0.1.0
  wait_revision:
    description:
      - With O(wait=true), return the first change at or after this store revision, even if it
        happened before the request.
      - After a plain read use its RV(_raw[].revision) plus one; after a result of O(wait), its
        RV(_raw[].mod_revision) plus one.
      - A revision older than the last compaction fails with a message naming the oldest revision
        left.
      - Only with O(api_version=v3); use O(wait_index) on V(v2).
    type: int
    version_added: 0.2.0
  wait_timeout:
    description:
      - With O(wait=true), seconds to wait for a change of each term before failing.
      - The read that finds a member before the watch, and the check after a silent watch, are
        bounded by O(timeout) per member on top of this.
    type: float
    default: 60
    version_added: 0.1.0
extends_documentation_fragment:
  - pyetcd.etcd.connection
  - pyetcd.etcd.connection.plugins
notes:
  - The lookup runs on the controller, so the connection options and files (O(ca_cert),
    O(client_cert), O(client_key)) refer to the controller.
  - "The short name C(lookup('etcd', ...)) is ansible-core's redirect to community.general's
    lookup. To make it resolve to this plugin, point the C(lookup_plugins) setting of
    C(ansible.cfg) (or E(ANSIBLE_LOOKUP_PLUGINS)) at the C(plugins/lookup) directory of this
    collection; the fully qualified name C(pyetcd.etcd.etcd) always works."
  - On O(api_version=v2), hidden keys (a name starting with V(_)) are left out of directory reads,
    as etcd does, and can be read by their full key. The v3 store has no hidden keys.
  - On O(api_version=v3), the v2 store and the v3 store are separate; keys written through one are
    not seen through the other.
  - On O(api_version=v3) with a user whose role may read only the keys under a prefix such as
    V(app/), read that directory as the term V(app/); the term V(app) would first read the key V(app),
    which the role does not cover.
  - "How the v2 words map to v3: a directory is the keys under C(term/); C(etcd_index) is the store
    C(revision); C(created_index)/C(modified_index) are C(create_revision)/C(mod_revision) (both names
    are returned); O(wait_index) is O(wait_revision); O(quorum) is the default (O(serializable=true)
    is the opposite); a TTL is the C(ttl) left on the key's lease; O(recursive=false) has no v3
    equivalent."
seealso:
  - module: pyetcd.etcd.etcd_key
  - module: pyetcd.etcd.etcd_dir
  - module: pyetcd.etcd.etcd_info
'''

EXAMPLES = r'''
- name: Read one key
  ansible.builtin.debug:
    msg: "{{ lookup('pyetcd.etcd.etcd', '/config/app/port') }}"

- name: Read several keys into a list
  ansible.builtin.set_fact:
    app_settings: "{{ query('pyetcd.etcd.etcd', '/config/app/port', '/config/app/mode') }}"

- name: Read a whole directory as a nested dictionary (one request)
  ansible.builtin.set_fact:
    app_config: "{{ lookup('pyetcd.etcd.etcd', '/config/app') }}"

- name: Only the direct children of a directory
  ansible.builtin.debug:
    msg: "{{ lookup('pyetcd.etcd.etcd', '/config', recursive=false) | list }}"

- name: Fall back to a value when the key does not exist
  ansible.builtin.debug:
    msg: "{{ lookup('pyetcd.etcd.etcd', '/config/app/workers', default='4') }}"

- name: Indexes, TTL and expiration of a key
  ansible.builtin.debug:
    msg: "{{ lookup('pyetcd.etcd.etcd', '/locks/backup', metadata=true) }}"

- name: Block until the primary publishes its address (at most five minutes)
  ansible.builtin.set_fact:
    primary_address: "{{ lookup('pyetcd.etcd.etcd', '/cluster/primary', wait=true, wait_timeout=300) }}"

- name: Wait for a change of the primary, with its indexes
  ansible.builtin.set_fact:
    first_change: "{{ lookup('pyetcd.etcd.etcd', '/cluster/primary', wait=true, metadata=true) }}"

- name: Wait for the change after that one (modified_index + 1, so none is skipped)
  ansible.builtin.set_fact:
    second_change: >-
      {{ lookup('pyetcd.etcd.etcd', '/cluster/primary', wait=true, metadata=true,
                wait_index=first_change.modified_index + 1) }}

- name: Read a key of the v3 store (the key exactly as written, no leading / added)
  ansible.builtin.debug:
    msg: "{{ lookup('pyetcd.etcd.etcd', 'config/app/port', api_version='v3') }}"

- name: Several v3 keys and a directory, read at one revision in one request
  ansible.builtin.set_fact:
    app: "{{ query('pyetcd.etcd.etcd', 'config/app/port', 'config/app/mode', 'config/db', api_version='v3') }}"

- name: Every key starting with a prefix, as full key -> value
  ansible.builtin.debug:
    msg: "{{ lookup('pyetcd.etcd.etcd', 'config/', prefix=true, flat=true, api_version='v3') }}"

- name: Revisions and lease of a v3 key
  ansible.builtin.set_fact:
    primary: "{{ lookup('pyetcd.etcd.etcd', 'cluster/primary', metadata=true, api_version='v3') }}"

- name: The key as it was at that revision, from the member's own copy
  ansible.builtin.debug:
    msg: >-
      {{ lookup('pyetcd.etcd.etcd', 'cluster/primary', revision=primary.mod_revision,
                serializable=true, api_version='v3') }}

- name: Wait for the next change of the primary after that read (nothing in between is missed)
  ansible.builtin.set_fact:
    next_primary: >-
      {{ lookup('pyetcd.etcd.etcd', 'cluster/primary', wait=true, metadata=true, api_version='v3',
                wait_revision=primary.revision + 1) }}

- name: Every lookup of a play on the v3 store, from a variable
  hosts: localhost
  vars:
    pyetcd_api_version: v3
    pyetcd_host: https://etcd1.example.com:2379
  tasks:
    - name: Read a v3 key
      ansible.builtin.debug:
        msg: "{{ lookup('pyetcd.etcd.etcd', 'config/app/port') }}"

- name: A TLS cluster with client certificates, given in the call
  ansible.builtin.debug:
    msg: >-
      {{ lookup('pyetcd.etcd.etcd', '/config/app/port',
                host=['https://etcd1.example.com:2379', 'https://etcd2.example.com:2379'],
                ca_cert='/etc/etcd/ca.pem', client_cert='/etc/etcd/client.pem',
                client_key='/etc/etcd/client-key.pem') }}

- name: The same connection for every lookup of a play, from variables
  hosts: localhost
  vars:
    pyetcd_host: https://etcd1.example.com:2379
    pyetcd_ca_cert: /etc/etcd/ca.pem
    pyetcd_username: reader
    pyetcd_password: "{{ vault_etcd_reader_password }}"
  tasks:
    - name: Read with the connection from the play variables
      ansible.builtin.debug:
        msg: "{{ lookup('pyetcd.etcd.etcd', '/config/app/port') }}"
'''

RETURN = r'''
_raw:
  description:
    - One item per term, in the order of the terms.
    - For a key, its value (a string). For a directory, a dictionary from child name to value,
      with a nested dictionary for each subdirectory.
    - For a missing key with O(default) given, that default.
    - On O(api_version=v3), with O(prefix=true) a dictionary of the keys starting with the term; with
      O(flat=true) a dictionary from full key to value.
    - With O(metadata=true), a dictionary per term as described in the suboptions.
  type: list
  elements: raw
  contains:
    key:
      description: Full key of the node.
      type: str
      sample: /config/app/port
    value:
      description:
        - Value of a key (absent for a directory; V(null) after a deletion seen by O(wait)).
        - On v3, V(null) for a value that is not UTF-8 text (see C(value_base64)).
      type: str
      sample: "8080"
    value_base64:
      description: On v3, the exact bytes of the value in base64 (V(null) after a deletion).
      type: str
      sample: ODA4MA==
      version_added: 0.2.0
    create_revision:
      description: On v3, the store revision that created the key (also in C(created_index)).
      type: int
      version_added: 0.2.0
    mod_revision:
      description:
        - On v3, the store revision of the key's last change (also in C(modified_index)).
        - After O(wait), the revision of the change returned; use it plus one as O(wait_revision)
          to wait for the next change.
      type: int
      version_added: 0.2.0
    version:
      description: On v3, how many times the key was written since it was created.
      type: int
      version_added: 0.2.0
    lease:
      description: On v3, the ID of the key's lease, V(0) without a lease.
      type: int
      version_added: 0.2.0
    revision:
      description:
        - On v3, the store revision the term was read at (O(revision) when given). Use it plus one as
          O(wait_revision) to wait for the next change after the read.
        - After O(wait), the store revision when the change was sent.
      type: int
      version_added: 0.2.0
    dir:
      description: Whether the node is a directory.
      type: bool
    children:
      description: For a directory, a dictionary from child name to the same kind of dictionary.
      type: dict
    created_index:
      description: etcd index at which the node was created.
      type: int
    modified_index:
      description:
        - etcd index of the last change of the node.
        - After O(wait), the index of the change returned. To wait for the change after it, use
          O(wait_index) with this value plus one.
      type: int
    ttl:
      description:
        - Seconds left before the node expires, V(null) if it never expires.
        - On v3, the seconds the key's lease has left, V(null) without a lease.
      type: int
    expiration:
      description: Time of expiry (RFC 3339), V(null) if it never expires. Not on v3.
      type: str
    etcd_index:
      description:
        - On v2 only (see C(revision) on v3).
        - Index of the etcd store when it answered (X-Etcd-Index). After a plain read, use
          O(wait_index) with this value plus one to wait for the next change after the read.
        - After O(wait), this is the store's index when the watch started, not the index of the
          change returned. It is before that change when the watch waited for it (a wait from it returns
          the same change again), and past it when O(wait_index) was in the past (a wait from it skips
          the changes in between). Chain waits with RV(_raw[].modified_index) plus one instead.
      type: int
    action:
      description:
        - What produced the node, V(get) for a plain read; after O(wait), the change (V(set), V(delete), V(expire), ...).
        - On v3 after O(wait), V(put) or V(delete).
      type: str
'''

import difflib
from typing import Any, Callable, Dict, List, Optional

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.errors import describe_error
from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.options import (
    CLIENT_ERRORS,
    V3,
    api_version,
    check_api_options,
    client_from_options,
    insecure_warning,
    missing_requirement,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.lookup_v3 import (
    MISSING,
    LookupReadError,
    ReadFailed,
    ReadOptions,
    V3Reader,
    tree_prefix,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    EtcdCompacted,
    EtcdConnectionFailed,
    EtcdEventIndexCleared,
    EtcdKeyNotFound,
    EtcdTLSError,
    EtcdWatchTimedOut,
)

display = Display()

# Lookup options of one API only: giving one of them with the other API is an error naming it.
V2_ONLY = ('quorum', 'recursive', 'wait_index')
V3_ONLY = ('prefix', 'flat', 'revision', 'serializable', 'wait_revision')


def _node_value(node: Any) -> Any:
    """A key's value, or for a directory a dict of its children's values by name."""
    if node.dir:
        return {child.name: _node_value(child) for child in node.children}
    return node.value


def _node_metadata(node: Any) -> Dict[str, Any]:
    """The node as a dict of its fields; a directory's children by name, nested."""
    data: Dict[str, Any] = {
        'key': node.key,
        'dir': node.dir,
        'created_index': node.created_index,
        'modified_index': node.modified_index,
        'ttl': node.ttl,
        'expiration': node.expiration,
    }
    if node.dir:
        data['children'] = {child.name: _node_metadata(child) for child in node.children}
    else:
        data['value'] = node.value
    return data


def _flatten(terms: List[Any]) -> List[Any]:
    """One level of flattening, so query('pyetcd.etcd.etcd', list_of_keys) reads each key."""
    flat: List[Any] = []
    for term in terms:
        if isinstance(term, (list, tuple)):
            flat.extend(term)
        else:
            flat.append(term)
    return flat


class LookupModule(LookupBase):
    """Read etcd keys and directories (v2 keys API or v3 store); see DOCUMENTATION."""

    def run(self, terms: List[Any], variables: Optional[Dict[str, Any]] = None, **kwargs: Any) -> List[Any]:
        """Read every term with one client and return one item per term.

        On v2, sends one GET per term (recursive and sorted for directories, a long poll with
        ``wait``). On v3, batched read-only transactions of range reads (see ``_V3Lookup``).
        Raises ``AnsibleLookupError`` for any failure; a missing key returns the ``default``
        option instead when the caller gave one.
        """
        self._refuse_unknown_keywords(kwargs)
        self.set_options(var_options=self._option_variables(variables), direct=kwargs)
        password = self.get_option('password')
        problem = missing_requirement()
        if problem:
            raise AnsibleLookupError(problem)
        try:
            version = api_version(self.get_option)
            # Only keywords can set these options: given at all means used.
            check_api_options(version, {name: True for name in kwargs}, v2_only=V2_ONLY, v3_only=V3_ONLY)
        except ValueError as exc:
            raise AnsibleLookupError('pyetcd.etcd.etcd lookup: %s' % exc) from None
        for name in ('wait_index', 'wait_revision'):
            if self.get_option(name) is not None and not self.get_option('wait'):
                raise AnsibleLookupError('%s needs wait=true' % name)
        if version == V3:
            self._check_v3_numbers()
        terms = _flatten(terms)
        for term in terms:
            if not isinstance(term, str):
                raise AnsibleLookupError('each term must be a key (a string), got %s %r' % (type(term).__name__, term))
        try:
            client = client_from_options(self.get_option)
        except CLIENT_ERRORS as exc:
            raise AnsibleLookupError('etcd connection options: %s' % describe_error(exc, hide=[password])) from None
        warning = insecure_warning(self.get_option, client)
        if warning:
            display.warning('pyetcd.etcd.etcd lookup: ' + warning)

        display.vvv('pyetcd.etcd.etcd lookup: %d term(s) from %s (%s)'
                    % (len(terms), ', '.join(client.endpoints), version))
        try:
            if version == V3:
                return _V3Lookup(client, self.get_option, has_default='default' in kwargs,
                                 password=password).run(terms)
            reader = _Reader(client, self.get_option, has_default='default' in kwargs, password=password)
            return [reader.read(term) for term in terms]
        finally:
            client.close()

    def _check_v3_numbers(self) -> None:
        """Refuse a revision that cannot be one before anything is sent."""
        for name, minimum, meaning in (('revision', 0, '0 (the latest) or a store revision'),
                                       ('wait_revision', 1, 'a store revision (1 or more)')):
            value = self.get_option(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
                raise AnsibleLookupError('%s must be %s, got %r' % (name, meaning, value))

    def _refuse_unknown_keywords(self, kwargs: Dict[str, Any]) -> None:
        """Fail on a keyword that is no option, naming it (and the option it probably meant).

        Ansible's option handling ignores keywords it does not know, so ``recursve=false`` or
        ``defualt='x'`` would otherwise read with the defaults as if they had not been written.
        Only the names are shown, never the values given.
        """
        known = sorted(name for name in self.option_definitions if not name.startswith('_'))
        unknown = sorted(name for name in kwargs if name not in known)
        if not unknown:
            return
        described = []
        guessed = False
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
            if close:
                guessed = True
                described.append('%s (did you mean %s?)' % (name, close[0]))
            else:
                described.append(name)
        message = 'pyetcd.etcd.etcd lookup: unknown option%s %s' % ('s' if len(unknown) > 1 else '', ', '.join(described))
        if not guessed or len(unknown) > 1:
            message += '; the options are: %s' % ', '.join(known)
        raise AnsibleLookupError(message)

    def _option_variables(self, variables: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """The variables that set options (pyetcd_host, ...), templated.

        Ansible hands a lookup the play's variables as they were written, so a value such as
        ``pyetcd_host: "{{ etcd_url }}"`` would reach the option untemplated (and fail the type
        check of an int or bool option). Render only the variables the options read, the way
        any other variable would be rendered.
        """
        if not variables:
            return {}
        names = set()
        for definition in self.option_definitions.values():
            names.update(entry['name'] for entry in definition.get('vars') or [] if 'name' in entry)
        found = {name: variables[name] for name in names if name in variables}
        if self._templar is not None:
            found = {name: self._templar.template(value) for name, value in found.items()}
        return found


class _Reader:
    """Reads terms through one client with the options of one lookup call."""

    def __init__(self, client: Any, get_option: Callable[[str], Any], has_default: bool, password: Optional[str]):
        self.client = client
        self.recursive = bool(get_option('recursive'))
        self.quorum = bool(get_option('quorum'))
        self.metadata = bool(get_option('metadata'))
        self.wait = bool(get_option('wait'))
        self.wait_index = get_option('wait_index')
        self.wait_timeout = get_option('wait_timeout')
        # 'default' may legitimately be null or empty, so "given" means passed at all.
        self.has_default = has_default
        self.default = get_option('default')
        self.password = password

    def read(self, term: str) -> Any:
        """One GET (or a wait for a change) for ``term``: the value or metadata, or the default."""
        client = self.client
        try:
            if self.wait:
                result = self._wait(term)
            else:
                # sorted: a directory's dict keeps etcd's key order from one run to the next.
                result = client.read(term, recursive=self.recursive, sorted=True, quorum=self.quorum)
        except EtcdKeyNotFound as exc:
            if self.has_default:
                return self.default
            raise AnsibleLookupError('key %s not found on %s (etcd index %s); give default=... '
                                     'to get a value for missing keys instead'
                                     % (term, exc.endpoint or client.current_endpoint, exc.index)) from None
        except CLIENT_ERRORS as exc:
            raise AnsibleLookupError('reading key %s failed: %s'
                                     % (term, describe_error(exc, hide=[self.password]))) from None

        node = result.node
        if node is None:
            raise AnsibleLookupError('reading key %s failed: the answer from %s holds no node'
                                     % (term, result.endpoint or client.current_endpoint))
        if not self.metadata:
            return _node_value(node)
        data = _node_metadata(node)
        data['etcd_index'] = result.x_etcd_index
        data['action'] = result.action
        return data

    def _wait(self, term: str) -> Any:
        """The first change of ``term`` from the wait index on, watched on a member that answers.

        A watch alone cannot tell a quiet key from a member that stopped answering (etcd sends
        nothing while a watch is idle, and a SIGSTOPped member accepts connections), so a normal
        read, bounded by ``timeout`` and moving past members that do not answer, first puts the
        client on a live member. Without ``wait_index`` the watch starts just after that read,
        so a change between the read and the watch is not missed.
        """
        client = self.client
        located, start = self._locate(term, 'before the wait')
        if self.wait_index is not None:
            start = self.wait_index
        try:
            return self._watch(term, start, self.wait_timeout)
        except EtcdWatchTimedOut as exc:
            watched = exc.endpoint or located
        # Silence: a quiet key, or a member that stopped answering during the wait. Ask again.
        answered, _index = self._locate(term, 'after %s gave no change within %gs' % (watched, self.wait_timeout))
        if answered != watched:
            # The watched member went silent and another one answered: it holds every change
            # since start, and answers at once if there was one.
            try:
                return self._watch(term, start, client.timeout[1])
            except EtcdWatchTimedOut:
                raise AnsibleLookupError('waiting on key %s: timed out: no change within %gs (%s stopped answering '
                                         'during the wait; %s has no change since index %s either)'
                                         % (term, self.wait_timeout, watched, answered, start)) from None
        raise AnsibleLookupError('waiting on key %s: timed out: no change within %gs on %s'
                                 % (term, self.wait_timeout, watched))

    def _locate(self, term: str, when: str):
        """A normal (bounded) read of ``term``: the member that answered, and the index after its answer.

        A missing key counts as an answer: the wait then sees the key being created.
        """
        try:
            result = self.client.read(term)
        except EtcdKeyNotFound as exc:
            return exc.endpoint or self.client.current_endpoint, (exc.index + 1 if exc.index is not None else None)
        except CLIENT_ERRORS as exc:
            if isinstance(exc, EtcdConnectionFailed) and not isinstance(exc, EtcdTLSError):
                raise AnsibleLookupError('waiting on key %s: the etcd member(s) did not answer %s: %s'
                                         % (term, when, describe_error(exc, hide=[self.password]))) from None
            raise
        index = result.x_etcd_index
        return result.endpoint or self.client.current_endpoint, (index + 1 if index is not None else None)

    def _watch(self, term: str, start: Optional[int], timeout: float) -> Any:
        """A long poll from event ``start`` on the member the client is on."""
        try:
            return self.client.read(term, recursive=self.recursive, wait=True, wait_index=start, timeout=timeout)
        except EtcdEventIndexCleared as exc:
            raise AnsibleLookupError('cannot wait on key %s from index %s: etcd on %s keeps only the last 1000 '
                                     'changes (now at index %s); read the key with metadata=true and wait from its '
                                     'etcd_index + 1'
                                     % (term, start, exc.endpoint or self.client.current_endpoint, exc.index)) from None


class _V3Lookup:
    """Reads the terms of one lookup call on the v3 store, with the options of that call.

    The reading and shaping rules live in ``_state/lookup_v3.py``; this class turns what they
    find, and every error, into the lookup's answer or an ``AnsibleLookupError`` that names the
    key and the member.
    """

    def __init__(self, client: Any, get_option: Callable[[str], Any], has_default: bool, password: Optional[str]):
        self.client = client
        self.options = ReadOptions(prefix=bool(get_option('prefix')), flat=bool(get_option('flat')),
                                   revision=get_option('revision') or 0,
                                   serializable=bool(get_option('serializable')),
                                   metadata=bool(get_option('metadata')))
        self.reader = V3Reader(client, self.options)
        self.wait = bool(get_option('wait'))
        self.wait_revision = get_option('wait_revision')
        self.wait_timeout = get_option('wait_timeout')
        self.has_default = has_default
        self.default = get_option('default')
        self.password = password

    def run(self, terms: List[Any]) -> List[Any]:
        for term in terms:
            if not term:
                raise AnsibleLookupError('a term is an empty key; etcd has no empty key (give the key to read)')
        if not terms:
            return []
        try:
            reads = self.reader.read(terms)
        except ReadFailed as exc:
            at = ' at revision %d' % self.options.revision if self.options.revision else ''
            raise AnsibleLookupError('reading key %s%s failed: %s'
                                     % (exc.subject, at, describe_error(exc.cause, hide=[self.password]))) from None
        return [self._item(read) for read in reads]

    def _item(self, read: Any) -> Any:
        if self.wait:
            return self._wait(read)
        if read.kind == MISSING:
            if self.has_default:
                return self.default
            raise AnsibleLookupError('key %s not found on %s at revision %d (nor any key under %s); give default=... '
                                     'to get a value for missing keys instead'
                                     % (read.term, read.endpoint or self.client.current_endpoint, read.revision,
                                        tree_prefix(read.term)))
        try:
            return self.reader.value(read)
        except LookupReadError as exc:
            raise AnsibleLookupError('reading key %s on %s: %s'
                                     % (read.term, read.endpoint or self.client.current_endpoint, exc)) from None

    def _wait(self, read: Any) -> Any:
        """The first change of what the term is (key, directory, prefix) after the read, or from
        ``wait_revision``: a watch from that revision on, bounded by ``wait_timeout``."""
        key, prefix = self.reader.watched(read)
        start = self.wait_revision if self.wait_revision is not None else read.revision + 1
        what = '%s%s' % (key, ' (every key starting with it)' if prefix else '')
        try:
            with self.client.watch(key, start_revision=start, prefix=prefix, timeout=self.wait_timeout) as watch:
                event = next(watch)
                revision = watch.header.revision if watch.header is not None else event.kv.mod_revision
                endpoint = watch.endpoint
        except EtcdWatchTimedOut as exc:
            raise AnsibleLookupError('waiting on key %s: timed out: no change within %gs on %s (watched from revision %d)'
                                     % (what, self.wait_timeout, exc.endpoint or self.client.current_endpoint,
                                        start)) from None
        except EtcdCompacted as exc:
            raise AnsibleLookupError('cannot wait on key %s from revision %d: %s'
                                     % (what, start, describe_error(exc, hide=[self.password]))) from None
        except CLIENT_ERRORS as exc:
            raise AnsibleLookupError('waiting on key %s failed: %s'
                                     % (what, describe_error(exc, hide=[self.password]))) from None
        try:
            return self.reader.event_value(event, revision)
        except LookupReadError as exc:
            raise AnsibleLookupError('waiting on key %s on %s: %s' % (what, endpoint, exc)) from None
        except CLIENT_ERRORS as exc:  # the lease's time left, with metadata
            raise AnsibleLookupError('waiting on key %s failed: %s'
                                     % (what, describe_error(exc, hide=[self.password]))) from None
