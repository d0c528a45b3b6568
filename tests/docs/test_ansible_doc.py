"""ansible-doc renders every module and the lookup of the collection, as users will see them.

Runs the real ansible-doc of the test environment against the checkout (through the per-checkout
collections directory), once as text and once as JSON, and checks that nothing is missing:
every plugin file is listed, no warning or error is printed, each option from the shared
connection fragment appears, and the examples and return values made it through.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Dict, List

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_DOC = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
CONNECTION_OPTIONS = ('host', 'port', 'protocol', 'timeout', 'ca_cert', 'client_cert', 'client_key',
                      'validate_certs', 'username', 'password')


def _plugins(kind: str) -> List[str]:
    directory = os.path.join(ROOT, 'plugins', kind)
    return sorted(name[:-3] for name in os.listdir(directory) if name.endswith('.py') and not name.startswith('_'))


MODULES = _plugins('modules')
LOOKUPS = _plugins('lookup')


def ansible_doc(*args: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith('ANSIBLE_')}
    env.update(ANSIBLE_COLLECTIONS_PATH=os.environ['PYETCD_COLLECTIONS_DIR'], ANSIBLE_NOCOLOR='1',
               ANSIBLE_HOME=os.path.join(tempfile.gettempdir(), 'pyetcd-ansible-doc-home'),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false')
    return subprocess.run([ANSIBLE_DOC, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def test_every_plugin_file_is_found():
    assert MODULES, 'no modules found in plugins/modules'
    assert LOOKUPS, 'no lookup found in plugins/lookup'
    listed: Dict[str, List[str]] = {}
    for kind in ('module', 'lookup'):
        proc = ansible_doc('-t', kind, '-l', 'pyetcd.etcd', '--json')
        assert proc.returncode == 0, proc.stderr
        listed[kind] = sorted(name.split('.')[-1] for name in json.loads(proc.stdout))
    assert listed['module'] == MODULES
    assert listed['lookup'] == LOOKUPS


@pytest.fixture(scope='module')
def docs() -> Dict[str, dict]:
    """ansible-doc --json of every plugin, one call per plugin type."""
    found: Dict[str, dict] = {}
    for kind, names in (('module', MODULES), ('lookup', LOOKUPS)):
        proc = ansible_doc('-t', kind, '--json', *['pyetcd.etcd.%s' % name for name in names])
        assert proc.returncode == 0, proc.stderr
        assert '[WARNING]' not in proc.stderr and '[ERROR]' not in proc.stderr, proc.stderr
        found.update(json.loads(proc.stdout))
    return found


@pytest.mark.parametrize('kind,name', [('module', m) for m in MODULES] + [('lookup', lk) for lk in LOOKUPS])
def test_renders_without_warnings(kind, name, docs):  # pylint: disable=redefined-outer-name
    fqcn = 'pyetcd.etcd.%s' % name
    text = ansible_doc('-t', kind, fqcn)
    assert text.returncode == 0, text.stderr
    # ansible-doc still prints a page when part of the documentation is broken; it warns instead.
    assert '[WARNING]' not in text.stderr and '[ERROR]' not in text.stderr, text.stderr
    assert fqcn in text.stdout

    data = docs[fqcn]
    doc = data['doc']
    assert doc['short_description'].strip()
    assert doc.get('version_added'), 'no version_added on %s' % fqcn
    for option in CONNECTION_OPTIONS:
        assert option in doc['options'], '%s lacks the shared connection option %s' % (fqcn, option)
    for option, spec in doc['options'].items():
        assert spec.get('description'), '%s: option %s has no description' % (fqcn, option)
    assert data.get('examples') and data['examples'].strip(), '%s has no EXAMPLES' % fqcn
    assert data.get('return'), '%s has no RETURN' % fqcn
    # The modules' and the lookup's pages point at each other.
    assert doc.get('seealso'), '%s has no seealso' % fqcn
    if kind == 'module':
        attributes = doc.get('attributes') or {}
        for attribute in ('check_mode', 'diff_mode', 'action_group'):
            assert attribute in attributes, '%s does not declare attributes.%s' % (fqcn, attribute)
