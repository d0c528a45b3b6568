# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cluster membership on the v3 API: the logic behind the etcd_member module.

Reads the member list (from the leader), finds the member the task means (by ID, name or any
peer URL: an added member has no name until it starts), then decides what to send: add, update
the peer URLs, promote a learner, remove, or nothing. Before a change that alters the voting
members it counts the healthy voters (each one asked for its status) and refuses a change that
would leave fewer than a quorum, unless forced. Check mode does all the reading and no change.
Nothing here imports Ansible.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import StateError
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.cluster import peer_url_list, to_member_id
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.result import Member, Status
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    EtcdException,
    EtcdFailedPrecondition,
    EtcdUnavailable,
)

# Asks one member for its status through its own client URLs (the module builds a client with
# the task's TLS and auth options for them); raises the client's errors.
Probe = Callable[[Sequence[str]], Status]

_RETRY_DELAY = 0.5
# etcd refuses every membership change until the leader has been connected to every voting
# member for 5 seconds (just after a start); it proposed nothing, so waiting and sending again is safe.
_UNHEALTHY = 'unhealthy cluster'
_NOT_IN_SYNC = 'in sync'
_VERBS = {'update': ('update the peer URLs of', 'updated the peer URLs of'), 'promote': ('promote', 'promoted')}


class MemberError(StateError):
    """A member change that cannot be planned or was refused before anything was sent."""


@dataclass(frozen=True)
class DesiredMember:
    """What the task asks for. Build it with :meth:`from_options` (which checks every value)."""

    name: Optional[str] = None
    peer_urls: Optional[Tuple[str, ...]] = None
    id: Optional[int] = None
    state: str = 'present'
    learner: bool = False
    promote: bool = False
    force: bool = False
    wait_timeout: float = 0.0

    @classmethod
    def from_options(cls, name: Optional[str] = None, peer_urls: Optional[Sequence[str]] = None, id: Any = None,  # pylint: disable=redefined-builtin
                     state: str = 'present', learner: bool = False, promote: bool = False, force: bool = False,
                     wait_timeout: Any = 0) -> 'DesiredMember':
        """Check the options; nothing is sent. :raises MemberError, ClientException: a bad value."""
        if name is not None and not str(name).strip():
            raise MemberError('name must not be empty')
        urls = None
        if peer_urls is not None:
            # etcd refuses a URL with a path, even "/": the usual trailing slash is dropped.
            urls = tuple(url.rstrip('/') if isinstance(url, str) else url for url in peer_url_list(peer_urls))
        number = None if id in (None, '') else to_member_id(id, 'id')
        if name is None and urls is None and number is None:
            raise MemberError('give name, peer_urls or id to say which member')
        if state not in ('present', 'absent'):
            raise MemberError('state must be present or absent, got %r' % (state,))
        if learner and promote:
            raise MemberError('learner and promote exclude each other: add the member with learner=true, '
                              'start it, then promote it with promote=true')
        if promote and state == 'absent':
            raise MemberError('promote needs state=present')
        if isinstance(wait_timeout, bool) or not isinstance(wait_timeout, (int, float)) or wait_timeout < 0:
            raise MemberError('wait_timeout must be a number of seconds >= 0, got %r' % (wait_timeout,))
        return cls(name=name, peer_urls=urls, id=number, state=state, learner=bool(learner), promote=bool(promote),
                   force=bool(force), wait_timeout=float(wait_timeout))

    def describe(self) -> str:
        """How the task names the member, for messages."""
        if self.id is not None:
            return 'member %x' % self.id
        if self.name:
            return 'member %s' % self.name
        return 'the member with peer URL %s' % ', '.join(self.peer_urls or ())


def member_data(member: Member) -> Dict[str, Any]:
    """A member as the module returns it (the ID as the hex text etcdctl prints)."""
    return {'id': member.id_hex, 'name': member.name, 'peer_urls': list(member.peer_urls),
            'client_urls': list(member.client_urls), 'is_learner': member.is_learner}


def _label(member: Member) -> str:
    return '%s (%s)' % (member.id_hex, member.name) if member.name else '%s (not started)' % member.id_hex


def _sorted(members: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    # etcd lists members in no stable order; sorted, the diff shows only what changed.
    return sorted(members, key=lambda m: (m['name'] == '', m['name'], m['id'] or ''))


# -- finding the member -----------------------------------------------------------------------

def _holders(members: Sequence[Member], urls: Sequence[str]) -> List[Member]:
    wanted = set(urls)
    return [m for m in members if wanted & {u.rstrip('/') for u in m.peer_urls}]


def find_member(members: Sequence[Member], desired: DesiredMember) -> Optional[Member]:
    """The member the task means, or None. By ``id`` when given, else by ``name``, else by
    any of ``peer_urls`` (how an added member that has not started, and has no name, is found).

    :raises MemberError: the options point at different members, or at several.
    """
    found: Optional[Member] = None
    if desired.id is not None:
        found = next((m for m in members if m.id == desired.id), None)
    elif desired.name:
        named = [m for m in members if m.name == desired.name]
        if len(named) > 1:
            raise MemberError('%d members are named %s (%s): give id' % (
                len(named), desired.name, ', '.join(m.id_hex for m in named)), category='ambiguous member')
        found = named[0] if named else None
    if found is None and desired.id is None and desired.peer_urls:
        holders = _holders(members, desired.peer_urls)
        if len(holders) > 1:
            raise MemberError('the peer URLs %s belong to different members: %s' % (
                ', '.join(desired.peer_urls), ', '.join(_label(m) for m in holders)), category='ambiguous member')
        found = holders[0] if holders else None
    if found is not None and desired.name and found.name and found.name != desired.name:
        raise MemberError('%s is named %s, not %s' % (
            'member %x' % desired.id if desired.id is not None else 'the member with peer URL %s' % ', '.join(found.peer_urls),
            found.name, desired.name), category='member mismatch')
    if desired.peer_urls and desired.state == 'present':
        others = [m for m in _holders(members, desired.peer_urls) if found is None or m.id != found.id]
        if others:
            raise MemberError('peer URL %s belongs to member %s already' % (
                ', '.join(sorted(set(desired.peer_urls) & {u.rstrip('/') for m in others for u in m.peer_urls})),
                ', '.join(_label(m) for m in others)), category='member mismatch')
    return found


# -- counting healthy voters ------------------------------------------------------------------

def quorum(voters: int) -> int:
    """The votes a cluster of ``voters`` voting members needs to commit anything."""
    return voters // 2 + 1


def voter_health(client: Any, members: Sequence[Member], probe: Optional[Probe] = None) -> Dict[int, Optional[str]]:
    """Each voting member's ID -> None when it is healthy, else why it is not.

    Healthy means started and answering its status with a known leader. The client's endpoints
    are asked first (:meth:`status_all`); a started voter that none of them is, is asked through
    its own client URLs with ``probe``; without ``probe`` it counts as not healthy.
    """
    answered: Dict[int, Status] = {}
    failed: Dict[str, str] = {}
    for endpoint, status in client.status_all().items():
        if isinstance(status, Status):
            answered[status.member_id] = status
        else:
            failed[endpoint.rstrip('/')] = ' '.join(str(status).split())
    health: Dict[int, Optional[str]] = {}
    for member in members:
        if member.is_learner:
            continue
        if not member.started:
            health[member.id] = 'not started'
            continue
        status = answered.get(member.id)
        if status is None:
            urls = [u.rstrip('/') for u in member.client_urls]
            asked = [u for u in urls if u in failed]
            if asked:
                health[member.id] = failed[asked[0]]
                continue
            if probe is None or not urls:
                health[member.id] = 'not asked: none of its client URLs %s is in host' % ', '.join(urls)
                continue
            try:
                status = probe(urls)
            except (EtcdException, ClientException, ValueError) as exc:
                health[member.id] = ' '.join(str(exc).split())
                continue
        health[member.id] = None if status.leader else 'knows no leader (%s)' % ', '.join(status.errors or ('no leader',))
    return health


def _health_summary(members: Sequence[Member], health: Dict[int, Optional[str]]) -> str:
    sick = ['%s: %s' % (_label(m), health[m.id]) for m in members if health.get(m.id)]
    return '; not healthy: %s' % '; '.join(sick) if sick else ''


def check_add(members: Sequence[Member], health: Dict[int, Optional[str]]) -> Optional[str]:
    """Why adding a voting member would lose quorum, or None."""
    voters = [m for m in members if not m.is_learner]
    healthy = [m for m in voters if health.get(m.id) is None and m.id in health]
    size = len(voters) + 1
    if len(healthy) >= quorum(size):
        return None
    return ('adding a voting member makes %d voting members with %d started and healthy, fewer than the '
            'quorum of %d: the cluster would stop taking writes until enough of them run%s. Add it with learner=true '
            'and promote it once it runs, start or remove the members that do not run, or set force=true'
            % (size, len(healthy), quorum(size), _health_summary(voters, health)))


def check_remove(members: Sequence[Member], health: Dict[int, Optional[str]], target: Member) -> Optional[str]:
    """Why removing ``target`` would lose quorum, or None. Removing a learner, or a voter that
    is not healthy, never lowers the number of healthy voters, so it is always allowed."""
    if target.is_learner or health.get(target.id) is not None or target.id not in health:
        return None
    voters = [m for m in members if not m.is_learner and m.id != target.id]
    healthy = [m for m in voters if health.get(m.id) is None and m.id in health]
    if not voters:
        return 'member %s is the only voting member; removing it ends the cluster. Set force=true to do it anyway' % (
            _label(target))
    if len(healthy) >= quorum(len(voters)):
        return None
    facts = (_label(target), len(voters), len(healthy), quorum(len(voters)), _health_summary(voters, health))
    return ('removing the healthy voting member %s leaves %d voting members with %d healthy, fewer than '
            'the quorum of %d: the cluster would stop taking writes%s. Bring the other members back or remove '
            'those that are gone first, or set force=true' % facts)


# -- changing -----------------------------------------------------------------------------------

def _send(change: Callable[[], Any], deadline: float, members: Sequence[Member], promote: bool = False) -> Any:
    """Send a membership change, again (until ``deadline``) while etcd refuses it before
    proposing anything: ``unhealthy cluster``, and for a promotion a learner not yet in sync."""
    while True:
        try:
            return change()
        except EtcdUnavailable as exc:
            if exc.outcome_unknown or _UNHEALTHY not in exc.message.lower():
                raise
            if time.monotonic() >= deadline:
                raise _unhealthy(exc, members) from None
        except EtcdFailedPrecondition as exc:
            if not promote or _NOT_IN_SYNC not in exc.message or time.monotonic() >= deadline:
                raise
        time.sleep(_RETRY_DELAY)


def _unhealthy(exc: EtcdUnavailable, members: Sequence[Member]) -> MemberError:
    unstarted = [_label(m) for m in members if not m.is_learner and not m.started]
    return MemberError(
        'etcd refused the change without making it: %s. etcd takes membership changes only once the leader has been '
        'connected to every voting member for 5 seconds, so a voting member that is down or not started blocks them%s: '
        'start or remove it, or raise wait_timeout when a member has just started'
        % (exc.message, ' (not started: %s)' % ', '.join(unstarted) if unstarted else ''),
        category='unavailable', endpoint=exc.endpoint)


@dataclass
class MemberOutcome:
    """What ensure_member did (or, in check mode, would do)."""

    changed: bool
    actions: List[str]
    member: Optional[Dict[str, Any]]
    before: List[Dict[str, Any]]
    after: List[Dict[str, Any]]
    msg: str

    def result(self, diff: bool = False) -> Dict[str, Any]:
        result = dict(changed=self.changed, actions=self.actions, member=self.member, members=_sorted(self.after),
                      msg=self.msg)
        if diff:
            result['diff'] = {'before': {'members': _sorted(self.before)}, 'after': {'members': _sorted(self.after)}}
        return result


def ensure_member(client: Any, desired: DesiredMember, check_mode: bool = False,
                  probe: Optional[Probe] = None) -> MemberOutcome:
    """Make the cluster's membership match ``desired``.

    :raises MemberError: the options cannot be met (a conflict, a missing member, the quorum guard).
    :raises EtcdException: what etcd answered (the change was refused, or not known to be made).
    """
    members = client.members(linearizable=True)
    before = [member_data(m) for m in members]
    deadline = time.monotonic() + desired.wait_timeout
    target = find_member(members, desired)
    if desired.state == 'absent':
        return _absent(client, members, before, target, desired, check_mode, deadline, probe)
    if target is None:
        return _add(client, members, before, desired, check_mode, deadline, probe)
    actions: List[str] = []
    current = target
    after = before
    if desired.peer_urls is not None and set(desired.peer_urls) != {u.rstrip('/') for u in target.peer_urls}:
        actions.append('update')
        if check_mode:
            current = _replace(current, peer_urls=desired.peer_urls)
        else:
            listed = _send(lambda: client.update_member(target.id, list(desired.peer_urls), force=desired.force),
                           deadline, members)
            current = _pick(listed, target.id, current)
            after = [member_data(m) for m in listed]
    if desired.promote and current.is_learner:
        actions.append('promote')
        if check_mode:
            current = _replace(current, is_learner=False)
        else:
            try:
                listed = _send(lambda: client.promote_member(target.id), deadline, members, promote=True)
            except EtcdFailedPrecondition as exc:
                if _NOT_IN_SYNC not in exc.message:
                    raise
                raise MemberError('member %s is a learner not yet in sync with the leader (waited %gs of wait_timeout): '
                                  '%s. Start it, or raise wait_timeout to wait until it has caught up'
                                  % (_label(current), desired.wait_timeout, exc.message), category='learner not in sync',
                                  endpoint=exc.endpoint) from None
            current = _pick(listed, target.id, current)
            after = [member_data(m) for m in listed]
    if check_mode and actions:
        after = [member_data(current) if m['id'] == target.id_hex else m for m in before]
    if not actions:
        msg = 'member %s is in the cluster as wanted' % _label(target)
    else:
        verbs = [_VERBS[action][0 if check_mode else 1] for action in actions]
        msg = '%s%s member %s' % ('would ' if check_mode else '', ' and '.join(verbs), _label(target))
    return MemberOutcome(bool(actions), actions or ['none'], member_data(current), before, after, msg)


def _replace(member: Member, **changes: Any) -> Member:
    values = dict(id=member.id, name=member.name, peer_urls=tuple(member.peer_urls), client_urls=tuple(member.client_urls),
                  is_learner=member.is_learner)
    values.update(changes)
    return Member(**values)


def _pick(members: Sequence[Member], wanted: int, fallback: Member) -> Member:
    return next((m for m in members if m.id == wanted), fallback)


def _add(client: Any, members: Sequence[Member], before: List[Dict[str, Any]], desired: DesiredMember, check_mode: bool,
         deadline: float, probe: Optional[Probe]) -> MemberOutcome:
    if desired.id is not None:
        raise MemberError('no member has ID %x; etcd chooses the ID of a member it adds, so say which member to add '
                          'with name and peer_urls' % desired.id, category='member not found')
    if desired.peer_urls is None:
        raise MemberError('no member is named %s; give peer_urls to add it' % desired.name, category='member not found')
    if desired.promote:
        raise MemberError('%s is not in the cluster, so it cannot be promoted: add it with learner=true first, start it, '
                          'then promote it' % desired.describe(), category='member not found')
    if not desired.learner and not desired.force:
        refusal = check_add(members, voter_health(client, members, probe))
        if refusal:
            raise MemberError(refusal, category='would lose quorum')
    kind = 'a learner' if desired.learner else 'a voting member'
    if check_mode:
        new = {'id': None, 'name': '', 'peer_urls': list(desired.peer_urls), 'client_urls': [],
               'is_learner': desired.learner}
        return MemberOutcome(True, ['add'], new, before, before + [new],
                             'would add %s with peer URLs %s' % (kind, ', '.join(desired.peer_urls)))
    added = _send(lambda: client.add_member(list(desired.peer_urls), learner=desired.learner), deadline, members)
    new = member_data(added)
    return MemberOutcome(True, ['add'], new, before, before + [new],
                         'added %s %s with peer URLs %s; start it with --initial-cluster-state existing'
                         % (kind, added.id_hex, ', '.join(added.peer_urls)))


def _absent(client: Any, members: Sequence[Member], before: List[Dict[str, Any]], target: Optional[Member],
            desired: DesiredMember, check_mode: bool, deadline: float, probe: Optional[Probe]) -> MemberOutcome:
    if target is None:
        return MemberOutcome(False, ['none'], None, before, before, '%s is not in the cluster' % desired.describe())
    if not target.is_learner and not desired.force:
        refusal = check_remove(members, voter_health(client, members, probe), target)
        if refusal:
            raise MemberError(refusal, category='would lose quorum')
    gone = member_data(target)
    if check_mode:
        return MemberOutcome(True, ['remove'], gone, before, [m for m in before if m['id'] != target.id_hex],
                             'would remove member %s' % _label(target))
    left = _send(lambda: client.remove_member(target.id), deadline, members)
    return MemberOutcome(True, ['remove'], gone, before, [member_data(m) for m in left],
                         'removed member %s' % _label(target))


__all__ = ['DesiredMember', 'MemberError', 'MemberOutcome', 'check_add', 'check_remove', 'ensure_member', 'find_member',
           'member_data', 'quorum', 'voter_health']
