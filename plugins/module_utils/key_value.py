# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Option values of etcd_key and etcd_cas: what is stored, and what is shown.

etcd stores strings. The modules take their value options as ``type: raw`` (Ansible's
``type: str`` would already have turned ``true`` into ``'True'``) and convert them here with
the rule etcd_dir uses for its content (:func:`dir_plan.content_value`): strings as given,
integers and floats as their decimal text, booleans as ``true``/``false``. Lists, dicts and
other structures are refused, naming the option, with a hint to pass them as JSON text.

A value marked sensitive is hidden by rendering it as ``<hidden>`` in the module's own
output and in the returned ``invocation`` (:func:`hide_in_invocation`). Adding it to Ansible's ``no_log_values``
instead would replace its text everywhere in the result, including inside key names
(``/app/ab/x`` with the value ``ab``).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

from ansible_collections.pyetcd.etcd.plugins.module_utils.connection import redact
from ansible_collections.pyetcd.etcd.plugins.module_utils.dir_plan import DirPlanError, content_value

HIDDEN = '<hidden>'


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


def hide_in_invocation(params: Dict[str, Any], secret_options: Iterable[str]) -> None:
    """Replace the given options of ``params`` (a module's ``module.params``) by ``<hidden>``.

    Called once the module has taken the real values out. Ansible returns ``module.params`` as
    the result's ``invocation`` (shown with ``-v``), on success and on every failure, including
    those of the shared connection code, so the values never reach the output.
    """
    for name in secret_options:
        if params.get(name) is not None:
            params[name] = HIDDEN


def hide_outside(message: str, keep: Optional[str], secrets: Iterable[Optional[str]]) -> str:
    """``message`` with every secret masked, except inside occurrences of the text ``keep``.

    ``keep`` is the key name: a short value such as ``ab`` must not blank out part of the key
    ``/app/ab/x`` in an error message, while the value itself, wherever etcd or the client
    echoed it, is still masked.
    """
    return redact(message, secrets, keep=[keep])
