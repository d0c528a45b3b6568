# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The public import path of the v2 client: ``from ...module_utils.client import Client``.

The code moved (kept here so existing imports work):

* ``Client``, ``DEFAULT_TIMEOUT``, ``DEFAULT_WATCH_TIMEOUT``: to ``_v2/client.py``;
* ``normalize_key``: to ``_v2/args.py``;
* ``HostSpec``, ``MAX_REQUEST_LINE``: to ``_transport/endpoints.py``;
* ``HAS_REQUESTS``: to ``_transport/transport.py``.
"""
from __future__ import annotations

# pylint: disable=unused-import
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.endpoints import HostSpec, MAX_REQUEST_LINE  # noqa: F401
from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.transport import HAS_REQUESTS  # noqa: F401
from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.args import normalize_key  # noqa: F401
from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.client import (  # noqa: F401
    DEFAULT_TIMEOUT,
    DEFAULT_WATCH_TIMEOUT,
    Client,
)

__all__ = ['Client', 'DEFAULT_TIMEOUT', 'DEFAULT_WATCH_TIMEOUT', 'HAS_REQUESTS', 'HostSpec', 'MAX_REQUEST_LINE',
           'normalize_key']
