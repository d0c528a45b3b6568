# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Leases (a mixin of :class:`~plugins.module_utils.pyetcd3.Etcd3Client`).

A lease is a TTL that keys can be attached to (``put(key, value, lease=...)``): when it expires
or is revoked, etcd deletes those keys. Two classes, on purpose with different names:

* :class:`~plugins.module_utils._v3.result.Lease` is etcd's *answer* (grant, time-to-live, one
  keepalive): frozen data with ``id``, ``ttl``, ``granted_ttl``, ``keys``;
* :class:`LeaseHandle` (returned by :meth:`LeaseMixin.lease` and :meth:`LeaseMixin.get_lease`)
  is a lease you act on: ``refresh()``, ``revoke()``, ``remaining()``, ``keys()``. It can be
  passed wherever a lease id is taken (``put(..., lease=handle)``).

Lease IDs are ints (etcdctl prints them in hex: ``format(lease.id, 'x')``).
Facts (etcd 3.4 and 3.5): a time-to-live of an unknown or expired lease answers TTL -1; a
keepalive of one answers a result without TTL (no error); revoke of one is code 5
``requested lease not found``; the server raises a TTL below its minimum (about 1.5 election
timeouts) to that minimum, and refuses more than 9,000,000,000 seconds.
"""
from __future__ import annotations

from typing import Any, List, Optional, Union

from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import check_bool, check_whole, decode_text
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.result import Lease
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.stream import StreamCalls
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    EtcdInvalidResponse,
    EtcdLeaseNotFound,
)

# etcd's MaxLeaseTTL (server/lease/lessor.go): a larger TTL is refused with "too large lease TTL".
MAX_LEASE_TTL = 9000000000
INT64_MAX = 2 ** 63 - 1


def check_ttl(ttl: Any, name: str = 'ttl') -> int:
    """A lease TTL: whole seconds from 1 to etcd's maximum; ClientException naming ``name``."""
    return check_whole(ttl, name, 1, MAX_LEASE_TTL)


def lease_id_of(lease: Any) -> Any:
    """The id of a :class:`LeaseHandle`, or ``lease`` itself (an id, or None) unchecked."""
    return getattr(lease, 'id', lease)


def check_lease_id(lease_id: Any, name: str = 'lease_id') -> int:
    """A lease ID given by the caller: an int (or a :class:`LeaseHandle`) from 1 to 2**63-1."""
    return check_whole(lease_id_of(lease_id), name, 1, INT64_MAX)


def lease_subject(lease_id: int) -> str:
    """How errors name a lease: the id as the client takes it, and in hex as etcdctl prints it."""
    return 'lease %d (%x)' % (lease_id, lease_id)


class LeaseHandle:
    """A lease of one client: ``id``, and ``ttl`` as granted (None when not known: a handle from
    :meth:`LeaseMixin.leases`). Every method sends one request."""

    def __init__(self, client: 'LeaseMixin', lease_id: int, ttl: Optional[int] = None):
        self._client = client
        self.id = lease_id
        self.ttl = ttl

    def refresh(self) -> Lease:
        """Keep the lease alive for its TTL again (one keepalive); the answer's ``ttl`` is the new TTL.

        :raises EtcdLeaseNotFound: the lease expired or was revoked.
        """
        return self._client.refresh_lease(self.id)

    def revoke(self) -> None:
        """Revoke the lease: etcd deletes every key attached to it.

        :raises EtcdLeaseNotFound: it was already gone.
        """
        self._client.revoke_lease(self.id)

    def info(self, keys: bool = False) -> Lease:
        """etcd's time-to-live answer (``ttl`` left, ``granted_ttl``, ``keys`` when asked for).

        :raises EtcdLeaseNotFound: the lease does not exist (any more).
        """
        answer = self._client.lease_time_to_live(self.id, keys=keys)
        if answer is None:
            raise EtcdLeaseNotFound('lease not found (expired or revoked)', key=lease_subject(self.id))
        return answer

    def remaining(self) -> int:
        """Seconds the lease has left. :raises EtcdLeaseNotFound: it is gone."""
        return self.info().ttl

    def keys(self) -> List[Union[str, bytes]]:
        """The keys attached to the lease (``str`` when UTF-8, else bytes).

        :raises EtcdLeaseNotFound: it is gone.
        """
        return [decode_text(key) for key in self.info(keys=True).keys]

    def __int__(self) -> int:
        return self.id

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, LeaseHandle) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return 'LeaseHandle(id=%d, hex=%x, ttl=%r)' % (self.id, self.id, self.ttl)


class LeaseMixin(StreamCalls):
    """``lease``, ``get_lease``, ``leases``, ``revoke_lease``, ``refresh_lease``,
    ``lease_time_to_live``."""

    def lease(self, ttl: int, lease_id: Optional[int] = None) -> LeaseHandle:
        """Grant a lease of ``ttl`` seconds (``/lease/grant``); with ``lease_id``, that ID.

        ``ttl`` is whole seconds >= 1; etcd may grant more (its minimum TTL): the handle's ``ttl``
        is what it granted. Sent as a write: never sent twice.
        :raises ClientException: a bad ``ttl`` or ``lease_id`` (nothing is sent).
        :raises EtcdLeaseExists: ``lease_id`` is taken.
        """
        body = {'TTL': check_ttl(ttl)}
        if lease_id is not None:
            body['ID'] = check_lease_id(lease_id)
        subject = lease_subject(body['ID']) if 'ID' in body else 'new lease'
        data = self.call('/lease/grant', body, write=True, subject=subject)
        if data.get('error'):  # LeaseGrantResponse has an error text field of its own
            raise EtcdInvalidResponse('lease grant failed: %s' % data['error'], key=subject)
        answer = Lease.from_json(data)
        if not answer.id:
            raise EtcdInvalidResponse('lease grant answered without an ID', key=subject)
        return LeaseHandle(self, answer.id, answer.ttl)

    def lease_time_to_live(self, lease_id: int, keys: bool = False) -> Optional[Lease]:
        """etcd's ``/lease/timetolive`` answer for the lease, or None when it does not exist.

        With ``keys``, the answer lists the attached keys.
        """
        lease_id = check_lease_id(lease_id)
        body = {'ID': lease_id, 'keys': check_bool(keys, 'keys')}
        answer = Lease.from_json(self.call('/lease/timetolive', body, write=False, subject=lease_subject(lease_id)))
        return None if answer.ttl < 0 else answer

    def get_lease(self, lease_id: int) -> Optional[LeaseHandle]:
        """A handle for an existing lease (``ttl`` = its granted TTL), or None when there is none
        with this ID (never granted, expired or revoked)."""
        answer = self.lease_time_to_live(lease_id)
        return None if answer is None else LeaseHandle(self, answer.id, answer.granted_ttl)

    def leases(self) -> List[LeaseHandle]:
        """Every lease of the cluster (``/lease/leases``), as handles without ``ttl``."""
        data = self.call('/lease/leases', {}, write=False, subject='leases')
        items = data.get('leases') or []
        if not isinstance(items, list):
            raise EtcdInvalidResponse('leases in the answer is not a list: %.200r' % (items,))
        return [LeaseHandle(self, Lease.from_json(item).id) for item in items]

    def revoke_lease(self, lease_id: int) -> None:
        """Revoke a lease (``/lease/revoke``): etcd deletes the keys attached to it.

        :raises EtcdLeaseNotFound: no such lease (expired, or already revoked).
        """
        lease_id = check_lease_id(lease_id)
        self.call('/lease/revoke', {'ID': lease_id}, write=True, subject=lease_subject(lease_id))

    def refresh_lease(self, lease_id: int) -> Lease:
        """One keepalive of the lease: it lives its full TTL again. Returns etcd's answer.

        The gateway's ``/lease/keepalive`` is a stream: one request is sent, the first result
        is read and the connection closed. Refreshing twice does no harm, so it is sent as a
        read (to another member when one does not answer).
        :raises EtcdLeaseNotFound: the lease expired or was revoked (etcd answers TTL 0).
        """
        lease_id = check_lease_id(lease_id)
        subject = lease_subject(lease_id)
        stream = self.call_stream('/lease/keepalive', {'ID': lease_id}, subject=subject)
        try:
            result = stream.read_result(None)
        finally:
            stream.close()
        if result is None:
            raise EtcdInvalidResponse('keepalive stream ended without a result', endpoint=stream.endpoint, key=subject)
        answer = Lease.from_json(result)
        if answer.ttl <= 0:
            raise EtcdLeaseNotFound('lease not found (expired or revoked)', grpc_code=5, endpoint=stream.endpoint,
                                    key=subject)
        return answer
