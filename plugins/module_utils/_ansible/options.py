# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection options every module and plugin of the collection shares.

One argument spec (``CONNECTION_ARGUMENT_SPEC``) and one translator from option values to
client arguments (``client_kwargs``, ``client_from_options``). Modules extend their own spec
with the connection spec (``connection_argument_spec``, or :class:`EtcdModule` which does it
for them); the lookup reads the same option names through ``get_option``. Both build the client
through the same code, so they cannot disagree about a default.

The option documentation lives in ``plugins/doc_fragments/connection.py``; keep the two in
step (``ansible-test sanity`` compares the module docs with this spec).
"""
from __future__ import annotations

import re
import traceback
import warnings
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.client import Client
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.base import DEFAULT_MAX_TXN_OPS
from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import ClientException, EtcdException

# The client imports without requests (it refuses to be built instead); this import only
# records the traceback, for the ``exception`` of the missing_required_lib failure.
try:
    import requests  # noqa: F401 pylint: disable=unused-import
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

DEFAULT_HOST = '127.0.0.1'
DEFAULT_PORT = 2379

# Environment variables read when an option is not set in the task. The lookup declares the
# same names in its ``env:`` sources (see the PLUGINS doc fragment); keep them identical.
ENV_VARS: Dict[str, str] = {
    'api_version': 'PYETCD_API_VERSION',
    'host': 'PYETCD_HOST',
    'port': 'PYETCD_PORT',
    'protocol': 'PYETCD_PROTOCOL',
    'srv_domain': 'PYETCD_SRV_DOMAIN',
    'version_prefix': 'PYETCD_VERSION_PREFIX',
    'allow_reconnect': 'PYETCD_ALLOW_RECONNECT',
    'timeout': 'PYETCD_TIMEOUT',
    'ca_cert': 'PYETCD_CA_CERT',
    'client_cert': 'PYETCD_CLIENT_CERT',
    'client_key': 'PYETCD_CLIENT_KEY',
    'validate_certs': 'PYETCD_VALIDATE_CERTS',
    'max_txn_ops': 'PYETCD_MAX_TXN_OPS',
    'username': 'PYETCD_USERNAME',
    'password': 'PYETCD_PASSWORD',
}


def _env(option: str) -> Tuple[Callable[..., Any], List[str]]:
    return (env_fallback, [ENV_VARS[option]])


CONNECTION_ARGUMENT_SPEC: Dict[str, Dict[str, Any]] = {
    'api_version': {'type': 'str', 'default': 'v2', 'choices': ['v2', 'v3'], 'fallback': _env('api_version')},
    'host': {'type': 'list', 'elements': 'str', 'default': [DEFAULT_HOST], 'fallback': _env('host')},
    'port': {'type': 'int', 'default': DEFAULT_PORT, 'fallback': _env('port')},
    'protocol': {'type': 'str', 'default': 'http', 'choices': ['http', 'https'], 'fallback': _env('protocol')},
    'srv_domain': {'type': 'str', 'fallback': _env('srv_domain')},
    'version_prefix': {'type': 'str', 'default': 'v2', 'fallback': _env('version_prefix')},
    'allow_reconnect': {'type': 'bool', 'default': True, 'fallback': _env('allow_reconnect')},
    'timeout': {'type': 'float', 'default': 5.0, 'fallback': _env('timeout')},
    'ca_cert': {'type': 'path', 'fallback': _env('ca_cert')},
    'client_cert': {'type': 'path', 'fallback': _env('client_cert')},
    # A path, not a secret: tell validate-modules explicitly.
    'client_key': {'type': 'path', 'no_log': False, 'fallback': _env('client_key')},
    'validate_certs': {'type': 'bool', 'default': True, 'fallback': _env('validate_certs')},
    'max_txn_ops': {'type': 'int', 'default': DEFAULT_MAX_TXN_OPS, 'fallback': _env('max_txn_ops')},
    'username': {'type': 'str', 'fallback': _env('username')},
    'password': {'type': 'str', 'no_log': True, 'fallback': _env('password')},
}

REQUIRED_TOGETHER: List[List[str]] = [['username', 'password'], ['client_cert', 'client_key']]

# What a caller of the client catches and reports: etcd's and the network's errors
# (EtcdException), the client's refusal of an argument (ClientException), and option values
# that cannot even be converted (ValueError, TypeError).
CLIENT_ERRORS: Tuple[type, ...] = (ValueError, TypeError, EtcdException, ClientException)


def client_errors() -> Tuple[type, ...]:
    """The exception classes a caller of the client should catch and report (:data:`CLIENT_ERRORS`)."""
    return CLIENT_ERRORS


def connection_argument_spec(**extra: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Return a fresh argument spec: the connection options plus a module's own ``extra`` options."""
    spec = {name: dict(value) for name, value in CONNECTION_ARGUMENT_SPEC.items()}
    spec.update(extra)
    return spec


def _default(option: str) -> Any:
    return CONNECTION_ARGUMENT_SPEC[option].get('default')


V2, V3 = 'v2', 'v3'


def api_version(get_option: Callable[[str], Any]) -> str:
    """The API the options ask for: ``'v2'`` or ``'v3'``; raises ValueError for anything else
    (the lookup and an environment variable are not checked against ``choices`` by Ansible)."""
    value = get_option('api_version')
    if value is None:
        return _default('api_version')
    text = str(value).strip().lower()
    if text not in (V2, V3):
        raise ValueError('api_version must be v2 or v3, got %r' % (value,))
    return text


def check_api_options(version: str, given: Dict[str, Any], v2_only: Iterable[str] = (), v3_only: Iterable[str] = ()) -> None:
    """Refuse options that only make sense on the other API, naming them: ``given`` maps option
    names to their values, where None, False and an empty list mean "not used".

    Raises ValueError ("recursive needs api_version=v2") before anything is sent.
    """
    wrong = sorted(name for name in (v2_only if version == V3 else v3_only) if given.get(name) not in (None, False, [], ''))
    if wrong:
        other = V2 if version == V3 else V3
        raise ValueError('%s need%s api_version=%s' % (', '.join(wrong), 's' if len(wrong) == 1 else '', other))


def client_kwargs(get_option: Callable[[str], Any]) -> Dict[str, Any]:
    """Translate option values into ``Client`` keyword arguments (for ``api_version=v3``, see
    :func:`v3_client_kwargs`).

    ``get_option`` is any callable mapping an option name to its value (``module.params.get``
    or a plugin's ``self.get_option``). A value of ``None`` means "not set" and gives the
    default of the argument spec, so both callers get the same defaults.
    """
    def opt(name: str) -> Any:
        value = get_option(name)
        return _default(name) if value is None else value

    hosts = opt('host')
    if isinstance(hosts, str):
        hosts = [hosts]
    # The list goes to the client as a list, even with one item: the client reads every item
    # the same way ('name', 'name:port', 'scheme://name:port'). An empty list (host: [],
    # host: "", an empty inventory group) is passed on too: the client refuses it ("host
    # names no etcd member") unless srv_domain finds the members. Only an unset host (None)
    # means the default.
    return {
        'host': [h.strip() for h in hosts if h and h.strip()],
        'port': int(opt('port')),
        'srv_domain': opt('srv_domain') or None,
        'version_prefix': opt('version_prefix'),
        'protocol': opt('protocol'),
        'allow_reconnect': bool(opt('allow_reconnect')),
        'timeout': float(opt('timeout')),
        'ca_cert': opt('ca_cert') or None,
        'cert': opt('client_cert') or None,
        'key': opt('client_key') or None,
        'validate_certs': bool(opt('validate_certs')),
        'username': opt('username') or None,
        'password': opt('password') or None,
    }


def v3_client_kwargs(get_option: Callable[[str], Any]) -> Dict[str, Any]:
    """The ``Etcd3Client`` keyword arguments for the same options: ``version_prefix`` is a v2
    option (a value other than its default is refused), ``max_txn_ops`` a v3 one."""
    kwargs = client_kwargs(get_option)
    prefix = kwargs.pop('version_prefix')
    if prefix not in (None, _default('version_prefix')):
        raise ValueError('version_prefix needs api_version=v2 (the v3 gateway prefix is chosen from the member version)')
    value = get_option('max_txn_ops')
    kwargs['max_txn_ops'] = _default('max_txn_ops') if value is None else int(value)
    return kwargs


def client_from_options(get_option: Callable[[str], Any]) -> Any:
    """Build the client the options ask for: a v2 ``Client``, or an ``Etcd3Client`` with
    ``api_version=v3``, from option values read through ``get_option``.

    Nothing is sent to etcd here. Raises ``ClientException`` (from the client) for invalid
    arguments and ``RuntimeError`` when ``requests`` is missing; callers check
    ``missing_requirement()`` first to give the proper message.

    With ``validate_certs=false`` urllib3's own warning for these members is silenced: the
    module or lookup says it once, through Ansible (:func:`insecure_warning`), instead of a
    Python warning on stderr for every request.
    """
    problem = missing_requirement()
    if problem:
        raise RuntimeError(problem)
    if api_version(get_option) == V3:
        client: Any = Etcd3Client(**v3_client_kwargs(get_option))
    else:
        check_api_options(V2, {'max_txn_ops': get_option('max_txn_ops') not in (None, _default('max_txn_ops'))},
                          v3_only=['max_txn_ops'])
        client = Client(**client_kwargs(get_option))
    if get_option('validate_certs') is False:
        _quiet_unverified_https(client.endpoints)
    return client


def _quiet_unverified_https(endpoints: Iterable[str]) -> None:
    try:
        from urllib3.exceptions import InsecureRequestWarning  # pylint: disable=import-outside-toplevel
    except ImportError:  # pragma: no cover - urllib3 comes with requests
        return
    for endpoint in endpoints:
        if endpoint.startswith('https://'):
            host = endpoint.split('://', 1)[1].rsplit(':', 1)[0].strip('[]')
            # Only these hosts: other code in the same process keeps its warnings.
            warnings.filterwarnings('ignore', message="Unverified HTTPS request is being made to host '%s'" % re.escape(host),
                                    category=InsecureRequestWarning)


def insecure_warning(get_option: Callable[[str], Any], client: Optional[Client] = None) -> Optional[str]:
    """The warning to show when certificate checks are off, or ``None`` when they are on.

    Modules pass it to ``module.warn`` and the lookup to ``display.warning``, so both say the
    same thing. Given the ``client``, there is nothing to warn about when none of its members
    speaks https.
    """
    if get_option('validate_certs') is not False:
        return None
    if client is not None and not any(endpoint.startswith('https://') for endpoint in client.endpoints):
        return None
    return ('validate_certs=false: the TLS certificates of the etcd members are not verified, which is insecure '
            '(anyone on the network path can impersonate etcd); give ca_cert instead')


def missing_requirement() -> Optional[str]:
    """Return a message for a missing Python requirement, or ``None`` when all is there."""
    if not HAS_REQUESTS:
        return missing_required_lib('requests')
    return None
