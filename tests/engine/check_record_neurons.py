#!/usr/bin/python3
"""record_spikes naming neurons: only their spikes are written, and exactly theirs.

condlif runs the config once with every spike recorded (1 rank) and then, at each rank count,
with `populations.exc.record_spikes` naming some neurons (ranges and single ids, a few of
each rank's). The narrowed runs must hold exactly the full run's spikes of those neurons of
exc (same node ids, same times), all of inh, the attribute recorded_nodes = the number named
(the population's size for inh), and the same spike counts in the metadata (which count every
spike, recorded or not). Then tests/engine/tiny.cfg (3 neurons, so at 4 ranks one rank owns
none) with one neuron named: its spikes only, at every rank count.

  check_record_neurons.py --condlif BIN --mpiexec "mpiexec -n" --workdir DIR config
"""
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import runs  # noqa: E402
from runs import check  # noqa: E402

SELECTION = '("0-99", 500, 1001, "3000-3199")'
SELECTED = set(range(0, 100)) | {500, 1001} | set(range(3000, 3200))
T_STOP = "simulation.t_stop=300 ms"


def recorded_nodes(out):
    with h5py.File(os.path.join(out, "spikes.h5"), "r") as f:
        return {name: int(g.attrs["recorded_nodes"]) for name, g in f["spikes"].items()}


def main():
    ap = runs.arg_parser(__doc__, ranks=(1, 2, 3, 4))
    ap.add_argument("config")
    a = ap.parse_args()
    full_out = os.path.join(a.workdir, "full")
    runs.run_condlif(a.condlif, a.mpiexec, 1, a.config, full_out, sets=[T_STOP])
    full = runs.spikes(full_out)
    ids, ts = full["exc"]
    keep = np.isin(ids, sorted(SELECTED))
    expect = dict(full, exc=(ids[keep], ts[keep]))
    check(0 < keep.sum() < ids.size, "the full run has spikes of named and of other neurons "
          "(%d of %d)" % (keep.sum(), ids.size))
    check(recorded_nodes(full_out) == {"exc": 3200, "inh": 800},
          "recorded_nodes of the full run: the populations' sizes: %r" % recorded_nodes(full_out))
    counts = runs.meta(full_out)["spike_counts"]
    for P in a.ranks:
        out = os.path.join(a.workdir, "np%d" % P)
        runs.run_condlif(a.condlif, a.mpiexec, P, a.config, out,
                         sets=[T_STOP, "populations.exc.record_spikes=" + SELECTION])
        got = runs.spikes(out)
        check(runs.same_spikes(got, expect), "%d ranks: the spikes of the named exc neurons and "
              "all of inh, exactly the full run's" % P)
        check(recorded_nodes(out) == {"exc": len(SELECTED), "inh": 800},
              "%d ranks: recorded_nodes %r" % (P, recorded_nodes(out)))
        check(runs.meta(out)["spike_counts"] == counts,
              "%d ranks: the metadata counts every spike: %r" % (P, runs.meta(out)["spike_counts"]))
    tiny = os.path.join(HERE, "tiny.cfg")
    full_out = os.path.join(a.workdir, "tiny_full")
    runs.run_condlif(a.condlif, a.mpiexec, 1, tiny, full_out)
    ids, ts = runs.spikes(full_out)["p"]
    check(np.any(ids == 1) and np.any(ids != 1), "tiny.cfg: neuron 1 and others fire")
    for P in a.ranks:
        out = os.path.join(a.workdir, "tiny_np%d" % P)
        runs.run_condlif(a.condlif, a.mpiexec, P, tiny, out,
                         sets=["populations.p.record_spikes=[1]"])
        got = runs.spikes(out)["p"]
        check(np.array_equal(got[0], ids[ids == 1]) and np.array_equal(got[1], ts[ids == 1]),
              "tiny.cfg, %d ranks: the spikes of neuron 1 only" % P)
    print("%d failure(s)" % runs.failures)
    sys.exit(1 if runs.failures else 0)


if __name__ == "__main__":
    main()
