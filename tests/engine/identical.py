#!/usr/bin/python3
"""Runs one config at several rank counts and checks that the spikes (population, node id,
time) and every recorded trace are identical, bit for bit; optionally checks rate bounds.
With --also-set KEY=VALUE (repeatable), one more run at the last rank count with those
overrides must be identical too (e.g. the same network stored another way); --also-env
NAME=VALUE (repeatable) sets environment variables for that run (e.g. CONDLIF_DELIVERY).

  identical.py --condlif BIN --mpiexec "mpiexec -n" --ranks 1 2 3 4 --workdir DIR cfg
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "analysis"))
import condlif_io  # noqa: E402
import runs  # noqa: E402


def main():
    ap = runs.arg_parser(__doc__, [1, 2, 3, 4])
    ap.add_argument("--set", action="append", default=[], dest="sets")
    ap.add_argument("--also-set", action="append", default=[], dest="also_sets",
                    help="override of one more run, at the last rank count, that must agree")
    ap.add_argument("--also-env", action="append", default=[], dest="also_envs",
                    help="environment variable NAME=VALUE of that run")
    ap.add_argument("--rate", nargs=3, action="append", default=[],
                    metavar=("POP", "LOW", "HIGH"), help="mean rate bounds (Hz) of a population")
    ap.add_argument("--min-spikes", type=int, default=1)
    ap.add_argument("--min-traces", type=int, default=0)
    ap.add_argument("config")
    a = ap.parse_args()
    failures = 0
    ref = None
    jobs = [("P=%d" % P, P, "np%d" % P, a.sets, None) for P in a.ranks]
    if a.also_sets or a.also_envs:
        P = a.ranks[-1]
        env = dict(e.split("=", 1) for e in a.also_envs)
        jobs.append(("P=%d with %s" % (P, " ".join(a.also_envs + a.also_sets)), P, "also",
                     a.sets + a.also_sets, env))
    for label, P, sub, sets, env in jobs:
        out = os.path.join(a.workdir, sub)
        runs.run_condlif(a.condlif, a.mpiexec, P, a.config, out, sets, env=env)
        sp, rep, m = runs.spikes(out), runs.reports(out), runs.meta(out)
        total = sum(len(v[0]) for v in sp.values())
        if int(m["n_ranks"]) != P or "completed" not in m:
            print("FAIL: %s: metadata n_ranks=%s completed=%s" % (label, m["n_ranks"],
                                                                  m.get("completed")))
            failures += 1
        if ref is None:
            ref = (sp, rep, m)
            print("P=%d: %d spikes, %d report files, %d synapses" %
                  (P, total, sum(1 for k in rep if not k.endswith(":time")), m["n_synapses"]))
            if total < a.min_spikes:
                print("FAIL: only %d spikes (expected at least %d)" % (total, a.min_spikes))
                failures += 1
            traces = sum(len(v) for k, v in rep.items() if not k.endswith(":time"))
            if traces < a.min_traces:
                print("FAIL: only %d traces recorded (expected at least %d)" % (traces, a.min_traces))
                failures += 1
            t_s = float(m["t_stop_ms"]) / 1000.0
            sizes = condlif_io.population_sizes(out)
            for pop, lo, hi in a.rate:
                rate = len(sp[pop][1]) / t_s / sizes[pop]
                ok = float(lo) <= rate <= float(hi)
                print("%s: mean rate %.2f Hz (bounds %s..%s) %s" % (pop, rate, lo, hi,
                                                                    "ok" if ok else "FAIL"))
                failures += not ok
            continue
        sp1, rep1, m1 = ref
        if m["n_synapses"] != m1["n_synapses"]:
            print("FAIL: %s: %d synapses, P=%d: %d" % (label, m["n_synapses"], a.ranks[0],
                                                       m1["n_synapses"]))
            failures += 1
        if sorted(sp) != sorted(sp1):
            print("FAIL: %s: populations %s vs %s" % (label, sorted(sp), sorted(sp1)))
            failures += 1
        for pop in sp1:
            ids1, ts1 = sp1[pop]
            ids, ts = sp.get(pop, (np.array([]), np.array([])))
            same = (len(ids) == len(ids1) and np.array_equal(ids, ids1)
                    and np.array_equal(ts.view(np.uint64), ts1.view(np.uint64)))
            if not same:
                n = min(len(ts), len(ts1))
                first = next((i for i in range(n) if ids[i] != ids1[i] or ts[i] != ts1[i]), n)
                print("FAIL: %s: spikes of %s differ (%d vs %d spikes, first difference at "
                      "sorted index %d)" % (label, pop, len(ts), len(ts1), first))
                failures += 1
        for name, traces1 in rep1.items():
            traces = rep.get(name)
            if name.endswith(":time"):
                if traces is None or not np.array_equal(traces, traces1):
                    print("FAIL: %s: %s differs" % (label, name))
                    failures += 1
                continue
            if traces is None or sorted(traces) != sorted(traces1):
                print("FAIL: %s: report %s has other neurons" % (label, name))
                failures += 1
                continue
            bad = [n for n in traces1 if not np.array_equal(traces[n].view(np.uint32),
                                                              traces1[n].view(np.uint32))]
            if bad:
                print("FAIL: %s: report %s differs for neurons %s" % (label, name, bad[:10]))
                failures += 1
        print("%s: %d spikes, identical to P=%d: %s" % (label, total, a.ranks[0],
                                                        "no" if failures else "yes"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
