#!/usr/bin/python3
"""Delivery semantics on delivery.cfg at each rank count: the input of a spike with delay d
appears in the target's x_ex exactly at the grid point t_{n+1} + d (n: the step holding the
spike), with x jumping by e * w."""
import argparse
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


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--condlif", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--workdir", required=True)
    ap.add_argument("config")
    a = ap.parse_args()
    failures = 0
    for P in a.ranks:
        out = os.path.join(a.workdir, "np%d" % P)
        runs.run_condlif(a.condlif, a.mpiexec, P, a.config, out)
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
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
