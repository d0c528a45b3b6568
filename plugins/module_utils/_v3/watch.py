# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Watches and compaction (a mixin of :class:`~plugins.module_utils.pyetcd3.Etcd3Client`).

:meth:`WatchMixin.watch` returns a :class:`Watch`: an iterator of
:class:`~plugins.module_utils._v3.result.Event` objects, one per change, in revision order
(etcd sends them in batches; the batches are unpacked, as python-etcd3 users expect).

How the gateway's ``/v3/watch`` stream is read (the same on etcd 3.4 and 3.5):

* one ``{"result": ...}`` object per line; the first says ``created``;
* ``canceled`` with ``compact_revision``: the start revision is older than the last
  compaction, the history is gone: :class:`EtcdCompacted` with ``compact_revision`` (re-read the
  keys, then watch again from that revision or later);
* ``canceled`` with ``cancel_reason``: the error it names (permission denied, ...);
* a result without events: a progress notification, not passed on, but it moves
  :attr:`Watch.revision` on;
* ``{"error": ...}``, the end of the stream, or a broken connection (the member stopped): the
  watch is opened again from the revision after the last one delivered, on the same or another
  member, so no event is lost or repeated; after three such failures in a row without an event
  in between, the error is raised.

``timeout`` bounds the wait for the next event: :class:`EtcdWatchTimedOut` (no change), never a
hang and never "outcome unknown". After it the watch is not lost: iterating again opens it
anew from where it was. A watch is opened only on a member that answered ``/health``. A
watch refused for its auth token (missing, expired, or older than the auth store) is opened
once more after authenticating again.
"""
from __future__ import annotations

import collections
import time
from typing import Any, Deque, Dict, Iterable, Iterator, Optional, Union

from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.answers import watch_cancel_error
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import (
    check_bool,
    check_key,
    check_range_end,
    check_revision,
    display,
    encode,
    prefix_range_end,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.result import Event, ResponseHeader, WatchResult
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.stream import LineStream, StreamCalls
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    Etcd3Exception,
    EtcdCompacted,
    EtcdInvalidResponse,
    EtcdPermissionDenied,
    EtcdUnauthenticated,
    EtcdUnavailable,
    EtcdWatchTimedOut,
)

Bytes = Union[str, bytes]
FILTERS = ('NOPUT', 'NODELETE')
# Consecutive re-opens of a broken watch stream before the error is passed on.
MAX_REOPENS = 3
# Reasons to open a stream again: the member went away or ended the stream. 3.4 reports a
# stopped server as code 13 "server closed the stream without sending trailers", 3.5 as 14.
_REOPEN_CODES = (13, 14)


def check_seconds(value: Any, name: str) -> float:
    """A positive number of seconds; ClientException naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ClientException('%s must be a number of seconds > 0, got %r' % (name, value))
    return float(value)


def check_filters(filters: Optional[Iterable[Any]]) -> list:
    """Event filters by name (``'noput'``, ``'nodelete'``, any case) or etcd's number (0, 1)."""
    if filters is None:
        return []
    if isinstance(filters, (str, bytes)) or not isinstance(filters, Iterable):
        raise ClientException('filters must be a list of %s, got %r' % (' or '.join(FILTERS), filters))
    names = []
    for item in filters:
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item < len(FILTERS):
            item = FILTERS[item]
        if not isinstance(item, str) or item.upper() not in FILTERS:
            raise ClientException('filters must be a list of %s, got %r' % (' or '.join(FILTERS), item))
        if item.upper() not in names:
            names.append(item.upper())
    return names


class Watch:
    """An open watch: iterate it for :class:`Event` objects; :meth:`close` (or ``with``) ends it.

    :attr:`revision` is the store revision up to which every change has been delivered (it
    moves on with events and progress notifications). :attr:`timeout` is the wait for each
    next event. Breaking out of a ``for`` loop closes the watch when the object goes away;
    close it yourself (or use ``with``) to close the connection at once.
    """

    def __init__(self, client: 'WatchMixin', request: Dict[str, Any], subject: str, start_revision: Optional[int],
                 timeout: float):
        self._client = client
        self._request = request
        self.subject = subject
        self.timeout = timeout
        self._start = start_revision
        # The revision the next (re)opened stream must start from: None until the first stream
        # told the current revision (a watch without start_revision begins after it).
        self._next_revision = start_revision
        self._stream: Optional[LineStream] = None
        self._pending: Deque[Event] = collections.deque()
        self._failures = 0
        self.closed = False
        self.watch_id = 0
        self.endpoint: Optional[str] = None
        self.header: Optional[ResponseHeader] = None

    @property
    def revision(self) -> int:
        """Every change up to this revision has been delivered (0 before the watch started)."""
        return (self._next_revision or 1) - 1

    def _open(self, deadline: float, renew: bool = True) -> None:
        body = dict(self._request)
        if self._next_revision is not None:
            body['start_revision'] = self._next_revision
        left = max(deadline - time.monotonic(), 0.001)
        token = self._client.auth_token
        stream = self._client.call_stream('/watch', {'create_request': body}, subject=self.subject,
                                          read_timeout=left, watch=True)
        try:
            result = stream.read_result(deadline)
            if result is None:
                raise EtcdUnavailable('watch stream from %s ended before the watch was created' % stream.endpoint,
                                      endpoint=stream.endpoint, key=self.subject)
            created = WatchResult.from_json(result)
            error = watch_cancel_error(result, stream.endpoint, self.subject)
            # A watch refused for its token is created and cancelled at once (HTTP 200): 3.5
            # says "permission denied" for a missing or expired token too, 3.4 names it.
            if isinstance(error, (EtcdUnauthenticated, EtcdPermissionDenied)) and renew \
                    and self._client.renew_token(token):
                stream.close()
                self._open(deadline, renew=False)
                return
            if error is not None:
                raise self._explain(error)
            if not created.created:
                raise EtcdInvalidResponse('watch stream did not start with "created": %.200r' % (result,),
                                          endpoint=stream.endpoint, key=self.subject)
        except BaseException:
            stream.close()
            raise
        self._stream = stream
        self.endpoint = stream.endpoint
        self.watch_id = created.watch_id
        self.header = created.header
        if self._next_revision is None:
            self._next_revision = created.header.revision + 1

    def _explain(self, error: Etcd3Exception) -> Etcd3Exception:
        """Say what to do about a compacted start revision."""
        if isinstance(error, EtcdCompacted) and error.compact_revision:
            asked = self._next_revision
            error.message = ('watch %sfrom revision %s: that history was compacted up to revision %d; read the keys '
                             'again and watch from revision %d or later'
                             % ('resumed ' if self._start != asked else '', asked, error.compact_revision,
                                error.compact_revision))
        return error

    def _close_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def _broken(self, exc: Etcd3Exception) -> None:
        """The stream failed: drop it; raise ``exc`` when re-opening is not worth trying."""
        self._close_stream()
        self._failures += 1
        if self._failures > MAX_REOPENS:
            raise exc
        time.sleep(min(0.1 * self._failures, 0.5))

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        """The next event; waits up to :attr:`timeout` for it.

        :raises EtcdWatchTimedOut: no change within the timeout (iterating again goes on from
            :attr:`revision`: nothing is lost).
        :raises EtcdCompacted: the revision to watch from was compacted (``compact_revision``
            says the oldest one left).
        :raises Etcd3Exception: the watch was refused (``cancel_reason``), or the stream kept
            failing.
        """
        if self._pending:
            return self._pending.popleft()
        if self.closed:
            raise StopIteration
        deadline = time.monotonic() + self.timeout
        while not self._pending:
            if self._stream is None:
                self._open(deadline)
            try:
                result = self._stream.read_result(deadline)
            except EtcdWatchTimedOut:
                self._close_stream()  # a timed-out socket cannot be read again
                raise EtcdWatchTimedOut('no change within %gs' % self.timeout, key=self.subject,
                                        endpoint=self.endpoint) from None
            except Etcd3Exception as exc:
                if not isinstance(exc, EtcdUnavailable) and exc.grpc_code not in _REOPEN_CODES:
                    self.close()
                    raise
                self._broken(exc)
                continue
            if result is None:
                self._broken(EtcdUnavailable('watch stream from %s ended' % self.endpoint, endpoint=self.endpoint,
                                             key=self.subject))
                continue
            self._take(result)
        self._failures = 0
        return self._pending.popleft()

    def _take(self, result: Dict[str, Any]) -> None:
        """One result of the stream: events are queued, the revision moves on."""
        error = watch_cancel_error(result, self.endpoint, self.subject)
        if error is not None:
            self.close()
            raise self._explain(error)
        parsed = WatchResult.from_json(result)
        if parsed.canceled:
            # Cancelled without a reason and not by us: the member ended it; open it again.
            self._broken(EtcdUnavailable('watch cancelled by %s' % self.endpoint, endpoint=self.endpoint,
                                         key=self.subject))
            return
        self.header = parsed.header
        if parsed.events:
            self._pending.extend(parsed.events)
            self._next_revision = max(self._next_revision or 0, parsed.events[-1].kv.mod_revision + 1)
        elif not parsed.created and parsed.header.revision:
            # A progress notification: everything up to header.revision has been sent.
            self._next_revision = max(self._next_revision or 0, parsed.header.revision + 1)

    def close(self) -> None:
        """End the watch and close its connection (idempotent); iteration then stops."""
        self.closed = True
        self._close_stream()

    cancel = close

    def __enter__(self) -> 'Watch':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        stream = getattr(self, '_stream', None)
        if stream is not None:
            stream.close()

    def __repr__(self) -> str:
        return 'Watch(%s, revision=%d, endpoint=%r%s)' % (self.subject, self.revision, self.endpoint,
                                                          ', closed' if self.closed else '')


class WatchMixin(StreamCalls):
    """``watch``, ``watch_prefix``, ``watch_once``, ``compact``."""

    def watch(self, key: Bytes, start_revision: Optional[int] = None, prefix: bool = False,
              range_end: Optional[Bytes] = None, prev_kv: bool = False, progress_notify: bool = False,
              filters: Optional[Iterable[Any]] = None, timeout: Optional[float] = None) -> Watch:
        """Watch ``key`` (with ``prefix``: every key under it; with ``range_end``: up to it).

        Sends ``{"create_request": {...}}`` to ``/watch`` and waits for etcd's ``created`` before
        returning, so every change after this call is seen. ``start_revision`` replays history
        from that revision (it may be compacted: :class:`EtcdCompacted` on iterating);
        ``prev_kv`` adds each key's previous state to the events; ``progress_notify`` asks for
        progress notifications (they only move :attr:`Watch.revision`); ``filters`` drops
        ``'noput'`` and/or ``'nodelete'`` events. ``timeout`` (seconds, default the client's
        ``watch_timeout``) bounds the wait for creation and for each next event.
        :raises ClientException: a bad argument (nothing is sent).
        :raises EtcdWatchTimedOut: not even the creation came in time.
        """
        key_bytes = check_key(key)
        if not isinstance(prefix, bool):
            raise ClientException('prefix must be true or false, got %r' % (prefix,))
        if prefix and range_end is not None:
            raise ClientException('give prefix or range_end, not both')
        end = prefix_range_end(key_bytes, 'key') if prefix else check_range_end(range_end)
        request: Dict[str, Any] = {'key': encode(key_bytes)}
        if end is not None:
            request['range_end'] = encode(end)
        if check_bool(prev_kv, 'prev_kv'):
            request['prev_kv'] = True
        if check_bool(progress_notify, 'progress_notify'):
            request['progress_notify'] = True
        names = check_filters(filters)
        if names:
            request['filters'] = names
        start = None if start_revision is None else check_revision(start_revision, 'start_revision', 1)
        wait = self.watch_timeout if timeout is None else check_seconds(timeout, 'timeout')
        subject = display(key_bytes) + ('*' if prefix else '' if end is None else ' .. %s' % display(end))
        watch = Watch(self, request, subject, start, wait)
        watch._open(time.monotonic() + wait)  # pylint: disable=protected-access
        return watch

    def watch_prefix(self, prefix: Bytes, **kwargs: Any) -> Watch:
        """:meth:`watch` of every key starting with ``prefix``."""
        return self.watch(prefix, prefix=True, **kwargs)

    def watch_once(self, key: Bytes, timeout: Optional[float] = None, **kwargs: Any) -> Event:
        """The first event of :meth:`watch` (same arguments), then the watch is closed.

        :raises EtcdWatchTimedOut: no change within ``timeout`` (default: ``watch_timeout``).
        """
        with self.watch(key, timeout=timeout, **kwargs) as watch:
            return next(watch)

    def compact(self, revision: int, physical: bool = False) -> ResponseHeader:
        """Drop the history before ``revision`` (``/kv/compaction``); keys' current values stay.

        With ``physical`` the answer comes once the space is reclaimed on the member. Watches
        from an older revision then fail with :class:`EtcdCompacted`.
        :raises EtcdCompacted: ``revision`` is already compacted.
        :raises EtcdFutureRevision: ``revision`` is newer than the store.
        """
        body = {'revision': check_revision(revision, 'revision', 1), 'physical': check_bool(physical, 'physical')}
        data = self.call('/kv/compaction', body, write=True, subject='revision %d' % body['revision'])
        return ResponseHeader.from_json(data.get('header'))
