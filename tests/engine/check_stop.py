#!/usr/bin/python3
"""A run stopped by a signal: every rank stops after the same step, the output holds the run up
to there, and it is the beginning of the uninterrupted run, bit for bit.

At each rank count, condlif runs tests/engine/stop.cfg (1000 s of simulated time, far more
than the test waits) under mpiexec; once it writes, mpiexec gets SIGUSR1, which it forwards to
every rank. condlif must exit with status 3 and say so; its metadata must hold the time reached
(a whole number of steps) and no `completed` marker; then a run of the same config on one rank
with t_stop set to that time must give the same spikes and the same V_m report, and its report's
time axis must end where the stopped one's does. Last, SIGTERM to condlif run without mpiexec
(a singleton: what a batch system's time limit sends) does the same, and its --progress
output, into a pipe, is whole lines.

  check_stop.py --condlif BIN --mpiexec "mpiexec -n" --workdir DIR [--ranks 1 2 3 4] cfg
"""
import os
import shlex
import signal
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import runs  # noqa: E402
from runs import check  # noqa: E402


def compare(label, out, ref_dir, condlif, mpiexec, config, dt):
    m = runs.meta(out)
    t = float(m["t_stop_ms"])
    steps = t / dt
    check("completed" not in m, "%s: a completed marker after a stop" % label)
    check(0 < t < 1e6 and abs(steps - round(steps)) < 1e-6,
          "%s: t_stop_ms %r is not a whole number of steps below 1e6 ms" % (label, t))
    sp = runs.spikes(out)
    n = sum(len(v[0]) for v in sp.values())
    check(n > 1000, "%s: only %d spikes before the stop" % (label, n))
    check(all(len(ts) == 0 or ts.max() <= t for _, ts in sp.values()),
          "%s: spikes after t_stop_ms %r" % (label, t))
    runs.run_condlif(condlif, mpiexec, 1, config, ref_dir, ["simulation.t_stop=%r ms" % t])
    ref_meta = runs.meta(ref_dir)
    check("completed" in ref_meta and float(ref_meta["t_stop_ms"]) == t,
          "%s: the reference run to %r ms: %r" % (label, t, ref_meta))
    ref = runs.spikes(ref_dir)
    check(runs.same_spikes(sp, ref), "%s: spikes differ from the run to %r ms (%d against %d)"
          % (label, t, n, sum(len(v[0]) for v in ref.values())))
    rep, rref = runs.reports(out), runs.reports(ref_dir)
    check(set(rep) == set(rref) and len(rep) == 2, "%s: report files %r against %r"
          % (label, sorted(rep), sorted(rref)))
    for k in rref:
        if k.endswith(":time"):
            # samples at 0, step, ... up to t_stop (exclusive): stop = samples x step
            start, stop, step = rref[k]
            rows = len(next(iter(rref[k[:-5]].values())))
            check(np.array_equal(rep.get(k), rref[k]) and stop == rows * step and
                  stop - step < t <= stop,
                  "%s: report time %r against %r, %d samples, t_stop %r"
                  % (label, rep.get(k), rref[k], rows, t))
        else:
            got = rep.get(k, {})
            check(set(got) == set(rref[k]) and
                  all(np.array_equal(got[i], rref[k][i]) for i in rref[k]),
                  "%s: report %s differs from the run to %r ms" % (label, k, t))
    return m


def main():
    ap = runs.arg_parser(__doc__, [1, 2, 3, 4])
    ap.add_argument("config")
    a = ap.parse_args()
    dt = 0.1
    for P in a.ranks:
        out = os.path.join(a.workdir, "np%d" % P)
        cmd = shlex.split(a.mpiexec) + [str(P), a.condlif, "--quiet", "--force", "-o", out,
                                         a.config]
        rc, text = runs.stopped_run(cmd, out, signal.SIGUSR1)
        label = "P=%d, SIGUSR1 to mpiexec" % P
        check(rc == 3, "%s: exit status %r, expected 3: %s" % (label, rc, text[-2000:]))
        check("condlif: stopped by SIGUSR1 at t = " in text, "%s: message: %s" % (label, text))
        if rc == 3:
            m = compare(label, out, os.path.join(a.workdir, "ref%d" % P), a.condlif, a.mpiexec,
                        a.config, dt)
            check(int(m["n_ranks"]) == P, "%s: n_ranks %r" % (label, m["n_ranks"]))
    out = os.path.join(a.workdir, "term")
    rc, text = runs.stopped_run([a.condlif, "--force", "--progress", "-o", out, a.config], out,
                           signal.SIGTERM)
    label = "SIGTERM to a singleton"
    check(rc == 3, "%s: exit status %r, expected 3: %s" % (label, rc, text[-2000:]))
    check("condlif: stopped by SIGTERM at t = " in text and " spikes in " in text,
          "%s: summary and message: %s" % (label, text))
    # --progress into a pipe (a job's log): whole lines, no carriage returns; the last one at
    # the stop
    lines = [l for l in text.splitlines() if l.startswith("condlif: t = ")]
    check("\r" not in text and lines and " / 1000000.0 ms (" in lines[-1],
          "%s: progress lines in a log: %r" % (label, text[:2000]))
    if rc == 3:
        compare(label, out, os.path.join(a.workdir, "ref_term"), a.condlif, a.mpiexec, a.config,
                dt)
    if runs.failures:
        print("check_stop: %d check(s) failed" % runs.failures)
        return 1
    print("check_stop: stopped runs at %s ranks and a singleton agree with the runs to their "
          "stop times" % a.ranks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
