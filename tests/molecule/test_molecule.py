"""Run every molecule scenario under extensions/molecule/ against a real etcd.

Each directory there with a molecule.yml is one scenario; ``molecule test -s <name>`` runs its
whole sequence (cleanup, syntax, converge, idempotence, verify, cleanup; see
extensions/molecule/config.yml). The etcd comes from the harness (session server, etcd 3.5)
and reaches the playbooks as ETCD_URL; the collection is found through
ANSIBLE_COLLECTIONS_PATH, and ANSIBLE_HOME is a temporary directory so nothing is written to
the user's home.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIO_ROOT = os.path.join(ROOT, 'extensions', 'molecule')
ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')


def scenarios() -> list:
    if not os.path.isdir(SCENARIO_ROOT):
        return []
    return sorted(name for name in os.listdir(SCENARIO_ROOT)
                  if os.path.isfile(os.path.join(SCENARIO_ROOT, name, 'molecule.yml')))


def test_scenarios_are_discovered():
    assert {'etcd_key', 'etcd_info'} <= set(scenarios())


@pytest.mark.parametrize('scenario', scenarios())
def test_molecule_scenario(scenario, etcd35, tmp_path):
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ)
    env.update({
        'ETCD_URL': etcd35.url,
        'ANSIBLE_COLLECTIONS_PATH': os.environ['PYETCD_COLLECTIONS_DIR'],
        'ANSIBLE_HOME': str(tmp_path / 'ansible-home'),
        # molecule calls ansible-playbook and ansible-config by name: use this venv's.
        'PATH': bindir + os.pathsep + env.get('PATH', ''),
        'NO_COLOR': '1',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
    })
    proc = subprocess.run([os.path.join(bindir, 'molecule'), 'test', '-s', scenario], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200, check=False)
    output = ANSI.sub('', proc.stdout)
    assert proc.returncode == 0, 'molecule test -s %s exited %d:\n%s' % (scenario, proc.returncode, output[-20000:])
    # The sequence really ran its steps (a scenario missing a playbook would be "Missing playbook").
    for step in ('converge', 'idempotence', 'verify'):
        assert re.search(r'%s\s*\S*\s*%s: Executed: Successful' % (re.escape(scenario), step), output), \
            'step %s of %s did not run:\n%s' % (step, scenario, output[-5000:])
