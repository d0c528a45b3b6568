"""Property-based: random keys and values round-trip through write and read on a real etcd.

What the client does with keys (and what these properties rely on):

* a key is split on '/', empty segments are dropped and one leading '/' is put in front, so
  ``a//b/`` is stored as ``/a/b`` (normalised, not refused);
* a key that is empty, or has a '.' or '..' segment, is refused with ClientException before
  anything is sent (etcd and HTTP libraries would resolve those into another key);
* every other character, including '?', '#', '%', '&', spaces, control characters and any
  Unicode, is URL-encoded and stored exactly.

Each example writes under its own fresh prefix, so a refused example can be checked to have
written nothing.
"""
from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import (
    Client,
    ClientException,
    EtcdKeyNotFound,
    normalize_key,
)

# Segments: any text without '/', not '.' or '..' (those are the refused case below).
# Length is bounded so that the URL-encoded key stays well inside etcd's request-line limit.
SEGMENT = st.text(min_size=1, max_size=16).filter(lambda s: '/' not in s and s not in ('.', '..'))
SEPARATOR = st.sampled_from(['/', '//', '///'])
VALUES = st.one_of(st.text(max_size=300), st.text(alphabet=st.characters(max_codepoint=0xff), max_size=300))
COMMON = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def raw_keys(draw):
    """A key as a user might type it: optional leading slash, repeated and trailing slashes."""
    segments = draw(st.lists(SEGMENT, min_size=1, max_size=4))
    text = ''
    for segment in segments:
        text += draw(SEPARATOR) + segment
    if not draw(st.booleans()):
        text = text.lstrip('/')
    if draw(st.booleans()):
        text += '/'
    return text, '/' + '/'.join(segments)


def _fresh_prefix() -> str:
    return '/prop-%s' % uuid.uuid4().hex[:12]


def test_random_keys_and_values_round_trip(etcd35, figures):
    client = Client(host=etcd35.host, port=etcd35.port, timeout=10)
    count = [0]

    @COMMON
    @given(key=raw_keys(), value=VALUES)
    def check(key, value):
        raw, expected = key
        prefix = _fresh_prefix()
        full = prefix + '/' + raw
        assert normalize_key(full) == prefix + expected
        written = client.write(full, value)
        assert written.node.key == prefix + expected
        node = client.read(prefix + expected).node
        assert node.value == value and node.key == prefix + expected and not node.dir
        # Read through the spelling the user gave as well: it names the same key.
        assert client.read(full).node.value == value
        count[0] += 1

    check()  # pylint: disable=no-value-for-parameter
    client.close()
    figures.add('property: random key/value round trips', count[0])


def test_random_keys_with_dot_segments_are_refused_and_write_nothing(etcd35, figures):
    client = Client(host=etcd35.host, port=etcd35.port, timeout=10)
    count = [0]

    @COMMON
    @given(before=st.lists(SEGMENT, max_size=2), dots=st.sampled_from(['.', '..']), after=st.lists(SEGMENT, max_size=2))
    def check(before, dots, after):
        prefix = _fresh_prefix()
        key = '/'.join([prefix] + before + [dots] + after)
        try:
            client.write(key, 'v')
        except ClientException as exc:
            assert "'%s' segment" % dots in str(exc)
        else:
            raise AssertionError('%r was accepted' % key)
        try:
            client.read(prefix, recursive=True)
        except EtcdKeyNotFound:
            pass
        else:
            raise AssertionError('a refused key left something under %s' % prefix)
        count[0] += 1

    check()  # pylint: disable=no-value-for-parameter
    client.close()
    figures.add('property: refused dot-segment keys', count[0])


def test_any_text_is_stored_or_refused_never_a_crash(etcd35, figures):
    """Any Python string, including lone surrogates that UTF-8 cannot carry: stored exactly
    or refused with ClientException; never another exception."""
    client = Client(host=etcd35.host, port=etcd35.port, timeout=10)
    # Surrogates must be asked for explicitly: hypothesis leaves them out of text() otherwise.
    any_char = st.one_of(st.characters(), st.characters(categories=['Cs']))
    any_text = st.text(alphabet=any_char, max_size=40)
    count = [0]

    @COMMON
    @given(segment=any_text, value=any_text)
    def check(segment, value):
        prefix = _fresh_prefix()
        key = prefix + '/k' + segment
        try:
            expected = normalize_key(key)
            client.write(key, value)
        except ClientException:
            try:
                client.read(prefix, recursive=True)
            except EtcdKeyNotFound:
                pass
            else:
                raise AssertionError('a refused input left something under %s' % prefix)
        else:
            assert client.read(expected).node.value == value
        count[0] += 1

    check()  # pylint: disable=no-value-for-parameter
    client.close()
    figures.add('property: arbitrary text inputs', count[0])
