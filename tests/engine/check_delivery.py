#!/usr/bin/python3
"""Delivery semantics on delivery.cfg at each rank count: the input of a spike with delay d
appears in the target's x_ex exactly at the grid point t_{n+1} + d (n: the step holding the
spike), with x jumping by e * w; after it, x_ex and g_ex of t1, t2, t3 (three different tau_ex)
follow the exact alpha function. With --also-set KEY=VALUE (repeatable), every rank count is
run again with those settings (e.g. a weight drawn, so that each synapse stores its own
weight instead of an entry in the weight table) and must pass the same checks."""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runs  # noqa: E402

DT = 0.1


def first_arrival(trace):
    nz = np.nonzero(trace)[0]
    return (int(nz[0]), float(trace[nz[0]])) if len(nz) else (None, 0.0)


def check_alpha(P, name, rep, step, w, tau):
    """x_ex and g_ex of `name` from the input of weight w at `step` on: the exact alpha
    function, to float32 rounding (2e-7 of the peak). Returns the number of failures."""
    bad = 0
    for var, peak in (("x_ex", math.e * w), ("g_ex", w)):
        got = np.asarray(rep["%s_%s.h5" % (name, var)][0], dtype=float)
        s = (np.arange(len(got)) - step) * DT / tau  # (t - t_a) / tau
        exact = np.where(s >= 0, math.e * w * np.exp(-np.maximum(s, 0.0)), 0.0)
        if var == "g_ex":
            exact = exact * np.maximum(s, 0.0)
        err = np.abs(got - exact) / peak
        k = int(np.argmax(err))
        ok = err[k] <= 2e-7 and len(got) >= step + 100
        print("P=%d %s %s (tau_ex %g ms): %d samples, largest error %.2e of the peak at %.1f ms: %s"
              % (P, name, var, tau, len(got), err[k], k * DT, "ok" if ok else "FAIL"))
        bad += not ok
    return bad


def main():
    ap = runs.arg_parser(__doc__, [1, 4])
    ap.add_argument("--also-set", action="append", default=[], dest="also_sets",
                    metavar="KEY=VALUE")
    ap.add_argument("config")
    a = ap.parse_args()
    failures = 0
    jobs = [(P, ()) for P in a.ranks]
    if a.also_sets:
        jobs += [(P, tuple(a.also_sets)) for P in a.ranks]
    for P, sets in jobs:
        out = os.path.join(a.workdir, "np%d%s" % (P, "_also" if sets else ""))
        if sets:
            print("P=%d with %s" % (P, " ".join(sets)))
        runs.run_condlif(a.condlif, a.mpiexec, P, a.config, out, sets=sets)
        sp = runs.spikes(out)
        rep = runs.reports(out)
        t_a = sp["a"][1]
        if len(t_a) != 1:
            print("FAIL: P=%d: neuron a fired %d times, expected once" % (P, len(t_a)))
            failures += 1
            continue
        n_a = math.ceil(t_a[0] / DT - 1e-9) - 1  # step whose interval (t_n, t_n+1] holds it
        expect = {"t1_x_ex.h5": (100 + 1, 1.0), "t2_x_ex.h5": (100 + 10, 2.0),
                  "t3_x_ex.h5": (100 + 23, 3.0), "b_x_ex.h5": (n_a + 1 + 17, 0.5)}
        for name, (step, w) in expect.items():
            got, x = first_arrival(rep[name][0])
            ok = got == step and abs(x - math.e * w) <= 1e-6 * math.e * w
            print("P=%d %s: input at step %s (t = %s ms), x = %.7g; expected step %d, x = %.7g: %s"
                  % (P, name, got, None if got is None else round(got * DT, 6), x, step,
                     math.e * w, "ok" if ok else "FAIL"))
            failures += not ok
        print("P=%d: neuron a spiked at %.9f ms (step %d)" % (P, t_a[0], n_a))
        for name, step, w, tau in (("t1", 101, 1.0, 0.2), ("t2", 110, 2.0, 5.0),
                                   ("t3", 123, 3.0, 0.7)):
            failures += check_alpha(P, name, rep, step, w, tau)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
