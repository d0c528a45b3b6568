#!/usr/bin/env python
"""Modules benchmark: etcd_dir writing N keys in one task vs N etcd_key tasks in a loop.

One ansible-playbook run (local connection, pipelining on for every task so the loop gets its
best case) against one etcd, in this order:
  1. etcd_dir writes a tree of N keys (directories of 100 keys) into an empty path,
  2. etcd_dir again with the same content (nothing to change),
  3. etcd_dir writes the same tree into another empty path with concurrency 1 (one write at a
     time, to show what the thread pool adds),
  4. etcd_key in a loop of N items writes the same N keys into a third empty path.
Each task's wall time comes from the bench_timer callback (bench/callback_plugins); its reads
and writes from etcd's own store counters (/v2/stats/store) read before and after the task,
so the claim "the no-change re-run is one read" is checked on the server, not in the module.
Afterwards all three trees are read back over HTTP and compared with the content.

Prints the figures and the ratio loop / etcd_dir (target: at least 50x) and writes them to
--json (default bench/results/modules.json). Asserts nothing about speed.

Usage: modules_bench.py [--keys 1000] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from typing import Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_JSON = os.path.join(HERE, 'results', 'modules.json')
DIR_FIRST = 'etcd_dir first run'
DIR_RERUN = 'etcd_dir re-run'
DIR_SERIAL = 'etcd_dir first run, concurrency 1'
KEY_LOOP = 'etcd_key loop'
TASKS = (DIR_FIRST, DIR_RERUN, DIR_SERIAL, KEY_LOOP)

PLAYBOOK = '''
- name: Modules benchmark, {keys} keys
  hosts: localhost
  gather_facts: false
  vars_files:
    - data.json
  module_defaults:
    group/pyetcd.etcd.etcd:
      host: "{{{{ etcd_host }}}}"
  tasks:
    - name: {dir_first}
      pyetcd.etcd.etcd_dir:
        path: "{{{{ base }}}}/dir"
        content: "{{{{ content }}}}"
      register: first
    - name: {dir_rerun}
      pyetcd.etcd.etcd_dir:
        path: "{{{{ base }}}}/dir"
        content: "{{{{ content }}}}"
      register: rerun
    - name: {dir_serial}
      pyetcd.etcd.etcd_dir:
        path: "{{{{ base }}}}/serial"
        content: "{{{{ content }}}}"
        concurrency: 1
    - name: {key_loop}
      pyetcd.etcd.etcd_key:
        key: "{{{{ base }}}}/loop/{{{{ item.key }}}}"
        value: "{{{{ item.value }}}}"
      loop: "{{{{ pairs }}}}"
    - name: Check what the etcd_dir runs reported
      ansible.builtin.assert:
        that:
          - first is changed and first.writes == {keys}
          - rerun is not changed and rerun.writes == 0
        quiet: true
'''


def tree(keys: int) -> Tuple[Dict[str, Dict[str, str]], List[dict]]:
    """N keys in directories of 100, as etcd_dir content and as etcd_key loop items."""
    content: Dict[str, Dict[str, str]] = {}
    pairs = []
    for i in range(keys):
        directory, name = 'd%03d' % (i // 100), 'k%02d' % (i % 100)
        content.setdefault(directory, {})[name] = 'value-%d' % i
        pairs.append({'key': '%s/%s' % (directory, name), 'value': 'value-%d' % i})
    return content, pairs


def read_back(url: str, path: str) -> Dict[str, Dict[str, str]]:
    """The tree at ``path`` read over plain HTTP, as nested dicts of values."""
    with urllib.request.urlopen('%s/v2/keys%s?recursive=true' % (url, path), timeout=30) as resp:
        node = json.loads(resp.read().decode())['node']

    def walk(current):
        return {child['key'].rsplit('/', 1)[-1]: walk(child) if child.get('dir') else child['value']
                for child in current.get('nodes', [])}
    return walk(node)


def run_playbook(keys: int, etcd_host: str, url: str, base: str) -> Dict[str, dict]:
    """Run the benchmark playbook; per task: seconds, changed, reads and writes."""
    content, pairs = tree(keys)
    work = tempfile.mkdtemp(prefix='pyetcd-modules-bench-')
    try:
        with open(os.path.join(work, 'data.json'), 'w', encoding='utf-8') as handle:
            json.dump({'content': content, 'pairs': pairs, 'base': base, 'etcd_host': etcd_host}, handle)
        with open(os.path.join(work, 'site.yml'), 'w', encoding='utf-8') as handle:
            handle.write(PLAYBOOK.format(keys=keys, dir_first=DIR_FIRST, dir_rerun=DIR_RERUN, dir_serial=DIR_SERIAL,
                                         key_loop=KEY_LOOP))
        with open(os.path.join(work, 'inventory.yml'), 'w', encoding='utf-8') as handle:
            handle.write('all:\n  hosts:\n    localhost:\n      ansible_connection: local\n'
                         '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n')
        timer = os.path.join(work, 'times.jsonl')
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=benchlib.collections_dir(),
                   ANSIBLE_HOME=os.path.join(work, 'home'), ANSIBLE_PIPELINING='true',
                   ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'),
                   ANSIBLE_CALLBACKS_ENABLED='bench_timer', BENCH_TIMER_OUT=timer, BENCH_ETCD_URL=url,
                   ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false')
        playbook_bin = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
        proc = subprocess.run([playbook_bin, '-i', 'inventory.yml', 'site.yml'], cwd=work, env=env, check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise SystemExit('modules benchmark playbook failed:\n%s' % proc.stdout.decode('utf-8', 'replace')[-4000:])
        with open(timer, encoding='utf-8') as handle:
            lines = [json.loads(line) for line in handle]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {}
    for line in lines:
        if line['task'] not in TASKS:
            continue
        before, after = line['stats_before'], line['stats_after']
        results[line['task']] = {
            'seconds': line['seconds'], 'changed': line['changed'],
            'reads': after['getsSuccess'] - before['getsSuccess'],
            'writes': benchlib.v2_writes(before, after),
        }
    for name in ('dir', 'serial', 'loop'):
        if read_back(url, '%s/%s' % (base, name)) != content:
            raise SystemExit('the %s tree read back from etcd differs from the content' % name)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--keys', type=int, default=1000)
    parser.add_argument('--json', default=DEFAULT_JSON, help='write the results here (default %(default)s)')
    args = parser.parse_args(argv)
    url, host, port = benchlib.etcd_endpoint()
    print('modules benchmark, %d keys, against etcd %s at %s; %s'
          % (args.keys, benchlib.etcd_version(url), url, benchlib.machine()), flush=True)

    base = '/bench-modules/%d-%d' % (os.getpid(), args.keys)
    timings = run_playbook(args.keys, '%s:%d' % (host, port), url, base)

    print('\n%-36s %10s %10s %8s %8s %8s' % ('task', 'seconds', 'ms/key', 'changed', 'reads', 'writes'))
    rows = []
    for task in TASKS:
        row = timings[task]
        print('%-36s %10.2f %10.2f %8s %8d %8d' % (task, row['seconds'], row['seconds'] * 1000.0 / args.keys,
                                                   row['changed'], row['reads'], row['writes']))
        rows.append(dict(row, name=task, keys=args.keys))

    loop, first = timings[KEY_LOOP]['seconds'], timings[DIR_FIRST]['seconds']
    ratios = {
        'etcd_key loop / etcd_dir first run': round(loop / first, 1),
        'etcd_key loop / etcd_dir re-run': round(loop / timings[DIR_RERUN]['seconds'], 1),
        'etcd_dir concurrency 1 / concurrency 8': round(timings[DIR_SERIAL]['seconds'] / first, 2),
    }
    rerun = timings[DIR_RERUN]
    print('\nratios (same run):')
    for name, value in ratios.items():
        print('  %-42s %8.1fx' % (name, value))
    print('  target: etcd_key loop / etcd_dir first run >= 50x: %s'
          % ('met' if ratios['etcd_key loop / etcd_dir first run'] >= 50 else 'NOT met'))
    print('  etcd_dir no-change re-run: %d read(s), %d write(s) (etcd store counters): %s'
          % (rerun['reads'], rerun['writes'], 'one read, no write' if (rerun['reads'], rerun['writes']) == (1, 0)
             else 'NOT one read'))

    notes = [
        'One ansible-playbook run, local connection, ANSIBLE_PIPELINING=true for every task.',
        'Reads/writes per task from etcd /v2/stats/store (getsSuccess; every write counter).',
        'etcd_dir re-run of %d keys: %d read(s), %d write(s).' % (args.keys, rerun['reads'], rerun['writes']),
    ]
    benchlib.write_json(args.json, 'Modules: etcd_dir vs a loop of etcd_key (%d keys)' % args.keys, rows, ratios,
                        notes, url)
    if args.json:
        print('\nresults written to %s' % os.path.relpath(args.json))
    return 0


if __name__ == '__main__':
    sys.exit(main())
