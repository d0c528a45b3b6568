"""Fixtures for the lookup tests: the plugin loaded in-process, and ansible-playbook runs.

In-process runs load ``pyetcd.etcd.etcd`` through ansible-core's own plugin loader (so its
options come from its DOCUMENTATION and the doc fragments, as in a real play). Playbook runs
use the checkout through PYETCD_COLLECTIONS_DIR, a throwaway ANSIBLE_HOME and an inventory
that pins the interpreter to the one running the tests.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any, Callable, Dict, Optional

import pytest

# Environment variables that would change which etcd a lookup talks to.
_CONNECTION_ENV = ('PYETCD_HOST', 'PYETCD_PORT', 'PYETCD_PROTOCOL', 'PYETCD_SRV_DOMAIN', 'PYETCD_VERSION_PREFIX',
                   'PYETCD_ALLOW_RECONNECT', 'PYETCD_TIMEOUT', 'PYETCD_CA_CERT', 'PYETCD_CLIENT_CERT',
                   'PYETCD_CLIENT_KEY', 'PYETCD_VALIDATE_CERTS', 'PYETCD_USERNAME', 'PYETCD_PASSWORD',
                   'PYETCD_API_VERSION', 'PYETCD_MAX_TXN_OPS')

_LOADER_READY = False


def _plugin_loader():
    global _LOADER_READY  # pylint: disable=global-statement
    from ansible.plugins.loader import init_plugin_loader, lookup_loader  # pylint: disable=import-outside-toplevel
    if not _LOADER_READY:
        init_plugin_loader([os.environ['PYETCD_COLLECTIONS_DIR']])
        _adopt_collection_package()
        _LOADER_READY = True
    return lookup_loader


def _adopt_collection_package() -> None:
    """Give an already imported ``ansible_collections.pyetcd.etcd`` the metadata Ansible expects.

    Other test modules import the client with a plain sys.path import (see tests/conftest.py)
    before this loader exists, so the collection package object was made without ansible's
    collection loader and lacks the routing metadata (meta/runtime.yml) the loader attaches.
    Re-importing would duplicate every module (and exception class) those tests hold, so the
    metadata is attached to the existing package instead, read from the same file.
    """
    package = sys.modules.get('ansible_collections.pyetcd.etcd')
    if package is None or getattr(package, '_collection_meta', None) is not None:
        return
    # pylint: disable-next=import-outside-toplevel
    from ansible.utils.collection_loader._collection_meta import _meta_yml_to_dict
    runtime = os.path.join(os.environ['PYETCD_COLLECTIONS_DIR'], 'ansible_collections', 'pyetcd', 'etcd', 'meta', 'runtime.yml')
    with open(runtime, 'rb') as handle:
        package._collection_meta = _meta_yml_to_dict(handle.read(), ('pyetcd.etcd', 'runtime.yml'))


@pytest.fixture(autouse=True)
def _no_connection_env(monkeypatch):
    """A developer's own PYETCD_* settings must not leak into what a test talks to."""
    for name in _CONNECTION_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def lookup_instance():
    """A fresh instance of the lookup, loaded as Ansible loads it."""
    def make():
        plugin = _plugin_loader().get('pyetcd.etcd.etcd')
        assert plugin is not None, 'pyetcd.etcd.etcd not found by the plugin loader'
        return plugin
    return make


@pytest.fixture
def run_lookup(lookup_instance) -> Callable[..., Any]:
    """run_lookup(terms, variables=None, **options) -> the list the plugin returns."""
    def run(terms, variables: Optional[Dict[str, Any]] = None, **options):
        if isinstance(terms, str):
            terms = [terms]
        return lookup_instance().run(list(terms), variables=variables or {}, **options)
    return run


class PlaybookRun:
    """Runs ansible-playbook in a private directory (its own ansible.cfg, inventory, ANSIBLE_HOME)."""

    def __init__(self, workdir: str):
        self.workdir = workdir

    def __call__(self, playbook: str, cfg: str = '', env: Optional[Dict[str, str]] = None,
                 extra_args: tuple = ()) -> subprocess.CompletedProcess:
        with open(os.path.join(self.workdir, 'playbook.yml'), 'w', encoding='utf-8') as handle:
            handle.write(textwrap.dedent(playbook))
        with open(os.path.join(self.workdir, 'ansible.cfg'), 'w', encoding='utf-8') as handle:
            handle.write(textwrap.dedent(cfg))
        with open(os.path.join(self.workdir, 'inventory.yml'), 'w', encoding='utf-8') as handle:
            handle.write('all:\n  hosts:\n    localhost:\n      ansible_connection: local\n'
                         '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n')
        run_env = {name: value for name, value in os.environ.items()
                   if not name.startswith('ANSIBLE_') and name not in _CONNECTION_ENV}
        run_env.update({
            'ANSIBLE_COLLECTIONS_PATH': os.environ['PYETCD_COLLECTIONS_DIR'],
            'ANSIBLE_HOME': os.path.join(self.workdir, 'ansible-home'),
            'ANSIBLE_CONFIG': os.path.join(self.workdir, 'ansible.cfg'),
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
        })
        run_env.update(env or {})
        bindir = os.path.dirname(sys.executable)
        command = [os.path.join(bindir, 'ansible-playbook'), '-i', 'inventory.yml', 'playbook.yml', *extra_args]
        return subprocess.run(command, cwd=self.workdir, env=run_env, capture_output=True, text=True, timeout=300,
                              check=False)


@pytest.fixture
def playbook(tmp_path) -> PlaybookRun:
    """playbook(text, cfg='', env={}) runs ansible-playbook and returns the CompletedProcess."""
    return PlaybookRun(str(tmp_path))
