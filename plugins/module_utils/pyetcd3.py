# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The public etcd v3 API in one import: :class:`Etcd3Client` over etcd's JSON gateway.

``from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client``.
It talks HTTP/JSON to the client port (no grpc), on the same transport as the v2 ``Client``:
the same connection arguments, failover, TLS, timeouts and "outcome unknown" honesty.
"""
from __future__ import annotations

# pylint: disable=unused-import
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3 import txn as transactions  # noqa: F401
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.auth_admin import AuthAdminMixin
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.base import Etcd3Base, prefix_for_version  # noqa: F401
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.cluster import ClusterMixin
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.kv import KVMixin
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.lease import LeaseHandle, LeaseMixin
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.lock import Lock, LockMixin
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.result import (  # noqa: F401
    Alarm,
    DeleteResult,
    Event,
    KeyValue,
    Lease,
    Member,
    PutResult,
    RangeResult,
    ResponseHeader,
    Status,
    TxnResult,
    WatchResult,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.snapshot import EtcdSnapshotError, SnapshotInfo  # noqa: F401
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.watch import Watch, WatchMixin


class Etcd3Client(LockMixin, WatchMixin, LeaseMixin, KVMixin, ClusterMixin, AuthAdminMixin, Etcd3Base):
    """etcd v3 client over the JSON gateway; see :class:`Etcd3Base` for the arguments.

    Keys (``KVMixin``), leases, watches and locks, cluster and maintenance calls, and auth
    administration, each family in its own file under ``_v3/``.
    """


__all__ = ['Etcd3Client', 'transactions', 'prefix_for_version', 'Alarm', 'DeleteResult', 'Event', 'EtcdSnapshotError',
           'KeyValue', 'Lease', 'LeaseHandle', 'Lock', 'Member', 'PutResult', 'RangeResult', 'ResponseHeader',
           'SnapshotInfo', 'Status', 'TxnResult', 'Watch', 'WatchResult']
