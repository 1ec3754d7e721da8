#!/usr/bin/python3
"""A run started from another run's state (simulation.initial_state) on the same network.

With tests/engine/fork.cfg, against one uninterrupted run of 400 ms on one rank:
- a run to 200 ms with simulation.checkpoint = "end" on P1 ranks, then a run of the same
  config from its state (the run directory, or its checkpoint.h5) to 400 ms on P2: its spike
  inputs resume, and the two parts' spikes are those of the uninterrupted run, bit for bit,
  and the second part's report samples are its samples from 200 ms on (mapping/time starts at
  the first of them); metadata initial_state and initial_state_ms, no continued_from_ms, the
  second part's own spike counts;
- a Poisson input whose definition changed (its weight) does not resume: it starts afresh
  (its events after 200 ms fall at other times), and does not repeat the first run's events
  (its intervals from 200 ms are not those from 0 ms);
- a start from that state with other stimuli and recording: a spike generator's time before
  200 ms is not injected, the one after is; a Poisson input that began at 0 ms starts afresh
  at 200 ms (no burst of the events before it);
- such a run stopped at 300 ms with a checkpoint and continued (--continue) to 400 ms: the
  run to 400 ms, with its report times;
- --check names the state; errors (exit status 2, nothing written): another network (a
  weight, a size, the seed), t_stop not after the state's time, no checkpoint there.

  check_fork.py --condlif BIN --mpiexec "mpiexec -n" --workdir DIR [--ranks 1 2 3 4] [--quick] cfg
"""
import math
import os
import shlex
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runs  # noqa: E402
from runs import check  # noqa: E402

T0, T_FULL, DT = 200.0, 400.0, 0.1


def merged(a, b):
    """The spikes of two parts as one run's (sorted by node id, then time)."""
    out = {}
    for k in set(a) | set(b):
        ids = np.concatenate([x[k][0] for x in (a, b) if k in x])
        ts = np.concatenate([x[k][1] for x in (a, b) if k in x])
        o = np.lexsort((ts, ids))
        out[k] = (ids[o], ts[o])
    return out


def later_samples(ref, part, label):
    """The part's report samples are the reference's from T0 on, at the same times."""
    for name, traces in part.items():
        if name.endswith(":time"):
            continue
        t_ref, t_part = ref[name + ":time"], part[name + ":time"]
        step = float(t_ref[2])
        k0 = int(math.ceil(round(T0 / step, 9)))
        check(abs(t_part[0] - k0 * step) < 1e-9 and t_part[2] == t_ref[2],
              "%s: %s mapping/time %r, expected a start at %r" % (label, name, t_part, k0 * step))
        for node, tr in traces.items():
            want = ref[name][node][k0:]
            check(np.array_equal(tr, want), "%s: %s node %d: %d samples differ from the run's "
                  "samples from %g ms" % (label, name, node, len(tr), T0))


def main():
    ap = runs.arg_parser(__doc__, [1, 2, 3, 4])
    ap.add_argument("--quick", action="store_true", help="one pair of rank counts")
    ap.add_argument("config")
    a = ap.parse_args()
    w = a.workdir
    os.makedirs(w, exist_ok=True)
    ref = os.path.join(w, "ref")
    runs.run_condlif(a.condlif, a.mpiexec, 1, a.config, ref)
    ref_spikes, ref_rep = runs.spikes(ref), runs.reports(ref)
    check(sum(len(v[0]) for v in ref_spikes.values()) > 1000, "the reference has few spikes")

    P = a.ranks
    pairs = [(P[i], P[(i + 1) % len(P)]) for i in range(1 if a.quick else len(P))]
    for P1, P2 in pairs:
        label = "from the state at %g ms of %d ranks, on %d" % (T0, P1, P2)
        warm = os.path.join(w, "warm_%d" % P1)
        runs.run_condlif(a.condlif, a.mpiexec, P1, a.config, warm,
                         ["simulation.t_stop=%r ms" % T0, 'simulation.checkpoint="end"'])
        fork = os.path.join(w, "fork_%d_%d" % (P1, P2))
        where = warm if P2 % 2 else os.path.join(warm, "checkpoint.h5")
        runs.run_condlif(a.condlif, a.mpiexec, P2, a.config, fork,
                         ['simulation.initial_state="%s"' % where])
        check(runs.same_spikes(merged(runs.spikes(warm), runs.spikes(fork)), ref_spikes),
              "%s: the two parts' spikes are not the uninterrupted run's" % label)
        later_samples(ref_rep, runs.reports(fork), label)
        m, mw = runs.meta(fork), runs.meta(warm)
        check(m.get("initial_state") == where and float(m.get("initial_state_ms", -1)) == T0,
              "%s: metadata initial_state %r at %r" % (label, m.get("initial_state"),
                                                       m.get("initial_state_ms")))
        check("continued_from_ms" not in m, "%s: continued_from_ms in a run that is no "
              "continuation" % label)
        n_fork = {k: len(v[1]) for k, v in runs.spikes(fork).items()}
        check(all(m["spike_counts"][k] == n_fork[k] for k in ("exc", "noise", "gen")),
              "%s: spike counts %r, its spikes %r" % (label, m["spike_counts"], n_fork))
        check(m["spike_counts"]["exc"] + mw["spike_counts"]["exc"]
              == runs.meta(ref)["spike_counts"]["exc"], "%s: exc's counts do not add up" % label)

    # a changed Poisson input starts afresh: x_in of the probe jumps at other steps
    warm = os.path.join(w, "warm_%d" % P[0])
    changed = os.path.join(w, "changed")
    runs.run_condlif(a.condlif, a.mpiexec, P[0], a.config, changed,
                     ['simulation.initial_state="%s"' % warm, 'stimuli.pp.weight="2 nS"'])
    def jumps(trace):
        return set(np.nonzero(np.diff(trace) > 0)[0])
    same = jumps(runs.reports(os.path.join(w, "fork_%d_%d" % pairs[0]))["pp_x_in.h5"][0])
    new = jumps(runs.reports(changed)["pp_x_in.h5"][0])
    check(len(same) > 20 and len(new) > 20 and len(same & new) < len(same) / 2,
          "a changed Poisson input: %d of its %d events at the steps of the unchanged one's %d "
          "(it must start afresh)" % (len(same & new), len(new), len(same)))
    first = jumps(runs.reports(warm)["pp_x_in.h5"][0])  # steps from 0 ms, as `new` from 200
    check(len(first & new) < len(first) / 2,
          "a changed Poisson input: %d of its %d events after 200 ms repeat the first run's "
          "intervals from 0 ms (%d)" % (len(first & new), len(new), len(first)))

    # other stimuli and recording from the same state
    own = ['simulation.initial_state="%s"' % warm,
           'stimuli=({name="late"; type="spike_generator"; target="probe"; times=[150.0, 250.0];'
           ' weight="2 nS"; receptor="excitatory";},'
           ' {name="drive"; type="poisson"; target="probe"; rate="1 kHz"; weight="1 nS";'
           ' receptor="inhibitory";})',
           'recording={reports=({name="probe"; population="probe"; variables=["x_ex", "x_in"];'
           ' interval="0.1 ms";});}']
    other = os.path.join(w, "other")
    runs.run_condlif(a.condlif, a.mpiexec, P[-1], a.config, other, own)
    rep = runs.reports(other)
    x_ex, x_in = rep["probe_x_ex.h5"][0], rep["probe_x_in.h5"][0]
    t = rep["probe_x_ex.h5:time"][0] + rep["probe_x_ex.h5:time"][2] * np.arange(len(x_ex))
    check(abs(t[0] - T0) < 1e-9, "other stimuli: the probe's samples start at %r" % t[0])
    check(np.all(x_ex[t < 250.0 - 1e-9] == 0.0) and x_ex[np.argmin(abs(t - 250.0))] > 5.0,
          "other stimuli: the spike generator's x_ex %r at 200 ms, %r at 250 ms: its time before "
          "the state's must not be injected, the one after must" % (x_ex[0], x_ex[500]))
    # about 1 event per ms from 200 ms on, none of 0-200 ms: x_in at 200 ms holds no burst of
    # some 200 events (e w = 2.7 nS each; what it holds is the state's decaying input of "pp")
    n_jumps = int(np.sum(np.diff(x_in[:501]) > 0))
    check(x_in[0] < 20.0 and 20 < n_jumps < 100,
          "other stimuli: the Poisson input's x_in %r at 200 ms, %d events in 50 ms"
          % (x_in[0], n_jumps))

    # a run from the state, stopped with a checkpoint and continued
    part = os.path.join(w, "part")
    runs.run_condlif(a.condlif, a.mpiexec, P[0], a.config, part,
                     own + ["simulation.t_stop=300ms", 'simulation.checkpoint="end"'])
    cmd = shlex.split(a.mpiexec) + [str(P[-1]), a.condlif, "--quiet", "--continue", part,
                                    "--set", "simulation.t_stop=400ms"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    check(p.returncode == 0, "continuing a run from a state: exit %d: %s" % (p.returncode,
                                                                            p.stderr.strip()))
    check(runs.same_spikes(runs.spikes(part), runs.spikes(other)) and
          all(np.array_equal(v, runs.reports(other)[k]) if k.endswith(":time") else
              all(np.array_equal(tr, runs.reports(other)[k][n]) for n, tr in v.items())
              for k, v in runs.reports(part).items()),
          "a run from a state, continued from its checkpoint, is not the run without the stop")
    m = runs.meta(part)
    check(float(m.get("initial_state_ms", -1)) == T0 and float(m.get("continued_from_ms", -1))
          == 300.0, "continued run from a state: metadata %r / %r"
          % (m.get("initial_state_ms"), m.get("continued_from_ms")))

    # --check, and the errors
    base = shlex.split(a.mpiexec) + [str(P[0]), a.condlif]
    p = subprocess.run(base + ["--check", "--set", 'simulation.initial_state="%s"' % warm,
                               a.config], capture_output=True, text=True)
    check(p.returncode == 0 and "starts at t = 200 ms from the state of %s" % warm in p.stdout
          and "spike inputs going on from that state (same name and definition): bg, bg_inh, "
          "kick, pp\n" in p.stdout, "--check: %s%s" % (p.stdout[-600:], p.stderr))
    bad = [(["projections.exc->inh.weight=3nS"], "projections.exc->inh"),
           (["populations.probe.size=2"], "populations.probe"),
           (["simulation.seed=12"], "simulation.seed = 12 here"),
           (["simulation.t_stop=200ms"], "is not after the time of the initial state"),
           (['simulation.initial_state="%s"' % os.path.join(w, "none")], "No such file")]
    for sets, expect in bad:
        out = os.path.join(w, "bad")
        cmd = base + ["-o", out]
        if not any(s.startswith("simulation.initial_state") for s in sets):
            sets = sets + ['simulation.initial_state="%s"' % warm]
        for s in sets:
            cmd += ["--set", s]
        p = subprocess.run(cmd + [a.config], capture_output=True, text=True)
        check(p.returncode == 2 and expect in p.stderr and not os.path.exists(out),
              "%s: exit %d, %r (expected %r and nothing written)" % (sets, p.returncode,
                                                                     p.stderr.strip(), expect))
    if runs.failures:
        sys.exit("%d check(s) failed" % runs.failures)
    print("ok")


if __name__ == "__main__":
    main()
