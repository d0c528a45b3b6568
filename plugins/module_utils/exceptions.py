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
    'Etcd3Exception',
    'EtcdV3NotAvailable',
    'EtcdInvalidArgument',
    'EtcdTooManyTxnOps',
    'EtcdRequestTooLarge',
    'EtcdAuthFailed',
    'EtcdUnauthenticated',
    'EtcdPermissionDenied',
    'EtcdNotFound',
    'Etcd3KeyNotFound',
    'EtcdLeaseNotFound',
    'EtcdMemberNotFound',
    'EtcdUserNotFound',
    'EtcdRoleNotFound',
    'EtcdAlreadyExists',
    'EtcdUserExists',
    'EtcdRoleExists',
    'EtcdLeaseExists',
    'EtcdMemberExists',
    'EtcdFailedPrecondition',
    'EtcdAuthNotEnabled',
    'EtcdCompacted',
    'EtcdFutureRevision',
    'EtcdQuotaExceeded',
    'EtcdUnavailable',
    'EtcdNoLeader',
    'EtcdLeaderChanged',
    'EtcdDeadlineExceeded',
    'ERROR_CODES',
    'GRPC_CODE_NAMES',
    'GRPC_CODE_CLASSES',
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


# == etcd v3 (gRPC JSON gateway) ===============================================================
# Errors of the v3 API. The gateway answers ``{"code": <gRPC code>, "message": ...}`` (3.4 and
# 3.5 add ``"error"``, 3.6 does not); _v3/answers.py picks the class from the gRPC code, the HTTP
# status and, where etcd reuses one code for several conditions, the message text. Each class
# names the gRPC code(s) and etcd message(s) it stands for. Classes that share a concept with a
# v2 error also derive from the v2 class, so ``except EtcdKeyNotFound`` or ``except
# EtcdUnauthorized`` works for both APIs. Transport failures (EtcdConnectionFailed, EtcdTLSError,
# EtcdOutcomeUnknown) and EtcdInvalidResponse/EtcdEmptyResponse are shared with v2.

GRPC_CODE_NAMES = {
    0: 'OK', 1: 'Canceled', 2: 'Unknown', 3: 'InvalidArgument', 4: 'DeadlineExceeded', 5: 'NotFound',
    6: 'AlreadyExists', 7: 'PermissionDenied', 8: 'ResourceExhausted', 9: 'FailedPrecondition', 10: 'Aborted',
    11: 'OutOfRange', 12: 'Unimplemented', 13: 'Internal', 14: 'Unavailable', 15: 'DataLoss', 16: 'Unauthenticated',
}


class Etcd3Exception(EtcdException):
    """An error answered by the etcd v3 gateway.

    Besides the attributes of :class:`EtcdException` (``message``: etcd's message, ``status``:
    HTTP status, ``endpoint``, ``key``: what the request was about, ``outcome_unknown``), it has
    ``grpc_code`` (the gRPC status code etcd answered, None when the answer had none) and the
    class attribute ``retryable``: True when sending the same request again later may succeed
    (see ``_v3.answers.is_retryable`` for when that is safe for a write). ``error_code`` stays
    None: it holds v2 error codes only.
    """

    default_message = 'etcd v3 error'
    retryable = False

    def __init__(self, message: Optional[str] = None, grpc_code: Optional[int] = None, **kwargs):
        self.grpc_code = grpc_code
        super().__init__(message, **kwargs)

    def __str__(self) -> str:
        text = self.message
        if self.key:
            text = '%s: %s' % (text, self.key)
        details = []
        if self.grpc_code is not None:
            details.append('gRPC code %s %s' % (self.grpc_code, GRPC_CODE_NAMES.get(self.grpc_code, '')))
        if self.status is not None:
            details.append('HTTP %s' % self.status)
        if self.endpoint:
            details.append('on %s' % self.endpoint)
        if details:
            text = '%s (%s)' % (text, ', '.join(detail.strip() for detail in details))
        if self.outcome_unknown:
            text += '; the write may or may not have been applied'
        return text

    def __repr__(self) -> str:
        return '%s(%r, grpc_code=%r, status=%r)' % (type(self).__name__, self.message, self.grpc_code, self.status)


class EtcdV3NotAvailable(Etcd3Exception):
    """Nothing serves the v3 path used: a plain-text 404 for ``/v3/...`` (3.6: JSON ``Not Found``).

    That is an etcd older than 3.4 (3.3 serves ``/v3beta/``, 3.2 ``/v3alpha/``), a call newer than
    the member's etcd (``/v3/auth/status`` and ``/v3/maintenance/downgrade`` need 3.5), a member
    started with ``--enable-grpc-gateway=false`` (3.4 started from a config file defaults to
    that), or not etcd at all.
    """

    default_message = 'etcd v3 gateway not available'


class EtcdInvalidArgument(Etcd3Exception):
    """gRPC code 3 (InvalidArgument, HTTP 400) not covered by a subclass: bad JSON, bad base64,
    unknown enum name, empty key, ``etcdserver: duplicate key given in txn request``,
    ``etcdserver: value is provided`` / ``lease is provided``..."""


class EtcdTooManyTxnOps(EtcdInvalidArgument):
    """Code 3 ``etcdserver: too many operations in txn request``: the compares, the success ops or
    the failure ops of one txn exceed the server's ``--max-txn-ops`` (default 128)."""


class EtcdRequestTooLarge(Etcd3Exception):
    """The request is bigger than the server accepts: code 3 ``etcdserver: request is too large``
    (over ``--max-request-bytes``, default 1.5 MiB) or code 8 (HTTP 429) ``grpc: received message
    larger than max`` (over that limit plus 512 KiB)."""


class EtcdAuthFailed(EtcdInvalidArgument):
    """Code 3 ``etcdserver: authentication failed, invalid user ID or password`` (authenticate)."""


class EtcdUnauthenticated(Etcd3Exception, EtcdUnauthorized):
    """No valid token: authenticate (again) and repeat the request once.

    Code 16 (HTTP 401) ``etcdserver: invalid auth token`` (bad, expired or invalidated token); code 3
    ``etcdserver: user name is empty`` (no token while auth is on); code 3 ``etcdserver: revision of
    auth store is old`` and code 2 ``auth: revision in header is old`` (a JWT older than the last
    auth change), code 2 ``auth: user name is empty`` (admin RPC without a token).
    ``token_missing`` is True when no token was sent at all.
    """

    default_message = 'not authenticated'

    def __init__(self, message: Optional[str] = None, grpc_code: Optional[int] = None, token_missing: bool = False, **kwargs):
        self.token_missing = token_missing
        super().__init__(message, grpc_code, **kwargs)


class EtcdPermissionDenied(Etcd3Exception):
    """Code 7 (HTTP 403) ``etcdserver: permission denied``: the user's roles do not allow the
    request (a write with a read-only role, a key outside the granted range, an admin RPC)."""


class EtcdNotFound(Etcd3Exception):
    """Code 5 (HTTP 404), or a code-9 ``... not found``, not covered by a subclass."""


class Etcd3KeyNotFound(EtcdNotFound, EtcdKeyNotFound):
    """Code 3 ``etcdserver: key not found``: a put with ``ignore_value``/``ignore_lease`` on a key
    that does not exist (the only v3 call that fails on a missing key; a range just has no kvs)."""


class EtcdLeaseNotFound(EtcdNotFound):
    """Code 5 (HTTP 404) ``etcdserver: requested lease not found``: put with an unknown lease,
    revoke of an unknown or expired lease."""


class EtcdMemberNotFound(EtcdNotFound):
    """Code 5 (HTTP 404) ``etcdserver: member not found``."""


class EtcdUserNotFound(EtcdNotFound):
    """Code 9 ``etcdserver: user name not found``."""


class EtcdRoleNotFound(EtcdNotFound):
    """Code 9 ``etcdserver: role name not found``."""


class EtcdAlreadyExists(Etcd3Exception):
    """Code 6, or a code-9 ``... already exist(s)``, not covered by a subclass."""


class EtcdUserExists(EtcdAlreadyExists):
    """Code 9 ``etcdserver: user name already exists``."""


class EtcdRoleExists(EtcdAlreadyExists):
    """Code 9 ``etcdserver: role name already exists``."""


class EtcdLeaseExists(EtcdAlreadyExists):
    """Code 9 ``etcdserver: lease already exists`` (grant with an ID in use)."""


class EtcdMemberExists(EtcdAlreadyExists):
    """Code 9 ``etcdserver: member ID already exist`` (3.5) / ``etcdserver: Peer URLs already exists`` (3.4)."""


class EtcdFailedPrecondition(Etcd3Exception):
    """Code 9 (FailedPrecondition) not covered by a subclass: ``root user does not exist``, ``can
    only promote a learner member``, ``bad leader transferee``... Its HTTP status is 412 on some
    builds (Debian 3.4) and 400 on others, so only the gRPC code identifies it."""


class EtcdAuthNotEnabled(EtcdFailedPrecondition):
    """Code 9 ``etcdserver: authentication is not enabled`` (authenticate while auth is off)."""


class EtcdCompacted(Etcd3Exception):
    """Code 11 ``etcdserver: mvcc: required revision has been compacted``, or a watch cancelled
    with ``compact_revision``: the history asked for is gone.

    ``compact_revision`` is the oldest revision still readable: re-read at (or after) it and
    watch from it. A watch cancellation carries it; a unary answer (range, compaction) does not,
    so there it is None until the client finds it out (``_v3.answers.compact_probe_request``).
    """

    default_message = 'required revision has been compacted'

    def __init__(self, message: Optional[str] = None, grpc_code: Optional[int] = None,
                 compact_revision: Optional[int] = None, **kwargs):
        self.compact_revision = compact_revision
        super().__init__(message, grpc_code, **kwargs)

    def __str__(self) -> str:
        text = super().__str__()
        if self.compact_revision:
            text += '; oldest readable revision: %d' % self.compact_revision
        return text


class EtcdFutureRevision(Etcd3Exception):
    """Code 11 ``etcdserver: mvcc: required revision is a future revision``."""


class EtcdQuotaExceeded(Etcd3Exception):
    """Code 8 (HTTP 429) ``etcdserver: mvcc: database space exceeded``: the NOSPACE alarm is on.

    Reads and deletes still work; writes fail until space is freed (compact, defragment) and the
    alarm is disarmed.
    """


class EtcdUnavailable(Etcd3Exception):
    """Code 14 (HTTP 503, Unavailable) not covered by a subclass: ``server stopped``, ``not
    capable``, ``request timed out`` (with ``outcome_unknown`` for a write: the proposal may still
    be applied), ``rpc not supported for learner``..."""

    retryable = True


class EtcdNoLeader(EtcdUnavailable):
    """Code 14 ``etcdserver: no leader``: the member has no leader; nothing was proposed."""


class EtcdLeaderChanged(EtcdUnavailable):
    """Code 14 ``etcdserver: leader changed``: the leader changed while a linearizable read waited
    for its read index; nothing was applied."""


class EtcdDeadlineExceeded(Etcd3Exception):
    """Code 4 (HTTP 504) or code 2 ``context deadline exceeded`` (HTTP 500, seen when a member lost
    its leader): etcd gave up waiting. For a write ``outcome_unknown`` is True."""

    retryable = True


# gRPC code -> class when no message-specific rule applies (see _v3/answers.py).
GRPC_CODE_CLASSES = {
    3: EtcdInvalidArgument,
    4: EtcdDeadlineExceeded,
    5: EtcdNotFound,
    6: EtcdAlreadyExists,
    7: EtcdPermissionDenied,
    9: EtcdFailedPrecondition,
    14: EtcdUnavailable,
    16: EtcdUnauthenticated,
}
# == end of etcd v3 ============================================================================


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
