# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The layers of module_utils keep their dependencies pointing one way (read from the source, with ast).

modules and lookup -> _ansible/ -> _state/ -> (store adapter) -> _v2/ -> _transport/. Only
_ansible/ imports Ansible, and the planning layer knows no v2 wire parameter, so that a store
for another API can stand in for the v2 one.
"""
from __future__ import annotations

import ast
import os

import pytest

MODULE_UTILS = os.path.join(os.path.dirname(__file__), *(['..'] * 4), 'plugins', 'module_utils')
PACKAGE = 'ansible_collections.pyetcd.etcd.plugins.module_utils.'

# The v2 keys API's request parameters (the modules' option names are spelled differently).
WIRE_NAMES = ('prevExist', 'prevIndex', 'prevValue')
WIRE_WORDS = ('dir', 'recursive', 'refresh')


def sources(package):
    folder = os.path.normpath(os.path.join(MODULE_UTILS, package))
    found = sorted(name for name in os.listdir(folder) if name.endswith('.py'))
    assert '__init__.py' in found
    return [(name, ast.parse(open(os.path.join(folder, name), encoding='utf-8').read(), name)) for name in found]


def imported(tree):
    """Every module name an import statement of ``tree`` names (at any depth)."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, 'relative import'
            names.append(node.module or '')
    return names


@pytest.mark.parametrize('package', ['_transport', '_v2', '_v3', '_state'])
def test_nothing_below_the_ansible_layer_imports_ansible(package):
    offenders = [(name, module) for name, tree in sources(package) for module in imported(tree)
                 if module == 'ansible' or module.startswith('ansible.') or module.startswith(PACKAGE + '_ansible')
                 or module == PACKAGE + 'connection']
    assert not offenders


@pytest.mark.parametrize('package', ['_transport', '_v2', '_v3'])
def test_the_client_knows_nothing_of_the_layers_above(package):
    above = (PACKAGE + '_state', PACKAGE + '_ansible')
    assert not [(name, module) for name, tree in sources(package) for module in imported(tree) if module.startswith(above)]


def test_only_the_v2_store_knows_the_v2_client():
    users = sorted(name for name, tree in sources('_state')
                   if any(module.startswith((PACKAGE + '_v2', PACKAGE + 'client', PACKAGE + 'pyetcd', PACKAGE + 'result'))
                          for module in imported(tree)))
    assert users == ['store_v2.py']


def test_the_state_layer_spells_no_v2_wire_parameter():
    offenders = []
    for name, tree in sources('_state'):
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value in WIRE_WORDS or any(wire in node.value for wire in WIRE_NAMES):
                    offenders.append((name, node.lineno, node.value[:60]))
    assert not offenders


def test_the_new_packages_have_empty_init_files():
    for package in ('_transport', '_v2', '_state', '_ansible'):
        assert os.path.getsize(os.path.join(MODULE_UTILS, package, '__init__.py')) == 0
