"""Run one of the collection's modules as Ansible does: a separate Python process given JSON args.

The module reads ``{"ANSIBLE_MODULE_ARGS": {...}}`` from a file named on its command line and
prints its JSON result; this exercises the whole module (argument spec, fail_json messages,
check and diff mode) without the cost of an ansible-playbook run per case.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from typing import Any, Dict, Optional


def run_module(name: str, args: Dict[str, Any], check: bool = False, diff: bool = False,
               max_file_size: Optional[int] = None) -> Dict[str, Any]:
    """Run ``pyetcd.etcd.<name>`` with ``args``; returns the parsed result (``failed`` set on failure).

    ``max_file_size`` limits the bytes any file the module writes may hold (RLIMIT_FSIZE): a
    write beyond it fails as on a full disk (EFBIG; Python ignores SIGXFSZ).
    """
    collections = os.environ['PYETCD_COLLECTIONS_DIR']
    internal = {'_ansible_check_mode': check, '_ansible_diff': diff, '_ansible_tmpdir': None,
                '_ansible_remote_tmp': tempfile.gettempdir(), '_ansible_keep_remote_files': False}
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': dict(args, **internal)}, handle)
    try:
        env = dict(os.environ, PYTHONPATH=collections)
        limit = None
        if max_file_size is not None:
            def limit() -> None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_size, max_file_size))
        proc = subprocess.run([sys.executable, '-m', 'ansible_collections.pyetcd.etcd.plugins.modules.%s' % name,
                               handle.name], capture_output=True, text=True, env=env, timeout=120, check=False,
                              preexec_fn=limit)  # pylint: disable=subprocess-popen-preexec-fn
    finally:
        os.unlink(handle.name)
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError('module %s printed no JSON (rc %d): %s %s' % (name, proc.returncode, proc.stdout, proc.stderr))
    if 'Traceback' in proc.stdout + proc.stderr:
        raise AssertionError('module %s printed a traceback: %s %s' % (name, proc.stdout, proc.stderr))
    return result
