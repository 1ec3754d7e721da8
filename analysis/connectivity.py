#!/usr/bin/python3
"""Connectivity of a condlif run, from its edges.h5: per projection, histograms of the in-degree
(over every neuron of the target population, those without synapses included), of the
out-degree (over every neuron of the source population) and of the weights, with the delays in
the title. The run must have written its synapses (`record_edges = true` in a projection, or
`recording.edges`). The file format follows the output's extension (.png, .svg, .pdf).
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


def integer_hist(ax, values, colour):
    """Histogram of non-negative integers, one bar per value (or per run of values)."""
    hi = int(values.max()) if values.size else 0
    width = max(1, (hi + 1) // 60)
    edges = np.arange(0, hi + width + 1, width) - 0.5
    ax.hist(values, bins=edges, color=colour, linewidth=0)


def plot_connectivity(edges, sizes, title=None):
    """A figure with a row of three panels per projection of edges ({name: condlif_io.Edges});
    sizes {population: N} (missing: highest id + 1)."""
    names = list(edges)
    fig, axes = plt.subplots(len(names), 3, squeeze=False, figsize=(11, 0.8 + 2.4 * len(names)))
    for k, name in enumerate(names):
        e = edges[name]
        colour = "C%d" % k
        for col, (ids, pop, what) in enumerate(((e.target, e.target_population, "in-degree"),
                                                (e.source, e.source_population, "out-degree"))):
            n = sizes.get(pop) or (int(ids.max()) + 1 if ids.size else 1)
            counts = np.bincount(ids.astype(np.int64), minlength=n)
            ax = axes[k, col]
            integer_hist(ax, counts, colour)
            ax.set_xlabel("%s (%s)" % (what, pop))
            ax.set_ylabel("neurons")
            ax.text(0.98, 0.95, "mean %.3g\n[%d, %d]" % (counts.mean(), counts.min(),
                                                         counts.max()),
                    transform=ax.transAxes, ha="right", va="top", fontsize=8)
        ax = axes[k, 2]
        if e.weight.size:
            lo, hi = float(e.weight.min()), float(e.weight.max())
            if hi > lo:
                ax.hist(e.weight, bins=50, color=colour, linewidth=0)
            else:  # one weight: a narrow bar, on an axis from 0
                ax.bar([lo], [e.weight.size], width=0.04 * lo, color=colour, linewidth=0)
                ax.set_xlim(0, 2 * lo)
            ax.text(0.98, 0.95, "mean %.4g nS" % e.weight.mean(), transform=ax.transAxes,
                    ha="right", va="top", fontsize=8)
        ax.set_xlabel("weight / nS")
        ax.set_ylabel("synapses")
        d = e.delay
        delays = ("delay %.4g ms" % d[0] if d.size and d.min() == d.max()
                  else "delays %.4g-%.4g ms" % (d.min(), d.max()) if d.size else "no synapses")
        axes[k, 0].set_title("%s: %s -> %s, %s, %s, %d synapses, %s"
                             % (name, e.source_population, e.target_population, e.receptor,
                                e.rule, e.source.size, delays), loc="left", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.97 if title else 1))
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="run directory (holding edges.h5)")
    ap.add_argument("-o", "--output",
                    help="image file, .png/.svg/.pdf (default: <run dir>/connectivity.png)")
    ap.add_argument("-p", "--projection", action="append",
                    help="projection to plot (repeatable; default: all in the file)")
    ap.add_argument("--config", help="network config to take population sizes from")
    ap.add_argument("--title", help="figure title (default: the run directory)")
    ap.add_argument("--dpi", type=int, default=120)
    args = ap.parse_args(argv)

    out = args.output or os.path.join(condlif_io.run_dir(args.run), "connectivity.png")
    err = condlif_io.image_path_error(out)
    if err:
        print("connectivity.py: %s" % err, file=sys.stderr)
        return 2
    try:
        edges = condlif_io.read_edges(args.run)
        sizes = condlif_io.population_sizes(args.run, args.config)
    except (OSError, KeyError, ValueError) as e:
        print("connectivity.py: %s" % e, file=sys.stderr)
        return 1
    if not edges:
        print("connectivity.py: %s: %s" % (condlif_io.run_dir(args.run), condlif_io.NO_EDGES),
              file=sys.stderr)
        return 1
    if args.projection:
        missing = [p for p in args.projection if p not in edges]
        if missing:
            print("connectivity.py: no projection %s in edges.h5 (it has %s)"
                  % (", ".join(missing), ", ".join(edges)), file=sys.stderr)
            return 1
        edges = {p: edges[p] for p in args.projection}
    fig = plot_connectivity(edges, sizes,
                            args.title or os.path.abspath(condlif_io.run_dir(args.run)))
    fig.savefig(out, dpi=args.dpi)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
