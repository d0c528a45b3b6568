# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The names this file held, kept so that existing imports work; new code imports from ``_ansible/``.

Moved to ``_ansible/options.py``: the connection argument spec and the option translator.
Moved to ``_ansible/errors.py``: the one-line error messages. Moved to ``_ansible/module.py``:
building a client from a module (``EtcdModule.client`` does it for the collection's modules).
"""
from __future__ import annotations

# pylint: disable=unused-import
from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.errors import (  # noqa: F401
    describe_error,  # moved to _ansible/errors.py
    error_category,  # moved to _ansible/errors.py
    redact,  # moved to _ansible/errors.py
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.module import (  # noqa: F401
    client_from_module,  # moved to _ansible/module.py
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.options import (  # noqa: F401
    CONNECTION_ARGUMENT_SPEC,  # moved to _ansible/options.py
    DEFAULT_HOST,  # moved to _ansible/options.py
    DEFAULT_PORT,  # moved to _ansible/options.py
    ENV_VARS,  # moved to _ansible/options.py
    HAS_REQUESTS,  # moved to _ansible/options.py
    REQUESTS_IMPORT_ERROR,  # moved to _ansible/options.py
    client_errors,  # moved to _ansible/options.py (also as the tuple CLIENT_ERRORS)
    client_from_options,  # moved to _ansible/options.py
    client_kwargs,  # moved to _ansible/options.py
    connection_argument_spec,  # moved to _ansible/options.py
    insecure_warning,  # moved to _ansible/options.py
    missing_requirement,  # moved to _ansible/options.py
)
from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.options import (  # noqa: F401
    REQUIRED_TOGETHER as CONNECTION_REQUIRED_TOGETHER,  # moved to _ansible/options.py as REQUIRED_TOGETHER
)
