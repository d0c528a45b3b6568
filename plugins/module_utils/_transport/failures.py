# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What went wrong on the way to a member, as data.

:func:`classify` turns an exception of urllib3, ``http.client``, ``ssl`` or the socket layer
into a :class:`Failure`: its kind, a short text for people, whether the request may have
reached the member (``sent``) and whether TLS failed. The transport decides from ``sent``
whether a request may go to the next member, and records every member's failure as an
:class:`Attempt`, whose ``kind`` travels with the error so that callers never parse the text.
"""
from __future__ import annotations

import http.client
import re
import socket
import ssl

try:
    import urllib3
    import urllib3.exceptions
except ImportError:  # pragma: no cover - urllib3 comes with requests; the client says it is missing
    urllib3 = None  # type: ignore[assignment]

# Kinds of failure.
REFUSED = 'refused'
UNRESOLVED = 'unresolved'
CONNECT_TIMEOUT = 'connect timeout'
READ_TIMEOUT = 'read timeout'
TLS = 'tls'
CLOSED = 'closed'
CUT = 'cut'
RESET = 'reset'
UNHEALTHY = 'unhealthy'
OTHER = 'other'
TIMEOUTS = frozenset((CONNECT_TIMEOUT, READ_TIMEOUT))

# A plain-http etcd port answers a TLS hello by closing the connection.
HANDSHAKE_CLOSED = 'TLS: connection closed during the handshake (does this port speak plain http?)'
UNHEALTHY_TEXT = 'reports itself unhealthy'
_SSL_REASON = re.compile(r'\[SSL: ([A-Z0-9_]+)\] ([^(\')"]+)')


class Attempt(tuple):
    """One member's failure: compares and unpacks as ``(endpoint, reason)``, and carries ``kind``."""

    def __new__(cls, endpoint: str, reason: str, kind: str = OTHER) -> 'Attempt':
        attempt = tuple.__new__(cls, (endpoint, reason))
        attempt.kind = kind
        return attempt

    def __getnewargs__(self):
        return (self[0], self[1], self.kind)


class Failure:
    """A classified failure: ``kind``, ``text``, ``sent`` (the request may have reached the
    member) and ``tls``."""

    __slots__ = ('kind', 'text', 'sent', 'tls')

    def __init__(self, kind: str, text: str, sent: bool, tls: bool = False):
        self.kind = kind
        self.text = text
        self.sent = sent
        self.tls = tls

    def attempt(self, endpoint: str) -> Attempt:
        return Attempt(endpoint, self.text, self.kind)


def classify(exc: BaseException, base: str, connect_timeout: float, read_timeout: float,
             connected: bool = False) -> Failure:
    """Classify an exception raised while connecting to, sending to or reading from ``base``.

    ``connected`` says the connection was already made when the error came (a pipelined
    connection), so a timeout then is a read timeout and anything else may follow a send.
    """
    if isinstance(exc, (ssl.SSLError, urllib3.exceptions.SSLError)):
        return Failure(TLS, describe_tls(exc), sent=False, tls=True)
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        # Also a subclass of ConnectTimeoutError: refused, unresolvable, unreachable.
        text = describe_transport(exc, base)
        return Failure(_kind_of(text), text, sent=False)
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return Failure(CONNECT_TIMEOUT, 'no connection within %gs' % connect_timeout, sent=False)
    if isinstance(exc, (urllib3.exceptions.ReadTimeoutError, socket.timeout)):
        if connected or isinstance(exc, urllib3.exceptions.ReadTimeoutError):
            return Failure(READ_TIMEOUT, 'no answer within %gs' % read_timeout, sent=True)
        return Failure(CONNECT_TIMEOUT, 'no connection within %gs' % connect_timeout, sent=False)
    if in_tls_handshake(exc):
        return Failure(TLS, HANDSHAKE_CLOSED, sent=False, tls=True)
    text = describe_transport(exc, base)
    return Failure(_kind_of(text), text, sent=connected or not never_sent(exc))


def _kind_of(text: str) -> str:
    for words, kind in (('refused', REFUSED), ('does not resolve', UNRESOLVED), ('closed', CLOSED), ('cut', CUT),
                        ('reset', RESET)):
        if words in text:
            return kind
    return OTHER


def reason_chain(exc: BaseException):
    """Yield ``exc`` and the errors wrapped in it (args, reason, cause, context)."""
    seen = set()
    todo = [exc]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen or not isinstance(err, BaseException):
            continue
        seen.add(id(err))
        yield err
        todo.extend([getattr(err, 'reason', None), err.__cause__, err.__context__])
        todo.extend(arg for arg in err.args if isinstance(arg, BaseException))


def never_sent(exc: BaseException) -> bool:
    """True when the error happened before any byte of the request left (no connection made)."""
    return any(isinstance(err, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))
               for err in reason_chain(exc)) or in_tls_handshake(exc)


def in_tls_handshake(exc: BaseException) -> bool:
    """True when the connection broke inside the TLS handshake, before the request was sent.

    A plain-http etcd port answers a TLS hello by closing the connection; now and then that
    arrives as a bare "connection reset" raised from the handshake rather than as an SSL error.
    """
    for err in reason_chain(exc):
        frame = err.__traceback__
        while frame is not None:
            if frame.tb_frame.f_code.co_name == 'do_handshake':
                return True
            frame = frame.tb_next
    return False


def describe_transport(exc: BaseException, base: str = '') -> str:
    chain = list(reason_chain(exc))
    text = ' '.join(str(err) for err in chain)
    if base.startswith('http://') and any(isinstance(err, http.client.RemoteDisconnected) for err in chain):
        # Not one byte came back. etcd's TLS listener closes a plaintext connection that way,
        # and never acts on the request.
        return 'connection closed without an answer (does this port speak https?)'
    if 'Name or service not known' in text or 'NameResolutionError' in text or 'Failed to resolve' in text \
            or 'nodename nor servname' in text or 'Temporary failure in name resolution' in text:
        return 'host name does not resolve'
    if 'Connection refused' in text or 'Errno 111' in text:
        return 'connection refused'
    if 'RemoteDisconnected' in text or 'closed connection' in text or 'Connection aborted' in text:
        return 'connection closed before the answer was complete'
    if 'IncompleteRead' in text or 'Connection broken' in text:
        return 'connection cut in the middle of the answer'
    if 'Connection reset' in text:
        return 'connection reset'
    for err in reason_chain(exc):
        if not isinstance(err, (urllib3.exceptions.MaxRetryError, urllib3.exceptions.ProtocolError)):
            return '%s: %s' % (type(err).__name__, err)
    return str(exc)


def describe_tls(exc: BaseException) -> str:
    match = _SSL_REASON.search(' '.join(str(err) for err in reason_chain(exc)))
    reason = match.group(2).strip() if match else 'TLS handshake failed'
    code = match.group(1) if match else ''
    if code in ('WRONG_VERSION_NUMBER', 'UNEXPECTED_EOF_WHILE_READING'):
        # etcd closes a plain-http port on a TLS hello without a word.
        reason += ' (does this port speak plain http?)'
    elif code == 'CERTIFICATE_VERIFY_FAILED':
        reason += ' (is ca_cert the CA that signed the server certificate?)'
    elif code in ('SSLV3_ALERT_BAD_CERTIFICATE', 'TLSV13_ALERT_CERTIFICATE_REQUIRED', 'TLSV1_ALERT_UNKNOWN_CA'):
        reason += ' (the server refused the client certificate: give cert and key signed by a CA it trusts)'
    return 'TLS: ' + reason
