# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection options shared by every module and plugin of the collection.

One argument spec (``CONNECTION_ARGUMENT_SPEC``), one way to build a client from option
values (``client_from_options``), and one way to turn any error of the client into a
one-line message (``describe_error``). Modules extend their own spec with the connection
spec; the lookup reads the same option names through ``get_option``, so both build the
client through the same code and cannot disagree about a default.

The option documentation lives in ``plugins/doc_fragments/connection.py``; keep the two in
step (``ansible-test sanity`` compares the module docs with this spec).
"""
from __future__ import annotations

import re
import traceback
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ansible.module_utils.basic import env_fallback, missing_required_lib

try:
    import requests  # noqa: F401 pylint: disable=unused-import
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

# The client imports requests at module level; without requests the import fails and the
# module must still load far enough to report missing_required_lib('requests').
try:
    from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client
    from ansible_collections.pyetcd.etcd.plugins.module_utils import exceptions as etcd_exc
    from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.failures import TIMEOUTS
except ImportError:
    Client = None  # type: ignore[assignment,misc]
    etcd_exc = None  # type: ignore[assignment]
    CLIENT_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    CLIENT_IMPORT_ERROR = None

DEFAULT_HOST = '127.0.0.1'
DEFAULT_PORT = 2379

# Environment variables read when an option is not set in the task. The lookup declares the
# same names in its ``env:`` sources (see the PLUGINS doc fragment); keep them identical.
ENV_VARS: Dict[str, str] = {
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
    'username': 'PYETCD_USERNAME',
    'password': 'PYETCD_PASSWORD',
}


def _env(option: str) -> Tuple[Callable[..., Any], List[str]]:
    return (env_fallback, [ENV_VARS[option]])


CONNECTION_ARGUMENT_SPEC: Dict[str, Dict[str, Any]] = {
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
    'username': {'type': 'str', 'fallback': _env('username')},
    'password': {'type': 'str', 'no_log': True, 'fallback': _env('password')},
}

CONNECTION_REQUIRED_TOGETHER: List[List[str]] = [['username', 'password'], ['client_cert', 'client_key']]


def connection_argument_spec(**extra: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Return a fresh argument spec: the connection options plus a module's own ``extra`` options."""
    spec = {name: dict(value) for name, value in CONNECTION_ARGUMENT_SPEC.items()}
    spec.update(extra)
    return spec


def _default(option: str) -> Any:
    return CONNECTION_ARGUMENT_SPEC[option].get('default')


def client_kwargs(get_option: Callable[[str], Any]) -> Dict[str, Any]:
    """Translate option values into ``Client`` keyword arguments.

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
    hosts = [h.strip() for h in hosts if h and h.strip()]
    # An empty list (host: [], host: "", an empty inventory group) is passed on as it is: the
    # client refuses it ("host names no etcd member") unless srv_domain finds the members.
    # Only an unset host (None) means the default.
    return {
        # The client takes a single name or a list; a one-element list is still a list so
        # that the host forms ('name', 'name:port', 'scheme://name:port') are read the same way.
        'host': hosts if len(hosts) != 1 else hosts[0],
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


def client_from_options(get_option: Callable[[str], Any]) -> 'Client':
    """Build a ``Client`` from option values read through ``get_option``.

    Nothing is sent to etcd here. Raises ``ClientException`` (from the client) for invalid
    arguments and ``RuntimeError`` when the client cannot be imported (``requests`` missing);
    callers check ``missing_requirement()`` first to give the proper message.

    With ``validate_certs=false`` urllib3's own warning for these members is silenced: the
    module or lookup says it once, through Ansible (:func:`insecure_warning`), instead of a
    Python warning on stderr for every request.
    """
    if Client is None:
        raise RuntimeError(missing_requirement() or 'cannot import the etcd client')
    client = Client(**client_kwargs(get_option))
    if get_option('validate_certs') is False:
        _quiet_unverified_https(client.endpoints)
    return client


def _quiet_unverified_https(endpoints: Iterable[str]) -> None:
    import warnings  # pylint: disable=import-outside-toplevel
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


def insecure_warning(get_option: Callable[[str], Any], client: Optional['Client'] = None) -> Optional[str]:
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
    if Client is None:
        # requests is there, so the client itself failed to import: say why, on one line.
        last = (CLIENT_IMPORT_ERROR or '').strip().splitlines()
        return 'cannot import the pyetcd.etcd client: %s' % (last[-1] if last else 'unknown error')
    return None


def client_from_module(module: Any) -> 'Client':
    """Build a ``Client`` from an AnsibleModule's params, or fail the module with one line.

    Fails with ``missing_required_lib('requests')`` when requests is absent (the import error
    recorded at import time goes in ``exception``), and with the client's message for bad
    connection options. Never raises for those cases: ``fail_json`` exits.
    """
    problem = missing_requirement()
    if problem:
        module.fail_json(msg=problem, exception=REQUESTS_IMPORT_ERROR or CLIENT_IMPORT_ERROR)
    try:
        client = client_from_options(module.params.get)
    except client_errors() as exc:
        module.fail_json(msg=describe_error(exc, hide=[module.params.get('password')]))
        raise  # unreachable: fail_json exits
    warning = insecure_warning(module.params.get, client)
    if warning:
        module.warn(warning)
    return client


def client_errors() -> Tuple[type, ...]:
    """The exception classes a caller of the client should catch and report.

    The client raises ``EtcdException`` subclasses for anything etcd or the network did and
    ``ClientException`` for bad arguments; ``ValueError``/``TypeError`` cover option values
    that cannot even be converted.
    """
    found: List[type] = [ValueError, TypeError]
    if etcd_exc is not None:
        for name in ('EtcdException', 'ClientException'):
            cls = getattr(etcd_exc, name, None)
            if isinstance(cls, type):
                found.append(cls)
    return tuple(found)


# Cause categories, most specific first: a subclass must come before its base class.
def _categories() -> List[Tuple[type, str]]:
    if etcd_exc is None:
        return []
    names = [
        ('EtcdTLSError', 'TLS error'),
        ('EtcdOutcomeUnknown', 'outcome unknown'),
        ('EtcdWatchTimedOut', 'timed out'),
        ('EtcdConnectionFailed', 'unreachable'),
        ('EtcdV2NotEnabled', 'v2 API not enabled'),
        ('EtcdInvalidResponse', 'invalid answer'),
        ('EtcdUnauthorized', 'unauthorized'),
        ('EtcdTestFailed', 'condition failed'),
        ('EtcdNodeExist', 'already exists'),
        ('EtcdKeyNotFound', 'not found'),
        ('EtcdNotFile', 'is a directory'),
        ('EtcdNotDir', 'not a directory'),
        ('EtcdDirNotEmpty', 'directory not empty'),
        ('EtcdRootROnly', 'root is read-only'),
        ('EtcdRaftInternal', 'cluster error'),
        ('EtcdLeaderElect', 'leader election in progress'),
        ('EtcdEventIndexCleared', 'event index cleared'),
        ('ClientException', 'invalid argument'),
        ('EtcdException', 'etcd error'),
    ]
    found = []
    for name, label in names:
        cls = getattr(etcd_exc, name, None)
        if isinstance(cls, type):
            found.append((cls, label))
    return found


def error_category(exc: BaseException) -> str:
    """Name the cause of ``exc`` in a few words (unreachable, TLS error, unauthorized, ...)."""
    for cls, label in _categories():
        if isinstance(exc, cls):
            if label == 'unreachable' and _looks_like_timeout(exc):
                return 'timed out'
            return label
    if isinstance(exc, TimeoutError):
        return 'timed out'
    if isinstance(exc, (ValueError, TypeError)):
        return 'invalid argument'
    return 'error'


def _looks_like_timeout(exc: BaseException) -> bool:
    # A connection failure is a timeout only when every member timed out; a mix of refused
    # and silent members is "unreachable". The transport records the kind of each failure.
    attempts = getattr(exc, 'attempts', None) or []
    return bool(attempts) and all(getattr(attempt, 'kind', None) in TIMEOUTS for attempt in attempts)


def describe_error(exc: BaseException, key: Optional[str] = None, hide: Iterable[Optional[str]] = ()) -> str:
    """Return a one-line message for any exception raised while talking to etcd.

    The message names the key (when given), the endpoint (when the error knows it) and the
    cause category (an exception's own ``category`` attribute wins), followed by the
    exception's text. Strings in ``hide`` (a password, a
    value marked sensitive) are replaced by ``********`` wherever they appear, in addition
    to the client's own promise never to put a password in a message.
    """
    category = getattr(exc, 'category', None) or error_category(exc)
    detail = ' '.join(str(exc).split()) or exc.__class__.__name__
    parts = []
    if key is not None and key not in detail:
        # A message is one readable line: a key of thousands of characters is shortened.
        parts.append('key %s' % (key if len(key) <= 80 else '%s...%s' % (key[:50], key[-20:])))
    endpoint = getattr(exc, 'endpoint', None)
    if endpoint and str(endpoint) not in detail:
        parts.append('on %s' % endpoint)
    prefix = ' '.join(parts)
    message = '%s: %s: %s' % (prefix, category, detail) if prefix else '%s: %s' % (category, detail)
    return redact(message, hide, keep=[key, getattr(exc, 'key', None)])


def redact(message: str, hide: Iterable[Optional[str]], keep: Iterable[Optional[str]] = ()) -> str:
    """Replace every string of ``hide`` in ``message`` by ``********``, except inside ``keep``.

    etcd itself echoes values in some causes (a failed prevValue test says ``[a != b]``), so
    a value marked sensitive must be scrubbed from the client's text too. ``keep`` names text
    that is never masked, the key names of the message: a value ``ab`` must not turn the key
    ``/app/ab/x`` into ``/app/********/x``. Strings shorter than three characters are only
    replaced as whole words, so that hiding ``1`` does not blank out every index.
    """
    secrets = sorted({str(s) for s in hide if s not in (None, '')}, key=len, reverse=True)
    if not secrets:
        return message
    kept = [(m.start(), m.end()) for k in {str(k) for k in keep if k not in (None, '')}
            for m in re.finditer(re.escape(k), message)]
    masked = [False] * len(message)
    for secret in secrets:
        # Short secrets only as whole words.
        pattern = re.escape(secret) if len(secret) >= 3 else r'(?<!\w)%s(?!\w)' % re.escape(secret)
        for match in re.finditer(pattern, message):
            if not any(start <= match.start() and match.end() <= end for start, end in kept):
                masked[match.start():match.end()] = [True] * (match.end() - match.start())
    out = []
    for position, char in enumerate(message):
        if not masked[position]:
            out.append(char)
        elif position == 0 or not masked[position - 1]:
            out.append('********')
    return ''.join(out)
    kept = sorted({str(k) for k in keep if k not in (None, '')}, key=len, reverse=True)
    if kept:
        # Split on the kept text, mask the pieces between, and put the kept text back.
        pieces = re.split('(%s)' % '|'.join(re.escape(k) for k in kept), message)
        return ''.join(piece if number % 2 else redact(piece, secrets) for number, piece in enumerate(pieces))
    for secret in secrets:
        if len(secret) >= 3:
            message = message.replace(secret, '********')
        else:
            message = re.sub(r'(?<!\w)%s(?!\w)' % re.escape(secret), '********', message)
    return message
