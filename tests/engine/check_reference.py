#!/usr/bin/python3
"""Runs a one-neuron config reproducing a scenario of the shared reference solutions and
compares condlif's files with them: the spike times (precise) and the recorded traces (float32
in the report, so to float32 resolution)."""
import csv
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runs  # noqa: E402

COLUMNS = {"V_m": "v_mV", "g_ex": "g_e_nS", "x_ex": "x_e_nS", "g_in": "g_i_nS", "x_in": "x_i_nS"}


def main():
    ap = runs.arg_parser(__doc__, [1])
    ap.add_argument("config")
    ap.add_argument("--trace", required=True, help="reference CSV")
    ap.add_argument("--spikes", required=True, help="reference spike times")
    ap.add_argument("--spike-tol", type=float, default=1e-5, help="ms")
    ap.add_argument("--v-tol", type=float, default=2e-5, help="mV")
    a = ap.parse_args()
    with open(a.trace) as f:
        rows = list(csv.DictReader(f))
    ref = {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}
    ref_spikes = np.loadtxt(a.spikes, comments="#", ndmin=1)
    failures = 0
    for P in a.ranks:
        out = os.path.join(a.workdir, "np%d" % P)
        runs.run_condlif(a.condlif, a.mpiexec, P, a.config, out)
        ts = runs.spikes(out)["n"][1]
        if len(ts) != len(ref_spikes):
            print("FAIL: P=%d: %d spikes, reference %d" % (P, len(ts), len(ref_spikes)))
            failures += 1
        else:
            err = np.max(np.abs(ts - ref_spikes)) if len(ts) else 0.0
            ok = err <= a.spike_tol
            print("P=%d: %d spikes, max time error %.3g ms (tolerance %g): %s"
                  % (P, len(ts), err, a.spike_tol, "ok" if ok else "FAIL"))
            failures += not ok
        rep = runs.reports(out)
        for var, col in COLUMNS.items():
            name = "n_%s.h5" % var
            if name not in rep:
                continue
            got = rep[name][0].astype(np.float64)
            want = ref[col][:len(got)]
            if len(got) != len(ref[col]) - 1:
                print("FAIL: P=%d: %s has %d samples, expected %d" % (P, name, len(got),
                                                                       len(ref[col]) - 1))
                failures += 1
            # float32 storage: half an ulp of the value, plus the scheme's own error
            tol = np.abs(want) * 2.0 ** -24 + (a.v_tol if var == "V_m" else 1e-9)
            err = np.abs(got - want) - tol
            worst = int(np.argmax(err))
            ok = err[worst] <= 0
            print("P=%d: %s: max |error| %.3g (at t = %.1f ms, beyond float32 rounding by %.3g): %s"
                  % (P, var, np.max(np.abs(got - want)), ref["t_ms"][worst], max(err[worst], 0),
                     "ok" if ok else "FAIL"))
            failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
