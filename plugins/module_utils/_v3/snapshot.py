# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the ``/v3/maintenance/snapshot`` stream, and the store revision of a snapshot file.

The stream is newline-delimited ``{"result": {"blob": <base64>, "remaining_bytes": <uint64>}}``.
``remaining_bytes`` says how many database bytes follow the chunk (left out, so 0, on the last
data chunk); etcd then sends one more chunk whose blob is the 32-byte SHA-256 of the database.
:class:`SnapshotStream` checks that framing chunk by chunk, writes the database and the hash to
a file object (the file etcdctl writes: ``etcdutl snapshot restore`` checks the trailing hash),
and refuses a stream that ends early or whose hash does not match.

:func:`bolt_revision` finds the store revision in the database (a bbolt file): the newest
revision key of etcd's ``key`` bucket, which is what ``etcdutl snapshot status`` reports.
"""
from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import IO, Any, Dict, Iterator, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.answers import parse_stream_line
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import decode_bytes, to_int
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import EtcdInvalidResponse

HASH_SIZE = 32
_READ_SIZE = 64 * 1024


class EtcdSnapshotError(EtcdInvalidResponse):
    """The snapshot stream is not a whole, intact snapshot: it ended before etcd's trailing
    SHA-256, its chunk sizes do not add up, or the SHA-256 does not match the data. What was
    written to the file object is not a usable snapshot."""

    default_message = 'bad snapshot stream'


@dataclass(frozen=True)
class SnapshotInfo:
    """What :meth:`ClusterMixin.snapshot` wrote: ``size`` bytes in all (``db_size`` bytes of
    database plus the 32-byte hash), ``sha256`` (hex, of the database: etcd's own hash, checked),
    ``revision`` (the store revision of the snapshot; None when the database could not be read
    for it) and the ``endpoint`` that sent it."""

    size: int
    db_size: int
    sha256: str
    revision: Optional[int]
    endpoint: str

    def to_dict(self) -> Dict[str, Any]:
        return {'size': self.size, 'db_size': self.db_size, 'sha256': self.sha256, 'revision': self.revision,
                'endpoint': self.endpoint}


def stream_lines(response: Any, endpoint: str) -> Iterator[bytes]:
    """The lines of an open urllib3 response; raises :class:`EtcdSnapshotError` when the
    connection breaks (a read timeout, a reset) or the stream ends inside a line."""
    buffer = b''
    while True:
        try:
            chunk = response.read(_READ_SIZE)
        except Exception as exc:  # urllib3 ProtocolError / ReadTimeoutError, OSError...  pylint: disable=broad-except
            raise EtcdSnapshotError('snapshot stream broke off (%s: %s); what was written is not a usable snapshot'
                                    % (type(exc).__name__, exc), endpoint=endpoint) from None
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b'\n')
        yield from lines
    if buffer.strip():
        raise EtcdSnapshotError('snapshot stream ended in the middle of a chunk; what was written is not a usable '
                                'snapshot', endpoint=endpoint)


class SnapshotStream:
    """Checks one snapshot stream and copies it to ``fileobj`` (see the module docstring)."""

    def __init__(self, fileobj: IO[bytes], endpoint: str):
        self.fileobj = fileobj
        self.endpoint = endpoint
        self.digest = hashlib.sha256()
        self.db_size = 0
        self.chunks = 0
        self.remaining: Optional[int] = None  # what the last data chunk announced
        self.trailer: Optional[bytes] = None

    def _fail(self, what: str) -> EtcdSnapshotError:
        return EtcdSnapshotError('snapshot stream: %s (after %d bytes in %d chunks); what was written is not a usable '
                                 'snapshot' % (what, self.db_size, self.chunks), endpoint=self.endpoint)

    def feed(self, line: bytes) -> None:
        """One line of the stream. Raises the etcd error of an in-stream error object, and
        :class:`EtcdSnapshotError` for a chunk that does not fit the framing."""
        try:
            result = parse_stream_line(line, self.endpoint, 'snapshot')
            if result is None:
                return
            blob = decode_bytes(result.get('blob'), 'blob')
            remaining = to_int(result.get('remaining_bytes'), 'remaining_bytes')
        except EtcdSnapshotError:
            raise
        except EtcdInvalidResponse as exc:  # not etcd's framing at all (an in-stream etcd error passes)
            raise self._fail('chunk %d is garbled (%s)' % (self.chunks + 1, exc.message)) from None
        if self.trailer is not None:
            raise self._fail('a chunk came after the SHA-256 trailer')
        self.chunks += 1
        if self.remaining == 0:  # the data is complete: this is the hash
            if remaining or len(blob) != HASH_SIZE:
                raise self._fail('expected the 32-byte SHA-256 trailer, got %d bytes' % len(blob))
            self.trailer = blob
            return
        if self.remaining is not None and self.remaining - len(blob) != remaining:
            raise self._fail('chunk of %d bytes announced %d bytes to follow, the one before %d'
                             % (len(blob), remaining, self.remaining))
        self.digest.update(blob)
        self.fileobj.write(blob)
        self.db_size += len(blob)
        self.remaining = remaining

    def finish(self) -> str:
        """After the last line: the database's SHA-256 (hex), written after it to the file.
        Raises :class:`EtcdSnapshotError` when the stream was cut short or the hash differs."""
        if self.remaining is None:
            raise self._fail('the stream held no data')
        if self.remaining:
            raise self._fail('the stream ended with %d bytes still announced' % self.remaining)
        if self.trailer is None:
            raise self._fail("the stream ended before etcd's SHA-256 trailer")
        if self.digest.digest() != self.trailer:
            raise self._fail('SHA-256 mismatch: the data hashes to %s, etcd sent %s'
                             % (self.digest.hexdigest(), self.trailer.hex()))
        self.fileobj.write(self.trailer)
        return self.trailer.hex()


# -- the revision inside the database (bbolt) ---------------------------------------------------
# bbolt layout (go.etcd.io/bbolt): pages of the size the meta page says; each starts with a
# 16-byte header (id u64, flags u16, count u16, overflow u32) followed by `count` 16-byte
# elements. Meta pages 0 and 1 hold (magic, version, page size, flags, root bucket (root pgid,
# sequence), freelist, pgid, txid, checksum); the valid one with the higher txid is current.
# Branch element: (pos u32, ksize u32, pgid u64); leaf element: (flags u32, pos u32, ksize u32,
# vsize u32); ``pos`` is relative to the element. A leaf element with flag 1 is a bucket whose
# value is (root pgid u64, sequence u64) and, when root is 0, the bucket's page inline after it.

_MAGIC = 0xED0CDAED
_BRANCH, _LEAF, _META = 0x01, 0x02, 0x04
_BUCKET_FLAG = 0x01
_MAX_DEPTH = 64


def _fnv64a(data: bytes) -> int:
    value = 0xcbf29ce484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return value


class _Bolt:
    def __init__(self, fileobj: IO[bytes], start: int, size: int):
        self.fileobj, self.start, self.size = fileobj, start, size
        self.page_size = 0

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset + length > self.size:
            raise ValueError('outside the database')
        self.fileobj.seek(self.start + offset)
        data = self.fileobj.read(length)
        if len(data) != length:
            raise ValueError('short read')
        return data

    def root(self) -> int:
        best = None
        first = self.read(16, 56 + 8)
        self.page_size = struct.unpack_from('<I', first, 8)[0]
        if not 512 <= self.page_size <= 1 << 20:
            raise ValueError('no bbolt meta page')
        for index in (0, 1):
            meta = self.read(index * self.page_size + 16, 64)
            magic, _version, _size, _flags, root, _seq, _free, _pgid, txid, checksum = struct.unpack('<IIII QQ QQQ Q', meta)
            if magic == _MAGIC and checksum == _fnv64a(meta[:56]) and (best is None or txid > best[0]):
                best = (txid, root)
        if best is None:
            raise ValueError('no valid bbolt meta page')
        return best[1]

    def page(self, pgid: int) -> bytes:
        header = self.read(pgid * self.page_size, 16)
        overflow = struct.unpack_from('<I', header, 12)[0]
        return self.read(pgid * self.page_size, (overflow + 1) * self.page_size)

    @staticmethod
    def elements(page: bytes):
        flags, count = struct.unpack_from('<HH', page, 8)
        for number in range(count):
            at = 16 + 16 * number
            if flags & _BRANCH:
                pos, ksize, pgid = struct.unpack_from('<IIQ', page, at)
                yield page[at + pos:at + pos + ksize], pgid, 0
            else:
                eflags, pos, ksize, vsize = struct.unpack_from('<IIII', page, at)
                yield page[at + pos:at + pos + ksize], page[at + pos + ksize:at + pos + ksize + vsize], eflags

    def find(self, page: bytes, key: bytes, depth: int = 0) -> Optional[bytes]:
        """The bucket value stored under ``key`` in the tree of ``page``."""
        if depth > _MAX_DEPTH:
            raise ValueError('bbolt tree too deep')
        flags = struct.unpack_from('<H', page, 8)[0]
        if flags & _BRANCH:
            child = None
            for element_key, pgid, _unused in self.elements(page):
                if element_key <= key or child is None:
                    child = pgid
            return None if child is None else self.find(self.page(child), key, depth + 1)
        for element_key, value, eflags in self.elements(page):
            if element_key == key and eflags & _BUCKET_FLAG:
                return value
        return None

    def last_key(self, page: bytes, depth: int = 0) -> Optional[bytes]:
        if depth > _MAX_DEPTH:
            raise ValueError('bbolt tree too deep')
        items = list(self.elements(page))
        if not items:
            return None
        flags = struct.unpack_from('<H', page, 8)[0]
        if flags & _BRANCH:
            return self.last_key(self.page(items[-1][1]), depth + 1)
        return items[-1][0]

    def bucket_page(self, value: bytes) -> bytes:
        root = struct.unpack_from('<Q', value, 0)[0]
        return value[16:] if root == 0 else self.page(root)


def bolt_revision(fileobj: IO[bytes], start: int, size: int) -> Optional[int]:
    """The store revision of the etcd database at ``start`` .. ``start + size`` of a readable,
    seekable ``fileobj``: the main revision of the last key of the ``key`` bucket (0 for a store
    never written to), as ``etcdutl snapshot status`` reports it. None when the data is not a
    bbolt database this reader understands (it never raises for that)."""
    bolt = _Bolt(fileobj, start, size)
    try:
        root = bolt.root()
        bucket = bolt.find(bolt.page(root), b'key')
        if bucket is None:
            return None
        last = bolt.last_key(bolt.bucket_page(bucket))
    except (ValueError, struct.error, OSError):
        return None
    if last is None:
        return 0
    if len(last) < 8:
        return None
    return struct.unpack_from('>q', last, 0)[0]
