#!/usr/bin/python3
"""Raster plot and population rate histogram of each population of a condlif run.

One pair of panels per population: spike times against node id above, the population rate
(spikes per bin / (N * bin width), Hz) below. The file format follows the output's extension
(.png, .svg, .pdf).
"""

import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import condlif_io  # noqa: E402

def plot_raster(spikes, sizes, t_start, t_stop, bin_ms, max_neurons, title=None):
    """A figure with a raster and a rate histogram per population of spikes
    ({name: condlif_io.Spikes}); sizes {name: N} (missing: highest id + 1)."""
    pops = list(spikes)
    fig, axes = plt.subplots(
        2 * len(pops), 1, sharex=True, squeeze=False,
        figsize=(9, 1.0 + 2.6 * len(pops)),
        gridspec_kw={"height_ratios": [3, 1] * len(pops)})
    axes = axes[:, 0]
    edges = np.arange(t_start, t_stop + 0.5 * bin_ms, bin_ms)
    if edges.size < 2:
        edges = np.array([t_start, t_stop])
    for k, pop in enumerate(pops):
        s = spikes[pop]
        n = sizes.get(pop) or (int(s.node_ids.max()) + 1 if s.node_ids.size else 1)
        # the rates are over the neurons recorded (record_spikes may name some)
        n_rec = s.recorded if s.recorded and s.recorded < n else n
        win = (s.times >= t_start) & (s.times <= t_stop)
        ids, ts = s.node_ids[win], s.times[win]
        colour = "C%d" % k
        ax = axes[2 * k]
        shown = ids < max_neurons
        ms = 2.0 if shown.sum() < 20000 else 0.8
        ax.plot(ts[shown], ids[shown], ".", color=colour, markersize=ms, markeredgewidth=0,
                rasterized=shown.sum() > 20000)
        ax.set_ylim(-0.5, min(n, max_neurons) - 0.5)
        ax.set_ylabel("%s\nnode id" % pop)
        if n > max_neurons:
            ax.text(0.995, 0.98, "first %d of %d neurons" % (max_neurons, n),
                    transform=ax.transAxes, ha="right", va="top", fontsize=8)
        ax.text(0.005, 0.98, "%d spikes, %.2f Hz%s" % (
                    ts.size, ts.size / (n_rec * (t_stop - t_start) / 1000.0),
                    "" if n_rec == n else " (%d neurons recorded)" % n_rec),
                transform=ax.transAxes, ha="left", va="top", fontsize=8,
                bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none"})
        counts, _ = np.histogram(ts, bins=edges)
        widths = np.diff(edges)
        rate = counts / (n_rec * widths / 1000.0)
        rax = axes[2 * k + 1]
        rax.bar(edges[:-1], rate, width=widths, align="edge", color=colour, linewidth=0)
        rax.set_ylabel("rate / Hz")
    axes[-1].set_xlim(t_start, t_stop)
    axes[-1].set_xlabel("time / ms")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="run directory (or its spikes.h5)")
    ap.add_argument("-o", "--output",
                    help="image file, .png/.svg/.pdf (default: <run dir>/raster.png)")
    ap.add_argument("-p", "--population", action="append",
                    help="population to plot (repeatable; default: all in the file)")
    ap.add_argument("--t-start", type=float,
                    help="ms (default 0, or the time of the state a run started from)")
    ap.add_argument("--t-stop", type=float,
                    help="ms (default: the run's t_stop, else the last spike)")
    ap.add_argument("--bin", type=float, default=5.0,
                    help="bin width of the rate histogram, ms (default 5)")
    ap.add_argument("--max-neurons", type=int, default=1000,
                    help="show node ids below this in the raster (default 1000); the rate "
                         "uses all neurons")
    ap.add_argument("--config", help="network config to take population sizes from")
    ap.add_argument("--title", help="figure title (default: the run directory)")
    ap.add_argument("--dpi", type=int, default=120)
    args = ap.parse_args(argv)

    out = args.output or os.path.join(condlif_io.run_dir(args.run), "raster.png")
    err = condlif_io.image_path_error(out)
    if err:
        print("raster.py: %s" % err, file=sys.stderr)
        return 2
    if args.bin <= 0:
        print("raster.py: --bin must be positive", file=sys.stderr)
        return 2
    try:
        spikes = condlif_io.read_spikes(args.run, args.population)
        meta = condlif_io.read_meta(args.run)
        sizes = condlif_io.population_sizes(args.run, args.config)
    except (OSError, KeyError, ValueError) as e:
        print("raster.py: %s" % e, file=sys.stderr)
        return 1
    if not spikes:
        print("raster.py: %s has no spike populations" % condlif_io.spikes_path(args.run),
              file=sys.stderr)
        return 1
    if args.t_start is None:  # a run from another run's state has its spikes from there on
        args.t_start = float(meta.get("initial_state_t") or 0.0)
    t_stop = args.t_stop if args.t_stop is not None else meta.get("t_stop")
    if t_stop is None:
        t_stop = condlif_io.last_spike_time(spikes, default=args.t_start + 1.0)
    if not t_stop > args.t_start:
        print("raster.py: empty window [%g, %g] ms" % (args.t_start, t_stop), file=sys.stderr)
        return 1
    fig = plot_raster(spikes, sizes, args.t_start, t_stop, args.bin, args.max_neurons,
                      args.title or os.path.abspath(condlif_io.run_dir(args.run)))
    fig.savefig(out, dpi=args.dpi)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
