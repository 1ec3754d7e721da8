#!/usr/bin/python3
"""Tests of analysis/: `check.py CASE WORKDIR [-- command...]`.

Each case writes run directories with known content (fixtures.py) under WORKDIR, runs one of
the analysis scripts as a user would, and checks its output against values computed here
independently (dense per-neuron loops, not the scripts' sparse code). Exit status 0 when every
check holds; each failed check prints what was expected and what was found."""

import json
import os
import shutil
import struct
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = os.path.join(HERE, "..", "..", "analysis")
sys.path.insert(0, HERE)
sys.path.insert(0, ANALYSIS)
import fixtures  # noqa: E402
import condlif_io  # noqa: E402

PY = sys.executable
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what)
    return cond


def close(found, expected, what, rel=1e-9, abs_=1e-12):
    ok = (found is not None and expected is not None
          and abs(found - expected) <= abs_ + rel * abs(expected))
    check(ok, "%s: expected %r, found %r" % (what, expected, found))


def run(script, *args, expect=0):
    cmd = [PY, os.path.join(ANALYSIS, script)] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != expect:
        print("$ " + " ".join(cmd))
        print(p.stdout + p.stderr)
    check(p.returncode == expect, "%s exit status: expected %d, got %d"
          % (" ".join(cmd[1:]), expect, p.returncode))
    return p


def check_png(path, min_w=400, min_h=300):
    """A PNG that decodes, has a sensible size and is not one flat colour."""
    if not check(os.path.isfile(path), "%s exists" % path):
        return
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n", "%s has the PNG signature" % path)
    check(head[12:16] == b"IHDR", "%s starts with an IHDR chunk" % path)
    w, h = struct.unpack(">II", head[16:24])
    check(w >= min_w and h >= min_h, "%s is %dx%d, expected at least %dx%d"
          % (path, w, h, min_w, min_h))
    check(os.path.getsize(path) > 10000, "%s has %d bytes, expected > 10000"
          % (path, os.path.getsize(path)))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.image
    img = matplotlib.image.imread(path)
    check(img.shape[0] == h and img.shape[1] == w, "%s decodes to its IHDR size" % path)
    check(float(img[..., :3].std()) > 0.05, "%s is not a flat image" % path)


# --- Independent computations -------------------------------------------------------------------

def expected_stats(ids, times, n, t0, t1, fano_bin, sync_bin, min_isis=2):
    """The statistics stats.py documents, computed with plain per-neuron loops."""
    trains = [np.sort(times[(ids == i) & (times >= t0) & (times < t1)]) for i in range(n)]
    total = sum(t.size for t in trains)
    cvs = []
    for t in trains:
        isi = np.diff(t)
        if isi.size >= min_isis:
            cvs.append(isi.std() / isi.mean())
    nf = int(np.floor((t1 - t0) / fano_bin + 1e-9))
    fanos = []
    for t in trains:
        c = np.histogram(t, bins=t0 + fano_bin * np.arange(nf + 1))[0]
        if c.mean() > 0:
            fanos.append(c.var() / c.mean())
    ns = int(np.floor((t1 - t0) / sync_bin + 1e-9))
    dense = np.array([np.histogram(t, bins=t0 + sync_bin * np.arange(ns + 1))[0] for t in trains],
                     dtype=float)
    chi = np.sqrt(dense.mean(axis=0).var() / dense.var(axis=1).mean())
    return {"rate_hz": total / (n * (t1 - t0) / 1000.0), "n_spikes": total,
            "n_active": sum(t.size > 0 for t in trains), "n_cv": len(cvs),
            "cv_isi": float(np.mean(cvs)) if cvs else None,
            "fano": float(np.mean(fanos)) if fanos else None, "chi": float(chi)}


def stats_json(rundir, *args):
    p = run("stats.py", rundir, "--json", *args)
    try:
        return json.loads(p.stdout)
    except ValueError:
        check(False, "stats.py --json prints JSON: %r" % p.stdout[:200])
        return {"populations": {}}


# --- Cases --------------------------------------------------------------------------------------

def case_stats(work):
    rundir = os.path.join(work, "run")
    pops = fixtures.make_run(rundir, with_reports=False)
    res = stats_json(rundir, "--fano-bin", 100, "--sync-bin", 2)
    check(res.get("t_stop") == fixtures.T_STOP, "t_stop from the metadata: %r" % res.get("t_stop"))
    got = res["populations"]
    check(sorted(got) == sorted(pops), "populations: %r" % sorted(got))
    for name, (ids, times) in pops.items():
        n = fixtures.POPULATIONS[name][0]
        exp = expected_stats(ids, times, n, 0.0, fixtures.T_STOP, 100.0, 2.0)
        g = got.get(name, {})
        check(g.get("n_neurons") == n, "%s: size %r from the stored config" % (name,
                                                                             g.get("n_neurons")))
        for key in ("n_spikes", "n_active", "n_cv"):
            check(g.get(key) == exp[key], "%s %s: expected %r, found %r"
                  % (name, key, exp[key], g.get(key)))
        for key in ("rate_hz", "cv_isi", "fano", "chi"):
            close(g.get(key), exp[key], "%s %s" % (name, key))

    # Known values, not only agreement with the loops above.
    reg = got.get("regular", {})
    close(reg.get("rate_hz"), fixtures.REG_ACTIVE * 20.0 / fixtures.REG_N, "regular rate (16 Hz)")
    close(reg.get("cv_isi"), 0.0, "regular CV", abs_=1e-9)
    close(reg.get("fano"), 0.0, "regular Fano (2 spikes in every 100 ms bin)", abs_=1e-12)
    check(reg.get("n_active") == fixtures.REG_ACTIVE, "regular: 40 active neurons")
    close(got.get("sync", {}).get("chi"), 1.0, "sync chi (identical trains)")
    poi = got.get("poisson", {})
    close(poi.get("rate_hz"), fixtures.POI_RATE, "poisson rate", rel=0.05)
    check(0.7 < (poi.get("cv_isi") or 0) < 1.1, "poisson CV near 1: %r" % poi.get("cv_isi"))
    check(0.75 < (poi.get("fano") or 0) < 1.1, "poisson Fano near 1: %r" % poi.get("fano"))
    check(0.03 < (poi.get("chi") or 1) < 0.15,
          "poisson chi near 1/sqrt(200) = 0.071: %r" % poi.get("chi"))

    # A window, other bins, a population subset and an explicit size.
    ids, times = pops["poisson"]
    res = stats_json(rundir, "-p", "poisson", "--t-start", 200, "--t-stop", 900,
                     "--fano-bin", 50, "--sync-bin", 5, "--min-isis", 4)
    check(list(res["populations"]) == ["poisson"], "-p selects one population")
    exp = expected_stats(ids, times, fixtures.POI_N, 200.0, 900.0, 50.0, 5.0, min_isis=4)
    g = res["populations"].get("poisson", {})
    for key in ("rate_hz", "cv_isi", "fano", "chi"):
        close(g.get(key), exp[key], "poisson [200, 900) %s" % key)
    check(g.get("n_cv") == exp["n_cv"], "poisson --min-isis 4: n_cv %r" % g.get("n_cv"))
    res = stats_json(rundir, "-p", "regular", "--size", "regular=80")
    close(res["populations"].get("regular", {}).get("rate_hz"), 40 * 20.0 / 80, "--size regular=80")

    # A run that recorded the spikes of some neurons only (record_spikes naming them): the
    # file's recorded_nodes is the N of the rate and chi, as for a population of that size.
    sub = os.path.join(work, "subset")
    fixtures.make_run(sub, with_reports=False)
    keep = ids < 100
    with h5py.File(os.path.join(sub, "spikes.h5"), "a") as f:
        g = f["spikes/poisson"]
        order = np.argsort(times[keep], kind="stable")
        for name, data in (("timestamps", times[keep][order]), ("node_ids", ids[keep][order])):
            attrs = dict(g[name].attrs)
            del g[name]
            g.create_dataset(name, data=data)
            g[name].attrs.update(attrs)
        g.attrs["recorded_nodes"] = np.uint64(100)
    check(condlif_io.read_spikes(sub)["poisson"].recorded == 100, "read_spikes: recorded 100")
    res = stats_json(sub, "-p", "poisson", "--fano-bin", 100, "--sync-bin", 2)
    exp = expected_stats(ids[keep], times[keep], 100, 0.0, fixtures.T_STOP, 100.0, 2.0)
    g = res["populations"].get("poisson", {})
    check(g.get("n_neurons") == 100, "recorded_nodes is the N: %r" % g.get("n_neurons"))
    for key in ("rate_hz", "cv_isi", "fano", "chi"):
        close(g.get(key), exp[key], "poisson, 100 of 200 neurons recorded: %s" % key)
    check(condlif_io.read_spikes(rundir)["poisson"].recorded is None,
          "read_spikes: recorded None without the attribute")

    # The table and --json FILE.
    jpath = os.path.join(work, "stats.json")
    p = run("stats.py", rundir, "--json", jpath)
    check("regular" in p.stdout and "CV ISI" in p.stdout, "stats.py prints a table")
    with open(jpath) as f:
        check(set(json.load(f)["populations"]) == set(pops), "--json FILE holds every population")

    # Without metadata: sizes and t_stop must be given or are guessed with a warning.
    bare = os.path.join(work, "bare")
    os.makedirs(bare, exist_ok=True)
    fixtures.write_spikes(os.path.join(bare, "spikes.h5"), {"regular": pops["regular"]})
    res = stats_json(bare, "--t-stop", 1000, "--size", "regular=50")
    close(res["populations"].get("regular", {}).get("rate_hz"), 16.0, "no metadata, --size")
    p = run("stats.py", bare)
    check("warning" in p.stderr, "missing size and t_stop are warned about")
    run("stats.py", rundir, "-p", "nosuch", expect=1)


def case_io(work):
    rundir = os.path.join(work, "run")
    pops = fixtures.make_run(rundir)
    meta = condlif_io.read_meta(rundir)
    check(meta.get("n_ranks") == 1 and meta.get("t_stop") == fixtures.T_STOP
          and meta.get("completed") == 1, "metadata attributes: %r" % meta)
    check(meta["timers"].get("update") == {"min": 1.0, "mean": 1.1, "max": 1.2},
          "timers: %r" % meta["timers"])
    check(meta["spike_counts"] == {k: len(v[1]) for k, v in pops.items()},
          "spike counts: %r" % meta["spike_counts"])
    check(condlif_io.population_sizes(rundir) == {"regular": 50, "poisson": 200, "sync": 30},
          "sizes from the stored config")
    sp = condlif_io.read_spikes(rundir)
    check(list(sp) == ["poisson", "regular", "sync"] and sp["regular"].sorting == "by_time",
          "read_spikes: %r" % list(sp))
    check(np.all(np.diff(sp["poisson"].times) >= 0), "by_time spikes are time-ordered")
    reps = condlif_io.read_reports(rundir)
    check(sorted(r.variable for r in reps) == ["V_m", "g_ex", "g_in"], "report variables")
    vm = [r for r in reps if r.variable == "V_m"][0]
    check(vm.units == "mV" and list(vm.node_ids) == [0, 3, 7] and vm.data.shape == (2000, 3)
          and vm.times[1] == 0.5, "V_m report mapping and times")
    cfg = os.path.join(work, "net.cfg")
    with open(cfg, "w") as f:
        f.write(fixtures.CONFIG_TEXT)
    p = subprocess.run([PY, os.path.join(ANALYSIS, "condlif_io.py"), "config-sizes", cfg],
                       capture_output=True, text=True)
    check(p.stdout.split("\n")[:3] == ["regular 50 cond_alpha", "poisson 200 cond_alpha",
                                       "sync 30 cond_alpha"], "config-sizes: %r" % p.stdout)
    p = subprocess.run([PY, os.path.join(ANALYSIS, "condlif_io.py"), "config-get", cfg,
                        "simulation.t_stop"], capture_output=True, text=True)
    check(p.stdout.strip() == "1000.0", "config-get: %r" % p.stdout)
    p = subprocess.run([PY, os.path.join(ANALYSIS, "condlif_io.py"), "meta", rundir],
                       capture_output=True, text=True)
    check(p.returncode == 0 and "timer update" in p.stdout, "meta prints timers: %r" % p.stdout)
    check("timers_by_rank" not in meta and "by rank" not in p.stdout, "no per-rank timers")
    # per-rank timers as condlif writes them (src/output.c): [n_ranks x n_phases], "phases"
    with h5py.File(os.path.join(rundir, "spikes.h5"), "a") as f:
        ds = f["condlif"].create_dataset("timers_by_rank", data=np.array(
            [[0.1, 1.0, 0.3], [0.12, 1.2, 0.32]]))
        ds.attrs["phases"] = np.array([b"build", b"update", b"deliver"], dtype="S9")
    meta = condlif_io.read_meta(rundir)
    check(meta.get("timers_by_rank") == {"build": [0.1, 0.12], "update": [1.0, 1.2],
                                         "deliver": [0.3, 0.32]},
          "timers_by_rank: %r" % meta.get("timers_by_rank"))
    p = subprocess.run([PY, os.path.join(ANALYSIS, "condlif_io.py"), "meta", rundir],
                       capture_output=True, text=True)
    check(p.returncode == 0 and "by rank update   1 1.2" in p.stdout,
          "meta prints the per-rank timers: %r" % p.stdout)
    check("\ncompleted    1\n" in p.stdout, "meta prints completed 1: %r" % p.stdout)
    # a run stopped by a signal has no completed marker: meta says so
    with h5py.File(os.path.join(rundir, "spikes.h5"), "a") as f:
        del f["condlif"].attrs["completed"]
    p = subprocess.run([PY, os.path.join(ANALYSIS, "condlif_io.py"), "meta", rundir],
                       capture_output=True, text=True)
    check(p.returncode == 0 and "\ncompleted    0 (ended before" in p.stdout,
          "meta prints completed 0 for a run without the marker: %r" % p.stdout)
    check("checkpoint" not in p.stdout, "meta names a checkpoint the run lacks: %r" % p.stdout)
    # the checkpoint such a run leaves (attributes as src/checkpoint.c writes them)
    with h5py.File(os.path.join(rundir, "checkpoint.h5"), "w") as f:
        f.attrs["format"] = "condlif checkpoint"
        f.attrs["t_ms"] = 123.4
        f.attrs["step"] = np.int64(1234)
        f.attrs["n_ranks"] = np.int32(2)
    check(condlif_io.read_checkpoint(rundir).get("step") == 1234, "read_checkpoint")
    p = subprocess.run([PY, os.path.join(ANALYSIS, "condlif_io.py"), "meta", rundir],
                       capture_output=True, text=True)
    check(p.returncode == 0 and "\ncheckpoint   t = 123.4 ms (step 1234), written on 2 ranks: "
          "condlif --continue %s goes on from it" % rundir in p.stdout,
          "meta names the checkpoint: %r" % p.stdout)


def case_raster(work):
    rundir = os.path.join(work, "run")
    fixtures.make_run(rundir, with_reports=False)
    run("raster.py", rundir)
    check_png(os.path.join(rundir, "raster.png"))
    svg = os.path.join(work, "raster.svg")
    run("raster.py", rundir, "-o", svg, "-p", "regular", "--bin", 10, "--t-start", 100)
    with open(svg) as f:
        text = f.read()
    check("<svg" in text and text.rstrip().endswith("</svg>"), "raster.py writes an SVG")
    run("raster.py", rundir, "-o", os.path.join(work, "raster.txt"), expect=2)


def case_traces(work):
    rundir = os.path.join(work, "run")
    fixtures.make_run(rundir)
    run("traces.py", rundir)
    check_png(os.path.join(rundir, "traces.png"))
    out = os.path.join(work, "vm.png")
    run("traces.py", rundir, "-o", out, "-v", "V_m", "--ids", "3", "--t-start", 0, "--t-stop",
        200)
    check_png(out)
    run("traces.py", rundir, "-o", os.path.join(work, "none.png"), "-p", "nosuch", expect=1)


def _scaling_runs(work, kind, stopped=(), continued=()):
    """Run directories of a fake scaling series with known timers, those at the rank counts in
    `stopped` without the completed marker (and half the wall time), those in `continued`
    continued from a checkpoint at 100 ms; returns the CSV path."""
    dirs = []
    for p in (1, 2, 4, 8) + tuple(stopped) + tuple(continued):
        n = 1000 if kind == "strong" else 1000 * p
        update = 8.0 / p if kind == "strong" else 1.0
        exchange = 0.1 * np.log2(2 * p)
        timers = {"build": (0.5, 0.5, 0.5), "update": (update, update, update),
                  "deliver": (update / 4,) * 3, "exchange": (exchange,) * 3,
                  "write": (0.05,) * 3}
        wall = sum(v[1] for v in timers.values())
        meta = fixtures.standard_meta(p, n, wall)
        if p in stopped:
            del meta["completed"]
            meta["wall_seconds"] = wall / 2
        if p in continued:
            meta["continued_from_ms"] = 100.0
        d = os.path.join(work, "%s-p%d" % (kind, p))
        os.makedirs(d, exist_ok=True)
        fixtures.write_spikes(os.path.join(d, "spikes.h5"), {"exc": (np.array([0]), np.array([1.0]))},
                              meta, timers, config_text=None)
        with open(os.path.join(d, "slurm-job.txt"), "w") as f:
            f.write("job_id=%d\nnodelist=node[1-%d]\n" % (100 + p, p))
        dirs.append(d)
    csv_path = os.path.join(work, kind + ".csv")
    p = subprocess.run([PY, os.path.join(ANALYSIS, "condlif_io.py"), "scaling-csv", "-o", csv_path]
                       + dirs[::-1], capture_output=True, text=True)
    check(p.returncode == 0, "scaling-csv: %s" % p.stderr)
    return csv_path


def case_scaling(work):
    # a run at 16 ranks stopped early: in the CSV (completed 0), left out of the analysis; one
    # at 32 continued from a checkpoint (its times the last part's): left out too
    csv_path = _scaling_runs(work, "strong", stopped=(16,), continued=(32,))
    rows = condlif_io.read_scaling_csv(csv_path)
    check([r["completed"] for r in rows] == [1, 1, 1, 1, 0, 1], "CSV completed column: %r"
          % [r["completed"] for r in rows])
    check([r["continued_from"] for r in rows] == ["", "", "", "", "", 100.0],
          "CSV continued_from column: %r" % [r["continued_from"] for r in rows])
    p = run("scaling.py", csv_path, "-o", os.path.join(work, "stopped.png"))
    ranks = [line.split()[0] for line in p.stdout.splitlines()[1:] if line[:1].isdigit()]
    check(ranks == ["1", "2", "4", "8"] and "strong-p16 did not complete" in p.stderr and
          "strong-p32 was continued from a checkpoint at 100.0 ms" in p.stderr,
          "scaling.py leaves out the stopped and the continued run, with warnings: %r %r"
          % (p.stdout, p.stderr))
    csv_path = _scaling_runs(work, "strong")
    rows = condlif_io.read_scaling_csv(csv_path)
    check([r["ranks"] for r in rows] == [1, 2, 4, 8], "CSV rows sorted by ranks")
    r4 = rows[2]
    close(r4["update"], 2.0, "CSV update at 4 ranks")
    close(r4["wall"], 0.5 + 2.0 + 0.5 + 0.3 + 0.05, "CSV wall at 4 ranks", rel=1e-5)
    check(r4["job_id"] == 104 and r4["nodes"] == "node[1-4]", "CSV job id and nodes from "
          "slurm-job.txt: %r %r" % (r4["job_id"], r4["nodes"]))
    with open(csv_path) as f:
        header = f.readline().strip().split(",")
    for col in ("ranks", "N", "wall", "build", "update", "deliver", "exchange", "write", "rtf"):
        check(col in header, "CSV column %s" % col)
    p = run("scaling.py", csv_path)
    check_png(os.path.splitext(csv_path)[0] + ".png")
    wall = [rows[i]["wall"] for i in range(4)]
    lines = [line.split() for line in p.stdout.splitlines()[1:5]]
    for i, P in enumerate((1, 2, 4, 8)):
        speedup = wall[0] / wall[i]
        close(float(lines[i][3]), round(speedup, 3), "strong speed-up at %d" % P, abs_=1.5e-3)
        close(float(lines[i][4]), round(speedup / P, 3), "strong efficiency at %d" % P,
              abs_=1.5e-3)
    # The time loop metric: update + deliver + exchange + write.
    p = run("scaling.py", csv_path, "--metric", "loop", "-o", os.path.join(work, "loop.svg"))
    loop = [8.0 / P * 1.25 + 0.1 * np.log2(2 * P) + 0.05 for P in (1, 2, 4, 8)]
    close(float(p.stdout.splitlines()[4].split()[4]), round(loop[0] / loop[3] / 8, 3),
          "loop efficiency at 8", abs_=1.5e-3)

    wcsv = _scaling_runs(work, "weak")
    p = run("scaling.py", wcsv, "--phases", "build,update,deliver,exchange,write")
    check_png(os.path.splitext(wcsv)[0] + ".png")
    rows = condlif_io.read_scaling_csv(wcsv)
    lines = [line.split() for line in p.stdout.splitlines()[1:5]]
    check(all(line[3] == "-" for line in lines), "auto detects weak scaling (no speed-up column)")
    close(float(lines[3][4]), round(rows[0]["wall"] / rows[3]["wall"], 3), "weak efficiency at 8",
          abs_=1.5e-3)
    run("scaling.py", wcsv, "--phases", "update,nosuch", expect=2)


def degrees(ids, n):
    """(min, mean, max) of how often each of 0..n-1 occurs in ids, counted in a plain loop."""
    c = [0] * n
    for i in ids:
        c[int(i)] += 1
    return min(c), sum(c) / n, max(c)


def case_connectivity(work):
    rundir = os.path.join(work, "run")
    fixtures.make_run(rundir, with_reports=False)
    p = run("connectivity.py", rundir, expect=1)
    check("no edges.h5" in p.stderr, "connectivity.py without edges.h5 says so: %r" % p.stderr)
    run("condlif_io.py", "edges", rundir, expect=1)
    rows = fixtures.edge_rows()
    fixtures.write_edges(os.path.join(rundir, "edges.h5"), rows)
    e = condlif_io.read_edges(rundir)
    check(sorted(e) == sorted(rows), "read_edges: %r" % sorted(e))
    s, t, w, d, sp, tp = rows["poisson->regular"]
    pr = e.get("poisson->regular")
    check(pr is not None and pr.source_population == "poisson" and pr.target_population
          == "regular" and np.array_equal(pr.source, s) and np.array_equal(pr.weight, w)
          and pr.rule == "fixed_indegree" and pr.sorting == "by_target",
          "read_edges: poisson->regular as written")
    out = run("condlif_io.py", "edges", rundir).stdout
    lo, mean, hi = degrees(t, 50)
    check("poisson->regular: poisson -> regular, excitatory, fixed_indegree, %d synapses"
          % len(s) in out, "edges: the synapse count: %r" % out)
    check("in-degree  min %d  mean %.6g  max %d  (over the 50 neurons of regular)"
          % (lo, mean, hi) in out, "edges: in-degrees over all 50 neurons (zeros count): %r"
          % out)
    lo, mean, hi = degrees(s, 200)
    check("out-degree min %d  mean %.6g  max %d  (over the 200 neurons of poisson)"
          % (lo, mean, hi) in out, "edges: out-degrees over all 200 neurons: %r" % out)
    check("weight     min 0.5  mean %.6g  max %.6g nS" % (sum(w) / len(w), max(w)) in out,
          "edges: weights: %r" % out)
    check("delay      min 1  mean %.6g  max %.6g ms" % (sum(d) / len(d), max(d)) in out,
          "edges: delays: %r" % out)
    run("connectivity.py", rundir)
    check_png(os.path.join(rundir, "connectivity.png"))
    svg = os.path.join(work, "conn.svg")
    run("connectivity.py", rundir, "-o", svg, "-p", "sync->sync")
    with open(svg) as f:
        text = f.read()
    check("<svg" in text and "sync->sync" in text.replace("&gt;", ">")
          and "poisson->regular" not in text.replace("&gt;", ">"),
          "connectivity.py -p draws only that projection")
    run("connectivity.py", rundir, "-p", "nosuch", expect=1)
    run("connectivity.py", rundir, "-o", os.path.join(work, "conn.txt"), expect=2)


def case_help(work):
    for script in ("raster.py", "traces.py", "stats.py", "scaling.py", "condlif_io.py",
                   "connectivity.py"):
        p = run(script, "--help")
        check(p.stdout.startswith("usage:"), "%s --help prints usage" % script)


def case_condlif(work, command):
    """Runs condlif (command: the launcher and binary) on a small config, then the analysis."""
    cfg = os.path.join(HERE, "..", "slurm", "small.cfg")
    rundir = os.path.join(work, "run")
    shutil.rmtree(rundir, ignore_errors=True)
    p = subprocess.run(command + ["--set", 'recording.edges="all"', "-o", rundir, cfg],
                       capture_output=True, text=True)
    print(p.stdout + p.stderr)
    if not check(p.returncode == 0, "condlif exit status %d" % p.returncode):
        return
    meta = condlif_io.read_meta(rundir)
    check(meta.get("completed") == 1, "condlif marks the run completed: %r" % meta.get("completed"))
    res = stats_json(rundir)
    pops = res["populations"]
    check({"exc", "inh"} <= set(pops), "stats of exc and inh: %r" % sorted(pops))
    for name, size in (("exc", 160), ("inh", 40)):  # as in small.cfg
        g = pops.get(name, {})
        check(g.get("rate_hz", 0) > 0, "%s fires: %r" % (name, g.get("rate_hz")))
        check(g.get("n_neurons") == size, "%s: size %d from the configuration stored in the "
              "run: %r" % (name, size, g.get("n_neurons")))
        check(g.get("n_spikes") == meta["spike_counts"].get(name),
              "%s spike count matches the metadata" % name)
    run("raster.py", rundir)
    check_png(os.path.join(rundir, "raster.png"))
    if condlif_io.report_files(rundir):
        run("traces.py", rundir)
        check_png(os.path.join(rundir, "traces.png"))
    edges = condlif_io.read_edges(rundir)
    check(sum(e.source.size for e in edges.values()) == meta.get("n_synapses"),
          "edges.h5 holds the run's %r synapses" % meta.get("n_synapses"))
    check(all(np.all(np.bincount(edges[n].target.astype(int), minlength=size) == k)
              for n, size, k in (("exc->exc", 160, 16), ("inh->inh", 40, 4)) if n in edges)
          and "exc->exc" in edges, "edges: fixed in-degrees of small.cfg (16 and 4)")
    run("connectivity.py", rundir)
    check_png(os.path.join(rundir, "connectivity.png"))


CASES = {"stats": case_stats, "io": case_io, "raster": case_raster, "traces": case_traces,
         "scaling": case_scaling, "connectivity": case_connectivity, "help": case_help}


def main():
    argv = sys.argv[1:]
    command = []
    if "--" in argv:
        k = argv.index("--")
        argv, command = argv[:k], argv[k + 1:]
    if len(argv) != 2 or (argv[0] not in CASES and argv[0] != "condlif"):
        print("usage: check.py {%s,condlif} WORKDIR [-- condlif command]" % ",".join(CASES))
        return 2
    case, work = argv
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if case == "condlif":
        case_condlif(work, command)
    else:
        CASES[case](work)
    print("%s: %s" % (case, "%d check(s) failed" % len(failures) if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
