"""Failures of the v3 lookup: loud, naming the key and the member; options of the other API and
bad combinations refused before anything is sent."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleError, AnsibleLookupError

from tests.harness.etcd_server import free_port

SECRET = 'v3-l00kup-Secret'


def _dead_url() -> str:
    return 'http://127.0.0.1:%d' % free_port()


def test_unreachable_member_fails_naming_key_and_endpoint_even_with_default(run_lookup, pfx):
    dead = _dead_url()
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(pfx + 'k', host=[dead], timeout=1, api_version='v3', default='x', username='u', password=SECRET)
    message = str(info.value)
    assert 'unreachable' in message and dead in message and pfx + 'k' in message
    assert SECRET not in message


def test_a_batch_error_names_the_first_key_and_how_many_more(run_lookup, pfx):
    dead = _dead_url()
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup([pfx + 'a', pfx + 'b', pfx + 'c'], host=[dead], timeout=1, api_version='v3')
    assert '%sa (and 2 more terms)' % pfx in str(info.value)


@pytest.mark.parametrize('option, value', [('recursive', False), ('recursive', True), ('quorum', True),
                                           ('wait_index', 5)])
def test_v2_options_are_refused_on_v3(conn, run_lookup, pfx, option, value, sent_bodies):
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(pfx + 'k', **dict(conn, **{option: value}))
    assert '%s needs api_version=v2' % option in str(info.value)
    assert not sent_bodies


def test_version_prefix_is_refused_on_v3(conn, run_lookup, pfx):
    with pytest.raises(AnsibleLookupError, match='version_prefix needs api_version=v2'):
        run_lookup(pfx + 'k', version_prefix='v2beta', **conn)


@pytest.mark.parametrize('option, value', [('prefix', True), ('flat', True), ('revision', 3), ('serializable', True),
                                           ('wait_revision', 3)])
def test_v3_options_are_refused_on_v2(etcd_server, run_lookup, option, value, sent_bodies):
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup('/k', host=[etcd_server.url], **{option: value})
    assert '%s needs api_version=v3' % option in str(info.value)
    assert not sent_bodies


def test_several_options_of_the_other_api_are_named_together(conn, run_lookup, pfx):
    with pytest.raises(AnsibleLookupError, match='quorum, recursive need api_version=v2'):
        run_lookup(pfx + 'k', quorum=True, recursive=False, **conn)


@pytest.mark.parametrize('options, expected', [
    ({'wait_revision': 5}, 'wait_revision needs wait=true'),
    ({'revision': -1}, 'revision must be 0'),
    ({'wait': True, 'wait_revision': 0}, 'wait_revision must be a store revision'),
    ({'prefx': True}, 'did you mean prefix'),
])
def test_bad_combinations_are_refused(conn, run_lookup, pfx, options, expected, sent_bodies):
    with pytest.raises(AnsibleLookupError, match=expected):
        run_lookup(pfx + 'k', **dict(conn, **options))
    assert not sent_bodies


def test_an_unknown_api_version_is_refused(conn, run_lookup, pfx, sent_bodies):
    # ansible-core words it differently across versions: both name the value and the option.
    with pytest.raises(AnsibleError, match=r"(?s)(v4.*api_version|api_version.*v4)"):
        run_lookup(pfx + 'k', **dict(conn, api_version='v4'))
    assert not sent_bodies


def test_empty_and_non_string_terms_are_refused(conn, run_lookup):
    with pytest.raises(AnsibleLookupError, match='empty key'):
        run_lookup([''], **conn)
    with pytest.raises(AnsibleLookupError, match='must be a key'):
        run_lookup([{'a': 1}], **conn)


def test_a_v2_only_server_answering_v3_is_not_mistaken_for_a_missing_key(etcd_server, run_lookup, pfx):
    """The same key written through v2 is not seen on v3 (separate stores): a missing key, said
    loudly, never the v2 value."""
    from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client  # pylint: disable=import-outside-toplevel
    with Client(host=etcd_server.url) as v2:
        v2.write('/' + pfx + 'only-v2', 'v2 value')
    assert run_lookup('/' + pfx + 'only-v2', host=[etcd_server.url]) == ['v2 value']
    with pytest.raises(AnsibleLookupError, match='not found'):
        run_lookup('/' + pfx + 'only-v2', host=[etcd_server.url], api_version='v3')
