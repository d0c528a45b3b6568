# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One line for any error raised while talking to etcd: ``describe_error``, ``error_category``, ``redact``.

Modules fail with it (through :meth:`EtcdModule.fail_from`) and the lookup wraps it in
``AnsibleLookupError``, so every failure reads the same: the key, the endpoint, the cause in a
few words, then the detail, with secrets masked.
"""
from __future__ import annotations

import re
from typing import Iterable, List, Optional, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils import exceptions as etcd_exc
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.failures import TIMEOUTS

# Cause categories, most specific first: a subclass must come before its base class.
_CATEGORIES: List[Tuple[type, str]] = [
    (etcd_exc.EtcdTLSError, 'TLS error'),
    (etcd_exc.EtcdOutcomeUnknown, 'outcome unknown'),
    (etcd_exc.EtcdWatchTimedOut, 'timed out'),
    (etcd_exc.EtcdConnectionFailed, 'unreachable'),
    (etcd_exc.EtcdV2NotEnabled, 'v2 API not enabled'),
    (etcd_exc.EtcdV3NotAvailable, 'v3 API not available'),
    (etcd_exc.EtcdTooManyTxnOps, 'too many operations in one transaction'),
    (etcd_exc.EtcdRequestTooLarge, 'request too large'),
    (etcd_exc.EtcdUnauthenticated, 'unauthenticated'),
    (etcd_exc.EtcdAuthFailed, 'authentication failed'),
    (etcd_exc.EtcdPermissionDenied, 'permission denied'),
    (etcd_exc.EtcdCompacted, 'revision compacted'),
    (etcd_exc.EtcdFutureRevision, 'future revision'),
    (etcd_exc.EtcdQuotaExceeded, 'quota exceeded'),
    (etcd_exc.EtcdLeaseNotFound, 'lease not found'),
    (etcd_exc.EtcdNoLeader, 'no leader'),
    (etcd_exc.EtcdUnavailable, 'unavailable'),
    (etcd_exc.EtcdDeadlineExceeded, 'timed out'),
    (etcd_exc.EtcdInvalidResponse, 'invalid answer'),
    (etcd_exc.EtcdUnauthorized, 'unauthorized'),
    (etcd_exc.EtcdTestFailed, 'condition failed'),
    (etcd_exc.EtcdNodeExist, 'already exists'),
    (etcd_exc.EtcdKeyNotFound, 'not found'),
    (etcd_exc.EtcdNotFile, 'is a directory'),
    (etcd_exc.EtcdNotDir, 'not a directory'),
    (etcd_exc.EtcdDirNotEmpty, 'directory not empty'),
    (etcd_exc.EtcdRootROnly, 'root is read-only'),
    (etcd_exc.EtcdRaftInternal, 'cluster error'),
    (etcd_exc.EtcdLeaderElect, 'leader election in progress'),
    (etcd_exc.EtcdEventIndexCleared, 'event index cleared'),
    (etcd_exc.ClientException, 'invalid argument'),
    (etcd_exc.EtcdException, 'etcd error'),
]


def error_category(exc: BaseException) -> str:
    """Name the cause of ``exc`` in a few words (unreachable, TLS error, unauthorized, ...)."""
    for cls, label in _CATEGORIES:
        if isinstance(exc, cls):
            if label == 'unreachable' and _all_timed_out(exc):
                return 'timed out'
            return label
    if isinstance(exc, TimeoutError):
        return 'timed out'
    if isinstance(exc, (ValueError, TypeError)):
        return 'invalid argument'
    return 'error'


def _all_timed_out(exc: BaseException) -> bool:
    # A connection failure is a timeout only when every member timed out; a mix of refused
    # and silent members is "unreachable". The transport records the kind of each failure.
    attempts = getattr(exc, 'attempts', None) or []
    return bool(attempts) and all(getattr(attempt, 'kind', None) in TIMEOUTS for attempt in attempts)


def describe_error(exc: BaseException, key: Optional[str] = None, hide: Iterable[Optional[str]] = ()) -> str:
    """Return a one-line message for any exception raised while talking to etcd.

    The message names the key (when given), the endpoint (when the error knows it) and the
    cause category (an exception's own ``category`` attribute wins), followed by the
    exception's text. Strings in ``hide`` (a password, a value marked sensitive) are replaced
    by ``********`` wherever they appear outside the key names, in addition to the client's
    own promise never to put a password in a message.
    """
    category = getattr(exc, 'category', None) or error_category(exc)
    detail = ' '.join(str(exc).split()) or exc.__class__.__name__
    if isinstance(exc, etcd_exc.EtcdV2NotEnabled):
        detail += '; for the v3 store, set api_version: v3'
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
    ``/app/ab/x`` into ``/app/********/x``. Only an occurrence wholly inside kept text is
    spared: a secret that runs across the edge of a key name is masked whole. Strings shorter than three characters are only replaced as whole
    words, so that hiding ``1`` does not blank out every index.
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
