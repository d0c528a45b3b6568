"""A misspelt keyword of the lookup is an error naming it, never silently ignored."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.pyetcd.etcd.plugins.module_utils.client import Client


@pytest.fixture
def written(etcd35, key_prefix):
    """A directory with a subdirectory, so recursive=false and true give different answers."""
    with Client(host=etcd35.url) as writer:
        writer.write(key_prefix + '/dir/sub/leaf', 'deep')
    return {'host': [etcd35.url], 'timeout': 5}


def _message(run_lookup, term, **options) -> str:
    with pytest.raises(AnsibleLookupError) as info:
        run_lookup(term, **options)
    return str(info.value)


@pytest.mark.parametrize('typo, meant, value', [('recursve', 'recursive', False), ('defualt', 'default', 'x'),
                                                ('wait_timout', 'wait_timeout', 1), ('metdata', 'metadata', True)])
def test_a_misspelt_option_fails_and_suggests_the_real_one(written, run_lookup, key_prefix, typo, meant, value):
    message = _message(run_lookup, key_prefix + '/dir', **{typo: value}, **written)
    assert 'unknown option %s' % typo in message
    assert 'did you mean %s?' % meant in message
    assert '\n' not in message


def test_an_unrelated_option_is_named_without_a_guess(written, run_lookup, key_prefix):
    message = _message(run_lookup, key_prefix + '/dir', colour='blue', **written)
    assert 'unknown option colour' in message
    assert 'did you mean' not in message
    # What is allowed instead is listed.
    assert 'recursive' in message and 'wait_index' in message
    assert 'blue' not in message


def test_every_unknown_option_is_named(written, run_lookup, key_prefix):
    message = _message(run_lookup, key_prefix + '/dir', recursve=False, defualt='x', **written)
    assert 'recursve' in message and 'defualt' in message


def test_a_missing_key_with_a_misspelt_default_fails_on_the_spelling(written, run_lookup, key_prefix):
    message = _message(run_lookup, key_prefix + '/absent', defualt='x', **written)
    assert 'unknown option defualt' in message
    assert 'not found' not in message


def test_the_real_options_still_work(written, run_lookup, key_prefix):
    assert run_lookup(key_prefix + '/dir', recursive=False, **written) == [{'sub': {}}]
    assert run_lookup(key_prefix + '/absent', default='x', **written) == ['x']
