# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Documentation of the connection options shared by all modules (and the lookup).

The argument spec these options document is CONNECTION_ARGUMENT_SPEC in
plugins/module_utils/connection.py; the two must stay in step.
"""
from __future__ import annotations


class ModuleDocFragment:
    """Doc fragments: DOCUMENTATION for modules (options with environment fallbacks)."""

    DOCUMENTATION = r'''
options:
  api_version:
    description:
      - Which etcd API to use. V(v2) is the v2 keys API (etcd 3.4 and 3.5 started with C(--enable-v2=true));
        V(v3) is the v3 store, through etcd's JSON gateway on the same client port (every etcd 3.4 and later,
        the only store of etcd 3.6).
      - The two stores are separate; data written through one is not seen through the other.
        M(pyetcd.etcd.etcd_migrate) copies a v2 tree into v3. Once the data is in v3, the same tasks work on
        both by changing only this option (see the mapping table in the collection's README).
      - Options that make sense for one API only fail on the other with a message naming them.
      - The default is V(v2) in this release and will become V(v3) in a later one; set it explicitly.
      - When not set in the task, the environment variable E(PYETCD_API_VERSION) is used.
    type: str
    choices: [v2, v3]
    default: v2
    version_added: 0.2.0
  host:
    description:
      - The etcd member or members to talk to.
      - Each item is a host name or address (V(etcd1)), a name with a port (V(etcd1:2379)),
        or a URL with scheme and port (V(https://etcd1:2379)). An item without a port uses O(port);
        an item without a scheme uses O(protocol).
      - With several items and O(allow_reconnect=true), a member that cannot be reached is
        skipped and the next one is used.
      - A comma-separated string is accepted as a list, so the environment variable can hold
        several members.
      - Ignored when O(srv_domain) is set.
      - When not set in the task, the environment variable E(PYETCD_HOST) is used.
    type: list
    elements: str
    default: ['127.0.0.1']
    version_added: 0.1.0
  port:
    description:
      - Client port of the members listed in O(host) that do not name their own port.
      - When not set in the task, the environment variable E(PYETCD_PORT) is used.
    type: int
    default: 2379
    version_added: 0.1.0
  protocol:
    description:
      - Scheme used for members listed in O(host) without a scheme.
      - When not set in the task, the environment variable E(PYETCD_PROTOCOL) is used.
    type: str
    choices: [http, https]
    default: http
    version_added: 0.1.0
  srv_domain:
    description:
      - Discover the members through DNS SRV records of this domain instead of O(host), looking up
        C(_etcd-client-ssl._tcp.<domain>) (https) first, then C(_etcd-client._tcp.<domain>) (http).
      - A domain without such records is an error; there is no fall-back to O(host).
      - Needs the Python library C(dnspython) on the host that runs the task.
      - When not set in the task, the environment variable E(PYETCD_SRV_DOMAIN) is used.
    type: str
    version_added: 0.1.0
  version_prefix:
    description:
      - Path prefix of the etcd v2 API. etcd serves the keys API used here under V(v2).
      - Only with O(api_version=v2); on V(v3) the gateway prefix is chosen from the member's version
        (V(/v3) on etcd 3.4 and later).
      - When not set in the task, the environment variable E(PYETCD_VERSION_PREFIX) is used.
    type: str
    default: v2
    version_added: 0.1.0
  allow_reconnect:
    description:
      - When a member cannot be reached or times out, try the next member of O(host).
      - A write whose outcome is unknown (the member went away after receiving it) is never
        sent again; the task fails saying the outcome is unknown.
      - When not set in the task, the environment variable E(PYETCD_ALLOW_RECONNECT) is used.
    type: bool
    default: true
    version_added: 0.1.0
  timeout:
    description:
      - Seconds to wait for a member to accept the connection and, separately, to answer.
      - No request waits longer than this for one member.
      - When not set in the task, the environment variable E(PYETCD_TIMEOUT) is used.
    type: float
    default: 5
    version_added: 0.1.0
  ca_cert:
    description:
      - PEM file of the certificate authority that signed the members' certificates.
      - Without it, https connections are verified against the system's trusted authorities.
      - When not set in the task, the environment variable E(PYETCD_CA_CERT) is used.
    type: path
    version_added: 0.1.0
  client_cert:
    description:
      - PEM file of the client certificate, for members started with C(--client-cert-auth).
      - Requires O(client_key).
      - When not set in the task, the environment variable E(PYETCD_CLIENT_CERT) is used.
    type: path
    version_added: 0.1.0
  client_key:
    description:
      - PEM file of the private key of O(client_cert).
      - When not set in the task, the environment variable E(PYETCD_CLIENT_KEY) is used.
    type: path
    version_added: 0.1.0
  validate_certs:
    description:
      - Verify the members' https certificates.
      - Set to V(false) only for testing; the connection is then open to impersonation.
      - When not set in the task, the environment variable E(PYETCD_VALIDATE_CERTS) is used.
    type: bool
    default: true
    version_added: 0.1.0
  max_txn_ops:
    description:
      - With O(api_version=v3), the most operations one transaction may carry; set it to the members'
        C(--max-txn-ops) when they were started with another value.
      - A change of more keys goes as several transactions (see each module).
      - Only with O(api_version=v3).
      - When not set in the task, the environment variable E(PYETCD_MAX_TXN_OPS) is used.
    type: int
    default: 128
    version_added: 0.2.0
  username:
    description:
      - User name for etcd's authentication. Requires O(password).
      - On O(api_version=v2), HTTP basic auth; on V(v3), a token fetched when needed and fetched again when
        it expires. A cluster whose authentication is off accepts the request either way, so the same task
        works before and after authentication is enabled.
      - When not set in the task, the environment variable E(PYETCD_USERNAME) is used.
    type: str
    version_added: 0.1.0
  password:
    description:
      - Password of O(username). It is never shown in output or error messages.
      - When not set in the task, the environment variable E(PYETCD_PASSWORD) is used.
    type: str
    version_added: 0.1.0
notes:
  - All connection options can be set once for a play with
    C(module_defaults) and the action group C(group/pyetcd.etcd.etcd).
  - Options set in the task take precedence over the E(PYETCD_*) environment variables,
    which take precedence over the defaults.
requirements:
  - requests (Python library, on the host that runs the task)
'''

    # For plugins (the lookup): the same options, also read from inventory or play variables,
    # the environment and ansible.cfg. Extend it after DOCUMENTATION:
    #   extends_documentation_fragment: [pyetcd.etcd.connection, pyetcd.etcd.connection.plugins]
    # Ansible merges the two per option, so descriptions, types and defaults stay in one place.
    # The environment variable names are ENV_VARS of plugins/module_utils/connection.py.
    PLUGINS = r'''
options:
  api_version:
    env:
      - name: PYETCD_API_VERSION
    ini:
      - section: pyetcd
        key: api_version
    vars:
      - name: pyetcd_api_version
  host:
    env:
      - name: PYETCD_HOST
    ini:
      - section: pyetcd
        key: host
    vars:
      - name: pyetcd_host
  port:
    env:
      - name: PYETCD_PORT
    ini:
      - section: pyetcd
        key: port
    vars:
      - name: pyetcd_port
  protocol:
    env:
      - name: PYETCD_PROTOCOL
    ini:
      - section: pyetcd
        key: protocol
    vars:
      - name: pyetcd_protocol
  srv_domain:
    env:
      - name: PYETCD_SRV_DOMAIN
    ini:
      - section: pyetcd
        key: srv_domain
    vars:
      - name: pyetcd_srv_domain
  version_prefix:
    env:
      - name: PYETCD_VERSION_PREFIX
    ini:
      - section: pyetcd
        key: version_prefix
    vars:
      - name: pyetcd_version_prefix
  allow_reconnect:
    env:
      - name: PYETCD_ALLOW_RECONNECT
    ini:
      - section: pyetcd
        key: allow_reconnect
    vars:
      - name: pyetcd_allow_reconnect
  timeout:
    env:
      - name: PYETCD_TIMEOUT
    ini:
      - section: pyetcd
        key: timeout
    vars:
      - name: pyetcd_timeout
  ca_cert:
    env:
      - name: PYETCD_CA_CERT
    ini:
      - section: pyetcd
        key: ca_cert
    vars:
      - name: pyetcd_ca_cert
  client_cert:
    env:
      - name: PYETCD_CLIENT_CERT
    ini:
      - section: pyetcd
        key: client_cert
    vars:
      - name: pyetcd_client_cert
  client_key:
    env:
      - name: PYETCD_CLIENT_KEY
    ini:
      - section: pyetcd
        key: client_key
    vars:
      - name: pyetcd_client_key
  validate_certs:
    env:
      - name: PYETCD_VALIDATE_CERTS
    ini:
      - section: pyetcd
        key: validate_certs
    vars:
      - name: pyetcd_validate_certs
  max_txn_ops:
    env:
      - name: PYETCD_MAX_TXN_OPS
    ini:
      - section: pyetcd
        key: max_txn_ops
    vars:
      - name: pyetcd_max_txn_ops
  username:
    env:
      - name: PYETCD_USERNAME
    ini:
      - section: pyetcd
        key: username
    vars:
      - name: pyetcd_username
  password:
    env:
      - name: PYETCD_PASSWORD
    ini:
      - section: pyetcd
        key: password
    vars:
      - name: pyetcd_password
notes:
  - "For plugins, each connection option is taken from the first of these that sets it:
    a keyword argument of the lookup call, a variable (V(pyetcd_host), V(pyetcd_port), ... in the
    inventory or the play), an environment variable (E(PYETCD_HOST), E(PYETCD_PORT), ...), a key
    of the C([pyetcd]) section of C(ansible.cfg), the default."
  - Keep O(password) out of C(ansible.cfg) and plain variables; use Ansible Vault or the environment.
'''
