# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Save a v3 snapshot to a file, atomically: the logic behind the etcd_snapshot module.

The client streams and checks the snapshot (``Etcd3Client.snapshot``: chunk framing and etcd's
trailing SHA-256); this file decides whether one is taken at all, and makes sure ``dest`` only
ever holds a whole, checked snapshot: the stream goes to a temporary file next to ``dest``,
which is flushed to disk and renamed over ``dest`` only once the client accepted the stream. Any
failure (a cut stream, a hash mismatch, a full disk) removes the temporary file and leaves
``dest`` as it was.

An existing ``dest`` is a backup: without ``force`` it is kept (a re-run of a playbook that took
a backup before a change must not overwrite it with a snapshot taken after the change). It is
checked (its trailing SHA-256 must match its data) and described instead.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import StateError
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.snapshot import HASH_SIZE, bolt_revision

_BLOCK = 1024 * 1024


class SnapshotFileError(StateError):
    """``dest`` cannot be written, or holds something that is not an intact snapshot."""

    def __init__(self, message: str, category: str = 'snapshot file'):
        super().__init__(message, category=category)


@dataclass
class SnapshotOutcome:
    """What ensure_snapshot did: ``changed`` (a new snapshot was, or in check mode would be,
    written) and the facts of the file at ``dest``."""

    changed: bool
    dest: str
    size: Optional[int] = None
    sha256: Optional[str] = None
    revision: Optional[int] = None
    member: Optional[str] = None
    reason: str = ''

    def result(self) -> Dict[str, Any]:
        return dict(changed=self.changed, dest=self.dest, size=self.size, sha256=self.sha256, revision=self.revision,
                    member=self.member, msg=self.reason)


def describe_file(path: str) -> Dict[str, Any]:
    """Size, SHA-256 and store revision of the snapshot file at ``path``, after checking that its
    last 32 bytes are the SHA-256 of the rest (what etcd sends and ``etcdutl`` checks).

    :raises SnapshotFileError: it is too short or the hash does not match.
    """
    size = os.path.getsize(path)
    if size <= HASH_SIZE:
        raise SnapshotFileError('%s is not an etcd snapshot: %d bytes' % (path, size))
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        left = size - HASH_SIZE
        while left:
            block = handle.read(min(_BLOCK, left))
            if not block:
                raise SnapshotFileError('%s changed while it was read' % path)
            digest.update(block)
            left -= len(block)
        trailer = handle.read(HASH_SIZE)
        if digest.digest() != trailer:
            raise SnapshotFileError('%s is not an intact etcd snapshot: its data hashes to %s, its trailer says %s'
                                    % (path, digest.hexdigest(), trailer.hex()))
        revision = bolt_revision(handle, 0, size - HASH_SIZE)
    return {'size': size, 'sha256': trailer.hex(), 'revision': revision}


def ensure_snapshot(client: Any, dest: str, force: bool = False, check_mode: bool = False,
                    finish: Optional[Callable[[str], None]] = None) -> SnapshotOutcome:
    """Take a snapshot into ``dest`` unless a checked one is there and ``force`` is false.

    ``finish(temp_path)`` runs on the complete temporary file before the rename (the module sets
    the file's mode and owner there). Raises :class:`SnapshotFileError` for file problems and
    the client's exceptions for etcd's.
    """
    dest = os.path.abspath(dest)
    if os.path.isdir(dest):
        raise SnapshotFileError('dest %s is a directory; give the path of the snapshot file' % dest, 'invalid argument')
    directory = os.path.dirname(dest)
    if not os.path.isdir(directory):
        raise SnapshotFileError('the directory of dest does not exist: %s' % directory, 'invalid argument')
    if os.path.exists(dest) and not force:
        try:
            facts = describe_file(dest)
        except SnapshotFileError as exc:
            raise SnapshotFileError('%s; it is kept: remove it, or set force: true to replace it' % exc) from None
        return SnapshotOutcome(False, dest, member=None, reason='dest holds an intact snapshot; kept (force: true takes a new one)',
                               **facts)
    if check_mode:
        return SnapshotOutcome(True, dest, reason='a snapshot would be written (check mode)')
    try:
        handle, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(dest), suffix='.part', dir=directory)
    except OSError as exc:
        raise SnapshotFileError('cannot create a file next to %s: %s' % (dest, exc.strerror or exc)) from None
    try:
        with os.fdopen(handle, 'w+b') as fileobj:
            info = client.snapshot(fileobj)
            fileobj.flush()
            os.fsync(fileobj.fileno())
        if finish is not None:
            finish(temp)
        os.replace(temp, dest)
    except OSError as exc:
        _remove(temp)
        raise SnapshotFileError('cannot write the snapshot to %s: %s' % (dest, exc.strerror or exc)) from None
    except BaseException:
        _remove(temp)
        raise
    _sync_directory(directory)
    return SnapshotOutcome(True, dest, size=info.size, sha256=info.sha256, revision=info.revision, member=info.endpoint,
                           reason='snapshot written')


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _sync_directory(directory: str) -> None:
    # The rename is durable only once the directory entry is on disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
