# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The public import path of the v2 answers: ``EtcdResult`` and ``ResponseNode`` moved to
``_v2/result.py`` (kept here so existing imports work)."""
from __future__ import annotations

from ansible_collections.pyetcd.etcd.plugins.module_utils._v2.result import EtcdResult, ResponseNode  # noqa: F401 pylint: disable=unused-import

__all__ = ['EtcdResult', 'ResponseNode']
