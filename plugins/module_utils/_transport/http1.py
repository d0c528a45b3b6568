# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading HTTP/1.1 answers off a socket: :class:`AnswerReader`, :class:`AnswerHeaders` and
:class:`LazyHeaders`.

``http.client.HTTPResponse`` parses the header section with the ``email`` package (a feed
parser, a policy object and a ``Message`` per answer): on a sequential put to etcd that was
about 30 microseconds of the client's 180, more than the client's own work on the request.
etcd's answers are simple (Go's ``net/http``: a status line, a handful of canonical header
lines, then a body framed by ``Content-Length`` or chunked), so this reader splits the header
section itself and reads the body by its framing, keeping the bytes that follow an answer
for the next one (pipelining). A header section written the way Go writes it is only searched
for the three fields that frame the body; its fields are split when someone first looks at them
(:class:`LazyHeaders`: the v2 client does for every answer, the v3 client never does). Any other
header section is split and checked line by line (:func:`parse_head`).

Failures are raised as ``http.client`` raises them, so that ``failures.classify`` and the
stale keep-alive check read them as before: no byte at all is
:class:`http.client.RemoteDisconnected`; an answer that is not HTTP is
:class:`http.client.BadStatusLine`; an answer cut short is
:class:`http.client.IncompleteRead`; oversized or malformed framing is
:class:`http.client.HTTPException`. Socket errors and timeouts pass through unchanged.
"""
from __future__ import annotations

import http.client
import re
from collections.abc import Mapping
from typing import Any, Dict, Iterator, Optional, Tuple, Union

# As http.client: a longer header line, or more header lines, is not an answer from etcd.
MAX_LINE = 65536
MAX_HEADERS = 100
_RECV = 65536
# Statuses whose answers carry no body (RFC 9110 section 6.4.1).
_NO_BODY = frozenset((204, 304))


class AnswerHeaders(dict):
    """The header fields of one answer, names as the server spelled them (Go canonicalises
    them: ``X-Etcd-Index``). Lookups with ``get``, ``[]`` and ``in`` ignore case; a field
    that came more than once under the same spelling holds its values joined with ``", "``."""

    def _find(self, name: str) -> Any:
        lowered = name.lower()
        for field, value in dict.items(self):
            if field.lower() == lowered:
                return field, value
        return None

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[name]
        except KeyError:
            return default

    def __getitem__(self, name: str) -> Any:
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        found = self._find(name)
        if found is None:
            raise KeyError(name)
        return found[1]

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or (isinstance(name, str) and self._find(name) is not None)


class LazyHeaders(Mapping):
    """The header fields of a well-formed answer, split into :class:`AnswerHeaders` only when
    first looked at: the v3 client never looks at them, the v2 client does for every answer."""

    __slots__ = ('_text', '_fields')

    def __init__(self, text: str):
        self._text = text
        self._fields: Optional[AnswerHeaders] = None

    @property
    def fields(self) -> AnswerHeaders:
        if self._fields is None:
            self._fields = parse_head(self._text)[2]
        return self._fields

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __repr__(self) -> str:
        return repr(self.fields)


# A header section as etcd (Go's net/http) writes it: an HTTP/1.x status line, then field
# lines of a token name, a colon and a value, each ended by CRLF; no folded lines. Such a head
# is read by the fast path in AnswerReader.read; any other goes through parse_head, which
# takes what http.client takes and names what is wrong.
_WELL_FORMED = re.compile(r"HTTP/1\.[01] [0-9]{3}(?: [^\r\n]*)?(?:\r\n[-!#$%&'*+.^_`|~0-9A-Za-z]+:[^\r\n]*)*")
_FRAMING_FIELDS = ('\r\ncontent-length:', '\r\ntransfer-encoding:', '\r\nconnection:')


def _framing(text: str) -> Optional[Dict[str, str]]:
    """The fields that frame the body (``content-length``, ``transfer-encoding``,
    ``connection``) of a well-formed head, by lower-case name; None when one of them comes
    twice or there are too many lines (parse_head then joins or refuses them)."""
    if text.count('\n') > MAX_HEADERS:
        return None
    lowered = text.lower()
    found = {}
    for field in _FRAMING_FIELDS:
        start = lowered.find(field)
        if start < 0:
            continue
        if lowered.find(field, start + 1) >= 0:
            return None
        start += len(field)
        end = text.find('\r\n', start)
        found[field[2:-1]] = text[start:end if end >= 0 else len(text)].strip(' \t')
    return found


def _tokens(value: Optional[str]) -> list:
    return [token.strip().lower() for token in value.split(',')] if value else []


def parse_head(text: str) -> Tuple[str, int, AnswerHeaders]:
    """``(version, status, headers)`` of a header section decoded as Latin-1 (the status line
    and the field lines, without the blank line that ends it).

    :raises http.client.BadStatusLine: the first line is not an HTTP status line.
    :raises http.client.HTTPException: too many or malformed field lines.
    """
    lines = text.split('\r\n') if '\r\n' in text else text.split('\n')
    status_line = lines[0]
    version, _sep, rest = status_line.partition(' ')
    code = rest[:3]
    if not version.startswith('HTTP/') or len(code) != 3 or not (code.isascii() and code.isdigit()) \
            or rest[3:4] not in ('', ' '):
        raise http.client.BadStatusLine(repr(status_line[:200]))
    if len(lines) > MAX_HEADERS + 1:
        raise http.client.HTTPException('got more than %d headers' % MAX_HEADERS)
    headers = AnswerHeaders()
    last = None
    for line in lines[1:]:
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong('header line')
        if line[:1] in (' ', '\t') and last is not None:
            # An obsolete folded continuation of the field before.
            dict.__setitem__(headers, last, dict.__getitem__(headers, last) + ' ' + line.strip())
            continue
        name, sep, value = line.partition(':')
        if not sep or not name or name[-1] in ' \t' or name[0] in ' \t':
            raise http.client.HTTPException('malformed header line %r' % line[:200])
        value = value.strip()
        if dict.__contains__(headers, name):
            value = dict.__getitem__(headers, name) + ', ' + value
        dict.__setitem__(headers, name, value)
        last = name
    return version, int(code), headers


class AnswerReader:
    """The answers arriving on one socket, read one after another.

    Bytes received past the end of an answer stay in the buffer for the next one (the answers
    to pipelined requests come back to back); :attr:`leftover` says whether any are there.
    :attr:`started` says the header section of the answer being read had arrived whole (a
    failure after that is an answer cut short, not a connection found closed).
    """

    __slots__ = ('sock', 'buf', 'started')

    def __init__(self, sock: Any):
        self.sock = sock
        self.buf = b''
        self.started = False

    @property
    def leftover(self) -> bool:
        """Bytes that came after the last answer read (nothing asked for them yet)."""
        return bool(self.buf)

    def _more(self, started: bool) -> None:
        data = self.sock.recv(_RECV)
        if not data:
            if not started:
                raise http.client.RemoteDisconnected('Remote end closed connection without response')
            raise http.client.IncompleteRead(self.buf)
        self.buf += data

    def _head(self) -> bytes:
        """The header section of the next answer (status line included, final blank line
        excluded), taken off the buffer."""
        searched = 0
        while True:
            buf = self.buf
            end = buf.find(b'\r\n\r\n', max(0, searched - 3))
            if end >= 0:
                self.buf = buf[end + 4:]
                return buf[:end]
            bare = buf.find(b'\n\n', max(0, searched - 1))  # bare line feeds, as http.client takes them
            if bare >= 0:
                self.buf = buf[bare + 2:]
                return buf[:bare]
            if len(buf) > MAX_LINE * (MAX_HEADERS + 1):
                raise http.client.HTTPException('got more than %d bytes of header lines' % (MAX_LINE * (MAX_HEADERS + 1)))
            searched = len(buf)
            self._more(started=bool(buf))

    def _line(self) -> bytes:
        """One line of a chunked body (a chunk size or a trailer), without its line end."""
        while True:
            end = self.buf.find(b'\n')
            if end >= 0:
                line, self.buf = self.buf[:end], self.buf[end + 1:]
                return line.rstrip(b'\r')
            if len(self.buf) > MAX_LINE:
                raise http.client.LineTooLong('chunk size')
            self._more(started=True)

    def _exact(self, size: int) -> bytes:
        buf = self.buf
        if len(buf) >= size:
            self.buf = buf[size:]
            return buf[:size]
        out = bytearray(size)
        have = len(buf)
        out[:have] = buf
        self.buf = b''
        view = memoryview(out)
        while have < size:
            got = self.sock.recv_into(view[have:])
            if not got:
                raise http.client.IncompleteRead(bytes(out[:have]), size - have)
            have += got
        return bytes(out)

    def _until_closed(self) -> bytes:
        parts = [self.buf]
        self.buf = b''
        while True:
            data = self.sock.recv(_RECV)
            if not data:
                return b''.join(parts)
            parts.append(data)

    def _chunked(self) -> bytes:
        parts = []
        while True:
            line = self._line()
            try:
                size = int(line.split(b';', 1)[0].strip(), 16)
            except ValueError:
                raise http.client.IncompleteRead(b''.join(parts)) from None
            if size < 0:
                raise http.client.IncompleteRead(b''.join(parts))
            if size == 0:
                while self._line():  # trailer fields, up to the blank line
                    pass
                return b''.join(parts)
            parts.append(self._exact(size))
            if self._line():
                # The chunk was longer than its size said.
                raise http.client.IncompleteRead(b''.join(parts))

    def read(self, method: str = 'GET') -> Tuple[int, Mapping, bytes, bool]:
        """The next answer: ``(status, headers, body, will_close)``; ``will_close`` says the
        server closes the connection after it (nothing more may be sent or read on it).
        Informational answers (``100 Continue``) are skipped."""
        self.started = False
        while True:
            text = self._head().decode('latin-1')
            self.started = True
            framing = _framing(text) if _WELL_FORMED.fullmatch(text) and len(text) <= MAX_LINE else None
            if framing is not None:
                version, status = text[:8], int(text[9:12])
                headers: Union[LazyHeaders, AnswerHeaders] = LazyHeaders(text)
            else:
                version, status, headers = parse_head(text)
                framing = {}
                for name in ('content-length', 'transfer-encoding', 'connection'):
                    value = headers.get(name)
                    if value is not None:
                        framing[name] = value
            if not 100 <= status < 200 or status == 101:
                break
        connection = _tokens(framing.get('connection'))
        if version == 'HTTP/1.0':
            will_close = 'keep-alive' not in connection
        else:
            will_close = 'close' in connection
        if method == 'HEAD' or status in _NO_BODY or status < 200:
            return status, headers, b'', will_close
        codings = _tokens(framing.get('transfer-encoding'))
        if codings:
            if codings[-1] != 'chunked':
                return status, headers, self._until_closed(), True
            return status, headers, self._chunked(), will_close
        length = framing.get('content-length')
        if length is None:
            return status, headers, self._until_closed(), True
        values = set(part.strip() for part in length.split(','))
        size = values.pop() if len(values) == 1 else ''
        if not (size.isascii() and size.isdigit()):
            raise http.client.HTTPException('bad Content-Length %r' % length[:40])
        return status, headers, self._exact(int(size)), will_close
