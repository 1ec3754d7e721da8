#!/usr/bin/python3
"""COBA-alpha network (Vogels & Abbott 2005 / Brette et al. 2007 COBA, alpha conductances) in
Brian2, C++ standalone device, one thread: the reference side of bench/run_benchmarks.py.

Model (the equations condlif integrates, see DESIGN.md section 1):
    C_m dV/dt = g_L (E_L - V) + g_ex (E_ex - V) + g_in (E_in - V)
    dx_r/dt = -x_r / tau_r,  dg_r/dt = (x_r - g_r) / tau_r      (r in {ex, in})
A spike of peak conductance w adds w*e to x_r (g_r then peaks at w, tau_r later).

Network: N neurons, 80 % excitatory, 20 % inhibitory; every neuron receives 64 excitatory and
16 inhibitory synapses, sources drawn independently and uniformly (with replacement, autapses
possible: NEST's fixed_indegree default); peak weights 4/e nS (x_ex += 4 nS) and 51/e nS
(x_in += 51 nS); delay 1 ms; dt 0.1 ms; V(0) uniform in [E_L, V_th]. Kick-start: 20 Poisson
sources at 100 Hz during the first 50 ms, each connected to each neuron with probability 0.01,
x_ex += 100 nS, delay 1 ms. Spikes of all N neurons are recorded with a SpikeMonitor.

Measured (JSON on stdout with --json, a short summary otherwise):
  run_wall_seconds   wall time of Network::run in the generated binary (clock_gettime around
                     the run, inserted with device.insert_code) -- the simulation phase;
  run_cpu_seconds    Brian2's own device._last_run_time (std::clock() based without OpenMP, so
                     CPU time of the process, not wall time);
  build_seconds      wall time of the binary before the run: brian_start (allocation, loading
                     the static connectivity arrays), synapse creation, initialisation, spike
                     queue preparation;
  write_seconds      wall time of brian_end (writing the monitors' results to disk);
  python_setup_seconds, codegen_seconds, compile_seconds: Python-side construction, code
                     generation, and make;
  peak_rss_bytes     peak resident set size of the generated binary (getrusage of that process
                     alone, not of the compiler);
  n_spikes, mean_rate_hz (over all N neurons and t_stop), rates per population and per 100 ms.

Usage:  /usr/bin/python3 bench/brian2_coba_alpha.py --n 4000 --t-stop 1000 --json
"""

import argparse
import json
import math
import os
import sys
import time

# Runs ./main (the standalone binary, in Brian2's project directory) as a child process and
# writes its peak RSS (kB, Linux ru_maxrss) to results/bench_rusage.txt. Used as Brian2's
# run_cmd_unix so that the compiler's memory is not counted.
RUSAGE_WRAPPER = r"""
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
with open(os.path.join('results', 'bench_rusage.txt'), 'w') as f:
    f.write('%d\n' % ru.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, 'waitstatus_to_exitcode') else status >> 8)
"""

# C++ inserted into the generated main(): monotonic timestamps before brian_start, before and
# after Network::run, and around brian_end; written to results/bench_timing.txt.
CPP_BEFORE_START = ("struct timespec _bench_ts[5];\n"
                    "clock_gettime(CLOCK_MONOTONIC, &_bench_ts[0]);")
CPP_BEFORE_RUN = "clock_gettime(CLOCK_MONOTONIC, &_bench_ts[1]);"
CPP_AFTER_RUN = "clock_gettime(CLOCK_MONOTONIC, &_bench_ts[2]);"
CPP_BEFORE_END = "clock_gettime(CLOCK_MONOTONIC, &_bench_ts[3]);"
CPP_AFTER_END = r"""clock_gettime(CLOCK_MONOTONIC, &_bench_ts[4]);
{
    std::ofstream _bench_out("results/bench_timing.txt");
    _bench_out.precision(9);
    for (int _k = 0; _k < 5; _k++)
        _bench_out << (double)_bench_ts[_k].tv_sec + 1e-9 * (double)_bench_ts[_k].tv_nsec << "\n";
}"""

# Model constants (canonical units: pF, nS, mV, ms, Hz).
PARAMS = dict(C_m=200.0, g_L=10.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=5.0,
              E_ex=0.0, E_in=-80.0, tau_ex=5.0, tau_in=10.0)
K_EX, K_IN = 64, 16            # in-degrees
X_EX, X_IN = 4.0, 51.0         # nS added to x (peak conductance x/e)
DELAY, DT = 1.0, 0.1           # ms
N_KICK, KICK_RATE, KICK_STOP, KICK_P, X_KICK = 20, 100.0, 50.0, 0.01, 100.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=4000, help='number of neurons (default 4000)')
    p.add_argument('--t-stop', type=float, default=1000.0,
                   help='biological time in ms (default 1000)')
    p.add_argument('--seed', type=int, default=1, help='seed (numpy and the binary)')
    p.add_argument('--workdir', default=None,
                   help='Brian2 project directory (default /tmp/brian2_coba_alpha_<N>); '
                        'reused between runs so that unchanged sources are not recompiled')
    p.add_argument('--make-jobs', type=int, default=2,
                   help='parallel make jobs for compiling the project (default 2)')
    p.add_argument('--profile', action='store_true',
                   help="Brian2's per-code-object profiling (adds timer calls to every step)")
    p.add_argument('--json', action='store_true', help='print the results as JSON on stdout')
    args = p.parse_args(argv)
    if args.n < 5:
        p.error('--n must be at least 5')
    if args.t_stop <= 0:
        p.error('--t-stop must be positive')
    if args.workdir is None:
        args.workdir = '/tmp/brian2_coba_alpha_%d' % args.n
    return args


def read_numbers(path):
    with open(path) as f:
        return [float(tok) for tok in f.read().split()]


def simulate(args):
    """Builds, compiles and runs the network; returns the result dictionary."""
    t_start = time.perf_counter()
    import numpy as np
    import brian2 as b2
    from brian2 import ms, mV, nS, pF

    b2.set_device('cpp_standalone', directory=args.workdir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0          # one thread, no OpenMP
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = ['-j%d' % args.make_jobs]
    b2.prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, '-c', RUSAGE_WRAPPER,
                                                    './main']
    b2.defaultclock.dt = DT * ms
    b2.seed(args.seed)
    rng = np.random.default_rng(args.seed)

    P = PARAMS
    ns = dict(C_m=P['C_m'] * pF, g_L=P['g_L'] * nS, E_L=P['E_L'] * mV, V_th=P['V_th'] * mV,
              V_reset=P['V_reset'] * mV, E_ex=P['E_ex'] * mV, E_in=P['E_in'] * mV,
              tau_ex=P['tau_ex'] * ms, tau_in=P['tau_in'] * ms)
    eqs = '''
    dv/dt = (g_L*(E_L - v) + g_ex*(E_ex - v) + g_in*(E_in - v)) / C_m : volt (unless refractory)
    dg_ex/dt = (x_ex - g_ex) / tau_ex : siemens
    dx_ex/dt = -x_ex / tau_ex : siemens
    dg_in/dt = (x_in - g_in) / tau_in : siemens
    dx_in/dt = -x_in / tau_in : siemens
    '''
    n = args.n
    n_exc = int(round(0.8 * n))
    n_inh = n - n_exc
    neurons = b2.NeuronGroup(n, eqs, threshold='v > V_th', reset='v = V_reset',
                             refractory=P['t_ref'] * ms, method='euler', namespace=ns,
                             name='neurons')
    neurons.v = 'E_L + rand() * (V_th - E_L)'
    exc, inh = neurons[:n_exc], neurons[n_exc:]

    # Fixed in-degree: for every target, K sources drawn uniformly (with replacement).
    targets_ex = np.repeat(np.arange(n, dtype=np.int32), K_EX)
    sources_ex = rng.integers(0, n_exc, size=n * K_EX, dtype=np.int32)
    targets_in = np.repeat(np.arange(n, dtype=np.int32), K_IN)
    sources_in = rng.integers(0, n_inh, size=n * K_IN, dtype=np.int32)
    syn_ex = b2.Synapses(exc, neurons, on_pre='x_ex_post += %r*nS' % X_EX, delay=DELAY * ms,
                         name='syn_ex')
    syn_ex.connect(i=sources_ex, j=targets_ex)
    syn_in = b2.Synapses(inh, neurons, on_pre='x_in_post += %r*nS' % X_IN, delay=DELAY * ms,
                         name='syn_in')
    syn_in.connect(i=sources_in, j=targets_in)
    del targets_ex, sources_ex, targets_in, sources_in

    kick = b2.PoissonGroup(N_KICK, rates='(t < %r*ms) * %r*Hz' % (KICK_STOP, KICK_RATE),
                           name='kick')
    syn_kick = b2.Synapses(kick, neurons, on_pre='x_ex_post += %r*nS' % X_KICK,
                           delay=DELAY * ms, name='syn_kick')
    syn_kick.connect(p=KICK_P)

    spikes = b2.SpikeMonitor(neurons, name='spikes')

    dev = b2.get_device()
    dev.insert_code('before_start', CPP_BEFORE_START)
    dev.insert_code('before_network_run', CPP_BEFORE_RUN)
    dev.insert_code('after_network_run', CPP_AFTER_RUN)
    dev.insert_code('before_end', CPP_BEFORE_END)
    dev.insert_code('after_end', CPP_AFTER_END)

    b2.run(args.t_stop * ms, profile=args.profile)
    t_setup = time.perf_counter()
    dev.build(directory=args.workdir, compile=True, run=True, with_output=False)
    t_built = time.perf_counter()

    results = os.path.join(args.workdir, 'results')
    ts = read_numbers(os.path.join(results, 'bench_timing.txt'))
    if len(ts) != 5:
        raise RuntimeError('bench_timing.txt: expected 5 timestamps, found %d' % len(ts))
    rss_kb = read_numbers(os.path.join(results, 'bench_rusage.txt'))[0]

    t_spk = np.asarray(spikes.t / ms)
    i_spk = np.asarray(spikes.i)
    n_spikes = int(spikes.num_spikes)
    t_s = args.t_stop / 1000.0
    bin_ms = 100.0
    n_bins = int(math.ceil(args.t_stop / bin_ms))
    counts, _ = np.histogram(t_spk, bins=n_bins, range=(0.0, n_bins * bin_ms))
    widths = np.minimum(bin_ms, args.t_stop - bin_ms * np.arange(n_bins)) / 1000.0
    n_exc_spikes = int(np.count_nonzero(i_spk < n_exc))
    compile_s = dev.timers['compile'].get('make', float('nan'))
    run_binary_s = dev.timers.get('run_binary', float('nan'))
    n_syn = {name: len(s) for name, s in (('ex', syn_ex), ('in', syn_in), ('kick', syn_kick))}

    res = {
        'tool': 'brian2',
        'brian2_version': b2.__version__,
        'device': 'cpp_standalone',
        'threads': 1,
        'method': 'euler',
        'n': n, 'n_exc': n_exc, 'n_inh': n_inh,
        't_stop_ms': args.t_stop, 'dt_ms': DT, 'seed': args.seed,
        'n_synapses': int(sum(n_syn.values())),
        'n_synapses_by_projection': n_syn,
        'run_wall_seconds': ts[2] - ts[1],
        'run_cpu_seconds': float(dev._last_run_time),
        'build_seconds': ts[1] - ts[0],
        'write_seconds': ts[4] - ts[3],
        'binary_wall_seconds': run_binary_s,
        'python_setup_seconds': t_setup - t_start,
        'codegen_seconds': (t_built - t_setup) - compile_s - run_binary_s,
        'compile_seconds': compile_s,
        'real_time_factor': (ts[2] - ts[1]) / t_s,
        'peak_rss_bytes': int(rss_kb * 1024),
        'n_spikes': n_spikes,
        'mean_rate_hz': n_spikes / (n * t_s),
        'rate_exc_hz': n_exc_spikes / (n_exc * t_s),
        'rate_inh_hz': (n_spikes - n_exc_spikes) / (n_inh * t_s),
        'rate_per_100ms_hz': [float(c) / (n * w) for c, w in zip(counts, widths)],
        'workdir': os.path.abspath(args.workdir),
    }
    if args.profile:
        res['profile_seconds'] = {name: float(t / b2.second)
                                  for name, t in b2.magic_network.profiling_info}
    return res


def main(argv=None):
    args = parse_args(argv)
    # Brian2, make and the binary may write to stdout; keep stdout clean for the JSON.
    sys.stdout.flush()
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        res = simulate(args)
    finally:
        sys.stdout.flush()
        os.dup2(real_stdout, 1)
        os.close(real_stdout)
    if args.json:
        json.dump(res, sys.stdout, indent=1)
        sys.stdout.write('\n')
    else:
        print('Brian2 %s COBA-alpha N=%d, %.0f ms: run %.3f s (cpu %.3f s), build %.3f s, '
              'compile %.1f s, peak RSS %.1f MiB, %d spikes, %.2f Hz (exc %.2f, inh %.2f)'
              % (res['brian2_version'], res['n'], res['t_stop_ms'], res['run_wall_seconds'],
                 res['run_cpu_seconds'], res['build_seconds'], res['compile_seconds'],
                 res['peak_rss_bytes'] / 2**20, res['n_spikes'], res['mean_rate_hz'],
                 res['rate_exc_hz'], res['rate_inh_hz']))
        print('rate per 100 ms (Hz): ' + ' '.join('%.2f' % r for r in res['rate_per_100ms_hz']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
