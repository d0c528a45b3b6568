# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pyetcd.etcd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark helper: record how long each task took, as JSON lines, for the bench/ scripts."""
from __future__ import annotations

import json
import os
import re
import time
import urllib.request

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r'''
name: bench_timer
type: aggregate
short_description: Write the wall time of every task to the file named by BENCH_TIMER_OUT
description:
  - Used by the scripts in bench/ only; not part of the collection's plugins.
  - Appends one JSON line per finished task, with the task name, its status, the seconds
    between the task's start and its result, and the wall-clock start and end.
  - When BENCH_ETCD_URL is set, also etcd's store counters (/v2/stats/store) read at the task's
    start and end, so the script can tell how many requests the task made.
  - When BENCH_GRPC_COUNTERS is also set, etcd's gRPC calls handled so far by method (the sum of
    grpc_server_handled_total in /metrics; v3 requests through the JSON gateway are counted there
    too), read at the task's start and end.
requirements:
  - enable with ANSIBLE_CALLBACKS_ENABLED=bench_timer and ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins
'''


class CallbackModule(CallbackBase):
    """Times tasks from v2_playbook_on_task_start to their result (one host per play here)."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._out = os.environ.get('BENCH_TIMER_OUT')
        self._etcd = os.environ.get('BENCH_ETCD_URL')
        self._start = 0.0
        self._wall = 0.0
        self._stats = None
        self._grpc_wanted = bool(self._etcd and os.environ.get('BENCH_GRPC_COUNTERS'))
        self._grpc = None

    def _store_stats(self):
        if not self._etcd:
            return None
        with urllib.request.urlopen(self._etcd + '/v2/stats/store', timeout=5) as resp:
            return json.loads(resp.read().decode())

    def _grpc_counters(self):
        """{method: calls handled} from etcd's /metrics (grpc_server_handled_total, every code)."""
        if not self._grpc_wanted:
            return None
        with urllib.request.urlopen(self._etcd + '/metrics', timeout=5) as resp:
            text = resp.read().decode()
        counts = {}
        for labels, value in re.findall(r'^grpc_server_handled_total\{([^}]*)\} (\S+)$', text, re.MULTILINE):
            method = re.search(r'grpc_method="([^"]*)"', labels)
            if method:
                counts[method.group(1)] = counts.get(method.group(1), 0) + int(float(value))
        return counts

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._stats = self._store_stats()
        self._grpc = self._grpc_counters()
        self._wall = time.time()
        self._start = time.perf_counter()

    def _record(self, result, status):
        if not self._out:
            return
        seconds = time.perf_counter() - self._start
        line = {'task': result.task_name, 'status': status, 'seconds': round(seconds, 4),
                'changed': bool(result._result.get('changed')),  # pylint: disable=protected-access
                'start': self._wall, 'end': self._wall + seconds,
                'stats_before': self._stats, 'stats_after': self._store_stats()}
        if self._grpc_wanted:
            line['grpc_before'], line['grpc_after'] = self._grpc, self._grpc_counters()
        with open(self._out, 'a', encoding='utf-8') as handle:
            handle.write(json.dumps(line) + '\n')

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')
