# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions of the pyetcd client: one class per etcd v2 error code, plus transport errors.

Every error the server answers with ``{"errorCode", "message", "cause", "index"}`` becomes the
subclass of :class:`EtcdException` registered for that code in :data:`ERROR_CODES` (see
:func:`exception_for`). Failures that have no etcd error code (nothing answered, the answer was
not etcd's, the outcome of a write is unknown) have their own subclasses. Misuse of the client
(bad arguments) raises :class:`ClientException` before anything is sent.
"""
from __future__ import annotations

from typing import Optional

__all__ = [
    'ClientException',
    'EtcdException',
    'EtcdKeyNotFound',
    'EtcdTestFailed',
    'EtcdNotFile',
    'EtcdNoMorePeer',
    'EtcdNotDir',
    'EtcdNodeExist',
    'EtcdKeyIsPreserved',
    'EtcdRootROnly',
    'EtcdDirNotEmpty',
    'EtcdExistingPeerAddr',
    'EtcdUnauthorized',
    'EtcdValueRequired',
    'EtcdPrevValueRequired',
    'EtcdTTLNaN',
    'EtcdIndexNaN',
    'EtcdValueOrTTLRequired',
    'EtcdTimeoutNaN',
    'EtcdNameRequired',
    'EtcdIndexOrValueRequired',
    'EtcdIndexValueMutex',
    'EtcdInvalidField',
    'EtcdInvalidForm',
    'EtcdRefreshValue',
    'EtcdRefreshTTLRequired',
    'EtcdRaftInternal',
    'EtcdLeaderElect',
    'EtcdWatcherCleared',
    'EtcdEventIndexCleared',
    'EtcdStandbyInternal',
    'EtcdInvalidActiveSize',
    'EtcdInvalidRemoveDelay',
    'EtcdClientInternal',
    'EtcdConnectionFailed',
    'EtcdTLSError',
    'EtcdOutcomeUnknown',
    'EtcdBulkWriteFailed',
    'EtcdWatchTimedOut',
    'EtcdV2NotEnabled',
    'EtcdInvalidResponse',
    'EtcdEmptyResponse',
    'ERROR_CODES',
    'exception_for',
]


class ClientException(Exception):
    """The client was called wrongly (bad argument type or value); nothing was sent."""


class EtcdException(Exception):
    """Generic etcd error.

    Attributes: ``error_code`` (etcd's errorCode or None), ``message`` (etcd's message or ours),
    ``key`` (the key or path the request was about), ``cause`` (etcd's cause: often the key or
    its first missing parent, or the failed comparison), ``index`` (etcd index at the time of the error), ``status``
    (HTTP status), ``endpoint`` (base URL of the member that answered), ``outcome_unknown``
    (True when a write may or may not have been applied).
    """

    default_message = 'etcd error'

    def __init__(self, message: Optional[str] = None, error_code: Optional[int] = None, cause: Optional[str] = None,
                 index: Optional[int] = None, status: Optional[int] = None, endpoint: Optional[str] = None,
                 outcome_unknown: bool = False, key: Optional[str] = None):
        self.key = key
        self.message = message or self.default_message
        self.error_code = error_code
        self.cause = cause
        self.index = index
        self.status = status
        self.endpoint = endpoint
        self.outcome_unknown = outcome_unknown
        super().__init__(self.message)

    def __str__(self) -> str:
        text = self.message
        subject = self.key or self.cause
        if subject:
            text = '%s: %s' % (text, subject)
        # etcd's cause adds something when it is not just (a parent of) the key: e.g. "[a != b]".
        if self.key and self.cause and not self.key.startswith(self.cause):
            text = '%s (%s)' % (text, self.cause)
        details = []
        if self.error_code is not None:
            details.append('etcd error %s' % self.error_code)
        if self.index is not None:
            details.append('index %s' % self.index)
        if self.endpoint:
            details.append('on %s' % self.endpoint)
        if details:
            text = '%s (%s)' % (text, ', '.join(details))
        if self.outcome_unknown:
            text += '; the write may or may not have been applied'
        return text

    def __repr__(self) -> str:
        return '%s(%r, error_code=%r, cause=%r, index=%r)' % (type(self).__name__, self.message, self.error_code, self.cause, self.index)


# -- one class per etcd error code ------------------------------------------------------------

class EtcdKeyNotFound(EtcdException):
    """Error EcodeKeyNotFound (etcd code 100, HTTP 404)."""


class EtcdTestFailed(EtcdException):
    """Error EcodeTestFailed (etcd code 101, HTTP 412): a compare condition did not hold."""


class EtcdNotFile(EtcdException):
    """Error EcodeNotFile (etcd code 102, HTTP 403): the key is a directory."""


class EtcdNoMorePeer(EtcdException):
    """Error ecodeNoMorePeer (etcd code 103)."""


class EtcdNotDir(EtcdException):
    """Error EcodeNotDir (etcd code 104): the key is not a directory."""


class EtcdNodeExist(EtcdException):
    """Error EcodeNodeExist (etcd code 105, HTTP 412): the key already exists."""


class EtcdKeyIsPreserved(EtcdException):
    """Error ecodeKeyIsPreserved (etcd code 106)."""


class EtcdRootROnly(EtcdException):
    """Error EcodeRootROnly (etcd code 107): the root directory is read only."""


class EtcdDirNotEmpty(EtcdException):
    """Error EcodeDirNotEmpty (etcd code 108, HTTP 403)."""


class EtcdExistingPeerAddr(EtcdException):
    """Error ecodeExistingPeerAddr (etcd code 109)."""


class EtcdUnauthorized(EtcdException):
    """Error EcodeUnauthorized (etcd code 110, HTTP 401), also any other HTTP 401."""


class EtcdValueRequired(EtcdException):
    """Error ecodeValueRequired (etcd code 200)."""


class EtcdPrevValueRequired(EtcdException):
    """Error EcodePrevValueRequired (etcd code 201): an empty prevValue was sent."""


class EtcdTTLNaN(EtcdException):
    """Error EcodeTTLNaN (etcd code 202)."""


class EtcdIndexNaN(EtcdException):
    """Error EcodeIndexNaN (etcd code 203)."""


class EtcdValueOrTTLRequired(EtcdException):
    """Error ecodeValueOrTTLRequired (etcd code 204)."""


class EtcdTimeoutNaN(EtcdException):
    """Error ecodeTimeoutNaN (etcd code 205)."""


class EtcdNameRequired(EtcdException):
    """Error ecodeNameRequired (etcd code 206)."""


class EtcdIndexOrValueRequired(EtcdException):
    """Error ecodeIndexOrValueRequired (etcd code 207)."""


class EtcdIndexValueMutex(EtcdException):
    """Error ecodeIndexValueMutex (etcd code 208)."""


class EtcdInvalidField(EtcdException):
    """Error EcodeInvalidField (etcd code 209)."""


class EtcdInvalidForm(EtcdException):
    """Error EcodeInvalidForm (etcd code 210)."""


class EtcdRefreshValue(EtcdException):
    """Error EcodeRefreshValue (etcd code 211): refresh=true sent with a value."""


class EtcdRefreshTTLRequired(EtcdException):
    """Error EcodeRefreshTTLRequired (etcd code 212): refresh=true sent without a ttl."""


class EtcdRaftInternal(EtcdException):
    """Error EcodeRaftInternal (etcd code 300, HTTP 500). After a write this is ambiguous."""


class EtcdLeaderElect(EtcdException):
    """Error EcodeLeaderElect (etcd code 301, HTTP 500)."""


class EtcdWatcherCleared(EtcdException):
    """Error EcodeWatcherCleared (etcd code 400)."""


class EtcdEventIndexCleared(EtcdException):
    """Error EcodeEventIndexCleared (etcd code 401): the wait index is older than the kept history.

    Recover with a fresh read and a watch from its ``x_etcd_index + 1``.
    """


class EtcdStandbyInternal(EtcdException):
    """Error ecodeStandbyInternal (etcd code 402)."""


class EtcdInvalidActiveSize(EtcdException):
    """Error ecodeInvalidActiveSize (etcd code 403)."""


class EtcdInvalidRemoveDelay(EtcdException):
    """Error ecodeInvalidRemoveDelay (etcd code 404)."""


class EtcdClientInternal(EtcdException):
    """Error ecodeClientInternal (etcd code 500)."""


ERROR_CODES = {
    100: EtcdKeyNotFound,
    101: EtcdTestFailed,
    102: EtcdNotFile,
    103: EtcdNoMorePeer,
    104: EtcdNotDir,
    105: EtcdNodeExist,
    106: EtcdKeyIsPreserved,
    107: EtcdRootROnly,
    108: EtcdDirNotEmpty,
    109: EtcdExistingPeerAddr,
    110: EtcdUnauthorized,
    200: EtcdValueRequired,
    201: EtcdPrevValueRequired,
    202: EtcdTTLNaN,
    203: EtcdIndexNaN,
    204: EtcdValueOrTTLRequired,
    205: EtcdTimeoutNaN,
    206: EtcdNameRequired,
    207: EtcdIndexOrValueRequired,
    208: EtcdIndexValueMutex,
    209: EtcdInvalidField,
    210: EtcdInvalidForm,
    211: EtcdRefreshValue,
    212: EtcdRefreshTTLRequired,
    300: EtcdRaftInternal,
    301: EtcdLeaderElect,
    400: EtcdWatcherCleared,
    401: EtcdEventIndexCleared,
    402: EtcdStandbyInternal,
    403: EtcdInvalidActiveSize,
    404: EtcdInvalidRemoveDelay,
    500: EtcdClientInternal,
}


# -- failures without an etcd error code ------------------------------------------------------

class EtcdConnectionFailed(EtcdException):
    """No member gave an answer. ``attempts`` lists ``(endpoint, what happened)`` per member."""

    default_message = 'no etcd member answered'

    def __init__(self, message: Optional[str] = None, attempts: Optional[list] = None, **kwargs):
        self.attempts = list(attempts or [])
        super().__init__(message, **kwargs)

    def __str__(self) -> str:
        text = self.message
        if self.key or self.cause:
            text = '%s for %s' % (text, self.key or self.cause)
        if self.attempts:
            text += ': ' + '; '.join('%s: %s' % pair for pair in self.attempts)
        if self.outcome_unknown:
            text += '; the write may or may not have been applied'
        return text


class EtcdTLSError(EtcdConnectionFailed):
    """A TLS handshake failed (certificate not trusted, wrong host name, https to an http port...)."""

    default_message = 'TLS connection to etcd failed'


class EtcdOutcomeUnknown(EtcdConnectionFailed):
    """A write was sent but no answer came back: it may or may not have been applied.

    The client never re-sends such a request to another member; read the key to find out.
    """

    default_message = 'no answer to a write that was sent'

    def __init__(self, message: Optional[str] = None, attempts: Optional[list] = None, **kwargs):
        kwargs['outcome_unknown'] = True
        super().__init__(message, attempts, **kwargs)


class EtcdBulkWriteFailed(EtcdException):
    """One or more writes of :meth:`Client.write_many` failed.

    ``results`` holds one entry per item, in the order given: the :class:`EtcdResult` of a write
    that succeeded, None for one that failed or was not sent. ``failures`` lists
    ``(key, exception)`` for each failed write; ``not_sent`` the keys left unsent after the first
    failure. ``outcome_unknown`` is True when at least one failed write may still have been
    applied (its exception says so too); such writes are never sent again.
    """

    default_message = 'bulk write failed'

    def __init__(self, message: Optional[str] = None, results: Optional[list] = None, failures: Optional[list] = None,
                 not_sent: Optional[list] = None, **kwargs):
        self.results = list(results or [])
        self.failures = list(failures or [])
        self.not_sent = list(not_sent or [])
        kwargs.setdefault('outcome_unknown', any(getattr(exc, 'outcome_unknown', False) for _key, exc in self.failures))
        super().__init__(message, **kwargs)

    def __str__(self) -> str:
        shown = 5  # enough to see the pattern, short enough for one line
        named = ['%s (%s)' % (key, exc) for key, exc in self.failures[:shown]]
        if len(self.failures) > shown:
            named.append('and %d more' % (len(self.failures) - shown))
        text = '%s: %d of %d writes failed: %s' % (self.message, len(self.failures), len(self.results), '; '.join(named))
        if self.not_sent:
            text += '; %d not sent after the first failure' % len(self.not_sent)
        return text


class EtcdWatchTimedOut(EtcdException):
    """A read with ``wait=True`` saw no change before its timeout."""

    default_message = 'watch timed out without a change'


class EtcdV2NotEnabled(EtcdException):
    """The member answered a plain-text 404 for a v2 path: it runs without ``--enable-v2=true``."""

    default_message = 'v2 API not enabled'

    def __str__(self) -> str:
        return 'v2 API not enabled on %s (start etcd with --enable-v2=true; etcd 3.6 and later have no v2 API)' % self.endpoint


class EtcdInvalidResponse(EtcdException):
    """The answer was not what etcd sends (not JSON, empty, wrong shape, unexpected status)."""

    default_message = 'invalid answer from etcd'


class EtcdEmptyResponse(EtcdInvalidResponse):
    """The member answered with an empty body where etcd sends JSON."""

    default_message = 'empty answer from etcd'


def exception_for(payload: dict, status: Optional[int] = None, endpoint: Optional[str] = None,
                  outcome_unknown: bool = False, key: Optional[str] = None) -> EtcdException:
    """Build the exception for an etcd error body ``{"errorCode", "message", "cause", "index"}``."""
    code = payload.get('errorCode')
    try:
        code = int(code)
    except (TypeError, ValueError):
        code = None
    cls = ERROR_CODES.get(code, EtcdException)
    if code is None and status == 401:
        cls = EtcdUnauthorized
    index = payload.get('index')
    try:
        index = int(index) if index is not None else None
    except (TypeError, ValueError):
        index = None
    return cls(payload.get('message') or payload.get('error') or cls.default_message, error_code=code,
               cause=payload.get('cause') or None, index=index, status=status, endpoint=endpoint,
               outcome_unknown=outcome_unknown, key=key)
