# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the ``pyetcd.etcd.etcd`` lookup reads on the v3 store, and how it shapes the answers.

No Ansible here: the lookup plugin turns :class:`LookupReadError` and the client's exceptions
into ``AnsibleLookupError``. The rules:

* a term is a key, verbatim. When the key does not exist, the keys under ``term + '/'`` (under
  ``term`` itself when it already ends with ``/``) are read as a directory and returned as a
  nested dictionary; ``prefix`` reads every key starting with the term instead;
* all terms go in as few requests as possible: read-only transactions of range operations, at
  most ``max_txn_ops`` operations each. A second batched pass reads the directories of the terms
  whose key was missing, pinned to the revision of the first pass, so every term of one batch
  is read at one revision;
* values are text: a value that is not UTF-8 fails naming the key, unless metadata is asked
  for, which always carries the exact bytes in ``value_base64`` (and ``value`` null for them).
  A key name that is not UTF-8 fails naming it (as Python bytes notation).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.pyetcd.etcd.plugins.module_utils._v3 import txn
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.codec import display, encode
from ansible_collections.pyetcd.etcd.plugins.module_utils._v3.result import Event, KeyValue, RangeResult
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import (
    ClientException,
    EtcdException,
    EtcdInvalidResponse,
    EtcdPermissionDenied,
)

# How a term was found: its key, a directory under it, a prefix read, or nothing.
KEY, TREE, PREFIX, MISSING = 'key', 'tree', 'prefix', 'missing'


class LookupReadError(Exception):
    """A term cannot be returned as asked (a value that is not text, a key that is both a value
    and a directory). ``key`` names the key concerned."""

    def __init__(self, message: str, key: str):
        super().__init__(message)
        self.key = key


class ReadFailed(Exception):
    """The client failed while reading ``subject`` (a term, or the first term of a batch and how
    many more); ``cause`` is the client's exception, for the caller's one-line message."""

    def __init__(self, subject: str, cause: BaseException):
        super().__init__('reading key %s failed: %s' % (subject, cause))
        self.subject = subject
        self.cause = cause


@dataclass(frozen=True)
class ReadOptions:
    """The lookup options that change what is read and how it is returned."""

    prefix: bool = False
    flat: bool = False
    revision: int = 0
    serializable: bool = False
    metadata: bool = False


@dataclass
class TermRead:
    """What was found for one term: ``kind`` (KEY, TREE, PREFIX or MISSING), the key-values (in
    key order), the store ``revision`` the term was read at, and the member that answered."""

    term: str
    kind: str = MISSING
    kvs: Tuple[KeyValue, ...] = ()
    revision: int = 0
    endpoint: Optional[str] = None
    leases: Dict[int, Optional[int]] = field(default_factory=dict)

    @property
    def base(self) -> str:
        """The text the names of a nested dictionary are relative to."""
        return self.term if self.kind == PREFIX else tree_prefix(self.term)


def tree_prefix(term: str) -> str:
    """The prefix a term's directory is read from: ``term/``, or the term when it ends with ``/``."""
    return term if term.endswith('/') else term + '/'


def describe_terms(terms: Sequence[str]) -> str:
    """The terms of one request, for an error message: the first and how many more."""
    return terms[0] if len(terms) == 1 else '%s (and %d more terms)' % (terms[0], len(terms) - 1)


def batches(keys: Sequence[str], max_ops: int) -> List[List[int]]:
    """Positions of ``keys`` in transactions of at most ``max_ops`` ranges (``_v3.txn.chunks``)."""
    def cost(position: int) -> int:
        # base64 of the key (and of a range end as long) plus the JSON around them.
        return 2 * (len(keys[position].encode('utf-8')) * 4 // 3 + 4) + 80
    return txn.chunks(range(len(keys)), max_ops, cost)


class V3Reader:
    """Reads lookup terms through an ``Etcd3Client`` (opened and closed by the caller)."""

    def __init__(self, client: Any, options: ReadOptions):
        self.client = client
        self.options = options

    # -- reading ----------------------------------------------------------------------------

    def read(self, terms: Sequence[str]) -> List[TermRead]:
        """Every term, in order: one pass of batched ranges on the terms (their keys, or with
        ``prefix`` their prefixes), then one pass on the directories of the missing keys, at
        the revision each term's first batch was read at. Leases are asked for with metadata.

        :raises ReadFailed: naming the term(s) of the request that failed, with the client's
            error; a batch refused for permissions is read again term by term, so the error
            names the key it is about.
        """
        opts = self.options
        reads = [TermRead(term) for term in terms]
        ranges = [(term, opts.prefix, opts.revision) for term in terms]
        for position, (answer, revision, endpoint) in self._ranges(ranges).items():
            read = reads[position]
            read.revision, read.endpoint = revision, endpoint
            if opts.prefix:
                read.kind, read.kvs = PREFIX, answer.kvs
            elif answer.kvs:
                read.kind, read.kvs = KEY, answer.kvs[:1]
        missing = [position for position, read in enumerate(reads) if read.kind == MISSING]
        second = [(tree_prefix(reads[p].term), True, reads[p].revision) for p in missing]
        for index, (answer, _revision, endpoint) in self._ranges(second).items():
            read = reads[missing[index]]
            if answer.kvs:
                read.kind, read.kvs, read.endpoint = TREE, answer.kvs, endpoint
        if opts.metadata:
            self._lease_ttls(reads)
        return reads

    def _ranges(self, ranges: Sequence[Tuple[str, bool, int]]) -> Dict[int, Tuple[RangeResult, int, str]]:
        """Run ``(key, prefix, revision)`` ranges in read-only txns: ``{position: (answer, revision
        read at, endpoint)}``. Ranges of different revisions never share a txn."""
        found: Dict[int, Tuple[RangeResult, int, str]] = {}
        by_revision: Dict[int, List[int]] = {}
        for position, item in enumerate(ranges):
            by_revision.setdefault(item[2], []).append(position)
        for revision, positions in by_revision.items():
            keys = [ranges[p][0] for p in positions]
            for group in batches(keys, self.client.max_txn_ops):
                chosen = [positions[i] for i in group]
                found.update(self._txn([(p, ranges[p]) for p in chosen], revision))
        return found

    def _txn(self, items: List[Tuple[int, Tuple[str, bool, int]]], revision: int,
             split: bool = True) -> Dict[int, Tuple[RangeResult, int, str]]:
        ops = [txn.get_op(key, prefix=prefix, revision=revision, serializable=self.options.serializable)
               for _position, (key, prefix, _rev) in items]
        names = [key for _position, (key, _prefix, _rev) in items]
        subject = describe_terms(names)
        try:
            answer = txn.parse_txn(self.client.call('/kv/txn', txn.txn_request([], ops), write=False, subject=subject))
        except EtcdPermissionDenied as exc:
            if not split or len(items) == 1:
                raise ReadFailed(subject, exc) from None
            # etcd does not say which range it refused: one txn per term finds it.
            found = {}
            for item in items:
                found.update(self._txn([item], revision, split=False))
            return found
        except (EtcdException, ClientException) as exc:
            raise ReadFailed(subject, exc) from None
        endpoint = self.client.current_endpoint
        if len(answer.responses) != len(items) or not all(isinstance(r, RangeResult) for r in answer.responses):
            raise ReadFailed(subject, EtcdInvalidResponse('the answer holds %d range answers for %d ranges'
                                                          % (len(answer.responses), len(items)), endpoint=endpoint))
        read_at = revision or answer.header.revision
        return {position: (response, read_at, endpoint) for (position, _item), response in zip(items, answer.responses)}

    def _lease_ttls(self, reads: Iterable[TermRead]) -> None:
        """The seconds left of every lease the keys read hold (one request per distinct lease)."""
        reads = list(reads)
        ttls: Dict[int, Optional[int]] = {}
        for read in reads:
            for kv in read.kvs:
                if kv.lease and kv.lease not in ttls:
                    try:
                        ttls[kv.lease] = self.lease_ttl(kv.lease)
                    except (EtcdException, ClientException) as exc:
                        raise ReadFailed('%s (its lease %x)' % (display(kv.key_bytes), kv.lease), exc) from None
        for read in reads:
            read.leases = ttls

    def lease_ttl(self, lease: int) -> Optional[int]:
        """The seconds ``lease`` has left (0 when gone: expired this instant, or revoked, and the
        key goes with it); None for no lease."""
        if not lease:
            return None
        info = self.client.lease_time_to_live(lease)
        return 0 if info is None else info.ttl

    # -- shaping ----------------------------------------------------------------------------

    def value(self, read: TermRead) -> Any:
        """The lookup's item for a term that was found (not MISSING)."""
        opts = self.options
        if read.kind == KEY:
            kv = read.kvs[0]
            if opts.flat:
                return {key_text(kv): self._leaf(kv, read)}
            return self._leaf(kv, read)
        if opts.flat:
            return {key_text(kv): self._leaf(kv, read) for kv in read.kvs}
        tree = nest(read.kvs, read.base)
        if not opts.metadata:
            return _render(tree, lambda kv: self._leaf(kv, read))
        return _meta_dir(read.term, tree, lambda kv: self._leaf(kv, read), read.base, read.revision)

    def _leaf(self, kv: KeyValue, read: TermRead, action: str = 'get') -> Any:
        if not self.options.metadata:
            return text_value(kv)
        return leaf_metadata(kv, read.leases.get(kv.lease) if kv.lease else None, read.revision, action)

    def event_value(self, event: Event, revision: int) -> Any:
        """The lookup's item for the change a wait returned (a deletion has value None)."""
        kv = event.kv
        deleted = event.type == 'DELETE'
        if self.options.metadata:
            item = leaf_metadata(kv, None if deleted else self.lease_ttl(kv.lease), revision, event.type.lower())
            if deleted:
                item.update(value=None, value_base64=None)
        else:
            item = None if deleted else text_value(kv)
        return {key_text(kv): item} if self.options.flat else item

    # -- the read request of a wait -----------------------------------------------------------

    @staticmethod
    def watched(read: TermRead) -> Tuple[str, bool]:
        """What a wait on the term watches: ``(key, prefix)``. A prefix read watches the prefix, a
        directory the keys under it; a key, or a term not found, the key itself."""
        if read.kind == PREFIX:
            return read.term, True
        if read.kind == TREE:
            return read.base, True
        return read.term, False


def key_text(kv: KeyValue) -> str:
    """The key as text; a key that is not UTF-8 cannot be a name in the result."""
    key = kv.key
    if not isinstance(key, str):
        raise LookupReadError('key %s is not UTF-8 text; the lookup returns text keys only' % display(kv.key_bytes),
                              display(kv.key_bytes))
    return key


def text_value(kv: KeyValue) -> str:
    """The value as text; a value that is not UTF-8 is never returned altered."""
    value = kv.value
    if not isinstance(value, str):
        raise LookupReadError('the value of key %s is not UTF-8 text (%d bytes); use metadata=true to get its exact '
                              'bytes in value_base64' % (key_text(kv), len(kv.value_bytes)), key_text(kv))
    return value


def leaf_metadata(kv: KeyValue, ttl: Optional[int], revision: int, action: str) -> Dict[str, Any]:
    """One key as the metadata result has it: v3 names, the v2 names for the same revisions
    (``created_index``, ``modified_index``), the lease's seconds left in ``ttl``."""
    value = kv.value
    return dict(key=key_text(kv), dir=False, value=value if isinstance(value, str) else None,
                value_base64=encode(kv.value_bytes), create_revision=kv.create_revision,
                mod_revision=kv.mod_revision, version=kv.version, lease=kv.lease, ttl=ttl,
                created_index=kv.create_revision, modified_index=kv.mod_revision, revision=revision,
                action=action)


class _Tree(dict):
    """A directory of :func:`nest` (a dict of names to key-values or further _Tree)."""


def nest(kvs: Iterable[KeyValue], base: str) -> _Tree:
    """The key-values under ``base`` as nested dictionaries of the name parts between ``/``.

    The names are taken verbatim (``base//x`` has a part ``''``). A key that holds a value and
    also has keys under it cannot be both: :class:`LookupReadError` naming both keys.
    """
    root = _Tree()
    for kv in kvs:
        key = key_text(kv)
        parts = key[len(base):].split('/')
        node = root
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = _Tree()
            elif not isinstance(child, _Tree):
                raise _conflict(base + '/'.join(parts[:depth + 1]), key)
            node = child
        last = parts[-1]
        if last in node:
            raise _conflict(key, base + '/'.join(parts) + '/...')
        node[last] = kv
    return root


def _conflict(holder: str, below: str) -> LookupReadError:
    return LookupReadError('key %s holds a value and has keys under it (%s), so it cannot be a name of a nested '
                           'dictionary; read it with flat=true' % (holder, below), holder)


def _render(tree: _Tree, leaf: Any) -> Dict[str, Any]:
    return {name: _render(item, leaf) if isinstance(item, _Tree) else leaf(item) for name, item in tree.items()}


def _meta_dir(key: str, tree: _Tree, leaf: Any, base: str, revision: int) -> Dict[str, Any]:
    """A directory in the metadata result: its key, no value, its children by name."""
    children = {}
    for name, item in tree.items():
        children[name] = (_meta_dir(base + name, item, leaf, base + name + '/', revision)
                          if isinstance(item, _Tree) else leaf(item))
    return dict(key=key, dir=True, children=children, revision=revision, action='get')
