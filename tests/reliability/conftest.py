"""Fixtures and helpers for the reliability tests (faults, TLS, auth, concurrency, bad input).

Every test here talks to real etcd processes started by ``tests/harness``. The only stand-in
is the plain HTTP server of :func:`html_server`, because no etcd can play "a web server that is
not etcd".

The ``figures`` fixture counts what the tests did (faults injected, operations checked, inputs
tried, writes lost); the totals are printed at the end of the run and written to
``tests/output/reliability-figures.json`` for the README and the closing note.
"""
from __future__ import annotations

import collections
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
from typing import Dict, Iterator, List, Optional

import pytest

from tests.harness.etcd_server import EtcdServer
from tests.harness.tls import make_pki, server_tls

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_FIGURES: Dict[str, int] = collections.Counter()


class Figures:
    """Counters shared by all reliability tests of one run."""

    def add(self, name: str, amount: int = 1) -> None:
        _FIGURES[name] += amount


@pytest.fixture
def figures() -> Figures:
    return Figures()


def pytest_terminal_summary(terminalreporter):
    if not _FIGURES:
        return
    terminalreporter.section('reliability figures')
    for name in sorted(_FIGURES):
        terminalreporter.write_line('%-40s %d' % (name, _FIGURES[name]))
    out = os.path.join(ROOT, 'tests', 'output')
    try:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, 'reliability-figures.json'), 'w', encoding='utf-8') as handle:
            json.dump(dict(sorted(_FIGURES.items())), handle, indent=2)
    except OSError:
        pass


# -- TLS and auth servers ----------------------------------------------------------------------

@pytest.fixture(scope='session')
def pki(tmp_path_factory) -> Dict[str, str]:
    """Test CA, server and client certificates (plus an unrelated CA), made for this run."""
    return make_pki(str(tmp_path_factory.mktemp('pki')))


@pytest.fixture(scope='module')
def tls_server(pki) -> Iterator[EtcdServer]:
    """etcd 3.5 serving https only, demanding a client certificate signed by the test CA."""
    server = EtcdServer('3.5', tls=server_tls(pki, client_cert_auth=True))
    try:
        server.start()
        yield server
    finally:
        server.destroy()


# -- a web server that is not etcd -------------------------------------------------------------

class _HtmlHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request with an HTML page, 404 for paths under /v2 (like a web server)."""

    def _answer(self) -> None:
        body = b'<!DOCTYPE html><html><head><title>Welcome</title></head><body>It works!</body></html>\n'
        length = int(self.headers.get('Content-Length') or 0)
        if length:
            self.rfile.read(length)
        self.send_response(404 if self.path.startswith('/v2/') else 200)
        self.send_header('Content-Type', 'text/html; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = _answer

    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture(scope='module')
def html_server() -> Iterator[str]:
    """Base URL of a plain HTTP server answering HTML (a stand-in: a real etcd cannot be 'not etcd')."""
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _HtmlHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


# -- playbooks ---------------------------------------------------------------------------------

def run_playbook(playbook: str, workdir: str, extra_vars: Optional[dict] = None, extra_env: Optional[dict] = None,
                 check: bool = True, args: Optional[List[str]] = None) -> subprocess.CompletedProcess:
    """Run ``playbook`` (YAML text) with ansible-playbook on localhost; return the finished process.

    The collection comes from the per-checkout symlink of tests/conftest.py; ANSIBLE_HOME is a
    temp dir so nothing lands in the user's home. ``check`` is not --check: it means "raise if
    ansible-playbook itself could not run" (exit codes 0 and 2 are both fine).
    """
    path = os.path.join(workdir, 'play.yml')
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(playbook)
    inventory = os.path.join(workdir, 'inventory.yml')
    with open(inventory, 'w', encoding='utf-8') as handle:
        handle.write('all:\n  hosts:\n    localhost:\n      ansible_connection: local\n'
                     '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n')
    env = dict(os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': os.environ['PYETCD_COLLECTIONS_DIR'],
        'ANSIBLE_HOME': os.path.join(workdir, 'ansible-home'),
        'ANSIBLE_LOCAL_TEMP': os.path.join(workdir, 'ansible-tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_STDOUT_CALLBACK': 'default',
        'ANSIBLE_CALLBACK_RESULT_FORMAT': 'json',
        'ANSIBLE_DEPRECATION_WARNINGS': '0',
    })
    env.update(extra_env or {})
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory, path]
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    cmd += list(args or [])
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False)
    if check and proc.returncode not in (0, 2):
        raise AssertionError('ansible-playbook could not run (rc %d):\n%s\n%s' % (proc.returncode, proc.stdout, proc.stderr))
    return proc


@pytest.fixture
def playbook_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix='pyetcd-play-') as workdir:
        yield workdir


def failed_messages(output: str) -> List[str]:
    """The ``msg`` of every failed task in ansible-playbook's default (json result) output.

    Works at any verbosity: the JSON after ``FAILED! =>`` may be one line or indented.
    """
    decoder = json.JSONDecoder()
    messages = []
    marker = 'FAILED! => '
    position = output.find(marker)
    while position >= 0:
        start = position + len(marker)
        try:
            data, _end = decoder.raw_decode(output, start)
        except ValueError:
            messages.append(output[start:output.find('\n', start)])
        else:
            messages.append(str(data.get('msg', data)) if isinstance(data, dict) else str(data))
        position = output.find(marker, start)
    return messages
