# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turning answers of the etcd v3 gateway into JSON or into the right exception.

Transport-independent: the functions take the HTTP status and the body text that came back.

* :func:`parse_answer` - a whole answer: the JSON object on success, else raises.
* :func:`error_for` - the exception for one error object ``{"code", "message"}``.
* :func:`is_retryable` - may the transport send the same request again (for the retry hook)?
* :func:`parse_stream_line` - one line of a streamed answer (watch, keepalive, snapshot).
* :func:`watch_cancel_error` - the exception behind a cancelled watch, if any.
* :func:`compact_probe_request` / :func:`compact_revision_of` - find the compaction revision
  that a unary "has been compacted" error does not tell.

Errors are recognised by the gRPC ``code`` and, where etcd reuses a code for several conditions,
by etcd's ``message`` text. Never by the ``error`` field (etcd 3.6 no longer sends it) and never
by 412 versus 400 for code 9 (FailedPrecondition): which of the two a member sends depends on the
grpc-gateway version it was built with (Debian's 3.4.23: 412, 3.5: 400).
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    GRPC_CODE_CLASSES,
    GRPC_CODE_NAMES,
    Etcd3Exception,
    Etcd3KeyNotFound,
    EtcdAlreadyExists,
    EtcdAuthFailed,
    EtcdAuthNotEnabled,
    EtcdCompacted,
    EtcdDeadlineExceeded,
    EtcdEmptyResponse,
    EtcdFutureRevision,
    EtcdInvalidResponse,
    EtcdLeaderChanged,
    EtcdLeaseExists,
    EtcdLeaseNotFound,
    EtcdMemberExists,
    EtcdMemberNotFound,
    EtcdNoLeader,
    EtcdNotFound,
    EtcdPermissionDenied,
    EtcdQuotaExceeded,
    EtcdRequestTooLarge,
    EtcdRoleExists,
    EtcdRoleNotFound,
    EtcdTooManyTxnOps,
    EtcdUnauthenticated,
    EtcdUnavailable,
    EtcdUserExists,
    EtcdUserNotFound,
    EtcdV3NotAvailable,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import encode, to_int

# (gRPC codes, lower-case fragment of etcd's message, class): the first match wins, so specific
# fragments come before general ones. Messages are etcd's (server/etcdserver/api/v3rpc/rpctypes
# and auth/mvcc errors), the same in 3.4, 3.5 and 3.6 except where noted.
_MESSAGE_RULES = (
    ((11,), 'has been compacted', EtcdCompacted),
    ((11,), 'future revision', EtcdFutureRevision),
    ((3,), 'too many operations in txn', EtcdTooManyTxnOps),
    ((3,), 'request is too large', EtcdRequestTooLarge),
    ((8,), 'larger than max', EtcdRequestTooLarge),
    ((8,), 'database space exceeded', EtcdQuotaExceeded),
    ((3,), 'authentication failed', EtcdAuthFailed),
    ((2, 3), 'user name is empty', EtcdUnauthenticated),
    ((2, 3), 'revision of auth store is old', EtcdUnauthenticated),
    ((2, 3), 'revision in header is old', EtcdUnauthenticated),
    ((3,), 'key not found', Etcd3KeyNotFound),
    ((5,), 'lease not found', EtcdLeaseNotFound),
    ((5,), 'member not found', EtcdMemberNotFound),
    ((5, 9), 'user name not found', EtcdUserNotFound),
    ((5, 9), 'role name not found', EtcdRoleNotFound),
    ((6, 9), 'user name already exists', EtcdUserExists),
    ((6, 9), 'role name already exists', EtcdRoleExists),
    ((6, 9), 'lease already exists', EtcdLeaseExists),
    ((6, 9), 'member id already exist', EtcdMemberExists),   # 3.5, 3.6
    ((6, 9), 'peer urls already exists', EtcdMemberExists),  # 3.4
    ((9,), 'authentication is not enabled', EtcdAuthNotEnabled),
    ((9,), 'not found', EtcdNotFound),
    ((9,), 'already exist', EtcdAlreadyExists),
    ((14,), 'no leader', EtcdNoLeader),
    ((14,), 'leader changed', EtcdLeaderChanged),
    ((2,), 'context deadline exceeded', EtcdDeadlineExceeded),
)

# Failures etcd reports before the request reaches raft, so a write answered with one of them was
# certainly not applied and may be sent again (to this or another member):
# * "no leader": raised by the gRPC interceptor and by the lease calls' wait for a leader, before
#   anything is proposed;
# * "leader changed": raised only while a linearizable read waits for its read index (a read, or
#   the read part of a txn or lease call), before any result is produced;
# * "rpc not supported for learner" / "not capable": the member refused the call up front;
# * "too many requests" (code 8): the member refused to propose because its apply lags its commit.
# Every other Unavailable/Unknown/DeadlineExceeded answer to a write ("request timed out",
# "context deadline exceeded", "server stopped", a dropped connection mid-stream) can come after
# the proposal was handed to raft, which may still commit it: such a write is not retryable and
# its exception has outcome_unknown=True. Reads are retryable after any of them.
_NOT_APPLIED = ('no leader', 'leader changed', 'not supported for learner', 'not capable', 'too many requests')
_RETRY_CODES = (4, 14)
_UNKNOWN_OUTCOME_CODES = (1, 2, 4, 13, 14)

_CANCEL_REASON = re.compile(r'code = (\w+) desc = (.*)\Z', re.S)
_GRPC_CODE_NUMBERS = {name.lower(): number for number, name in GRPC_CODE_NAMES.items()}


def _error_object(payload: Any) -> Optional[Dict[str, Any]]:
    """``{"code": int, "message": str}`` from an error body or stream error of any version."""
    if not isinstance(payload, dict):
        return None
    code = payload.get('code')
    if code is None:
        code = payload.get('grpc_code')  # in-stream errors of 3.4/3.5
    message = payload.get('message')
    if message is None:
        message = payload.get('error')  # only as a last resort: 3.6 does not send it
    if code is None and message is None:
        return None
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    return {'code': code, 'message': message if isinstance(message, str) else json.dumps(message)}


def _class_for(code: Optional[int], message: str, status: Optional[int]) -> type:
    text = message.lower()
    for codes, fragment, cls in _MESSAGE_RULES:
        if code in codes and fragment in text:
            return cls
    if code == 5 and message.strip() == 'Not Found':
        return EtcdV3NotAvailable  # 3.6 answers an unknown path with JSON {"code":5,"message":"Not Found"}
    if code in GRPC_CODE_CLASSES:
        return GRPC_CODE_CLASSES[code]
    if code is None:
        return {401: EtcdUnauthenticated, 403: EtcdPermissionDenied, 503: EtcdUnavailable}.get(status, Etcd3Exception)
    return Etcd3Exception


def _outcome_unknown(code: Optional[int], message: str, write: bool) -> bool:
    if not write or code not in _UNKNOWN_OUTCOME_CODES:
        return False
    text = message.lower()
    if text.startswith('auth:') or any(fragment in text for fragment in _NOT_APPLIED):
        return False
    return True


def error_for(payload: Any, status: Optional[int] = None, endpoint: Optional[str] = None,
              subject: Optional[str] = None, write: bool = False) -> Etcd3Exception:
    """The exception for an error object of the gateway.

    ``payload`` is the decoded error body: ``{"code", "message"[, "error"][, "details"]}`` of a
    unary answer (3.4/3.5 with ``error``, 3.6 without), or the inner object of an in-stream error
    (``{"grpc_code", "http_code", "message", "http_status"}`` on 3.4/3.5, ``{"code", "message",
    "details"}`` on 3.6). ``subject`` (the key or object the request was about) becomes the
    exception's ``key``; ``write`` says whether the request could change anything, which decides
    ``outcome_unknown`` (see ``_NOT_APPLIED``). Returns, never raises.
    """
    error = _error_object(payload)
    if error is None:
        return EtcdInvalidResponse('answer is not an etcd error object: %.200r' % (payload,), status=status,
                                   endpoint=endpoint, key=subject)
    code, message = error['code'], error['message'] or ''
    cls = _class_for(code, message, status)
    kwargs = {'grpc_code': code, 'status': status, 'endpoint': endpoint, 'key': subject,
              'outcome_unknown': _outcome_unknown(code, message, write)}
    if cls is EtcdUnauthenticated:
        kwargs['token_missing'] = 'user name is empty' in message.lower()
    if cls is EtcdV3NotAvailable:
        message = _not_available_message(endpoint)
    return cls(message or None, **kwargs)


def _not_available_message(endpoint: Optional[str]) -> str:
    return ('%s does not serve this etcd v3 call: etcd older than 3.4 (3.3 serves /v3beta/), a call newer than the '
            "member's etcd (such as /v3/auth/status before 3.5), a member started with --enable-grpc-gateway=false, "
            'or not etcd at all' % (endpoint or 'the member'))


def _text_of(body: Any) -> str:
    if isinstance(body, (bytes, bytearray)):
        return bytes(body).decode('utf-8', 'replace')
    return body or ''


def parse_answer(status: int, body: Any, endpoint: Optional[str] = None, subject: Optional[str] = None,
                 write: bool = False) -> Dict[str, Any]:
    """The JSON object of a successful gateway answer; raises the matching exception otherwise.

    ``body`` is the answer's text (``str``, or ``bytes`` decoded as UTF-8). Raises:

    * the :class:`Etcd3Exception` subclass from :func:`error_for` for a JSON error answer
      (any non-2xx status with ``code``/``message``, whichever etcd version);
    * :class:`EtcdV3NotAvailable` for a plain-text 404 (nothing serves this v3 path);
    * :class:`EtcdEmptyResponse` for an empty body (upstream etcd 3.4.23 answers errors that way);
    * :class:`Etcd3Exception` for another plain-text error (405 for a non-POST, the 400 that
      refuses client certificates with a CommonName when auth is on, 421 host not allowed);
    * :class:`EtcdInvalidResponse` for a 2xx answer that is not a JSON object.

    Every exception names ``endpoint`` and carries ``status`` and ``subject`` (as ``key``).
    """
    text = _text_of(body)
    where = endpoint or 'the member'
    ok = 200 <= status < 300
    if not text or text.isspace():
        if ok:
            raise EtcdEmptyResponse('empty answer from %s (HTTP %d) where etcd sends JSON' % (where, status),
                                    status=status, endpoint=endpoint, key=subject, outcome_unknown=write)
        raise EtcdEmptyResponse('empty error answer (HTTP %d) from %s: upstream etcd 3.4.23 answers gateway errors '
                                'this way (fixed in 3.4.24); the error itself is unknown' % (status, where),
                                status=status, endpoint=endpoint, key=subject, outcome_unknown=write)
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
        if ok:
            raise EtcdInvalidResponse('answer from %s is not JSON: %.200r' % (where, text), status=status,
                                      endpoint=endpoint, key=subject, outcome_unknown=write) from None
    if payload is None or (not ok and not isinstance(payload, dict)):
        raise _plain_text_error(status, text, endpoint, subject)
    if ok:
        if not isinstance(payload, dict):
            raise EtcdInvalidResponse('answer from %s is not a JSON object: %.200r' % (where, text), status=status,
                                      endpoint=endpoint, key=subject, outcome_unknown=write)
        return payload
    exc = error_for(payload, status, endpoint, subject, write)
    if isinstance(exc, EtcdInvalidResponse):  # JSON, but no code and no message: not the gateway's error shape
        raise Etcd3Exception('HTTP %d from %s: %.200s' % (status, where, text), status=status,
                             endpoint=endpoint, key=subject)
    raise exc


def _plain_text_error(status: int, text: str, endpoint: Optional[str], subject: Optional[str]) -> Etcd3Exception:
    where = endpoint or 'the member'
    snippet = ' '.join(text.split())[:200]
    if status == 404:
        return EtcdV3NotAvailable(_not_available_message(endpoint) + ' (it answered %r)' % snippet, status=status,
                                  endpoint=endpoint, key=subject)
    if status == 405:
        message = 'HTTP 405 from %s: the v3 gateway takes POST only (%s)' % (where, snippet)
    elif 'CommonName' in text:
        message = ('%s refuses client certificates with a CommonName on the gateway when auth is on; use a '
                   'certificate without CN plus a user and password (%s)' % (where, snippet))
    else:
        message = 'HTTP %d from %s, not a gateway error: %s' % (status, where, snippet)
    cls = EtcdUnavailable if status in (502, 503, 504) else Etcd3Exception
    return cls(message, status=status, endpoint=endpoint, key=subject)


def is_retryable(status: int, body: Any, write: bool = False) -> bool:
    """Whether the transport may send the same request again (after a short wait, or to another member).

    For a read (``write=False``): any Unavailable (code 14: no leader, leader changed, request
    timed out, server stopped...), DeadlineExceeded (code 4, or code 2 ``context deadline
    exceeded``), code 8 ``too many requests``, and a non-etcd 502/503/504 from something in between.
    For a write: only the answers that etcd gives before proposing anything (``_NOT_APPLIED``):
    ``no leader``, ``leader changed``, ``rpc not supported for learner``, ``not capable``,
    ``too many requests``. A write that timed out inside etcd may still be applied, so it is
    never retried here. A success is not retryable (nothing to retry).
    """
    if 200 <= status < 300:
        return False
    text = _text_of(body)
    try:
        error = _error_object(json.loads(text))
    except ValueError:
        error = None
    if error is None:
        return not write and status in (502, 503, 504)
    code, message = error['code'], (error['message'] or '').lower()
    if any(fragment in message for fragment in _NOT_APPLIED):
        return code in (8, 14) or not write
    if write:
        return False
    return code in _RETRY_CODES or (code == 2 and 'context deadline exceeded' in message)


def parse_stream_line(line: Any, endpoint: Optional[str] = None, subject: Optional[str] = None,
                      write: bool = False) -> Optional[Dict[str, Any]]:
    """One newline-delimited object of a streamed answer: the ``result`` object, or None.

    None for a blank line (a large message can be followed by a chunk holding only ``\\n``).
    ``{"result": {...}}`` gives the inner object (``{}`` when etcd left every field out).
    ``{"error": {...}}`` raises the exception of :func:`error_for` for either shape:
    3.4/3.5 ``{"grpc_code", "http_code", "message", "http_status"}`` (``http_code`` becomes
    the exception's ``status``) or 3.6 ``{"code", "message", "details"}``. Anything else raises
    :class:`EtcdInvalidResponse` naming ``endpoint``.
    """
    text = _text_of(line).strip()
    if not text:
        return None
    where = endpoint or 'the member'
    try:
        payload = json.loads(text)
    except ValueError:
        raise EtcdInvalidResponse('stream line from %s is not JSON: %.200r' % (where, text), endpoint=endpoint,
                                  key=subject) from None
    if isinstance(payload, dict) and isinstance(payload.get('error'), dict):
        inner = payload['error']
        status = inner.get('http_code')
        try:
            status = int(status) if status is not None else None
        except (TypeError, ValueError):
            status = None
        raise error_for(inner, status, endpoint, subject, write)
    if isinstance(payload, dict) and 'result' in payload:
        result = payload['result']
        if result is None:
            return {}
        if isinstance(result, dict):
            return result
    raise EtcdInvalidResponse('stream line from %s is neither a result nor an error: %.200r' % (where, text),
                              endpoint=endpoint, key=subject)


def watch_cancel_error(result: Dict[str, Any], endpoint: Optional[str] = None,
                       subject: Optional[str] = None) -> Optional[Etcd3Exception]:
    """The exception for a watch result with ``canceled: true``, or None for any other result.

    * ``compact_revision`` set: :class:`EtcdCompacted` with that ``compact_revision``;
    * ``cancel_reason`` like ``rpc error: code = PermissionDenied desc = etcdserver: permission
      denied``: the class :func:`error_for` picks for that code and text;
    * cancelled without a reason: None as well - the watch was cancelled on request.
    """
    if not isinstance(result, dict) or not result.get('canceled'):
        return None
    compact_revision = to_int(result.get('compact_revision'), 'compact_revision')
    if compact_revision:
        return EtcdCompacted('watch start revision has been compacted', grpc_code=11, compact_revision=compact_revision,
                             endpoint=endpoint, key=subject)
    reason = result.get('cancel_reason') or ''
    if not reason:
        return None
    match = _CANCEL_REASON.search(reason)
    if match:
        code = _GRPC_CODE_NUMBERS.get(match.group(1).lower())
        return error_for({'code': code, 'message': match.group(2)}, None, endpoint, subject)
    return error_for({'code': None, 'message': reason}, None, endpoint, subject)


def compact_probe_request(key: Any) -> Dict[str, Any]:
    """A ``/v3/watch`` body that makes etcd tell its compaction revision.

    A unary answer "required revision has been compacted" does not say up to where. A watch of
    ``key`` from revision 1 is cancelled at once with ``compact_revision`` when anything was
    compacted; both event filters are set, so no history is replayed either way. Read the
    stream with a timeout, pass each line to :func:`compact_revision_of`, close it after the
    first non-None answer (if nothing comes, nothing was compacted). Use a key the user may
    read (the key of the failed request).
    """
    return {'create_request': {'key': encode(key), 'start_revision': 1, 'filters': ['NOPUT', 'NODELETE']}}


def compact_revision_of(line: Any, endpoint: Optional[str] = None) -> Optional[int]:
    """The compaction revision told by one line of the :func:`compact_probe_request` stream,
    or None for a line that does not tell it (the ``created`` line, a blank line)."""
    result = parse_stream_line(line, endpoint)
    if result is None:
        return None
    exc = watch_cancel_error(result, endpoint)
    if isinstance(exc, EtcdCompacted):
        return exc.compact_revision
    if exc is not None:
        raise exc
    return None
