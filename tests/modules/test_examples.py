# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The EXAMPLES of every module run as a playbook against a real etcd.

The examples name hosts such as 127.0.0.1:2379 or https://etcd1.example.com; the test drops
every connection option from them (module args and module_defaults blocks) and points the whole
play at a fresh throwaway etcd through the action group instead, so what is checked is that each
example is valid YAML, uses real option names and values, and succeeds in that order.

Every module's examples run twice, on the v2 store and on the v3 store (``api_version`` set for
the play). An example that names ``api_version`` itself keeps it and runs only in the play of
that API: an example of a v2-only option says ``api_version: v2``.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.pyetcd.etcd.plugins.module_utils._ansible.options import CONNECTION_ARGUMENT_SPEC
from tests.harness.etcd_server import EtcdServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES_DIR = os.path.join(ROOT, 'plugins', 'modules')

# Variables the examples refer to, as a user's inventory or vault would provide them.
EXAMPLE_VARS = {
    'vault_db_password': 'example-secret',
    'etcd_password': 'example-password',
    'vault_etcd_root_password': 'example-root-password',
    'vault_etcd_app_password': 'example-app-password',
    'vault_etcd_batch_password': 'example-batch-password',
}


# Examples that only make sense against existing state (etcd_cas compares with a value or an
# index the reader is assumed to have seen) cannot run against an empty etcd; they are covered
# by that module's own tests instead.
NEEDS_PRIOR_STATE = {'etcd_cas'}


def modules() -> list:
    return sorted(name[:-3] for name in os.listdir(MODULES_DIR)
                  if name.endswith('.py') and not name.startswith('_') and name[:-3] not in NEEDS_PRIOR_STATE)


def examples_of(name: str) -> list:
    namespace: dict = {}
    with open(os.path.join(MODULES_DIR, name + '.py'), encoding='utf-8') as handle:
        source = handle.read()
    # Only the EXAMPLES assignment is evaluated, not the module.
    start = source.index('EXAMPLES = r')
    end = source.index("'''", source.index("'''", start) + 3) + 3
    exec(source[start:end], namespace)  # pylint: disable=exec-used
    return yaml.safe_load(namespace['EXAMPLES'])


# Connection options an example keeps: its API, and the credentials etcd_auth needs once it
# has turned authentication on (they are fine while it is off).
KEPT = {'api_version', 'username', 'password'}


def without_connection(task: dict) -> dict:
    task = dict(task)
    task.pop('module_defaults', None)
    for key, value in list(task.items()):
        if key.startswith('pyetcd.etcd.') and isinstance(value, dict):
            task[key] = {opt: val for opt, val in value.items() if opt not in CONNECTION_ARGUMENT_SPEC or opt in KEPT}
    for section in ('block', 'rescue', 'always'):
        if section in task:
            task[section] = [without_connection(sub) for sub in task[section]]
    return task


def api_of(task: dict) -> str:
    """The api_version an example names (None: it runs on both)."""
    for key, value in task.items():
        if key.startswith('pyetcd.etcd.') and isinstance(value, dict) and 'api_version' in value:
            return value['api_version']
    return None


def tasks_for(module: str, api: str) -> list:
    """The examples of ``module`` that run on ``api``: those naming no other API, minus the tasks
    that use what an example of the other API registered."""
    kept, dropped = [], set()
    for task in (without_connection(task) for task in examples_of(module)):
        other = api_of(task) not in (None, api)
        if not other and dropped and re.search(r'\b(%s)\b' % '|'.join(map(re.escape, dropped)), yaml.safe_dump(task)):
            other = True
        if other:
            if task.get('register'):
                dropped.add(task['register'])
            continue
        kept.append(task)
    return kept


def cases() -> list:
    return [pytest.param(module, api, id='%s-%s' % (module, api))
            for module in modules() for api in ('v2', 'v3') if tasks_for(module, api)]


def test_examples_cover_the_modules_of_this_issue():
    assert {'etcd_key', 'etcd_info'} <= set(modules())


def test_every_module_has_examples():
    for module in modules():
        assert examples_of(module), '%s has no EXAMPLES' % module


@pytest.mark.parametrize('module, api', cases())
def test_examples_run(module, api, tmp_path):
    tasks = tasks_for(module, api)
    server = EtcdServer('3.5').start()
    try:
        play = [{
            'name': 'EXAMPLES of %s' % module,
            'hosts': 'localhost',
            'gather_facts': False,
            'vars': dict(EXAMPLE_VARS, ansible_python_interpreter='{{ ansible_playbook_python }}', pyetcd_host=server.url,
                         pyetcd_api_version=api),
            'module_defaults': {'group/pyetcd.etcd.etcd': {'host': [server.url], 'timeout': 5, 'api_version': api}},
            'tasks': tasks,
        }]
        playbook = tmp_path / 'examples.yml'
        playbook.write_text(yaml.safe_dump(play, sort_keys=False))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.environ['PYETCD_COLLECTIONS_DIR'],
                   ANSIBLE_HOME=str(tmp_path / 'ansible-home'), ANSIBLE_NOCOLOR='1')
        bindir = os.path.dirname(sys.executable)
        proc = subprocess.run([os.path.join(bindir, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(playbook)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=600,
                              check=False)
    finally:
        server.destroy()
    assert proc.returncode == 0, proc.stdout[-8000:]
    assert 'failed=0' in proc.stdout
