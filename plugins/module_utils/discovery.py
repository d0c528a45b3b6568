# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The public import path of DNS SRV discovery: moved to ``_transport/discovery.py`` (kept here
so existing imports work)."""
from __future__ import annotations

from ansible_collections.pyetcd.etcd.plugins.module_utils._transport.discovery import (  # noqa: F401 pylint: disable=unused-import
    SRV_NAMES,
    order_records,
    srv_endpoints,
)

__all__ = ['SRV_NAMES', 'order_records', 'srv_endpoints']
