#!/usr/bin/env python
"""Run every benchmark in bench/ against one local etcd and write the results.

    python bench/run_all.py [--quick] [--only client,scale]

- Makes (or updates) the benchmark virtualenv bench/.venv with bench/make-venv.sh and re-runs
  itself inside it: python-etcd, the `ansible` package (community.general's lookup) and
  matplotlib stay out of the collection's own requirements.
- Starts one throwaway etcd 3.5 through tests/harness and runs, one after another:
  client_bench.py, ceiling_bench.py, lookup_bench.py, modules_bench.py, scale_bench.py,
  v3_bench.py and v3_modules_bench.py (the ones that exist), each with ETCD_URL/ETCD_HOST/ETCD_PORT set and
  ``--json bench/results/raw/<name>.json``.
- Writes bench/results/results.md (machine, tables, ratios with their targets, each script's own
  output) and the bar chart bench/results/summary.png (with --quick: into
  bench/results/raw/quick/ instead). With --only, the sections of the scripts not run are kept
  from the results.md already there (each section names the run it comes from), and the chart
  is drawn from all of them.

Every ratio is computed inside one script run; absolute figures only mean something together
with the machine line at the top of results.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, 'results')
RAW = os.path.join(RESULTS, 'raw')
# Where results.md and summary.png go: bench/results for a full run; a --quick run writes into
# raw/quick (not committed) so it never replaces the published figures.
OUT = RESULTS
VENV = os.path.join(HERE, '.venv')
# Targets of issue 6 for ratios the other scripts report (speed-up over the peer).
TARGETS = {
    ('lookup', 'keys_one_call_speedup'): 20.0,
    ('modules', 'etcd_key loop / etcd_dir first run'): 50.0,
    ('modules', 'etcd_key loop / etcd_dir re-run'): 50.0,
    # v3_bench.py: speed-ups of Etcd3Client (the peer's time / Etcd3Client's time).
    ('v3', 'sequential puts vs etcd3gw'): 2.0,
    ('v3', 'sequential gets vs etcd3gw'): 2.0,
    ('v3', 'sequential puts vs python-etcd3'): 1.0,
    ('v3', 'sequential gets vs python-etcd3'): 1.0,
    ('v3', 'bulk 1000 keys vs python-etcd3 put loop'): 10.0,
    # v3_modules_bench.py: community.general.etcd3's time / ours, api_version v3.
    ('v3modules', 'community.general.etcd3 loop / etcd_dir v3, first run'): 200.0,
    ('v3modules', 'community.general.etcd3 loop / etcd_dir v3, re-run'): 200.0,
    ('v3modules', 'community.general.etcd3 lookup / our v3 lookup, keys in one call'): 10.0,
    # migrate_bench.py: the naive loop's time per 1,000 keys / etcd_migrate's (issue 13).
    ('migrate', 'python-etcd + python-etcd3 loop / etcd_migrate in process'): 20.0,
    ('migrate', 'etcdctl get/put loop / etcd_migrate in process'): 20.0,
}
# (name, script, extra arguments for --quick)
SCRIPTS = [
    ('client', 'client_bench.py', ['--ops', '300', '--rounds', '3']),
    ('ceiling', 'ceiling_bench.py', ['--keys', '300', '--rounds', '1']),
    ('lookup', 'lookup_bench.py', ['--keys', '200', '--repeat', '1']),
    ('modules', 'modules_bench.py', ['--keys', '200']),
    ('scale', 'scale_bench.py', ['--sizes', '100,1000']),
    ('v3', 'v3_bench.py', ['--ops', '300', '--rounds', '3']),
    ('v3modules', 'v3_modules_bench.py', ['--keys', '100', '--prefix-keys', '1000', '--rounds', '2']),
    ('migrate', 'migrate_bench.py', ['--keys', '1000', '--rounds', '1', '--etcdctl-keys', '50']),
]


def in_bench_venv() -> bool:
    return os.path.realpath(sys.prefix) == os.path.realpath(VENV)


def ensure_venv() -> None:
    """Create/update bench/.venv, then continue this script inside it."""
    if in_bench_venv():
        return
    subprocess.run([os.path.join(HERE, 'make-venv.sh'), VENV], check=True)
    python = os.path.join(VENV, 'bin', 'python')
    os.execv(python, [python, os.path.abspath(__file__)] + sys.argv[1:])


def json_option(script: str) -> Optional[str]:
    """The script's option for a JSON results file (--json, or --output), if it has one.

    A script without either still runs; its printed output goes into results.md as it is.
    """
    with open(script, encoding='utf-8') as handle:
        text = handle.read()
    for option in ('--json', '--output'):
        if "'%s'" % option in text:
            return option
    return None


def normalise(data: dict) -> dict:
    """Bring a results file into the title/machine/rows/ratios shape results.md is made from.

    benchlib.write_json already writes that shape; lookup_bench.py writes 'benchmark',
    'environment', 'results' ({tool: {case: figures}}) and 'ratios'.
    """
    if 'rows' in data:
        return data
    rows = []
    for tool, cases in (data.get('results') or {}).items():
        for case, figures in cases.items():
            if isinstance(figures, dict):
                rows.append(dict({key: value for key, value in figures.items() if not isinstance(value, (list, dict))},
                                 name=tool, case=case))
    environment = data.get('environment') or {}
    machine = {'nproc': environment.get('cpus'), 'python': environment.get('python'),
               'etcd': environment.get('etcd_server'), 'ansible-core': environment.get('ansible_core')}
    notes = ['%s: %s' % (key, value) for key, value in (data.get('target') or {}).items()]
    return {'title': data.get('benchmark') or data.get('title'), 'machine': {k: v for k, v in machine.items() if v},
            'rows': rows, 'ratios': data.get('ratios') or {}, 'notes': notes}


def run_script(name: str, script: str, extra: List[str], env: Dict[str, str]) -> dict:
    out_json = os.path.join(RAW, '%s.json' % name)
    if os.path.exists(out_json):
        os.remove(out_json)
    command = [sys.executable, script] + extra
    option = json_option(script)
    if option:
        command += [option, out_json]
    print('\n=== %s: %s' % (name, ' '.join(os.path.relpath(part, ROOT) if part.startswith(ROOT) else part for part in command)),
          flush=True)
    lines = []
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            lines.append(line)
    result = {'name': name, 'script': os.path.relpath(script, ROOT), 'returncode': proc.returncode,
              'stdout': ''.join(lines)}
    if os.path.exists(out_json):
        with open(out_json, encoding='utf-8') as handle:
            result['data'] = normalise(json.load(handle))
    with open(os.path.join(RAW, '%s.txt' % name), 'w', encoding='utf-8') as handle:
        handle.write(result['stdout'])
    return result


def fmt(value) -> str:
    if isinstance(value, float):
        return ('%.4f' % value).rstrip('0').rstrip('.') if abs(value) < 10 else '%.1f' % value
    if isinstance(value, (list, dict)):
        return ''
    return str(value)


def table(rows: List[dict]) -> List[str]:
    """Markdown table over the union of the rows' scalar fields (raw per-round lists left out)."""
    columns: List[str] = [key for key in ('name', 'op', 'case', 'keys') if any(key in row for row in rows)]
    for row in rows:
        for key, value in row.items():
            if key not in columns and not isinstance(value, (list, dict)):
                columns.append(key)
    lines = ['| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]
    for row in rows:
        lines.append('| ' + ' | '.join(fmt(row.get(col, '')) for col in columns) + ' |')
    return lines


def machine_line(results: List[dict]) -> str:
    for result in results:
        info = (result.get('data') or {}).get('machine')
        if info:
            if 'cpu' not in info:
                continue  # a script that does not describe the CPU; prefer one that does
            return ', '.join('%s: %s' % (key, info[key]) for key in ('nproc', 'cpu', 'python', 'etcd', 'os') if key in info)
    sys.path.insert(0, HERE)
    import benchlib  # pylint: disable=import-outside-toplevel
    info = benchlib.machine()
    return ', '.join('%s: %s' % item for item in info.items())


def verdict(name: str, key: str, value) -> List[str]:
    """The target of a ratio and whether this run met it (two table cells, empty without one)."""
    target = TARGETS.get((name, key))
    if target is None or not isinstance(value, (int, float)):
        return ['', '']
    return ['%gx' % target, 'met' if value >= target else '**not met**']


def section(result: dict, stamp: str) -> List[str]:
    """The results.md section of one script run: ratios (with targets), rows, notes, output."""
    data = result.get('data') or {}
    lines = ['## %s' % (data.get('title') or result['name']), '',
             '`%s`%s (%s)' % (result['script'], '' if result['returncode'] == 0 else
                              ' **exited with %s**' % result['returncode'], stamp), '']
    if data.get('ratios'):
        with_targets = any((result['name'], key) in TARGETS for key in data['ratios'])
        lines.append('| ratio | value |%s' % (' target | |' if with_targets else ''))
        lines.append('|---|---|%s' % ('---|---|' if with_targets else ''))
        for key, value in data['ratios'].items():
            cells = [key, fmt(value)] + (verdict(result['name'], key, value) if with_targets else [])
            lines.append('| %s |' % ' | '.join(cells))
        lines.append('')
    if data.get('rows'):
        lines.extend(table(data['rows']))
        lines.append('')
    for note in data.get('notes') or []:
        lines.append('- %s' % note)
    lines.extend(['', '<details><summary>output</summary>', '', '```', result['stdout'].rstrip(), '```', '',
                  '</details>', ''])
    return lines


def previous_sections(path: str) -> List[dict]:
    """The sections of an earlier results.md, as results run_all can keep and chart.

    Each is {'name', 'script', 'lines', 'data': {'ratios'}}: the lines verbatim (their first
    line after the heading gets the earlier run's date and machine when it has none), the
    ratios read back from the section's ratio table.
    """
    if not os.path.exists(path):
        return []
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    header, _sep, rest = text.partition('\n## ')
    when = re.search(r' on (\d{4}-\d\d-\d\d \d\d:\d\d UTC)', header)
    machine = re.search(r'^Machine: (.*)\.$', header, re.MULTILINE)
    stamp = 'run of %s; %s' % (when.group(1) if when else 'an earlier run', machine.group(1) if machine else '')
    names = {script: name for name, script, _quick in SCRIPTS}
    kept = []
    for chunk in rest.split('\n## ') if rest else []:
        lines = ('## ' + chunk).rstrip('\n').split('\n') + ['']
        script, ratios, in_ratios = None, {}, False
        for index, line in enumerate(lines):
            found = re.match(r'^`(bench/[\w.]+\.py)`', line)
            if found and script is None:
                script = found.group(1)
                if not line.rstrip().endswith(')'):
                    lines[index] = '%s (%s)' % (line.rstrip(), stamp.rstrip('; '))
            if line.startswith('| ratio | value |'):
                in_ratios = True
            elif not line.startswith('|'):
                in_ratios = False
            elif in_ratios and not line.startswith('|---'):
                cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
                try:
                    ratios[cells[0]] = float(cells[1])
                except (IndexError, ValueError):
                    pass
        if script:
            kept.append({'name': names.get(os.path.basename(script), script), 'script': script, 'lines': lines,
                         'data': {'ratios': ratios}, 'kept': True})
    return kept


def merge(results: List[dict], earlier: List[dict]) -> List[dict]:
    """This run's results, with the earlier sections of the scripts it did not run, in SCRIPTS order."""
    ran = {result['name'] for result in results}
    everything = results + [old for old in earlier if old['name'] not in ran]
    order = [name for name, _script, _quick in SCRIPTS]
    return sorted(everything, key=lambda result: order.index(result['name']) if result['name'] in order else len(order))


def write_markdown(results: List[dict], started: str, seconds: float, quick: bool) -> str:
    ran = [result['name'] for result in results if not result.get('kept')]
    partial = len(ran) < len(results)
    machine = machine_line(results)
    lines = ['# Benchmark results', '',
             'Written by `bench/run_all.py`%s%s on %s in %.0f s. ' % (
                 ' --quick' if quick else '', ' --only %s' % ','.join(ran) if partial else '', started, seconds),
             'Machine: %s.' % machine, '']
    if partial:
        lines.extend(['Only %s ran this time; the other sections are kept from earlier runs, each with' % ', '.join(ran),
                      'its run and machine next to its script name.', ''])
    lines.extend(['Ratios are taken between figures of the same run. The machine is shared (2 cores, other',
                  'work running), so absolute figures vary between runs by 20% or more; ratios vary less.', '',
                  '![summary](summary.png)', ''])
    for result in results:
        lines.extend(result['lines'] if result.get('kept') else section(result, 'run of %s' % started))
    path = os.path.join(OUT, 'results.md')
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines))
    return path


def headline(results: List[dict]) -> List[tuple]:
    """(group, label, value, target) bars: how many times faster than the peer (higher is better)."""
    bars = []
    for result in results:
        data = result.get('data') or {}
        ratios = data.get('ratios') or {}
        name = result['name']
        if name == 'client':
            for key, value in ratios.items():
                if 'python-etcd 0.4.5 time' in key:
                    bars.append(('client', 'sequential %s vs python-etcd' % key.rsplit('(', 1)[1].rstrip(')'), 1 / value, None))
                elif 'bare requests.Session time' in key:
                    bars.append(('client', 'sequential %s vs bare requests loop' % key.rsplit('(', 1)[1].rstrip(')'),
                                 1 / value, 1 / 1.2))
                elif key.startswith('python-etcd (sequential'):
                    bars.append(('client', 'bulk 1,000 keys vs python-etcd sequential', value, 2.0))
                elif key.startswith('python-etcd (') and 'threads' in key:
                    bars.append(('client', 'bulk 1,000 keys vs python-etcd threaded', value, 2.0))
        elif name in ('scale', 'ceiling'):
            continue  # linearity is not a speed-up, nor is the distance to bare writers
        else:
            for key, value in ratios.items():
                if isinstance(value, (int, float)) and value > 0:
                    label = key if ' ' in key else key.replace('_', ' ')  # keep module names like etcd_dir intact
                    bars.append((name, label, float(value), TARGETS.get((name, key))))
    return bars


def write_chart(results: List[dict]) -> Optional[str]:
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    except ImportError:
        print('matplotlib is missing: no chart (run inside bench/.venv)')
        return None
    bars = headline(results)
    if not bars:
        return None
    colours = {'client': '#4c72b0', 'lookup': '#55a868', 'modules': '#c44e52', 'v3': '#dd8452',
               'v3modules': '#937860'}
    fig, axis = plt.subplots(figsize=(10, 0.45 * len(bars) + 1.6))
    labels = ['%s: %s' % (entry[0], entry[1]) for entry in bars]
    values = [entry[2] for entry in bars]
    positions = list(range(len(bars)))[::-1]
    axis.barh(positions, values, color=[colours.get(entry[0], '#8172b2') for entry in bars])
    for pos, (_group, _label, value, target) in zip(positions, bars):
        axis.text(value, pos, (' %.0fx' if value >= 20 else ' %.2fx') % value, va='center', fontsize=8)
        if target:
            axis.plot([target, target], [pos - 0.4, pos + 0.4], color='black', linewidth=1.5)
    axis.set_yticks(positions)
    axis.set_yticklabels(labels, fontsize=8)
    axis.set_xscale('log')
    # Plain "2x"-style ticks instead of powers of ten.
    low, high = min(values + [1.0]) / 1.5, max(values + [1.0]) * 2.5
    axis.set_xlim(low, high)
    ticks = [t for t in (0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if low <= t <= high]
    axis.set_xticks(ticks)
    axis.set_xticklabels(['%gx' % t for t in ticks])
    axis.minorticks_off()
    axis.axvline(1.0, color='grey', linestyle='--', linewidth=0.8)
    axis.set_xlabel('times faster than the compared tool, same run (log scale; >1 is faster; black tick = target)')
    kept = ' + kept sections of earlier runs' if any(result.get('kept') for result in results) else ''
    axis.set_title('pyetcd.etcd benchmarks (%s%s)' % (machine_line(results).split(', os:', maxsplit=1)[0], kept), fontsize=9)
    fig.tight_layout()
    path = os.path.join(OUT, 'summary.png')
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--quick', action='store_true', help='smaller sizes: a smoke run of every script')
    parser.add_argument('--only', help='comma-separated subset of: %s' % ', '.join(entry[0] for entry in SCRIPTS))
    parser.add_argument('--etcd-version', default='3.5', choices=['3.5', '3.4'])
    args = parser.parse_args()
    ensure_venv()
    global OUT, RAW  # pylint: disable=global-statement
    if args.quick:
        OUT = RAW = os.path.join(RAW, 'quick')
    os.makedirs(RAW, exist_ok=True)
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'harness'))
    from etcd_server import EtcdServer  # pylint: disable=import-outside-toplevel,import-error

    wanted = set(args.only.split(',')) if args.only else None
    started = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    start = datetime.datetime.now().timestamp()
    results = []
    with EtcdServer(args.etcd_version) as server:
        env = dict(os.environ, ETCD_URL=server.url, ETCD_HOST=server.host, ETCD_PORT=str(server.port),
                   ETCD_VERSION=server.version, PYTHONUNBUFFERED='1')
        env.pop('PYETCD_COLLECTIONS_DIR', None)
        for name, script, quick in SCRIPTS:
            path = os.path.join(HERE, script)
            if wanted is not None and name not in wanted:
                continue
            if not os.path.exists(path):
                print('\n=== %s: %s is not there yet, skipped' % (name, script))
                continue
            results.append(run_script(name, path, quick if args.quick else [], env))
    seconds = datetime.datetime.now().timestamp() - start
    if wanted is not None:
        results = merge(results, previous_sections(os.path.join(OUT, 'results.md')))
    md = write_markdown(results, started, seconds, args.quick)
    png = write_chart(results)
    print('\nwrote %s%s' % (os.path.relpath(md, ROOT), ' and %s' % os.path.relpath(png, ROOT) if png else ''))
    failed = [result['name'] for result in results if not result.get('kept') and result['returncode'] != 0]
    if failed:
        print('failed: %s' % ', '.join(failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
