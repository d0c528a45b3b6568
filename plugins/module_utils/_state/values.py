# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The value options of etcd_key and etcd_cas: the string etcd stores for each.

etcd stores strings. The modules take their value options as ``type: raw`` (Ansible's
``type: str`` would already have turned ``true`` into ``'True'``) and convert them here with
the rule etcd_dir uses for its content (:func:`dir_plan.content_value`): strings as given,
integers and floats as their decimal text, booleans as ``true``/``false``. Lists, dicts and
other structures are refused, naming the option, with a hint to pass them as JSON text.

How a value marked sensitive is kept out of the output is the module helper's job
(``EtcdModule.hide_options``).
"""
from __future__ import annotations

from typing import Any, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils._state.dir_plan import DirPlanError, content_value


class KeyValueError(ValueError):
    """An option value that etcd cannot store as given; the message names the option."""


def stored_value(value: Any, option: str) -> Optional[str]:
    """The string etcd should store for option ``option`` (None stays None: not given)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, set)):
        raise KeyValueError("%s is a list: etcd stores strings; pass it as JSON text, e.g. '{{ my_list | to_json }}'"
                            % option)
    if isinstance(value, dict):
        raise KeyValueError("%s is a dict: etcd stores strings; pass it as JSON text, e.g. '{{ my_dict | to_json }}', "
                            'or use pyetcd.etcd.etcd_dir for a tree of keys' % option)
    if not isinstance(value, (str, bool, int, float)):
        raise KeyValueError('%s has a value of type %s: give a string, number or boolean'
                            % (option, type(value).__name__))
    try:
        return content_value(value, option)
    except DirPlanError as exc:  # pragma: no cover - every scalar type is handled above
        raise KeyValueError('%s: %s' % (option, exc)) from exc
