# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wire encoding of the etcd v3 JSON gateway, and the argument checks of the v3 client.

The gateway speaks protobuf-as-JSON: ``key``, ``value`` and ``range_end`` are *standard* base64
text, 64-bit integers come back as JSON strings (``"revision": "17"``), and fields holding a zero
value (0, false, empty) are left out of answers altogether. The helpers here turn Python values
into that form and back:

* :func:`encode` / :func:`decode_bytes` for base64; :func:`decode_text` gives ``str`` for UTF-8
  data and the raw ``bytes`` otherwise, so binary values are never mangled (see
  :class:`~ansible_collections.pyetcd.etcd.plugins.module_utils._v3.result.KeyValue`:
  ``value`` follows that rule, ``value_bytes`` is always bytes);
* :func:`prefix_range_end` for prefix ranges;
* :func:`to_int` for int64-as-string fields (absent means 0).

Argument checks raise :class:`ClientException` naming the argument, before anything is sent.
Keys and values may be ``str`` (sent as UTF-8) or ``bytes``.
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Optional, Union

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import ClientException, EtcdInvalidResponse

BytesLike = Union[str, bytes]

INT64_MAX = 2 ** 63 - 1
# range_end b'\0' means "every key from `key` on"; with key b'\0' too, every key.
FROM_KEY = b'\0'
_WHOLE = re.compile(r'\A-?[0-9]+\Z')


# -- to the wire --------------------------------------------------------------------------------

def to_bytes(data: Any, name: str = 'key') -> bytes:
    """``data`` as bytes: ``str`` is encoded as UTF-8, ``bytes``/``bytearray`` are taken as they are.

    Raises :class:`ClientException` naming ``name`` for any other type, and for a ``str`` that
    cannot be encoded as UTF-8 (lone surrogates such as ``'\\udcff'``).
    """
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        try:
            return data.encode('utf-8')
        except UnicodeEncodeError as exc:
            raise ClientException('%s must be valid text (it cannot be encoded as UTF-8: %s); pass bytes for binary data'
                                  % (name, exc.reason)) from None
    raise ClientException('%s must be a string or bytes, got %s' % (name, type(data).__name__))


def check_key(key: Any, name: str = 'key') -> bytes:
    """A key as bytes; it must be a non-empty ``str`` or ``bytes`` (etcd rejects an empty key)."""
    data = to_bytes(key, name)
    if not data:
        raise ClientException('%s must not be empty' % name)
    return data


def check_range_end(range_end: Any, name: str = 'range_end') -> Optional[bytes]:
    """A range end as bytes, or None when not given. ``b'\\0'`` means "all keys from the key on"."""
    if range_end is None:
        return None
    data = to_bytes(range_end, name)
    if not data:
        raise ClientException('%s must not be empty (leave it out for a single key, use "\\0" for all keys from the key on)' % name)
    return data


def encode(data: Any, name: str = 'key') -> str:
    """Standard base64 text of ``data`` (``str`` as UTF-8, or ``bytes``), as the gateway expects it.

    An empty value encodes as ``''``. Raises :class:`ClientException` naming ``name`` for a bad type.
    """
    return base64.b64encode(to_bytes(data, name)).decode('ascii')


def prefix_range_end(prefix: Any, name: str = 'prefix') -> bytes:
    """The ``range_end`` that, with ``key=prefix``, selects every key starting with ``prefix``.

    etcd's rule: drop trailing 0xff bytes, then add one to the last byte (``b'/app/'`` gives
    ``b'/app0'``). A prefix made only of 0xff bytes has no upper bound, so the answer is
    ``b'\\0'``: every key from the prefix on. An empty prefix is refused (use key ``b'\\0'``
    with range_end ``b'\\0'`` to mean every key).
    """
    data = bytearray(to_bytes(prefix, name))
    if not data:
        raise ClientException('%s must not be empty (key "\\0" with range_end "\\0" selects every key)' % name)
    while data and data[-1] == 0xff:
        data.pop()
    if not data:
        return FROM_KEY
    data[-1] += 1
    return bytes(data)


def check_whole(value: Any, name: str, minimum: int = 0, maximum: int = INT64_MAX) -> int:
    """``value`` as an int in ``[minimum, maximum]``.

    Accepts an ``int`` (not ``bool``) or a ``str`` of decimal digits (what Ansible and the
    gateway's own int64-as-string answers hand over). Anything else raises
    :class:`ClientException` naming ``name``.
    """
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _WHOLE.match(value):
        number = int(value)
    if number is None:
        raise ClientException('%s must be a whole number, got %r' % (name, value))
    if number < minimum:
        raise ClientException('%s must be at least %d, got %d' % (name, minimum, number))
    if number > maximum:
        raise ClientException('%s must be at most %d, got %d' % (name, maximum, number))
    return number


def check_revision(value: Any, name: str = 'revision', minimum: int = 1) -> int:
    """A store revision. ``minimum`` is 1 where a real revision is needed (compaction), 0 where
    0 means "the latest" (range) or "not created" (compares)."""
    return check_whole(value, name, minimum)


def check_lease(value: Any, name: str = 'lease') -> int:
    """A lease ID: a whole number from 0 (no lease) to 2**63-1 (etcd lease IDs are int64)."""
    return check_whole(value, name, 0)


def check_bool(value: Any, name: str) -> bool:
    """``value`` itself when it is a bool; ClientException naming ``name`` otherwise."""
    if not isinstance(value, bool):
        raise ClientException('%s must be true or false, got %r' % (name, value))
    return value


def check_choice(value: Any, name: str, choices: tuple) -> str:
    """An enum name of the gateway (``'DESCEND'``...), upper-cased; ClientException if unknown."""
    if isinstance(value, str) and value.upper() in choices:
        return value.upper()
    raise ClientException('%s must be one of %s, got %r' % (name, ', '.join(choices), value))


# -- from the wire ------------------------------------------------------------------------------

def decode_bytes(text: Optional[str], name: str = 'value') -> bytes:
    """The bytes behind a base64 field of an answer; an absent field (None) is ``b''``.

    Raises :class:`EtcdInvalidResponse` when etcd sent something that is not base64.
    """
    if text is None or text == '':
        return b''
    if not isinstance(text, str):
        raise EtcdInvalidResponse('%s in the answer is not base64 text: %r' % (name, text))
    try:
        return base64.b64decode(text.encode('ascii'), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise EtcdInvalidResponse('%s in the answer is not valid base64: %r' % (name, text[:60])) from None


def decode_text(data: bytes) -> Union[str, bytes]:
    """``data`` as ``str`` when it is valid UTF-8, else the ``bytes`` unchanged (never lossy)."""
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return data


def to_int(value: Any, name: str = 'field') -> int:
    """An int64/uint64 field of an answer: JSON string or number, absent (None) meaning 0.

    Raises :class:`EtcdInvalidResponse` when etcd sent something that is not a whole number.
    """
    if value is None:
        return 0
    if isinstance(value, bool):
        raise EtcdInvalidResponse('%s in the answer is not a number: %r' % (name, value))
    try:
        return int(value)
    except (TypeError, ValueError):
        raise EtcdInvalidResponse('%s in the answer is not a number: %r' % (name, value)) from None


def display(data: bytes) -> str:
    """A key or value for messages: the text when UTF-8, else Python's bytes notation."""
    text = decode_text(data)
    return text if isinstance(text, str) else repr(text)
