# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument checks of the v2 keys API, and the v2 wire parameters they become.

Every parameter a v2 request carries (``prevExist``, ``prevValue``, ``prevIndex``, ``ttl``,
``dir``, ``recursive``, ...) is built here, once, for the client and for the collection's
planning code alike. Bad arguments raise :class:`ClientException` naming the argument, before
anything is sent.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import ClientException


def flag(value: bool) -> str:
    return 'true' if value else 'false'


def check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ClientException('%s must be true or false, got %r' % (name, value))


def check_ttl(ttl: Any, name: str = 'ttl') -> Optional[int]:
    """A TTL is a whole number of seconds >= 1, or None for no expiry.

    ttl=0 is refused: etcd would expire the key at once, and older clients silently drop it.
    """
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int):
        raise ClientException('%s must be a whole number of seconds, got %r' % (name, ttl))
    if ttl < 0:
        raise ClientException('%s must not be negative, got %d' % (name, ttl))
    if ttl == 0:
        raise ClientException('%s=0 would make the key expire at once; give a positive number of seconds, or None for no expiry' % name)
    return ttl


def check_index(index: Any, name: str) -> Optional[int]:
    if index is None:
        return None
    if isinstance(index, bool) or not isinstance(index, int):
        raise ClientException('%s must be an integer etcd index, got %r' % (name, index))
    if index < 1:
        # prevIndex=0 would make etcd drop the condition and write unconditionally.
        raise ClientException('%s must be 1 or more, got %d' % (name, index))
    return index


def check_utf8(text: str, name: str) -> None:
    """Refuse text that UTF-8 cannot carry (lone surrogates, e.g. from undecodable file names)."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError as exc:
        raise ClientException('%s cannot be sent as UTF-8 (%s at position %d)' % (name, exc.reason, exc.start)) from None


def check_value(value: Any, name: str = 'value') -> str:
    if not isinstance(value, str):
        raise ClientException('%s must be a string, got %s %r' % (name, type(value).__name__, value))
    check_utf8(value, name)
    return value


def value_text(value: Any, name: str = 'value') -> str:
    """A value to store: a string as given, an int or float as its decimal text (pyetcd stores
    ``write(k, 42)`` as ``"42"``). Booleans, None, lists and dicts are refused: their text is
    not one obvious string (``True`` or ``true``?); convert them first (``json.dumps``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ClientException('%s must be a string or a number, got %s %r: convert it to a string first (e.g. json.dumps)'
                              % (name, type(value).__name__, value))
    return check_value(value, name)


def normalize_key(key: Any, name: str = 'key') -> str:
    """Return ``key`` with one leading '/', no repeated or trailing '/'.

    Refuses non-strings, empty keys and '.'/'..' segments (HTTP libraries and etcd's router
    would rewrite those into another key).
    """
    if not isinstance(key, str):
        raise ClientException('%s must be a string, got %s %r' % (name, type(key).__name__, key))
    if key == '':
        raise ClientException('%s must not be empty' % name)
    check_utf8(key, name)
    segments = [seg for seg in key.split('/') if seg != '']
    for seg in segments:
        if seg in ('.', '..'):
            raise ClientException("%s %r has a '%s' segment, which etcd cannot store" % (name, key, seg))
    return '/' + '/'.join(segments)


def conditions(key: str, prev_exist: Optional[bool] = None, prev_value: Optional[str] = None,
               prev_index: Optional[int] = None) -> Dict[str, str]:
    """The v2 parameters of a conditional write or delete: every given condition, together."""
    params: Dict[str, str] = {}
    if prev_exist is not None:
        check_bool('prev_exist', prev_exist)
        if prev_exist is False and (prev_value is not None or prev_index is not None):
            raise ClientException('prev_exist=False (create %s) cannot be combined with prev_value or prev_index: '
                                  'etcd would ignore them' % key)
        params['prevExist'] = flag(prev_exist)
    if prev_value is not None:
        params['prevValue'] = value_text(prev_value, 'prev_value')
    prev_index = check_index(prev_index, 'prev_index')
    if prev_index is not None:
        params['prevIndex'] = str(prev_index)
    return params


def value_params(key: str, value: Any, **given: Any) -> Dict[str, str]:
    """The v2 parameters of a PUT storing ``value`` under the given conditions (see :func:`conditions`)."""
    params = {'value': value_text(value)}
    params.update(conditions(key, **given))
    return params


def mkdir_params(ttl: Optional[int] = None) -> Dict[str, str]:
    """The v2 parameters of a PUT creating a directory where nothing is (with ``ttl`` seconds to live)."""
    params = {'dir': 'true', 'prevExist': 'false'}
    ttl = check_ttl(ttl)
    if ttl is not None:
        params['ttl'] = str(ttl)
    return params


def rmdir_params(recursive: bool = False) -> Dict[str, str]:
    """The v2 parameters of a DELETE of a directory: etcd refuses (108) one that is not empty,
    unless ``recursive``, which deletes everything below it too."""
    check_bool('recursive', recursive)
    params = {'dir': 'true'}
    if recursive:
        params['recursive'] = 'true'
    return params
