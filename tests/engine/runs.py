"""Helpers for the engine tests: run condlif under mpiexec and read its output back."""
import argparse
import glob
import os
import shlex
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np


failures = 0


def check(ok, what):
    """Counts and prints a failed check (the script's exit status follows `failures`)."""
    global failures
    if not ok:
        failures += 1
        print("FAIL: %s" % what)


def same_spikes(a, b):
    """Whether two results of spikes() hold the same populations, node ids and times."""
    return set(a) == set(b) and all(
        np.array_equal(a[k][0], b[k][0]) and np.array_equal(a[k][1], b[k][1]) for k in a)


def arg_parser(doc, ranks):
    """The options every engine test takes (CMake passes them): --condlif, --mpiexec, --ranks
    (default `ranks`), --workdir."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--condlif", required=True)
    ap.add_argument("--mpiexec", required=True, help='e.g. "mpiexec -n" (rank count follows)')
    ap.add_argument("--ranks", type=int, nargs="+", default=list(ranks))
    ap.add_argument("--workdir", required=True)
    return ap


def run_condlif(condlif, mpiexec, ranks, config, outdir, sets=(), extra=(), env=None):
    """Runs condlif on `ranks` ranks into outdir (replaced), with the variables of env (a dict)
    added to the environment; returns stdout. Fails loudly."""
    cmd = shlex.split(mpiexec) + [str(ranks), condlif, "--quiet", "--force", "-o", outdir]
    for s in sets:
        cmd += ["--set", s]
    cmd += list(extra) + [config]
    p = subprocess.run(cmd, capture_output=True, text=True,
                       env=dict(os.environ, **env) if env else None)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit("FAIL: %s exited with %d" % (" ".join(cmd), p.returncode))
    return p.stdout


def spikes(outdir):
    """{population: (node_ids, times)} sorted by (node id, time)."""
    out = {}
    with h5py.File(os.path.join(outdir, "spikes.h5"), "r") as f:
        for name, g in f["spikes"].items():
            ids = g["node_ids"][...]
            ts = g["timestamps"][...]
            order = np.lexsort((ts, ids))
            out[name] = (ids[order], ts[order])
    return out


def reports(outdir):
    """{file name: {node id: float32 trace}} of every report file of a run."""
    out = {}
    for path in sorted(glob.glob(os.path.join(outdir, "*.h5"))):
        if os.path.basename(path) in ("spikes.h5", "edges.h5", "checkpoint.h5"):
            continue
        with h5py.File(path, "r") as f:
            for pop, g in f["report"].items():
                ids = g["mapping/node_ids"][...]
                data = g["data"][...]
                out[os.path.basename(path)] = {int(n): data[:, k] for k, n in enumerate(ids)}
                out[os.path.basename(path) + ":time"] = g["mapping/time"][...]
    return out


def meta(outdir):
    with h5py.File(os.path.join(outdir, "spikes.h5"), "r") as f:
        g = f["condlif"]
        m = {k: g.attrs[k] for k in g.attrs}
        m["spike_counts"] = {r["name"].decode(): int(r["spikes"]) for r in g["spike_counts"][...]}
    return m


def stopped_run(cmd, out, sig, wait_for="spikes.h5", delay=0.3, every_process=False):
    """Starts cmd, sends sig once out/<wait_for> exists and the run has gone on for `delay`
    seconds (with every_process, to mpiexec's children as well: SIGKILL to all, as a failing
    node would); returns (exit status, stdout + stderr)."""
    shutil.rmtree(out, ignore_errors=True)  # the file of an earlier run must not start the clock
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    path = os.path.join(out, wait_for)
    t0 = time.time()
    while not os.path.exists(path) and p.poll() is None and time.time() - t0 < 120:
        time.sleep(0.02)
    time.sleep(delay)
    if p.poll() is None:
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(p.pid)],
                                  capture_output=True, text=True).stdout.split()
        for pid in children if every_process else []:
            try:
                os.kill(int(pid), sig)
            except ProcessLookupError:
                pass
        p.send_signal(sig)
    try:
        stdout, stderr = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        stdout, stderr = p.communicate()
        return None, stderr
    return p.returncode, stdout + stderr
