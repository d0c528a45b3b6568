# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Distributed locks on etcd's lock service (a mixin of
:class:`~plugins.module_utils.pyetcd3.Etcd3Client`).

The gateway's ``/v3/lock/lock`` runs etcd's own mutex (``clientv3/concurrency``) on the server:
it creates the key ``<name>/<lease id in hex>`` attached to the caller's lease and answers once
every older key under ``<name>/`` is gone. ``etcdctl lock <name>`` and the Go client use the same
keys, so these locks exclude each other. ``/v3/lock/unlock`` deletes the key.

Each acquisition has its own lease of ``ttl`` seconds. etcd keeps it alive while the lock call
waits; once held, the lock lasts ``ttl`` seconds unless :meth:`Lock.refresh` is called (there
is no background thread): a holder that dies releases it when its lease expires. A wait that
runs out of time, or fails in any way, revokes the lease, so no lock is left held or queued.
"""
from __future__ import annotations

from typing import Any, Optional, Union

from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import check_key, decode_bytes, display, encode
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.lease import LeaseHandle, check_ttl
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.stream import StreamCalls
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.watch import check_seconds
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    EtcdDeadlineExceeded,
    EtcdException,
    EtcdInvalidResponse,
    EtcdLeaseNotFound,
    EtcdWatchTimedOut,
)

Bytes = Union[str, bytes]
_UNSET = object()


class Lock:
    """One named lock; a context manager (``with client.lock('name'):``) that acquires on entry
    and releases on exit, also after an exception.

    ``name``, ``ttl`` (seconds the lock lasts without :meth:`refresh`), ``timeout`` (the
    default wait of :meth:`acquire`; None: as long as it takes). While held, ``key`` is the
    lock key (bytes) and ``lease`` its :class:`LeaseHandle`.
    """

    def __init__(self, client: 'LockMixin', name: bytes, ttl: int, timeout: Optional[float]):
        self._client = client
        self.name = name
        self.ttl = ttl
        self.timeout = timeout
        self.key: Optional[bytes] = None
        self.lease: Optional[LeaseHandle] = None

    @property
    def subject(self) -> str:
        return 'lock %s' % display(self.name)

    def acquire(self, timeout: Any = _UNSET) -> bool:
        """Wait until the lock is ours; returns True.

        Grants a lease of ``ttl`` seconds, then sends ``/lock/lock`` with it and waits up to
        ``timeout`` seconds (default: the lock's ``timeout``; None: as long as it takes).
        :raises EtcdDeadlineExceeded: another holder kept it for the whole ``timeout``; the
            lease was revoked, so nothing is held or left waiting.
        :raises ClientException: this object holds the lock already, or a bad ``timeout``.
        :raises Etcd3Exception: etcd refused (the lease is revoked then, too).
        """
        if self.key is not None:
            raise ClientException('%s is already held by this Lock object' % self.subject)
        wait = self.timeout if timeout is _UNSET else (None if timeout is None else check_seconds(timeout, 'timeout'))
        lease = self._client.lease(self.ttl)
        try:
            data = self._client.call_waiting('/lock/lock', {'name': encode(self.name), 'lease': lease.id}, write=True,
                                             timeout=wait, subject=self.subject)
            key = decode_bytes(data.get('key'), 'key')
            if not key:
                raise EtcdInvalidResponse('lock answered without a key', key=self.subject)
        except EtcdWatchTimedOut as exc:
            self._revoke(lease)
            raise EtcdDeadlineExceeded('not acquired within %gs: another holder has it; nothing is held (the lease '
                                       'of this attempt was revoked)' % wait, key=self.subject,
                                       endpoint=exc.endpoint) from None
        except BaseException:
            self._revoke(lease)
            raise
        self.key, self.lease = key, lease
        return True

    def release(self) -> bool:
        """Give the lock up: ``/lock/unlock`` of its key, then revoke its lease.

        Returns False when this object did not hold it (nothing is sent).
        """
        if self.key is None:
            return False
        key, lease = self.key, self.lease
        self.key, self.lease = None, None
        try:
            self._client.call('/lock/unlock', {'key': encode(key)}, write=True, subject=self.subject)
        finally:
            self._revoke(lease)
        return True

    def is_acquired(self) -> bool:
        """Whether this object holds the lock now: its key still exists (it goes when the lease
        expires). Reads the key (one linearizable range)."""
        if self.key is None:
            return False
        return self._client.get(self.key) is not None

    def refresh(self) -> int:
        """Keep the lock ``ttl`` seconds more (a keepalive of its lease); returns the TTL granted.

        :raises ClientException: this object does not hold the lock.
        :raises EtcdLeaseNotFound: the lease expired: the lock is lost.
        """
        if self.lease is None:
            raise ClientException('%s is not held by this Lock object' % self.subject)
        return self.lease.refresh().ttl

    @staticmethod
    def _revoke(lease: Optional[LeaseHandle]) -> None:
        if lease is None:
            return
        try:
            lease.revoke()
        except EtcdLeaseNotFound:
            pass  # expired already: its keys are gone as well
        except EtcdException:
            # Not reachable now: the lease (and a lock key on it) expires after ttl anyway.
            pass

    def __enter__(self) -> 'Lock':
        self.acquire()
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        try:
            self.release()
        except EtcdException:
            if exc_type is None:
                raise
            # An error is on its way out already; the lease ends the lock after ttl seconds.

    def __repr__(self) -> str:
        return 'Lock(%s, ttl=%d, %s)' % (display(self.name), self.ttl, 'held' if self.key else 'not held')


class LockMixin(StreamCalls):
    """``lock``."""

    def lock(self, name: Bytes, ttl: int = 60, timeout: Optional[float] = None) -> Lock:
        """A :class:`Lock` named ``name`` (nothing is sent until :meth:`Lock.acquire` or ``with``).

        ``ttl``: whole seconds >= 1 the lock lasts once held unless refreshed; ``timeout``:
        seconds :meth:`Lock.acquire` waits (None: as long as it takes).
        :raises ClientException: a bad argument.
        """
        name_bytes = check_key(name, 'name')
        ttl = check_ttl(ttl)
        wait = None if timeout is None else check_seconds(timeout, 'timeout')
        return Lock(self, name_bytes, ttl, wait)
