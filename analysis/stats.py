#!/usr/bin/python3
"""Per-population spike statistics of a condlif run.

For each population, over the window [t_start, t_stop):
  rate      mean firing rate, spikes / (N * duration), Hz (N counts silent neurons too; when
            record_spikes named some neurons, N is how many: the file's recorded_nodes)
  cv_isi    coefficient of variation of the inter-spike intervals, std/mean (ddof 0) per neuron
            with at least --min-isis intervals, averaged over those neurons
  fano      Fano factor var/mean (ddof 0) of a neuron's spike counts in bins of --fano-bin ms,
            averaged over neurons with at least one spike
  chi       Golomb's synchrony measure (Golomb 2007, Scholarpedia "Neuronal synchrony
            measures"), computed on spike counts in bins of --sync-bin ms:
            chi^2 = var_t(mean_i c_i(t)) / mean_i var_t(c_i(t)); 1 for identical trains, about
            1/sqrt(N) for independent ones
Only whole bins count for fano and chi: the last partial bin of the window is dropped.
"""

import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import condlif_io  # noqa: E402


def _bin_moments(ids, times, n, t0, width, n_bins, n_mean=None):
    """Per-neuron variance and mean of spike counts in n_bins bins of width ms from t0, and the
    population-mean count per bin (over n_mean neurons, default n). Sparse: cost proportional
    to the spikes, not to n * n_bins."""
    b = np.floor((times - t0) / width).astype(np.int64)
    keep = (b >= 0) & (b < n_bins)
    ids, b = ids[keep], b[keep]
    cell, c = np.unique(ids * n_bins + b, return_counts=True)
    owner = cell // n_bins
    s1 = np.bincount(ids, minlength=n).astype(np.float64)           # sum_b c_ib
    s2 = np.bincount(owner, weights=c.astype(np.float64) ** 2, minlength=n)  # sum_b c_ib^2
    mean = s1 / n_bins
    var = (n_bins * s2 - s1 * s1) / float(n_bins) ** 2  # exact for integer counts
    pop = np.bincount(b, minlength=n_bins).astype(np.float64) / (n_mean or n)
    return mean, var, pop


def population_stats(node_ids, times, n, t_start, t_stop, fano_bin, sync_bin, min_isis=2,
                     recorded=None):
    """Statistics of one population (see the module docstring) as a dict; NaN where undefined.

    node_ids (0..n-1) and times (ms) are the population's spikes; n its size; recorded how
    many of its neurons had their spikes recorded (default n): the N of rates and chi."""
    n_rec = recorded or n
    node_ids = np.asarray(node_ids, dtype=np.int64)
    times = np.asarray(times, dtype=np.float64)
    if node_ids.size and (node_ids.min() < 0 or node_ids.max() >= n):
        raise ValueError("node ids outside 0..%d" % (n - 1))
    sel = (times >= t_start) & (times < t_stop)
    ids, ts = node_ids[sel], times[sel]
    duration_s = (t_stop - t_start) / 1000.0
    res = {
        "n_neurons": int(n_rec),
        "n_spikes": int(ts.size),
        "n_active": int(np.unique(ids).size),
        "rate_hz": ts.size / (n_rec * duration_s),
    }

    # ISI statistics per neuron: sort by (neuron, time), intervals within one neuron.
    order = np.lexsort((ts, ids))
    ids_s, ts_s = ids[order], ts[order]
    same = ids_s[1:] == ids_s[:-1]
    isi = np.diff(ts_s)[same]
    owner = ids_s[1:][same]
    cnt = np.bincount(owner, minlength=n)
    mean_isi = np.bincount(owner, weights=isi, minlength=n) / np.maximum(cnt, 1)
    dev2 = (isi - mean_isi[owner]) ** 2
    var_isi = np.bincount(owner, weights=dev2, minlength=n) / np.maximum(cnt, 1)
    ok = (cnt >= max(min_isis, 1)) & (mean_isi > 0)
    res["n_cv"] = int(ok.sum())
    res["cv_isi"] = float(np.mean(np.sqrt(var_isi[ok]) / mean_isi[ok])) if ok.any() else math.nan

    n_fano = int(math.floor((t_stop - t_start) / fano_bin + 1e-9))
    res["fano_bins"] = n_fano
    if n_fano >= 2:
        mean, var, _ = _bin_moments(ids, ts, n, t_start, fano_bin, n_fano)
        act = mean > 0
        res["fano"] = float(np.mean(var[act] / mean[act])) if act.any() else math.nan
    else:
        res["fano"] = math.nan

    n_sync = int(math.floor((t_stop - t_start) / sync_bin + 1e-9))
    res["sync_bins"] = n_sync
    if n_sync >= 2:
        _, var, pop = _bin_moments(ids, ts, n, t_start, sync_bin, n_sync, n_rec)
        denom = float(np.sum(var)) / n_rec  # neurons without spikes have no variance
        res["chi"] = math.sqrt(float(np.var(pop)) / denom) if denom > 0 else math.nan
    else:
        res["chi"] = math.nan
    return res


def _parse_sizes(items):
    sizes = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError("--size expects NAME=N, got %r" % item)
        sizes[name] = int(value)
    return sizes


def _nan_to_none(x):
    if isinstance(x, dict):
        return {k: _nan_to_none(v) for k, v in x.items()}
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="run directory (or its spikes.h5)")
    ap.add_argument("-p", "--population", action="append",
                    help="population to analyse (repeatable; default: all in the file)")
    ap.add_argument("--t-start", type=float,
                    help="start of the window, ms (e.g. to skip a transient; default 0, or the "
                    "time of the state a run started from)")
    ap.add_argument("--t-stop", type=float,
                    help="end of the window, ms (default: the run's t_stop from its metadata)")
    ap.add_argument("--fano-bin", type=float, default=100.0,
                    help="bin width for the Fano factor, ms (default 100)")
    ap.add_argument("--sync-bin", type=float, default=2.0,
                    help="bin width for the synchrony chi, ms (default 2)")
    ap.add_argument("--min-isis", type=int, default=2,
                    help="intervals a neuron needs to enter the CV average (default 2)")
    ap.add_argument("--size", action="append", metavar="POP=N",
                    help="population size (default: from the run's stored configuration)")
    ap.add_argument("--config", help="network config to take population sizes from")
    ap.add_argument("--json", nargs="?", const="-", metavar="FILE",
                    help="write the results as JSON to FILE (or stdout: '--json' alone)")
    args = ap.parse_args(argv)

    try:
        spikes = condlif_io.read_spikes(args.run, args.population)
        meta = condlif_io.read_meta(args.run)
        sizes = condlif_io.population_sizes(args.run, args.config, _parse_sizes(args.size))
    except (OSError, KeyError, ValueError, argparse.ArgumentTypeError) as e:
        print("stats.py: %s" % e, file=sys.stderr)
        return 1

    if args.t_start is None:  # a run from another run's state has its spikes from there on
        args.t_start = float(meta.get("initial_state_t") or 0.0)
    t_stop = args.t_stop if args.t_stop is not None else meta.get("t_stop")
    if t_stop is None:
        t_stop = condlif_io.last_spike_time(spikes)
        print("stats.py: warning: no t_stop in the metadata; using the last spike time %g ms "
              "(give --t-stop)" % t_stop, file=sys.stderr)
    if not t_stop > args.t_start:
        print("stats.py: empty window [%g, %g) ms" % (args.t_start, t_stop), file=sys.stderr)
        return 1

    result = {"run": os.path.abspath(args.run), "t_start": args.t_start, "t_stop": float(t_stop),
              "fano_bin": args.fano_bin, "sync_bin": args.sync_bin, "populations": {}}
    for pop, s in spikes.items():
        n = sizes.get(pop)
        if n is None:
            n = int(s.node_ids.max()) + 1 if s.node_ids.size else 0
            print("stats.py: warning: size of %s unknown; using highest spiking id + 1 = %d "
                  "(give --size %s=N or --config)" % (pop, n, pop), file=sys.stderr)
        if n == 0:
            continue
        try:
            result["populations"][pop] = population_stats(
                s.node_ids, s.times, n, args.t_start, t_stop, args.fano_bin, args.sync_bin,
                args.min_isis, s.recorded if s.recorded and s.recorded < n else None)
        except ValueError as e:
            print("stats.py: %s: %s" % (pop, e), file=sys.stderr)
            return 1

    if args.json:
        text = json.dumps(_nan_to_none(result), indent=2) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
            return 0
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text)

    print("window [%g, %g) ms, Fano bins %g ms, synchrony bins %g ms"
          % (args.t_start, t_stop, args.fano_bin, args.sync_bin))
    print("%-12s %9s %10s %9s %8s %8s %8s" % ("population", "N", "spikes", "rate/Hz", "CV ISI",
                                              "Fano", "chi"))
    for pop, r in result["populations"].items():
        print("%-12s %9d %10d %9.3f %8.3f %8.3f %8.4f" % (
            pop, r["n_neurons"], r["n_spikes"], r["rate_hz"], r["cv_isi"], r["fano"], r["chi"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
