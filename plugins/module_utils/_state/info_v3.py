# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read-only facts about an etcd cluster through the v3 API, and one key or a prefix (etcd_info
with ``api_version=v3``).

The sections keep the names and, where the concept is the same, the shapes of the v2 ones
(``info.py``), so one playbook reads both: ``version`` and ``health`` are the same calls,
``members`` and ``leader`` are member dicts with ``id`` (hex, as etcdctl prints it), ``name``,
``peerURLs``, ``clientURLs`` and, on v3, ``is_learner``. ``leader`` is not a call of its own on
v3: the answering member's status names the leader's ID, looked up in the member list.
``status`` (each member's raft and database figures) and ``alarms`` exist on v3 only.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import StateError
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store_v3 import V3Node
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    EtcdCompacted,
    EtcdException,
    EtcdFutureRevision,
    EtcdInvalidResponse,
)

SECTIONS_V3 = ('version', 'health', 'leader', 'members', 'status', 'alarms')


def _hex(member_id: int) -> str:
    return format(member_id, 'x')


def member_data(member: Any) -> Dict[str, Any]:
    """A member as etcd_info returns it on both APIs (v3 adds ``is_learner``)."""
    return {'id': member.id_hex, 'name': member.name, 'peerURLs': list(member.peer_urls),
            'clientURLs': list(member.client_urls), 'is_learner': member.is_learner}


class _Gatherer:
    """One run of gather: the member list and the alarms are asked once and shared by the
    sections that need them."""

    def __init__(self, client: Any):
        self.client = client
        self._members: Optional[List[Any]] = None
        self._alarms: Optional[List[Any]] = None

    def members_list(self) -> List[Any]:
        if self._members is None:
            self._members = self.client.members()
        return self._members

    def alarm_list(self) -> List[Any]:
        if self._alarms is None:
            self._alarms = self.client.alarms()
        return self._alarms

    def name_of(self, member_id: int) -> str:
        for member in self.members_list():
            if member.id == member_id:
                return member.name
        return ''

    # -- the sections -------------------------------------------------------------------------

    def version(self) -> Dict[str, Any]:
        data = self.client.versions()
        if 'etcdserver' not in data or 'etcdcluster' not in data:
            raise EtcdInvalidResponse('GET /version answered without etcdserver and etcdcluster: %.80r' % (data,),
                                      endpoint=self.client.current_endpoint)
        return {'server': data['etcdserver'], 'cluster': data['etcdcluster']}

    def health(self) -> bool:
        return self.client.health

    def members(self) -> List[Dict[str, Any]]:
        return [member_data(member) for member in self.members_list()]

    def leader(self) -> Optional[Dict[str, Any]]:
        """The leader as the answering member knows it; None when it knows none (no quorum)."""
        leader_id = self.client.status().leader
        if not leader_id:
            return None
        for member in self.members_list():
            if member.id == leader_id:
                return member_data(member)
        # Elected but not in this member's list (yet): still say which ID leads.
        return {'id': _hex(leader_id), 'name': '', 'peerURLs': [], 'clientURLs': [], 'is_learner': False}

    def alarms(self) -> List[Dict[str, Any]]:
        return [{'member_id': _hex(alarm.member_id), 'alarm': alarm.alarm} for alarm in self.alarm_list()]

    def status(self) -> List[Dict[str, Any]]:
        """Each endpoint's own status, in the order of the client's endpoints; a member that did
        not answer is listed with ``reachable: false`` and the reason, not an error of the task."""
        answers = self.client.status_all()
        reached = [answer for answer in answers.values() if not isinstance(answer, EtcdException)]
        if not reached:
            # Nobody answered: the cause of the first member, as for every other section.
            raise next(iter(answers.values()))
        rows = []
        for endpoint, answer in answers.items():
            if isinstance(answer, EtcdException):
                rows.append({'endpoint': endpoint, 'reachable': False, 'error': ' '.join(str(answer).split())})
                continue
            member_id = answer.member_id
            rows.append({
                'endpoint': endpoint,
                'reachable': True,
                'id': _hex(member_id),
                'name': self.name_of(member_id),
                'version': answer.version,
                'is_leader': answer.is_leader,
                'is_learner': answer.is_learner,
                'leader': _hex(answer.leader) if answer.leader else None,
                'raft_index': answer.raft_index,
                'raft_term': answer.raft_term,
                'raft_applied_index': answer.raft_applied_index,
                'db_size': answer.db_size,
                'db_size_in_use': answer.db_size_in_use,
                'errors': list(answer.errors),
                'alarms': sorted(alarm.alarm for alarm in self.alarm_list() if alarm.member_id == member_id),
            })
        return rows


def read_v3(client: Any, key: str, prefix: bool = False, revision: Optional[int] = None,
            serializable: bool = False) -> Dict[str, Any]:
    """Read ``key`` (or every key starting with it, with ``prefix``), at ``revision`` when given,
    from the member's own copy with ``serializable``.

    Returns ``exists``, ``revision`` (the store revision when etcd answered) and ``node`` (None
    for a missing key), or with ``prefix`` ``nodes`` (in key order) and ``count``. A key with a
    lease gets the seconds its lease has left now in ``ttl`` (0 when the lease is gone). A
    missing key is not an error. A ``revision`` etcd no longer keeps (compacted) or does not
    have yet raises :class:`StateError` saying so; every other failure is the client's error.
    """
    try:
        answer = client.range(key, prefix=prefix, revision=revision, serializable=serializable)
    except EtcdCompacted as exc:
        raise StateError('revision %s of %s is no longer readable: etcd compacted the history before it; read a later '
                         'revision, or omit revision for the latest (%s)' % (revision, key, exc.message),
                         category='revision compacted', endpoint=exc.endpoint) from None
    except EtcdFutureRevision as exc:
        raise StateError('revision %s of %s is not written yet: the store is at an earlier revision (%s)'
                         % (revision, key, exc.message), category='future revision', endpoint=exc.endpoint) from None
    leases: Dict[int, Any] = {}
    nodes = []
    for kv in answer.kvs:
        if kv.lease and kv.lease not in leases:
            leases[kv.lease] = client.lease_time_to_live(kv.lease)
        info = leases.get(kv.lease) if kv.lease else None
        nodes.append(V3Node.from_kv(kv, info).to_dict())
    result: Dict[str, Any] = {'exists': bool(nodes), 'revision': answer.header.revision}
    if prefix:
        result.update(nodes=nodes, count=len(nodes))
    else:
        result['node'] = nodes[0] if nodes else None
    return result


def gather_info_v3(client: Any, sections: Iterable[str] = SECTIONS_V3, key: Optional[str] = None, prefix: bool = False,
                   revision: Optional[int] = None, serializable: bool = False) -> Dict[str, Any]:
    """Collect the requested ``sections`` (see SECTIONS_V3) and, when ``key`` is given, what
    :func:`read_v3` reads. Nothing is written. Raises the client's exceptions; ``ValueError``
    for a section this API does not have."""
    gatherer = _Gatherer(client)
    info: Dict[str, Any] = {}
    for section in sections:
        if section not in SECTIONS_V3:
            raise ValueError('unknown section %r on the v3 API (known: %s)' % (section, ', '.join(SECTIONS_V3)))
        info[section] = getattr(gatherer, section)()
    if key is not None:
        info.update(read_v3(client, key, prefix=prefix, revision=revision, serializable=serializable))
    info['endpoint'] = client.current_endpoint
    return info
