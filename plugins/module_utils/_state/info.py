# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read-only facts about an etcd cluster and, optionally, one key or directory (etcd_info).

The sections are cluster calls of the v2 client (``/version``, ``/health``, ``/v2/members``,
``/v2/stats/*``), so this works on a client, not on a key store. The v3 sections are in
``info_v3.py``; :func:`sections_for` picks and checks the sections of either API.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Optional, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.info_v3 import SECTIONS_V3
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdKeyNotFound

# The v2 sections (read by default on v2).
SECTIONS = ('version', 'health', 'leader', 'members', 'stats')
# Every section of either API: the choices of etcd_info's gather option.
ALL_SECTIONS = SECTIONS + tuple(name for name in SECTIONS_V3 if name not in SECTIONS)
# What the other API has instead, for the refusal.
_INSTEAD = {'stats': 'on v3, status gives each member\'s raft and database figures',
            'status': 'on v2, stats gives the raft statistics of the answering member',
            'alarms': 'the v2 API has no alarms'}


def sections_for(api: str, requested: Optional[Iterable[str]]) -> Tuple[str, ...]:
    """The sections to read on ``api`` (``'v2'`` or ``'v3'``): all of that API's when
    ``requested`` is None, else ``requested`` in the order given.

    Raises ValueError naming a section of the other API ("gather=stats needs api_version=v2")
    or an unknown one.
    """
    own = SECTIONS_V3 if api == 'v3' else SECTIONS
    if requested is None:
        return own
    chosen = tuple(requested)
    for section in chosen:
        if section in own:
            continue
        if section in ALL_SECTIONS:
            other = 'v2' if api == 'v3' else 'v3'
            raise ValueError('gather=%s needs api_version=%s (%s)' % (section, other, _INSTEAD[section]))
        raise ValueError('unknown section %r (known on %s: %s)' % (section, api, ', '.join(own)))
    return chosen


def _version(client: Any) -> Dict[str, Any]:
    # One GET /version answers both; the client's two helpers would ask twice.
    answer = client.request('GET', '/version')
    return {'server': answer.version_etcdserver, 'cluster': answer.version_etcdcluster}


def _stats(client: Any) -> Dict[str, Any]:
    return {'self': dict(client.stats_self().data), 'store': dict(client.stats_store().data)}


_GATHERERS = {
    'version': _version,
    'health': lambda client: client.health,
    'leader': lambda client: dict(client.leader()),
    'members': lambda client: [dict(member) for member in client.members()],
    'stats': _stats,
}


def read_node(client: Any, key: str, recursive: bool = False, sort: bool = True, quorum: bool = False) -> Dict[str, Any]:
    """Read ``key`` (GET, recursive when asked) and describe it as plain data (key, value or
    nested children, indexes, ttl, expiration) with the etcd index of the answer.

    Returns ``{'exists': False, 'node': None}`` for a key that does not exist, so a play can
    test for it; every other error is raised.
    """
    try:
        result = client.read(key, recursive=recursive, sorted=sort, quorum=quorum)
    except EtcdKeyNotFound:
        return {'exists': False, 'node': None, 'etcd_index': None}
    return {'exists': True, 'node': result.node.to_dict(), 'etcd_index': result.x_etcd_index}


def gather_info(client: Any, sections: Iterable[str] = SECTIONS, key: Optional[str] = None, recursive: bool = False,
                sort: bool = True, quorum: bool = False) -> Dict[str, Any]:
    """Collect the requested ``sections`` (see SECTIONS) and the node of ``key`` when given.

    Each section is one GET (two for stats); nothing is written. Raises the client's
    exceptions; ``ValueError`` for an unknown section name.
    """
    info: Dict[str, Any] = {}
    for section in sections:
        gatherer = _GATHERERS.get(section)
        if gatherer is None:
            raise ValueError('unknown section %r (known: %s)' % (section, ', '.join(SECTIONS)))
        info[section] = gatherer(client)
    if key is not None:
        info.update(read_node(client, key, recursive=recursive, sort=sort, quorum=quorum))
    info['endpoint'] = client.current_endpoint
    return info
