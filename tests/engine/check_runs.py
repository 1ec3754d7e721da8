#!/usr/bin/python3
"""Populations stepped together: the excitatory and inhibitory populations of COBA-alpha share
one neuron model, so one kernel call steps both (cl_network_kernel_run), over the padding
between them where a rank's share of the first is not a multiple of 8. The same config with a
dc current of 0 pA on the inhibitory population steps them one by one (a population with a
current is stepped alone) and must give the same spikes, bit for bit, at every rank count.

  check_runs.py --condlif BIN --mpiexec "mpiexec -n" --ranks 1 3 --workdir DIR cfg
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import runs  # noqa: E402


def main():
    ap = runs.arg_parser(__doc__, [1, 3])
    ap.add_argument("--min-spikes", type=int, default=1000)
    ap.add_argument("config")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    alone = os.path.join(a.workdir, "alone.cfg")
    with open(a.config) as f, open(alone, "w") as g:
        g.write(f.read())
        g.write('\nstimuli = ( { type = "dc"; target = "inh"; amplitude = "0 pA"; } );\n')
    sets = ["simulation.t_stop=300ms"]
    for P in a.ranks:
        together, apart = (os.path.join(a.workdir, "%s_np%d" % (k, P)) for k in ("together",
                                                                               "apart"))
        runs.run_condlif(a.condlif, a.mpiexec, P, a.config, together, sets)
        runs.run_condlif(a.condlif, a.mpiexec, P, alone, apart, sets)
        st, sa = runs.spikes(together), runs.spikes(apart)
        total = sum(len(v[0]) for v in st.values())
        print("P=%d: %d spikes stepped together, %d one population at a time" %
              (P, total, sum(len(v[0]) for v in sa.values())))
        runs.check(total >= a.min_spikes, "P=%d: only %d spikes" % (P, total))
        runs.check(runs.same_spikes(st, sa), "P=%d: the spikes differ" % P)
    sys.exit(1 if runs.failures else 0)


if __name__ == "__main__":
    main()
