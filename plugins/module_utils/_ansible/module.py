# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every module of the collection does around its own logic: :class:`EtcdModule`.

It builds the ``AnsibleModule`` with the connection options and their ``required_together``
merged in, keeps the list of strings no message may show (the password and the values a task
marks sensitive), opens the client and its key store, and fails in one style for every error
(:func:`errors.describe_error`: key, endpoint, cause category, detail). A module's ``main()``
is then: options, what the task wants, ``ensure_*`` on the store, the result.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.errors import describe_error
from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.options import (
    CLIENT_ERRORS,
    V3,
    api_version,
    check_api_options,
    REQUESTS_IMPORT_ERROR,
    REQUIRED_TOGETHER,
    client_from_options,
    connection_argument_spec,
    insecure_warning,
    missing_requirement,
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.common import HIDDEN, StateError, absolute_key
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir import DirNotEmpty, DirWriteError
from ansible_collections.pyetcd.etcd.plugins.module_utils._state.store import KeyStore, open_store
from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.client import Client

# What a module reports as a failure: the client's errors and the state layer's.
ERRORS = CLIENT_ERRORS + (StateError,)


def client_from_module(module: Any, api: Optional[str] = None) -> Any:
    """Build a ``Client`` from an AnsibleModule's params, or fail the module with one line.

    Fails with ``missing_required_lib('requests')`` when requests is absent (the import error
    recorded at import time goes in ``exception``), and with the client's message for bad
    connection options. Never raises for those cases: ``fail_json`` exits.
    """
    problem = missing_requirement()
    if problem:
        module.fail_json(msg=problem, exception=REQUESTS_IMPORT_ERROR)
    get = module.params.get
    if api is not None:
        # A module that uses both APIs passes each client only its own options.
        other = {'v2': 'max_txn_ops', 'v3': 'version_prefix'}[api]

        def get(name: str) -> Any:
            if name == 'api_version':
                return api
            return None if name == other else module.params.get(name)
    try:
        client = client_from_options(get)
    except CLIENT_ERRORS as exc:
        module.fail_json(msg=describe_error(exc, hide=[module.params.get('password')]))
        raise  # unreachable: fail_json exits
    warning = insecure_warning(module.params.get, client)
    if warning:
        module.warn(warning)
    return client


class EtcdModule:
    """An ``AnsibleModule`` for etcd: the connection options, one hide list, one failure style.

    ``argument_spec`` holds the module's own options; the connection options are added. Every
    other keyword goes to ``AnsibleModule`` (``required_together`` is added to the connection
    options' own pairs). ``check_mode`` is supported unless ``supports_check_mode=False``.
    """

    def __init__(self, argument_spec: Dict[str, Dict[str, Any]], required_together: Optional[List[List[str]]] = None,
                 supports_check_mode: bool = True, **kwargs: Any):
        self.module = AnsibleModule(argument_spec=connection_argument_spec(**argument_spec),
                                    required_together=REQUIRED_TOGETHER + list(required_together or []),
                                    supports_check_mode=supports_check_mode, **kwargs)
        self.params = self.module.params
        self.hide: List[Optional[str]] = [self.params.get('password')]
        self._extra: Dict[str, Any] = {}
        self._client: Optional[Client] = None
        self._clients: Dict[str, Any] = {}

    @property
    def api_version(self) -> str:
        """``'v2'`` or ``'v3'`` (the ``api_version`` option)."""
        return api_version(self.params.get)

    @property
    def v3(self) -> bool:
        return self.api_version == V3

    def key(self, name: str = 'key') -> str:
        """The key option as the API names it: with one leading ``/`` on v2 (as the v2 API
        stores it), verbatim on v3, where ``foo`` and ``/foo`` are different keys."""
        value = self.params[name]
        return value if self.v3 else absolute_key(value)

    def refuse_other_api(self, v2_only: Iterable[str] = (), v3_only: Iterable[str] = ()) -> None:
        """Fail in one line when an option of the other API is used ("recursive needs api_version=v2")."""
        try:
            check_api_options(self.api_version, self.params, v2_only=v2_only, v3_only=v3_only)
        except ValueError as exc:
            self.fail('invalid argument: %s' % exc)

    def require_v3(self, module_name: str) -> None:
        """Fail in one line unless ``api_version`` is v3 (modules that exist only for the v3 API)."""
        if not self.v3:
            self.fail('invalid argument: %s needs api_version=v3 (set api_version: v3; it manages etcd v3 only)'
                      % module_name)

    @property
    def check_mode(self) -> bool:
        return self.module.check_mode

    @property
    def diff(self) -> bool:
        return self.module._diff  # pylint: disable=protected-access

    def hide_values(self, values: Iterable[Optional[str]]) -> None:
        """Mask these strings (values marked sensitive) in every failure message."""
        self.hide.extend(value for value in values if value not in (None, ''))

    def hide_options(self, names: Iterable[str]) -> None:
        """Show the given options as ``<hidden>`` in the returned ``invocation``.

        Call it once the real values are taken out of ``params``: Ansible returns
        ``module.params`` as the ``invocation`` (shown with ``-v``), on success and on every
        failure, so the values never reach the output. (Ansible's ``no_log_values`` would
        instead mask their text everywhere in the result, key names included.)
        """
        for name in names:
            if self.params.get(name) is not None:
                self.params[name] = HIDDEN

    def include(self, **fields: Any) -> None:
        """Return ``fields`` with every result and failure from now on (the key, a masked
        ``invocation`` that replaces Ansible's own, ...)."""
        self._extra.update(fields)

    def client(self, api: Optional[str] = None) -> Any:
        """The client for the connection options (built once), or fail the module.

        ``api`` (``'v2'``/``'v3'``) asks for that API's client whatever ``api_version`` says,
        for the modules that always use one API (etcd_snapshot) or both (etcd_migrate).
        """
        if api is not None:
            if api not in self._clients:
                self._clients[api] = client_from_module(self.module, api)
            return self._clients[api]
        if self._client is None:
            self._client = client_from_module(self.module)
        return self._client

    def store(self) -> KeyStore:
        """The key store of the planners on :meth:`client`."""
        return open_store(self.client())

    def message(self, exc: BaseException, key: Optional[str] = None) -> str:
        """The one-line failure message for ``exc`` about ``key``.

        A write that failed part-way (:class:`DirWriteError`) is described by its cause, on
        the key of the failed operation, followed by how far the run got.
        """
        if isinstance(exc, DirWriteError) and not isinstance(exc, DirNotEmpty):
            return '%s (%s)' % (describe_error(exc.cause, key=exc.operation.key, hide=self.hide), exc.progress)
        return describe_error(exc, key=key, hide=self.hide)

    def fail_from(self, exc: BaseException, key: Optional[str] = None, **result: Any) -> None:
        """Fail the task with :meth:`message` and ``result`` (never returns)."""
        self.fail(self.message(exc, key), **result)

    def fail(self, msg: str, **result: Any) -> None:
        self.module.fail_json(msg=msg, **dict(self._extra, **result))

    def warn(self, warning: str) -> None:
        self.module.warn(warning)

    def exit(self, **result: Any) -> None:
        self.module.exit_json(**dict(self._extra, **result))

    def exit_with_diff(self, result: Dict[str, Any]) -> None:
        """Exit with ``result``, whose ``diff`` is returned only when the task runs with ``--diff``."""
        diff = result.pop('diff', None)
        if self.diff and diff is not None:
            result['diff'] = diff
        self.exit(**result)
