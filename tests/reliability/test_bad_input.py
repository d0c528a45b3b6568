"""Bad input to the client, against real etcd 3.5 and 3.4: each input round-trips exactly or is
refused with a one-line ClientException, and a refused input leaves nothing behind.

"Nothing behind" is checked on the server: every case writes under a fresh prefix that does
not exist before, and after a refusal that prefix must still not exist.
"""
from __future__ import annotations

import pytest

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import (
    ClientException,
    EtcdKeyNotFound,
    EtcdNodeExist,
    EtcdNotDir,
    EtcdNotFile,
    normalize_key,
)

# Keys that must round-trip exactly (after the documented normalisation).
ROUND_TRIP_KEYS = {
    'space': '/with space',
    'question': '/what?x=1',
    'hash': '/anchor#frag',
    'percent': '/100%',
    'percent-2F': '/a%2Fb',          # a literal "%2F" stays 3 characters, it is not a slash
    'ampersand': '/a&value=evil',    # must not leak into the form body as another parameter
    'plus-equals-semicolon': '/a+b=c;d',
    'unicode': '/ünïcödé/日本語/😀',
    'backslash': '/back\\slash',
    'control': '/tab\there\nnewline',
    'nul': '/nul\x00byte',
    'leading-and-trailing-space': '/ padded ',
    'underscore-hidden': '/_hidden',
    'dotted-names': '/.dotfile/...three/a.b',
    'long': '/' + 'k' * 3900,           # just inside etcd's 4096-byte request line
}

# Keys the client rewrites before sending, and what it sends instead.
NORMALISED_KEYS = {
    'no-leading-slash': ('relative/key', '/relative/key'),
    'repeated-slashes': ('//a///b', '/a/b'),
    'trailing-slash': ('/a/b/', '/a/b'),
}

# Keys refused before anything is sent, with words the message must contain.
REFUSED_KEYS = {
    'empty': ('', 'key must not be empty'),
    'dot-dot-segment': ('/a/../b', "'..' segment"),
    'dot-dot-at-end': ('/a/..', "'..' segment"),
    'dot-segment': ('/a/./b', "'.' segment"),
    'lone-surrogate': ('/bad\udc80key', 'UTF-8'),
    # etcd (cmux) closes a new connection whose request line is over 4096 bytes: refused up
    # front, instead of an unexplained "connection closed" that depends on connection reuse.
    'too-long': ('/' + 'k' * 5000, 'too long'),
    'too-long-when-encoded': ('/' + '\u00e9' * 700, 'too long'),
    'bytes': (b'/bytes', 'key must be a string'),
    'int': (42, 'key must be a string'),
    'none': (None, 'key must be a string'),
}

ROUND_TRIP_VALUES = {
    'empty': '',
    'one-mebibyte': 'v' * (1 << 20),
    'one-mebibyte-of-escapes': '&%=' * ((1 << 20) // 3),
    'binary-looking': ''.join(chr(c) for c in range(0, 256)),
    'replacement-char-and-emoji': '\ufffd\U0001f4a9',
    'json-looking': '{"errorCode": 100, "message": "Key not found"}',
    'form-injection': 'x&ttl=1&prevExist=false&dir=true',
    'whitespace-only': ' \t\n ',
}

REFUSED_VALUES = {
    'none': (None, 'value must be a string'),
    'bool': (True, 'value must be a string'),
    'bytes': (b'\x00\xff', 'value must be a string'),
    'list': (['a'], 'value must be a string'),
    'dict': ({'a': 1}, 'value must be a string'),
    'lone-surrogate': ('bad\ud800value', 'UTF-8'),
}

# Other options refused before sending: (callable(client, key), words).
REFUSED_OPTIONS = {
    'ttl-negative': (lambda c, k: c.write(k, 'v', ttl=-5), 'ttl must not be negative'),
    'ttl-zero': (lambda c, k: c.write(k, 'v', ttl=0), 'ttl=0'),
    'ttl-text': (lambda c, k: c.write(k, 'v', ttl='ten'), 'ttl must be a whole number'),
    'ttl-numeric-text': (lambda c, k: c.write(k, 'v', ttl='10'), 'ttl must be a whole number'),
    'ttl-float': (lambda c, k: c.write(k, 'v', ttl=2.5), 'ttl must be a whole number'),
    'ttl-bool': (lambda c, k: c.write(k, 'v', ttl=True), 'ttl must be a whole number'),
    'mkdir-ttl-negative': (lambda c, k: c.mkdir(k, ttl=-1), 'ttl must not be negative'),
    'append-ttl-text': (lambda c, k: c.append(k, 'v', ttl='x'), 'ttl must be a whole number'),
    'prev-index-text': (lambda c, k: c.write(k, 'v', prev_index='abc'), 'prev_index must be an integer'),
    'prev-index-numeric-text': (lambda c, k: c.compare_and_swap(k, 'v', prev_index='7'), 'prev_index must be an integer'),
    'prev-index-zero': (lambda c, k: c.compare_and_swap(k, 'v', prev_index=0), 'prev_index must be 1 or more'),
    'prev-index-negative': (lambda c, k: c.compare_and_delete(k, prev_index=-1), 'prev_index must be 1 or more'),
    'prev-index-float': (lambda c, k: c.write(k, 'v', prev_index=3.0), 'prev_index must be an integer'),
    'create-with-prev-value': (lambda c, k: c.write(k, 'v', prev_exist=False, prev_value='x'), 'cannot be combined'),
    'create-with-prev-index': (lambda c, k: c.compare_and_swap(k, 'v', prev_exist=False, prev_index=3), 'cannot be combined'),
    'refresh-with-value': (lambda c, k: c.write(k, 'v', ttl=5, refresh=True), 'value must be None'),
    'refresh-without-ttl': (lambda c, k: c.write(k, None, refresh=True), 'needs a ttl'),
    'prev-exist-text': (lambda c, k: c.write(k, 'v', prev_exist='no'), 'prev_exist must be true or false'),
    'prev-value-not-text': (lambda c, k: c.compare_and_swap(k, 'v', prev_value=[1]), 'prev_value must be a string or a number'),
    'recursive-not-bool': (lambda c, k: c.delete(k, recursive='yes'), 'recursive must be true or false'),
}


def _absent(client, key: str) -> bool:
    try:
        client.read(key, recursive=True)
    except EtcdKeyNotFound:
        return True
    return False


def _leaves(client, prefix: str) -> list:
    out = []

    def walk(node):
        if node.dir:
            for child in node.children:
                walk(child)
        else:
            out.append(node)
    walk(client.read(prefix, recursive=True).node)
    return out


@pytest.mark.parametrize('name', sorted(ROUND_TRIP_KEYS))
def test_awkward_keys_round_trip_exactly(client, key_prefix, figures, name):
    key = key_prefix + ROUND_TRIP_KEYS[name]
    written = client.write(key, 'value of ' + name)
    assert written.node.key == key
    assert client.read(key).node.value == 'value of ' + name
    # Exactly one key appeared, under exactly this name: nothing was split or re-encoded.
    # (etcd leaves keys whose name starts with '_' out of directory listings.)
    listed = [] if name == 'underscore-hidden' else [(key, 'value of ' + name)]
    assert [(n.key, n.value) for n in _leaves(client, key_prefix)] == listed
    figures.add('bad input: inputs tried')


@pytest.mark.parametrize('name', sorted(NORMALISED_KEYS))
def test_keys_the_client_normalises(client, key_prefix, figures, name):
    given, stored = NORMALISED_KEYS[name]
    key = key_prefix.lstrip('/') + '/' + given if not given.startswith('/') else key_prefix + given
    assert normalize_key(key) == key_prefix + stored
    client.write(key, 'n')
    assert [n.key for n in _leaves(client, key_prefix)] == [key_prefix + stored]
    figures.add('bad input: inputs tried')


@pytest.mark.parametrize('name', sorted(REFUSED_KEYS))
def test_refused_keys_leave_nothing(client, key_prefix, figures, name):
    given, words = REFUSED_KEYS[name]
    key = key_prefix + given if isinstance(given, str) and given else given
    with pytest.raises(ClientException) as err:
        client.write(key, 'v')
    message = str(err.value)
    assert words in message and '\n' not in message
    assert _absent(client, key_prefix)
    figures.add('bad input: inputs tried')


@pytest.mark.parametrize('name', sorted(ROUND_TRIP_VALUES))
def test_values_round_trip_exactly(client, key_prefix, figures, name):
    value = ROUND_TRIP_VALUES[name]
    key = key_prefix + '/v'
    result = client.write(key, value)
    assert result.node.ttl is None, 'a value must never be read as form parameters'
    node = client.read(key).node
    assert node.value == value and not node.dir and node.ttl is None
    assert len(_leaves(client, key_prefix)) == 1
    figures.add('bad input: inputs tried')


@pytest.mark.parametrize('name', sorted(REFUSED_VALUES))
def test_refused_values_leave_nothing(client, key_prefix, figures, name):
    value, words = REFUSED_VALUES[name]
    with pytest.raises(ClientException) as err:
        client.write(key_prefix + '/v', value)
    assert words in str(err.value) and '\n' not in str(err.value)
    assert _absent(client, key_prefix)
    figures.add('bad input: inputs tried')


@pytest.mark.parametrize('name', sorted(REFUSED_OPTIONS))
def test_refused_options_leave_nothing(client, key_prefix, figures, name):
    call, words = REFUSED_OPTIONS[name]
    with pytest.raises(ClientException) as err:
        call(client, key_prefix + '/k')
    assert words in str(err.value) and '\n' not in str(err.value)
    assert _absent(client, key_prefix)
    figures.add('bad input: inputs tried')


def _snapshot(client, prefix: str) -> list:
    return sorted((n.key, n.value, n.modified_index) for n in _leaves(client, prefix)) + \
        [('dir', client.read(prefix + '/dir').node.modified_index)]


@pytest.mark.parametrize('case', ['write-to-dir', 'cas-on-dir', 'delete-dir-as-key', 'cad-on-dir', 'write-below-key',
                                  'mkdir-over-key', 'mkdir-over-dir', 'append-below-key'])
def test_directory_where_a_key_is_expected_and_the_reverse(client, key_prefix, figures, case):
    client.mkdir(key_prefix + '/dir')
    client.write(key_prefix + '/dir/child', 'c')
    client.write(key_prefix + '/key', 'k')
    before = _snapshot(client, key_prefix)
    calls = {
        'write-to-dir': (lambda: client.write(key_prefix + '/dir', 'x'), EtcdNotFile, '/dir'),
        'cas-on-dir': (lambda: client.compare_and_swap(key_prefix + '/dir', 'x', prev_value='y'), EtcdNotFile, '/dir'),
        'delete-dir-as-key': (lambda: client.delete(key_prefix + '/dir'), EtcdNotFile, '/dir'),
        'cad-on-dir': (lambda: client.compare_and_delete(key_prefix + '/dir', prev_index=1), EtcdNotFile, '/dir'),
        'write-below-key': (lambda: client.write(key_prefix + '/key/below', 'x'), EtcdNotDir, '/key/below'),
        'mkdir-over-key': (lambda: client.mkdir(key_prefix + '/key'), EtcdNodeExist, '/key'),
        'mkdir-over-dir': (lambda: client.mkdir(key_prefix + '/dir'), EtcdNodeExist, '/dir'),
        'append-below-key': (lambda: client.append(key_prefix + '/key', 'x'), EtcdNotDir, '/key'),
    }
    call, cls, names = calls[case]
    with pytest.raises(cls) as err:
        call()
    assert key_prefix + names in str(err.value)
    assert _snapshot(client, key_prefix) == before, 'a refused operation changed the tree'
    figures.add('bad input: inputs tried')
