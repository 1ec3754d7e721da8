#!/usr/bin/python3
"""condlif versus Brian2 on the COBA-alpha network (see bench/README.md).

For every size N, repetition and rank count P it runs
    mpirun -n P <condlif> --quiet --force -o <workdir>/condlif_N<N>_P<P> config/bench/coba_alpha_<N>.cfg
and then, alternating with condlif, the same network in Brian2 (bench/brian2_coba_alpha.py,
C++ standalone, one thread). It prints one table with, per size and tool/ranks, the medians over
the repetitions of the simulation-phase wall time, the build time, the peak RSS and the mean
rate, and condlif's speed-up over Brian2 (ratio of the median simulation times) and over
condlif at one rank; then condlif's profile (where the simulation time goes, and how much of
the exchange is waiting for a slower core: see profile()), and the core probe (each CPU's speed
before and after: probe_cores()). The tables are also written as
<out-prefix>.csv, <out-prefix>_profile.csv and <out-prefix>.json (the JSON holds every single
run too).

Simulation phase: condlif -- the sum of the mean-over-ranks phase timers after construction
(update, deliver, exchange, write); Brian2 -- the wall time of Network::run in the generated
binary. Build: condlif's build timer; Brian2's binary time before the run (synapse creation and
initialisation; code generation and compilation are reported separately in the JSON).

Usage:  /usr/bin/python3 bench/run_benchmarks.py [--sizes 4000,40000] [--ranks 1,2] [--reps 3]
                                                  [--min-sim-seconds 0.5]
"""

import argparse
import csv
import datetime
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BRIAN2_SCRIPT = os.path.join(REPO, 'bench', 'brian2_coba_alpha.py')

# Open MPI settings for running as root, oversubscribed, on a small shared machine: the same as
# scripts/env.sh. Values already present in the environment are kept.
MPI_ENV = {
    'OMPI_ALLOW_RUN_AS_ROOT': '1',
    'OMPI_ALLOW_RUN_AS_ROOT_CONFIRM': '1',
    'OMPI_MCA_rmaps_base_oversubscribe': '1',
    'OMPI_MCA_mpi_yield_when_idle': '1',
    'OMPI_MCA_btl_vader_single_copy_mechanism': 'none',
}
# Waiting ranks yield the core (a system call per poll) only when they share cores; with one
# core per rank they poll, as Open MPI does by default on a cluster (bench_exchange, 2 ranks:
# 27 -> 20 us per exchange).
YIELD = 'OMPI_MCA_mpi_yield_when_idle'


def condlif_env(env, ranks):
    """The environment of a condlif run at `ranks` ranks: polling when every rank has a core of
    its own, unless the user's environment sets YIELD."""
    env = dict(env)
    if YIELD not in os.environ and ranks <= (os.cpu_count() or 1):
        env[YIELD] = '0'
    return env

# condlif timers that belong to construction; all other timers form the simulation phase.
BUILD_TIMERS = ('build',)
# The profile's "balanced" repetitions: the ranks' update times within this many percent.
BALANCED = 3.0
# Timers that would double count if summed with the phases (none expected; kept out if present).
AGGREGATE_TIMERS = ('total', 'run', 'wall', 'simulate', 'simulation')


class BenchError(Exception):
    """A failure with a message meant for the user."""


def int_list(text):
    try:
        values = [int(tok) for tok in text.replace(',', ' ').split()]
    except ValueError:
        raise argparse.ArgumentTypeError('expected integers separated by commas: %r' % text)
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError('expected positive integers: %r' % text)
    return values


# --min-sim-seconds adds repetitions up to this many times --reps.
MAX_REPS_FACTOR = 5


def more_reps(args, runs, n, done):
    """Whether size n takes another repetition after `done`: always up to --reps, and beyond
    (up to MAX_REPS_FACTOR x --reps) while its runs of condlif at the first rank count (of
    Brian2 with --skip-condlif) add up to less than --min-sim-seconds of simulation time. A
    condlif run at N = 4000 lasts some 30 ms, and a pause of the host as long as that slows it
    by half: a median of a few such runs can be one of the slowed ones, where the larger sizes'
    runs are long enough to average the pauses out."""
    if done < args.reps:
        return True
    if done >= MAX_REPS_FACTOR * args.reps:
        return False
    if args.skip_condlif:
        mine = [r for r in runs if r['n'] == n and r['tool'] == 'brian2']
    else:
        mine = [r for r in runs
                if r['n'] == n and r['tool'] == 'condlif' and r['ranks'] == args.ranks[0]]
    return sum(r['sim_seconds'] for r in mine) < args.min_sim_seconds


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='See bench/README.md.')
    p.add_argument('--sizes', type=int_list, default=[4000, 40000, 200000],
                   help='network sizes N, comma-separated (default 4000,40000,200000)')
    p.add_argument('--ranks', type=int_list, default=[1, 2],
                   help='MPI rank counts for condlif, comma-separated (default 1,2)')
    p.add_argument('--reps', type=int, default=3,
                   help='repetitions per case, at least (default 3; see --min-sim-seconds)')
    p.add_argument('--min-sim-seconds', type=float, default=0.5,
                   help='repeat a size beyond --reps, up to %d x --reps repetitions, until '
                        'its runs of condlif at the first rank count (of Brian2 with '
                        '--skip-condlif) add up to this much simulation time (default 0.5; '
                        '0: exactly --reps)' % MAX_REPS_FACTOR)
    p.add_argument('--skip-brian2', action='store_true', help='run condlif only')
    p.add_argument('--skip-condlif', action='store_true', help='run Brian2 only')
    p.add_argument('--condlif', default=os.path.join(REPO, 'build', 'condlif'),
                   help='condlif executable (default <repo>/build/condlif)')
    p.add_argument('--config-dir', default=os.path.join(REPO, 'config', 'bench'),
                   help='directory of coba_alpha_<N>.cfg (default <repo>/config/bench)')
    p.add_argument('--mpirun', default='mpirun', help='MPI launcher (default mpirun)')
    p.add_argument('--python', default='/usr/bin/python3',
                   help='Python with Brian2 (default /usr/bin/python3)')
    p.add_argument('--t-stop', type=float, default=1000.0,
                   help='biological time of the Brian2 runs in ms (default 1000; should match '
                        'the condlif configs, a mismatch is reported)')
    p.add_argument('--seed', type=int, default=1, help='seed of the Brian2 runs (default 1)')
    p.add_argument('--workdir', default='/tmp/condlif_bench',
                   help='scratch directory for run outputs and Brian2 projects '
                        '(default /tmp/condlif_bench)')
    p.add_argument('--out-prefix', default='coba_alpha_bench',
                   help='write <prefix>.csv and <prefix>.json (default coba_alpha_bench)')
    p.add_argument('--timeout', type=float, default=None,
                   help='seconds after which a single run is killed (default: none)')
    p.add_argument('--probe', default=None,
                   help='bench_neuron executable for the core probe (default: bench/bench_neuron '
                        'beside the condlif executable, when it is there)')
    p.add_argument('--no-probe', action='store_true', help='skip the core probe')
    args = p.parse_args(argv)
    if args.reps < 1:
        p.error('--reps must be at least 1')
    if not args.min_sim_seconds >= 0:
        p.error('--min-sim-seconds must be a number >= 0')
    if args.skip_brian2 and args.skip_condlif:
        p.error('--skip-brian2 and --skip-condlif together leave nothing to run')
    return args


# ---------------------------------------------------------------------------------------------
# condlif run metadata

def read_condlif_metadata(run_dir):
    """The run metadata condlif writes into <run_dir>/spikes.h5 (group /condlif), read through
    analysis/condlif_io.py, the one place that knows the layout. Returns a dict: wall_seconds,
    real_time_factor, n_synapses, peak_rss_bytes (max over ranks), t_stop (ms), timers
    {name: {'min', 'mean', 'max'}} (seconds), timers_by_rank {name: [seconds per rank]} (empty
    for files without it), spike_counts {population: count}, n_ranks.
    Raises BenchError naming what is missing."""
    sys.path.insert(0, os.path.join(REPO, 'analysis'))
    import condlif_io
    path = os.path.join(run_dir, 'spikes.h5')
    if not os.path.isfile(path):
        raise BenchError('%s: not found (condlif wrote no spike file)' % path)
    m = condlif_io.read_meta(path)
    if not m:
        raise BenchError('%s: no /condlif group (run metadata)' % path)
    meta = {}
    for key, name in (('wall_seconds', 'wall'), ('n_synapses', 'n_synapses'),
                      ('peak_rss_bytes', 'peak_rss'), ('real_time_factor', 'rtf'),
                      ('t_stop', 't_stop'), ('n_ranks', 'n_ranks')):
        if name not in m:
            raise BenchError('%s: /condlif has no %s' % (path, name))
        meta[key] = float(m[name])
    meta['n_synapses'] = int(meta['n_synapses'])
    if not m.get('timers'):
        raise BenchError('%s: no /condlif/timers (phase timers)' % path)
    meta['timers'] = m['timers']
    meta['timers_by_rank'] = m.get('timers_by_rank', {})
    meta['spike_counts'] = m.get('spike_counts', {})
    return meta


def condlif_config_info(cfg_path):
    """Best-effort reading of a condlif config with python3-libconf: {'neurons': {name: size}
    of cond_alpha populations, 'sources': {name: size} of spike sources, 't_stop': ms or None}.
    Returns None when the file cannot be understood (the rate then counts every population)."""
    try:
        import libconf
        with open(cfg_path) as fh:
            cfg = libconf.load(fh)
    except Exception:  # noqa: BLE001 -- any parse problem just disables the refinement
        return None
    info = {'neurons': {}, 'sources': {}, 't_stop': None}

    def size_of(node):
        for key in ('size', 'n', 'N', 'count'):
            if key in node:
                try:
                    return int(node[key])
                except (TypeError, ValueError):
                    return None
        return None

    def walk(node, key_name):
        if isinstance(node, dict):
            if 'model' in node and isinstance(node['model'], str):
                name = node.get('name', key_name)
                size = size_of(node)
                if isinstance(name, str) and size is not None:
                    kind = 'neurons' if node['model'] == 'cond_alpha' else 'sources'
                    info[kind][name] = size
                return
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v, key_name)

    walk(cfg, None)
    sim = cfg.get('simulation', {}) if isinstance(cfg, dict) else {}
    t_stop = sim.get('t_stop') if isinstance(sim, dict) else None
    if isinstance(t_stop, (int, float)):
        info['t_stop'] = float(t_stop)
    elif isinstance(t_stop, str) and t_stop.strip().endswith('ms'):
        try:
            info['t_stop'] = float(t_stop.strip()[:-2])
        except ValueError:
            pass
    elif isinstance(t_stop, str) and t_stop.strip().endswith(' s'):
        try:
            info['t_stop'] = 1000.0 * float(t_stop.strip()[:-2])
        except ValueError:
            pass
    if not info['neurons']:
        return None
    return info


# ---------------------------------------------------------------------------------------------
# Running

def run_command(cmd, env, timeout, what):
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError('%s: killed after %.0f s: %s' % (what, timeout, ' '.join(cmd)))
    except OSError as e:
        raise BenchError('%s: cannot start %s: %s' % (what, cmd[0], e))
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = proc.stderr.decode('utf-8', 'replace').strip().splitlines()[-20:]
        raise BenchError('%s failed (exit status %d): %s\n  %s'
                         % (what, proc.returncode, ' '.join(cmd), '\n  '.join(tail)))
    return proc, elapsed


def run_condlif(args, n, ranks, cfg_path, cfg_info, env):
    out_dir = os.path.join(args.workdir, 'condlif_N%d_P%d' % (n, ranks))
    cmd = [args.mpirun, '-n', str(ranks), args.condlif, '--quiet', '--force', '-o', out_dir,
           cfg_path]
    _, elapsed = run_command(cmd, env, args.timeout, 'condlif N=%d P=%d' % (n, ranks))
    meta = read_condlif_metadata(out_dir)
    timers = meta['timers']
    build_names = [t for t in timers if t in BUILD_TIMERS]
    if not build_names:
        raise BenchError('%s/spikes.h5: no build timer among /condlif/timers/names (%s); '
                         'expected one of %s' % (out_dir, ', '.join(timers), BUILD_TIMERS))
    sim_names = [t for t in timers if t not in BUILD_TIMERS and t not in AGGREGATE_TIMERS]
    if not sim_names:
        raise BenchError('%s/spikes.h5: no simulation-phase timers (names: %s)'
                         % (out_dir, ', '.join(timers)))
    counts = meta['spike_counts']
    t_stop = meta['t_stop'] if meta['t_stop'] else (cfg_info or {}).get('t_stop')
    if cfg_info:
        spikes = sum(c for name, c in counts.items() if name not in cfg_info['sources'])
        n_neurons = sum(cfg_info['neurons'].values())
        rate_note = ''
    else:
        spikes = sum(counts.values())
        n_neurons = n
        rate_note = 'config not understood: rate counts every population'
    rate = spikes / (n_neurons * t_stop / 1000.0) if t_stop else float('nan')
    return {
        'tool': 'condlif', 'n': n, 'ranks': ranks,
        'sim_seconds': sum(timers[t]['mean'] for t in sim_names),
        'build_seconds': sum(timers[t]['mean'] for t in build_names),
        'peak_rss_bytes': meta['peak_rss_bytes'],
        'mean_rate_hz': rate,
        'n_spikes': spikes,
        'n_synapses': meta['n_synapses'],
        'wall_seconds': meta['wall_seconds'],
        'real_time_factor': meta['real_time_factor'],
        't_stop_ms': t_stop,
        'process_seconds': elapsed,
        'sim_timers': sim_names,
        'timers': timers,
        'timers_by_rank': meta['timers_by_rank'],
        'spike_counts': counts,
        'rate_note': rate_note,
        'output': out_dir,
    }


def run_brian2(args, n, env):
    cmd = [args.python, BRIAN2_SCRIPT, '--n', str(n), '--t-stop', repr(args.t_stop),
           '--seed', str(args.seed), '--workdir', os.path.join(args.workdir, 'brian2_N%d' % n),
           '--json']
    proc, elapsed = run_command(cmd, env, args.timeout, 'Brian2 N=%d' % n)
    try:
        res = json.loads(proc.stdout.decode('utf-8'))
    except ValueError as e:
        raise BenchError('Brian2 N=%d: output is not JSON (%s): %r'
                         % (n, e, proc.stdout[:300]))
    res.update({'tool': 'brian2', 'n': n, 'ranks': 1,
                'sim_seconds': res['run_wall_seconds'], 'process_seconds': elapsed})
    return res


# ---------------------------------------------------------------------------------------------
# Table

def median(values):
    values = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(values) if values else float('nan')


def summarise(runs, sizes, ranks_list):
    rows = []
    for n in sizes:
        b2 = [r for r in runs if r['n'] == n and r['tool'] == 'brian2']
        b2_sim = median([r['sim_seconds'] for r in b2])
        cases = [('condlif', p) for p in ranks_list] + [('brian2', 1)]
        for tool, ranks in cases:
            sel = [r for r in runs if r['n'] == n and r['tool'] == tool and r['ranks'] == ranks]
            if not sel:
                continue
            sim = [r['sim_seconds'] for r in sel]
            row = {
                'n': n, 'tool': tool, 'ranks': ranks, 'reps': len(sel),
                'sim_s_median': median(sim), 'sim_s_min': min(sim), 'sim_s_max': max(sim),
                'build_s_median': median([r['build_seconds'] for r in sel]),
                'peak_rss_mib_median': median([r['peak_rss_bytes'] / 2**20 for r in sel]),
                'rate_hz_median': median([r['mean_rate_hz'] for r in sel]),
                'n_synapses': sel[0].get('n_synapses'),
            }
            row['speedup_vs_brian2'] = (b2_sim / row['sim_s_median']
                                        if tool == 'condlif' and b2 else None)
            one = [r['sim_seconds'] for r in runs
                   if r['n'] == n and r['tool'] == 'condlif' and r['ranks'] == 1]
            row['speedup_vs_p1'] = (median(one) / row['sim_s_median']
                                    if tool == 'condlif' and ranks > 1 and one else None)
            rows.append(row)
    return rows


def median_run(sel):
    """The repetition with the median simulation time (the lower one of an even count)."""
    return sorted(sel, key=lambda r: r['sim_seconds'])[(len(sel) - 1) // 2]


def spread(values):
    """median, min, max of values, or None when there are none."""
    return (median(values), min(values), max(values)) if values else None


def profile(runs, sizes, ranks_list):
    """Where condlif's simulation time goes, per size and rank count: the phase timers of the
    median repetition (mean over ranks, s per simulated second) and, over all repetitions, the
    exchange's share of the simulation time. At P > 1 a rank that finishes a slice first waits
    in the exchange for the slowest, so the share holds that rank's wait for a slower core as
    well as the exchange's own cost; to tell them apart each repetition also gives the ranks'
    imbalance (slowest over fastest update, minus 1: the ranks do identical work, so this is the
    cores' speed difference), the share over the repetitions whose imbalance is at most
    BALANCED, the exchange time of the rank that waited least, and the speed-up over one rank
    (median over median) counting only those balanced repetitions: on a shared machine one core
    can run several per cent slower than the other for a whole run, and the other rank then
    waits for it; this figure shows the code's scaling apart from that."""
    out = []
    for n in sizes:
        for ranks in ranks_list:
            sel = [r for r in runs if r['n'] == n and r['tool'] == 'condlif' and r['ranks'] == ranks]
            if not sel:
                continue
            mid = median_run(sel)
            per_s = 1000.0 / mid['t_stop_ms'] if mid['t_stop_ms'] else float('nan')
            row = {'n': n, 'ranks': ranks, 'reps': len(sel), 'median_rep': mid['rep'],
                   'phases_s_per_s': {t: mid['timers'][t]['mean'] * per_s
                                      for t in mid['sim_timers']}}
            shares, imbalance, balanced, least, balanced_sims = [], [], [], [], []
            for r in sel:
                ex = r['timers'].get('exchange')
                if ex is None or not r['sim_seconds']:
                    continue
                share = 100.0 * ex['mean'] / r['sim_seconds']
                shares.append(share)
                upd = r['timers_by_rank'].get('update', [])
                if ranks > 1 and len(upd) == ranks and min(upd) > 0:
                    imb = 100.0 * (max(upd) / min(upd) - 1.0)
                    imbalance.append(imb)
                    if imb <= BALANCED:
                        balanced.append(share)
                        balanced_sims.append(r['sim_seconds'])
                if ranks > 1 and r['t_stop_ms']:
                    least.append(ex['min'] * 1000.0 / r['t_stop_ms'])
            row['exchange_pct'] = spread(shares)
            row['imbalance_pct'] = spread(imbalance)
            row['exchange_pct_balanced'] = spread(balanced)
            row['n_balanced'] = len(balanced)
            row['least_waiting_exchange_s_per_s'] = spread(least)
            one = [r['sim_seconds'] for r in runs
                   if r['n'] == n and r['tool'] == 'condlif' and r['ranks'] == 1]
            row['speedup_vs_p1_balanced'] = (median(one) / median(balanced_sims)
                                             if ranks > 1 and one and balanced_sims else None)
            out.append(row)
    return out


def format_profile(prof):
    phases = []
    for p in prof:
        phases += [t for t in p['phases_s_per_s'] if t not in phases]
    head = (('N', 'P') + tuple(phases) +
            ('exchange %', 'imbalance %', 'exchange %% (imb. <= %g %%)' % BALANCED,
             'least-waiting exchange', 'vs P=1 (imb. <= %g %%)' % BALANCED))

    def rng(v, fmt):
        return '-' if v is None else (fmt + ' [' + fmt + '-' + fmt + ']') % v

    lines = []
    for p in prof:
        lines.append((str(p['n']), str(p['ranks'])) +
                     tuple('%.4f' % p['phases_s_per_s'][t] if t in p['phases_s_per_s'] else '-'
                           for t in phases) +
                     (rng(p['exchange_pct'], '%.1f'), rng(p['imbalance_pct'], '%.1f'),
                      ('%s (%d)' % (rng(p['exchange_pct_balanced'], '%.1f'), p['n_balanced'])
                       if p['ranks'] > 1 else '-'),
                      rng(p['least_waiting_exchange_s_per_s'], '%.4f'),
                      '%.2fx' % p['speedup_vs_p1_balanced']
                      if p['speedup_vs_p1_balanced'] is not None else '-'))
    title = ('condlif profile: phases of the median repetition (s per simulated second, mean over '
             'ranks); exchange share of the simulation time, the ranks\' update imbalance and the '
             'exchange of the rank that waited least (s per simulated second) as median [min-max] '
             'over the repetitions; the speed-up over one rank from the repetitions whose '
             'imbalance is at most %g %%' % BALANCED)
    return '\n'.join([title] + aligned(head, lines))


def aligned(head, lines):
    """A header, a rule and the lines, each column right-aligned to its widest cell."""
    widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h)
              for i, h in enumerate(head)]
    fmt = '  '.join('%%%ds' % w for w in widths)
    return [fmt % head, fmt % tuple('-' * w for w in widths)] + [fmt % l for l in lines]


def format_table(rows):
    head = ('N', 'tool', 'P', 'reps', 'sim s (median [min-max])', 'build s', 'RSS MiB',
            'rate Hz', 'speed-up', 'vs P=1')
    lines = []
    for r in rows:
        lines.append((
            str(r['n']), r['tool'], str(r['ranks']), str(r['reps']),
            '%.3f [%.3f-%.3f]' % (r['sim_s_median'], r['sim_s_min'], r['sim_s_max']),
            '%.3f' % r['build_s_median'], '%.1f' % r['peak_rss_mib_median'],
            '%.2f' % r['rate_hz_median'],
            '%.2fx' % r['speedup_vs_brian2'] if r['speedup_vs_brian2'] is not None else '-',
            '%.2fx' % r['speedup_vs_p1'] if r.get('speedup_vs_p1') is not None else '-'))
    return '\n'.join(aligned(head, lines))


def profile_csv_rows(prof):
    """The profile flattened to one CSV row per size and rank count."""
    out = []
    for p in prof:
        row = {'n': p['n'], 'ranks': p['ranks'], 'reps': p['reps'],
               'median_rep': p['median_rep'], 'n_balanced': p['n_balanced'],
               'speedup_vs_p1_balanced': p['speedup_vs_p1_balanced']}
        for t, v in p['phases_s_per_s'].items():
            row[t + '_s_per_s'] = v
        for key in ('exchange_pct', 'imbalance_pct', 'exchange_pct_balanced',
                    'least_waiting_exchange_s_per_s'):
            for stat, v in zip(('median', 'min', 'max'), p[key] or (None, None, None)):
                row['%s_%s' % (key, stat)] = v
        out.append(row)
    return out


def write_csv(path, rows, fields):
    with open(path, 'w', newline='') as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: ('' if r.get(k) is None else r[k]) for k in fields})


def write_outputs(prefix, rows, prof, runs, args, notes, probe=None):
    d = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(d, exist_ok=True)
    write_csv(prefix + '.csv', rows,
              ['n', 'tool', 'ranks', 'reps', 'sim_s_median', 'sim_s_min', 'sim_s_max',
               'build_s_median', 'peak_rss_mib_median', 'rate_hz_median', 'speedup_vs_brian2',
               'speedup_vs_p1', 'n_synapses'])
    flat = profile_csv_rows(prof)
    fields = []
    for r in flat:
        fields += [k for k in r if k not in fields]
    if flat:
        write_csv(prefix + '_profile.csv', flat, fields)
    doc = {
        'benchmark': 'COBA-alpha',
        'date': datetime.datetime.now().isoformat(timespec='seconds'),
        'host': platform.node(), 'cpus': os.cpu_count(),
        'args': {k: v for k, v in vars(args).items()},
        'notes': notes,
        'core_probe': dict(probe, what=PROBE_WHAT) if probe else None,
        'table': rows,
        'profile': prof,
        'runs': runs,
    }
    with open(prefix + '.json', 'w') as fh:
        json.dump(doc, fh, indent=1, default=str)


# ---------------------------------------------------------------------------------------------
# core probe: on a shared machine a core can run slower than the others for minutes, which a
# table of medians does not show; the probe measures each core before and after the runs

PROBE_LINE = re.compile(r'^COBA, precise\s+4000\s+(\S+)\s+(\S+)\s+(\S+)')
PROBE_WHAT = 'bench_neuron COBA 4000, median ns per neuron-step, per CPU'


def probe_cores(exe, env):
    """Runs bench_neuron's small cases pinned to each CPU this process may use; returns
    {cpu: median ns per neuron-step of COBA 4000}."""
    out = {}
    for cpu in sorted(os.sched_getaffinity(0)):
        p = subprocess.run([exe, '200', '0'], env=env, capture_output=True, text=True,
                           timeout=300, preexec_fn=lambda c=cpu: os.sched_setaffinity(0, {c}))
        if p.returncode != 0:
            raise BenchError('core probe %s failed on CPU %d: %s'
                             % (exe, cpu, p.stderr.strip()[-300:]))
        m = [PROBE_LINE.match(line) for line in p.stdout.splitlines()]
        m = [x for x in m if x]
        if not m:
            raise BenchError('core probe %s: no "COBA, precise 4000" line in its output' % exe)
        out[cpu] = float(m[0].group(3))
    return out


def format_probe(probe):
    parts = []
    for when in ('before', 'after'):
        if when in probe:
            parts.append('%s %s' % (when, ', '.join('CPU %d %.3f' % (c, v)
                                                      for c, v in sorted(probe[when].items()))))
    return 'core probe (%s): %s' % (PROBE_WHAT, '; '.join(parts))


def probe_note(probe):
    """A note when the cores ran more than 5 % apart in a probe."""
    spreads = [max(v.values()) / min(v.values()) for v in probe.values() if len(v) > 1]
    worst = max(spreads) if spreads else 1.0
    if worst > 1.05:
        return ('the cores ran up to %.0f %% apart in the core probe: runs on more than one '
                'rank wait for the slowest, and one-rank runs depend on the core they got'
                % (100.0 * (worst - 1.0)))
    return None


# ---------------------------------------------------------------------------------------------

def check_setup(args):
    """Fails early, with a clear message, when something needed is missing."""
    cfgs = {}
    if not args.skip_condlif:
        if not os.path.isfile(args.condlif):
            raise BenchError('condlif executable not found: %s (build it with '
                             '`cmake -S . -B build && cmake --build build -j2`, pass '
                             '--condlif PATH, or use --skip-condlif)' % args.condlif)
        if not os.access(args.condlif, os.X_OK):
            raise BenchError('condlif is not executable: %s' % args.condlif)
        args.condlif = os.path.abspath(args.condlif)
        if shutil.which(args.mpirun) is None:
            raise BenchError('MPI launcher not found: %s (use --mpirun)' % args.mpirun)
        for n in args.sizes:
            cfg = os.path.join(args.config_dir, 'coba_alpha_%d.cfg' % n)
            if not os.path.isfile(cfg):
                raise BenchError('config not found for N=%d: %s' % (n, cfg))
            cfgs[n] = os.path.abspath(cfg)
        try:
            import h5py  # noqa: F401
        except ImportError:
            raise BenchError('h5py is needed to read condlif output; run with /usr/bin/python3 '
                             '(Debian python3-h5py)')
    if not args.skip_brian2:
        if not os.path.isfile(args.python):
            raise BenchError('Python for Brian2 not found: %s (use --python)' % args.python)
        probe = subprocess.run([args.python, '-c', 'import brian2'], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
        if probe.returncode != 0:
            raise BenchError('%s cannot import brian2 (apt-get install python3-brian, or '
                             '--skip-brian2): %s' % (args.python,
                                                     probe.stderr.decode().strip()[-300:]))
    if args.no_probe:
        args.probe = None
    elif args.probe is None:
        default = os.path.join(os.path.dirname(os.path.abspath(args.condlif)), 'bench',
                               'bench_neuron')
        args.probe = default if os.access(default, os.X_OK) else None
    elif not os.access(args.probe, os.X_OK):
        raise BenchError('core probe not found or not executable: %s (use --no-probe)'
                         % args.probe)
    return cfgs


def main(argv=None):
    args = parse_args(argv)
    env = dict(os.environ)
    for key, value in MPI_ENV.items():
        env.setdefault(key, value)
    runs, notes, probe = [], [], {}
    try:
        cfgs = check_setup(args)
        if args.probe:
            probe['before'] = probe_cores(args.probe, env)
        os.makedirs(args.workdir, exist_ok=True)
        cfg_infos = {n: condlif_config_info(c) for n, c in cfgs.items()}
        for n in args.sizes:
            rep = 0
            while more_reps(args, runs, n, rep):
                if not args.skip_condlif:
                    for ranks in args.ranks:
                        r = run_condlif(args, n, ranks, cfgs[n], cfg_infos[n],
                                        condlif_env(env, ranks))
                        r['rep'] = rep
                        runs.append(r)
                        print('N=%-7d rep %d condlif P=%d: sim %.3f s, build %.3f s, %.2f Hz'
                              % (n, rep, ranks, r['sim_seconds'], r['build_seconds'],
                                 r['mean_rate_hz']), file=sys.stderr, flush=True)
                        if r['rate_note'] and r['rate_note'] not in notes:
                            notes.append(r['rate_note'])
                        if (r['t_stop_ms'] and not args.skip_brian2
                                and abs(r['t_stop_ms'] - args.t_stop) > 1e-9):
                            note = ('N=%d: condlif t_stop %.6g ms differs from Brian2 --t-stop '
                                    '%.6g ms' % (n, r['t_stop_ms'], args.t_stop))
                            if note not in notes:
                                notes.append(note)
                if not args.skip_brian2:
                    r = run_brian2(args, n, env)
                    r['rep'] = rep
                    runs.append(r)
                    print('N=%-7d rep %d Brian2: run %.3f s, build %.3f s, %.2f Hz'
                          % (n, rep, r['sim_seconds'], r['build_seconds'], r['mean_rate_hz']),
                          file=sys.stderr, flush=True)
                rep += 1
    except BenchError as e:
        print('run_benchmarks: error: %s' % e, file=sys.stderr)
        if runs:
            rows = summarise(runs, args.sizes, args.ranks)
            prof = profile(runs, args.sizes, args.ranks)
            write_outputs(args.out_prefix + '.partial', rows, prof, runs, args,
                          notes + [str(e)], probe)
            print('partial results: %s.partial{.csv,_profile.csv,.json}' % args.out_prefix,
                  file=sys.stderr)
        return 1
    if args.probe:
        try:
            probe['after'] = probe_cores(args.probe, env)
        except BenchError as e:
            notes.append(str(e))
        note = probe_note(probe)
        if note:
            notes.append(note)
    rows = summarise(runs, args.sizes, args.ranks)
    prof = profile(runs, args.sizes, args.ranks)
    print(format_table(rows))
    if prof:
        print()
        print(format_profile(prof))
    if probe:
        print()
        print(format_probe(probe))
    for note in notes:
        print('note: ' + note)
    write_outputs(args.out_prefix, rows, prof, runs, args, notes, probe)
    print('written: %s.csv, %s.json%s' % (args.out_prefix, args.out_prefix,
                                          ', %s_profile.csv' % args.out_prefix if prof else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
