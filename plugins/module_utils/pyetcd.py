# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The public pyetcd API in one import.

``from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd import Client, EtcdKeyNotFound``
gives the client, the result classes and every exception, as the pyetcd package names them.
"""
from __future__ import annotations

# pylint: disable=unused-import,wildcard-import,unused-wildcard-import
from ansible_collections.pyetcd.etcd.plugins.module_utils import exceptions as _exceptions
from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.args import normalize_key  # noqa: F401
from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.client import Client  # noqa: F401
from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.result import EtcdResult, ResponseNode  # noqa: F401
from ansible_collections.pyetcd.etcd.plugins.module_utils.exceptions import *  # noqa: F401,F403

__all__ = ['Client', 'normalize_key', 'EtcdResult', 'ResponseNode'] + list(_exceptions.__all__)
