#!/usr/bin/python3
"""Speed-up, parallel efficiency and per-phase breakdown from a condlif scaling CSV.

The CSV is what slurm/strong_scaling.sh and slurm/weak_scaling.sh write (columns ranks, N,
wall, build, update, deliver, exchange, write, ...; see analysis/README.md). Rows with the same
rank count (repeats) are combined by their median; rows of runs that did not complete (stopped
before their t_stop, e.g. at a job's time limit: CSV column completed = 0) or were continued
from a checkpoint (column continued_from: their times are the last part's) are left out, with a
warning. With P0 the smallest rank count and T the
chosen time (--metric):
  strong scaling (N fixed):         speed-up S(P) = P0 T(P0) / T(P), ideal S = P;
                                    efficiency E(P) = S(P) / P
  weak scaling (N grows with P):    efficiency E(P) = T(P0) / T(P), ideal 1;
                                    the first panel shows T(P), ideal flat
The third panel stacks the per-phase seconds (mean over ranks) for each rank count.
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

LOOP_PHASES = ("update", "deliver", "exchange", "write")


def _num(row, key):
    v = row.get(key, "")
    return float(v) if isinstance(v, float) else np.nan


def table(rows, metric):
    """Per rank count (ascending): ranks, N, time (the metric) and {phase: seconds}, medians."""
    by_p = {}
    for row in rows:
        p = _num(row, "ranks")
        if np.isnan(p):
            continue
        by_p.setdefault(int(p), []).append(row)
    ranks = sorted(by_p)
    out = {"ranks": np.array(ranks, dtype=float), "N": [], "time": [],
           "phases": {ph: [] for ph in condlif_io.PHASES}}
    for p in ranks:
        rs = by_p[p]
        out["N"].append(np.nanmedian([_num(r, "N") for r in rs]))
        if metric == "wall":
            t = [_num(r, "wall") for r in rs]
        else:
            t = [sum(_num(r, ph) for ph in LOOP_PHASES) for r in rs]
        out["time"].append(np.nanmedian(t) if not np.all(np.isnan(t)) else np.nan)
        for ph in condlif_io.PHASES:
            vals = [_num(r, ph) for r in rs]
            out["phases"][ph].append(np.nanmedian(vals) if not np.all(np.isnan(vals)) else 0.0)
    out["N"] = np.array(out["N"])
    out["time"] = np.array(out["time"])
    out["phases"] = {k: np.array(v) for k, v in out["phases"].items()}
    return out


def analyse(tab, kind):
    """Speed-up and efficiency arrays (speed-up is None for weak scaling)."""
    p, t = tab["ranks"], tab["time"]
    if kind == "strong":
        speedup = p[0] * t[0] / t
        return speedup, speedup / p
    return None, t[0] / t


def plot_scaling(tab, kind, metric, phases, title=None):
    p = tab["ranks"]
    speedup, eff = analyse(tab, kind)
    fig, (a0, a1, a2) = plt.subplots(1, 3, figsize=(14, 4.2))
    label_t = "wall-clock time" if metric == "wall" else "time loop (" + "+".join(LOOP_PHASES) + ")"
    if kind == "strong":
        a0.plot(p, p, "--", color="0.5", label="ideal")
        a0.plot(p, speedup, "o-", color="C0", label="measured")
        a0.set_ylabel("speed-up (relative to %d rank%s)" % (p[0], "" if p[0] == 1 else "s"))
        a0.set_title("strong scaling, N = %s" % _fmt_n(tab["N"][0]))
    else:
        a0.plot(p, np.full(p.size, tab["time"][0]), "--", color="0.5", label="ideal")
        a0.plot(p, tab["time"], "o-", color="C0", label="measured")
        a0.set_ylabel("%s / s" % label_t)
        a0.set_ylim(bottom=0)
        a0.set_title("weak scaling, N/rank = %s" % _fmt_n(tab["N"][0] / p[0]))
    a1.plot(p, np.ones(p.size), "--", color="0.5", label="ideal")
    a1.plot(p, eff, "o-", color="C1", label="measured")
    a1.set_ylabel("parallel efficiency")
    a1.set_ylim(0, max(1.1, float(np.nanmax(eff)) * 1.05))
    a1.set_title("efficiency (%s)" % label_t)
    for ax in (a0, a1):
        ax.set_xscale("log", base=2)
        ax.set_xticks(p)
        ax.set_xticklabels(["%d" % x for x in p])
        ax.set_xlabel("MPI ranks")
        ax.legend()
        ax.grid(alpha=0.3)
    if kind == "strong":
        a0.set_yscale("log", base=2)
        a0.set_yticks(p)
        a0.set_yticklabels(["%d" % x for x in p])
    x = np.arange(p.size)
    bottom = np.zeros(p.size)
    for ph in phases:
        v = tab["phases"][ph]
        colour = "C%d" % (condlif_io.PHASES.index(ph) + 2)  # the same colour in every plot
        a2.bar(x, v, bottom=bottom, color=colour, label=ph, width=0.7)
        bottom += v
    a2.set_xticks(x)
    a2.set_xticklabels(["%d" % v for v in p])
    a2.set_xlabel("MPI ranks")
    a2.set_ylabel("seconds (mean over ranks)")
    a2.set_title("time per phase")
    a2.set_ylim(0, 1.3 * float(np.nanmax(bottom)) if np.nanmax(bottom) > 0 else 1.0)
    a2.legend(loc="upper center", ncol=min(len(phases), 3), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _fmt_n(n):
    return "?" if np.isnan(n) else "%d" % round(n)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", help="scaling CSV")
    ap.add_argument("-o", "--output",
                    help="image file, .png/.svg/.pdf (default: the CSV's name with .png)")
    ap.add_argument("--kind", choices=("auto", "strong", "weak"), default="auto",
                    help="auto: strong when N is the same in every row (default)")
    ap.add_argument("--metric", choices=("wall", "loop"), default="wall",
                    help="time to scale: the whole run's wall clock, or the time loop's "
                         "phases update+deliver+exchange+write (default wall)")
    ap.add_argument("--phases", default=",".join(LOOP_PHASES),
                    help="phases to stack (default %s; add build to include network "
                         "construction)" % ",".join(LOOP_PHASES))
    ap.add_argument("--title", help="figure title")
    ap.add_argument("--dpi", type=int, default=120)
    args = ap.parse_args(argv)

    out = args.output or os.path.splitext(args.csv)[0] + ".png"
    err = condlif_io.image_path_error(out)
    if err:
        print("scaling.py: %s" % err, file=sys.stderr)
        return 2
    phases = [p for p in args.phases.split(",") if p]
    unknown = [p for p in phases if p not in condlif_io.PHASES]
    if unknown:
        print("scaling.py: unknown phase(s) %s (known: %s)"
              % (", ".join(unknown), ", ".join(condlif_io.PHASES)), file=sys.stderr)
        return 2
    try:
        rows = condlif_io.read_scaling_csv(args.csv)
    except OSError as e:
        print("scaling.py: %s" % e, file=sys.stderr)
        return 1
    done = []
    for row in rows:
        if _num(row, "completed") != 1:
            print("scaling.py: warning: %s did not complete (t_stop %s ms): left out"
                  % (row.get("rundir") or "a row", row.get("t_stop", "?")), file=sys.stderr)
        elif row.get("continued_from") not in (None, ""):
            print("scaling.py: warning: %s was continued from a checkpoint at %s ms (its times "
                  "are the last part's): left out" % (row.get("rundir") or "a row",
                                                       row["continued_from"]), file=sys.stderr)
        else:
            done.append(row)
    rows = done
    tab = table(rows, args.metric)
    if tab["ranks"].size == 0 or np.all(np.isnan(tab["time"])):
        print("scaling.py: %s: no rows with ranks and times" % args.csv, file=sys.stderr)
        return 1
    kind = args.kind
    if kind == "auto":
        kind = "strong" if np.unique(tab["N"][~np.isnan(tab["N"])]).size <= 1 else "weak"
    speedup, eff = analyse(tab, kind)
    print("%-6s %10s %10s %9s %9s" % ("ranks", "N", "time/s", "speed-up", "effic."))
    for i, p in enumerate(tab["ranks"]):
        print("%-6d %10s %10.4g %9s %9.3f" % (p, _fmt_n(tab["N"][i]), tab["time"][i],
                                              "-" if speedup is None else "%.3f" % speedup[i],
                                              eff[i]))
    fig = plot_scaling(tab, kind, args.metric, phases, args.title)
    fig.savefig(out, dpi=args.dpi)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
