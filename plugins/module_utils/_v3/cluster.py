# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Members and maintenance of the cluster (a mixin of :class:`~plugins.module_utils.pyetcd3.Etcd3Client`).

Member IDs are taken as an ``int`` or as the hex text etcdctl prints (``'8e9e05c52164694d'``,
``0x`` allowed) and are always returned as ``int`` (:attr:`Member.id_hex` gives the hex).

Calls that concern one member (:meth:`status`, :meth:`defragment`, :meth:`snapshot`) take an
``endpoint``: an index into the client's endpoints or one of its URLs; they then go to that
member only, never elsewhere. Without it they go to the member the client is on (with failover).
"""
from __future__ import annotations

import json
import tempfile
from typing import IO, Any, Dict, List, Optional, Sequence, Union
from urllib.parse import urlsplit

from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.transport import JSON, reports_healthy
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.answers import parse_answer
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.result import (
    ALARM_TYPES,
    Alarm,
    Member,
    MemberList,
    Status,
    alarms_from_json,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.snapshot import (
    EtcdSnapshotError,
    SnapshotInfo,
    SnapshotStream,
    bolt_revision,
    stream_lines,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    Etcd3Exception,
    EtcdException,
    EtcdFailedPrecondition,
    EtcdInvalidResponse,
    EtcdNoLeader,
    EtcdUnavailable,
)

MemberId = Union[int, str]
Endpoint = Union[int, str]

DEFRAGMENT_TIMEOUT = 300.0
SNAPSHOT_TIMEOUT = 60.0
_UINT64_MAX = 2 ** 64 - 1
# etcd's refusals of a membership change that come before anything is proposed (code 14).
_REFUSED_BEFORE_PROPOSING = ('unhealthy cluster', 'not enough started members')
# Snapshots to a file object that cannot be read back are copied here as well (to find the
# revision); up to this size in memory, beyond it in a temporary file.
_SPOOL_IN_MEMORY = 16 * 1024 * 1024


def to_member_id(value: Any, name: str = 'member_id') -> int:
    """A member ID as an int: an ``int``, or hex text (``'8e9e05c52164694d'``, ``'0x8e9e...'``).

    :raises ClientException: naming ``name``, for anything else or a value outside 1..2**64-1.
    """
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = value.strip().lower()
        if text.startswith('0x'):
            text = text[2:]
        try:
            number = int(text, 16) if text else None
        except ValueError:
            number = None
    if number is None or not 1 <= number <= _UINT64_MAX:
        raise ClientException('%s must be a member ID (an int, or hex text as etcdctl prints it), got %r' % (name, value))
    return number


def peer_url_list(value: Any, name: str = 'peer_urls') -> List[str]:
    """Peer URLs from one URL or a list: each ``http(s)://host:port``.

    :raises ClientException: naming ``name``, for an empty list or a URL that is not one.
    """
    urls = [value] if isinstance(value, str) else value
    if not isinstance(urls, (list, tuple)) or not urls:
        raise ClientException('%s must be a URL or a list of URLs such as ["http://10.0.0.4:2380"], got %r'
                              % (name, value))
    for url in urls:
        parts = urlsplit(url) if isinstance(url, str) else None
        try:
            port = parts.port if parts is not None else None
        except ValueError:
            port = None
        if parts is None or parts.scheme not in ('http', 'https') or not parts.hostname or port is None \
                or parts.path not in ('', '/') or parts.query or parts.fragment:
            raise ClientException('%s: %r is not a peer URL such as "http://10.0.0.4:2380"' % (name, url))
    return list(urls)


def _name(value: int) -> str:
    return format(value, 'x')


class ClusterMixin:
    """``members``, ``add_member``, ``remove_member``, ``update_member``, ``promote_member``,
    ``status``, ``status_all``, ``health``, ``alarms``, ``disarm``, ``defragment``,
    ``move_leader``, ``snapshot``."""

    # -- sending to one member ----------------------------------------------------------------

    def _endpoint_index(self, endpoint: Endpoint) -> int:
        """The transport index of ``endpoint`` (an index or one of the client's URLs)."""
        endpoints = self.endpoints
        if isinstance(endpoint, int) and not isinstance(endpoint, bool):
            if 0 <= endpoint < len(endpoints):
                return endpoint
        elif isinstance(endpoint, str):
            wanted = endpoint.rstrip('/')
            if wanted in endpoints:
                return endpoints.index(wanted)
        raise ClientException('endpoint must be one of the client\'s endpoints %s (or its index), got %r'
                              % (', '.join(endpoints), endpoint))

    def _call_member(self, method: str, body: Dict[str, Any], index: Optional[int], *, write: bool,
                     subject: Optional[str] = None, read_timeout: Optional[float] = None) -> Dict[str, Any]:
        """:meth:`call`, but to the member at transport ``index`` only (any member when None).

        Authenticates as :meth:`call` does, and once more when etcd says the token is missing
        or stale (etcd refused before doing anything, so that is safe for a write too).
        """
        if index is None:
            return self.call(method, body, write=write, subject=subject, read_timeout=read_timeout)
        return self.authenticated(lambda: self._post_member(method, body, index, write, subject, read_timeout))

    def _post_member(self, method: str, body: Dict[str, Any], index: int, write: bool, subject: Optional[str],
                     read_timeout: Optional[float]) -> Dict[str, Any]:
        answer = self.transport.send('POST', self.api_prefix + method, body=json.dumps(body).encode('ascii'),
                                     content_type=JSON, retry_safe=not write, subject=subject,
                                     read_timeout=read_timeout, only=index)
        return parse_answer(answer.status, answer.text, answer.endpoint, subject, write=write)

    # -- members ------------------------------------------------------------------------------

    def _membership_change(self, method: str, body: Dict[str, Any], subject: str) -> MemberList:
        """A member add/remove/update/promote: sent once, never again without an answer.

        etcd checks a change against the cluster's health before proposing it: ``unhealthy
        cluster`` (a voting member was not connected for the last 5 s, e.g. just after a
        start) and ``re-configuration failed due to not enough started members`` come back as
        code 14 but change nothing, so those exceptions say the outcome is known.
        """
        try:
            return MemberList.from_json(self.call(method, body, write=True, subject=subject))
        except EtcdUnavailable as exc:
            if any(fragment in exc.message.lower() for fragment in _REFUSED_BEFORE_PROPOSING):
                exc.outcome_unknown = False
            raise

    def members(self, linearizable: bool = False) -> List[Member]:
        """The cluster's members (``POST /cluster/member/list``), learners and unstarted ones
        included (an unstarted member has no name and no client URLs).

        ``linearizable`` asks the leader for the list (quorum-checked; etcd 3.5 and later, 3.4
        ignores it and answers from the member's own copy).
        :raises Etcd3Exception: what etcd answered.
        """
        if not isinstance(linearizable, bool):
            raise ClientException('linearizable must be true or false, got %r' % (linearizable,))
        body = {'linearizable': True} if linearizable else {}
        return list(MemberList.from_json(self.call('/cluster/member/list', body, write=False, subject='members')).members)

    def add_member(self, peer_urls: Union[str, Sequence[str]], learner: bool = False) -> Member:
        """Add a member with these peer URLs (``POST /cluster/member/add``); returns it.

        ``learner`` adds a non-voting learner (promote it with :meth:`promote_member` once it
        caught up). Start the new etcd with ``--initial-cluster-state existing`` and an
        ``--initial-cluster`` that lists it. Never sent again after it was sent without an
        answer (:class:`EtcdOutcomeUnknown`: list the members to see whether it was added).
        Adding a voter to a cluster costs quorum until the new member runs.
        :raises EtcdMemberExists: a member has these peer URLs.
        :raises EtcdUnavailable: ``unhealthy cluster`` (with ``outcome_unknown`` False: nothing
            was added): etcd takes membership changes only once every voting member has been
            connected for 5 seconds.
        :raises ClientException: bad ``peer_urls``/``learner`` (nothing is sent).
        """
        urls = peer_url_list(peer_urls)
        if not isinstance(learner, bool):
            raise ClientException('learner must be true or false, got %r' % (learner,))
        body: Dict[str, Any] = {'peerURLs': urls}
        if learner:
            body['isLearner'] = True
        answer = self._membership_change('/cluster/member/add', body, ', '.join(urls))
        if answer.member is None:
            raise EtcdInvalidResponse('member add answered without the new member', endpoint=self.current_endpoint)
        return answer.member

    def remove_member(self, id: MemberId) -> List[Member]:  # pylint: disable=redefined-builtin
        """Remove a member (``POST /cluster/member/remove``); returns the members left.

        :raises EtcdMemberNotFound: no member has this ID (also when a lost answer is repeated
            after the removal went through: the removal is never sent twice).
        """
        number = to_member_id(id, 'id')
        return list(self._membership_change('/cluster/member/remove', {'ID': str(number)},
                                            'member %s' % _name(number)).members)

    def update_member(self, id: MemberId, peer_urls: Union[str, Sequence[str]],  # pylint: disable=redefined-builtin
                      force: bool = False) -> List[Member]:
        """Give a member new peer URLs (``POST /cluster/member/update``); returns the members.

        A learner is refused unless ``force``: etcd 3.4 and 3.5 (up to the fix of
        etcd-io/etcd#21694, May 2026) forget that a member is a learner when its peer URLs are
        updated; raft still treats it as one, so it can never be promoted and the member list
        overstates the cluster's quorum. Checking costs one member list first. Remove the
        learner and add it again with the new URL instead.
        :raises EtcdMemberNotFound: no member has this ID.
        :raises EtcdMemberExists: another member has one of these URLs.
        :raises EtcdFailedPrecondition: the member is a learner (nothing was sent to change it).
        """
        number = to_member_id(id, 'id')
        urls = peer_url_list(peer_urls)
        if not isinstance(force, bool):
            raise ClientException('force must be true or false, got %r' % (force,))
        if not force:
            for member in self.members():
                if member.id == number and member.is_learner:
                    raise EtcdFailedPrecondition(
                        'member %s is a learner: updating its peer URLs would make etcd forget that it is one '
                        '(etcd-io/etcd#21694), so it could never be promoted; remove it and add it again with the '
                        'new peer URL, or pass force=True on an etcd with the fix' % _name(number),
                        endpoint=self.current_endpoint, key='member %s' % _name(number))
        return list(self._membership_change('/cluster/member/update', {'ID': str(number), 'peerURLs': urls},
                                            'member %s' % _name(number)).members)

    def promote_member(self, id: MemberId) -> List[Member]:  # pylint: disable=redefined-builtin
        """Make a learner a voting member (``POST /cluster/member/promote``); returns the members.

        :raises EtcdFailedPrecondition: etcd's reason: ``can only promote a learner member which
            is in sync with leader`` (it has not caught up, or has not started), or ``can only
            promote a learner member`` (it votes already).
        :raises EtcdMemberNotFound: no member has this ID.
        """
        number = to_member_id(id, 'id')
        return list(self._membership_change('/cluster/member/promote', {'ID': str(number)},
                                            'member %s' % _name(number)).members)

    # -- status -------------------------------------------------------------------------------

    def status(self, endpoint: Optional[Endpoint] = None) -> Status:
        """``POST /maintenance/status`` of one member: the member the client is on, or
        ``endpoint`` (an index or URL of the client's endpoints) and that one only.

        Answers also without quorum (then ``leader`` is 0 and ``errors`` says so).
        :raises EtcdConnectionFailed: the member did not answer.
        """
        index = None if endpoint is None else self._endpoint_index(endpoint)
        return Status.from_json(self._call_member('/maintenance/status', {}, index, write=False, subject='status'))

    def status_all(self) -> Dict[str, Union[Status, EtcdException]]:
        """:meth:`status` of every endpoint of the client, each asked on its own: endpoint URL ->
        :class:`Status`, or the exception that member gave (one down member does not hide the
        others). Members that are not among the client's endpoints are not asked."""
        answers: Dict[str, Union[Status, EtcdException]] = {}
        for index, endpoint in enumerate(self.endpoints):
            try:
                answers[endpoint] = self.status(index)
            except EtcdException as exc:
                answers[endpoint] = exc
        return answers

    @property
    def health(self) -> bool:
        """True when the answering member reports itself healthy (``GET /health``).

        A property, like the v2 client's: ``if client.health:``. False for a member without a
        leader or quorum and (3.5) while an alarm is active.
        :raises EtcdConnectionFailed: no member answered.
        """
        return reports_healthy(self.transport.send('GET', '/health', retry_safe=True, subject='/health'))

    # -- alarms -------------------------------------------------------------------------------

    def alarms(self) -> List[Alarm]:
        """The active alarms of the cluster (``POST /maintenance/alarm`` with action GET); [] when none."""
        return alarms_from_json(self.call('/maintenance/alarm', {'action': 'GET'}, write=False, subject='alarms'))

    def disarm(self, alarm: Optional[str] = None, member_id: Optional[MemberId] = None) -> List[Alarm]:
        """Deactivate the active alarms, or those of type ``alarm`` (``'NOSPACE'``, ``'CORRUPT'``)
        and/or of member ``member_id``; returns the alarms deactivated ([] when none matched).

        Lists the alarms, then sends one ``POST /maintenance/alarm`` with action DEACTIVATE per
        alarm. These may be repeated (deactivating twice changes nothing), so they also go to a
        member that reports itself unhealthy, as a member under an alarm does. Free space first
        (compact, defragment) or NOSPACE comes back at the next write.
        :raises ClientException: an unknown ``alarm`` or bad ``member_id`` (nothing is sent).
        """
        wanted_type = None
        if alarm is not None:
            if not isinstance(alarm, str) or alarm.upper() not in ALARM_TYPES[1:]:
                raise ClientException('alarm must be one of %s, got %r' % (', '.join(ALARM_TYPES[1:]), alarm))
            wanted_type = alarm.upper()
        wanted_member = None if member_id is None else to_member_id(member_id, 'member_id')
        done = []
        for active in self.alarms():
            if wanted_type not in (None, active.alarm) or wanted_member not in (None, active.member_id):
                continue
            self.call('/maintenance/alarm', {'action': 'DEACTIVATE', 'memberID': str(active.member_id),
                                             'alarm': active.alarm}, write=False, subject='alarm %s' % active.alarm)
            done.append(active)
        return done

    # -- maintenance of one member ------------------------------------------------------------

    def defragment(self, endpoint: Optional[Endpoint] = None, read_timeout: float = DEFRAGMENT_TIMEOUT) -> None:
        """Defragment one member's database (``POST /maintenance/defragment``): the member the
        client is on, or ``endpoint`` only. Call it per member; the member blocks reads and
        writes while it runs, which can take long on a large database: ``read_timeout``
        (seconds, default 300) replaces the client's read timeout for this call. Repeating it
        is harmless, so it is retried like a read.
        :raises EtcdConnectionFailed: no answer within ``read_timeout``.
        """
        if isinstance(read_timeout, bool) or not isinstance(read_timeout, (int, float)) or read_timeout <= 0:
            raise ClientException('read_timeout must be a positive number of seconds, got %r' % (read_timeout,))
        index = None if endpoint is None else self._endpoint_index(endpoint)
        self._call_member('/maintenance/defragment', {}, index, write=False, subject='defragment',
                          read_timeout=float(read_timeout))

    def move_leader(self, target_id: MemberId) -> int:
        """Hand leadership to member ``target_id`` (``POST /maintenance/transfer-leadership``);
        returns the old leader's ID (the target's when it led already: nothing is sent then).

        etcd accepts this only from the leader: the leader is found by asking every endpoint
        of the client for its status, and the request goes to it alone; it is not sent again
        after it was sent without an answer.
        :raises EtcdNoLeader: no endpoint knows a leader.
        :raises Etcd3Exception: the leader is not among the client's endpoints.
        :raises EtcdFailedPrecondition: ``bad leader transferee`` (unknown member, a learner).
        """
        target = to_member_id(target_id, 'target_id')
        leader, index = self._find_leader()
        if leader == target:
            return leader
        self._call_member('/maintenance/transfer-leadership', {'targetID': str(target)}, index, write=True,
                          subject='member %s' % _name(target))
        return leader

    def _find_leader(self):
        """(leader ID, transport index of the leader)."""
        statuses = self.status_all()
        known = {status.leader for status in statuses.values() if isinstance(status, Status) and status.leader}
        for endpoint, status in statuses.items():
            if isinstance(status, Status) and status.is_leader:
                return status.member_id, self.endpoints.index(endpoint)
        if not known:
            raise EtcdNoLeader('no endpoint knows a leader (%s)' % '; '.join(
                '%s: %s' % (endpoint, status.errors or 'no leader' if isinstance(status, Status) else status)
                for endpoint, status in statuses.items()))
        raise Etcd3Exception('the leader %s is not among the client\'s endpoints %s: only the leader can move '
                             'leadership; add its client URL' % (', '.join(_name(lead) for lead in known),
                                                                 ', '.join(self.endpoints)))

    # -- snapshot -----------------------------------------------------------------------------

    def snapshot(self, fileobj: IO[bytes], endpoint: Optional[Endpoint] = None,
                 read_timeout: float = SNAPSHOT_TIMEOUT) -> SnapshotInfo:
        """Stream a snapshot of one member's database into ``fileobj`` (binary, open for writing).

        Sends ``POST /maintenance/snapshot`` (to ``endpoint`` only when given) and writes what
        ``etcdctl snapshot save`` writes: the database followed by etcd's 32-byte SHA-256 of it,
        which is checked (``etcdutl snapshot restore`` checks it again). Returns the sizes, the
        hash and the store revision of the snapshot; finding the revision reads the database
        back from ``fileobj`` when it is readable and seekable (a file opened ``'w+b'``), else
        from a temporary copy. ``read_timeout``: seconds without data before giving up.
        :raises EtcdSnapshotError: the stream ended early, its chunks do not add up, or the hash
            does not match: the file does not hold a usable snapshot.
        :raises Etcd3Exception: etcd refused (with auth on it needs the root role).
        """
        if not callable(getattr(fileobj, 'write', None)):
            raise ClientException('fileobj must be a binary file object open for writing, got %r' % (fileobj,))
        if isinstance(read_timeout, bool) or not isinstance(read_timeout, (int, float)) or read_timeout <= 0:
            raise ClientException('read_timeout must be a positive number of seconds, got %r' % (read_timeout,))
        index = None if endpoint is None else self._endpoint_index(endpoint)
        # etcd refuses a bad token on the first line, before anything is written to fileobj.
        return self.authenticated(lambda: self._snapshot_once(fileobj, index, float(read_timeout)))

    def _snapshot_once(self, fileobj: IO[bytes], index: Optional[int], read_timeout: float) -> SnapshotInfo:
        answer = self.transport.send('POST', self.api_prefix + '/maintenance/snapshot', body=b'{}', content_type=JSON,
                                     retry_safe=True, subject='snapshot', read_timeout=read_timeout, only=index,
                                     stream=True)
        response = answer.text
        drained = False  # read to its end: the connection can go back to the pool
        try:
            if not 200 <= answer.status < 300:
                body = response.read()
                drained = True
                parse_answer(answer.status, body, answer.endpoint, 'snapshot')
                raise EtcdInvalidResponse('snapshot answered HTTP %d' % answer.status, status=answer.status,
                                          endpoint=answer.endpoint)
            readable = _readable(fileobj)
            start = fileobj.tell() if readable else 0
            copy = None if readable else tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # pylint: disable=consider-using-with
            try:
                target = fileobj if copy is None else _Tee(fileobj, copy)
                stream = SnapshotStream(target, answer.endpoint)
                for line in stream_lines(response, answer.endpoint):
                    stream.feed(line)
                drained = True
                sha256 = stream.finish()
                source = fileobj if copy is None else copy
                revision = bolt_revision(source, start, stream.db_size)
                if copy is None:
                    fileobj.seek(start + stream.db_size + len(stream.trailer or b''))
            finally:
                if copy is not None:
                    copy.close()
        finally:
            if drained:
                response.release_conn()  # back to the pool for the next request
            else:
                response.close()
        return SnapshotInfo(stream.db_size + len(stream.trailer or b''), stream.db_size, sha256, revision, answer.endpoint)


def _readable(fileobj: Any) -> bool:
    try:
        return bool(fileobj.readable() and fileobj.seekable())
    except (AttributeError, ValueError, OSError):
        return False


class _Tee:
    """Writes to the caller's file object and to the copy the revision is read from."""

    def __init__(self, first: IO[bytes], second: IO[bytes]):
        self.first, self.second = first, second

    def write(self, data: bytes) -> int:
        self.first.write(data)
        return self.second.write(data)


__all__ = ['ClusterMixin', 'EtcdSnapshotError', 'SnapshotInfo', 'to_member_id', 'peer_url_list', 'DEFRAGMENT_TIMEOUT',
           'SNAPSHOT_TIMEOUT']
