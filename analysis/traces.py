#!/usr/bin/python3
"""State traces (V_m, g_ex, g_in, ...) of recorded neurons of a condlif run.

Reads every SONATA report file of the run directory (<report>_<var>.h5). One column of panels
per population, one row per variable; the chosen neurons are overlaid, each in its own colour,
and their spike times from spikes.h5 are marked: a triangle above the V_m trace and a faint
vertical line in every panel. The file format follows the output's extension (.png, .svg, .pdf).
"""

import argparse
import collections
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import condlif_io  # noqa: E402

def _order(var):
    known = condlif_io.KNOWN_VARIABLES
    return (known.index(var) if var in known else len(known), var)


def collect(reports, populations, variables, ids, max_neurons):
    """{population: {variable: Report}} and {population: [node ids to show]}."""
    table = collections.OrderedDict()
    for r in reports:
        if populations and r.population not in populations:
            continue
        if variables and r.variable not in variables:
            continue
        table.setdefault(r.population, {})[r.variable] = r
    shown = {}
    for pop, by_var in table.items():
        recorded = sorted(set.intersection(*(set(r.node_ids.tolist()) for r in by_var.values())))
        chosen = [i for i in ids if i in recorded] if ids else recorded[:max_neurons]
        shown[pop] = chosen
    return table, shown


def plot_traces(table, shown, spikes, t_start, t_stop, title=None):
    pops = [p for p in table if shown[p]]
    variables = sorted({v for p in pops for v in table[p]}, key=_order)
    fig, axes = plt.subplots(len(variables), len(pops), sharex=True, squeeze=False,
                             figsize=(4.0 + 4.5 * len(pops), 0.8 + 2.2 * len(variables)))
    for c, pop in enumerate(pops):
        s = spikes.get(pop)
        for r_, var in enumerate(variables):
            ax = axes[r_, c]
            rep = table[pop].get(var)
            if rep is None:
                ax.set_visible(False)
                continue
            win = (rep.times >= t_start) & (rep.times <= t_stop)
            for k, nid in enumerate(shown[pop]):
                colour = "C%d" % (k % 10)
                i = int(np.flatnonzero(rep.node_ids == nid)[0])
                col = int(rep.index_pointers[i])
                ax.plot(rep.times[win], rep.data[win, col], color=colour, linewidth=0.8,
                        label="%s %d" % (pop, nid) if r_ == 0 else None)
                if s is not None:
                    st = s.times[(s.node_ids == nid) & (s.times >= t_start) & (s.times <= t_stop)]
                    for t in st:
                        ax.axvline(t, color=colour, alpha=0.25, linewidth=0.6)
                    if var == "V_m" and st.size:
                        top = float(np.nanmax(rep.data[win, col])) if win.any() else 0.0
                        ax.plot(st, np.full(st.size, top + 1.0), "v", color=colour,
                                markersize=4)
            ax.set_ylabel("%s / %s" % (var, rep.units) if rep.units else var)
            if r_ == 0:
                ax.set_title(pop)
                ax.legend(loc="upper right", fontsize=7, ncol=2)
        axes[-1, c].set_xlabel("time / ms")
        axes[-1, c].set_xlim(t_start, t_stop)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="run directory")
    ap.add_argument("-o", "--output",
                    help="image file, .png/.svg/.pdf (default: <run dir>/traces.png)")
    ap.add_argument("-p", "--population", action="append",
                    help="population to plot (repeatable; default: every recorded one)")
    ap.add_argument("-v", "--variable", action="append",
                    help="variable to plot, e.g. V_m (repeatable; default: every recorded one)")
    ap.add_argument("--ids", type=lambda s: [int(x) for x in s.split(",") if x],
                    help="comma-separated node ids (within the population) to show")
    ap.add_argument("--max-neurons", type=int, default=3,
                    help="neurons per population when --ids is not given (default 3)")
    ap.add_argument("--t-start", type=float, help="ms (default: first sample)")
    ap.add_argument("--t-stop", type=float, help="ms (default: last sample)")
    ap.add_argument("--title", help="figure title (default: the run directory)")
    ap.add_argument("--dpi", type=int, default=120)
    args = ap.parse_args(argv)

    rundir = condlif_io.run_dir(args.run)
    out = args.output or os.path.join(rundir, "traces.png")
    err = condlif_io.image_path_error(out)
    if err:
        print("traces.py: %s" % err, file=sys.stderr)
        return 2
    try:
        reports = condlif_io.read_reports(rundir)
        spath = condlif_io.spikes_path(rundir)
        spikes = condlif_io.read_spikes(rundir) if os.path.isfile(spath) else {}
    except (OSError, KeyError, ValueError) as e:
        print("traces.py: %s" % e, file=sys.stderr)
        return 1
    table, shown = collect(reports, args.population, args.variable, args.ids, args.max_neurons)
    if not any(shown.values()):
        print("traces.py: %s: no recorded neurons match (report files: %s)"
              % (rundir, ", ".join(os.path.basename(p) for p in condlif_io.report_files(rundir))
                 or "none"), file=sys.stderr)
        return 1
    all_times = np.concatenate([r.times for by_var in table.values() for r in by_var.values()])
    t_start = args.t_start if args.t_start is not None else float(all_times.min())
    t_stop = args.t_stop if args.t_stop is not None else float(all_times.max())
    if not t_stop > t_start:
        print("traces.py: empty window [%g, %g] ms" % (t_start, t_stop), file=sys.stderr)
        return 1
    fig = plot_traces(table, shown, spikes, t_start, t_stop, args.title or os.path.abspath(rundir))
    fig.savefig(out, dpi=args.dpi)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
