"""Run directories with known content, written with h5py in condlif's layout (SONATA spikes and
reports, /condlif metadata), for the tests of analysis/."""

import os

import h5py
import numpy as np

T_STOP = 1000.0  # ms

# Population "regular": neurons 0..39 of 50 fire every 50 ms (20 Hz) from a phase of
# 3.3 + 0.37 i ms, so no spike is near a multiple of 2 ms or 100 ms (bin edges); 40..49 are silent.
REG_N, REG_ACTIVE, REG_PERIOD = 50, 40, 50.0
# Population "poisson": 200 independent Poisson trains at 10 Hz (fixed seed).
POI_N, POI_RATE, POI_SEED = 200, 10.0, 1234
# Population "sync": 30 neurons that all fire the same Poisson train at 15 Hz.
SYNC_N, SYNC_RATE, SYNC_SEED = 30, 15.0, 99

CONFIG_TEXT = """
simulation = { dt = 0.1; t_stop = 1000.0; seed = 7; };
populations = (
  { name = "regular"; model = "cond_alpha"; size = 50; },
  { name = "poisson"; model = "cond_alpha"; size = 200; },
  { name = "sync"; model = "cond_alpha"; size = 30; }
);
"""


def regular_trains():
    ids, times = [], []
    for i in range(REG_ACTIVE):
        t = 3.3 + 0.37 * i + REG_PERIOD * np.arange(int(T_STOP / REG_PERIOD))
        t = t[t < T_STOP]
        ids.append(np.full(t.size, i))
        times.append(t)
    return np.concatenate(ids), np.concatenate(times)


def poisson_trains():
    rng = np.random.default_rng(POI_SEED)
    ids, times = [], []
    for i in range(POI_N):
        n = rng.poisson(POI_RATE * T_STOP / 1000.0)
        t = np.sort(rng.uniform(0.0, T_STOP, n))
        ids.append(np.full(n, i))
        times.append(t)
    return np.concatenate(ids), np.concatenate(times)


def sync_trains():
    rng = np.random.default_rng(SYNC_SEED)
    t = np.sort(rng.uniform(0.0, T_STOP, rng.poisson(SYNC_RATE * T_STOP / 1000.0)))
    return np.repeat(np.arange(SYNC_N), t.size), np.tile(t, SYNC_N)


POPULATIONS = {
    "regular": (REG_N, regular_trains),
    "poisson": (POI_N, poisson_trains),
    "sync": (SYNC_N, sync_trains),
}


def write_spikes(path, pops, meta=None, timers=None, config_text=CONFIG_TEXT):
    """spikes.h5 with pops {name: (node_ids, times)} sorted by time, and /condlif metadata."""
    with h5py.File(path, "w") as f:
        f.attrs["magic"] = np.uint32(0x0A7A)
        f.attrs["version"] = np.array([0, 1], dtype=np.uint32)
        sp = f.create_group("spikes")
        counts = []
        for name, (ids, times) in pops.items():
            order = np.argsort(times, kind="stable")
            g = sp.create_group(name)
            g.attrs["sorting"] = "by_time"
            ts = g.create_dataset("timestamps", data=np.asarray(times, dtype=np.float64)[order])
            ts.attrs["units"] = "ms"
            g.create_dataset("node_ids", data=np.asarray(ids, dtype=np.uint64)[order])
            counts.append(len(times))
        if meta is None:
            return
        m = f.create_group("condlif")
        for k, v in meta.items():
            m.attrs[k] = v
        if config_text is not None:
            m.create_dataset("config_resolved", data=config_text)
        # The layout condlif writes (src/output.c, cl_output_write_meta).
        m.create_dataset("spike_counts", data=np.array(
            list(zip([n.encode() for n in pops], counts)),
            dtype=[("name", "S64"), ("spikes", np.uint64)]))
        if timers:
            m.create_dataset("timers", data=np.array(
                [(n.encode(),) + tuple(float(x) for x in timers[n]) for n in timers],
                dtype=[("name", "S64"), ("min_s", float), ("mean_s", float), ("max_s", float)]))


def standard_meta(n_ranks=1, n_neurons=REG_N + POI_N + SYNC_N, wall=2.0):
    return {"n_ranks": np.int32(n_ranks), "seed": np.uint64(7), "dt_ms": 0.1, "t_stop_ms": T_STOP,
            "n_neurons": np.uint64(n_neurons), "n_synapses": np.uint64(1000 * n_neurons),
            "wall_seconds": wall, "real_time_factor": wall / (T_STOP / 1000.0),
            "completed": np.uint8(1)}


def write_report(path, pop, var, units, node_ids, t0, dt, data):
    """A SONATA report file with one population; data [n_times x len(node_ids)]."""
    with h5py.File(path, "w") as f:
        g = f.create_group("report/" + pop)
        d = g.create_dataset("data", data=np.asarray(data, dtype=np.float32))
        d.attrs["units"] = units
        d.attrs["variable"] = var
        m = g.create_group("mapping")
        m.create_dataset("node_ids", data=np.asarray(node_ids, dtype=np.uint64))
        m.create_dataset("index_pointers", data=np.arange(len(node_ids) + 1, dtype=np.uint64))
        m.create_dataset("element_ids", data=np.zeros(len(node_ids), dtype=np.uint32))
        tm = m.create_dataset("time", data=np.array([t0, t0 + dt * data.shape[0], dt]))
        tm.attrs["units"] = "ms"


# edges.h5: "poisson" -> "regular", each regular neuron i < 40 receiving i % 7 synapses from
# poisson neurons (3 i + 5 k) % 200 (k = 0, 1, ...), weights 0.5 + 0.1 k nS, delays 1 + k ms;
# neurons 40..49 receive none. And "sync" -> "sync": one synapse 0 -> 1 of 2 nS, 1.5 ms.
def edge_rows():
    """{name: (source ids, target ids, weights, delays, source pop, target pop)}."""
    src, tgt, w, d = [], [], [], []
    for i in range(40):
        for k in range(i % 7):
            src.append((3 * i + 5 * k) % 200)
            tgt.append(i)
            w.append(0.5 + 0.1 * k)
            d.append(1.0 + k)
    return {"poisson->regular": (np.array(src), np.array(tgt), np.array(w), np.array(d),
                                 "poisson", "regular"),
            "sync->sync": (np.array([0]), np.array([1]), np.array([2.0]), np.array([1.5]),
                           "sync", "sync")}


def write_edges(path, rows):
    """An edges.h5 in condlif's SONATA layout (doc/output.md) from edge_rows()-like rows."""
    with h5py.File(path, "w") as f:
        f.attrs["magic"] = np.uint32(0x0A7A)
        f.attrs["version"] = np.array([0, 1], dtype=np.uint32)
        for index, (name, (s, t, w, d, sp, tp)) in enumerate(rows.items()):
            g = f.create_group("edges/" + name)
            ds = g.create_dataset("source_node_id", data=s.astype(np.uint64))
            ds.attrs["node_population"] = sp
            ds = g.create_dataset("target_node_id", data=t.astype(np.uint64))
            ds.attrs["node_population"] = tp
            g.create_dataset("edge_type_id", data=np.full(s.size, index, dtype=np.int64))
            g.create_dataset("edge_group_id", data=np.zeros(s.size, dtype=np.uint32))
            g.create_dataset("edge_group_index", data=np.arange(s.size, dtype=np.uint64))
            g.create_dataset("0/syn_weight", data=w.astype(np.float64)).attrs["units"] = "nS"
            g.create_dataset("0/delay", data=d.astype(np.float64)).attrs["units"] = "ms"
            g.attrs["receptor"] = "excitatory"
            g.attrs["rule"] = "fixed_indegree"
            g.attrs["sorting"] = "by_target"


def make_run(rundir, with_reports=True):
    """A run directory with the three populations above, metadata and (optionally) V_m, g_ex and
    g_in reports of neurons 0, 3 and 7 of "regular" sampled every 0.5 ms. Returns the spikes
    {name: (ids, times)}."""
    os.makedirs(rundir, exist_ok=True)
    pops = {name: gen() for name, (_, gen) in POPULATIONS.items()}
    write_spikes(os.path.join(rundir, "spikes.h5"), pops, standard_meta(),
                 {"build": (0.1, 0.11, 0.12), "update": (1.0, 1.1, 1.2),
                  "deliver": (0.3, 0.31, 0.32), "exchange": (0.2, 0.25, 0.3),
                  "write": (0.05, 0.06, 0.07)})
    if with_reports:
        rec = [0, 3, 7]
        dt = 0.5
        t = np.arange(0.0, T_STOP, dt)
        ids, times = pops["regular"]
        vm = np.empty((t.size, len(rec)))
        gex = np.empty_like(vm)
        gin = np.empty_like(vm)
        for c, nid in enumerate(rec):
            st = times[ids == nid]
            last = np.concatenate(([-np.inf], st))[np.searchsorted(st, t, side="right")]
            since = np.where(np.isfinite(last), t - last, t + 20.0)
            vm[:, c] = -60.0 + 10.0 * (1.0 - np.exp(-since / 15.0))  # rises towards -50 mV
            phase = np.mod(t + 7.0 * c, 25.0)
            gex[:, c] = 5.0 * phase / 0.3 * np.exp(1.0 - phase / 0.3) * (phase < 10)
            gin[:, c] = 20.0 + 5.0 * np.sin(2 * np.pi * t / 100.0 + c)
        write_report(os.path.join(rundir, "v_V_m.h5"), "regular", "V_m", "mV", rec, 0.0, dt, vm)
        write_report(os.path.join(rundir, "v_g_ex.h5"), "regular", "g_ex", "nS", rec, 0.0, dt,
                     gex)
        write_report(os.path.join(rundir, "v_g_in.h5"), "regular", "g_in", "nS", rec, 0.0, dt,
                     gin)
    return pops
