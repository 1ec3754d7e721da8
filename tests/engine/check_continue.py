#!/usr/bin/python3
"""Continuing a run from its checkpoint (condlif --continue DIR) gives, bit for bit, the
spikes, reports and spike counts of the run that never stopped, on any rank counts.

With tests/engine/continue.cfg (every kind of state a checkpoint carries), against one
uninterrupted run of 400 ms on one rank:
- a run to T1 with simulation.checkpoint = "end" on P1 ranks, continued to 400 ms on P2
  (pairs over --ranks, T1 from one step to the last step but one);
- a chain of three parts on 1, 2 and 3 ranks;
- a continuation from a checkpoint older than the files (a part that ran on without writing
  one), to a time before their end: the files are cut back to the checkpoint and computed
  again, and hold nothing beyond the new end;
- tests/engine/tiny.cfg (--tiny: 3 neurons) to 77.7 ms on 4 ranks, continued on 3;
- checkpoints while running (simulation.checkpoint_interval) leave the run as it was; a run
  killed (SIGKILL to every process) after one is continued from it on another rank count;
- a run stopped by SIGUSR1 (checkpoint written at the stop), continued on another rank count
  beyond the stop; with checkpoint = "never" no checkpoint;
- the checkpoint's layout; errors: no checkpoint, nothing left to run, a --set a continuation
  cannot change, a configuration file or -o with --continue, a missing output file, a
  checkpoint of an older format, a checkpoint of another run, a file that is no checkpoint
  (exit status 2, the file named, the run's files untouched).

  check_continue.py --condlif BIN --mpiexec "mpiexec -n" --workdir DIR [--ranks 1 2 3 4]
                    [--tiny tiny.cfg] [--quick] cfg

--quick (under the sanitizers): the first pair of rank counts, the stop, the kill and the
errors only.
"""
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import runs  # noqa: E402
from runs import check  # noqa: E402

DT = 0.1
T_FULL = 400.0


def cont(a, ranks, rundir, sets=(), extra=()):
    """condlif --continue rundir on `ranks` ranks: (exit status, stdout + stderr)."""
    cmd = shlex.split(a.mpiexec) + [str(ranks), a.condlif, "--continue", rundir]
    for s in sets:
        cmd += ["--set", s]
    p = subprocess.run(cmd + list(extra), capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def first_part(a, ranks, rundir, t, mode="end"):
    runs.run_condlif(a.condlif, a.mpiexec, ranks, a.config, rundir,
                     ["simulation.t_stop=%r ms" % t, 'simulation.checkpoint="%s"' % mode])


def continued(a, ranks, rundir, t, label, sets=()):
    rc, text = cont(a, ranks, rundir, ["simulation.t_stop=%r ms" % t] + list(sets))
    check(rc == 0, "%s: --continue on %d ranks exited %d: %s" % (label, ranks, rc, text[-3000:]))
    return rc == 0


def same_run(label, d, ref, t_from=None):
    """d holds what ref holds: spikes, every report's samples and time axis, spike counts."""
    check(runs.same_spikes(runs.spikes(d), runs.spikes(ref)), "%s: spikes differ" % label)
    rep, rref = runs.reports(d), runs.reports(ref)
    check(set(rep) == set(rref) and len(rref) == 2 * 8, "%s: report files %r against %r"
          % (label, sorted(rep), sorted(rref)))
    for k in rref:
        if k.endswith(":time"):
            check(np.array_equal(rep.get(k), rref[k]), "%s: %s %r against %r"
                  % (label, k, rep.get(k), rref[k]))
        else:
            got = rep.get(k, {})
            check(set(got) == set(rref[k]) and
                  all(np.array_equal(got[i], rref[k][i]) for i in rref[k]),
                  "%s: report %s differs" % (label, k))
    m, mref = runs.meta(d), runs.meta(ref)
    check(m["spike_counts"] == mref["spike_counts"], "%s: spike counts %r against %r"
          % (label, m["spike_counts"], mref["spike_counts"]))
    check("completed" in m and float(m["t_stop_ms"]) == float(mref["t_stop_ms"]),
          "%s: metadata t_stop_ms %r, completed %r" % (label, m["t_stop_ms"], "completed" in m))
    if t_from is not None:
        check(abs(float(m.get("continued_from_ms", -1)) - t_from) < 1e-9,
              "%s: continued_from_ms %r, expected %r" % (label, m.get("continued_from_ms"), t_from))
    return m


def checkpoint_step(d):
    with h5py.File(os.path.join(d, "checkpoint.h5"), "r") as f:
        return int(f.attrs["step"])


def check_layout(label, d, t):
    """The checkpoint of a run to t (ms): its attributes, arrays over whole populations, the
    output sizes it counts (those of the files), spikes in transit."""
    with h5py.File(os.path.join(d, "checkpoint.h5"), "r") as f, \
            h5py.File(os.path.join(d, "spikes.h5"), "r") as s:
        at = f.attrs
        check(at["format"] == "condlif checkpoint" and int(at["format_version"]) == 2 and
              int(at["step"]) == round(t / DT) and abs(float(at["t_ms"]) - t) < 1e-9,
              "%s: checkpoint attributes %r" % (label, dict(at)))
        sizes = {"exc": 800, "inh": 200, "noise": 40, "gen": 3}
        cols = {"exc": ["V_m", "g_ex", "x_ex", "g_in", "x_in", "t_ref_end"],
                "inh": ["V_m", "g_ex", "x_ex", "g_in", "x_in", "t_ref_end"],
                "noise": ["next_spike", "draws"], "gen": ["cursor"]}
        for p, n in sizes.items():
            g = f["populations"][p]
            check(sorted(g) == sorted(cols[p]) and all(g[c].shape == (n,) for c in g),
                  "%s: populations/%s holds %r" % (label, p, {c: g[c].shape for c in g}))
        v = f["populations/exc/V_m"][...]
        check(np.all((v > -90) & (v < -40)), "%s: V_m of exc out of range" % label)
        check(f["stimuli/bg/next"].shape == (800,) and f["stimuli/bg_inh/next"].shape == (141,)
              and "cursor" in f["stimuli/kick"].attrs,
              "%s: stimuli %r" % (label, list(f["stimuli"])))
        spk = [len(s["spikes"][p]["timestamps"]) for p in ("exc", "inh", "noise", "gen")]
        check(list(f["output/spikes"][...]) == spk,
              "%s: output/spikes %r, files %r" % (label, list(f["output/spikes"][...]), spk))
        tmax = [float(s["spikes"][p]["timestamps"][-1]) if n else 0.0
                for p, n in zip(("exc", "inh", "noise", "gen"), spk)]
        check(list(f["output/spike_t_max"][...]) == tmax, "%s: output/spike_t_max" % label)
        steps = f["transit/step"][...]
        gids = f["transit/gid"][...]
        # (at least the spikes of exc in the last D_min, 0.5 ms: none of their synapses has
        # arrived; the network has silent spells)
        ex = s["spikes/exc/timestamps"][...]
        recent = np.count_nonzero((ex > t - 0.5) & (ex <= t))
        check((len(gids) >= recent) and len(set(zip(gids, steps))) == len(gids) and
              np.all(steps < round(t / DT)) and np.all(steps >= round(t / DT) - 61),
              "%s: spikes in transit: %d (exc spikes in the last 0.5 ms: %d), steps %r"
              % (label, len(gids), recent, steps[:10]))


def expect_error(label, rc, text, *needles):
    check(rc == 2 and all(n in text for n in needles),
          "%s: exit status %r (expected 2) and message %r (expected %r)" % (label, rc, text, needles))


def main():
    ap = runs.arg_parser(__doc__, [1, 2, 3, 4])
    ap.add_argument("--tiny", help="a network with fewer neurons than ranks (tiny.cfg)")
    ap.add_argument("--quick", action="store_true",
                    help="under the sanitizers: one pair of rank counts, the stop, the kill and "
                    "the errors only")
    ap.add_argument("config")
    a = ap.parse_args()
    w = a.workdir
    os.makedirs(w, exist_ok=True)
    ref = os.path.join(w, "ref")
    runs.run_condlif(a.condlif, a.mpiexec, 1, a.config, ref, ["simulation.t_stop=%r ms" % T_FULL])
    n_ref = sum(len(v[0]) for v in runs.spikes(ref).values())
    check(n_ref > 3000, "the reference run has only %d spikes" % n_ref)
    check(not os.path.exists(os.path.join(ref, "checkpoint.h5")),
          "a completed run wrote a checkpoint by default")

    # two parts on every pair of rank counts, cut anywhere
    P = a.ranks
    cuts = [200.0, 137.3, 0.1, 399.9]
    for i, P1 in enumerate(P[:1] if a.quick else P):
        P2 = P[(i + 1) % len(P)]
        t1 = cuts[i % len(cuts)]
        d = os.path.join(w, "two_%d_%d" % (P1, P2))
        label = "to %r ms on %d ranks, on to %r on %d" % (t1, P1, T_FULL, P2)
        first_part(a, P1, d, t1)
        check_layout(label, d, t1)
        if continued(a, P2, d, T_FULL, label):
            m = same_run(label, d, ref, t1)
            check(int(m["n_ranks"]) == P2, "%s: n_ranks %r" % (label, m["n_ranks"]))
            check(checkpoint_step(d) == round(T_FULL / DT), "%s: no new checkpoint" % label)
        if i == 0:
            done = d  # a run to 400 ms with its checkpoint there, for the errors below
    if not a.quick:
        longer_cases(a, w, ref)
    stop_and_kill(a, w)
    if a.tiny and not a.quick:
        tiny_case(a, w)
    errors(a, w, done)

    if runs.failures:
        print("check_continue: %d check(s) failed" % runs.failures)
        return 1
    print("check_continue: continued runs on %s ranks equal the uninterrupted run" % P)
    return 0


def longer_cases(a, w, ref):
    """Three parts, a stale checkpoint, checkpoints while running."""
    # a chain of three parts
    d = os.path.join(w, "chain")
    first_part(a, 1, d, 100.0)
    if continued(a, 2, d, 250.0, "chain 1") and continued(a, 3, d, T_FULL, "chain 2"):
        same_run("a chain 100 / 250 / 400 ms on 1 / 2 / 3 ranks", d, ref, 250.0)

    # a checkpoint older than the files: cut back and computed again
    d = os.path.join(w, "stale")
    first_part(a, 1, d, 200.0)
    if continued(a, 2, d, 300.0, "stale 1", ['simulation.checkpoint="stop"']):
        m = runs.meta(d)
        check("completed" in m and float(m["t_stop_ms"]) == 300.0 and checkpoint_step(d) == 2000,
              "stale: after the part to 300 ms: %r, checkpoint at step %d"
              % (m, checkpoint_step(d)))
        # to a time before the files' end: what lies beyond must go, also where the
        # continuation appends nothing more
        ref250 = os.path.join(w, "ref250")
        runs.run_condlif(a.condlif, a.mpiexec, 1, a.config, ref250, ["simulation.t_stop=250 ms"])
        if continued(a, 3, d, 250.0, "stale 2"):
            same_run("from a checkpoint at 200 ms in files to 300 ms, to 250 ms", d, ref250, 200.0)

    # checkpoints while running (checkpoint_interval, wall-clock): the run is unchanged, and
    # one at the end too
    d = os.path.join(w, "periodic")
    cmd = shlex.split(a.mpiexec) + ["2", a.condlif, "--force", "-o", d, "--set",
                                    "simulation.t_stop=%r ms" % T_FULL, "--set",
                                    "simulation.checkpoint_interval=10 ms", a.config]
    p = subprocess.run(cmd, capture_output=True, text=True)
    found = re.search(r"checkpoint\.h5 at t = 400 ms; (\d+) checkpoints written in", p.stdout)
    check(p.returncode == 0 and found and int(found.group(1)) >= 2,
          "periodic: exit %d, summary %r" % (p.returncode, p.stdout + p.stderr[-2000:]))
    same_run("checkpoints every 10 ms of wall-clock time", d, ref)
    check(checkpoint_step(d) == round(T_FULL / DT), "periodic: the last checkpoint at step %d"
          % checkpoint_step(d))


def stop_and_kill(a, w):
    """A stop by SIGUSR1 and a kill after a checkpoint while running, each continued."""
    # stopped by a signal on 2 ranks, continued on 3 beyond the stop
    d = os.path.join(w, "stopped")
    cmd = shlex.split(a.mpiexec) + ["2", a.condlif, "--quiet", "--force", "-o", d,
                                    "--set", "simulation.t_stop=1000000 ms", a.config]
    rc, text = runs.stopped_run(cmd, d, signal.SIGUSR1)
    check(rc == 3 and "condlif --continue %s" % d in text,
          "stopped: exit status %r, message %r" % (rc, text[-2000:]))
    if rc == 3:
        t = float(runs.meta(d)["t_stop_ms"])
        check(checkpoint_step(d) == round(t / DT), "stopped at %r ms: checkpoint at step %d"
              % (t, checkpoint_step(d)))
        check_layout("stopped", d, t)
        t2 = round(t + 50.0, 1)
        ref2 = os.path.join(w, "ref_stopped")
        runs.run_condlif(a.condlif, a.mpiexec, 1, a.config, ref2, ["simulation.t_stop=%r ms" % t2])
        if continued(a, 3, d, t2, "stopped"):
            same_run("stopped at %r ms on 2 ranks, on to %r on 3" % (t, t2), d, ref2, t)
    # killed (SIGKILL to mpiexec and every rank) after a checkpoint while running: continued
    # from it on another rank count, in files the kill left
    d = os.path.join(w, "killed")
    cmd = shlex.split(a.mpiexec) + ["2", a.condlif, "--quiet", "--force", "-o", d, "--set",
                                    "simulation.t_stop=1000000 ms", "--set",
                                    "simulation.checkpoint_interval=0.3 s", a.config]
    rc, text = runs.stopped_run(cmd, d, signal.SIGKILL, wait_for="checkpoint.h5", delay=1.0,
                                every_process=True)
    check(rc == -signal.SIGKILL, "killed: exit %r: %s" % (rc, text[-1000:]))
    if os.path.exists(os.path.join(d, "checkpoint.h5")):
        t = checkpoint_step(d) * DT
        t2 = round(t + 50.0, 1)
        ref3 = os.path.join(w, "ref_killed")
        runs.run_condlif(a.condlif, a.mpiexec, 1, a.config, ref3, ["simulation.t_stop=%r ms" % t2])
        if continued(a, 3, d, t2, "killed"):
            same_run("killed after a checkpoint at %r ms on 2 ranks, on to %r on 3" % (t, t2), d,
                     ref3, t)
    else:
        check(False, "killed: no checkpoint after the run started")

    d = os.path.join(w, "never")
    cmd = shlex.split(a.mpiexec) + ["1", a.condlif, "--quiet", "--force", "-o", d, "--set",
                                    "simulation.t_stop=1000000 ms", "--set",
                                    'simulation.checkpoint="never"', a.config]
    rc, text = runs.stopped_run(cmd, d, signal.SIGUSR1)
    check(rc == 3 and not os.path.exists(os.path.join(d, "checkpoint.h5")) and
          "--continue" not in text, "checkpoint never: exit %r, %r, %r"
          % (rc, os.listdir(d), text[-1000:]))


def tiny_case(a, w):
    """More ranks than neurons: a rank that holds none of a population reads and writes
    nothing."""
    ref_t, d = os.path.join(w, "tiny_ref"), os.path.join(w, "tiny")
    runs.run_condlif(a.condlif, a.mpiexec, 1, a.tiny, ref_t)
    runs.run_condlif(a.condlif, a.mpiexec, 4, a.tiny, d,
                     ["simulation.t_stop=77.7 ms", 'simulation.checkpoint="end"'])
    t_end = float(runs.meta(ref_t)["t_stop_ms"])
    if continued(a, 3, d, t_end, "tiny"):
        check(runs.same_spikes(runs.spikes(d), runs.spikes(ref_t)) and
              len(runs.spikes(ref_t)["p"][0]) > 10 and
              runs.meta(d)["spike_counts"] == runs.meta(ref_t)["spike_counts"],
              "tiny: 77.7 ms on 4 ranks, on to %r on 3: spikes differ" % t_end)
        r, rr = runs.reports(d), runs.reports(ref_t)
        check(set(r) == set(rr) and all(
            np.array_equal(r[k], rr[k]) if k.endswith(":time") else
            all(np.array_equal(r[k][i], rr[k][i]) for i in rr[k]) for k in rr),
            "tiny: reports differ")


def errors(a, w, done):
    """Every refusal of --continue: exit status 2, the file named, the run's files untouched.
    done: a run to 400 ms with its checkpoint there."""
    ref = os.path.join(w, "ref")
    rc, text = cont(a, 1, ref, ["simulation.t_stop=500 ms"])
    expect_error("no checkpoint", rc, text, ref + "/checkpoint.h5", "No such file")
    rc, text = cont(a, 1, done)
    expect_error("nothing to run", rc, text, "nothing to continue", "t = 400 ms")
    rc, text = cont(a, 1, done, ["populations.exc.C_m=250"])
    expect_error("a --set of the network", rc, text, "populations.exc.C_m=250",
                 "keeps the configuration")
    rc, text = cont(a, 1, done, ["simulation.t_stop=500 ms"], [a.config])
    expect_error("a configuration file", rc, text, "give no configuration file")
    rc, text = cont(a, 1, done, ["simulation.t_stop=500 ms"], ["-o", os.path.join(w, "x")])
    expect_error("-o", rc, text, "does not apply")

    def untouched(label, d):
        m = runs.meta(d)
        check("completed" in m and "continued_from_ms" not in m,
              "%s: the run's metadata changed: %r" % (label, m))

    d = os.path.join(w, "missing")
    first_part(a, 1, d, 100.0)
    os.remove(os.path.join(d, "inh_V_m.h5"))
    rc, text = cont(a, 2, d, ["simulation.t_stop=200 ms"])
    expect_error("a missing file", rc, text, d + "/inh_V_m.h5 is missing")
    untouched("a missing file", d)
    d = os.path.join(w, "old")
    first_part(a, 1, d, 100.0)
    with h5py.File(os.path.join(d, "checkpoint.h5"), "r+") as f:
        f.attrs["format_version"] = np.int32(1)  # x_ex, x_in were stored without dt/(2 tau)
    rc, text = cont(a, 2, d, ["simulation.t_stop=200 ms"])
    expect_error("an older checkpoint format", rc, text, d + "/checkpoint.h5",
                 "format version 1; this condlif reads 2")
    untouched("an older checkpoint format", d)
    d = os.path.join(w, "foreign")
    first_part(a, 1, d, 100.0)
    shutil.copy(os.path.join(done, "checkpoint.h5"), os.path.join(d, "checkpoint.h5"))
    rc, text = cont(a, 2, d, ["simulation.t_stop=500 ms"])
    expect_error("another run's checkpoint", rc, text, "not those it was written with")
    untouched("another run's checkpoint", d)
    with open(os.path.join(d, "checkpoint.h5"), "w") as f:
        f.write("not a checkpoint\n")
    rc, text = cont(a, 2, d, ["simulation.t_stop=500 ms"])
    expect_error("not a checkpoint", rc, text, d + "/checkpoint.h5 is not an HDF5 file")
    untouched("not a checkpoint", d)


if __name__ == "__main__":
    sys.exit(main())
