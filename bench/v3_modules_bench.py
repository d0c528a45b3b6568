#!/usr/bin/env python
"""v3 modules benchmark: etcd_dir and the lookup on api_version v3, against community.general.

Real ansible-playbook runs (local connection, ANSIBLE_PIPELINING=true for every task), all
against one etcd 3.5 started with --enable-v2=true, in one run. Each round of the playbook has,
interleaved (every round writes into new, empty paths):

  1. ``etcd_dir`` (api_version v3) writing N keys (directories of 100 keys) in one task, then a
     loop of N ``community.general.etcd3`` module tasks writing the same keys and values under
     another prefix; the no-change re-run of each (same content again).
  2. ``pyetcd.etcd.etcd`` lookup (api_version=v3) reading N keys as N terms of one call, and
     community.general's ``etcd3`` lookup reading the same N keys (N terms of one call).
  3. A prefix of P keys (10,000 by default) read by our v3 lookup in one call
     (``prefix=true, flat=true``), and by community.general's ``etcd3`` lookup
     (``prefix=true``), for comparison.
  4. ``etcd_dir`` v3 vs ``etcd_dir`` v2 on the same N-key tree: first run and no-change re-run.

The loop of N community.general.etcd3 tasks costs minutes per run, so it runs in the first
``--loop-rounds`` rounds only (default 1); everything else runs in every round (--rounds, default
3). Figures are medians over the rounds; every ratio is between figures of this run.

Each task's wall time comes from the bench_timer callback (bench/callback_plugins), which also
reads, at the task's start and end, etcd's gRPC calls handled by method
(``grpc_server_handled_total`` in /metrics: the JSON gateway our v3 client talks to turns each
HTTP request into one gRPC call, so those are counted there too) and the v2 store counters
(/v2/stats/store) for the v2 tasks: requests per task are counted on the server.

Before any figure is reported, the keys each writer left in etcd are read back and compared with
the content, and the lookups' answers are compared with each other (in the playbook).

community.general's etcd3 module and lookup need python-etcd3 (etcd3 0.12.0), whose generated
protobuf modules only load on protobuf's pure-Python implementation with a current protobuf:
this script sets PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python for ansible-playbook (and so for
every module it runs), as users of that module on a current protobuf must.

While our v3 ``etcd_dir`` or v3 lookup is not there (a probe playbook tries one key of each),
their tasks are left out and reported as not yet measured; community.general's side still runs.

Usage: v3_modules_bench.py [--keys 1000] [--prefix-keys 10000] [--rounds 3] [--loop-rounds 1]
                           [--json PATH]
With ETCD_URL unset, a throwaway etcd 3.5 is started through tests/harness.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from typing import Dict, List, Optional, Tuple

# Before anything imports google.protobuf, here and in every module ansible-playbook runs.
os.environ.setdefault('PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION', 'python')

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  pylint: disable=wrong-import-position

benchlib.collections_dir()

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_JSON = os.path.join(HERE, 'results', 'v3modules.json')

# Contenders (task names without the round prefix).
DIR3_FIRST = 'etcd_dir v3 first run'
DIR3_RERUN = 'etcd_dir v3 re-run'
DIR2_FIRST = 'etcd_dir v2 first run'
DIR2_RERUN = 'etcd_dir v2 re-run'
CG_LOOP_FIRST = 'community.general.etcd3 loop first run'
CG_LOOP_RERUN = 'community.general.etcd3 loop re-run'
LOOKUP_OURS = 'lookup v3, N keys in one call'
LOOKUP_CG = 'community.general.etcd3 lookup, N keys in one call'
PREFIX_OURS = 'lookup v3, prefix of P keys'
PREFIX_CG = 'community.general.etcd3 lookup, prefix of P keys'
# Ansible's own cost of such a task, without etcd: a lookup returning the same N terms, and a
# P-entry dictionary read from a local JSON file.
FLOOR_KEYS = 'floor: set_fact of a lookup returning N terms (ansible.builtin.items)'
FLOOR_PREFIX = 'floor: set_fact of a P-entry dict from a local JSON file'
OURS = (DIR3_FIRST, DIR3_RERUN, DIR2_FIRST, DIR2_RERUN, LOOKUP_OURS, PREFIX_OURS)
ORDER = (DIR3_FIRST, CG_LOOP_FIRST, DIR2_FIRST, DIR3_RERUN, CG_LOOP_RERUN, DIR2_RERUN,
         LOOKUP_OURS, LOOKUP_CG, FLOOR_KEYS, PREFIX_OURS, PREFIX_CG, FLOOR_PREFIX)
# Which of our plugins each of our contenders needs on api_version v3 (see probe()).
NEEDS = {DIR3_FIRST: 'etcd_dir', DIR3_RERUN: 'etcd_dir', LOOKUP_OURS: 'lookup', PREFIX_OURS: 'lookup'}

RATIO_DIR_FIRST = 'community.general.etcd3 loop / etcd_dir v3, first run'
RATIO_DIR_RERUN = 'community.general.etcd3 loop / etcd_dir v3, re-run'
RATIO_LOOKUP = 'community.general.etcd3 lookup / our v3 lookup, keys in one call'
RATIO_PREFIX = 'community.general.etcd3 lookup / our v3 lookup, prefix read'
RATIO_V2_FIRST = 'etcd_dir v2 / etcd_dir v3, first run'
RATIO_V2_RERUN = 'etcd_dir v2 / etcd_dir v3, re-run'
TARGETS = {RATIO_DIR_FIRST: 200.0, RATIO_DIR_RERUN: 200.0, RATIO_LOOKUP: 10.0}

INVENTORY = ('all:\n  hosts:\n    localhost:\n      ansible_connection: local\n'
             '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n')

HEADER = '''
- name: v3 modules benchmark
  hosts: localhost
  gather_facts: false
  vars_files:
    - data.json
  module_defaults:
    group/pyetcd.etcd.etcd:
      host: "{{ etcd_host }}"
  tasks:
'''

# One block per contender; {r} is the round, {base} that round's v3 prefix, {base2} its v2 path.
TASK_YAML = {
    DIR3_FIRST: '''
    - name: "r{r}: etcd_dir v3 first run"
      pyetcd.etcd.etcd_dir:
        api_version: v3
        path: "{base}/dir3"
        content: "{{{{ content }}}}"
      register: dir3_first_{r}
''',
    DIR3_RERUN: '''
    - name: "r{r}: etcd_dir v3 re-run"
      pyetcd.etcd.etcd_dir:
        api_version: v3
        path: "{base}/dir3"
        content: "{{{{ content }}}}"
      register: dir3_rerun_{r}
''',
    DIR2_FIRST: '''
    - name: "r{r}: etcd_dir v2 first run"
      pyetcd.etcd.etcd_dir:
        api_version: v2
        path: "{base2}/dir2"
        content: "{{{{ content }}}}"
      register: dir2_first_{r}
''',
    DIR2_RERUN: '''
    - name: "r{r}: etcd_dir v2 re-run"
      pyetcd.etcd.etcd_dir:
        api_version: v2
        path: "{base2}/dir2"
        content: "{{{{ content }}}}"
      register: dir2_rerun_{r}
''',
    CG_LOOP_FIRST: '''
    - name: "r{r}: community.general.etcd3 loop first run"
      community.general.etcd3:
        host: "{{{{ etcd_hostname }}}}"
        port: "{{{{ etcd_port }}}}"
        key: "{base}/cg/{{{{ item.key }}}}"
        value: "{{{{ item.value }}}}"
        state: present
      loop: "{{{{ pairs }}}}"
      register: cg_first_{r}
''',
    CG_LOOP_RERUN: '''
    - name: "r{r}: community.general.etcd3 loop re-run"
      community.general.etcd3:
        host: "{{{{ etcd_hostname }}}}"
        port: "{{{{ etcd_port }}}}"
        key: "{base}/cg/{{{{ item.key }}}}"
        value: "{{{{ item.value }}}}"
        state: present
      loop: "{{{{ pairs }}}}"
      register: cg_rerun_{r}
''',
    LOOKUP_OURS: '''
    - name: "r{r}: lookup v3, N keys in one call"
      ansible.builtin.set_fact:
        ours_keys_{r}: "{{{{ query('pyetcd.etcd.etcd', *lookup_keys, api_version='v3', host=etcd_host) }}}}"
''',
    LOOKUP_CG: '''
    - name: "r{r}: community.general.etcd3 lookup, N keys in one call"
      ansible.builtin.set_fact:
        cg_keys_{r}: "{{{{ query('community.general.etcd3', *lookup_keys, host=etcd_hostname, port=etcd_port) }}}}"
''',
    FLOOR_KEYS: '''
    - name: "r{r}: floor: set_fact of a lookup returning N terms (ansible.builtin.items)"
      ansible.builtin.set_fact:
        floor_keys_{r}: "{{{{ query('ansible.builtin.items', *lookup_keys) }}}}"
''',
    FLOOR_PREFIX: '''
    - name: "r{r}: floor: set_fact of a P-entry dict from a local JSON file"
      ansible.builtin.set_fact:
        floor_prefix_{r}: "{{{{ lookup('ansible.builtin.file', 'prefix.json') | from_json }}}}"
''',
    PREFIX_OURS: '''
    - name: "r{r}: lookup v3, prefix of P keys"
      ansible.builtin.set_fact:
        ours_prefix_{r}: "{{{{ lookup('pyetcd.etcd.etcd', prefix_term, prefix=true, flat=true, api_version='v3',
                                     host=etcd_host) }}}}"
''',
    PREFIX_CG: '''
    - name: "r{r}: community.general.etcd3 lookup, prefix of P keys"
      ansible.builtin.set_fact:
        cg_prefix_{r}: "{{{{ query('community.general.etcd3', prefix_term, prefix=true, host=etcd_hostname,
                                   port=etcd_port) }}}}"
''',
}

# What each round checks after its timed tasks (never timed: the name is not a contender's).
CHECKS = {
    DIR3_FIRST: 'dir3_first_{r} is changed',
    DIR3_RERUN: 'dir3_rerun_{r} is not changed',
    DIR2_FIRST: 'dir2_first_{r} is changed and dir2_first_{r}.writes == {keys}',
    DIR2_RERUN: 'dir2_rerun_{r} is not changed and dir2_rerun_{r}.writes == 0',
    CG_LOOP_FIRST: 'cg_first_{r}.results | selectattr("changed") | list | length == {keys}',
    CG_LOOP_RERUN: 'cg_rerun_{r}.results | selectattr("changed") | list | length == 0',
    LOOKUP_OURS: 'ours_keys_{r} == lookup_values',
    LOOKUP_CG: 'cg_keys_{r} | map(attribute="value") | list == lookup_values',
    PREFIX_OURS: 'ours_prefix_{r} | length == {prefix_keys}',
    PREFIX_CG: 'cg_prefix_{r} | length == {prefix_keys}',
    FLOOR_KEYS: 'floor_keys_{r} | length == {keys}',
    FLOOR_PREFIX: 'floor_prefix_{r} | length == {prefix_keys}',
}


def tree(keys: int) -> Tuple[Dict[str, Dict[str, str]], List[dict]]:
    """N keys in directories of 100, as etcd_dir content and as loop items (name, value)."""
    content: Dict[str, Dict[str, str]] = {}
    pairs = []
    for i in range(keys):
        directory, name = 'd%03d' % (i // 100), 'k%02d' % (i % 100)
        content.setdefault(directory, {})[name] = 'value-%d' % i
        pairs.append({'key': '%s/%s' % (directory, name), 'value': 'value-%d' % i})
    return content, pairs


def playbook_env(work: str, url: str, timer: str) -> Dict[str, str]:
    # This checkout first, then the `ansible` package's collections (community.general) of this
    # venv; nothing else from sys.path.
    paths = os.pathsep.join([benchlib.collections_dir(), sysconfig.get_paths()['purelib']])
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=paths,
                ANSIBLE_HOME=os.path.join(work, 'home'), ANSIBLE_PIPELINING='true',
                ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'),
                ANSIBLE_CALLBACKS_ENABLED='bench_timer', BENCH_TIMER_OUT=timer, BENCH_ETCD_URL=url,
                BENCH_GRPC_COUNTERS='1', ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
                PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION='python')


def run_playbook(text: str, data: dict, url: str, what: str, check: bool = True,
                 files: Optional[Dict[str, object]] = None) -> Tuple[int, str, List[dict]]:
    """Run one playbook; (returncode, output, the bench_timer lines)."""
    work = tempfile.mkdtemp(prefix='pyetcd-v3modules-bench-')
    try:
        for name, value in (files or {}).items():
            with open(os.path.join(work, name), 'w', encoding='utf-8') as handle:
                json.dump(value, handle)
        with open(os.path.join(work, 'data.json'), 'w', encoding='utf-8') as handle:
            json.dump(data, handle)
        with open(os.path.join(work, 'site.yml'), 'w', encoding='utf-8') as handle:
            handle.write(text)
        with open(os.path.join(work, 'inventory.yml'), 'w', encoding='utf-8') as handle:
            handle.write(INVENTORY)
        timer = os.path.join(work, 'times.jsonl')
        playbook_bin = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
        proc = subprocess.run([playbook_bin, '-i', 'inventory.yml', 'site.yml'], cwd=work,
                              env=playbook_env(work, url, timer), check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = proc.stdout.decode('utf-8', 'replace')
        if check and proc.returncode != 0:
            raise SystemExit('%s playbook failed:\n%s' % (what, output[-6000:]))
        lines = []
        if os.path.exists(timer):
            with open(timer, encoding='utf-8') as handle:
                lines = [json.loads(line) for line in handle]
        return proc.returncode, output, lines
    finally:
        shutil.rmtree(work, ignore_errors=True)


def probe(url: str, etcd_host: str, base: str) -> Dict[str, bool]:
    """Whether our etcd_dir and lookup work on api_version v3 here (one key each)."""
    text = HEADER + '''
    - name: probe etcd_dir
      pyetcd.etcd.etcd_dir:
        api_version: v3
        path: "{base}/probe"
        content: {{k: v}}
      register: probe_dir
      ignore_errors: true
    - name: probe lookup
      ansible.builtin.set_fact:
        probe_lookup: "{{{{ query('pyetcd.etcd.etcd', '{base}/seed-probe', api_version='v3', host=etcd_host) }}}}"
      ignore_errors: true
      register: probe_lookup_result
    - name: report
      ansible.builtin.debug:
        msg: "PROBE dir={{{{ probe_dir is succeeded }}}} lookup={{{{ probe_lookup_result is succeeded and
              (probe_lookup | default([])) == ['probe-value'] }}}}"
'''.format(base=base)
    _code, output, _lines = run_playbook(text, {'etcd_host': etcd_host}, url, 'probe', check=False)
    found = {'etcd_dir': False, 'lookup': False}
    for line in output.splitlines():
        if 'PROBE dir=' in line:
            found['etcd_dir'] = 'dir=True' in line
            found['lookup'] = 'lookup=True' in line
    return found


def v3_prefix(host: str, port: int, prefix: str) -> Dict[str, str]:
    """Every key under ``prefix`` in the v3 store, read with our client (not timed)."""
    from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client  # pylint: disable=import-outside-toplevel
    client = Etcd3Client(host, port)
    found = {}
    for item in client.get_prefix(prefix):
        key, value = item.key, item.value
        found[key.decode() if isinstance(key, bytes) else key] = value.decode() if isinstance(value, bytes) else value
    return found


def seed_v3(host: str, port: int, items: List[Tuple[str, str]]) -> None:
    from ansible_collections.pyetcd.etcd.plugins.module_utils.pyetcd3 import Etcd3Client  # pylint: disable=import-outside-toplevel
    Etcd3Client(host, port).put_many(items)


def v2_tree(url: str, path: str) -> Dict[str, Dict[str, str]]:
    import urllib.request  # pylint: disable=import-outside-toplevel
    with urllib.request.urlopen('%s/v2/keys%s?recursive=true' % (url, path), timeout=30) as resp:
        node = json.loads(resp.read().decode())['node']

    def walk(current):
        return {child['key'].rsplit('/', 1)[-1]: walk(child) if child.get('dir') else child['value']
                for child in current.get('nodes', [])}
    return walk(node)


def counts(line: dict) -> Dict[str, int]:
    """Requests a task made, counted by etcd: gRPC calls by method, v2 reads and writes."""
    result: Dict[str, int] = {}
    before, after = line.get('grpc_before') or {}, line.get('grpc_after') or {}
    for method in sorted(set(before) | set(after)):
        delta = after.get(method, 0) - before.get(method, 0)
        if delta:
            result['grpc %s' % method] = delta
    stats_before, stats_after = line['stats_before'], line['stats_after']
    # getsSuccess only: etcd counts a failed get for every create of a new key (its existence
    # check), so getsFail would count writes again.
    reads = stats_after['getsSuccess'] - stats_before['getsSuccess']
    writes = benchlib.v2_writes(stats_before, stats_after)
    if reads:
        result['v2 reads'] = reads
    if writes:
        result['v2 writes'] = writes
    return result


def in_process(etcd_host: str, host: str, port: int, lookup_keys: List[str], lookup_values: List[str],
               prefix_term: str, prefix_keys: int, rounds: int, ours: bool) -> Dict[str, List[float]]:
    """The same lookups called through ansible-core's plugin loader in this process, as
    lookup_bench.py does: what each plugin itself costs, without the task around it."""
    import time  # pylint: disable=import-outside-toplevel
    from ansible.plugins.loader import lookup_loader  # pylint: disable=import-outside-toplevel
    theirs = lookup_loader.get('community.general.etcd3')
    mine = lookup_loader.get('pyetcd.etcd.etcd') if ours else None
    calls = [(LOOKUP_CG, lambda: [item['value'] for item in theirs.run(lookup_keys, variables={}, host=host, port=port)],
              lookup_values),
             (PREFIX_CG, lambda: len(theirs.run([prefix_term], variables={}, host=host, port=port, prefix=True)),
              prefix_keys)]
    if mine is not None:
        calls = [(LOOKUP_OURS, lambda: mine.run(lookup_keys, variables={}, host=etcd_host, api_version='v3'),
                  lookup_values), calls[0],
                 (PREFIX_OURS, lambda: len(mine.run([prefix_term], variables={}, host=etcd_host, api_version='v3',
                                                    prefix=True, flat=True)[0]), prefix_keys), calls[1]]
    times: Dict[str, List[float]] = {}
    for _round in range(rounds):
        for name, call, expected in calls:
            start = time.perf_counter()
            got = call()
            times.setdefault(name, []).append(time.perf_counter() - start)
            if got != expected:
                raise SystemExit('in-process %s returned something else than expected' % name)
    return times


def version_of(dist: str) -> str:
    try:
        from importlib.metadata import version  # pylint: disable=import-outside-toplevel
        return version(dist)
    except Exception:  # pylint: disable=broad-except
        return '?'


def collection_version(name: str) -> str:
    namespace, collection = name.split('.')
    for entry in sys.path:
        path = os.path.join(entry, 'ansible_collections', namespace, collection, 'MANIFEST.json')
        if os.path.exists(path):
            with open(path, encoding='utf-8') as handle:
                return json.load(handle)['collection_info']['version']
    return '?'


def fmt_counts(found: Dict[str, int]) -> str:
    return ', '.join('%s %d' % (name, value) for name, value in found.items()) or '-'


def main(argv=None) -> int:  # pylint: disable=too-many-locals,too-many-branches,too-many-statements
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--keys', type=int, default=1000)
    parser.add_argument('--prefix-keys', type=int, default=10000)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--loop-rounds', type=int, default=1,
                        help='rounds that include the community.general.etcd3 loops (minutes each)')
    parser.add_argument('--json', default=DEFAULT_JSON, help='write the results here (default %(default)s)')
    args = parser.parse_args(argv)
    # ansible-core's collection loader first: it must own ansible_collections before this script
    # imports our client from it (seeding, reading back) or loads the lookups in-process.
    from ansible.plugins.loader import init_plugin_loader  # pylint: disable=import-outside-toplevel
    init_plugin_loader([benchlib.collections_dir()])
    url, host, port = benchlib.etcd_endpoint()
    etcd_host = '%s:%d' % (host, port)
    versions = {'ansible-core': version_of('ansible-core'), 'community.general': collection_version('community.general'),
                'etcd3 (python-etcd3)': version_of('etcd3'), 'grpcio': version_of('grpcio'),
                'protobuf': '%s (%s)' % (version_of('protobuf'), os.environ['PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION'])}
    print('v3 modules benchmark, %d keys, prefix of %d, %d rounds (community.general loops in %d), against etcd %s at %s'
          % (args.keys, args.prefix_keys, args.rounds, args.loop_rounds, benchlib.etcd_version(url), url))
    print('%s; %s' % (benchlib.machine(), ', '.join('%s %s' % item for item in versions.items())), flush=True)

    run_id = '%d' % os.getpid()
    v3base = 'bench-v3modules/%s' % run_id
    v2base = '/bench-v3modules/%s' % run_id
    seed_v3(host, port, [('%s/seed-probe' % v3base, 'probe-value')])
    available = probe(url, etcd_host, v3base)
    print('our v3 plugins available: %s' % ', '.join('%s %s' % (k, 'yes' if v else 'no') for k, v in available.items()),
          flush=True)
    contenders = [name for name in ORDER if name not in NEEDS or available[NEEDS[name]]]
    missing = [name for name in ORDER if name not in contenders]

    content, pairs = tree(args.keys)
    lookup_keys = ['%s/lookup/k%04d' % (v3base, i) for i in range(args.keys)]
    lookup_values = ['value-%04d' % i for i in range(args.keys)]
    prefix_term = '%s/prefix/' % v3base
    seed_v3(host, port, list(zip(lookup_keys, lookup_values)))
    seed_v3(host, port, [('%sk%05d' % (prefix_term, i), 'value-%05d' % i) for i in range(args.prefix_keys)])

    tasks, checks = [], []
    for r in range(1, args.rounds + 1):
        base, base2 = '%s/r%d' % (v3base, r), '%s/r%d' % (v2base, r)
        for name in contenders:
            if name in (CG_LOOP_FIRST, CG_LOOP_RERUN) and r > args.loop_rounds:
                continue
            tasks.append(TASK_YAML[name].format(r=r, base=base, base2=base2))
            checks.append(CHECKS[name].format(r=r, keys=args.keys, prefix_keys=args.prefix_keys))
    text = HEADER + ''.join(tasks) + '''
    - name: Check what every contender reported and read
      ansible.builtin.assert:
        that:
%s
        quiet: true
''' % '\n'.join("          - '%s'" % check.replace("'", "''") for check in checks)
    data = {'content': content, 'pairs': pairs, 'etcd_host': etcd_host, 'etcd_hostname': host, 'etcd_port': port,
            'lookup_keys': lookup_keys, 'lookup_values': lookup_values, 'prefix_term': prefix_term}
    prefix_floor = {'%sk%05d' % (prefix_term, i): 'value-%05d' % i for i in range(args.prefix_keys)}
    _code, _output, lines = run_playbook(text, data, url, 'benchmark', files={'prefix.json': prefix_floor})

    # Every writer's keys, read back from etcd and compared with the content.
    expected = {'%s/%s' % (pair['key'].split('/')[0], pair['key'].split('/')[1]): pair['value'] for pair in pairs}
    for r in range(1, args.rounds + 1):
        base = '%s/r%d' % (v3base, r)
        writers = [('dir3', DIR3_FIRST), ('cg', CG_LOOP_FIRST)]
        for sub, name in writers:
            if name not in contenders or (name == CG_LOOP_FIRST and r > args.loop_rounds):
                continue
            got = v3_prefix(host, port, '%s/%s/' % (base, sub))
            want = {'%s/%s/%s' % (base, sub, key): value for key, value in expected.items()}
            if got != want:
                raise SystemExit('the v3 keys written by %s (round %d) differ from the content: %d keys, e.g. %s'
                                 % (name, r, len(got), sorted(got)[:3]))
        if DIR2_FIRST in contenders and v2_tree(url, '%s/r%d/dir2' % (v2base, r)) != content:
            raise SystemExit('the v2 tree written by etcd_dir v2 (round %d) differs from the content' % r)

    samples: Dict[str, List[float]] = {}
    requests: Dict[str, Dict[str, int]] = {}
    for line in lines:
        round_name, _sep, name = line['task'].partition(': ')
        if name not in ORDER or not round_name.startswith('r'):
            continue
        samples.setdefault(name, []).append(line['seconds'])
        requests[name] = counts(line)  # the same in every round; the last one is shown

    direct = in_process(etcd_host, host, port, lookup_keys, lookup_values, prefix_term, args.prefix_keys, args.rounds,
                        available['lookup'])

    def median(name: str) -> Optional[float]:
        return statistics.median(samples[name]) if samples.get(name) else None

    label = {name: name.replace('N keys', '%d keys' % args.keys).replace('P keys', '%d keys' % args.prefix_keys)
             for name in ORDER}
    rows = []
    print('\n%-66s %9s %9s %7s  %s'
          % ('task (median of its rounds; round 1 imports the plugins)', 'median s', 'round 1', 'rounds',
             'requests per task counted by etcd'))
    for name in ORDER:
        if name in missing:
            missing_note = 'not yet measured (our v3 %s is not here yet)' % NEEDS[name]
            print('%-66s %9s %9s %7s  %s' % (label[name], '-', '-', '-', missing_note))
            rows.append({'name': label[name], 'seconds': 'not yet measured'})
            continue
        if not samples.get(name):
            print('%-66s %9s %9s %7s  %s' % (label[name], '-', '-', 0, 'not run (--loop-rounds 0)'))
            continue
        seconds = median(name)
        print('%-66s %9.3f %9.3f %7d  %s' % (label[name], seconds, samples[name][0], len(samples[name]),
                                             fmt_counts(requests[name])))
        rows.append({'name': label[name], 'seconds': round(seconds, 4), 'round 1': round(samples[name][0], 4),
                     'rounds': [round(s, 4) for s in samples[name]], 'requests': fmt_counts(requests[name])})

    ratios: Dict[str, float] = {}
    pending: List[str] = []
    for key, slow, fast in ((RATIO_DIR_FIRST, CG_LOOP_FIRST, DIR3_FIRST), (RATIO_DIR_RERUN, CG_LOOP_RERUN, DIR3_RERUN),
                            (RATIO_LOOKUP, LOOKUP_CG, LOOKUP_OURS), (RATIO_PREFIX, PREFIX_CG, PREFIX_OURS),
                            (RATIO_V2_FIRST, DIR2_FIRST, DIR3_FIRST), (RATIO_V2_RERUN, DIR2_RERUN, DIR3_RERUN)):
        if median(slow) is None or median(fast) is None:
            pending.append(key)
            continue
        value = median(slow) / median(fast)
        ratios[key] = round(value, 1) if value >= 10 else round(value, 2)
    print('\nthe same lookups called in this process through the plugin loader (no task around them), median of %d:'
          % args.rounds)
    for name in (LOOKUP_OURS, LOOKUP_CG, PREFIX_OURS, PREFIX_CG):
        if name in direct:
            seconds = statistics.median(direct[name])
            print('  %-64s %9.3f' % (label[name], seconds))
            rows.append({'name': 'in-process: ' + label[name], 'seconds': round(seconds, 4),
                         'rounds': [round(s, 4) for s in direct[name]]})
        else:
            print('  %-64s  not yet measured' % label[name])
    for key, slow, fast in ((RATIO_LOOKUP, LOOKUP_CG, LOOKUP_OURS), (RATIO_PREFIX, PREFIX_CG, PREFIX_OURS)):
        if slow in direct and fast in direct:
            value = statistics.median(direct[slow]) / statistics.median(direct[fast])
            ratios['in-process: ' + key] = round(value, 1) if value >= 10 else round(value, 2)
        else:
            pending.append('in-process: ' + key)

    print('\nratios (same run; the slower one\'s time / the faster one\'s):')
    for key, value in ratios.items():
        target = TARGETS.get(key)
        print('  %-72s %8.2fx%s' % (key, value, '' if target is None else '  (target >= %gx: %s)'
                                    % (target, 'met' if value >= target else 'NOT met')))
    for key in pending:
        print('  %-72s  not yet measured' % key)

    notes = [
        'One ansible-playbook run, local connection, ANSIBLE_PIPELINING=true; %d rounds interleaved, the '
        'community.general.etcd3 loops in the first %d; medians.' % (args.rounds, args.loop_rounds),
        'Requests per task counted by etcd: gRPC calls by method (grpc_server_handled_total in /metrics; '
        'JSON-gateway requests included) and v2 store counters.',
        'Versions: %s.' % ', '.join('%s %s' % item for item in versions.items()),
    ]
    if missing:
        notes.append('Not yet measured (our v3 %s not on this branch yet): %s.'
                     % (' and '.join(sorted({NEEDS[name] for name in missing})), '; '.join(label[name] for name in missing)))
    benchlib.write_json(args.json, 'v3 modules: etcd_dir and the lookup on api_version v3 vs community.general.etcd3 '
                        '(%d keys)' % args.keys, rows, ratios, notes, url)
    if args.json:
        print('\nresults written to %s' % os.path.relpath(args.json))
    return 0


if __name__ == '__main__':
    sys.exit(main())
