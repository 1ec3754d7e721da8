#!/usr/bin/python3
"""A stand-in for the condlif binary, for testing the slurm/ scripts without the simulator.

Follows condlif's command line and output contract (run directory with spikes.h5 and /condlif
metadata, summary on stdout) but simulates nothing: every cond_alpha neuron fires at 10 Hz and
the timers are made up from N and the rank count. Its files carry the attribute fake = 1. Run
under mpirun or srun, only rank 0 (OMPI_COMM_WORLD_RANK / SLURM_PROCID) writes; the rank count
comes from OMPI_COMM_WORLD_SIZE or SLURM_NTASKS."""

import argparse
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "analysis"))
sys.path.insert(0, os.path.join(HERE, "..", "analysis"))
import condlif_io  # noqa: E402
import fixtures  # noqa: E402


def _ms(value):
    """A time from a config value: a number (ms) or a string "200 ms" / "0.2 s"."""
    if isinstance(value, (int, float)):
        return float(value)
    m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*(ms|s)?\s*", str(value))
    if not m:
        raise ValueError("not a time: %r" % value)
    return float(m.group(1)) * (1000.0 if m.group(2) == "s" else 1.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("-o", dest="output")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("config")
    args = ap.parse_args()
    rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("SLURM_PROCID", "0")))
    size = int(os.environ.get("OMPI_COMM_WORLD_SIZE", os.environ.get("SLURM_NTASKS", "1")))

    cfg = condlif_io.load_config(args.config)
    pops = {name: (n, model) for name, n, model in condlif_io.config_populations(cfg)}
    t_stop = _ms(condlif_io.config_get(cfg, "simulation.t_stop"))
    output = cfg["simulation"].get("output", "condlif_run")
    for s in args.set:
        key, _, value = s.partition("=")
        m = re.fullmatch(r"populations\.(\w+)\.size", key)
        if m and m.group(1) in pops:
            pops[m.group(1)] = (int(value), pops[m.group(1)][1])
        elif key == "simulation.t_stop":
            t_stop = _ms(value)
        elif key == "simulation.output":
            output = value.strip('"')
        else:
            print("fake condlif: --set %s: not supported by the fake" % s, file=sys.stderr)
            return 2
    if args.check or rank != 0:
        return 0
    rundir = args.output or output
    if os.path.exists(rundir) and not args.force:
        print("condlif: %s exists (use --force to replace it)" % rundir, file=sys.stderr)
        return 1
    os.makedirs(rundir, exist_ok=True)

    n_total = sum(n for n, _ in pops.values())
    spikes = {}
    for name, (n, model) in pops.items():
        if model != "cond_alpha":
            continue
        k = int(t_stop / 100.0)
        ids = np.repeat(np.arange(n), k)
        times = np.tile(100.0 * np.arange(k), n) + (ids % 97) * 0.5 + 1.0
        spikes[name] = (ids, times)
    update = 2e-6 * n_total * t_stop / size
    timers = {"build": (1e-5 * n_total / size,) * 3, "update": (update, update, update),
              "deliver": (update / 3,) * 3, "exchange": (1e-3 * size,) * 3, "write": (1e-3,) * 3}
    wall = sum(v[1] for v in timers.values())
    meta = fixtures.standard_meta(size, n_total, wall)
    meta.update({"fake": np.int32(1), "t_stop": t_stop,
                 "real_time_factor": wall / (t_stop / 1000.0)})
    with open(args.config, encoding="utf-8") as f:
        text = f.read()
    fixtures.write_spikes(os.path.join(rundir, "spikes.h5"), spikes, meta, timers, text)
    with open(os.path.join(rundir, "fake-args.txt"), "w", encoding="utf-8") as f:
        f.write(" ".join(sys.argv[1:]) + "\n")
    if not args.quiet:
        print("condlif (fake): %d neurons on %d ranks, %g ms simulated" % (n_total, size, t_stop))
    print("condlif: run %s: wall %.3f s, real-time factor %.3f" % (rundir, wall,
                                                                   wall / (t_stop / 1000.0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
