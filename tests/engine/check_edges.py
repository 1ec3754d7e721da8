#!/usr/bin/python3
"""edges.h5: the synapses of the projections that record them, the same bytes on any rank count.

condlif runs tests/engine/edges.cfg (every connection rule; one projection not recorded) at each
rank count. Every run's edges.h5 must hold exactly the datasets and attributes of the 1-rank run.
The 1-rank file must hold the recorded projections only, in SONATA layout (node populations,
edge_type_id the projection's index, group 0 with syn_weight in nS and delay in ms), ordered
by target node (by source node for fixed_outdegree), and each rule's synapses as configured:
in- and out-degrees, no autapses or multapses where they are off, weights and delays within
their distributions and rounded to steps; the recorded and unrecorded synapses together are
the metadata's n_synapses. The run's summary and `condlif_io.py edges` must describe the file.

  check_edges.py --condlif BIN --mpiexec "mpiexec -n" --workdir DIR edges.cfg
"""
import os
import shlex
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import runs  # noqa: E402
from runs import check  # noqa: E402

IO = os.path.join(HERE, "..", "..", "analysis", "condlif_io.py")
DATASETS = ("source_node_id", "target_node_id", "edge_type_id", "edge_group_id",
            "edge_group_index", "0/syn_weight", "0/delay")
SIZES = {"exc": 60, "inh": 17, "src": 9}
# name: (config index, source, target, receptor, rule) of the recorded projections
RECORDED = {
    "exc->inh": (0, "exc", "inh", "excitatory", "fixed_indegree"),
    "exc_exc_distinct": (1, "exc", "exc", "excitatory", "fixed_indegree"),
    "inh->exc": (2, "inh", "exc", "inhibitory", "pairwise_bernoulli"),
    "src->exc": (3, "src", "exc", "excitatory", "fixed_outdegree"),
    "inh->inh": (4, "inh", "inh", "inhibitory", "fixed_outdegree"),
    "exc->exc": (5, "exc", "exc", "excitatory", "fixed_total_number"),
    "inh_inh_all": (8, "inh", "inh", "excitatory", "all_to_all"),
}
UNRECORDED = 60 + 9 * 17  # exc_exc_self (one_to_one) and src->inh (all_to_all)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def read(path):
    """{population: {dataset: array, "@attr": value, "<dataset>@<attr>": value}}."""
    out = {}
    with h5py.File(path, "r") as f:
        check(int(f.attrs["magic"]) == 0x0A7A and list(f.attrs["version"]) == [0, 1],
              "%s: SONATA root attributes magic and version" % path)
        for name, g in f["edges"].items():
            d = {"@" + a: text(g.attrs[a]) for a in g.attrs}
            for ds in DATASETS:
                d[ds] = g[ds][...]
                d[ds + ":dtype"] = g[ds].dtype.str
                for a in g[ds].attrs:
                    d[ds + "@" + a] = text(g[ds].attrs[a])
            out[name] = d
    return out


def same(a, b):
    if set(a) != set(b):
        return False
    for name in a:
        if set(a[name]) != set(b[name]):
            return False
        for k, v in a[name].items():
            w = b[name][k]
            if isinstance(v, np.ndarray) != isinstance(w, np.ndarray):
                return False
            if isinstance(v, np.ndarray) and not (v.dtype == w.dtype and np.array_equal(v, w)):
                return False
            if not isinstance(v, np.ndarray) and v != w:
                return False
    return True


def counts(ids, size):
    return np.bincount(ids.astype(np.int64), minlength=size)


def check_rules(e, dt):
    check(set(e) == set(RECORDED), "edge populations %s, expected %s"
          % (sorted(e), sorted(RECORDED)))
    for name, (index, src, tgt, receptor, rule) in RECORDED.items():
        if name not in e:
            continue
        d = e[name]
        s, t, w, dl = d["source_node_id"], d["target_node_id"], d["0/syn_weight"], d["0/delay"]
        n = s.size
        check(d["source_node_id@node_population"] == src
              and d["target_node_id@node_population"] == tgt,
              "%s: node populations %s, %s" % (name, src, tgt))
        check(d["@receptor"] == receptor and d["@rule"] == rule,
              "%s: attributes receptor %s, rule %s" % (name, receptor, rule))
        check(d["0/syn_weight@units"] == "nS" and d["0/delay@units"] == "ms",
              "%s: units nS and ms" % name)
        check(d["source_node_id:dtype"] == "<u8" and d["target_node_id:dtype"] == "<u8"
              and d["edge_type_id:dtype"] == "<i8" and d["edge_group_id:dtype"] == "<u4"
              and d["edge_group_index:dtype"] == "<u8" and d["0/syn_weight:dtype"] == "<f8",
              "%s: dtypes" % name)
        check(np.all(d["edge_type_id"] == index) and np.all(d["edge_group_id"] == 0)
              and np.array_equal(d["edge_group_index"], np.arange(n)),
              "%s: edge_type_id %d, edge_group_id 0, edge_group_index 0..n-1" % (name, index))
        check(s.max(initial=0) < SIZES[src] and t.max(initial=0) < SIZES[tgt],
              "%s: node ids within the populations" % name)
        by_source = rule == "fixed_outdegree"
        unit = s if by_source else t
        check(d["@sorting"] == ("by_source" if by_source else "by_target")
              and np.all(np.diff(unit.astype(np.int64)) >= 0),
              "%s: rows ordered by %s node" % (name, "source" if by_source else "target"))
        steps = dl / dt
        check(np.all(np.abs(steps - np.round(steps)) < 1e-9) and np.all(np.round(steps) >= 1),
              "%s: delays are whole steps of dt, at least one" % name)
        pairs = s.astype(np.int64) * 1000 + t.astype(np.int64)
        if name == "exc->inh":
            check(np.all(counts(t, 17) == 6), "exc->inh: in-degree 6 everywhere")
            check(np.all(w == 2.0) and np.all(dl == 1.5), "exc->inh: weight 2 nS, delay 1.5 ms")
        elif name == "exc_exc_distinct":
            check(np.all(counts(t, 60) == 8), "exc_exc_distinct: in-degree 8")
            check(np.all(s != t) and np.unique(pairs).size == n,
                  "exc_exc_distinct: no autapses, no multapses")
            check(np.all((w >= 1.0) & (w <= 3.0)) and np.unique(w).size > n // 2,
                  "exc_exc_distinct: weights drawn in [1, 3] nS")
            check(np.all(dl == 1.0), "exc_exc_distinct: the default delay of 1 ms")
        elif name == "inh->exc":
            expect = 0.2 * 17 * 60
            check(abs(n - expect) < 4 * np.sqrt(expect * 0.8),
                  "inh->exc: %d synapses for an expected %g" % (n, expect))
            check(np.unique(pairs).size == n, "inh->exc: pairwise, each pair at most once")
            check(np.all(w >= 0.5) and np.unique(w).size > n // 2,
                  "inh->exc: weights drawn, at least 0.5 nS")
            check(np.all((dl >= 0.5 - 1e-12) & (dl <= 3.0 + 1e-12))
                  and np.unique(dl).size > 5, "inh->exc: delays drawn in [0.5, 3] ms")
        elif name == "src->exc":
            check(np.all(counts(s, 9) == 9), "src->exc: out-degree 9")
            check(np.all(w == 4.0), "src->exc: weight 4 nS")
        elif name == "inh->inh":
            check(np.all(counts(s, 17) == 5), "inh->inh: out-degree 5")
            check(np.all(s != t) and np.unique(pairs).size == n,
                  "inh->inh: no autapses, no multapses")
            check(np.all(dl == 2.0), "inh->inh: delay 2 ms")
        elif name == "exc->exc":
            check(n == 333 and np.all(s != t), "exc->exc: 333 synapses, no autapses")
        elif name == "inh_inh_all":
            check(n == 17 * 16 and np.unique(pairs).size == n and np.all(s != t),
                  "inh_inh_all: every ordered pair but the autapses, once")
            check(np.all(w == np.float64(np.float32(0.2))),
                  "inh_inh_all: weight 0.2 nS as stored (float)")


def main():
    ap = runs.arg_parser(__doc__, ranks=(1, 2, 3, 4))
    ap.add_argument("config")
    a = ap.parse_args()
    ref = None
    for P in a.ranks:
        out = os.path.join(a.workdir, "np%d" % P)
        runs.run_condlif(a.condlif, a.mpiexec, P, a.config, out)
        e = read(os.path.join(out, "edges.h5"))
        if ref is None:
            ref, ref_out = e, out
            check_rules(e, float(runs.meta(out)["dt_ms"]))
            total = sum(d["source_node_id"].size for d in e.values())
            n_syn = int(runs.meta(out)["n_synapses"])
            check(total + UNRECORDED == n_syn, "recorded %d + unrecorded %d synapses = %d, the "
                  "metadata's n_synapses" % (total, UNRECORDED, n_syn))
        else:
            check(same(ref, e), "%d ranks: edges.h5 differs from the 1-rank run's" % P)
    # the run's summary names the file
    out = os.path.join(a.workdir, "summary")
    p = subprocess.run(shlex.split(a.mpiexec) + ["1", a.condlif, "--force", "-o", out, a.config],
                       capture_output=True, text=True)
    check(p.returncode == 0 and "edges.h5: %d synapses of %d projections, written in"
          % (total, len(RECORDED)) in p.stdout, "the summary names edges.h5:\n" + p.stdout)
    summary = subprocess.run([sys.executable, IO, "edges", ref_out], capture_output=True,
                             text=True)
    check(summary.returncode == 0 and "exc->inh: exc -> inh, excitatory, fixed_indegree, "
          "102 synapses" in summary.stdout
          and "in-degree  min 6  mean 6  max 6  (over the 17 neurons of inh)" in summary.stdout,
          "condlif_io.py edges summarises the file:\n" + summary.stdout + summary.stderr)
    print("%d failure(s)" % runs.failures)
    sys.exit(1 if runs.failures else 0)


if __name__ == "__main__":
    main()
