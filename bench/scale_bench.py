#!/usr/bin/env python
"""Scale benchmark: how etcd_dir and the lookup grow with 100, 1,000 and 10,000 keys.

For each size N one playbook (ansible-playbook, local connection) runs against the same etcd:
  1. etcd_dir writes a tree of N keys (directories of 100 keys) into an empty path,
  2. etcd_dir again with the same content (nothing to change: one read),
  3. the lookup reads the whole directory back (one recursive read),
  4. the lookup reads the N keys as N terms of one call (N reads, one client).
Each task's wall time comes from the bench_timer callback (bench/callback_plugins). The number
of requests per task comes from etcd's own store counters (/v2/stats/store), and a separate run
at 1,000 keys goes through a counting TCP proxy to show how many connections each task opened.

Linear means the time per key stays flat as N grows: the script prints seconds per 1,000 keys
and the marginal cost between sizes. It asserts nothing; it prints figures.

Usage: scale_bench.py [--sizes 100,1000,10000] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
TASKS = ('etcd_dir first run', 'etcd_dir re-run', 'lookup directory', 'lookup keys')

PLAYBOOK = '''
- name: Scale benchmark, {keys} keys
  hosts: localhost
  gather_facts: false
  vars_files:
    - content.json
  tasks:
    - name: etcd_dir first run
      pyetcd.etcd.etcd_dir:
        host: "{{{{ etcd_host }}}}"
        path: "{{{{ base }}}}"
        content: "{{{{ content }}}}"
    - name: etcd_dir re-run
      pyetcd.etcd.etcd_dir:
        host: "{{{{ etcd_host }}}}"
        path: "{{{{ base }}}}"
        content: "{{{{ content }}}}"
    - name: lookup directory
      ansible.builtin.set_fact:
        tree: "{{{{ lookup('pyetcd.etcd.etcd', base, host=etcd_host) }}}}"
    - name: lookup keys
      ansible.builtin.set_fact:
        values: "{{{{ query('pyetcd.etcd.etcd', key_list, host=etcd_host) }}}}"
    - name: Check what was read back
      ansible.builtin.assert:
        that:
          - tree | length == {dirs}
          - values | length == {keys}
        quiet: true
'''


def tree(keys: int) -> Tuple[dict, List[str]]:
    """N keys in directories of 100: {'d000': {'k00': 'value-0', ...}, ...} and their paths."""
    content: Dict[str, Dict[str, str]] = {}
    paths = []
    for i in range(keys):
        directory, name = 'd%03d' % (i // 100), 'k%02d' % (i % 100)
        content.setdefault(directory, {})[name] = 'value-%d' % i
        paths.append('%s/%s' % (directory, name))
    return content, paths


class CountingProxy:
    """A loopback TCP relay to etcd that counts the connections clients open through it."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.stamps: List[float] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(('127.0.0.1', 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                client = self._listener.accept()[0]
            except OSError:
                return
            self.stamps.append(time.time())
            upstream = socket.create_connection(self.target)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop = True
        self._listener.close()


def run_playbook(keys: int, etcd_host: str, url: str, tag: str, proxy: 'CountingProxy | None' = None) -> Dict[str, dict]:
    """Run the playbook for N keys; per task: seconds, reads, writes (and connections)."""
    content, paths = tree(keys)
    base = '/bench-scale/%s-%d' % (tag, keys)
    work = tempfile.mkdtemp(prefix='pyetcd-scale-')
    with open(os.path.join(work, 'content.json'), 'w', encoding='utf-8') as handle:
        json.dump({'content': content, 'key_list': ['%s/%s' % (base, p) for p in paths], 'base': base,
                   'etcd_host': etcd_host}, handle)
    with open(os.path.join(work, 'site.yml'), 'w', encoding='utf-8') as handle:
        handle.write(PLAYBOOK.format(keys=keys, dirs=len(content)))
    with open(os.path.join(work, 'inventory.yml'), 'w', encoding='utf-8') as handle:
        handle.write('all:\n  hosts:\n    localhost:\n      ansible_connection: local\n'
                     '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n')
    timer = os.path.join(work, 'times.jsonl')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=benchlib.collections_dir(), ANSIBLE_HOME=os.path.join(work, 'home'),
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'), ANSIBLE_CALLBACKS_ENABLED='bench_timer',
               BENCH_TIMER_OUT=timer, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false')
    env['BENCH_ETCD_URL'] = url
    playbook_bin = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    proc = subprocess.run([playbook_bin, '-i', 'inventory.yml', 'site.yml'], cwd=work, env=env, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit('scale playbook for %d keys failed:\n%s' % (keys, proc.stdout.decode('utf-8', 'replace')[-3000:]))
    with open(timer, encoding='utf-8') as handle:
        lines = [json.loads(line) for line in handle]
    results = {}
    for line in lines:
        if line['task'] not in TASKS:
            continue
        before, after = line['stats_before'], line['stats_after']
        row = {'seconds': line['seconds'], 'changed': line['changed'],
               'reads': after['getsSuccess'] - before['getsSuccess'],
               'writes': benchlib.v2_writes(before, after)}
        if proxy:
            row['connections'] = sum(1 for stamp in proxy.stamps if line['start'] <= stamp <= line['end'])
        results[line['task']] = row
    subprocess.run(['rm', '-rf', work], check=False)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--sizes', default='100,1000,10000')
    parser.add_argument('--json', help='write the results here (read by run_all.py)')
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(',')]
    url, host, port = benchlib.etcd_endpoint()
    print('scale benchmark against etcd %s at %s; %s' % (benchlib.etcd_version(url), url, benchlib.machine()))

    run_playbook(100, '%s:%d' % (host, port), url, 'warmup')  # caches warm, imports compiled
    timings: Dict[int, Dict[str, dict]] = {}
    for size in sizes:
        timings[size] = run_playbook(size, '%s:%d' % (host, port), url, 'run')

    proxy = CountingProxy(host, port)
    try:
        conns = run_playbook(1000, '127.0.0.1:%d' % proxy.port, url, 'proxy', proxy)
    finally:
        proxy.close()

    rows = []
    print('\nwall time per task (s), and seconds per 1,000 keys')
    print('%-20s' % 'task' + ''.join('%16s' % ('%d keys' % s) for s in sizes))
    for task in TASKS:
        cells = []
        for size in sizes:
            row = timings[size][task]
            cells.append('%7.2f (%5.2f)' % (row['seconds'], row['seconds'] * 1000.0 / size))
            rows.append(dict(row, name=task, keys=size))
        print('%-20s' % task + ''.join('%16s' % c for c in cells))
    print('\nrequests per task (reads/writes) from etcd\'s store counters')
    for task in TASKS:
        print('%-20s' % task + ''.join('%16s' % ('%s/%s' % (timings[s][task].get('reads', '?'), timings[s][task].get('writes', '?')))
                                       for s in sizes))
    print('\nTCP connections opened per task at 1,000 keys (through a counting proxy)')
    for task in TASKS:
        print('  %-20s %s' % (task, conns[task].get('connections', '?')))

    ratios: Dict[str, float] = {}
    if len(sizes) >= 2:
        small, large = sizes[-2], sizes[-1]
        for task in ('etcd_dir first run', 'lookup keys', 'lookup directory'):
            # Marginal cost per key between the two largest sizes over the cost per key at the
            # second largest: about 1 (or below, with fixed costs spread) means linear.
            t_small, t_large = timings[small][task]['seconds'], timings[large][task]['seconds']
            marginal = (t_large - t_small) / (large - small)
            ratios['%s: per-key cost %d->%d keys / per-key cost at %d' % (task, small, large, small)] = round(
                marginal / (t_small / small), 2)
    print('\nlinearity (marginal per-key cost over average per-key cost; 1 = linear, < 1 = fixed costs amortised):')
    for name, value in ratios.items():
        print('  %-70s %5.2f' % (name, value))
    for task in TASKS:
        rows.append({'name': task, 'keys': 1000, 'connections': conns[task].get('connections'), 'proxy': True,
                     'seconds': conns[task]['seconds']})
    benchlib.write_json(args.json, 'Scale: etcd_dir and the lookup at %s keys' % ', '.join(str(s) for s in sizes),
                        rows, ratios, ['one playbook per size; wall time per task from a callback',
                                       'connections counted at 1,000 keys through a loopback proxy'], url)
    return 0


if __name__ == '__main__':
    sys.exit(main())
