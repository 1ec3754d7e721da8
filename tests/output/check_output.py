#!/usr/bin/python3
"""Reads back a run written by tests/unit/test_output.c and checks it against the synthetic
network it was generated from (the formulas below mirror that file: keep the two in step).

    check_output.py run DIR NRANKS        a complete run in DIR, written by NRANKS ranks
    check_output.py aborted DIR NRANKS    a run whose last rank called MPI_Abort after flush
                                          number ABORT_FLUSHES: what was flushed must be
                                          readable
    check_output.py compare DIR...        runs written with different rank counts hold the same
                                          data (spikes of time-sorted populations in the same
                                          order, byte for byte)

Exit status 0 when every check passed; every failed check is printed.
"""
import os
import subprocess
import sys

import h5py
import numpy as np

# ---- the synthetic run (mirrors tests/unit/test_output.c) --------------------------------
NA, NB, NC = 1000, 257, 10
N_GIDS = NA + NB + NC
N_WINDOWS = 4000  # windows of 2 ms
ABORT_FLUSHES = 4  # flushes come every 32 * NRANKS windows
LATE_WINDOW = 1000
LATE_NODE = 3
RA_DT, RA_TIMES = 2.0, N_WINDOWS
RB_T0, RB_DT, RB_TIMES = 0.25, 0.5, 4 * N_WINDOWS
RB_NODES = np.array([0, 4, 8, 101, 256], dtype=np.uint64)
SONATA_MAGIC = 0x0A7A
SORTING = {"none": 0, "by_id": 1, "by_time": 2}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAILED:", what)
    return bool(cond)


def spikes_of(pop, windows, late):
    """Expected (node ids, times) of population pop for spikes in the first `windows` windows,
    in no particular order."""
    ids, qs = [], []
    if pop == "a":
        for i in range(NA):
            period = 160 + 16 * (i % 16)
            q = np.arange((37 * i) % period, windows * 64, period, dtype=np.int64)
            ids.append(np.full(q.size, i, dtype=np.uint64))
            qs.append(q)
        return np.concatenate(ids), np.concatenate(qs) / 32.0
    if pop == "b":
        for i in range(NB):
            period = 70 + i % 13
            q = np.arange((7 * i) % period, windows * 20, period, dtype=np.int64)
            ids.append(np.full(q.size, i, dtype=np.uint64))
            qs.append(q)
        return np.concatenate(ids), np.concatenate(qs).astype(np.float64) * 0.1
    for i in range(NC):
        q = np.arange(i, windows * 2, 100, dtype=np.int64)
        ids.append(np.full(q.size, i, dtype=np.uint64))
        qs.append(q)
    if late and windows > LATE_WINDOW:
        ids.append(np.array([LATE_NODE], dtype=np.uint64))
        qs.append(np.array([1], dtype=np.int64))
    return np.concatenate(ids), np.concatenate(qs).astype(np.float64)


def by_time_id(ids, times):
    order = np.lexsort((ids, times))
    return ids[order], times[order]


def attr_str(obj, name):
    v = obj.attrs.get(name)
    return v.decode() if isinstance(v, bytes) else v


def check_h5dump(path):
    r = subprocess.run(["h5dump", "-H", path], capture_output=True, text=True)
    check(r.returncode == 0 and "error" not in r.stderr.lower(),
          f"h5dump -H {path} runs cleanly (status {r.returncode}: {r.stderr.strip()[:300]})")


def check_root(f, name):
    magic = f.attrs.get("magic")
    check(magic is not None and magic.dtype == np.uint32 and magic == SONATA_MAGIC,
          f"{name}: root attribute magic is uint32 0x0A7A")
    version = f.attrs.get("version")
    check(version is not None and version.dtype == np.uint32 and list(version) == [0, 1],
          f"{name}: root attribute version is uint32 [0, 1]")


def check_spikes(path, windows, late, n_ranks):
    counts = {}
    with h5py.File(path, "r") as f:
        check_root(f, "spikes.h5")
        check(set(f["spikes"].keys()) == {"a", "b", "c"}, "spikes.h5: populations a, b, c")
        for pop in ("a", "b", "c"):
            g = f["spikes"][pop]
            ts, ns = g["timestamps"], g["node_ids"]
            check(ts.dtype == np.dtype("<f8"), f"{pop}: timestamps float64")
            check(ns.dtype == np.dtype("<u8"), f"{pop}: node_ids uint64")
            check(ts.maxshape == (None,) and ts.chunks is not None,
                  f"{pop}: timestamps chunked and extendible")
            check(attr_str(ts, "units") == "ms", f"{pop}: timestamps units = ms")
            enum = h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype)
            check(enum == SORTING, f"{pop}: sorting is the enum {SORTING} (got {enum})")
            t, n = ts[()], ns[()]
            check(t.size == n.size, f"{pop}: as many timestamps as node ids")
            rec = g.attrs.get("recorded_nodes")
            check(rec is not None and np.asarray(rec).dtype == np.uint64
                  and (n.size == 0 or int(rec) > int(n.max())),
                  f"{pop}: attribute recorded_nodes, uint64, above every node id ({rec})")
            eid, et = spikes_of(pop, windows, late)
            counts[pop] = eid.size
            fid, ft = by_time_id(n, t)
            sid, st = by_time_id(eid, et)
            check(fid.size == sid.size and np.array_equal(fid, sid) and np.array_equal(ft, st),
                  f"{pop}: the spike set is the expected one ({t.size} spikes written, "
                  f"{eid.size} expected, {n_ranks} ranks)")
            time_ordered = bool(np.all(np.diff(t) >= 0))
            expect_sorting = "none" if (pop == "c" and late and windows > LATE_WINDOW) \
                else "by_time"
            check(g.attrs["sorting"] == SORTING[expect_sorting],
                  f"{pop}: sorting = {expect_sorting} (attribute {g.attrs['sorting']})")
            if expect_sorting == "by_time":
                check(time_ordered, f"{pop}: timestamps in time order as `sorting` says")
                # Within equal times, by node id: the file does not depend on the rank count.
                check(np.array_equal(n, sid) and np.array_equal(t, st),
                      f"{pop}: spikes ordered by (time, node id)")
            else:
                check(not time_ordered, f"{pop}: the late spike is out of order")
    return counts


def expected_report(name, rows):
    if name == "a":
        nodes = np.arange(0, NA, 3, dtype=np.uint64)
        j = np.arange(rows, dtype=np.int64)[:, None]
        vals = (-70000 + 10 * nodes.astype(np.int64)[None, :] + j).astype(np.float64) * 0.001
        return nodes, vals.astype(np.float32), 0.0, RA_DT, "V_m", "mV"
    nodes = RB_NODES
    j = np.arange(rows, dtype=np.int64)[:, None]
    vals = (1000 * nodes.astype(np.int64)[None, :] + j).astype(np.float64) * 0.001
    return nodes, vals.astype(np.float32), RB_T0, RB_DT, "g_ex", "nS"


def check_report(path, pop, rows):
    nodes, vals, t0, dt, var, units = expected_report(pop, rows)
    with h5py.File(path, "r") as f:
        check_root(f, os.path.basename(path))
        check(list(f["report"].keys()) == [pop], f"{path}: one population {pop}")
        g = f["report"][pop]
        data = g["data"]
        check(data.dtype == np.dtype("<f4"), f"{pop} report: data float32")
        check(data.shape == (rows, nodes.size),
              f"{pop} report: data shape {data.shape} == {(rows, nodes.size)}")
        check(attr_str(data, "units") == units, f"{pop} report: data units = {units}")
        check(attr_str(data, "variable") == var, f"{pop} report: data variable = {var}")
        m = g["mapping"]
        check(m["node_ids"].dtype == np.dtype("<u8") and
              np.array_equal(m["node_ids"][()], nodes),
              f"{pop} report: mapping/node_ids uint64, ascending, as recorded")
        check(m["node_ids"].attrs.get("sorted") == 1, f"{pop} report: node_ids sorted = 1")
        check(m["index_pointers"].dtype == np.dtype("<u8") and
              np.array_equal(m["index_pointers"][()], np.arange(nodes.size + 1)),
              f"{pop} report: index_pointers uint64 0..n")
        check(m["element_ids"].dtype == np.dtype("<u4") and
              np.array_equal(m["element_ids"][()], np.zeros(nodes.size)),
              f"{pop} report: element_ids uint32 zeros")
        tm = m["time"]
        check(tm.dtype == np.dtype("<f8") and attr_str(tm, "units") == "ms",
              f"{pop} report: time float64 in ms")
        check(np.allclose(tm[()], [t0, t0 + rows * dt, dt], rtol=0, atol=1e-9),
              f"{pop} report: time = [start, stop, step] = {tm[()]} for {rows} rows")
        if data.shape == vals.shape:
            got = data[()]
            bad = np.argwhere(got != vals)
            check(bad.size == 0, f"{pop} report: data equal to the expected values per node "
                  f"id ({len(bad)} differ, first {bad[:3].tolist()})")


def check_meta(path, n_ranks, counts, completed):
    with h5py.File(path, "r") as f:
        check("condlif" in f, "/condlif present")
        if "condlif" not in f:
            return
        g = f["condlif"]
        a = g.attrs
        check(("completed" in a) == completed,
              f"/condlif completed marker {'present' if completed else 'absent'}")
        if completed:
            check(a["completed"] == 1, "completed = 1")
        n = n_ranks
        expect = {"n_ranks": n, "seed": 12345, "dt_ms": 0.1, "t_stop_ms": 8000.0,
                  "d_min_steps": 15, "d_max_steps": 30, "n_neurons": N_GIDS,
                  "n_synapses": 1000 * n + n * (n - 1) // 2, "wall_seconds": 10.0 + n - 1,
                  "peak_rss_bytes": 1e6 * n, "real_time_factor": 8.0 / (10.0 + n - 1)}
        for k, v in expect.items():
            check(k in a and np.isclose(a[k], v, rtol=1e-12, atol=0),
                  f"/condlif {k} = {v} (got {a.get(k)})")
        check(attr_str(g, "version"), "/condlif version present")
        check(attr_str(g, "git_commit"), "/condlif git_commit present")
        check(g["config"][()].decode().startswith("# synthetic"), "/condlif/config text")
        check("seed = 12345" in g["config_resolved"][()].decode(),
              "/condlif/config_resolved text")
        sc = g["spike_counts"][()]
        got = {r["name"].decode(): int(r["spikes"]) for r in sc}
        want = dict(counts, src=0)
        check(got == want, f"/condlif/spike_counts {got} == {want}")
        tm = g["timers"][()]
        timers = {r["name"].decode(): (r["min_s"], r["mean_s"], r["max_s"]) for r in tm}
        want_t = {"update": (1.0, (n + 1) / 2, n), "exchange": (2.0, n + 1.0, 2.0 * n),
                  "write": (0.5, 0.5, 0.5)}
        check(set(timers) == set(want_t) and
              all(np.allclose(timers[k], want_t[k], rtol=1e-12) for k in want_t),
              f"/condlif/timers min/mean/max {timers} == {want_t}")
        by_rank = g["timers_by_rank"]
        phases = [x.decode() for x in by_rank.attrs["phases"]]
        want_r = np.array([[r + 1.0, 2.0 * (r + 1), 0.5] for r in range(n)])
        check(phases == ["update", "exchange", "write"] and by_rank.shape == (n, 3) and
              np.array_equal(by_rank[...], want_r),
              f"/condlif/timers_by_rank {phases} {by_rank[...]} == {want_r}")


def check_run(d, n_ranks, aborted):
    windows = ABORT_FLUSHES * 32 * n_ranks if aborted else N_WINDOWS
    files = sorted(os.listdir(d))
    check(files == ["a_V_m.h5", "b_g_ex.h5", "spikes.h5"],
          f"{d} holds exactly the run's files (no leftovers): {files}")
    spikes = os.path.join(d, "spikes.h5")
    counts = check_spikes(spikes, windows, not aborted, n_ranks)
    check_report(os.path.join(d, "a_V_m.h5"), "a", windows)
    check_report(os.path.join(d, "b_g_ex.h5"), "b", 4 * windows)
    check_meta(spikes, n_ranks, counts, not aborted)
    for name in files:
        check_h5dump(os.path.join(d, name))


def compare(dirs):
    ref = dirs[0]
    with h5py.File(os.path.join(ref, "spikes.h5"), "r") as f0:
        for d in dirs[1:]:
            with h5py.File(os.path.join(d, "spikes.h5"), "r") as f:
                for pop in ("a", "b"):
                    for ds in ("timestamps", "node_ids"):
                        x, y = f0["spikes"][pop][ds][()], f["spikes"][pop][ds][()]
                        check(x.shape == y.shape and x.tobytes() == y.tobytes(),
                              f"{pop}/{ds} identical byte for byte in {ref} and {d}")
                x = by_time_id(f0["spikes/c/node_ids"][()], f0["spikes/c/timestamps"][()])
                y = by_time_id(f["spikes/c/node_ids"][()], f["spikes/c/timestamps"][()])
                check(all(np.array_equal(u, v) for u, v in zip(x, y)),
                      f"c: same spike set in {ref} and {d}")
    for name, pop in (("a_V_m.h5", "a"), ("b_g_ex.h5", "b")):
        with h5py.File(os.path.join(ref, name), "r") as f0:
            for d in dirs[1:]:
                with h5py.File(os.path.join(d, name), "r") as f:
                    for ds in ("data", "mapping/node_ids", "mapping/time"):
                        x, y = f0["report"][pop][ds][()], f["report"][pop][ds][()]
                        check(x.tobytes() == y.tobytes(),
                              f"{name} {ds} identical in {ref} and {d}")


def main(argv):
    if len(argv) >= 4 and argv[1] in ("run", "aborted"):
        check_run(argv[2], int(argv[3]), argv[1] == "aborted")
    elif len(argv) >= 4 and argv[1] == "compare":
        compare(argv[2:])
    else:
        print(__doc__)
        return 2
    if failures:
        print(f"check_output: {len(failures)} check(s) failed")
        return 1
    print(f"check_output: {argv[1]} {' '.join(argv[2:])}: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
