#!/usr/bin/python3
"""Readers for condlif run directories.

This module is the one place that knows the names inside condlif's files: the SONATA spike and
report layouts and the run metadata under /condlif in spikes.h5. The plotting and statistics
scripts and the scaling shell scripts go through it, so a renamed attribute is fixed here once.

Also a small command-line tool (run `condlif_io.py --help`):
  meta RUNDIR                 print the run metadata
  edges RUNDIR                per edge population of edges.h5: synapses, in- and out-degrees,
                              weights and delays
  scaling-csv RUNDIR...       one CSV row per run (ranks, N, wall, phase timers, ...)
  config-sizes CFG            population name, size and model of a libconfig network file
  config-get CFG KEY.PATH     one value of a libconfig network file
"""

import argparse
import collections
import csv
import glob
import os
import sys

import h5py
import numpy as np

# --- Names in the files -------------------------------------------------------------------------

SPIKES_FILE = "spikes.h5"
SPIKES_GROUP = "spikes"              # /spikes/<population>/{timestamps, node_ids}
SPIKE_TIMES = "timestamps"           # float64, ms
SPIKE_IDS = "node_ids"               # uint64, 0-based within the population
REPORT_GROUP = "report"              # /report/<population>/{data, mapping/...}
REPORT_DATA = "data"                 # float32 [n_times x n_columns], attribute units
REPORT_VARIABLE_ATTR = "variable"    # attribute of data naming the variable (V_m, ...)
REPORT_MAPPING = "mapping"           # node_ids, index_pointers, element_ids, time
REPORT_TIME = "time"                 # float64 [start, stop, step], ms
KNOWN_VARIABLES = ("V_m", "g_ex", "x_ex", "g_in", "x_in")
EDGES_FILE = "edges.h5"
EDGES_GROUP = "edges"                # /edges/<projection>/{source_node_id, target_node_id, ...}
EDGE_SOURCE = "source_node_id"       # uint64, attribute node_population
EDGE_TARGET = "target_node_id"
EDGE_WEIGHT = "0/syn_weight"         # float64, nS (peak conductance)
EDGE_DELAY = "0/delay"               # float64, ms
EDGE_ATTRS = ("receptor", "rule", "sorting")
NO_EDGES = "no %s (set record_edges = true in a projection, or recording.edges)" % EDGES_FILE

CHECKPOINT_FILE = "checkpoint.h5"    # the state a run can be continued from (--continue)

META_GROUP = "condlif"
# Attributes of /condlif: the key used by these tools -> the attribute name in the file.
META_ATTRS = {
    "n_ranks": "n_ranks",
    "seed": "seed",
    "dt": "dt_ms",
    "t_stop": "t_stop_ms",
    "n_neurons": "n_neurons",
    "n_synapses": "n_synapses",
    "wall": "wall_seconds",
    "rtf": "real_time_factor",
    "completed": "completed",
    "continued_from": "continued_from_ms",  # only in a run continued from a checkpoint
    "initial_state": "initial_state",  # only in a run started from another run's state...
    "initial_state_t": "initial_state_ms",  # ...at this time: its output begins there
    "peak_rss": "peak_rss_bytes",
    "version": "version",
    "git_commit": "git_commit",
}
# Configuration text: datasets of /condlif, the resolved one preferred.
META_CONFIG_TEXT = ("config_resolved", "config")
# /condlif/timers: a table of {name, min_s, mean_s, max_s}: seconds per phase over ranks.
TIMERS = "timers"
TIMER_NAME = "name"
TIMER_STATS = {"min": "min_s", "mean": "mean_s", "max": "max_s"}
PHASES = ("build", "update", "deliver", "exchange", "write")
# /condlif/timers_by_rank: float64 [n_ranks x n_phases], attribute "phases" (column names).
TIMERS_BY_RANK = "timers_by_rank"
TIMERS_BY_RANK_PHASES = "phases"
# /condlif/spike_counts: a table of {name, spikes} per population, summed over ranks.
SPIKE_COUNTS = "spike_counts"
SPIKE_COUNT_NAME = "name"
SPIKE_COUNT_VALUE = "spikes"

# Columns of the scaling CSV, in order. Phases are the mean over ranks (what the stacked bars
# show); <phase>_max is the slowest rank (load imbalance).
SCALING_COLUMNS = (["ranks", "N", "n_synapses", "t_stop", "dt", "wall"] + list(PHASES)
                   + ["rtf", "spikes", "completed"] + [p + "_max" for p in PHASES]
                   + ["peak_rss", "job_id", "nodes", "rundir", "continued_from"])


# --- Small helpers ------------------------------------------------------------------------------

def _text(value):
    """A string from an h5py attribute or dataset value (bytes, str, 0-d or 1-element array)."""
    if isinstance(value, np.ndarray):
        value = value.tolist() if value.ndim == 0 else (value[0] if value.size == 1 else value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def _scalar(value):
    """A Python number or string from an h5py attribute value."""
    if isinstance(value, (bytes, str)):
        return _text(value)
    arr = np.asarray(value)
    if arr.dtype.kind in "SUO":
        return _text(value)
    if arr.size == 1:
        return arr.reshape(()).item()
    return arr.tolist()


def _strings(values):
    return [_text(v) for v in np.asarray(values).ravel()]


IMAGE_FORMATS = (".png", ".svg", ".pdf")


def image_path_error(path):
    """None when path names a format the plots can write (by extension), else a message."""
    if os.path.splitext(path)[1].lower() in IMAGE_FORMATS:
        return None
    return "%s: the output must end in %s" % (path, ", ".join(IMAGE_FORMATS))


def spikes_path(path):
    """The spikes.h5 of a run directory (or path itself when it names a file)."""
    return path if os.path.isfile(path) else os.path.join(path, SPIKES_FILE)


def run_dir(path):
    """The run directory of path (a run directory or a file inside one)."""
    return os.path.dirname(os.path.abspath(path)) if os.path.isfile(path) else path


# --- Spikes -------------------------------------------------------------------------------------

Spikes = collections.namedtuple("Spikes", "node_ids times sorting recorded")
SPIKE_RECORDED_ATTR = "recorded_nodes"  # attribute of /spikes/<population>: neurons recorded


def read_spikes(path, populations=None):
    """Spikes per population: {name: Spikes(node_ids int64 array, times float64 ms, sorting,
    recorded)}, recorded the number of neurons whose spikes were recorded (None when the file
    does not say: all of the population's).

    path is a run directory or a spikes file; populations restricts the result (unknown names
    raise KeyError). Populations keep the file's order."""
    with h5py.File(spikes_path(path), "r") as f:
        group = f.get(SPIKES_GROUP)
        names = list(group.keys()) if group is not None else []
        if populations:
            missing = [p for p in populations if p not in names]
            if missing:
                raise KeyError("population(s) %s not in %s (has: %s)"
                               % (", ".join(missing), spikes_path(path), ", ".join(names) or "none"))
            names = [n for n in names if n in populations]
        out = collections.OrderedDict()
        for name in names:
            g = group[name]
            ids = np.asarray(g[SPIKE_IDS][...], dtype=np.int64)
            times = np.asarray(g[SPIKE_TIMES][...], dtype=np.float64)
            if ids.shape != times.shape:
                raise ValueError("%s: /%s/%s: %d node ids but %d timestamps"
                                 % (spikes_path(path), SPIKES_GROUP, name, ids.size, times.size))
            sorting = _text(g.attrs["sorting"]) if "sorting" in g.attrs else "none"
            recorded = (int(_scalar(g.attrs[SPIKE_RECORDED_ATTR]))
                        if SPIKE_RECORDED_ATTR in g.attrs else None)
            out[name] = Spikes(ids, times, sorting, recorded)
        return out


def last_spike_time(spikes, default=0.0):
    """The latest spike time (ms) of {name: Spikes}, default when there is none."""
    return max((float(s.times.max()) for s in spikes.values() if s.times.size), default=default)


# --- Run metadata -------------------------------------------------------------------------------

def read_meta(path):
    """Run metadata of a run directory (or spikes file) as a dict.

    Keys of META_ATTRS that the file has, plus "timers" ({phase: {min, mean, max}}, phase names
    per phase), "timers_by_rank" ({phase: [seconds of rank 0, 1, ...]}, when the file has it),
    "spike_counts" ({population: count}) and "config_text".
    An empty dict when the file has no /condlif group (e.g. an unfinished run)."""
    meta = {}
    with h5py.File(spikes_path(path), "r") as f:
        g = f.get(META_GROUP)
        if g is None:
            return meta
        for key, attr in META_ATTRS.items():
            if attr in g.attrs:
                meta[key] = _scalar(g.attrs[attr])
        timers = {}
        if TIMERS in g:
            for row in g[TIMERS][...]:
                timers[_text(row[TIMER_NAME])] = {stat: float(row[field])
                                                  for stat, field in TIMER_STATS.items()}
        meta["timers"] = timers
        if TIMERS_BY_RANK in g:
            ds = g[TIMERS_BY_RANK]
            table = ds[...]
            meta["timers_by_rank"] = {
                _text(name): [float(x) for x in table[:, j]]
                for j, name in enumerate(ds.attrs[TIMERS_BY_RANK_PHASES])}
        counts = {}
        if SPIKE_COUNTS in g:
            for row in g[SPIKE_COUNTS][...]:
                counts[_text(row[SPIKE_COUNT_NAME])] = int(row[SPIKE_COUNT_VALUE])
        meta["spike_counts"] = counts
        for key in META_CONFIG_TEXT:
            if key in g:
                meta["config_text"] = _text(g[key][()])
                break
    return meta


# --- Configuration (libconfig) ------------------------------------------------------------------

def parse_config(text, name="<config>"):
    """A libconfig text parsed with python3-libconf (nested dicts)."""
    import libconf  # Debian python3-libconf; only needed by the config helpers
    try:
        return libconf.loads(text)
    except Exception as e:  # libconf raises several exception types
        raise ValueError("%s: cannot parse as libconfig: %s" % (name, e)) from e


def load_config(path):
    with open(path, encoding="utf-8") as f:
        return parse_config(f.read(), path)


def _label(element):
    """The label by which --set addresses an element of a list of groups: its name, else
    "source->target" (projections) or "type->target" (stimuli)."""
    if not isinstance(element, dict):
        return None
    if "name" in element:
        return element["name"]
    first = element.get("source", element.get("type"))
    return "%s->%s" % (first, element["target"]) if first and "target" in element else None


def config_get(cfg, key_path):
    """The value at a dotted key path, as condlif's --set addresses it (`simulation.output`,
    `populations.exc.size`: list elements by label or index); KeyError when absent."""
    node = cfg
    for part in key_path.split("."):
        if isinstance(node, (list, tuple)):
            match = [e for e in node if _label(e) == part]
            if match:
                node = match[0]
            elif part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise KeyError(key_path)
        else:
            node = node[part]
    return node


def config_populations(cfg):
    """[(name, size, model)] of the populations of a parsed config, in file order."""
    pops = cfg.get("populations", ())
    if isinstance(pops, dict):
        items = list(pops.items())
    else:  # condlif's form: a list of groups that carry their name
        items = [(p["name"], p) for p in pops]
    return [(name, int(p["size"]), p.get("model", "cond_alpha")) for name, p in items]


def population_sizes(path, config=None, overrides=None):
    """Sizes of the populations of a run: {name: size}.

    overrides ({name: size}) win; then the config file config (a path) when given; then the
    configuration text stored in the run's metadata. Populations found nowhere are left out."""
    sizes = {}
    cfg = None
    if config:
        cfg = load_config(config)
    else:
        text = read_meta(path).get("config_text")
        if text:
            try:
                cfg = parse_config(text, spikes_path(path) + ":/" + META_GROUP)
            except ValueError:
                cfg = None
    if cfg is not None:
        try:
            sizes.update({n: s for n, s, _ in config_populations(cfg)})
        except (KeyError, TypeError, ValueError):
            pass
    sizes.update(overrides or {})
    return sizes


# --- Reports ------------------------------------------------------------------------------------

Report = collections.namedtuple(
    "Report", "path population variable units node_ids index_pointers times data")


def _report_variable(path, data):
    if REPORT_VARIABLE_ATTR in data.attrs:
        return _text(data.attrs[REPORT_VARIABLE_ATTR])
    stem = os.path.splitext(os.path.basename(path))[0]
    for var in KNOWN_VARIABLES:
        if stem == var or stem.endswith("_" + var):
            return var
    return stem


def report_files(rundir):
    """The report files of a run directory (every .h5 but spikes.h5 with a /report group)."""
    out = []
    for p in sorted(glob.glob(os.path.join(rundir, "*.h5"))):
        if os.path.basename(p) == SPIKES_FILE:
            continue
        with h5py.File(p, "r") as f:
            if REPORT_GROUP in f:
                out.append(p)
    return out


Edges = collections.namedtuple(
    "Edges", "source_population target_population source target weight delay receptor rule "
             "sorting")


def read_edges(rundir):
    """The edge populations of a run's edges.h5: {projection name: Edges} (arrays of node ids
    within the source and target populations, weights in nS, delays in ms); {} without the
    file."""
    path = os.path.join(run_dir(rundir), EDGES_FILE)
    if not os.path.isfile(path):
        return {}
    out = {}
    with h5py.File(path, "r") as f:
        for name, g in f[EDGES_GROUP].items():
            src, tgt = g[EDGE_SOURCE], g[EDGE_TARGET]
            attrs = {a: _text(g.attrs[a]) if a in g.attrs else "" for a in EDGE_ATTRS}
            out[name] = Edges(_text(src.attrs["node_population"]),
                              _text(tgt.attrs["node_population"]), src[...], tgt[...],
                              g[EDGE_WEIGHT][...], g[EDGE_DELAY][...], **attrs)
    return out


def degree_stats(ids, size):
    """(min, mean, max) over the `size` nodes of a population of how often each occurs in ids
    (the in-degrees from target ids, the out-degrees from source ids)."""
    if size == 0:
        return (0, 0.0, 0)
    counts = np.bincount(ids.astype(np.int64), minlength=size)
    return (int(counts.min()), float(counts.mean()), int(counts.max()))


def read_report(path):
    """The populations of one SONATA report file: [Report]. data is float32 [n_times x n_cols];
    the columns of node_ids[i] are index_pointers[i]:index_pointers[i+1]; times in ms."""
    out = []
    with h5py.File(path, "r") as f:
        for pop, g in f[REPORT_GROUP].items():
            data = g[REPORT_DATA]
            m = g[REPORT_MAPPING]
            start, stop, step = (float(x) for x in m[REPORT_TIME][...])
            values = data[...]
            times = start + step * np.arange(values.shape[0])
            units = _text(data.attrs["units"]) if "units" in data.attrs else ""
            out.append(Report(path, pop, _report_variable(path, data), units,
                              np.asarray(m["node_ids"][...], dtype=np.int64),
                              np.asarray(m["index_pointers"][...], dtype=np.int64),
                              times, values))
    return out


def read_reports(rundir):
    """Every report of a run directory: [Report]."""
    return [r for p in report_files(rundir) for r in read_report(p)]


# --- Scaling table ------------------------------------------------------------------------------

def _job_info(rundir):
    """Job id and node list recorded by slurm/condlif.sbatch in <rundir>/slurm-job.txt."""
    info = {}
    p = os.path.join(rundir, "slurm-job.txt")
    if os.path.isfile(p):
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.partition("=")
                if sep and key.strip() in ("job_id", "nodelist"):
                    info[key.strip()] = value.strip()
    return info


def read_checkpoint(rundir):
    """The attributes of RUNDIR/checkpoint.h5 (t_ms, step, n_ranks, ...: doc/output.md), or {}
    when the run has none."""
    path = os.path.join(rundir, CHECKPOINT_FILE)
    if not os.path.exists(path):
        return {}
    with h5py.File(path, "r") as f:
        return {k: _scalar(v) for k, v in f.attrs.items()}


def scaling_row(rundir):
    """One row of the scaling CSV (a dict keyed by SCALING_COLUMNS) from a finished run."""
    meta = read_meta(rundir)
    if not meta:
        raise ValueError("%s: no /%s metadata (did the run finish?)" % (spikes_path(rundir),
                                                                         META_GROUP))
    timers = meta.get("timers", {})
    row = {
        "ranks": meta.get("n_ranks", ""),
        "N": meta.get("n_neurons", ""),
        "n_synapses": meta.get("n_synapses", ""),
        "t_stop": meta.get("t_stop", ""),
        "dt": meta.get("dt", ""),
        "wall": meta.get("wall", ""),
        "rtf": meta.get("rtf", ""),
        "spikes": sum(meta.get("spike_counts", {}).values()) if meta.get("spike_counts") else "",
        "completed": meta.get("completed", 0),
        # a run continued from a checkpoint: its times are those of the last part
        "continued_from": meta.get("continued_from", ""),
        "peak_rss": meta.get("peak_rss", ""),
        "rundir": os.path.abspath(rundir),
    }
    for phase in PHASES:
        row[phase] = timers.get(phase, {}).get("mean", "")
        row[phase + "_max"] = timers.get(phase, {}).get("max", "")
    job = _job_info(rundir)
    row["job_id"] = job.get("job_id", "")
    row["nodes"] = job.get("nodelist", "")
    return row


def write_scaling_csv(rows, out, header=True):
    w = csv.DictWriter(out, fieldnames=SCALING_COLUMNS, lineterminator="\n")
    if header:
        w.writeheader()
    for row in rows:
        w.writerow({k: ("%.6g" % v if isinstance(v, float) else v) for k, v in row.items()})


def read_scaling_csv(path):
    """Rows of a scaling CSV as dicts of floats (empty cells and text columns as given)."""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            parsed = {}
            for k, v in row.items():
                try:
                    parsed[k] = float(v)
                except (TypeError, ValueError):
                    parsed[k] = v
            rows.append(parsed)
    return rows


# --- Command line -------------------------------------------------------------------------------

def _cmd_meta(args):
    meta = read_meta(args.rundir)
    if not meta:
        print("%s: no /%s metadata" % (spikes_path(args.rundir), META_GROUP), file=sys.stderr)
        return 1
    for key in META_ATTRS:
        if key in meta:
            print("%-12s %s" % (key, meta[key]))
        elif key == "completed":  # condlif writes the marker only when the run reached t_stop
            print("%-12s 0 (ended before the config's t_stop: the output holds the run up to "
                  "t_stop above)" % key)
    for phase, stats in meta["timers"].items():
        print("timer %-8s " % phase + "  ".join("%s=%.6g" % kv for kv in stats.items()))
    by_rank = meta.get("timers_by_rank", {})
    if by_rank and len(next(iter(by_rank.values()))) > 1:
        for phase, values in by_rank.items():
            print("by rank %-8s " % phase + " ".join("%.6g" % v for v in values))
    for pop, n in meta["spike_counts"].items():
        print("spikes %-10s %d" % (pop, n))
    ckpt = read_checkpoint(args.rundir)
    if ckpt:
        print("checkpoint   t = %.10g ms (step %d), written on %d rank%s: condlif --continue %s "
              "goes on from it" % (ckpt["t_ms"], ckpt["step"], ckpt["n_ranks"],
                                   "" if ckpt["n_ranks"] == 1 else "s", args.rundir))
    return 0


def _cmd_edges(args):
    edges = read_edges(args.rundir)
    if not edges:
        print("%s: %s" % (run_dir(args.rundir), NO_EDGES), file=sys.stderr)
        return 1
    sizes = population_sizes(args.rundir)
    for name, e in edges.items():
        n = e.source.size
        print("%s: %s -> %s, %s, %s, %d synapses" % (name, e.source_population,
                                                   e.target_population, e.receptor, e.rule, n))
        for what, ids, pop in (("in-degree", e.target, e.target_population),
                               ("out-degree", e.source, e.source_population)):
            if pop in sizes:
                print("  %-10s min %d  mean %.6g  max %d  (over the %d neurons of %s)"
                      % ((what,) + degree_stats(ids, sizes[pop]) + (sizes[pop], pop)))
        if n:
            print("  weight     min %.6g  mean %.6g  max %.6g nS" % (e.weight.min(),
                                                                   e.weight.mean(),
                                                                   e.weight.max()))
            print("  delay      min %.6g  mean %.6g  max %.6g ms" % (e.delay.min(), e.delay.mean(),
                                                                   e.delay.max()))
    return 0


def _cmd_scaling_csv(args):
    rows = []
    status = 0
    for d in args.rundir:
        try:
            rows.append(scaling_row(d))
        except (OSError, ValueError, KeyError) as e:
            print("condlif_io: %s: %s" % (d, e), file=sys.stderr)
            status = 1
    rows.sort(key=lambda r: (float(r["ranks"] or 0), float(r["N"] or 0)))
    if args.output:
        header = not (args.append and os.path.isfile(args.output)
                      and os.path.getsize(args.output) > 0)
        with open(args.output, "a" if args.append else "w", encoding="utf-8") as f:
            write_scaling_csv(rows, f, header)
    else:
        write_scaling_csv(rows, sys.stdout, not args.append)
    return status


def _cmd_config_sizes(args):
    for name, size, model in config_populations(load_config(args.config)):
        print(name, size, model)
    return 0


def _cmd_config_get(args):
    try:
        print(config_get(load_config(args.config), args.key))
    except (KeyError, IndexError, ValueError):
        print("condlif_io: %s: no key %s" % (args.config, args.key), file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="Read condlif run directories and configs.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("meta", help="print the run metadata of RUNDIR")
    p.add_argument("rundir")
    p.set_defaults(func=_cmd_meta)
    p = sub.add_parser("edges", help="summarise the synapses in RUNDIR/edges.h5")
    p.add_argument("rundir")
    p.set_defaults(func=_cmd_edges)
    p = sub.add_parser("scaling-csv", help="one CSV row per finished run directory")
    p.add_argument("rundir", nargs="+")
    p.add_argument("-o", "--output", help="CSV file (default: stdout)")
    p.add_argument("--append", action="store_true",
                   help="append to --output (header only when it is new or empty); "
                        "without --output: print no header")
    p.set_defaults(func=_cmd_scaling_csv)
    p = sub.add_parser("config-sizes", help="print 'name size model' per population")
    p.add_argument("config")
    p.set_defaults(func=_cmd_config_sizes)
    p = sub.add_parser("config-get", help="print the value of a dotted key path")
    p.add_argument("config")
    p.add_argument("key")
    p.set_defaults(func=_cmd_config_get)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except (OSError, ValueError, KeyError) as e:
        print("condlif_io: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
