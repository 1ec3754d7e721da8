#!/usr/bin/python3
"""Checks one run directory written through slurm/condlif.sbatch, for the slurm tests.

  check_run.py RUNDIR --ranks N [--job-id ID] [--same-spikes OTHER_RUNDIR]
  check_run.py --csv FILE --rows "P:N P:N ..." [--job-ids]

Prints each failed check and exits 1 when any failed."""

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "analysis"))
import condlif_io  # noqa: E402

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL: " + what)


def job_record(rundir):
    path = os.path.join(rundir, "slurm-job.txt")
    if not os.path.isfile(path):
        return {}, ""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    head, _, summary = text.partition("--- condlif standard output ---\n")
    rec = dict(line.split("=", 1) for line in head.splitlines() if "=" in line)
    return rec, summary


def spike_list(rundir):
    """All spikes as one sorted array of (population index, node id, time)."""
    rows = []
    for k, (name, s) in enumerate(sorted(condlif_io.read_spikes(rundir).items())):
        rows.append(np.column_stack([np.full(s.times.size, k), s.node_ids, s.times]))
    a = np.concatenate(rows) if rows else np.zeros((0, 3))
    return a[np.lexsort((a[:, 2], a[:, 1], a[:, 0]))]


def check_run(args):
    d = args.rundir
    check(os.path.isfile(os.path.join(d, "spikes.h5")), "%s/spikes.h5 exists" % d)
    if failures:
        return
    meta = condlif_io.read_meta(d)
    check(meta.get("completed") == 1, "completed = 1: %r" % meta.get("completed"))
    check(meta.get("n_ranks") == args.ranks, "n_ranks = %d: %r" % (args.ranks, meta.get("n_ranks")))
    check(set(condlif_io.PHASES) <= set(meta.get("timers", {})),
          "timers of every phase: %r" % sorted(meta.get("timers", {})))
    rec, summary = job_record(d)
    check(bool(rec), "%s/slurm-job.txt exists and has key=value lines" % d)
    if args.job_id:
        check(rec.get("job_id") == args.job_id, "job_id=%s: %r" % (args.job_id, rec.get("job_id")))
        check(bool(rec.get("nodelist")), "nodelist recorded: %r" % rec.get("nodelist"))
    check(rec.get("ntasks") == str(args.ranks), "ntasks=%d: %r" % (args.ranks, rec.get("ntasks")))
    check(rec.get("exit_status") == "0", "exit_status=0: %r" % rec.get("exit_status"))
    check(bool(summary.strip()), "condlif's summary is recorded")
    if args.same_spikes:
        a, b = spike_list(d), spike_list(args.same_spikes)
        check(a.shape == b.shape and np.array_equal(a, b),
              "spikes identical to %s (%d vs %d spikes)" % (args.same_spikes, len(a), len(b)))
        check(len(a) > 0, "the network fires")


def check_csv(args):
    rows = condlif_io.read_scaling_csv(args.csv)
    want = [tuple(int(x) for x in item.split(":")) for item in args.rows.split()]
    got = [(int(r["ranks"]), int(r["N"])) for r in rows]
    check(got == want, "CSV (ranks, N) rows %r: %r" % (want, got))
    for r in rows:
        check(isinstance(r["wall"], float) and r["wall"] > 0, "wall > 0: %r" % r["wall"])
        for ph in condlif_io.PHASES:
            check(isinstance(r[ph], float), "%s is a number: %r" % (ph, r[ph]))
        if args.job_ids:
            check(isinstance(r["job_id"], float), "job id recorded: %r" % r["job_id"])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("rundir", nargs="?")
    ap.add_argument("--ranks", type=int)
    ap.add_argument("--job-id")
    ap.add_argument("--same-spikes")
    ap.add_argument("--csv")
    ap.add_argument("--rows")
    ap.add_argument("--job-ids", action="store_true")
    args = ap.parse_args()
    if args.csv:
        check_csv(args)
    else:
        check_run(args)
    print("%s: %s" % (args.csv or args.rundir, "%d check(s) failed" % failures if failures
                      else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
