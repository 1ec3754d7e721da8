#!/usr/bin/python3
"""Flushes of the output are limited by wall-clock time, and the output is the same.

The files are flushed (synced to disk) every flush interval of simulated time, but at most once
per second of wall-clock time. condlif runs the default network on one rank under strace with a
flush interval of 10 ms, i.e. 100 intervals per simulated second: without the limit it would
sync its F files (spikes and a report) at every one of them. The fsync calls must number at
least one (the final flush: so the count sees them) and at most F per second of the run's wall
time, plus 2 F; the spikes must be those of the same run with the default interval. With a run
long enough (more than 2.5 s), at least one flush (F calls) must also come before the end.

  check_flush.py --condlif BIN --mpiexec "mpiexec -n" --workdir DIR cfg
"""
import os
import re
import shutil
import subprocess
import sys


HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import runs  # noqa: E402
from runs import check  # noqa: E402


def fsyncs(condlif, config, out, t_stop):
    """Runs condlif under strace; returns (fsync calls, wall seconds of the run)."""
    trace = out + ".strace"
    cmd = ["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", trace, condlif, "--quiet",
           "--force", "-o", out, "--set", "simulation.t_stop=%s" % t_stop,
           "--set", "simulation.spike_flush_interval=10 ms", config]
    # LeakSanitizer cannot stop a process that strace traces; the other tests check leaks
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit("FAIL: %s exited with %d: %s" % (" ".join(cmd), p.returncode,
                                                          p.stderr[-2000:]))
    calls = 0
    with open(trace) as f:
        for line in f:
            m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)\s*$",
                         line)
            if m:
                calls += int(m.group(1))
    return calls, float(runs.meta(out)["wall_seconds"])


def main():
    ap = runs.arg_parser(__doc__, [1])
    ap.add_argument("config")
    a = ap.parse_args()
    if shutil.which("strace") is None:
        print("FAIL: strace is not installed (scripts/deps.sh installs it)")
        return 1
    os.makedirs(a.workdir, exist_ok=True)
    for t_stop, long_run in (("2000 ms", False), ("200000 ms", True)):
        out = os.path.join(a.workdir, "flush_%s" % t_stop.split()[0])
        n, wall = fsyncs(a.condlif, a.config, out, t_stop)
        files = len([f for f in os.listdir(out) if f.endswith(".h5")])
        label = "t_stop %s (wall %.2f s, %d files)" % (t_stop, wall, files)
        most = files * (int(wall) + 2)
        check(1 <= n <= most, "%s: %d fsync calls, expected 1 to %d" % (label, n, most))
        if long_run and wall > 2.5:
            check(n > files, "%s: no flush before the end (%d fsync calls)" % (label, n))
        elif long_run:
            print("note: %s: too short to check a flush before the end" % label)
        if not long_run:
            ref = os.path.join(a.workdir, "reference")
            runs.run_condlif(a.condlif, a.mpiexec, 1, a.config, ref,
                             ["simulation.t_stop=%s" % t_stop])
            sp, rf = runs.spikes(out), runs.spikes(ref)
            check(runs.same_spikes(sp, rf) and sum(len(v[0]) for v in sp.values()) > 1000,
                  "%s: spikes differ from the run with the default flush interval" % label)
    if runs.failures:
        print("check_flush: %d check(s) failed" % runs.failures)
        return 1
    print("check_flush: flushes limited to one per second of wall time, same spikes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
